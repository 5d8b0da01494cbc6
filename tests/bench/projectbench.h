#pragma once

#include <array>
#include <string>
#include <vector>

// The rows of cattery-bench on finding pictures in a model's latent space.
namespace cattery::bench {

// Rows of (what, result, side by side): the search's mean distance to 100 procedural cats the model
// never saw (seed 99) and its time per image, against the nearest of 10,000 random samples; and
// the same for 100 of the model's own pictures (latents of seed 99), which it can draw exactly.
std::vector<std::array<std::string, 3>> projectionRows(const std::string& modelPath);

}  // namespace cattery::bench
