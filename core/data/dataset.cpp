#include "core/data/dataset.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/io/container.h"
#include "core/io/tensorio.h"

namespace cattery {

std::string imagesHash(const torch::Tensor& images) {
    const torch::Tensor t = images.detach().cpu().contiguous();
    return fmt::format("{:08x}",
                       crc32(t.data_ptr(), static_cast<size_t>(t.numel() * t.element_size())));
}

void saveDataset(const std::string& path, const Dataset& d) {
    Container c;
    c.kind = "dataset";
    nlohmann::json skipped = nlohmann::json::array();
    for (const auto& s : d.report.skipped) {
        skipped.push_back({{"path", s.path}, {"reason", s.reason}});
    }
    c.meta = {{"source", d.source},
              {"hash", d.hash.empty() ? imagesHash(d.images) : d.hash},
              {"folder", d.report.folder},
              {"used", d.report.used},
              {"skipped", skipped}};
    c.records.push_back(toRecord("images", d.images.to(torch::kUInt8)));
    writeContainer(path, c);
}

Dataset loadDataset(const std::string& path) {
    const Container c = readContainer(path);
    if (c.kind != "dataset") {
        throw ModelFileError(path, fmt::format("holds a {}, not a data set", c.kind));
    }
    const Record& r = requireRecord(c, "images", DType::UInt8, path);
    if (r.shape.size() != 4 || r.shape[1] != 3 || r.shape[2] != r.shape[3] || r.shape[0] < 1 ||
        r.shape[2] < 8) {
        throw ModelFileError(path, "the images are not an N x 3 x S x S array");
    }
    Dataset d;
    d.images = toTensor(r);
    try {
        d.source = c.meta.value("source", path);
        d.hash = c.meta.value("hash", imagesHash(d.images));
        d.report.folder = c.meta.value("folder", "");
        d.report.used = c.meta.value("used", std::vector<std::string>{});
        for (const auto& s : c.meta.value("skipped", nlohmann::json::array())) {
            d.report.skipped.push_back(
                {s.at("path").get<std::string>(), s.at("reason").get<std::string>()});
        }
    } catch (const nlohmann::json::exception& e) {
        throw ModelFileError(
            path, fmt::format("the data set description is malformed ({})", briefly(e.what())));
    }
    return d;
}

Dataset resizedDataset(const Dataset& d, int size) {
    if (d.imageSize() == size) {
        return d;
    }
    const auto bytes = static_cast<std::uint64_t>(d.count()) * static_cast<std::uint64_t>(size) *
                       static_cast<std::uint64_t>(size) * 3;
    if (bytes > kMaxDatasetBytes) {
        throw DataError(
            d.source, fmt::format("{} images at {}x{} would take {:.1f} GiB, more than "
                                  "a data set holds ({:.1f} GiB): choose a smaller size",
                                  d.count(), size, size, static_cast<double>(bytes) / (1ULL << 30),
                                  static_cast<double>(kMaxDatasetBytes) / (1ULL << 30)));
    }
    namespace F = torch::nn::functional;
    Dataset out = d;
    const std::vector<int64_t> target{size, size};
    // A slice at a time, so that the float copy stays small whatever the data set's size.
    constexpr int64_t kSlice = 256;
    std::vector<torch::Tensor> parts;
    for (int64_t i = 0; i < d.count(); i += kSlice) {
        const torch::Tensor x =
            d.images.narrow(0, i, std::min(kSlice, d.count() - i)).to(torch::kFloat32);
        const torch::Tensor y =
            size < d.imageSize()
                ? F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions(target))
                : F::interpolate(x, F::InterpolateFuncOptions()
                                        .size(target)
                                        .mode(torch::kBilinear)
                                        .align_corners(false));
        parts.push_back(y.round().clamp(0, 255).to(torch::kUInt8));
    }
    out.images = torch::cat(parts, 0).contiguous();
    out.hash = imagesHash(out.images);
    return out;
}

torch::Tensor toUnitRange(const torch::Tensor& images) {
    return images.to(torch::kFloat32).div(127.5).sub(1.0);
}

torch::Tensor augment(const torch::Tensor& batch, const AugmentConfig& config, Rng& rng) {
    return augment(batch, config, rng, BatchShare::whole(batch.size(0)));
}

torch::Tensor augment(const torch::Tensor& batch, const AugmentConfig& config, Rng& rng,
                      const BatchShare& share) {
    const bool geometric = config.rotateDegrees > 0 || config.scaleJitter > 0 || config.shift > 0;
    if (!geometric && !config.flip) {
        return batch;
    }
    const int64_t n = batch.size(0);
    std::vector<float> theta(static_cast<size_t>(n) * 6);
    for (int64_t at = 0; at < share.total; ++at) {
        const int64_t i = at - share.first;
        const double flip = config.flip && rng.uniform() < 0.5 ? -1.0 : 1.0;
        const double angle = config.rotateDegrees * M_PI / 180.0 * rng.uniform(-1, 1);
        const double scale = 1.0 + config.scaleJitter * rng.uniform(-1, 1);
        const double tx = config.shift * 2.0 * rng.uniform(-1, 1);
        const double ty = config.shift * 2.0 * rng.uniform(-1, 1);
        if (i < 0 || i >= n) {
            continue;  // another process's picture: its draws are taken all the same
        }
        const double c = std::cos(angle) / scale;
        const double s = std::sin(angle) / scale;
        float* t = theta.data() + i * 6;
        t[0] = static_cast<float>(c * flip);
        t[1] = static_cast<float>(-s);
        t[2] = static_cast<float>(tx);
        t[3] = static_cast<float>(s * flip);
        t[4] = static_cast<float>(c);
        t[5] = static_cast<float>(ty);
    }
    if (!geometric) {
        // Flips alone need no resampling.
        const torch::Tensor mirrored =
            torch::tensor(theta, torch::kFloat32).view({n, 6}).select(1, 0) < 0;
        const torch::Tensor mask = mirrored.to(batch.device()).view({n, 1, 1, 1});
        return torch::where(mask, batch.flip({3}), batch);
    }
    namespace F = torch::nn::functional;
    const torch::Tensor t =
        torch::tensor(theta, torch::kFloat32).view({n, 2, 3}).to(batch.device());
    const torch::Tensor grid = F::affine_grid(t, batch.sizes(), false);
    // Sampling (x - 1) with zero padding and adding 1 back makes every uncovered pixel white.
    return F::grid_sample(batch - 1.0, grid,
                          F::GridSampleFuncOptions()
                              .mode(torch::kBilinear)
                              .padding_mode(torch::kZeros)
                              .align_corners(false)) +
           1.0;
}

torch::Tensor augmentedBatch(const torch::Tensor& images, int batchSize,
                             const AugmentConfig& config, Rng& rng) {
    return augmentedBatch(images, BatchShare::whole(batchSize), config, rng);
}

torch::Tensor augmentedBatch(const torch::Tensor& images, const BatchShare& share,
                             const AugmentConfig& config, Rng& rng) {
    std::vector<int64_t> index(static_cast<size_t>(share.total));
    const auto n = static_cast<std::uint64_t>(images.size(0));
    for (auto& i : index) {
        i = static_cast<int64_t>(rng.below(n));
    }
    const torch::Tensor idx =
        torch::tensor(index, torch::kInt64).narrow(0, share.first, share.count).to(images.device());
    return augment(toUnitRange(images.index_select(0, idx)), config, rng, share);
}

void requireImages(const Dataset& d) {
    if (d.count() > 0) {
        return;
    }
    if (d.report.skipped.empty()) {
        throw DataError(d.source, "the folder is empty: there are no images to read");
    }
    std::map<std::string, int> reasons;
    for (const auto& s : d.report.skipped) {
        ++reasons[s.reason];
    }
    std::string summary;
    for (const auto& [reason, count] : reasons) {
        summary += fmt::format("\n  {} x {}", count, reason);
    }
    throw DataError(d.source, fmt::format("no usable images ({} files skipped):{}",
                                          d.report.skipped.size(), summary));
}

}  // namespace cattery
