#pragma once

namespace cattery {

// Random changes applied to every training batch, each switchable (the demo's augmentation).
// Free of LibTorch, so that the window's settings can carry it.
struct AugmentConfig {
    bool flip = true;            // mirror left-right half of the time
    double rotateDegrees = 6.0;  // rotate by up to this many degrees either way (0 = off)
    double scaleJitter = 0.08;   // zoom by up to this fraction in or out (0 = off)
    double shift = 0.05;         // move by up to this fraction of the size (random crops; 0 = off)
};

}  // namespace cattery
