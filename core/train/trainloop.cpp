#include "core/train/trainloop.h"

#include <chrono>
#include <filesystem>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "core/errors.h"
#include "core/runtime/threads.h"
#include "core/train/collapsewatch.h"

namespace cattery {

LoopEnd runTraining(Trainer& trainer, const LoopOptions& options, const LoopCallbacks& callbacks,
                    const std::atomic<bool>& stop, const std::atomic<bool>* pause) {
    const TrainConfig& config = trainer.config();
    // `last`: the run ends here, so its last step is scored for the model file to keep the best.
    auto saveAll = [&](bool last) {
        if (last && !options.modelPath.empty()) {
            trainer.scoreNow();
        }
        if (!options.checkpointPath.empty()) {
            trainer.saveCheckpoint(options.checkpointPath);
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
        if (!file.empty() && !folder.empty()) {
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
        if (stop.load()) {
            saveAll(true);
            return LoopEnd::Stopped;
        }
        if (pause != nullptr && pause->load()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            continue;
        }
        StepStats stats;
        try {
            stats = trainer.step();
        } catch (const TrainingError& e) {
            // The trainer went back to its last good state before giving up: keep that.
            saveAll(true);
            throw TrainingError(fmt::format(
                "{}; the checkpoint and the model file are saved from there", e.what()));
        }
        if (callbacks.onStep) {
            callbacks.onStep(stats);
        }
        if (callbacks.onWarning) {
            if (stats.rolledBack) {
                callbacks.onWarning(
                    fmt::format("NaN or infinite losses: rolled back to step {} and lowered the "
                                "learning rate to {:.3g}",
                                stats.step, stats.learningRate));
            }
            if (stats.learningRateHalved) {
                callbacks.onWarning(fmt::format("learning rate halved to {:.3g} at step {}",
                                                stats.learningRate, stats.step));
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
        if ((callbacks.onSamples || callbacks.onWarning) && config.sampleEvery > 0 &&
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

}  // namespace cattery
