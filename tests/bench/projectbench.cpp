#include "tests/bench/projectbench.h"

#include <chrono>

#include <fmt/format.h>
#include <torch/torch.h>

#include "core/data/dataset.h"
#include "core/data/proceduralcats.h"
#include "core/io/modelfile.h"
#include "core/latent/latentspace.h"
#include "core/latent/projection.h"
#include "core/runtime/device.h"
#include "core/runtime/inference.h"

namespace cattery::bench {
namespace {

constexpr int kUnseenCats = 100;
constexpr std::uint64_t kUnseenSeed = 99;  // the training sets are drawn with other seeds
constexpr int kRandomSamples = 10000;
constexpr int kBatch = 100;

double secondsSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

std::vector<std::array<std::string, 3>> projectionRows(const std::string& modelPath) {
    const Model model = loadModel(modelPath);
    const int size = model.arch.imageSize;
    const torch::Tensor cats = toUnitRange(proceduralCats(kUnseenCats, size, kUnseenSeed).images);

    // The nearest of many random samples: what drawing instead of searching gives.
    const auto drawStart = std::chrono::steady_clock::now();
    torch::Tensor nearest = torch::full({kUnseenCats}, INFINITY);
    {
        torch::InferenceMode inference;
        const InferenceGenerator fast(model.generator, torch::kCPU);
        const torch::Tensor latents = sampleLatents(kRandomSamples, model.arch.latentDim, 1);
        const torch::Tensor flatCats = cats.flatten(1);
        const double values = static_cast<double>(flatCats.size(1));
        for (int first = 0; first < kRandomSamples; first += kBatch) {
            const torch::Tensor pictures = fast.forward(latents.slice(0, first, first + kBatch));
            // RMS difference (black to white = 1) of every cat with every picture.
            const torch::Tensor d =
                torch::cdist(flatCats, pictures.flatten(1)) / std::sqrt(values) * 0.5;
            nearest = torch::minimum(nearest, std::get<0>(d.min(1)));
        }
    }
    const double drawSeconds = secondsSince(drawStart);

    const double drawn = nearest.mean().item<double>();
    // The search, comparing pixels, and the features too where the model has an encoder.
    // Where the CPU has native bf16 (the search's default there), float32 is measured beside it.
    std::vector<std::pair<ProjectionLoss, Precision>> searches;
    const Precision usual = defaultPrecision(torch::kCPU);
    searches.emplace_back(ProjectionLoss::Pixels, usual);
    if (usual != Precision::Float32) {
        searches.emplace_back(ProjectionLoss::Pixels, Precision::Float32);
    }
    if (!model.encoder.is_empty()) {
        searches.emplace_back(ProjectionLoss::Features, usual);
    }
    std::vector<std::array<std::string, 3>> rows;
    for (const auto& [loss, precision] : searches) {
        ProjectionSettings settings;
        settings.loss = loss;
        settings.precision = precision;
        const auto searchStart = std::chrono::steady_clock::now();
        const auto found = project(model.generator, model.encoder, cats, settings);
        const double perImage = secondsSince(searchStart) / kUnseenCats;
        double sum = 0;
        for (const Projection& p : *found) {
            sum += p.distance;
        }
        const double searched = sum / kUnseenCats;
        rows.push_back(
            {fmt::format("find {} unseen cats in {} ({} comparison, {})", kUnseenCats,
                         model.displayName(), projectionLossName(loss), precisionName(precision)),
             fmt::format("mean distance {:.4f}, {:.2f} s per image", searched, perImage),
             fmt::format("nearest of {} random samples: {:.4f} ({:.0f} s); search/nearest = {:.2f}",
                         kRandomSamples, drawn, drawSeconds, searched / drawn)});
    }
    return rows;
}

}  // namespace cattery::bench
