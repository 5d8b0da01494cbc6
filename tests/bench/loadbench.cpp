// The busy-machine rows of cattery-bench. OpenMP's wait policy is fixed when a process starts, so
// every measurement runs in a child process of this program, once as Cattery used to run (OpenMP's
// default spin, every CPU) and once as it runs now (a short spin, the thread governor), beside the
// same load started here: plain spinning processes, or another training child.
#include "tests/bench/loadbench.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <torch/torch.h>

#include "core/data/proceduralcats.h"
#include "core/latent/latentspace.h"
#include "core/model/networks.h"
#include "core/runtime/renderer.h"
#include "core/runtime/threads.h"
#include "core/train/trainer.h"
#include "core/train/trainloop.h"
#include "tests/bench/benchutil.h"

namespace cattery::bench {
namespace {

constexpr double kWarmUpSeconds = 4.0;  // long enough for the governor to settle
constexpr int kMeasuredSteps = 24;

TrainConfig loadConfig(std::int64_t steps) {
    TrainConfig config;
    config.sampleEvery = 0;
    config.checkpointEvery = 0;
    config.precision = Precision::Float32;
    config.steps = steps;
    return config;
}

// How the children are started: as Cattery used to run, or as it runs now.
std::string childEnvironment(bool before) {
    return before ? "env -u OMP_WAIT_POLICY GOMP_SPINCOUNT=300000"
                  : "env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT";
}

std::string childThreads(bool before) {
    return before ? fmt::format("{}", usableCpus()) : "0";
}

pid_t spawn(const std::string& command) {
    const pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    return pid;
}

pid_t spinner() {
    const pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        for (volatile unsigned long i = 0;; i = i + 1) {
        }
    }
    return pid;
}

void stopAll(std::vector<pid_t>& pids) {
    for (const pid_t pid : pids) {
        kill(-pid, SIGKILL);
        waitpid(pid, nullptr, 0);
    }
    pids.clear();
}

double numberAfter(const std::string& text, const std::string& key) {
    const auto at = text.find(key);
    return at == std::string::npos ? 0.0 : std::atof(text.c_str() + at + key.size());
}

}  // namespace

int trainChild(int threads, bool forever) {
    const ArchConfig arch;
    Trainer trainer(arch, loadConfig(1000000), proceduralCats(256, arch.imageSize, 1), torch::kCPU);
    LoopOptions options;
    options.threads = threads;
    const std::atomic<bool> never{false};
    std::atomic<bool> stop{false};
    auto start = Clock::now();
    std::int64_t firstStep = -1;
    double rate = 0;
    LoopCallbacks callbacks;
    callbacks.onStep = [&](const StepStats& s) {
        if (forever) {
            return;
        }
        if (firstStep < 0 && msSince(start) > kWarmUpSeconds * 1e3) {
            firstStep = s.step;
            start = Clock::now();
        } else if (firstStep >= 0 && s.step - firstStep == kMeasuredSteps) {
            rate = kMeasuredSteps * trainer.config().batchSize / (msSince(start) / 1e3);
            stop = true;
        }
    };
    runTraining(trainer, options, callbacks, forever ? never : stop);
    std::printf("images/s %.2f threads %d\n", rate, at::get_num_threads());
    return 0;
}

int windowChild(bool share) {
    // Training on this thread, a 5x5 grid drawn again and again on another, as in the window.
    const ArchConfig arch;
    const Generator g = settledGenerator(arch);
    const LatentSpace space(arch.latentDim, 1);
    const std::array<torch::Tensor, 4> corners = {
        space.fromThree({-1.5f, 1.0f, 0.5f}), space.fromThree({1.5f, 0.5f, -1.0f}),
        space.fromThree({-0.5f, -1.5f, 1.0f}), space.fromThree({1.0f, -1.0f, -1.5f})};
    const torch::Tensor grid = cornerGrid(corners, 5);
    std::optional<TrainingShare> training;
    if (share) {
        training.emplace();
    }
    std::atomic<bool> done{false};
    std::vector<double> gridMs;
    std::thread drawer([&] {
        Renderer renderer(g, torch::kCPU, 0);
        while (!done.load()) {
            configureThreads(share ? drawingThreads() : 0);
            const auto start = Clock::now();
            renderer.render(grid);
            gridMs.push_back(msSince(start));
        }
    });
    Trainer trainer(arch, loadConfig(1000000), proceduralCats(256, arch.imageSize, 1), torch::kCPU);
    ThreadGovernor governor(share ? 0 : usableCpus());
    for (int i = 0; i < 3; ++i) {
        trainer.step();
    }
    const auto start = Clock::now();
    for (int i = 0; i < kMeasuredSteps; ++i) {
        governor.update();
        trainer.step();
    }
    const double rate = kMeasuredSteps * trainer.config().batchSize / (msSince(start) / 1e3);
    done = true;
    drawer.join();
    std::sort(gridMs.begin(), gridMs.end());
    std::printf("images/s %.2f grid %.1f p90 %.1f\n", rate, gridMs[gridMs.size() / 2],
                gridMs[gridMs.size() * 9 / 10]);
    return 0;
}

std::vector<std::array<std::string, 3>> loadRows(const std::string& self) {
    std::vector<std::array<std::string, 3>> rows;
    std::vector<pid_t> load;
    const auto trainRate = [&](bool before) {
        return numberAfter(run(fmt::format("{} {} --train-child {} 2>&1", childEnvironment(before),
                                           self, childThreads(before))),
                           "images/s ");
    };
    double quiet[2] = {0, 0};
    for (const bool before : {true, false}) {
        quiet[before ? 0 : 1] = trainRate(before);
    }
    rows.push_back({"training quiet, 64x64 fp32, in a fresh process",
                    fmt::format("{:.1f} images/s", quiet[1]),
                    fmt::format("as Cattery ran before (OpenMP's default spin, {} threads): {:.1f} "
                                "images/s, {:.2f}x",
                                usableCpus(), quiet[0], quiet[1] / quiet[0])});
    struct Load {
        const char* name;
        int spinners;
        bool training;
    };
    for (const Load l : {Load{"one busy process", 1, false}, Load{"two busy processes", 2, false},
                         Load{"another Cattery training", 0, true}}) {
        double rate[2] = {0, 0};
        for (const bool before : {true, false}) {
            for (int i = 0; i < l.spinners; ++i) {
                load.push_back(spinner());
            }
            if (l.training) {
                load.push_back(
                    spawn(fmt::format("exec {} {} --train-child {} forever",
                                      childEnvironment(before), self, childThreads(before))));
                sleep(3);  // past its start-up
            }
            rate[before ? 0 : 1] = trainRate(before);
            stopAll(load);
        }
        rows.push_back(
            {fmt::format("training beside {}", l.name),
             fmt::format("{:.1f} images/s, {:.2f} of quiet", rate[1], rate[1] / quiet[1]),
             fmt::format("before: {:.1f} images/s, {:.2f} of quiet", rate[0], rate[0] / quiet[0])});
    }
    for (const bool before : {true, false}) {
        const std::string out = run(fmt::format("{} {} --window-child {} 2>&1",
                                                childEnvironment(before), self, before ? 0 : 1));
        const double rate = numberAfter(out, "images/s ");
        rows.push_back(
            {before ? "training while the window draws, before (grid on 2 threads)"
                    : "training while the window draws (grid on 1 thread)",
             fmt::format("{:.1f} images/s, {:.2f} of quiet", rate, rate / quiet[before ? 0 : 1]),
             fmt::format("5x5 grid meanwhile: {:.1f} ms median, {:.1f} ms at the 90th percentile",
                         numberAfter(out, "grid "), numberAfter(out, "p90 "))});
    }
    return rows;
}

}  // namespace cattery::bench
