// cattery-cli eval: how close a model's samples come to a set of images, and how varied they are.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "app/cli/common.h"
#include "core/io/modelfile.h"
#include "core/latent/latentspace.h"
#include "core/metrics/diversity.h"
#include "core/metrics/score.h"
#include "core/runtime/device.h"
#include "core/runtime/renderer.h"

namespace cattery::cli {
namespace {

struct EvalOptions {
    ModelChoice model;
    DataChoice data;
    std::uint64_t catSeed = 1;
    int count = 2048;
    std::uint64_t seed = 1;
    double truncation = 0.0;
    bool json = false;
};

// The model's samples, an untrained generator of the same shape, and one half of the data, each
// scored against the other half: the untrained score is the ceiling to beat, the data's the floor.
void runEval(const EvalOptions& o) {
    Model model = openModel(o.model);
    const torch::Device device = chooseDevice(o.model.device);
    // With --json, standard output holds the JSON alone.
    const Dataset data =
        loadData(o.data, model.arch.imageSize, o.catSeed, o.json ? &std::cerr : &std::cout);
    if (data.count() < 4) {
        throw DataError(data.source,
                        fmt::format("{} images; scoring needs at least 4", data.count()));
    }
    const auto gen = torch::make_generator<at::CPUGeneratorImpl>(o.seed);
    const torch::Tensor order = torch::randperm(data.count(), gen, torch::kLong);
    const int64_t half = data.count() / 2;
    const int64_t n = std::min<int64_t>(o.count, half);
    const torch::Tensor reference = data.images.index_select(0, order.narrow(0, 0, n));
    const torch::Tensor heldOut = data.images.index_select(0, order.narrow(0, half, n));
    if (!imagesDiffer(reference)) {
        throw DataError(data.source, "every image is the same, so there is nothing to compare");
    }
    const ScoreReference scorer(reference, o.seed);
    const torch::Tensor z =
        sampleLatents(static_cast<int>(n), model.arch.latentDim, o.seed, o.truncation);
    torch::manual_seed(o.seed);
    const Generator untrained(model.arch);

    const std::vector<std::pair<std::string, torch::Tensor>> sets = {
        {"model", generateBytes(model.generator, z, device)},
        {"untrained", generateBytes(untrained, z, device)},
        {"data", heldOut}};
    nlohmann::json out = {{"model", model.displayName()},
                          {"data", data.source},
                          {"count", n},
                          {"truncation", o.truncation},
                          {"image_size", model.arch.imageSize}};
    std::string table;
    for (const auto& [name, images] : sets) {
        const ImageScore score = scorer.score(images);
        const SwdResult& swd = score.swd;
        const double diversity = score.diversity;
        out[name] = {{"swd", swd.average},
                     {"swd_levels", swd.perLevel},
                     {"level_sizes", swd.levelSizes},
                     {"diversity", diversity}};
        std::string levels;
        for (size_t l = 0; l < swd.perLevel.size(); ++l) {
            levels +=
                fmt::format("{}{}px {:.1f}", l ? ", " : "", swd.levelSizes[l], swd.perLevel[l]);
        }
        table +=
            fmt::format("{:<10} SWD x1e3 {:7.1f} ({})  diversity {:.2f}{}\n", name, swd.average,
                        levels, diversity, diversity < kCollapsedDiversity ? "  COLLAPSED" : "");
    }
    if (o.json) {
        std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        return;
    }
    std::cout << fmt::format(
        "{} ({}x{}) against {} held-out images of {}{}\n"
        "SWD: lower is closer to the data; diversity: pairwise distance over the data's (1 = as "
        "varied, below {} = collapsed)\n",
        model.displayName(), model.arch.imageSize, model.arch.imageSize, n, data.source,
        o.truncation > 0.0 ? fmt::format(", latents truncated at {}", o.truncation) : "",
        kCollapsedDiversity);
    std::cout << table;
}

}  // namespace

Subcommand addEval(CLI::App& app) {
    auto o = std::make_shared<EvalOptions>();
    auto* command = app.add_subcommand(
        "eval", "Score a model against images: sliced Wasserstein distance and diversity");
    addModelOptions(*command, o->model);
    addDataOptions(*command, o->data, "Folder of images, or a data set file from 'prepare'");
    command->add_option("--count,-n", o->count, "Samples to score (at most half the images)")
        ->check(CLI::Range(2, 100000));
    command->add_option("--seed,-s", o->seed, "Seed of the samples, patches and data split")
        ->check(seedValidator());
    command
        ->add_option("--truncation,-t", o->truncation,
                     "Redraw latent values beyond this magnitude, as sample does (0: off)")
        ->check(CLI::Range(0.0, 100.0));
    command->add_flag("--json", o->json, "Print the figures as JSON");
    command
        ->add_option("--cat-seed", o->catSeed,
                     "Seed of the procedural cats (with --cats; use another than training's)")
        ->check(seedValidator());
    return {command, [o] { runEval(*o); }};
}

}  // namespace cattery::cli
