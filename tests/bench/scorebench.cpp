#include "tests/bench/scorebench.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <torch/torch.h>

#include "core/data/proceduralcats.h"
#include "core/io/modelfile.h"
#include "core/latent/latentspace.h"
#include "core/metrics/score.h"
#include "core/runtime/autocast.h"
#include "core/runtime/precision.h"
#include "core/runtime/renderer.h"
#include "core/train/trainconfig.h"
#include "core/train/trainer.h"
#include "tests/bench/benchutil.h"

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

std::vector<std::array<std::string, 3>> scoreCostRows(int folder,
                                                      const std::vector<std::string>& models) {
    std::vector<std::array<std::string, 3>> rows;
    rows.push_back({"CPU computes bf16 natively", cpuHasNativeBf16() ? "yes" : "no",
                    "without it bf16 is emulated and slower than float32"});
    const std::int64_t held = heldOutCount(folder);
    for (const std::string& path : models) {
        const Model shape = loadModel(path);
        const int size = shape.arch.imageSize;
        const int dim = shape.arch.latentDim;
        const std::string name = shape.displayName();
        const torch::Tensor settleLatents = averageSettleLatents(dim, 1);
        // Each precision settles a model of its own, loaded afresh, as a run settles its average.
        const auto settled = [&](Precision precision, double* ms) {
            const Model model = loadModel(path);
            *ms = medianMs(
                [&] {
                    const PrecisionScope inPrecision(precision, torch::kCPU);
                    settleBatchNorm(model.generator, settleLatents, kSettleBatch);
                },
                3);
            return model;
        };
        double fp32Ms = 0;
        double bf16Ms = 0;
        const Model inFloat = settled(Precision::Float32, &fp32Ms);
        const Model inBf16 = settled(Precision::BFloat16, &bf16Ms);
        const torch::Tensor z = sampleLatents(kScoreSamples, dim, 1);
        torch::Tensor fromFloat;
        const double drawMs =
            medianMs([&] { fromFloat = generateBytes(inFloat.generator, z, torch::kCPU); }, 3);
        const torch::Tensor fromBf16 = generateBytes(inBf16.generator, z, torch::kCPU);
        const ScoreReference reference(
            proceduralCats(folder, size, kCatSeed).images.narrow(0, 0, held), 1, kScorePatches);
        double floatScore = 0;
        const double compareMs =
            medianMs([&] { floatScore = reference.score(fromFloat).swd.average; }, 3);
        const double bf16Score = reference.score(fromBf16).swd.average;
        const torch::Tensor apart =
            (fromFloat.to(torch::kInt32) - fromBf16.to(torch::kInt32)).abs().to(torch::kFloat64);
        rows.push_back(
            {fmt::format("{}: batch-norm statistics over {} latents", name, settleLatents.size(0)),
             fmt::format("bf16 {:.0f} ms", bf16Ms),
             fmt::format("fp32 {:.0f} ms ({:.1f}x)", fp32Ms, fp32Ms / bf16Ms)});
        rows.push_back({fmt::format("{}: drawing {} samples, comparing with {} held-out cats", name,
                                    kScoreSamples, held),
                        fmt::format("{:.0f} ms, {:.0f} ms", drawMs, compareMs),
                        fmt::format("a score with bf16 statistics: {:.0f} ms, with fp32: {:.0f} ms",
                                    bf16Ms + drawMs + compareMs, fp32Ms + drawMs + compareMs)});
        rows.push_back({fmt::format("{}: pictures with bf16 statistics against fp32's", name),
                        fmt::format("{:.3f} levels apart on average, {:.0f} at most",
                                    apart.mean().item<double>(), apart.max().item<double>()),
                        fmt::format("SWD {:.1f} with bf16 statistics, {:.1f} with fp32", bf16Score,
                                    floatScore)});
    }
    return rows;
}

}  // namespace cattery::bench
