#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <torch/torch.h>

#include "core/data/dataset.h"
#include "core/io/container.h"
#include "core/io/modelfile.h"
#include "core/latent/latentspace.h"
#include "core/latent/rng.h"
#include "core/model/archconfig.h"
#include "core/model/networks.h"
#include "core/train/diffaugment.h"
#include "core/train/trainconfig.h"

namespace cattery {

// The BEGAN trainer (Berthelot et al. 2017), one step at a time. It owns both networks, both
// optimisers, k_t and every random stream, so a checkpoint resumes the very same run.
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

    Container checkpoint() const;
    void saveCheckpoint(const std::string& path) const;
    // A model file: the generator and what made it.
    void saveModel(const std::string& path) const;

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
    // The model: the running average of the generator when the run keeps one, else the generator.
    Generator generator() const { return m_average ? m_average : m_generator; }
    // The networks being trained (their gradients after a step are the ones the step took).
    Generator trainingGenerator() const { return m_generator; }
    Discriminator discriminator() const { return m_discriminator; }
    int rollbacks() const { return m_rollbacksInARow; }
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

    ArchConfig m_arch;
    TrainConfig m_config;
    Dataset m_dataset;
    torch::Tensor m_images;  // the data set's images on the device
    torch::Device m_device;
    LatentSpace m_latent;
    Generator m_generator{nullptr};
    Generator m_average{nullptr};  // running average of m_generator's weights (null: none)
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
    int m_rollbacksInARow = 0;
    bool m_injectNaN = false;
    std::optional<Container> m_lastGood;  // in-memory checkpoint for NaN rollback
};

}  // namespace cattery
