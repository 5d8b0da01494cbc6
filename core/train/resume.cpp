#include "core/train/resume.h"

#include <fmt/format.h>

#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/io/jsonfield.h"
#include "core/io/modelfile.h"
#include "core/train/trainer.h"

namespace cattery {

ResumePoint resumePoint(const Container& checkpoint, const std::string& path) {
    if (checkpoint.kind != "checkpoint") {
        throw ModelFileError(
            path, checkpoint.kind == "model"
                      ? "is a finished model, not a training checkpoint: it holds "
                        "no discriminator or optimiser state to resume from"
                      : fmt::format("holds a {}, not a training checkpoint", checkpoint.kind));
    }
    ResumePoint point;
    try {
        const auto& training = checkpoint.meta.at("training");
        point.arch = archFromJson(checkpoint.meta.at("arch"));
        point.config = trainConfigFromJson(training.at("config"));
        point.step = jsonField<std::int64_t>(training, "step");
        // The rate the run had reached (halvings included), not the one it started with.
        point.config.learningRate = jsonField<double>(training, "learning_rate");
        validate(point.config);
    } catch (const ConfigError& e) {
        throw ModelFileError(path, briefly(e.what()));
    } catch (const nlohmann::json::exception& e) {
        throw ModelFileError(
            path, fmt::format("the training state is incomplete ({})", briefly(e.what())));
    }
    // Only a hash written as one is compared; anything else counts as not recorded.
    if (const auto p = checkpoint.meta.find("provenance");
        p != checkpoint.meta.end() && p->is_object()) {
        if (const auto h = p->find("dataset_hash"); h != p->end() && h->is_string()) {
            point.datasetHash = h->get<std::string>();
        }
    }
    if (point.step < 0 || point.step > kMaxSteps) {
        throw ModelFileError(
            path, fmt::format("the step {} is out of range (0 to {})", point.step, kMaxSteps));
    }
    return point;
}

ResumePoint readResumePoint(const std::string& path) {
    return resumePoint(readContainerHeader(path), path);
}

namespace {

// Calls visit(name, field) for each plain field of `changes` (the precision and the model kept,
// which are not numbers, apart): the one list both ways through JSON follow.
template <typename Changes, typename Visit>
void eachPlainField(Changes& c, Visit&& visit) {
    visit("steps", c.steps);
    visit("learning_rate", c.learningRate);
    visit("discriminator_lr_scale", c.discriminatorLrScale);
    visit("lr_halve_every", c.lrHalveEvery);
    visit("flip", c.flip);
    visit("rotate_degrees", c.rotateDegrees);
    visit("scale_jitter", c.scaleJitter);
    visit("shift", c.shift);
}

}  // namespace

nlohmann::json toJson(const ResumeChanges& c) {
    nlohmann::json j = nlohmann::json::object();
    eachPlainField(c, [&j](const char* key, const auto& value) {
        if (value) {
            j[key] = *value;
        }
    });
    if (c.precision) {
        j["precision"] = precisionName(*c.precision);
    }
    if (c.keep) {
        j["keep"] = *c.keep == KeepModel::Best ? "best" : "last";
    }
    return j;
}

ResumeChanges resumeChangesFromJson(const nlohmann::json& j) {
    if (!j.is_object()) {
        throw ConfigError("the resume changes are not a set of named values");
    }
    ResumeChanges c;
    eachPlainField(c, [&j](const char* key, auto& field) {
        using T = typename std::decay_t<decltype(field)>::value_type;
        if (const auto found = j.find(key); found != j.end()) {
            field = jsonValue<T>(*found, key);
        }
    });
    if (const auto p = j.find("precision"); p != j.end()) {
        c.precision = precisionFromName(jsonValue<std::string>(*p, "precision"));
    }
    if (const auto k = j.find("keep"); k != j.end()) {
        const std::string keep = jsonValue<std::string>(*k, "keep");
        if (keep != "best" && keep != "last") {
            throw ConfigError(
                fmt::format("keep \"{}\" is neither best nor last", briefly(keep, 20)));
        }
        c.keep = keep == "best" ? KeepModel::Best : KeepModel::Last;
    }
    return c;
}

void change(ResumeChanges& changes, ResumeSetting setting, const TrainConfig& wanted) {
    switch (setting) {
        case ResumeSetting::Steps:
            changes.steps = wanted.steps;
            break;
        case ResumeSetting::LearningRate:
            changes.learningRate = wanted.learningRate;
            break;
        case ResumeSetting::DiscriminatorLrScale:
            changes.discriminatorLrScale = wanted.discriminatorLrScale;
            break;
        case ResumeSetting::LrHalveEvery:
            changes.lrHalveEvery = wanted.lrHalveEvery;
            break;
        case ResumeSetting::Flip:
            changes.flip = wanted.augment.flip;
            break;
        case ResumeSetting::RotateDegrees:
            changes.rotateDegrees = wanted.augment.rotateDegrees;
            break;
        case ResumeSetting::ScaleJitter:
            changes.scaleJitter = wanted.augment.scaleJitter;
            break;
        case ResumeSetting::Shift:
            changes.shift = wanted.augment.shift;
            break;
        case ResumeSetting::Keep:
            changes.keep = wanted.keep;
            break;
    }
}

void applyResumeChanges(Trainer& trainer, const ResumeChanges& changes) {
    TrainConfig next = trainer.config();
    next.steps = changes.steps.value_or(next.steps);
    next.learningRate = changes.learningRate.value_or(trainer.learningRate());
    next.discriminatorLrScale = changes.discriminatorLrScale.value_or(next.discriminatorLrScale);
    next.lrHalveEvery = changes.lrHalveEvery.value_or(next.lrHalveEvery);
    next.precision = changes.precision.value_or(next.precision);
    next.augment.flip = changes.flip.value_or(next.augment.flip);
    next.augment.rotateDegrees = changes.rotateDegrees.value_or(next.augment.rotateDegrees);
    next.augment.scaleJitter = changes.scaleJitter.value_or(next.augment.scaleJitter);
    next.augment.shift = changes.shift.value_or(next.augment.shift);
    next.keep = changes.keep.value_or(next.keep);
    validate(next);
    if (changes.steps && next.steps <= trainer.stepCount()) {
        throw ConfigError(fmt::format(
            "the checkpoint is already at step {}: ask for more steps than that in all (now {})",
            trainer.stepCount(), next.steps));
    }
    // Every check has passed: change all at once.
    trainer.setLearningRates(next.learningRate, next.discriminatorLrScale);
    TrainConfig& config = trainer.config();
    config.steps = next.steps;
    config.lrHalveEvery = next.lrHalveEvery;
    config.precision = next.precision;
    config.augment = next.augment;
    config.keep = next.keep;
}

std::string describeResume(const Trainer& trainer, const std::string& checkpointPath) {
    return fmt::format(
        "resuming {} at step {} of {}, learning rate {:g} (the discriminator's {:g} times that), "
        "{} (its architecture and other settings come from the checkpoint)",
        checkpointPath, trainer.stepCount(), trainer.config().steps, trainer.learningRate(),
        trainer.config().discriminatorLrScale, precisionName(trainer.config().precision));
}

std::string resumeDataWarning(const ResumePoint& point, const Dataset& data) {
    return !point.datasetHash.empty() && point.datasetHash != data.hash
               ? "these images differ from the ones the checkpoint was trained on"
               : std::string();
}

}  // namespace cattery
