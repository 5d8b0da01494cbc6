// cattery-cli prepare: a folder of images read once into one data set file.
#include <chrono>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "app/cli/common.h"
#include "core/io/outputs.h"
#include "core/runtime/threads.h"

namespace cattery::cli {
namespace {

struct PrepareOptions {
    DataChoice data;
    std::uint64_t catSeed = 1;
    int size = 64;
    std::string out;
};

void runPrepare(const PrepareOptions& o) {
    checkOutputs({{"--data", o.data.source}}, {{"--out", o.out}});
    configureThreads();
    const auto start = std::chrono::steady_clock::now();
    const Dataset d = loadData(o.data, o.size, o.catSeed);
    saveDataset(o.out, d);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << fmt::format("wrote {} ({} images of {}x{}, hash {}, {:.0f} images/s)\n", o.out,
                             d.count(), o.size, o.size, d.hash,
                             static_cast<double>(d.count()) / std::max(seconds, 1e-9));
}

}  // namespace

Subcommand addPrepare(CLI::App& app) {
    auto o = std::make_shared<PrepareOptions>();
    auto* command = app.add_subcommand("prepare", "Read a folder of images into one data set file");
    addDataOptions(*command, o->data, "Folder of images");
    command->add_option("--seed", o->catSeed, "Seed of the procedural cats (with --cats)")
        ->check(seedValidator());
    command->add_option("--out,-o", o->out, "Output data set file")->required();
    command->add_option("--size", o->size, "Image size in pixels")->check(CLI::Range(8, 1024));
    return {command, [o] { runPrepare(*o); }};
}

}  // namespace cattery::cli
