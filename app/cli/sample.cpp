// cattery-cli sample: a sheet of random samples.
#include <memory>

#include "app/cli/common.h"
#include "core/io/modelfile.h"
#include "core/io/naming.h"
#include "core/latent/latentspace.h"

namespace cattery::cli {
namespace {

struct SampleOptions {
    ModelChoice model;
    SheetLayout layout;
    int count = 25;
    int columns = 0;
    std::uint64_t seed = 1;
    double truncation = 0.0;
    std::string out;
};

void runSample(const SampleOptions& o) {
    const std::string out =
        o.out.empty() ? unusedPath(stemOf(resolveModel(o.model.path)) + "-samples", ".png") : o.out;
    checkModelOutput(o.model, out);
    Model model = openModel(o.model);
    const torch::Tensor z = sampleLatents(o.count, model.arch.latentDim, o.seed, o.truncation);
    writeRendered(model, o.model.device, z, "batch", o.columns, o.layout, out,
                  {{"seed", o.seed}, {"truncation", o.truncation}});
}

}  // namespace

Subcommand addSample(CLI::App& app) {
    auto o = std::make_shared<SampleOptions>();
    auto* command = app.add_subcommand("sample", "Write a sheet of random samples");
    addModelOptions(*command, o->model);
    command->add_option("--count,-n", o->count, "How many samples")->check(CLI::Range(1, 1024));
    command->add_option("--seed,-s", o->seed, "Random seed: the same seed gives the same sheet")
        ->check(seedValidator());
    command
        ->add_option(
            "--truncation,-t", o->truncation,
            "Redraw latent values beyond this magnitude (smaller: fewer malformed cats; 0: off)")
        ->check(CLI::Range(0.0, 100.0));
    command->add_option("--columns", o->columns, "Images per row (0: near-square)")
        ->check(CLI::Range(0, 1024));
    command->add_option("--out,-o", o->out,
                        "Output PNG sheet (default: MODEL-samples.png here, never overwriting)");
    addSheetOptions(*command, o->layout);
    return {command, [o] { runSample(*o); }};
}

}  // namespace cattery::cli
