#include "core/train/collapsewatch.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/metrics/diversity.h"
#include "core/runtime/renderer.h"

namespace cattery {

CollapseWatch::CollapseWatch(const torch::Tensor& images) {
    const torch::Tensor slice = images.narrow(0, 0, std::min<int64_t>(64, images.size(0)));
    m_dataDistance = slice.size(0) >= 2 ? meanPairwiseDistance(slice) : 0.0;
}

std::string CollapseWatch::check(std::int64_t step, const torch::Tensor& samples) {
    if (step < kWatchFrom || samples.size(0) < 2 || m_dataDistance <= 0.0) {
        return {};
    }
    const double diversity = meanPairwiseDistance(toBytes(samples)) / m_dataDistance;
    const bool collapsed = diversity < kCollapsedDiversity;
    const bool fresh = collapsed && !m_collapsed;
    m_collapsed = collapsed;
    return fresh ? fmt::format(
                       "the samples look alike (variety {:.2f} of the data's) at step {}: "
                       "the generator may be collapsing; try a higher gamma or a lower "
                       "learning rate",
                       diversity, step)
                 : std::string();
}

}  // namespace cattery
