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
    torch::Tensor own;
    torch::Tensor nearestCat = torch::full({kUnseenCats}, INFINITY);
    torch::Tensor nearestOwn = torch::full({kUnseenCats}, INFINITY);
    std::chrono::steady_clock::time_point drawStart;
    {
        torch::InferenceMode inference;
        const InferenceGenerator fast(model.generator, torch::kCPU);
        // The model's own pictures of latents it is not sampled at below: how close the search
        // gets where the model can draw the picture exactly, beside the unseen cats, where it may
        // not.
        own = fast.forward(sampleLatents(kUnseenCats, model.arch.latentDim, kUnseenSeed));

        // The nearest of many random samples: what drawing instead of searching gives.
        drawStart = std::chrono::steady_clock::now();
        const torch::Tensor latents = sampleLatents(kRandomSamples, model.arch.latentDim, 1);
        const double values = static_cast<double>(cats[0].numel());
        for (int first = 0; first < kRandomSamples; first += kBatch) {
            const torch::Tensor pictures =
                fast.forward(latents.slice(0, first, first + kBatch)).flatten(1);
            // RMS difference (black to white = 1) of every target with every picture.
            const auto nearest = [&](const torch::Tensor& targets) {
                return std::get<0>(
                    (torch::cdist(targets.flatten(1), pictures) / std::sqrt(values) * 0.5).min(1));
            };
            nearestCat = torch::minimum(nearestCat, nearest(cats));
            nearestOwn = torch::minimum(nearestOwn, nearest(own));
        }
    }
    const double drawSeconds = secondsSince(drawStart);

    // The search, comparing pixels, and the features too where the model has an encoder.
    // Where the CPU has native bf16 (the search's default there), float32 is measured beside it.
    // Where the encoder proposes latents, the search without its proposals is measured too.
    struct Search {
        bool unseen;
        ProjectionLoss loss;
        Precision precision;
        bool proposal = true;
    };
    std::vector<Search> searches;
    const Precision usual = defaultPrecision(torch::kCPU);
    const bool proposes = !model.encoder.is_empty() && model.encoder->hasLatentHead();
    searches.push_back({true, ProjectionLoss::Pixels, usual});
    if (proposes) {
        searches.push_back({true, ProjectionLoss::Pixels, usual, false});
    }
    if (usual != Precision::Float32) {
        searches.push_back({true, ProjectionLoss::Pixels, Precision::Float32});
    }
    if (!model.encoder.is_empty()) {
        searches.push_back({true, ProjectionLoss::Features, usual});
    }
    searches.push_back({false, ProjectionLoss::Pixels, usual});
    std::vector<std::array<std::string, 3>> rows;
    for (const Search& search : searches) {
        ProjectionSettings settings;
        settings.loss = search.loss;
        settings.precision = search.precision;
        settings.proposal = search.proposal;
        const auto searchStart = std::chrono::steady_clock::now();
        const auto found =
            project(model.generator, model.encoder, search.unseen ? cats : own, settings);
        const double perImage = secondsSince(searchStart) / kUnseenCats;
        double sum = 0;
        for (const Projection& p : *found) {
            sum += p.distance;
        }
        const double searched = sum / kUnseenCats;
        const double drawn = (search.unseen ? nearestCat : nearestOwn).mean().item<double>();
        rows.push_back(
            {fmt::format("find {} {} in {} ({} comparison, {}{})", kUnseenCats,
                         search.unseen ? "unseen cats" : "of its own pictures", model.displayName(),
                         projectionLossName(search.loss), precisionName(search.precision),
                         !proposes         ? ""
                         : search.proposal ? ", from its encoder's proposals too"
                                           : ", from random latents only"),
             fmt::format("mean distance {:.4f}, {:.2f} s per image", searched, perImage),
             fmt::format("nearest of {} random samples: {:.4f} ({:.0f} s); search/nearest = {:.2f}",
                         kRandomSamples, drawn, drawSeconds, searched / drawn)});
    }
    return rows;
}

}  // namespace cattery::bench
