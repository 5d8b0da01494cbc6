#include "tests/bench/scorebench.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <torch/torch.h>

#include "core/data/proceduralcats.h"
#include "core/io/modelfile.h"
#include "core/latent/latentspace.h"
#include "core/metrics/score.h"
#include "core/runtime/renderer.h"
#include "core/train/trainconfig.h"

namespace cattery::bench {
namespace {

constexpr int kFolder = 300;           // the small folder of the quality benchmark
constexpr std::uint64_t kCatSeed = 2;  // not the seed the models were trained on
constexpr int kDraws = 8;              // draws of samples per model
constexpr int kEvalCount = 1000;       // eval's figure, for the truth the draws estimate

struct Spread {
    double mean = 0;
    double sd = 0;
    double low = INFINITY;
    double high = -INFINITY;
};

Spread spreadOf(const std::vector<double>& values) {
    Spread s;
    for (double v : values) {
        s.mean += v;
        s.low = std::min(s.low, v);
        s.high = std::max(s.high, v);
    }
    s.mean /= static_cast<double>(values.size());
    for (double v : values) {
        s.sd += (v - s.mean) * (v - s.mean);
    }
    s.sd = std::sqrt(s.sd / static_cast<double>(values.size() - 1));
    return s;
}

std::string describe(const Spread& s) {
    return fmt::format("{:.1f} +- {:.1f} ({:.1f} to {:.1f})", s.mean, s.sd, s.low, s.high);
}

}  // namespace

std::vector<std::array<std::string, 3>> scoreSpreadRows(const std::vector<std::string>& models) {
    std::vector<std::array<std::string, 3>> rows;
    for (const std::string& path : models) {
        const Model model = loadModel(path);
        const int size = model.arch.imageSize;
        const std::int64_t held = heldOutCount(kFolder);
        const torch::Tensor cats = proceduralCats(kFolder, size, kCatSeed).images;
        // The same reference and patches as a training run on the folder would take.
        const ScoreReference reference(cats.narrow(0, 0, held), 1, kScorePatches);
        std::vector<double> few;
        std::vector<double> all;
        for (int draw = 1; draw <= kDraws; ++draw) {
            const torch::Tensor z = sampleLatents(kScoreSamples, model.arch.latentDim,
                                                  static_cast<std::uint64_t>(draw));
            const torch::Tensor samples = generateBytes(model.generator, z, torch::kCPU);
            few.push_back(reference.score(samples.narrow(0, 0, held)).swd.average);
            all.push_back(reference.score(samples).swd.average);
        }
        const Spread f = spreadOf(few);
        const Spread a = spreadOf(all);
        const ScoreReference evalReference(proceduralCats(kEvalCount, size, kCatSeed).images, 1);
        const double truth =
            evalReference
                .score(generateBytes(model.generator,
                                     sampleLatents(kEvalCount, model.arch.latentDim, 1),
                                     torch::kCPU))
                .swd.average;
        rows.push_back({fmt::format("{}: SWD against {} held-out cats over {} draws",
                                    model.displayName(), held, kDraws),
                        fmt::format("{} samples each: {}", held, describe(f)),
                        fmt::format("{} samples each: {}; spread {:.2f}x; eval ({} each): {:.1f}",
                                    kScoreSamples, describe(a), f.sd / a.sd, kEvalCount, truth)});
    }
    return rows;
}

}  // namespace cattery::bench
