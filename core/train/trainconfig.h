#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/data/augmentconfig.h"
#include "core/runtime/precision.h"

namespace cattery {

// Which generator a run's model file holds: the best-scoring one, or the last step's.
enum class KeepModel { Best, Last };

// The generator kept as the best is the latest whose score is within this fraction of the run's
// recent best (Trainer::recentBestScore: the lowest score of the later half of the run so far),
// not only the lowest itself. Early in a run on a small folder the generator draws smooth grey
// shapes, and the score's patch statistics rank them closer to the data than the cats with ears,
// eyes and a mouth that later steps draw (300 cats at 64x64, seed 1: the shapes of step 1,500
// scored 92.9 and the faces of step 10,000 105.0; tests/bench/RESULTS.md). Among scores this close
// the further-trained generator is kept; the margin is well beyond a score's own spread from one
// draw of samples to the next (2 to 3 %). It is measured from the later half's lowest score, not
// from the whole run's, because an early dip can lie far below everything after it (2,000 cats at
// 64x64 with latents at typical length: shapes at 81.9 at step 1,500, cats with faces at 118 to
// 146 from step 2,000 on), and not from the one kept before, which would let the kept score creep
// upwards from one kept generator to the next.
inline constexpr double kKeepLaterWithin = 0.15;

// What the networks play: BEGAN's balance of reconstruction errors (the demo's), or a hinge loss on
// a real-or-fake head of the discriminator's code with the reconstruction of the real images kept
// as the discriminator's own task (as FastGAN's discriminator does).
enum class Objective { Began, Hinge };
const char* objectiveName(Objective objective);        // "began", "hinge"
Objective objectiveFromName(const std::string& name);  // throws ConfigError

// TrainConfig::scoreEvery's value for "choose from the image size" (autoScoreEvery).
inline constexpr std::int64_t kAutoScoreEvery = -1;

// Every knob of a training run. The networks' update is BEGAN's (the original demo's) or a hinge
// objective on the same networks; most defaults are the demo's.
struct TrainConfig {
    int batchSize = 16;          // images per step
    double learningRate = 1e-4;  // Adam step size of the generator
    // The discriminator's step size as a multiple of the generator's (two time-scale updates).
    // A faster discriminator rebuilds the data sooner, but on (a larger-eyed variant of) the
    // procedural cats 3x scored worse and 5x collapsed (models/README.md), so both networks share
    // one rate unless asked.
    double discriminatorLrScale = 1.0;
    double beta1 = 0.5;    // Adam first-moment decay
    double beta2 = 0.999;  // Adam second-moment decay
    // BEGAN's diversity ratio: lower = sharper, less varied. The demo used 0.7 to 0.8; with 1.0
    // every shipped model scored much closer to its data (README: The model).
    double gamma = 1.0;
    // How fast k_t follows the balance. BEGAN's 0.001 leaves k_t near 0 for the first thousands
    // of steps, and meanwhile the generator collapses onto the one picture the discriminator
    // rebuilds best; 0.01 lets k_t push back within a few hundred steps.
    double lambdaK = 0.01;
    std::int64_t steps = 10000;     // steps to train in all
    std::int64_t lrHalveEvery = 0;  // halve the learning rate every N steps (0 = never)
    // Halve it when the run has not improved for N steps (0 = never): its score when it is scored,
    // else the smoothed M. Off by default: with the weight average below, a run on 300 cats at
    // 64x64 whose rate halved behind an early best drew worse cats to the end (scores 141-152
    // against 121-124 at a constant rate), and the average smooths what halving the rate did
    // (tests/bench/RESULTS.md).
    std::int64_t lrStallSteps = 0;
    double minLearningRate = 1e-6;   // never halve below this
    std::int64_t sampleEvery = 250;  // render the fixed sample latents every N steps (0 = never)
    int sampleCount = 16;            // how many fixed sample latents
    std::int64_t checkpointEvery = 1000;  // save a checkpoint every N steps (0 = only at the end)
    std::uint64_t seed = 1;               // initial weights, batches, latents and augmentation
    int maxRollbacks = 8;                 // NaN rollbacks to one good state before giving up
    AugmentConfig augment;                // data augmentation
    DiscriminatorAugment diffAugment;     // what the discriminator sees, augmented (off: none)
    // Choose diffAugment from the folder's size and the objective when the run starts
    // (folderAugment); the run then stores what it chose, with this off.
    bool autoAugment = true;
    // Score the generator every N steps against held-out images (0: never; kAutoScoreEvery:
    // autoScoreEvery's choice, resolved when the run starts).
    std::int64_t scoreEvery = kAutoScoreEvery;
    KeepModel keep = KeepModel::Best;  // the model file: the best-scoring generator or the last
    // When a score shows collapse, go back to the best state with a lower learning rate and more
    // augmentation (the trainer's collapse guard).
    bool collapseGuard = true;
    // New runs judge real or fake with a hinge loss on a head of the discriminator's code and
    // push the generator's pictures apart with the variety term. Under BEGAN, with or without
    // DiffAugment, a lower learning rate or a wider generator, 2,000 procedural cats at 32x32
    // collapsed onto one grey cat by step 1,000; the hinge objective alone collapsed too, and the
    // variety term alone under BEGAN spread dark blobs; together they drew varied cats in every
    // pose (tests/bench/RESULTS.md). Files written before either existed read as BEGAN without it.
    Objective objective = Objective::Hinge;
    // Hinge: the weight of the discriminator's reconstruction task beside its verdicts.
    double reconstructionWeight = 1.0;
    // Hinge: judge each cell of the discriminator's last grid as well as the whole picture's code
    // (DiscriminatorImpl::addPatchHead), so that every part of a picture has to look real.
    bool patchVerdict = false;
    // Whether the discriminator has the cells' head: patchVerdict counts under the hinge only.
    bool judgesCells() const { return objective == Objective::Hinge && patchVerdict; }
    // The weight of the generator's variety term, which pushes apart its pictures whenever a batch
    // of them is less varied than the real batch (varietyShortfall in trainer.h). 0: off.
    double varietyWeight = 1.0;
    // Hinge: the weight of the cover term, 0 for none. A head on the discriminator's code
    // proposes a latent for each real picture of the batch (DiscriminatorImpl::addLatentHead),
    // and the generator learns to draw the picture from it (the mean absolute difference of the
    // pixels), while the proposals are kept spread like random latents (their batch's mean near 0
    // and each value's variance near 1). Every training picture is so tied to a place in the
    // latent space, where the adversarial game alone leaves some out: finding a picture's cat
    // then gets closer (tests/bench/RESULTS.md).
    double coverWeight = 0.0;
    // Whether the discriminator has the latent head.
    bool covers() const { return objective == Objective::Hinge && coverWeight > 0; }
    Precision precision = Precision::Float32;  // bf16: autocast convolutions (precision.h)
    // With a decay d > 0 (the default, 0.999) the model is a running average of the generator's
    // weights: each step keeps d of the average and moves 1 - d of the way to the new weights,
    // and its batch-norm statistics are taken for the averaged weights (settleBatchNorm). 0: the
    // model is the last step's generator. While the average kept blended statistics it scored
    // worse than the last weights (models/README.md); with its own, at a constant learning rate,
    // it scored steadier, and its later steps drew the most cat-like cats yet on small folders
    // at 32x32 and 64x64 (tests/bench/RESULTS.md). Files written before it existed read as 0.
    double averageDecay = 0.999;
};

// The limits validate() enforces, for forms and option checks to share.
inline constexpr int kMaxBatchSize = 1024;
inline constexpr std::int64_t kMaxSteps = 1000000000;    // a run's length, and any step it reaches
inline constexpr double kMaxLearningRate = 1.0;          // and above 0
inline constexpr double kMaxDiscriminatorLrScale = 100;  // and lr times it at most kMaxLearningRate
inline constexpr int kMaxSampleCount = 256;
inline constexpr double kMaxGamma = 1.0;    // and above 0
inline constexpr double kMaxLambdaK = 1.0;  // and at least 0
inline constexpr double kMaxRotateDegrees = 45;
inline constexpr double kMaxScaleJitter = 0.5;
inline constexpr double kMaxShift = 0.25;
inline constexpr double kMaxVarietyWeight = 100;  // and at least 0
inline constexpr double kMaxCoverWeight = 100;    // and at least 0

// Images kept out of training when a run needs unseen ones (scores, adaptive augmentation): a
// tenth, at most kMaxHeldOut, and none when that would leave fewer than kMinTrainingImages to
// train on.
inline constexpr std::int64_t kMaxHeldOut = 1000;
inline constexpr std::int64_t kMinTrainingImages = 100;
std::int64_t heldOutCount(std::int64_t images);

// The discriminator's augmentation chosen for a folder of `images` pictures: every operation below
// kAutoAugmentBelow images (a discriminator learns a folder that small by heart), none above; for
// a folder too small to hold any images out, always on; otherwise, for BEGAN, adaptive (p stays
// near 0 while the discriminator rebuilds held-out images as well as its own), and for the hinge
// objective kHingeAugmentProbability.
inline constexpr std::int64_t kAutoAugmentBelow = 10000;
// A hinge discriminator learns the folder by heart in its real-or-fake head, where the rebuild
// errors the adaptive strength watches do not show it: on 300 procedural cats at 64x64 the
// adaptive p stayed at 0 while the head's loss fell near 0, and the samples stayed blobs; with
// half of the images augmented the same run drew cat faces (tests/bench/RESULTS.md).
inline constexpr double kHingeAugmentProbability = 0.5;
DiscriminatorAugment folderAugment(std::int64_t images, Objective objective);
// Samples each score generates (from fixed latents); SWD compares as many as the reference holds,
// kScorePatches patches a level from each side (eval takes more: its score is the one to quote).
inline constexpr int kScoreSamples = 256;
inline constexpr int kScorePatches = 8192;
// The scoring interval chosen for a run: scoring then takes at most about 5 % of training time.
std::int64_t autoScoreEvery(int batchSize);
// The choices of autoAugment and kAutoScoreEvery applied, for a folder of `images` pictures; the
// rest of `config` as it is.
TrainConfig resolvedConfig(TrainConfig config, std::int64_t images);
// In plain words, what a run with these settings does to keep its model good on a folder of
// `images` pictures: the discriminator's augmentation (and whether it was chosen for the folder),
// the scores, and which model it keeps. For the data report and a run's first lines.
std::string describeSafeguards(const TrainConfig& config, std::int64_t images);

// Throws ConfigError naming the first field out of range.
void validate(const TrainConfig& config);
// The configuration as stored in checkpoints and model provenance, and back (validated; throws
// ConfigError or nlohmann::json::exception for a missing or malformed field).
nlohmann::json toJson(const TrainConfig& config);
TrainConfig trainConfigFromJson(const nlohmann::json& json);

// A score of the generator during training (ScoreReference against the held-out images).
struct TrainScore {
    std::int64_t step = 0;
    double swd = 0.0;        // SWD x 1e3
    double diversity = 0.0;  // over the held-out images' own
};

// What one step did; all losses are means over the batch.
struct StepStats {
    std::int64_t step = 0;          // steps completed after this one
    double lossReal = 0;            // L(x): reconstruction error of real images
    double lossFake = 0;            // L(G(z)): reconstruction error of generated images
    double lossD = 0;               // L_D = L(x) - k_t L(G(z))
    double lossG = 0;               // L_G = L(G(z))
    double k = 0;                   // k_t after the update
    double convergence = 0;         // M = L(x) + |gamma L(x) - L(G(z))|
    double coverError = 0;          // the cover term's error (TrainConfig::coverWeight) or 0
    double learningRate = 0;        // learning rate used
    double augmentProbability = 0;  // p of the discriminator's augmentation after this step
    double imagesPerSecond = 0;     // real images consumed per second in this step
    bool rolledBack = false;        // NaN or Inf appeared: the state went back to the last good one
    bool learningRateHalved = false;  // after this step: the steps after run at half learningRate
    // Set when the step was scored (TrainConfig::scoreEvery).
    bool scored = false;
    double swd = 0;        // the score: SWD x 1e3 to the held-out images
    double diversity = 0;  // variety of the samples over the held-out images'
    // This score's generator is now the one kept as the best: within kKeepLaterWithin of the
    // run's recent best, this score included.
    bool newBest = false;
    double lowestSwd = 0;      // the lowest varied score so far, this one included
    double recentBestSwd = 0;  // the recent best (Trainer::recentBestScore), this one included
    bool collapseRolledBack = false;  // the score showed collapse: back to the best state
    bool gaveUp = false;              // collapsed too often: the run should stop (best kept)
    std::string guardMessage;         // what the collapse guard did, in plain words
};

}  // namespace cattery
