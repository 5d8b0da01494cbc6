#include "core/metrics/swd.h"

#include <algorithm>

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include "core/errors.h"
#include "core/latent/rng.h"
#include "core/metrics/diversity.h"

namespace cattery {
namespace {

constexpr int kPatch = 7;

std::vector<int> pyramidSizes(int size, int minLevelSize) {
    std::vector<int> sizes{size};
    while (sizes.back() / 2 >= minLevelSize && sizes.back() / 2 >= kPatch) {
        sizes.push_back(sizes.back() / 2);
    }
    return sizes;
}

// Patch descriptors for every level: one (N * patchesPerImage) x (3 * 7 * 7) matrix per level.
std::vector<torch::Tensor> descriptors(const torch::Tensor& images, size_t levels,
                                       const SwdConfig& config, std::uint64_t seed) {
    const int64_t n = images.size(0);
    const int64_t dim = 3 * kPatch * kPatch;
    const int64_t rows = n * config.patchesPerImage;
    std::vector<torch::Tensor> out;
    for (size_t l = 0; l < levels; ++l) {
        out.push_back(torch::empty({rows, dim}, torch::kFloat32));
    }
    const torch::Tensor hwc = images.permute({0, 2, 3, 1}).contiguous();
    const int size = static_cast<int>(images.size(2));
    Rng rng(seed);
    for (int64_t i = 0; i < n; ++i) {
        cv::Mat bytes(size, size, CV_8UC3, hwc[i].data_ptr<uint8_t>());
        cv::Mat gauss;
        bytes.convertTo(gauss, CV_32FC3);
        for (size_t l = 0; l < levels; ++l) {
            cv::Mat level;
            cv::Mat down;
            if (l + 1 < levels) {
                cv::pyrDown(gauss, down);
                cv::Mat up;
                cv::pyrUp(down, up, gauss.size());
                level = gauss - up;
            } else {
                level = gauss;
            }
            float* dst = out[l].data_ptr<float>() + i * config.patchesPerImage * dim;
            const auto span = static_cast<uint64_t>(level.rows - kPatch + 1);
            for (int p = 0; p < config.patchesPerImage; ++p, dst += dim) {
                const int y0 = static_cast<int>(rng.below(span));
                const int x0 = static_cast<int>(rng.below(span));
                for (int y = 0; y < kPatch; ++y) {
                    const auto* row = level.ptr<cv::Vec3f>(y0 + y) + x0;
                    for (int x = 0; x < kPatch; ++x) {
                        for (int c = 0; c < 3; ++c) {
                            dst[(c * kPatch + y) * kPatch + x] = row[x][c];
                        }
                    }
                }
            }
            gauss = down;
        }
    }
    return out;
}

// Each colour channel to zero mean and unit spread. ProGAN normalises each set by its own
// statistics, which hides a change of colour; both sets here share the statistics of the two
// together, so a colour shift counts.
std::pair<torch::Tensor, torch::Tensor> normalisePerChannel(const torch::Tensor& a,
                                                            const torch::Tensor& b) {
    const auto va = a.view({a.size(0), 3, kPatch * kPatch});
    const auto vb = b.view({b.size(0), 3, kPatch * kPatch});
    const auto both = torch::cat({va, vb}, 0);
    const auto dims = std::vector<int64_t>{0, 2};
    const auto mean = both.mean(dims, true);
    const auto spread = both.std(dims, true, true).clamp_min(1e-8);
    return {((va - mean) / spread).view({a.size(0), -1}),
            ((vb - mean) / spread).view({b.size(0), -1})};
}

double swd(const torch::Tensor& a, const torch::Tensor& b, const SwdConfig& config, Rng& rng) {
    double total = 0.0;
    for (int r = 0; r < config.repeats; ++r) {
        auto gen = torch::make_generator<at::CPUGeneratorImpl>(rng.next());
        auto dirs = torch::randn({a.size(1), config.directions}, gen, torch::kFloat32);
        dirs = dirs / dirs.norm(2, 0, true);
        const auto pa = std::get<0>(torch::matmul(a, dirs).sort(0));
        const auto pb = std::get<0>(torch::matmul(b, dirs).sort(0));
        total += (pa - pb).abs().mean().item<double>();
    }
    return total / config.repeats;
}

}  // namespace

SwdResult slicedWasserstein(const torch::Tensor& a, const torch::Tensor& b,
                            const SwdConfig& config) {
    checkImageSet(a, "the first image set");
    checkImageSet(b, "the second image set");
    if (a.size(2) != b.size(2)) {
        throw ConfigError(fmt::format("cannot compare {}x{} images with {}x{} ones", a.size(2),
                                      a.size(2), b.size(2), b.size(2)));
    }
    if (a.size(2) < kPatch) {
        throw ConfigError(
            fmt::format("images of {} pixels are too small for 7x7 patches", a.size(2)));
    }
    if (config.patchesPerImage < 1 || config.repeats < 1 || config.directions < 1) {
        throw ConfigError("patches, repeats and directions must each be at least 1");
    }
    const int64_t n = std::min(a.size(0), b.size(0));
    SwdResult result;
    result.levelSizes = pyramidSizes(static_cast<int>(a.size(2)), config.minLevelSize);
    const size_t levels = result.levelSizes.size();
    torch::NoGradGuard noGrad;
    const auto da = descriptors(a.narrow(0, 0, n).cpu(), levels, config, config.seed);
    const auto db = descriptors(b.narrow(0, 0, n).cpu(), levels, config, config.seed + 1);
    Rng rng(config.seed + 2);
    for (size_t l = 0; l < levels; ++l) {
        const auto [na, nb] = normalisePerChannel(da[l], db[l]);
        const double d = swd(na, nb, config, rng);
        result.perLevel.push_back(d * 1e3);
        result.average += d * 1e3;
    }
    result.average /= static_cast<double>(levels);
    return result;
}

}  // namespace cattery
