// cattery-cli directions: the directions along which a model's pictures change most, as a sheet.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "app/cli/common.h"
#include "core/io/modelfile.h"
#include "core/latent/directions.h"
#include "core/latent/latentspace.h"

namespace cattery::cli {
namespace {

struct DirectionsOptions {
    ModelChoice model;
    SheetLayout layout;
    int count = 10;
    int steps = 7;
    double range = 3.0;
    int samples = 500;
    std::uint64_t seed = 1;
    std::string features = "pictures";
    std::string out;
};

void runDirections(const DirectionsOptions& o) {
    checkModelOutput(o.model, o.out);
    Model model = openModel(o.model);
    const int dim = model.arch.latentDim;
    const Directions d = principalDirections(
        model.generator, dim, o.count, o.samples, o.seed,
        o.features == "opening" ? DirectionFeatures::Opening : DirectionFeatures::Pictures);
    // One cat, moved along each direction from -range to +range standard deviations.
    const torch::Tensor cat = sampleLatents(1, dim, o.seed)[0];
    std::vector<torch::Tensor> rows;
    for (int k = 0; k < d.vectors.size(0); ++k) {
        for (int j = 0; j < o.steps; ++j) {
            const double sigmas = -o.range + 2.0 * o.range * j / (o.steps - 1);
            rows.push_back(moveAlong(cat, d.vectors[k], sigmas));
        }
    }
    writeRendered(model, o.model.device, torch::stack(rows), "batch", o.steps, o.layout, o.out,
                  {{"directions", d.vectors.size(0)}, {"range", o.range}, {"seed", o.seed}});
    for (std::size_t k = 0; k < d.variance.size(); ++k) {
        std::cout << fmt::format("direction {}: {:.1f} % of the variance\n", k + 1,
                                 100.0 * d.variance[k]);
    }
}

}  // namespace

Subcommand addDirections(CLI::App& app) {
    auto o = std::make_shared<DirectionsOptions>();
    auto* command = app.add_subcommand(
        "directions",
        "Write a sheet of the directions along which the model's pictures change most: one row "
        "per direction, the same cat moved from -3 to +3 standard deviations");
    addModelOptions(*command, o->model);
    command->add_option("--count", o->count, "Directions, the largest first")
        ->check(CLI::Range(1, kMostDirections))
        ->capture_default_str();
    command->add_option("--steps", o->steps, "Pictures per row")
        ->check(CLI::Range(2, 32))
        ->capture_default_str();
    command
        ->add_option("--range", o->range,
                     "How far each row goes either way, in standard deviations")
        ->check(CLI::Range(0.1, 10.0))
        ->capture_default_str();
    command->add_option("--samples", o->samples, "Random latents the directions are found from")
        ->check(CLI::Range(kLeastDirectionSamples, kMostDirectionSamples))
        ->capture_default_str();
    command->add_option("--seed,-s", o->seed, "Random seed of the samples and of the cat shown")
        ->check(seedValidator())
        ->capture_default_str();
    command
        ->add_option("--features", o->features,
                     "Where to look for them: the pictures, or the generator's opening features")
        ->check(CLI::IsMember({"pictures", "opening"}))
        ->capture_default_str();
    command->add_option("--out,-o", o->out, "Output PNG sheet")->required();
    addSheetOptions(*command, o->layout);
    return {command, [o] { runDirections(*o); }};
}

}  // namespace cattery::cli
