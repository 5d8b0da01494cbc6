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

class ScoreReference {
public:
    // images: N x 3 x S x S uint8 with N >= 2, not all the same (else ConfigError). A small set
    // gives SWD more patches from each image, so that every score rests on at least
    // kMinPatches patches a level.
    ScoreReference(torch::Tensor images, std::uint64_t seed);
    // images: the same size as the reference's; SWD compares as many of each as the smaller holds.
    ImageScore score(const torch::Tensor& images) const;
    std::int64_t count() const { return m_images.size(0); }

    static constexpr int kMinPatches = 16384;

private:
    torch::Tensor m_images;
    double m_distance = 0.0;
    SwdConfig m_swd;
};

}  // namespace cattery
