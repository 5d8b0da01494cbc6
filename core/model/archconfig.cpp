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
    if (std::find(kImageSizes.begin(), kImageSizes.end(), c.imageSize) == kImageSizes.end()) {
        throw ConfigError(fmt::format(
            "image size {} is not supported (choose 32, 48, 64, 80, 96 or 128)", c.imageSize));
    }
    auto inRange = [](const char* name, int value, IntRange range) {
        if (value < range.lo || value > range.hi) {
            throw ConfigError(
                fmt::format("{} = {} is out of range ({} to {})", name, value, range.lo, range.hi));
        }
    };
    inRange("channels", c.channels, {3, 3});
    inRange("latent dimension", c.latentDim, kLatentDimRange);
    inRange("generator width nf", c.nf, kNfRange);
    inRange("discriminator width ndf", c.ndf, kNdfRange);
    inRange("discriminator bottleneck", c.bottleneck, kBottleneckRange);
    inRange("repeats per stage", c.repeats, kRepeatsRange);
}

std::string describe(const ArchConfig& c) {
    return fmt::format("{}x{} RGB, latent {}, nf {}, ndf {}, bottleneck {}, repeats {}, {}{}{}",
                       c.imageSize, c.imageSize, c.latentDim, c.nf, c.ndf, c.bottleneck, c.repeats,
                       c.separable ? "separable convs" : "full convs",
                       c.batchNorm ? ", batch norm" : "", c.zSkip ? ", z skip" : "");
}

}  // namespace cattery
