#pragma once

#include <algorithm>
#include <cstdint>

#include <torch/torch.h>

#include "core/data/augmentconfig.h"

namespace cattery {

class Rng;

// DiffAugment's three operations on a batch of float images in [-1, 1], B x 3 x S x S, each image
// augmented with probability `p` (0: the batch unchanged). Differentiable with respect to the
// images; the random choices come from `rng` (drawn on the CPU, so a run on any device resumes
// exactly) and stay fixed for the call.
torch::Tensor diffAugment(const torch::Tensor& images, const DiscriminatorAugment& policy, double p,
                          Rng& rng);
// The same for the share `share` of a batch (images holds share.count pictures): the random
// choices of the whole batch are drawn, and those of the share applied.
torch::Tensor diffAugment(const torch::Tensor& images, const DiscriminatorAugment& policy, double p,
                          Rng& rng, const BatchShare& share);

// The adaptive strength: every kAdjustEvery steps, p moves up while the overfitting signal is above
// the target and down while below, at a pace that takes it from 0 to 1 in kStepsToFull steps.
class AugmentStrength {
public:
    static constexpr int kAdjustEvery = 4;
    // Fast enough to catch a discriminator that starts memorising a few hundred images within a
    // few hundred steps, slow enough not to swing with one noisy batch.
    static constexpr int kStepsToFull = 2000;
    // The signal is smoothed over about this many adjustments.
    static constexpr double kSmoothing = 0.1;

    AugmentStrength(double p, double target) : m_p(p), m_target(target) {}

    // Takes one measurement of the training and held-out reconstruction errors; returns p.
    double update(double trainingError, double heldOutError);
    double p() const { return m_p; }
    // The smoothed ratio of held-out to training error (0 before the first measurement).
    double signal() const { return m_signal; }
    // The least p may fall to (raised by the collapse guard).
    double floor() const { return m_floor; }
    // Raises p by `amount` (at most to 1), and keeps it from falling below that from now on.
    void raise(double amount) {
        m_p = std::min(1.0, m_p + amount);
        m_floor = m_p;
    }
    void restore(double p, double signal, double floor) {
        m_p = p;
        m_signal = signal;
        m_floor = floor;
    }

private:
    double m_p;
    double m_target;
    double m_signal = 0.0;
    double m_floor = 0.0;
};

}  // namespace cattery
