#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include <torch/torch.h>

#include "core/train/trainer.h"

namespace cattery {

// Where a training run writes, and what it reports as it goes.
struct LoopOptions {
    std::string modelPath;  // the finished model (written at the end and at a stop)
    std::string
        checkpointPath;  // the rolling checkpoint (every checkpointEvery steps and at the end)
    int threads = 0;     // CPU threads (0: as many as other processes leave free, ThreadGovernor)
};

struct LoopCallbacks {
    std::function<void(const StepStats&)> onStep;
    std::function<void(std::int64_t step, const torch::Tensor& images)> onSamples;
    std::function<void(const std::string& path, std::int64_t step)> onCheckpoint;
    std::function<void(const std::string& message)> onWarning;
    // Every score, once: a scored step's stats after its onStep, and the score of the run's last
    // step, taken when the run ends (finished, stopped or given up) on a step that was not
    // scored already (its losses unset).
    std::function<void(const StepStats&)> onScore;
};

// How a run ended: all its steps, a stop asked for, or the collapse guard giving up (the message
// went to onWarning).
enum class LoopEnd { Finished, Stopped, GaveUp };

// Steps the trainer until config().steps or until `stop` is set, checking `stop` and `pause`
// between steps. Always leaves a valid checkpoint and model behind, including after a stop; a
// scored run scores its last step first, so that the model file keeps the best of them all.
// With several processes (Trainer::joinWorld), a stop or pause asked of any one holds for all at
// the same step, and rank 0 alone writes the files and reports samples; when a process is lost,
// the others throw WorldError, rank 0's naming the last checkpoint written.
LoopEnd runTraining(Trainer& trainer, const LoopOptions& options, const LoopCallbacks& callbacks,
                    const std::atomic<bool>& stop, const std::atomic<bool>* pause = nullptr);

}  // namespace cattery
