#include "core/train/trainconfig.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/errors.h"
#include "core/io/jsonfield.h"

namespace cattery {

const char* objectiveName(Objective objective) {
    return objective == Objective::Hinge ? "hinge" : "began";
}

Objective objectiveFromName(const std::string& name) {
    if (name == "began") {
        return Objective::Began;
    }
    if (name == "hinge") {
        return Objective::Hinge;
    }
    throw ConfigError(fmt::format("the objective is \"{}\" (began or hinge)", name));
}

void validate(const TrainConfig& c) {
    auto check = [](bool ok, const std::string& what) {
        if (!ok) {
            throw ConfigError(what);
        }
    };
    check(c.batchSize >= 1 && c.batchSize <= kMaxBatchSize,
          fmt::format("batch size {} is out of range (1 to {})", c.batchSize, kMaxBatchSize));
    check(c.learningRate > 0 && c.learningRate <= kMaxLearningRate,
          fmt::format("learning rate {} is out of range (0 to {}]", c.learningRate,
                      kMaxLearningRate));
    check(c.discriminatorLrScale > 0 && c.discriminatorLrScale <= kMaxDiscriminatorLrScale &&
              c.learningRate * c.discriminatorLrScale <= kMaxLearningRate,
          fmt::format("the discriminator's learning-rate multiple {} is out of range (0 to {}, "
                      "and at most {} / learning rate)",
                      c.discriminatorLrScale, kMaxDiscriminatorLrScale, kMaxLearningRate));
    check(c.beta1 >= 0 && c.beta1 < 1 && c.beta2 >= 0 && c.beta2 < 1,
          "Adam betas must lie in [0, 1)");
    check(c.gamma > 0 && c.gamma <= kMaxGamma,
          fmt::format("gamma {} is out of range (0 to {}]", c.gamma, kMaxGamma));
    check(c.lambdaK >= 0 && c.lambdaK <= kMaxLambdaK,
          fmt::format("lambda_k {} is out of range [0, {}]", c.lambdaK, kMaxLambdaK));
    check(c.steps >= 0 && c.steps <= kMaxSteps,
          fmt::format("the number of steps {} is out of range (0 to {})", c.steps, kMaxSteps));
    check(c.lrHalveEvery >= 0 && c.lrStallSteps >= 0, "learning-rate schedules cannot be negative");
    check(c.minLearningRate > 0, "the minimum learning rate must be positive");
    check(c.sampleEvery >= 0 && c.checkpointEvery >= 0,
          "sample and checkpoint intervals cannot be negative");
    check(c.sampleCount >= 1 && c.sampleCount <= kMaxSampleCount,
          fmt::format("sample count {} is out of range (1 to {})", c.sampleCount, kMaxSampleCount));
    check(c.maxRollbacks >= 0, "the rollback limit cannot be negative");
    check(c.augment.rotateDegrees >= 0 && c.augment.rotateDegrees <= kMaxRotateDegrees,
          fmt::format("rotation must lie in 0 to {} degrees", kMaxRotateDegrees));
    check(c.augment.scaleJitter >= 0 && c.augment.scaleJitter <= kMaxScaleJitter,
          fmt::format("scale jitter must lie in 0 to {}", kMaxScaleJitter));
    check(c.augment.shift >= 0 && c.augment.shift <= kMaxShift,
          fmt::format("shift must lie in 0 to {}", kMaxShift));
    const DiscriminatorAugment& d = c.diffAugment;
    check(d.probability >= 0 && d.probability <= 1,
          fmt::format("the augmentation probability {} is out of range [0, 1]", d.probability));
    check(d.target >= 1 && d.target <= 10,
          fmt::format("the augmentation target {} is out of range [1, 10]", d.target));
    check(c.scoreEvery >= kAutoScoreEvery, "the scoring interval cannot be negative");
    check(c.reconstructionWeight >= 0 && c.reconstructionWeight <= 100,
          fmt::format("the reconstruction weight {} is out of range [0, 100]",
                      c.reconstructionWeight));
    check(c.varietyWeight >= 0 && c.varietyWeight <= kMaxVarietyWeight,
          fmt::format("the variety weight {} is out of range [0, {}]", c.varietyWeight,
                      kMaxVarietyWeight));
    check(
        c.coverWeight >= 0 && c.coverWeight <= kMaxCoverWeight,
        fmt::format("the cover weight {} is out of range [0, {}]", c.coverWeight, kMaxCoverWeight));
    check(c.coverWeight == 0 || c.objective == Objective::Hinge,
          "the cover term needs the hinge objective (its head is on the discriminator's code)");
    check(c.averageDecay >= 0 && c.averageDecay < 1,
          fmt::format("the generator average's decay {} is out of range [0, 1)", c.averageDecay));
}

std::int64_t heldOutCount(std::int64_t images) {
    const std::int64_t held = std::min(kMaxHeldOut, images / 10);
    return images - held >= kMinTrainingImages ? held : 0;
}

DiscriminatorAugment folderAugment(std::int64_t images, Objective objective) {
    DiscriminatorAugment d;
    if (images < kAutoAugmentBelow) {
        d.color = d.translation = d.cutout = true;
        // Without images to hold out, every image is augmented, as DiffAugment trains on 100
        // pictures. With them, BEGAN's p starts at 0 and follows the overfitting signal; the hinge
        // objective's is fixed (kHingeAugmentProbability says why).
        if (heldOutCount(images) == 0) {
            d.probability = 1.0;
        } else if (objective == Objective::Hinge) {
            d.probability = kHingeAugmentProbability;
        } else {
            d.adaptive = true;
            d.probability = 0.0;
        }
    }
    return d;
}

std::int64_t autoScoreEvery(int batchSize) {
    // One score generates kScoreSamples pictures and compares their patches with the reference's.
    // Measured with the default networks on two CPU cores (two threads, nothing else running), it
    // took as long as 23 steps of a batch of 16 at 32x32 and 12 at 64x64 (the steps grow faster
    // with the size than the score), so twenty times 25 steps keep scoring near 5 % at every size.
    // Rounded up to 250 steps. (One thread a run on a crowded machine measured 10-13 %, with a
    // score twice as costly as now: tests/bench/RESULTS.md.)
    constexpr double kStepsPerScore = 25;
    const double stepsPerScore = kStepsPerScore * 16.0 / std::max(1, batchSize);
    const auto every = static_cast<std::int64_t>(std::ceil(stepsPerScore * 20 / 250.0)) * 250;
    return std::max<std::int64_t>(250, every);
}

TrainConfig resolvedConfig(TrainConfig c, std::int64_t images) {
    if (c.autoAugment) {
        c.diffAugment = folderAugment(images, c.objective);
        c.autoAugment = false;
    }
    if (c.scoreEvery == kAutoScoreEvery) {
        c.scoreEvery = autoScoreEvery(c.batchSize);
    }
    return c;
}

std::string describeSafeguards(const TrainConfig& config, std::int64_t images) {
    const TrainConfig c = resolvedConfig(config, images);
    const DiscriminatorAugment& d = c.diffAugment;
    // One objective for every folder: on 300 and 2,000 cats at 32x32 and on Twemoji at 64x64 the
    // hinge objective with the variety term beat BEGAN (tests/bench/RESULTS.md), so no size rule.
    std::string out = c.objective == Objective::Hinge
                          ? "the generator learns against a real-or-fake judge (hinge objective)"
                          : "the generator learns against an autoencoder judge (BEGAN)";
    if (c.varietyWeight > 0) {
        out += fmt::format(" with a variety term of {:g}", c.varietyWeight);
    }
    if (c.covers()) {
        out += fmt::format(
            "; it also learns to draw each real picture from a latent proposed for it (cover "
            "term {:g})",
            c.coverWeight);
    }
    if (c.judgesCells()) {
        out += "; the judge gives a verdict on each cell of the picture as well as the whole";
    }
    if (c.averageDecay > 0) {
        out +=
            fmt::format("; the model is a running average of the generator's weights (decay {:g})",
                        c.averageDecay);
    }
    out += "; ";
    if (d.any()) {
        std::vector<std::string> ops;
        for (const auto& [on, name] :
             {std::pair{d.color, "colour"}, std::pair{d.translation, "translation"},
              std::pair{d.cutout, "cutout"}}) {
            if (on) {
                ops.emplace_back(name);
            }
        }
        out += fmt::format(
            "the discriminator sees its images augmented ({}), {}", fmt::join(ops, ", "),
            d.adaptive             ? "as often as it needs to stop learning them by heart"
            : d.probability >= 1.0 ? std::string("every one of them")
                                   : fmt::format("each with probability {:.2f}", d.probability));
    } else {
        out += "the discriminator sees its images as they are";
    }
    if (config.autoAugment) {
        out += fmt::format(" (chosen for {} images)", images);
    }
    const std::int64_t held = heldOutCount(images);
    if (c.scoreEvery > 0) {
        out += held > 0 ? fmt::format("; scored every {} steps against {} held-out images",
                                      c.scoreEvery, held)
                        : fmt::format(
                              "; scored every {} steps against the training images (too "
                              "few to hold any out)",
                              c.scoreEvery);
        out += c.keep == KeepModel::Best
                   ? fmt::format(
                         "; the model file keeps the latest generator within {:g} % of the "
                         "best score of the run's later half",
                         kKeepLaterWithin * 100)
                   : std::string("; the model file keeps the last step's generator");
        if (c.collapseGuard) {
            out += "; a collapse goes back to the best";
        }
    } else {
        out += "; not scored, so the model file keeps the last step's generator";
    }
    return out;
}

nlohmann::json toJson(const TrainConfig& c) {
    return {{"batch_size", c.batchSize},
            {"learning_rate", c.learningRate},
            {"discriminator_lr_scale", c.discriminatorLrScale},
            {"beta1", c.beta1},
            {"beta2", c.beta2},
            {"gamma", c.gamma},
            {"lambda_k", c.lambdaK},
            {"steps", c.steps},
            {"lr_halve_every", c.lrHalveEvery},
            {"lr_stall_steps", c.lrStallSteps},
            {"min_learning_rate", c.minLearningRate},
            {"sample_every", c.sampleEvery},
            {"sample_count", c.sampleCount},
            {"checkpoint_every", c.checkpointEvery},
            {"seed", c.seed},
            {"max_rollbacks", c.maxRollbacks},
            {"augment",
             {{"flip", c.augment.flip},
              {"rotate_degrees", c.augment.rotateDegrees},
              {"scale_jitter", c.augment.scaleJitter},
              {"shift", c.augment.shift}}},
            {"diff_augment",
             {{"color", c.diffAugment.color},
              {"translation", c.diffAugment.translation},
              {"cutout", c.diffAugment.cutout},
              {"probability", c.diffAugment.probability},
              {"adaptive", c.diffAugment.adaptive},
              {"target", c.diffAugment.target}}},
            {"auto_augment", c.autoAugment},
            {"score_every", c.scoreEvery},
            {"keep", c.keep == KeepModel::Best ? "best" : "last"},
            {"collapse_guard", c.collapseGuard},
            {"objective", objectiveName(c.objective)},
            {"reconstruction_weight", c.reconstructionWeight},
            {"patch_verdict", c.patchVerdict},
            {"variety_weight", c.varietyWeight},
            {"cover_weight", c.coverWeight},
            {"precision", precisionName(c.precision)},
            {"average_decay", c.averageDecay}};
}

TrainConfig trainConfigFromJson(const nlohmann::json& j) {
    TrainConfig c;
    c.batchSize = jsonField<int>(j, "batch_size");
    c.learningRate = jsonField<double>(j, "learning_rate");
    c.discriminatorLrScale =
        jsonField<double>(j, "discriminator_lr_scale", 1.0);  // older files: one rate
    c.beta1 = jsonField<double>(j, "beta1");
    c.beta2 = jsonField<double>(j, "beta2");
    c.gamma = jsonField<double>(j, "gamma");
    c.lambdaK = jsonField<double>(j, "lambda_k");
    c.steps = jsonField<std::int64_t>(j, "steps");
    c.lrHalveEvery = jsonField<std::int64_t>(j, "lr_halve_every");
    c.lrStallSteps = jsonField<std::int64_t>(j, "lr_stall_steps");
    c.minLearningRate = jsonField<double>(j, "min_learning_rate");
    c.sampleEvery = jsonField<std::int64_t>(j, "sample_every");
    c.sampleCount = jsonField<int>(j, "sample_count");
    c.checkpointEvery = jsonField<std::int64_t>(j, "checkpoint_every");
    c.seed = jsonField<std::uint64_t>(j, "seed");
    c.maxRollbacks = jsonField<int>(j, "max_rollbacks");
    const auto& a = j.at("augment");
    c.augment.flip = jsonField<bool>(a, "flip");
    c.augment.rotateDegrees = jsonField<double>(a, "rotate_degrees");
    c.augment.scaleJitter = jsonField<double>(a, "scale_jitter");
    c.augment.shift = jsonField<double>(a, "shift");
    if (const auto d = j.find("diff_augment"); d != j.end()) {  // older files: none
        c.diffAugment.color = jsonField<bool>(*d, "color");
        c.diffAugment.translation = jsonField<bool>(*d, "translation");
        c.diffAugment.cutout = jsonField<bool>(*d, "cutout");
        c.diffAugment.probability = jsonField<double>(*d, "probability");
        c.diffAugment.adaptive = jsonField<bool>(*d, "adaptive");
        c.diffAugment.target = jsonField<double>(*d, "target");
    }
    c.precision = precisionFromName(
        jsonField<std::string>(j, "precision", std::string("fp32")));  // older files: float32
    c.averageDecay = jsonField<double>(j, "average_decay", 0.0);       // older files: no average
    // Older files: neither scored nor guarded, the last generator kept, augmentation as stored.
    c.autoAugment = jsonField<bool>(j, "auto_augment", false);
    c.scoreEvery = jsonField<std::int64_t>(j, "score_every", std::int64_t{0});
    const std::string keep = jsonField<std::string>(j, "keep", std::string("last"));
    if (keep != "best" && keep != "last") {
        throw ConfigError(fmt::format("the model to keep is \"{}\" (best or last)", keep));
    }
    c.keep = keep == "best" ? KeepModel::Best : KeepModel::Last;
    c.collapseGuard = jsonField<bool>(j, "collapse_guard", false);
    c.objective = objectiveFromName(
        jsonField<std::string>(j, "objective", std::string("began")));  // older files: BEGAN
    c.reconstructionWeight = jsonField<double>(j, "reconstruction_weight", 1.0);
    c.patchVerdict = jsonField<bool>(j, "patch_verdict", false);    // older files: the code's alone
    c.varietyWeight = jsonField<double>(j, "variety_weight", 0.0);  // older files: no variety term
    c.coverWeight = jsonField<double>(j, "cover_weight", 0.0);      // older files: no cover term
    validate(c);
    return c;
}

}  // namespace cattery
