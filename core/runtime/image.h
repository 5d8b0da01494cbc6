#pragma once

#include <cstdint>
#include <vector>

namespace cattery {

// An 8-bit RGB picture, rows top to bottom, no padding: the one image type core hands out.
struct RgbImage {
    int width = 0;
    int height = 0;
    std::vector<std::uint8_t> pixels;  // width * height * 3

    bool empty() const { return pixels.empty(); }
    bool operator==(const RgbImage& o) const {
        return width == o.width && height == o.height && pixels == o.pixels;
    }
};

}  // namespace cattery
