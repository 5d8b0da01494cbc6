#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/model/networks.h"

namespace cattery {

// The directions along which a generator's pictures change most (GANSpace, Härkönen et al. 2020):
// principal components of what the generator makes of many random latents, each carried back into
// the latent space by linear regression, in order of the variance it explains. Measured on the
// default model (Chubby), its pictures (at a quarter of their size) separate far better than its
// opening features: the first direction, a light lying cat to a dark sitting one, explains 24 % of
// the pictures' variance against 1.8 % of the features', whose shares fall almost flat after it.
struct Directions {
    torch::Tensor vectors;           // count x latentDim, unit rows, largest variance first
    std::vector<double> variance;    // the share of the features' variance each explains (0: a
                                     // direction made from a selection, not found)
    std::vector<std::string> names;  // what each changes, as the user named it ("" unnamed)
    std::uint32_t generator = 0;     // generatorFingerprint() of their model (0: not recorded)
};

// A checksum of a generator's weights: tells a saved set of directions from another model's.
std::uint32_t generatorFingerprint(const Generator& generator);

// Where the components are looked for: the generator's opening features, or its pictures.
enum class DirectionFeatures { Opening, Pictures };

inline constexpr int kMostDirections = 64;
inline constexpr int kLeastDirectionSamples = 64;
inline constexpr int kMostDirectionSamples = 100000;

// `count` directions of `generator` (in eval mode) from `samples` latents drawn with `seed` (fewer
// when the latent space has fewer dimensions). The
// rows are orthonormalised in order (each keeps only what the earlier ones do not already move),
// so that sliders along them are independent; a unit along one is one standard deviation of the
// latents. Throws ConfigError for a count or sample number out of range.
Directions principalDirections(const Generator& generator, int latentDim, int count,
                               int samples = 500, std::uint64_t seed = 1,
                               DirectionFeatures features = DirectionFeatures::Pictures);

// An attribute vector (as in plat, White 2016): the mean of the `selected` latents (N x dim) less
// the mean of `samples` random ones drawn with `seed`, the direction from an ordinary cat towards
// what the selection shares. Throws ConfigError for an empty selection.
torch::Tensor attributeDirection(const torch::Tensor& selected, int samples = 2000,
                                 std::uint64_t seed = 1);

// A model's directions as a file of their own (a Cattery container of kind "directions"): the
// vectors, their shares of the variance, their names and their model's fingerprint. Written
// atomically.
void saveDirections(const std::string& path, const Directions& directions);
// Reads one back for a model of `latentDim`; throws ModelFileError naming the file and the
// problem (another kind of file, vectors of another length, values that are not finite, more
// directions or longer names than any run writes). The header is checked before the vectors are
// read.
Directions loadDirections(const std::string& path, int latentDim);
inline constexpr std::size_t kMostDirectionNameLength = 200;

// `z` (dim, or N x dim) moved `sigmas` standard deviations along `direction` (dim).
torch::Tensor moveAlong(const torch::Tensor& z, const torch::Tensor& direction, double sigmas);

}  // namespace cattery
