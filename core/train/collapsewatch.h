#pragma once

#include <cstdint>
#include <string>

#include <torch/torch.h>

namespace cattery {

// Watches the fixed samples for mode collapse: samples clearly less varied than the data
// (diversity below kCollapsedDiversity) after the first steps, when they always look alike.
class CollapseWatch {
public:
    // Measures the variety of a small fixed slice of the images (N x 3 x S x S uint8) once.
    explicit CollapseWatch(const torch::Tensor& images);
    // The samples at `step` (float in [-1, 1]): a warning in plain words when they have just
    // collapsed (once per collapse), else "".
    std::string check(std::int64_t step, const torch::Tensor& samples);

    // A young generator's samples all look alike before they spread out: no warning before this.
    static constexpr std::int64_t kWatchFrom = 500;

private:
    double m_dataDistance = 0.0;  // 0: nothing to compare with (under two images, or all alike)
    bool m_collapsed = false;
};

}  // namespace cattery
