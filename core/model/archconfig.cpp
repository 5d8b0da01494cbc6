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
           a.zSkip == b.zSkip && a.smoothZMap == b.smoothZMap && a.normalizeZ == b.normalizeZ &&
           a.normalizeZInTraining == b.normalizeZInTraining;
}

namespace {

// The values of one ConvBlock (networks.h): a 3x3 convolution or a depthwise 3x3 and a 1x1, with a
// bias unless batch norm follows, whose weight, bias and running statistics add 4 x out + 1.
std::int64_t convBlockValues(std::int64_t in, std::int64_t out, bool separable, bool batchNorm) {
    const std::int64_t conv = separable ? in * 9 + in * out : in * out * 9;
    return conv + (batchNorm ? 4 * out + 1 : out);
}

std::int64_t latentHeadValueCount(const ArchConfig& c) {
    const std::int64_t code = c.bottleneck;
    const std::int64_t hidden = kLatentHeadWidth * code;
    return code * hidden + hidden + hidden * c.latentDim + c.latentDim;
}

}  // namespace

std::int64_t generatorValueCount(const ArchConfig& c) {
    const std::int64_t base = c.baseGrid();
    const std::int64_t cells = base * base;
    const std::int64_t latent = c.latentDim;
    const std::int64_t widths[4] = {8LL * c.nf, 4LL * c.nf, 2LL * c.nf, c.nf};
    const std::int64_t skip = c.zSkip ? 1 : 0;
    std::int64_t n =
        latent * widths[0] * cells + (c.batchNorm ? 4 * widths[0] + 1 : widths[0] * cells);
    if (c.zSkip) {
        n += latent * cells + cells;
    }
    std::int64_t in = widths[0];
    for (const std::int64_t w : widths) {
        for (int r = 0; r < c.repeats; ++r) {
            n += convBlockValues(r == 0 ? in : w, w, c.separable, c.batchNorm);
        }
        in = w + skip;
    }
    return n + in * c.channels * 9 + c.channels;
}

std::int64_t discriminatorValueCount(const ArchConfig& c, bool withHead, bool withPatchHead,
                                     bool withLatentHead) {
    const std::int64_t cells = std::int64_t{c.baseGrid()} * c.baseGrid();
    const std::int64_t ndf = c.ndf;
    const std::int64_t code = c.bottleneck;
    const std::int64_t skip = c.zSkip ? 1 : 0;
    std::int64_t n = convBlockValues(c.channels, ndf, c.separable, false);
    for (int s = 0; s < 4; ++s) {
        for (int r = 0; r < c.repeats; ++r) {
            n += convBlockValues(ndf, ndf, c.separable, false);
            n += convBlockValues(r == 0 && s > 0 ? ndf + skip : ndf, ndf, c.separable, false);
        }
    }
    n += ndf * cells * code + code;         // encode_fc
    n += code * ndf * cells + ndf * cells;  // decode_fc
    if (c.zSkip) {
        n += code * cells + cells;
    }
    n += (ndf + skip) * c.channels * 9 + c.channels;
    if (withHead) {
        n += code * code + code + code + 1;
    }
    if (withPatchHead) {
        n += ndf + 1;
    }
    return withLatentHead ? n + latentHeadValueCount(c) : n;
}

std::int64_t encoderValueCount(const ArchConfig& c, bool withLatentHead) {
    const std::int64_t cells = std::int64_t{c.baseGrid()} * c.baseGrid();
    std::int64_t n = convBlockValues(c.channels, c.ndf, c.separable, false);
    n += 4 * c.repeats * convBlockValues(c.ndf, c.ndf, c.separable, false);
    n += std::int64_t{c.ndf} * cells * c.bottleneck + c.bottleneck;
    return withLatentHead ? n + latentHeadValueCount(c) : n;
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
    return fmt::format("{}x{} RGB, latent {}{}, nf {}, ndf {}, bottleneck {}, repeats {}, {}{}{}",
                       c.imageSize, c.imageSize, c.latentDim,
                       !c.normalizeZ            ? ""
                       : c.normalizeZInTraining ? " (normalised)"
                                                : " (normalised when drawn)",
                       c.nf, c.ndf, c.bottleneck, c.repeats,
                       c.separable ? "separable convs" : "full convs",
                       c.batchNorm ? ", batch norm" : "",
                       !c.zSkip       ? ""
                       : c.smoothZMap ? ", smooth z skip"
                                      : ", z skip");
}

}  // namespace cattery
