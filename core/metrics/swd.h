#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "core/metrics/diversity.h"

namespace cattery {

// Sliced Wasserstein distance between two sets of images, as in ProGAN (Karras et al. 2018): 7x7
// patches from each level of a Laplacian pyramid, normalised per channel (over both sets, so colour
// counts), compared along random directions. It needs no pretrained network, so it works on any
// kind of picture.
struct SwdConfig {
    int patchesPerImage = 128;  // random 7x7 patches a level for each image of the smaller set
    int repeats = 4;            // sets of random directions
    int directions = 128;       // directions per set
    int minLevelSize = 16;      // the pyramid stops before a level smaller than this
    std::uint64_t seed = 1;     // patch positions and directions
};

struct SwdResult {
    std::vector<int> levelSizes;   // image size of each level, finest first
    std::vector<double> perLevel;  // distance x 1e3 per level
    double average = 0.0;          // mean of perLevel
};

// The Laplacian pyramid SWD compares (as OpenCV's pyrDown and pyrUp build it): `levels` float
// images per input, N x 3 x s x s, finest first, the last one the blurred remainder.
std::vector<torch::Tensor> laplacianPyramid(const torch::Tensor& images, size_t levels);

// a and b: N x 3 x S x S uint8 RGB on the CPU, the same size S. Each side gives the smaller
// set's count times patchesPerImage patches a level, spread over all of its images: a few
// reference pictures are compared with every sample, not with as few samples.
SwdResult slicedWasserstein(const torch::Tensor& a, const torch::Tensor& b,
                            const SwdConfig& config = {});

// The second set's patches, as slicedWasserstein draws them for a first set of `otherCount`
// images: a reference compared with many sets of that count (a training run's scores) builds its
// pyramid and draws its patches once.
struct SwdPatches {
    std::int64_t total = 0;             // patches a level
    std::vector<torch::Tensor> levels;  // total x (3 * 7 * 7) a level, finest first
};
SwdPatches secondSetPatches(const torch::Tensor& b, std::int64_t otherCount,
                            const SwdConfig& config = {});
// slicedWasserstein(a, b, config), with b's patches drawn beforehand by secondSetPatches for a's
// count and the same config (else ConfigError): the same result.
SwdResult slicedWasserstein(const torch::Tensor& a, const torch::Tensor& b,
                            const SwdPatches& bPatches, const SwdConfig& config = {});

}  // namespace cattery
