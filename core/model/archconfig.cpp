#include "core/model/archconfig.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "core/errors.h"

namespace cattery {

bool operator==(const ArchConfig& a, const ArchConfig& b) {
    return a.imageSize == b.imageSize && a.channels == b.channels && a.latentDim == b.latentDim &&
           a.nf == b.nf && a.ndf == b.ndf && a.bottleneck == b.bottleneck &&
           a.repeats == b.repeats && a.separable == b.separable && a.batchNorm == b.batchNorm &&
           a.zSkip == b.zSkip;
}

void validate(const ArchConfig& c) {
    constexpr std::array<int, 6> kSizes{32, 48, 64, 80, 96, 128};
    if (std::find(kSizes.begin(), kSizes.end(), c.imageSize) == kSizes.end()) {
        throw ConfigError(fmt::format(
            "image size {} is not supported (choose 32, 48, 64, 80, 96 or 128)", c.imageSize));
    }
    auto inRange = [](const char* name, int value, int lo, int hi) {
        if (value < lo || value > hi) {
            throw ConfigError(
                fmt::format("{} = {} is out of range ({} to {})", name, value, lo, hi));
        }
    };
    inRange("channels", c.channels, 3, 3);
    inRange("latent dimension", c.latentDim, 3, 512);
    inRange("generator width nf", c.nf, 1, 256);
    inRange("discriminator width ndf", c.ndf, 1, 512);
    inRange("discriminator bottleneck", c.bottleneck, 1, 1024);
    inRange("repeats per stage", c.repeats, 1, 4);
}

std::string describe(const ArchConfig& c) {
    return fmt::format("{}x{} RGB, latent {}, nf {}, ndf {}, bottleneck {}, repeats {}, {}{}{}",
                       c.imageSize, c.imageSize, c.latentDim, c.nf, c.ndf, c.bottleneck, c.repeats,
                       c.separable ? "separable convs" : "full convs",
                       c.batchNorm ? ", batch norm" : "", c.zSkip ? ", z skip" : "");
}

}  // namespace cattery
