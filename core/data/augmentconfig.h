#pragma once

#include <cstdint>

namespace cattery {

// Which pictures of a batch this process takes when several train together: `count` from `first`
// of a batch of `total`. Every process draws the random choices of the whole batch from the same
// stream and makes only its own share, so that N processes see the pictures one process would.
struct BatchShare {
    std::int64_t first = 0;
    std::int64_t count = 0;
    std::int64_t total = 0;

    // The whole batch of `n`.
    static BatchShare whole(std::int64_t n) { return {0, n, n}; }
};

// Random changes applied to every training batch, each switchable (the demo's augmentation).
// Free of LibTorch, so that the window's settings can carry it.
struct AugmentConfig {
    bool flip = true;            // mirror left-right half of the time
    double rotateDegrees = 6.0;  // rotate by up to this many degrees either way (0 = off)
    double scaleJitter = 0.08;   // zoom by up to this fraction in or out (0 = off)
    double shift = 0.05;         // move by up to this fraction of the size (random crops; 0 = off)
};

// Differentiable augmentation of everything the discriminator sees (DiffAugment, Zhao et al.
// 2020): the real batch and the generated one alike, on every pass, with the generator's gradient
// carried back through it. The discriminator then cannot learn a small folder by heart, which is
// what makes BEGAN collapse on a few hundred images. Each image is augmented with probability p;
// with `adaptive`, p follows how much better the discriminator rebuilds the training images than
// held-out ones (AugmentStrength). Off in files written before it existed.
struct DiscriminatorAugment {
    bool color = false;        // brightness, saturation and contrast
    bool translation = false;  // moves of up to 1/8 of the size, white filling in
    bool cutout = false;       // a square of half the size blanked out
    double probability = 0.0;  // p: the chance each image is augmented (the start when adaptive)
    bool adaptive = false;     // p follows the overfitting signal
    // The held-out to training reconstruction-error ratio p aims for: a discriminator that rebuilds
    // its training images this much better than unseen ones is about to memorise them.
    double target = 1.1;

    bool any() const { return color || translation || cutout; }
};

}  // namespace cattery
