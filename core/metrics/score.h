#pragma once

#include <cstdint>
#include <mutex>
#include <optional>

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
    // The settings of its sliced Wasserstein distance (the patches it takes from each image).
    const SwdConfig& swdConfig() const { return m_swd; }

    static constexpr int kMinPatches = 16384;

private:
    torch::Tensor m_images;
    double m_distance = 0.0;
    SwdConfig m_swd;
    // The reference's patches for the last count of images scored, drawn once for the scores of
    // that count: a training run's (all of kScoreSamples) and eval's three (a tenth of its time
    // for 1,000 against 1,000 at 32x32).
    mutable std::mutex m_patchesMutex;
    mutable std::optional<std::pair<std::int64_t, SwdPatches>> m_patches;
};

}  // namespace cattery
