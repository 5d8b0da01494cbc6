#include "core/metrics/score.h"

#include <algorithm>
#include <utility>

#include "core/errors.h"
#include "core/metrics/diversity.h"

namespace cattery {

bool imagesDiffer(const torch::Tensor& images) {
    return images.dim() > 0 && images.size(0) >= 2 &&
           (images != images.narrow(0, 0, 1)).any().item<bool>();
}

ScoreReference::ScoreReference(torch::Tensor images, std::uint64_t seed, int patches)
    : m_images(std::move(images)) {
    checkImageSet(m_images, "the reference images");
    m_images = m_images.cpu().contiguous();
    m_distance = imagesDiffer(m_images) ? meanPairwiseDistance(m_images, 2000, seed) : 0.0;
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
    checkImageSet(images, "the images to score");
    const std::int64_t count = images.size(0);
    {
        const std::lock_guard<std::mutex> lock(m_patchesMutex);
        if (!m_patches || m_patches->first != count) {
            m_patches.reset();
            m_patches.emplace(count, secondSetPatches(m_images, count, m_swd));
        }
        s.swd = slicedWasserstein(images, m_images, m_patches->second, m_swd);
    }
    s.diversity = meanPairwiseDistance(images, 2000, m_swd.seed) / m_distance;
    return s;
}

}  // namespace cattery
