// cattery-bench: every performance figure of Cattery, each measured side by side with its
// comparison in the same run (absolute times drift on shared machines; ratios much less).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "core/data/dataset.h"
#include "core/data/imagefolder.h"
#include "core/data/proceduralcats.h"
#include "core/io/modelfile.h"
#include "core/latent/latentspace.h"
#include "core/latent/rng.h"
#include "core/model/networks.h"
#include "core/runtime/device.h"
#include "core/runtime/inference.h"
#include "core/runtime/renderer.h"
#include "core/runtime/threads.h"
#include "core/train/trainer.h"
#include "tests/bench/benchutil.h"
#include "tests/bench/loadbench.h"
#include "tests/bench/projectbench.h"
#include "tests/bench/scorebench.h"
#include "tests/bench/worldbench.h"

namespace fs = std::filesystem;
using namespace cattery;

using namespace cattery::bench;

namespace {

long peakRssMb() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss / 1024;
}

struct Row {
    std::string what;
    std::string value;
    std::string comparison;
};

// The corners of every grid the benchmark draws.
std::array<torch::Tensor, 4> benchCorners(const LatentSpace& space) {
    return {space.fromThree({-1.5f, 1.0f, 0.5f}), space.fromThree({1.5f, 0.5f, -1.0f}),
            space.fromThree({-0.5f, -1.5f, 1.0f}), space.fromThree({1.0f, -1.0f, -1.5f})};
}

void printRows(const std::vector<Row>& rows) {
    std::printf("| benchmark | result | side by side |\n|---|---|---|\n");
    for (const Row& r : rows) {
        std::printf("| %s | %s | %s |\n", r.what.c_str(), r.value.c_str(), r.comparison.c_str());
    }
}

}  // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "--train-child" && argc > 2) {
        return trainChild(std::atoi(argv[2]), argc > 3);
    }
    if (mode == "--window-child" && argc > 2) {
        return windowChild(std::atoi(argv[2]) != 0);
    }
    if (mode == "--world-child" && argc > 2) {
        return worldChild(argv[2]);
    }
    if (mode == "--processes") {
        std::vector<Row> rows;
        for (const auto& [what, value, comparison] :
             worldRows(fs::read_symlink("/proc/self/exe").string())) {
            rows.push_back({what, value, comparison});
        }
        printRows(rows);
        return 0;
    }
    if (mode == "--projection") {
        configureThreads(0);
        const std::string model =
            argc > 2 ? argv[2] : std::string(CATTERY_SOURCE_DIR) + "/models/chubby.cattery";
        std::vector<Row> rows;
        for (const auto& [what, value, comparison] : projectionRows(model)) {
            rows.push_back({what, value, comparison});
        }
        printRows(rows);
        return 0;
    }
    if (mode == "--render" && argc > 2) {
        // The shipped models (or any) side by side: what one 5x5 corner grid costs the window.
        const int threads = configureThreads(0);
        std::vector<Row> rows;
        for (int i = 2; i < argc; ++i) {
            const Model model = loadModel(argv[i]);
            const LatentSpace space(model.arch.latentDim, 1);
            const torch::Tensor grid = cornerGrid(benchCorners(space), 5);
            Renderer fp32(model.generator, torch::kCPU, 0, Precision::Float32);
            Renderer bf16(model.generator, torch::kCPU, 0, Precision::BFloat16);
            for (int warm = 0; warm < 10; ++warm) {  // the first renders pay for set-up
                fp32.render(grid);
                bf16.render(grid);
            }
            const double fp32Ms = medianMs([&] { fp32.render(grid); }, 20);
            const double bf16Ms = medianMs([&] { bf16.render(grid); }, 20);
            rows.push_back(
                {fmt::format("5x5 grid, {} ({}x{}, nf {})", fs::path(argv[i]).filename().string(),
                             model.arch.imageSize, model.arch.imageSize, model.arch.nf),
                 fmt::format("{:.1f} ms fp32, {:.1f} ms bf16", fp32Ms, bf16Ms),
                 fmt::format("{} threads; the window draws in {}", threads,
                             precisionName(defaultPrecision(torch::kCPU)))});
        }
        printRows(rows);
        return 0;
    }
    if (mode == "--score-spread" && argc > 2) {
        configureThreads(0);
        std::vector<Row> rows;
        for (const auto& [what, value, comparison] :
             scoreSpreadRows(std::vector<std::string>(argv + 2, argv + argc))) {
            rows.push_back({what, value, comparison});
        }
        printRows(rows);
        return 0;
    }
    if (mode == "--score-cost" && argc > 3) {
        configureThreads(0);
        std::vector<Row> rows;
        for (const auto& [what, value, comparison] :
             scoreCostRows(std::atoi(argv[2]), std::vector<std::string>(argv + 3, argv + argc))) {
            rows.push_back({what, value, comparison});
        }
        printRows(rows);
        return 0;
    }
    const bool loadOnly = mode == "--load";
    const std::string python = argc > 1 && !loadOnly ? argv[1] : "/usr/bin/python3";
    const std::string sourceDir = CATTERY_SOURCE_DIR;
    const std::string buildDir = CATTERY_BUILD_DIR;
    const std::string shared =
        std::getenv("CATTERY_SHARED") ? std::getenv("CATTERY_SHARED") : sourceDir + "/../shared";
    const int threads = configureThreads(0);
    std::vector<Row> rows;
    if (loadOnly) {
        for (const auto& [what, value, comparison] :
             loadRows(fs::read_symlink("/proc/self/exe").string())) {
            rows.push_back({what, value, comparison});
        }
        printRows(rows);
        return 0;
    }
    torch::manual_seed(1);

    // The machine's ceiling: a large matrix product through LibTorch.
    const auto a = torch::randn({2048, 2048});
    const auto b = torch::randn({2048, 2048});
    const double matmulMs = medianMs([&] { (void)torch::mm(a, b); }, 5);
    const double ceiling = 2.0 * 2048.0 * 2048.0 * 2048.0 / (matmulMs * 1e6);
    rows.push_back({"fp32 ceiling (2048^2 matmul)", fmt::format("{:.0f} GFLOP/s", ceiling),
                    fmt::format("{} threads", threads)});

    // Model 1's shape with settled batch-norm statistics.
    ArchConfig arch;
    Generator g = settledGenerator(arch);
    const fs::path dir = fs::temp_directory_path() / fmt::format("cattery-bench-{}", getpid());
    fs::create_directories(dir);
    const LatentSpace space(arch.latentDim, 1);
    const std::array<torch::Tensor, 4> corners = benchCorners(space);
    const torch::Tensor grid = cornerGrid(corners, 5);
    writeForPython(*g, grid, dir);

    Renderer cold(g, torch::kCPU, 0);
    const double gridMs = medianMs([&] { cold.render(grid); }, 20);
    const double gflop = 25 * generatorGflop(arch);
    // The generator module's own forward pass (what training runs), for the renderer's gain.
    const double moduleMs = medianMs(
        [&] {
            c10::InferenceMode inference;
            (void)toImages(g->forward(grid));
        },
        20);

    // bf16, as the window draws on a CPU with native bf16.
    Renderer coldBf16(g, torch::kCPU, 0, Precision::BFloat16);
    const double gridBf16Ms = medianMs([&] { coldBf16.render(grid); }, 20);
    int bf16Worst = 0;
    {
        const auto exact = cold.render(grid);
        const auto fast = coldBf16.render(grid);
        for (size_t i = 0; i < exact.size(); ++i) {
            for (size_t p = 0; p < exact[i].pixels.size(); ++p) {
                bf16Worst =
                    std::max(bf16Worst, std::abs(int(exact[i].pixels[p]) - int(fast[i].pixels[p])));
            }
        }
    }
    const Precision windowPrecision = defaultPrecision(torch::kCPU);
    const std::string windowLabel = precisionName(windowPrecision);

    // One corner moved: the renderer's cache keeps the 9 cells it does not touch.
    Renderer cached(g, torch::kCPU, 4096, windowPrecision);
    cached.render(grid);
    int move = 0;
    const double cornerMs = medianMs(
        [&] {
            auto c = corners;
            c[3] = space.fromThree({1.0f + 0.01f * float(++move), -1.0f, -1.5f});
            cached.render(cornerGrid(c, 5));
        },
        20);
    const std::size_t computed = cached.lastComputed();
    Renderer batchRenderer(g, torch::kCPU, 0, windowPrecision);
    int batchSeed = 0;
    const double batchMs = medianMs(
        [&] {
            batchRenderer.render(sampleLatents(25, arch.latentDim, std::uint64_t(++batchSeed)));
        },
        20);
    const long exploreRss = peakRssMb();

    // The Python reference on the same weights and latents.
    const std::string reply = run(fmt::format("{} {}/tests/bench/reference.py --dir {} 2>&1",
                                              python, sourceDir, dir.string()));
    double pyGridMs = 0;
    double pyTrain = 0;
    std::string pixelCheck = "python reference did not run";
    try {
        const auto j = nlohmann::json::parse(reply.substr(reply.find('{')));
        pyGridMs = j.at("grid_ms").get<double>();
        pyTrain = j.at("train_images_per_s").get<double>();
        c10::InferenceMode inference;
        const int maxDiff = maxPixelDifference(
            dir / "python-pixels.bin", toBytes(InferenceGenerator(g, torch::kCPU).forward(grid)));
        pixelCheck = fmt::format("same pixels within {} of 255", maxDiff);
    } catch (const std::exception&) {
        pixelCheck = "python reference failed: " + reply.substr(0, 300);
    }
    rows.push_back(
        {"5x5 grid, 64x64, latent 100, fp32", fmt::format("{:.1f} ms", gridMs),
         pyGridMs > 0
             ? fmt::format("python {:.1f} ms: {:.2f}x; the network's nominal work at {:.0f}% of "
                           "the ceiling; {}",
                           pyGridMs, pyGridMs / gridMs, 100.0 * gflop / (gridMs * 1e-3) / ceiling,
                           pixelCheck)
             : pixelCheck});
    rows.push_back(
        {"5x5 grid, the module's forward pass", fmt::format("{:.1f} ms", moduleMs),
         fmt::format("the renderer (channels-last, batch norm folded, upsampling fused) is {:.2f}x "
                     "faster",
                     moduleMs / gridMs)});
    rows.push_back(
        {"5x5 grid, bf16", fmt::format("{:.1f} ms", gridBf16Ms),
         fmt::format("{}{:.2f}x fp32; pixels within {} of 255 of fp32; this CPU {} native bf16",
                     pyGridMs > 0 ? fmt::format("python {:.2f}x; ", pyGridMs / gridBf16Ms) : "",
                     gridMs / gridBf16Ms, bf16Worst, cpuHasNativeBf16() ? "has" : "lacks")});
    rows.push_back({"one corner moved (" + windowLabel + ", as the window)",
                    fmt::format("{:.1f} ms", cornerMs),
                    fmt::format("{} of 25 cells computed", computed)});
    rows.push_back(
        {"random batch of 25 (" + windowLabel + ")", fmt::format("{:.1f} ms", batchMs), ""});

    // Training throughput at Model 1's config, batch 16, in both precisions.
    const Dataset cats = proceduralCats(256, arch.imageSize, 1);
    double fp32Rate = 0;
    double bf16Rate = 0;
    for (const Precision precision : {Precision::Float32, Precision::BFloat16}) {
        TrainConfig config;
        config.sampleEvery = 0;
        config.precision = precision;
        Trainer trainer(arch, config, cats, torch::kCPU);
        for (int i = 0; i < 3; ++i) {
            trainer.step();
        }
        const auto start = Clock::now();
        const int steps = 20;
        for (int i = 0; i < steps; ++i) {
            trainer.step();
        }
        const double rate = steps * config.batchSize / (msSince(start) / 1e3);
        std::string comparison = pyTrain > 0 ? fmt::format("python (fp32) {:.1f} images/s: {:.2f}x",
                                                           pyTrain, rate / pyTrain)
                                             : "python reference did not run";
        if (precision == Precision::Float32) {
            fp32Rate = rate;
        } else {
            bf16Rate = rate;
            comparison += fmt::format("; {:.2f}x fp32", rate / fp32Rate);
        }
        rows.push_back({"training, 64x64, batch 16, " + precisionName(precision),
                        fmt::format("{:.1f} images/s", rate), comparison});
    }
    // What a loader thread could hide: drawing and augmenting one batch.
    Rng augmentRng(3);
    const double augmentMs =
        medianMs([&] { (void)augmentedBatch(cats.images, 16, AugmentConfig{}, augmentRng); }, 20);
    rows.push_back({"augmenting a batch of 16, 64x64", fmt::format("{:.1f} ms", augmentMs),
                    fmt::format("{:.1f}% of an fp32 step, {:.1f}% of a bf16 step",
                                100.0 * augmentMs / (16e3 / fp32Rate),
                                100.0 * augmentMs / (16e3 / bf16Rate))});
    rows.push_back({"peak RSS",
                    fmt::format("{} MB exploring, {} MB after training", exploreRss, peakRssMb()),
                    ""});

    // Cold start of the window to its first painted grid.
    const std::string app = buildDir + "/tools/cattery-window-probe";
    if (fs::exists(app)) {
        const auto startApp = Clock::now();
        std::string out = run(fmt::format(
            "XDG_CONFIG_HOME={} QT_QPA_PLATFORM=offscreen {} --time-first-grid 2>/dev/null",
            dir.string(), app));
        const double wall = msSince(startApp);
        while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) {
            out.pop_back();
        }
        rows.push_back({"cold start to first grid", fmt::format("{:.0f} ms", wall),
                        out.empty() ? "the window did not report" : "window: " + out});
    }

    // Data preparation.
    const std::string twemoji = shared + "/datasets/twemoji64/images";
    if (fs::exists(twemoji)) {
        FolderOptions options;
        options.size = 64;
        const auto prep = Clock::now();
        const Dataset d = readImageFolder(twemoji, options);
        rows.push_back({"prepare twemoji64",
                        fmt::format("{:.0f} images/s", d.count() / (msSince(prep) / 1e3)),
                        fmt::format("{} images", d.count())});
    }
    fs::remove_all(dir);

    // The busy machine: training beside other processes, and beside the window's drawing.
    for (const auto& [what, value, comparison] :
         loadRows(fs::read_symlink("/proc/self/exe").string())) {
        rows.push_back({what, value, comparison});
    }
    // Training in several processes against one.
    for (const auto& [what, value, comparison] :
         worldRows(fs::read_symlink("/proc/self/exe").string())) {
        rows.push_back({what, value, comparison});
    }
    printRows(rows);
    return 0;
}
