#include "tests/bench/worldbench.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "core/data/proceduralcats.h"
#include "core/runtime/threads.h"
#include "core/train/distributed.h"
#include "core/train/launcher.h"
#include "core/train/trainer.h"
#include "tests/bench/benchutil.h"

namespace cattery::bench {
namespace {

constexpr int kWarmUpSteps = 3;
constexpr int kMeasuredSteps = 20;
constexpr int kReduceCalls = 20;

// The run both sides train: Model 1's shape, a batch of 16 in all, fp32, unscored.
TrainConfig worldConfig() {
    TrainConfig config;
    config.batchSize = 16;
    config.sampleEvery = 0;
    config.checkpointEvery = 0;
    config.scoreEvery = 0;
    config.precision = Precision::Float32;
    config.steps = 1000000;
    return config;
}

// Images per second of the whole batch over kMeasuredSteps steps, after a warm-up.
double trainingRate(Trainer& trainer) {
    for (int i = 0; i < kWarmUpSteps; ++i) {
        trainer.step();
    }
    const auto start = Clock::now();
    for (int i = 0; i < kMeasuredSteps; ++i) {
        trainer.step();
    }
    return kMeasuredSteps * trainer.config().batchSize / (msSince(start) / 1e3);
}

}  // namespace

int worldChild(const std::string& resultPath) {
    configureThreads(1);
    const ArchConfig arch;
    Trainer trainer(arch, worldConfig(), proceduralCats(256, arch.imageSize, 1), torch::kCPU);
    World world(worldFromEnvironment(), torch::kCPU, std::chrono::seconds(120));
    trainer.joinWorld(world);
    const double rate = trainingRate(trainer);
    // The all-reduce alone, on tensors of the gradients' shapes, as each step makes it.
    std::vector<torch::Tensor> grads;
    double bytes = 0;
    for (const auto* net :
         {static_cast<const torch::nn::Module*>(trainer.discriminator().get()),
          static_cast<const torch::nn::Module*>(trainer.trainingGenerator().get())}) {
        for (const torch::Tensor& p : net->parameters()) {
            grads.push_back(torch::zeros_like(p));
            bytes += static_cast<double>(p.numel() * p.element_size());
        }
    }
    world.average(grads);
    const auto start = Clock::now();
    for (int i = 0; i < kReduceCalls; ++i) {
        world.average(grads);
    }
    const double reduceMs = msSince(start) / kReduceCalls;
    if (world.rank() == 0) {
        std::ofstream(resultPath) << nlohmann::json{
            {"images_per_s", rate},
            {"reduce_ms", reduceMs},
            {"bytes", bytes},
            {"processes", world.size()}}.dump();
    }
    return 0;
}

std::vector<std::array<std::string, 3>> worldRows(const std::string& self) {
    const int cores = usableCpus();
    if (cores < 2) {
        return {{"training, several processes", "not measured", "this machine has one CPU"}};
    }
    // One process with every thread.
    configureThreads(cores);
    const ArchConfig arch;
    Trainer alone(arch, worldConfig(), proceduralCats(256, arch.imageSize, 1), torch::kCPU);
    const double oneRate = trainingRate(alone);

    const std::string result =
        (std::filesystem::temp_directory_path() / fmt::format("cattery-world-{}.json", getpid()))
            .string();
    LocalLaunch launch;
    launch.program = self;
    launch.arguments = {"--world-child", result};
    launch.count = cores;
    const int status = runLocalWorld(launch);
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(std::ifstream(result));
    } catch (const std::exception&) {
        return {{"training, several processes", "failed", fmt::format("exit status {}", status)}};
    }
    std::filesystem::remove(result);
    const double rate = j.at("images_per_s").get<double>();
    const double reduceMs = j.at("reduce_ms").get<double>();
    const double stepMs = 16e3 / rate;
    return {{fmt::format("training, 64x64, batch 16 in all, fp32: {} processes x 1 thread", cores),
             fmt::format("{:.1f} images/s", rate),
             fmt::format("1 process x {} threads {:.1f} images/s: {:.2f}x; the all-reduce of "
                         "both networks' gradients ({:.1f} MB) {:.1f} ms, {:.1f}% of a step",
                         cores, oneRate, rate / oneRate, j.at("bytes").get<double>() / 1e6,
                         reduceMs, 100.0 * reduceMs / stepMs)}};
}

}  // namespace cattery::bench
