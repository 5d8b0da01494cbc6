// cattery-gpu-check: for a machine with a GPU and LibTorch but no Qt or OpenCV. Checks that
// rendering and training on the device agree with the CPU, times both against the Python
// reference (eager and torch.compile) on the same card, and can train a model there.
//   cattery-gpu-check --out DIR [--data FILE] [--train-steps N] [--size S] [--python PYTHON]
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include <fmt/format.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/latent/latentspace.h"
#include "core/runtime/device.h"
#include "core/runtime/inference.h"
#include "core/runtime/renderer.h"
#include "core/runtime/threads.h"
#include "core/train/trainloop.h"
#include "tests/bench/benchutil.h"

namespace fs = std::filesystem;
using namespace cattery;
using namespace cattery::bench;

namespace {

// Random blobs stand in when no data set file is given (timing does not depend on the pictures).
Dataset syntheticData(int count, int size) {
    torch::manual_seed(3);
    Dataset d;
    d.images = torch::randint(0, 256, {count, 3, size, size}, torch::kUInt8);
    d.source = "random pixels";
    d.hash = imagesHash(d.images);
    return d;
}

}  // namespace

int main(int argc, char** argv) {
    std::string out = "gpu-results";
    std::string data;
    std::string python = "python3";
    int size = 64;
    std::int64_t trainSteps = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string key = argv[i];
        const std::string value = argv[i + 1];
        if (key == "--out") {
            out = value;
        } else if (key == "--data") {
            data = value;
        } else if (key == "--python") {
            python = value;
        } else if (key == "--size") {
            size = std::stoi(value);
        } else if (key == "--train-steps") {
            trainSteps = std::stoll(value);
        } else {
            std::cerr << "unknown option " << key << "\n";
            return 2;
        }
    }
    try {
        fs::create_directories(out);
        configureThreads(0);
        const torch::Device device = chooseDevice("auto");
        nlohmann::json report = {{"device", describeDevice(device)}};
        std::cout << "device: " << describeDevice(device) << "\n";

        ArchConfig arch;
        arch.imageSize = size;
        Generator g = settledGenerator(arch);
        const LatentSpace space(arch.latentDim, 1);
        const torch::Tensor grid = sampleLatents(25, arch.latentDim, 7);
        const torch::Tensor cpuPixels = toBytes(g->forward(grid));
        writeForPython(*g, grid, out);

        // Rendering: the same pixels on the device, and its speed.
        torch::Tensor devicePixels;
        {
            c10::InferenceMode guard;
            g->to(device);
            const torch::Tensor z = grid.to(device);
            devicePixels = toBytes(g->forward(z));
            report["grid_ms"] = medianMs([&] { (void)toBytes(g->forward(z)); }, 50);
        }
        report["render_max_pixel_difference_vs_cpu"] =
            (devicePixels.to(torch::kInt) - cpuPixels.to(torch::kInt)).abs().max().item<int>();
        // The renderer's inference copy (batch norm folded, upsampling fused) on the device.
        for (const Precision precision : {Precision::Float32, Precision::BFloat16}) {
            c10::InferenceMode guard;
            const InferenceGenerator ready(g, device, precision);
            const torch::Tensor z = grid.to(device);
            const std::string name = precisionName(precision);
            report["renderer_grid_ms_" + name] =
                medianMs([&] { (void)toBytes(ready.forward(z)); }, 50);
            report["renderer_max_pixel_difference_vs_cpu_" + name] =
                (toBytes(ready.forward(z)).to(torch::kInt) - cpuPixels.to(torch::kInt))
                    .abs()
                    .max()
                    .item<int>();
        }

        // Training: a few steps on the same batches from the same seed, CPU against the device.
        const Dataset dataset = data.empty() ? syntheticData(512, size) : loadDataset(data);
        if (dataset.imageSize() != size) {
            throw ConfigError(fmt::format("{} holds {}x{} images; pass --size {}", data,
                                          dataset.imageSize(), dataset.imageSize(),
                                          dataset.imageSize()));
        }
        TrainConfig config;
        config.sampleEvery = 0;
        const torch::Tensor batch = toUnitRange(dataset.images.narrow(0, 0, config.batchSize));
        Trainer onCpu(arch, config, dataset, torch::kCPU);
        Trainer onDevice(arch, config, dataset, device);
        double worst = 0;
        for (int i = 0; i < 5; ++i) {
            const StepStats a = onCpu.step(batch);
            const StepStats b = onDevice.step(batch);
            worst = std::max(worst, std::abs(a.lossReal - b.lossReal) / std::max(1e-6, a.lossReal));
        }
        report["train_loss_relative_difference_vs_cpu"] = worst;
        for (int i = 0; i < 3; ++i) {
            onDevice.step();
        }
        const auto start = Clock::now();
        for (int i = 0; i < 30; ++i) {
            onDevice.step();  // each step reads its losses back, so the device is in step
        }
        report["train_images_per_s"] = 30.0 * config.batchSize / (msSince(start) / 1e3);
        {
            TrainConfig bf16 = config;
            bf16.precision = Precision::BFloat16;
            Trainer fast(arch, bf16, dataset, device);
            for (int i = 0; i < 3; ++i) {
                fast.step();
            }
            const auto startBf16 = Clock::now();
            for (int i = 0; i < 30; ++i) {
                fast.step();
            }
            report["train_images_per_s_bf16"] = 30.0 * bf16.batchSize / (msSince(startBf16) / 1e3);
        }

        // The Python reference on the same card and weights.
        const std::string reply = run(fmt::format(
            "{} {}/reference.py --dir {} --size {} --device {} {} 2>&1", python, CATTERY_BENCH_DIR,
            out, size, device.is_cuda() ? "cuda" : "cpu", device.is_cuda() ? "--compile" : ""));
        try {
            report["python"] = nlohmann::json::parse(reply.substr(reply.find('{')));
            report["python_max_pixel_difference"] =
                maxPixelDifference(fs::path(out) / "python-pixels.bin", cpuPixels);
        } catch (const std::exception&) {
            report["python"] = reply.substr(0, 2000);
        }

        // Optionally, a longer run that leaves a model behind.
        if (trainSteps > 0) {
            config = TrainConfig{};
            config.steps = trainSteps;
            config.sampleEvery = 0;
            Trainer trainer(arch, config, dataset, device);
            trainer.setName("GPU run");
            LoopOptions options;
            options.modelPath = (fs::path(out) / "model.cattery").string();
            options.checkpointPath = (fs::path(out) / "model.checkpoint.cattery").string();
            LoopCallbacks callbacks;
            auto last = Clock::now();
            callbacks.onStep = [&](const StepStats& s) {
                if (msSince(last) > 10000 || s.step == trainSteps) {
                    last = Clock::now();
                    std::cout << fmt::format(
                                     "step {}/{} L(x) {:.4f} L(G(z)) {:.4f} k {:.4f} M {:.4f}\n",
                                     s.step, trainSteps, s.lossReal, s.lossFake, s.k, s.convergence)
                              << std::flush;
                }
            };
            std::atomic<bool> stop{false};
            runTraining(trainer, options, callbacks, stop);
            report["trained_steps"] = trainer.stepCount();
        }
        std::ofstream(fs::path(out) / "gpu-check.json") << report.dump(2) << "\n";
        std::cout << report.dump(2) << "\n";
    } catch (const c10::Error& e) {
        std::cerr << "cattery-gpu-check: " << e.what_without_backtrace() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "cattery-gpu-check: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
