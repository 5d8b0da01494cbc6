#include "core/metrics/score.h"

#include <algorithm>
#include <utility>

#include "core/errors.h"
#include "core/metrics/diversity.h"

namespace cattery {

ScoreReference::ScoreReference(torch::Tensor images, std::uint64_t seed, int patches)
    : m_images(std::move(images)) {
    checkImageSet(m_images, "the reference images");
    m_images = m_images.cpu().contiguous();
    m_distance = meanPairwiseDistance(m_images, 2000, seed);
    if (m_distance <= 0.0) {
        throw ConfigError("the reference images are all the same, so there is nothing to compare");
    }
    m_swd.seed = seed;
    const auto n = m_images.size(0);
    m_swd.patchesPerImage =
        patches > 0 ? static_cast<int>(std::clamp<std::int64_t>(patches / n, 16, 1024))
                    : std::max(m_swd.patchesPerImage,
                               static_cast<int>(std::min<std::int64_t>(kMinPatches / n, 1024)));
}

ImageScore ScoreReference::score(const torch::Tensor& images) const {
    ImageScore s;
    s.swd = slicedWasserstein(images, m_images, m_swd);
    s.diversity = meanPairwiseDistance(images, 2000, m_swd.seed) / m_distance;
    return s;
}

}  // namespace cattery
