#include "core/train/trainloop.h"

#include <chrono>
#include <filesystem>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "core/errors.h"
#include "core/runtime/threads.h"
#include "core/train/collapsewatch.h"
#include "core/train/distributed.h"

namespace cattery {
namespace {

// runTraining's steps; `savedStep` is the step of the last checkpoint written (-1: none yet).
LoopEnd runSteps(Trainer& trainer, const LoopOptions& options, const LoopCallbacks& callbacks,
                 const std::atomic<bool>& stop, const std::atomic<bool>* pause,
                 std::int64_t& savedStep) {
    const TrainConfig& config = trainer.config();
    // With several processes, rank 0 alone writes and reports samples; every one takes part in
    // scoring.
    const bool writer = trainer.rank() == 0;
    World* world = trainer.world();
    // `last`: the run ends here, so its last step is scored for the model file to keep the best.
    auto saveAll = [&](bool last) {
        if (last && !options.modelPath.empty()) {
            const std::optional<StepStats> score = trainer.scoreNow();
            if (score && writer && callbacks.onScore) {
                callbacks.onScore(*score);
            }
        }
        if (!writer) {
            return;
        }
        if (!options.checkpointPath.empty()) {
            trainer.saveCheckpoint(options.checkpointPath);
            savedStep = trainer.stepCount();
            if (callbacks.onCheckpoint) {
                callbacks.onCheckpoint(options.checkpointPath, trainer.stepCount());
            }
        }
        if (!options.modelPath.empty()) {
            trainer.saveModel(options.modelPath);
        }
    };
    // The folders the files go to, made now: a path that cannot be made fails before any step.
    for (const std::string& file : {options.modelPath, options.checkpointPath}) {
        const std::filesystem::path folder = std::filesystem::path(file).parent_path();
        if (writer && !file.empty() && !folder.empty()) {
            std::filesystem::create_directories(folder);
        }
    }
    std::int64_t zeroKSince = -1;
    CollapseWatch collapse(trainer.dataset().images);
    // A guarded run acts on collapse itself (and says so): the watch would only repeat it.
    const bool watch = !(config.collapseGuard && config.scoreEvery > 0);
    std::optional<ThreadGovernor> governor;
    if (trainer.device().is_cpu()) {
        governor.emplace(options.threads);
    }
    while (trainer.stepCount() < config.steps) {
        if (governor) {
            governor->update();
        }
        bool stopping = stop.load();
        bool pausing = pause != nullptr && pause->load();
        if (world != nullptr) {
            // A stop or pause asked of any process (Ctrl-C on rank 0) holds for all at this step.
            const std::vector<double> asked =
                world->sum({stopping ? 1.0 : 0.0, pausing ? 1.0 : 0.0});
            stopping = asked[0] > 0;
            pausing = asked[1] > 0;
        }
        if (stopping) {
            saveAll(true);
            return LoopEnd::Stopped;
        }
        if (pausing) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            continue;
        }
        StepStats stats;
        try {
            stats = trainer.step();
        } catch (const WorldError&) {
            throw;  // the processes cannot agree on anything more: the last checkpoint stands
        } catch (const TrainingError& e) {
            // The trainer went back to its last good state before giving up: keep that.
            saveAll(true);
            throw TrainingError(fmt::format(
                "{}; the checkpoint and the model file are saved from there", e.what()));
        }
        if (callbacks.onStep) {
            callbacks.onStep(stats);
        }
        if (stats.scored && callbacks.onScore) {
            callbacks.onScore(stats);
        }
        if (callbacks.onWarning) {
            if (stats.rolledBack) {
                callbacks.onWarning(
                    fmt::format("NaN or infinite losses: rolled back to step {} and lowered the "
                                "learning rate to {:.3g}",
                                stats.step, stats.learningRate));
            }
            if (stats.learningRateHalved) {
                // stats holds the rate the step ran at; the trainer, the one it goes on at.
                callbacks.onWarning(fmt::format("learning rate halved to {:.3g} at step {}",
                                                trainer.learningRate(), stats.step));
            }
            // (BEGAN's balance: the hinge objective has no k_t.)
            const bool began = config.objective == Objective::Began;
            zeroKSince = !began || stats.k > 0 ? -1 : (zeroKSince < 0 ? stats.step : zeroKSince);
            if (zeroKSince >= 0 && stats.step - zeroKSince == 1000) {
                callbacks.onWarning(fmt::format(
                    "k_t has sat at 0 for 1000 steps (since step {}): the generator may be "
                    "winning too easily; try a higher gamma or a lower learning rate",
                    zeroKSince));
            }
        }
        if (!stats.guardMessage.empty() && callbacks.onWarning) {
            callbacks.onWarning(stats.guardMessage);
        }
        if (stats.gaveUp) {
            saveAll(true);
            return LoopEnd::GaveUp;
        }
        if (stats.rolledBack) {
            continue;
        }
        if (writer && (callbacks.onSamples || callbacks.onWarning) && config.sampleEvery > 0 &&
            stats.step % config.sampleEvery == 0) {
            const torch::Tensor samples = trainer.samples();
            if (callbacks.onSamples) {
                callbacks.onSamples(stats.step, samples);
            }
            if (callbacks.onWarning && watch) {
                if (const std::string w = collapse.check(stats.step, samples); !w.empty()) {
                    callbacks.onWarning(w);
                }
            }
        }
        if (config.checkpointEvery > 0 && stats.step % config.checkpointEvery == 0 &&
            stats.step < config.steps) {
            saveAll(false);
        }
    }
    saveAll(true);
    return LoopEnd::Finished;
}

}  // namespace

LoopEnd runTraining(Trainer& trainer, const LoopOptions& options, const LoopCallbacks& callbacks,
                    const std::atomic<bool>& stop, const std::atomic<bool>* pause) {
    std::int64_t savedStep = -1;
    try {
        return runSteps(trainer, options, callbacks, stop, pause, savedStep);
    } catch (const WorldError& e) {
        if (trainer.rank() != 0 || options.checkpointPath.empty()) {
            throw;
        }
        throw WorldError(fmt::format(
            "{}; {}", e.what(),
            savedStep >= 0
                ? fmt::format("the checkpoint {} (step {}) resumes the run, on any number of "
                              "processes that divides its batch",
                              options.checkpointPath, savedStep)
                : std::string("this run had written no checkpoint yet")));
    }
}

}  // namespace cattery
