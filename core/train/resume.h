#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/io/container.h"
#include "core/model/archconfig.h"
#include "core/runtime/precision.h"
#include "core/train/trainconfig.h"

// What a resumed run may change, and what it tells the user: the one set of rules for
// `cattery-cli train --resume` and the Train view's Resume From. Free of LibTorch.
namespace cattery {

class Trainer;
struct Dataset;

// Each set field changes a resumed run; unset ones keep the checkpoint's. Everything else (the
// architecture, gamma, the batch, the seed, ...) always comes from the checkpoint.
struct ResumeChanges {
    std::optional<std::int64_t> steps;           // the run's length in all
    std::optional<double> learningRate;          // the generator's step size from now on
    std::optional<double> discriminatorLrScale;  // the discriminator's, as a multiple
    std::optional<std::int64_t> lrHalveEvery;    // halve every N steps (0: never)
    std::optional<Precision> precision;          // fp32 or bf16
    std::optional<bool> flip;                    // augmentation, each part on its own
    std::optional<double> rotateDegrees;
    std::optional<double> scaleJitter;
    std::optional<double> shift;
    std::optional<KeepModel> keep;  // which generator the model file gets
};

// The set fields alone, by name; read back with each value checked for its type (ConfigError).
nlohmann::json toJson(const ResumeChanges& changes);
ResumeChanges resumeChangesFromJson(const nlohmann::json& json);

// The settings above by name, for both front ends to map their own fields onto (the precision,
// whose "auto" each resolves in its own way, apart).
enum class ResumeSetting {
    Steps,
    LearningRate,
    DiscriminatorLrScale,
    LrHalveEvery,
    Flip,
    RotateDegrees,
    ScaleJitter,
    Shift,
    Keep
};
inline constexpr ResumeSetting kResumeSettings[] = {
    ResumeSetting::Steps,        ResumeSetting::LearningRate, ResumeSetting::DiscriminatorLrScale,
    ResumeSetting::LrHalveEvery, ResumeSetting::Flip,         ResumeSetting::RotateDegrees,
    ResumeSetting::ScaleJitter,  ResumeSetting::Shift,        ResumeSetting::Keep};
// Sets `setting` in `changes` to its value in `wanted`.
void change(ResumeChanges& changes, ResumeSetting setting, const TrainConfig& wanted);

// What a checkpoint holds of the settings above, to show before resuming: its architecture,
// its configuration with the learning rate it had reached, and the step.
struct ResumePoint {
    ArchConfig arch;
    TrainConfig config;
    std::int64_t step = 0;
    std::string datasetHash;  // of the images it trained on ("" when not recorded)
};

// Reads those from a checkpoint's header; throws ModelFileError naming `path` and the problem
// (a finished model, another kind of file, settings missing or out of range).
ResumePoint resumePoint(const Container& checkpoint, const std::string& path);
// The same from a checkpoint file, of which only the header is read.
ResumePoint readResumePoint(const std::string& path);
// Applies `changes`, each checked as a new run's setting would be: a ConfigError names the first
// that is out of range, and then nothing has changed. The length must go past the step reached.
void applyResumeChanges(Trainer& trainer, const ResumeChanges& changes);
// "resuming PATH at step N of M, learning rate ... (the discriminator's ... times that), fp32
// (...)": what the run now is.
std::string describeResume(const Trainer& trainer, const std::string& checkpointPath);
// A warning when `data` is not the set of images the checkpoint trained on; "" when it is (or
// when the checkpoint does not say).
std::string resumeDataWarning(const ResumePoint& point, const Dataset& data);

}  // namespace cattery
