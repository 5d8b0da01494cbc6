#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/data/dataset.h"
#include "core/io/container.h"
#include "core/io/modelfile.h"
#include "core/latent/latentspace.h"
#include "core/latent/rng.h"
#include "core/metrics/score.h"
#include "core/model/archconfig.h"
#include "core/model/networks.h"
#include "core/train/diffaugment.h"
#include "core/train/trainconfig.h"

namespace cattery {

class World;

// The collapse guard (TrainConfig::collapseGuard) acts on a score from kGuardFrom steps on (a young
// generator's pictures all look alike before they spread out) that shows
// - samples less varied than kCollapsedDiversity of the data's (metrics/diversity.h), or
// - an SWD above kGuardSwdRatio times the recent best (recentBestScore(), the lowest of the run's
//   later half) in kGuardStrikes scores running: the scores of the run that made Chubby swung
//   from checkpoint to checkpoint by up to 1.7 times, and its worst was 1.85 times its best
//   (models/README.md), so more than twice the best is a run that has lost its way. One such
//   score alone is not enough: at 64x64 single scores of 1.9 to 4 times the best came between
//   good ones in every run, and going back on each of them quartered the learning rate within
//   3,500 steps (tests/bench/RESULTS.md). A lost run stays lost; a spike passes. The recent best,
//   not the whole run's lowest: on a small folder the smooth shapes of the first thousand steps
//   or so can score far below the steps after them. A 64x64 run on 2,000 cats measured from
//   such a dip (75.3 at step 1,500) was sent back to its shapes at step 4,000 for scores of 156
//   and 206; left to go on, it passed 232 and drew grey cats with ears and eyes at 91.3 by step
//   6,500, where the run sent back still drew shapes.
// It returns to the best state, halves the learning rate, raises p by kGuardAugmentRaise (with
// DiffAugment turned on if it was off) and goes on; the kMaxGuardRollbacks + 1st time it stops the
// run, the best model kept.
inline constexpr std::int64_t kGuardFrom = 1000;
inline constexpr double kGuardSwdRatio = 2.0;
inline constexpr int kGuardStrikes = 2;
inline constexpr double kGuardAugmentRaise = 0.2;
inline constexpr int kMaxGuardRollbacks = 3;

// The discriminator's latent head (TrainConfig::coverWeight) learns this many times faster than
// the rest of it, as in the runs that measured the cover term (tests/bench/RESULTS.md): it is
// small, and new beside two networks that are already learning.
inline constexpr double kLatentHeadRateScale = 10.0;

// The fixed latents over which a run's running average of weights (TrainConfig::averageDecay)
// takes its batch-norm statistics (settleBatchNorm), for a run of this seed, in batches of
// kSettleBatch whatever the run's batch: fewer, larger passes cost less on a CPU, and their
// statistics are nearer those of all pictures.
torch::Tensor averageSettleLatents(int latentDim, std::uint64_t seed);
inline constexpr int kSettleBatch = 128;

// How much less varied the generated batch `fake` is than the real batch `real`, as a fraction of
// the real batch's variety: 0 when it is as varied or more, 1 when its pictures are all the same.
// Differentiable in `fake`; batches of at least 2 (the generator's variety term).
torch::Tensor varietyShortfall(const torch::Tensor& fake, const torch::Tensor& real);

// The BEGAN trainer (Berthelot et al. 2017), or the same networks with a hinge objective on a
// head of the discriminator's code (TrainConfig::objective), one step at a time. It owns both
// networks, both optimisers, k_t and every random stream, so a checkpoint resumes the very same
// run.
class Trainer {
public:
    // dataset.images must be N x 3 x S x S uint8 with S = arch.imageSize.
    Trainer(const ArchConfig& arch, const TrainConfig& config, Dataset dataset,
            torch::Device device);
    // Continues the run saved in a checkpoint; the data set should be the one it trained on.
    static Trainer resume(const std::string& checkpointPath, Dataset dataset, torch::Device device);
    // The same from a state in memory (checkpoint(); `checkpointPath` names it in errors).
    static Trainer resume(const Container& checkpoint, const std::string& checkpointPath,
                          Dataset dataset, torch::Device device);

    // One step on a batch drawn (and augmented) from the data set.
    StepStats step();
    // One step on a given batch, float in [-1, 1], B x 3 x S x S.
    StepStats step(const torch::Tensor& realBatch);
    // The same with given latents (B x latentDim) instead of fresh ones from the run's stream.
    StepStats step(const torch::Tensor& realBatch, const torch::Tensor& latents);

    // Images from the fixed sample latents, float in [-1, 1] on the CPU (G in inference mode).
    torch::Tensor samples();

    // Scores the model now (the trainer does every config().scoreEvery steps) and keeps it when
    // it is within kKeepLaterWithin of the recent best (recentBestScore()); no collapse guard.
    // Returns the score as a scored step's stats carry it (step, swd, diversity, newBest,
    // lowestSwd, recentBestSwd; the losses unset), or nothing when the run cannot score
    // (hasScoring()) or has scored this step already.
    std::optional<StepStats> scoreNow();
    // Scores as step() would, then applies the collapse guard: for tests that inject a score.
    void takeScore(const TrainScore& score, StepStats& stats);

    Container checkpoint() const;
    void saveCheckpoint(const std::string& path) const;
    // A model file: the generator config().keep asks for (keptGenerator()) and what made it.
    void saveModel(const std::string& path) const;
    // The same with the best-scoring or the last step's generator, whatever the run keeps.
    void saveModel(const std::string& path, KeepModel which) const;

    // Makes this trainer one of the world's processes, which then train one run together (data
    // parallel): each takes its share of every batch (config().batchSize is the whole batch, the
    // sum of the shares), the gradients are averaged before each update, and every number that
    // decides the run's path (the losses, k_t, NaN, the score) is agreed on, so that N processes
    // take the steps one process would with the whole batch. Throws ConfigError when the
    // processes' settings, images or step differ, or the batch does not split evenly; then starts
    // every process from rank 0's networks. The world must outlive the trainer's use of it.
    void joinWorld(World& world);
    World* world() const { return m_world; }
    // This process's place among those training the run (0 of 1 alone); rank 0 writes the files.
    int rank() const;
    int processes() const;
    // The pictures of each batch this process takes.
    int batchPerProcess() const { return m_config.batchSize / processes(); }

    // The model's display name, kept in every file it writes (empty: the file name).
    void setName(std::string name) { m_name = std::move(name); }

    // Makes the next step's losses NaN, to exercise the rollback (tests and fault drills).
    void injectNaN() { m_injectNaN = true; }

    std::int64_t stepCount() const { return m_step; }
    double k() const { return m_k; }
    double learningRate() const { return m_lr; }
    // Sets both optimisers' step size now (a resumed run may go on more gently).
    void setLearningRate(double lr);
    // Sets the generator's step size and the discriminator's as a multiple of it, both checked
    // before either changes.
    void setLearningRates(double lr, double discriminatorScale);
    const ArchConfig& arch() const { return m_arch; }
    const TrainConfig& config() const { return m_config; }
    TrainConfig& config() { return m_config; }
    const LatentSpace& latent() const { return m_latent; }
    const Dataset& dataset() const { return m_dataset; }
    const torch::Device& device() const { return m_device; }
    Provenance provenance() const;
    // The model: the running average of the generator when the run keeps one (its batch-norm
    // statistics taken for its own weights, in the run's precision), else the generator.
    Generator generator() const;
    // The networks being trained (their gradients after a step are the ones the step took).
    Generator trainingGenerator() const { return m_generator; }
    Discriminator discriminator() const { return m_discriminator; }
    int rollbacks() const { return m_rollbacksSinceGood; }
    // The checkpoint this run resumed held its optimisers' states in the form of earlier
    // versions, which is not read: both optimisers started afresh.
    bool optimisersRestarted() const { return m_optimisersRestarted; }
    // Every score so far, and the best one's (step 0 and an infinite SWD before any).
    const std::vector<TrainScore>& scores() const { return m_scores; }
    // The score of the generator kept as the best (kKeepLaterWithin).
    TrainScore bestScore() const { return m_best.score; }
    // The lowest SWD among the varied scores so far (infinity before any): the collapse guard's
    // measure of the best.
    double lowestScore() const;
    // The recent best, from which the kept generator's margin is measured (kKeepLaterWithin): the
    // lowest SWD among the varied scores from half the last scored step on, or lowestScore() when
    // none there is varied.
    double recentBestScore() const;
    bool hasBest() const { return m_best.scored; }
    // Whether the run is scored: asked to (config().scoreEvery) and with images to compare.
    bool hasScoring() const { return m_scoreReference != nullptr; }
    // Seconds spent scoring (included in no step's time).
    double scoringSeconds() const { return m_scoreSeconds; }
    int collapseRollbacks() const { return m_guardRollbacks; }
    // The collapse guard gave up: the run should end (with the best model).
    bool gaveUp() const { return m_gaveUp; }
    // The generator the model file gets: the best scored one under KeepModel::Best (when there
    // is one), else the model (generator()).
    Generator keptGenerator() const { return keptGenerator(m_config.keep); }
    Generator keptGenerator(KeepModel which) const;
    // The way down of the discriminator that trained against that generator (a copy, in eval
    // mode), kept in model files.
    Encoder keptEncoder(KeepModel which) const;
    // The discriminator's augmentation now: p, and the overfitting signal it follows.
    double augmentProbability() const { return m_strength.p(); }
    double overfitSignal() const { return m_strength.signal(); }
    // How many images train (the rest are held out), and how many are held out.
    std::int64_t trainingImageCount() const { return m_images.size(0); }
    std::int64_t heldOutImageCount() const { return m_heldOut.defined() ? m_heldOut.size(0) : 0; }

private:
    void restore(const Container& c, const std::string& path);
    void rollBack();
    void updateAverage();
    // What the discriminator is shown of `images`: DiffAugment at the current p, when on.
    torch::Tensor forDiscriminator(const torch::Tensor& images);
    // D's reconstruction error on a batch of held-out images, augmented as the training ones.
    double heldOutError();
    // What one update did; `finite` false when a loss was NaN or infinite (nothing changed then).
    struct Losses {
        double real = 0;  // D's rebuild error on the real batch
        double fake = 0;  // BEGAN: its rebuild error on the generated batch; hinge: D's loss there
        double d = 0;
        double g = 0;
        double convergence = 0;  // what the learning rate's stall rule follows
        double cover = 0;        // the cover term's error (0 without it)
        bool finite = true;
    };
    // The opening both objectives share, under the run's precision: G's pictures of the latents
    // `z` (fake, in float32) and the same as a leaf for D's side (fakeLeaf); `judge` gets what D
    // is shown of the real batch `x` and of fakeLeaf, with the precision still in force.
    struct Halves {
        torch::Tensor fake;
        torch::Tensor fakeLeaf;
    };
    Halves halves(const torch::Tensor& x, const torch::Tensor& z,
                  const std::function<void(const torch::Tensor& real,
                                           const torch::Tensor& generated)>& judge);
    // One update of both networks under each objective (TrainConfig::objective).
    Losses beganUpdate(const torch::Tensor& x, const torch::Tensor& z);
    Losses hingeUpdate(const torch::Tensor& x, const torch::Tensor& z);
    // G's gradient at its output, `gradFake`, plus the variety term's (TrainConfig::varietyWeight)
    // for the generated batch `fakeLeaf` beside the real batch.
    torch::Tensor withVariety(const torch::Tensor& gradFake, const torch::Tensor& fakeLeaf,
                              const torch::Tensor& real);
    // Adds the cover term's gradients (TrainConfig::coverWeight) for the real batch `x` to the
    // generator's and the latent head's; returns its error.
    double addCoverGradients(const torch::Tensor& x);
    // The loss, made NaN when injectNaN() asked for it.
    torch::Tensor poisoned(const torch::Tensor& loss);
    TrainScore measure();
    // This process's share of a batch of which it holds `count` pictures.
    BatchShare shareOf(std::int64_t count) const;
    // The means over the processes of a few numbers (the values themselves alone).
    std::vector<double> meanAcrossProcesses(const std::vector<double>& values);
    // Both networks' gradients averaged over the processes (nothing alone).
    void averageGradients();
    // Adds a score to the record, and keeps the state now when it is varied and within
    // kKeepLaterWithin of the recent best (true then).
    bool record(const TrainScore& score);
    // The lowest SWD among the varied scores from `step` on (infinity when none).
    double lowestScoreFrom(std::int64_t step) const;
    // Keeps the state now as the best, with its score.
    void keepBest(const TrainScore& score);
    // The collapse guard's move back to the best state.
    void collapseRollBack(StepStats& stats, const std::string& why);
    Provenance provenanceOf(bool best) const;
    void restoreScores(const nlohmann::json& training, const Container& c, const std::string& path);

    // The best scored state: its networks (records "generator", "average" when the run keeps
    // one, "discriminator") and k_t. Before any score, the start.
    struct Best {
        TrainScore score{0, std::numeric_limits<double>::infinity(), 0.0};
        bool scored = false;
        double k = 0.0;
        Container weights;
    };

    ArchConfig m_arch;
    TrainConfig m_config;
    Dataset m_dataset;
    torch::Tensor m_images;  // the data set's images on the device
    torch::Device m_device;
    LatentSpace m_latent;
    Generator m_generator{nullptr};
    Generator m_average{nullptr};  // running average of m_generator's weights (null: none)
    // The latents m_average's batch-norm statistics are taken over (settleBatchNorm), and the step
    // they were last taken at (-1: not yet for these weights; generator() takes them).
    torch::Tensor m_settleLatents;
    mutable std::int64_t m_averageSettledAt = -1;
    Discriminator m_discriminator{nullptr};
    std::unique_ptr<torch::optim::Adam> m_optG;
    std::unique_ptr<torch::optim::Adam> m_optD;
    torch::Tensor m_sampleLatents;
    Rng m_rng;
    std::int64_t m_step = 0;
    double m_k = 0.0;
    double m_lr = 0.0;
    double m_emaM = -1.0;  // smoothed convergence measure (negative: not started)
    double m_bestM = 1e30;
    std::int64_t m_bestStep = 0;
    double m_wallSeconds = 0.0;  // training time so far, across resumes
    torch::Tensor m_heldOut;     // images kept out of training (on the device; may be undefined)
    AugmentStrength m_strength{0.0, 1.0};  // p of the discriminator's augmentation
    std::string m_name;                    // display name stored in the files
    int m_rollbacksSinceGood = 0;
    bool m_optimisersRestarted = false;
    bool m_injectNaN = false;
    Container m_lastGood;  // in-memory checkpoint for NaN rollback (taken at the start)
    std::unique_ptr<ScoreReference> m_scoreReference;  // null: the run is not scored
    torch::Tensor m_scoreLatents;  // kScoreSamples x latentDim, fixed by the seed
    std::vector<TrainScore> m_scores;
    Best m_best;
    double m_scoreSeconds = 0.0;
    int m_guardRollbacks = 0;
    int m_guardStrikes = 0;  // scores running above kGuardSwdRatio times the recent best
    bool m_gaveUp = false;
    World* m_world = nullptr;  // the processes training together (null: this one alone)
    BatchShare m_share;        // this process's share of the batch in hand
};

}  // namespace cattery
