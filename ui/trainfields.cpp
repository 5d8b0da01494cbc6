#include "ui/trainfields.h"

#include <limits>
#include <type_traits>

#include <QtGlobal>

namespace cattery::ui {
namespace {

using Kind = TrainField::Kind;

// An integer or real field of the architecture or the training settings, by member.
template <typename Config, typename Value>
TrainField field(const char* key, const char* label, const char* tip, Kind kind, double lo,
                 double hi, Value Config::*member) {
    TrainField f;
    f.key = key;
    f.label = label;
    f.tip = tip;
    f.kind = kind;
    f.lo = lo;
    f.hi = hi;
    if constexpr (std::is_same_v<Config, ArchConfig>) {
        f.get = [member](const ArchConfig& a, const TrainConfig&) {
            return static_cast<double>(a.*member);
        };
        f.set = [member](ArchConfig& a, TrainConfig&, double v) {
            a.*member = static_cast<Value>(v);
        };
    } else if constexpr (std::is_same_v<Config, TrainConfig>) {
        f.get = [member](const ArchConfig&, const TrainConfig& c) {
            return static_cast<double>(c.*member);
        };
        f.set = [member](ArchConfig&, TrainConfig& c, double v) {
            c.*member = static_cast<Value>(v);
        };
    } else if constexpr (std::is_same_v<Config, DiscriminatorAugment>) {
        f.get = [member](const ArchConfig&, const TrainConfig& c) {
            return static_cast<double>(c.diffAugment.*member);
        };
        f.set = [member](ArchConfig&, TrainConfig& c, double v) {
            c.diffAugment.*member = static_cast<Value>(v);
        };
    } else {
        f.get = [member](const ArchConfig&, const TrainConfig& c) {
            return static_cast<double>(c.augment.*member);
        };
        f.set = [member](ArchConfig&, TrainConfig& c, double v) {
            c.augment.*member = static_cast<Value>(v);
        };
    }
    return f;
}

TrainField real(TrainField f, int decimals, double step) {
    f.decimals = decimals;
    f.step = step;
    return f;
}

TrainField shown(TrainField f) {
    f.advanced = false;
    return f;
}

TrainField changeable(TrainField f) {
    f.checkpoint = false;
    return f;
}

TrainField special(TrainField f, const char* text) {
    f.special = text;
    return f;
}

// A switch between two values of an enum member of the training settings: `on` when checked.
template <typename Enum>
TrainField choice(const char* key, const char* label, const char* tip, Enum TrainConfig::*member,
                  Enum on, Enum off) {
    TrainField f;
    f.key = key;
    f.label = label;
    f.tip = tip;
    f.kind = Kind::Switch;
    f.get = [member, on](const ArchConfig&, const TrainConfig& c) {
        return c.*member == on ? 1.0 : 0.0;
    };
    f.set = [member, on, off](ArchConfig&, TrainConfig& c, double v) {
        c.*member = v != 0.0 ? on : off;
    };
    return f;
}

std::vector<TrainField> makeFields() {
    constexpr double kMaxInt = std::numeric_limits<int>::max();
    constexpr double kLongest = 10000000;  // steps and intervals: a spin box's int, and plenty
    return {
        shown(field("imageSize", QT_TR_NOOP("Image size:"),
                    QT_TR_NOOP("Image size: 32, 48, 64, 80, 96 or 128"), Kind::Integer,
                    kImageSizes.front(), kImageSizes.back(), &ArchConfig::imageSize)),
        changeable(shown(field("steps", QT_TR_NOOP("Steps:"), QT_TR_NOOP("Steps in all"),
                               Kind::Integer, 1, kLongest, &TrainConfig::steps))),
        field("latent", QT_TR_NOOP("Latent:"), QT_TR_NOOP("Latent dimension (the demo: 100)"),
              Kind::Integer, kLatentDimRange.lo, kLatentDimRange.hi, &ArchConfig::latentDim),
        field("nf", QT_TR_NOOP("Generator width:"),
              QT_TR_NOOP("Generator width: stages of 8, 4, 2 and 1 times this"), Kind::Integer,
              kNfRange.lo, kNfRange.hi, &ArchConfig::nf),
        field("ndf", QT_TR_NOOP("Discriminator width:"),
              QT_TR_NOOP("Discriminator filters per convolution"), Kind::Integer, kNdfRange.lo,
              kNdfRange.hi, &ArchConfig::ndf),
        field("batch", QT_TR_NOOP("Batch:"), QT_TR_NOOP("Images per step (the demo: 16)"),
              Kind::Integer, 1, kMaxBatchSize, &TrainConfig::batchSize),
        changeable(
            real(field("learningRate", QT_TR_NOOP("Learning rate:"),
                       QT_TR_NOOP("Adam learning rate of the generator (the demo: 1e-4 to 1e-3)"),
                       Kind::Real, 1e-6, kMaxLearningRate, &TrainConfig::learningRate),
                 6, 1e-5)),
        changeable(real(
            field("discriminatorRate", QT_TR_NOOP("Discriminator rate x:"),
                  QT_TR_NOOP("The discriminator's learning rate as a multiple of the "
                             "generator's (two time-scale updates; 1: the same rate)"),
                  Kind::Real, 0.01, kMaxDiscriminatorLrScale, &TrainConfig::discriminatorLrScale),
            2, 0.5)),
        real(field("gamma", QT_TR_NOOP("Gamma:"),
                   QT_TR_NOOP("BEGAN gamma: lower gives sharper, less varied pictures (the demo: "
                              "0.7 to 0.8; 1.0 scores closer to the data in our runs)"),
                   Kind::Real, 0.05, kMaxGamma, &TrainConfig::gamma),
             2, 0.05),
        real(field("lambdaK", QT_TR_NOOP("lambda_k:"),
                   QT_TR_NOOP("How fast k_t follows the balance between the two losses"),
                   Kind::Real, 0.0, kMaxLambdaK, &TrainConfig::lambdaK),
             4, 0.001),
        field("sampleEvery", QT_TR_NOOP("Samples every:"),
              QT_TR_NOOP("Refresh the sample grid every N steps"), Kind::Integer, 1, kLongest,
              &TrainConfig::sampleEvery),
        field("checkpointEvery", QT_TR_NOOP("Checkpoint every:"),
              QT_TR_NOOP("Save a checkpoint and a snapshot every N steps"), Kind::Integer, 1,
              kLongest, &TrainConfig::checkpointEvery),
        field("seed", QT_TR_NOOP("Seed:"),
              QT_TR_NOOP("Seed of the weights, batches and sample latents"), Kind::Integer, 0,
              kMaxInt, &TrainConfig::seed),
        field("bottleneck", QT_TR_NOOP("Bottleneck:"),
              QT_TR_NOOP("Size of the discriminator's fully connected code (BEGAN's h)"),
              Kind::Integer, kBottleneckRange.lo, kBottleneckRange.hi, &ArchConfig::bottleneck),
        field("repeats", QT_TR_NOOP("Repeats:"), QT_TR_NOOP("Convolutions per stage"),
              Kind::Integer, kRepeatsRange.lo, kRepeatsRange.hi, &ArchConfig::repeats),
        real(field("beta1", QT_TR_NOOP("Adam beta1:"), QT_TR_NOOP("Adam beta1 (the demo: 0.5)"),
                   Kind::Real, 0.0, 0.999, &TrainConfig::beta1),
             3, 0.05),
        real(field("beta2", QT_TR_NOOP("Adam beta2:"), QT_TR_NOOP("Adam beta2"), Kind::Real, 0.0,
                   0.9999, &TrainConfig::beta2),
             4, 0.001),
        real(field("average", QT_TR_NOOP("Weight average:"),
                   QT_TR_NOOP("The model is a running average of the generator's weights, each "
                              "step keeping this much of the average (0: the last step's "
                              "weights). Steadier scores and smoother, more finished pictures "
                              "than any one step's weights."),
                   Kind::Real, 0.0, 0.9999, &TrainConfig::averageDecay),
             4, 0.001),
        changeable(field("lrHalveEvery", QT_TR_NOOP("Halve lr every:"),
                         QT_TR_NOOP("Halve the learning rate every N steps (0: never)"),
                         Kind::Integer, 0, kLongest, &TrainConfig::lrHalveEvery)),
        field("lrStall", QT_TR_NOOP("Halve lr after a stall of:"),
              QT_TR_NOOP("Halve the learning rate when the score (or M, when the run is not "
                         "scored) has not improved for N steps (0: never, the default: the weight "
                         "average does the smoothing)"),
              Kind::Integer, 0, kLongest, &TrainConfig::lrStallSteps),
        real(field("minLearningRate", QT_TR_NOOP("Lowest lr:"),
                   QT_TR_NOOP("Never halve the learning rate below this"), Kind::Real, 1e-7, 1e-2,
                   &TrainConfig::minLearningRate),
             7, 1e-6),
        field("sampleCount", QT_TR_NOOP("Sample count:"),
              QT_TR_NOOP("How many fixed sample latents the sample grid shows"), Kind::Integer, 1,
              kMaxSampleCount, &TrainConfig::sampleCount),
        field("maxRollbacks", QT_TR_NOOP("Rollbacks before giving up:"),
              QT_TR_NOOP("NaN rollbacks in a row before training gives up"), Kind::Integer, 0, 100,
              &TrainConfig::maxRollbacks),
        changeable(
            real(field("rotate", QT_TR_NOOP("Rotation:"),
                       QT_TR_NOOP("Turn images by up to this many degrees either way (0: off)"),
                       Kind::Real, 0.0, kMaxRotateDegrees, &AugmentConfig::rotateDegrees),
                 1, 1.0)),
        changeable(real(field("zoom", QT_TR_NOOP("Zoom:"),
                              QT_TR_NOOP("Zoom in or out by up to this fraction (0: off)"),
                              Kind::Real, 0.0, kMaxScaleJitter, &AugmentConfig::scaleJitter),
                        2, 0.01)),
        changeable(real(
            field("shift", QT_TR_NOOP("Shift:"),
                  QT_TR_NOOP("Move by up to this fraction of the size, a random crop (0: off)"),
                  Kind::Real, 0.0, kMaxShift, &AugmentConfig::shift),
            2, 0.01)),
        field("batchNorm", QT_TR_NOOP("Batch norm in the generator"), "", Kind::Switch, 0, 1,
              &ArchConfig::batchNorm),
        field("separable", QT_TR_NOOP("Depthwise-separable convolutions (faster, smaller)"), "",
              Kind::Switch, 0, 1, &ArchConfig::separable),
        field("zSkip", QT_TR_NOOP("A map of z after each generator stage (the demo's z skip)"), "",
              Kind::Switch, 0, 1, &ArchConfig::zSkip),
        field("smoothZMap",
              QT_TR_NOOP("Smooth z map (off: its cells repeated, as in earlier versions)"),
              QT_TR_NOOP("Upsample the map of z bilinearly between stages; repeated cells show as "
                         "squares on 64x64 pictures"),
              Kind::Switch, 0, 1, &ArchConfig::smoothZMap),
        field("normalizeZ",
              QT_TR_NOOP("Draw every latent at a random one's length (off: as earlier versions)"),
              QT_TR_NOOP("Only the direction of a latent matters, so the grid's mixes of corners, "
                         "arithmetic results and truncated samples are drawn like the random "
                         "latents the generator learns from"),
              Kind::Switch, 0, 1, &ArchConfig::normalizeZ),
        field("normalizeZInTraining",
              QT_TR_NOOP("Scale the latents in training too (off: recommended)"),
              QT_TR_NOOP("Off, the generator learns from random latents as they come and is "
                         "drawn scaled afterwards: on procedural cats, two runs of three learnt "
                         "closer to the data that way. Only with the switch above"),
              Kind::Switch, 0, 1, &ArchConfig::normalizeZInTraining),
        changeable(field("flip", QT_TR_NOOP("Mirror images at random"), "", Kind::Switch, 0, 1,
                         &AugmentConfig::flip)),
        field("autoAugment",
              QT_TR_NOOP("Choose the discriminator's augmentation for the folder (recommended)"),
              QT_TR_NOOP("Below 10,000 images the discriminator would learn the folder by heart "
                         "and the generator collapse: it then sees its images with colour changes, "
                         "moves and blanked squares, half of them with the hinge loss, as often "
                         "as it needs with BEGAN. Turn off to choose below"),
              Kind::Switch, 0, 1, &TrainConfig::autoAugment),
        field("diffColor",
              QT_TR_NOOP("Discriminator sees colour changes (brightness, saturation, contrast)"),
              QT_TR_NOOP("Augments what the discriminator sees, real and generated images alike, "
                         "so that it cannot learn a small folder by heart (DiffAugment)"),
              Kind::Switch, 0, 1, &DiscriminatorAugment::color),
        field("diffTranslation", QT_TR_NOOP("Discriminator sees images moved (up to 1/8)"),
              QT_TR_NOOP("Augments what the discriminator sees, real and generated images alike, "
                         "so that it cannot learn a small folder by heart (DiffAugment)"),
              Kind::Switch, 0, 1, &DiscriminatorAugment::translation),
        field("diffCutout", QT_TR_NOOP("Discriminator sees a square blanked out"),
              QT_TR_NOOP("Augments what the discriminator sees, real and generated images alike, "
                         "so that it cannot learn a small folder by heart (DiffAugment)"),
              Kind::Switch, 0, 1, &DiscriminatorAugment::cutout),
        real(field("augmentP", QT_TR_NOOP("Augmentation chance:"),
                   QT_TR_NOOP("The chance each image the discriminator sees is augmented; where it "
                              "starts when adjusted as training goes"),
                   Kind::Real, 0.0, 1.0, &DiscriminatorAugment::probability),
             2, 0.05),
        field("adaptiveAugment", QT_TR_NOOP("Adjust the augmentation chance as training goes"),
              QT_TR_NOOP("Raises the chance while the discriminator rebuilds its training images "
                         "better than a tenth of the folder it never trains on (it is memorising "
                         "them), and lowers it otherwise"),
              Kind::Switch, 0, 1, &DiscriminatorAugment::adaptive),
        special(field("scoreEvery", QT_TR_NOOP("Score every:"),
                      QT_TR_NOOP("How often the generator's samples are compared with a tenth of "
                                 "the folder it never trains on (SWD and variety, as cattery-cli "
                                 "eval scores). Automatic keeps it near 5 % of the time; 0: never"),
                      Kind::Integer, static_cast<double>(kAutoScoreEvery), kLongest,
                      &TrainConfig::scoreEvery),
                QT_TR_NOOP("Automatic")),
        changeable(choice("keepBest",
                          QT_TR_NOOP("Keep the best-scoring generator (not the last step's)"),
                          QT_TR_NOOP("The model file gets the latest generator whose samples "
                                     "came almost as close to the held-out images as the "
                                     "closest of the run's later half. Early smooth shapes can "
                                     "score better, but later cats have faces. Off: the last "
                                     "step's"),
                          &TrainConfig::keep, KeepModel::Best, KeepModel::Last)),
        choice("hinge",
               QT_TR_NOOP("Judge real or fake with a head on the discriminator (hinge loss)"),
               QT_TR_NOOP("Off: BEGAN, the demo's game of reconstruction errors. On: the "
                          "discriminator also says real or fake from its code, and keeps "
                          "rebuilding the real images as a task of its own, as FastGAN does"),
               &TrainConfig::objective, Objective::Hinge, Objective::Began),
        field("patchVerdict", QT_TR_NOOP("Judge every part of a picture too"),
              QT_TR_NOOP("With the hinge loss: the discriminator also says real or fake for each "
                         "cell of a grid over the picture (each an eighth of its width), so that "
                         "every part of it has to look real, not only the whole"),
              Kind::Switch, 0, 1, &TrainConfig::patchVerdict),
        real(field("variety", QT_TR_NOOP("Variety weight:"),
                   QT_TR_NOOP("Pushes the generator's pictures apart whenever a batch of them is "
                              "less varied than a batch of the folder's, so that it cannot settle "
                              "on a few pictures; 0: off"),
                   Kind::Real, 0.0, kMaxVarietyWeight, &TrainConfig::varietyWeight),
             2, 0.25),
        real(field("cover", QT_TR_NOOP("Cover weight:"),
                   QT_TR_NOOP("With the hinge loss: the generator also learns to draw each picture "
                              "of the folder from a latent proposed for it, so that every picture "
                              "has a place in the latent space and finding a picture's cat gets "
                              "closer; 0: off"),
                   Kind::Real, 0.0, kMaxCoverWeight, &TrainConfig::coverWeight),
             2, 1.0),
        field("collapseGuard", QT_TR_NOOP("Go back to the best model when the samples collapse"),
              QT_TR_NOOP("When a score shows the samples all alike, or two scores running are far "
                         "worse than the best of the run's later half, training returns to the "
                         "best state with a lower learning rate and stronger augmentation; after "
                         "a few tries it stops, the best model saved"),
              Kind::Switch, 0, 1, &TrainConfig::collapseGuard),
    };
}

}  // namespace

const std::vector<TrainField>& trainFields() {
    static const std::vector<TrainField> fields = makeFields();
    return fields;
}

}  // namespace cattery::ui
