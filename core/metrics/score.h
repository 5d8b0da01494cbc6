#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "core/metrics/swd.h"

namespace cattery {

// How close a set of pictures comes to reference images and how varied it is: the figures
// `cattery-cli eval` reports and training keeps.
struct ImageScore {
    SwdResult swd;           // sliced Wasserstein distance to the reference (lower: closer)
    double diversity = 0.0;  // mean pairwise distance over the reference's own (1: as varied)
};

// Whether a set of images (N x ...) holds at least two that differ: a score compares variety, and
// a set of one picture has none to compare against.
bool imagesDiffer(const torch::Tensor& images);

class ScoreReference {
public:
    // images: N x 3 x S x S uint8 with N >= 2, not all the same (else ConfigError). SWD takes
    // `patches` patches a level from each side, spread over the images (from 16 to 1,024 from
    // each); 0: 128 from each image as ProGAN does, and more from a small set so that a score
    // rests on at least kMinPatches.
    ScoreReference(torch::Tensor images, std::uint64_t seed, int patches = 0);
    // images: the same size as the reference's, any count; SWD takes as many patches from each
    // side, spread over all of its images.
    ImageScore score(const torch::Tensor& images) const;
    std::int64_t count() const { return m_images.size(0); }

    static constexpr int kMinPatches = 16384;

private:
    torch::Tensor m_images;
    double m_distance = 0.0;
    SwdConfig m_swd;
};

}  // namespace cattery
