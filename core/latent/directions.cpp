#include "core/latent/directions.h"

#include <algorithm>
#include <optional>
#include <tuple>

#include <fmt/format.h>

#include "core/errors.h"
#include "core/io/container.h"
#include "core/io/jsonfield.h"
#include "core/io/tensorio.h"
#include "core/latent/latentspace.h"
#include "core/runtime/inference.h"

namespace cattery {
namespace {

constexpr int kPictureSide = 16;

}  // namespace

Directions principalDirections(const Generator& generator, int latentDim, int count, int samples,
                               std::uint64_t seed, DirectionFeatures which) {
    if (count < 1 || count > kMostDirections) {
        throw ConfigError(
            fmt::format("{} directions is out of range (1 to {})", count, kMostDirections));
    }
    if (samples < kLeastDirectionSamples || samples > kMostDirectionSamples || samples <= count) {
        throw ConfigError(fmt::format("{} samples for {} directions is out of range ({} to {})",
                                      samples, count, std::max(kLeastDirectionSamples, count + 1),
                                      kMostDirectionSamples));
    }
    c10::InferenceMode inference;
    Generator g = generator;  // the same network: a holder of it that may run it
    const torch::Tensor z = sampleLatents(samples, latentDim, seed).to(torch::kFloat64);
    // The features, centred: samples x D.
    torch::Tensor features;
    const torch::Device device = g->parameters().front().device();
    // The pictures come from the renderer's folded network: the same pictures, in half the time of
    // the module's own forward pass.
    std::optional<InferenceGenerator> fast;
    if (which == DirectionFeatures::Pictures) {
        fast.emplace(generator, device);
    }
    {
        std::vector<torch::Tensor> parts;
        // Small batches: at 256 the activations outgrow the caches, and 500 samples of the nf 32
        // Chubby took 2.7 times as long.
        constexpr int kBatch = 32;
        for (int at = 0; at < samples; at += kBatch) {
            const int n = std::min(kBatch, samples - at);
            const torch::Tensor batch = z.narrow(0, at, n).to(torch::kFloat32).to(device);
            // Pictures at a quarter of their size (16x16 at 64x64): the shapes that change, at a
            // fraction of the cost.
            const torch::Tensor f = which == DirectionFeatures::Opening
                                        ? g->opening(batch)
                                        : torch::adaptive_avg_pool2d(fast->forward(batch),
                                                                     {kPictureSide, kPictureSide});
            parts.push_back(f.flatten(1).to(torch::kCPU, torch::kFloat64));
        }
        features = torch::cat(parts);
    }
    features = features - features.mean(0, true);
    // The principal components from the smaller of the features' covariance (D x D) and the
    // samples' Gram matrix (N x N), whose eigenvectors are the components' coordinates.
    const bool covariance = features.size(1) <= features.size(0);
    const auto [eigenvalues, eigenvectors] = torch::linalg::eigh(
        covariance ? features.t().mm(features) : features.mm(features.t()), "L");
    // No more directions than the latent space has dimensions, nor than the features have.
    const int k = static_cast<int>(
        std::min<std::int64_t>({count, eigenvalues.size(0), static_cast<std::int64_t>(latentDim)}));
    // eigh sorts ascending: the largest last.
    const torch::Tensor top = eigenvalues.flip(0).narrow(0, 0, k).clamp_min(0);
    const torch::Tensor leading = eigenvectors.flip(1).narrow(1, 0, k);
    const torch::Tensor coordinates =
        covariance ? features.mm(leading) : leading * top.sqrt();  // N x k
    // Each component carried back to z: the least-squares map from the coordinates to the latents.
    const torch::Tensor map =
        std::get<0>(torch::linalg::lstsq(coordinates, z, c10::nullopt, c10::nullopt));  // k x dim
    // Orthonormal in order (QR of the transpose keeps the first direction's line exactly).
    const auto [q, r] = torch::linalg::qr(map.t(), "reduced");
    // QR may flip a direction's sign: keep each pointing as its regression did.
    const torch::Tensor diagonal = r.diagonal();
    const torch::Tensor signs =
        torch::where(diagonal < 0, -torch::ones_like(diagonal), torch::ones_like(diagonal));
    Directions d;
    d.vectors = (q * signs.view({1, k})).t().contiguous().to(torch::kFloat32);
    const double total = eigenvalues.clamp_min(0).sum().item<double>();
    for (int i = 0; i < k; ++i) {
        d.variance.push_back(total > 0 ? top[i].item<double>() / total : 0.0);
    }
    return d;
}

std::uint32_t generatorFingerprint(const Generator& generator) {
    std::uint32_t crc = 0;
    const auto add = [&crc](const torch::Tensor& t) {
        const torch::Tensor cpu = t.detach().to(torch::kCPU).contiguous();
        crc =
            crc32(cpu.data_ptr(), static_cast<std::size_t>(cpu.numel()) * cpu.element_size(), crc);
    };
    for (const auto& item : generator->named_parameters(true)) {
        add(item.value());
    }
    for (const auto& item : generator->named_buffers(true)) {
        add(item.value());
    }
    return crc;
}

torch::Tensor attributeDirection(const torch::Tensor& selected, int samples, std::uint64_t seed) {
    if (selected.dim() != 2 || selected.size(0) < 1) {
        throw ConfigError("a direction from a selection needs at least one selected cat");
    }
    if (samples < 1 || samples > kMostDirectionSamples) {
        throw ConfigError(fmt::format("{} random samples is out of range (1 to {})", samples,
                                      kMostDirectionSamples));
    }
    const torch::Tensor random =
        sampleLatents(samples, static_cast<int>(selected.size(1)), seed).to(torch::kFloat64);
    return (selected.to(torch::kFloat64).mean(0) - random.mean(0)).to(torch::kFloat32);
}

void saveDirections(const std::string& path, const Directions& d) {
    const std::int64_t count = d.vectors.size(0);
    if (d.vectors.dim() != 2 || count < 1 || count > kMostDirections ||
        d.variance.size() != static_cast<std::size_t>(count) ||
        d.names.size() > static_cast<std::size_t>(count)) {
        throw ConfigError("the directions to save are malformed");
    }
    Container c;
    c.kind = "directions";
    c.meta["latent_dim"] = d.vectors.size(1);
    c.meta["variance"] = d.variance;
    c.meta["names"] = d.names;
    if (d.generator != 0) {
        c.meta["generator"] = d.generator;
    }
    c.records.push_back(toRecord("vectors", d.vectors.to(torch::kFloat32).contiguous()));
    writeContainer(path, c);
}

Directions loadDirections(const std::string& path, int latentDim) {
    // A directions file is small: more than this is not one.
    const std::uint64_t most =
        static_cast<std::uint64_t>(kMostDirections) * static_cast<std::uint64_t>(latentDim) * 4 +
        (1 << 20);
    const Container header = readContainerHeader(path);
    if (header.kind != "directions") {
        throw ModelFileError(
            path, fmt::format("holds a {}, not a model's directions", briefly(header.kind, 40)));
    }
    Directions d;
    try {
        const int dim = jsonField<int>(header.meta, "latent_dim");
        if (dim != latentDim) {
            throw ModelFileError(path, fmt::format("its directions are for latents of {} numbers; "
                                                   "this model takes {}",
                                                   dim, latentDim));
        }
        const auto& variance = header.meta.at("variance");
        const auto& names = header.meta.at("names");
        if (!variance.is_array() || variance.empty() ||
            variance.size() > static_cast<std::size_t>(kMostDirections) || !names.is_array() ||
            names.size() > variance.size()) {
            throw ModelFileError(path, "the number of directions is out of range");
        }
        for (const auto& v : variance) {
            const double share = jsonValue<double>(v, "variance");
            if (!(share >= 0 && share <= 1)) {
                throw ModelFileError(path, "a share of the variance is not between 0 and 1");
            }
            d.variance.push_back(share);
        }
        if (header.meta.contains("generator")) {
            d.generator = jsonField<std::uint32_t>(header.meta, "generator");
        }
        for (const auto& n : names) {
            std::string name = jsonValue<std::string>(n, "names");
            if (name.size() > kMostDirectionNameLength) {
                throw ModelFileError(path, "a direction's name is too long");
            }
            d.names.push_back(std::move(name));
        }
    } catch (const ConfigError& e) {
        throw ModelFileError(path, briefly(e.what()));
    } catch (const nlohmann::json::exception& e) {
        throw ModelFileError(path,
                             fmt::format("the directions are incomplete ({})", briefly(e.what())));
    }
    // The whole file, at most the size the header allows for.
    const auto count = static_cast<std::int64_t>(d.variance.size());
    const Container c = readContainer(path, most);
    const Record& record = requireRecord(c, "vectors", DType::Float32, path);
    if (record.shape != std::vector<std::int64_t>{count, latentDim}) {
        throw ModelFileError(path, fmt::format("the vectors are not {} x {}", count, latentDim));
    }
    d.vectors = toTensor(record);
    if (!torch::isfinite(d.vectors).all().item<bool>()) {
        throw ModelFileError(path, "the vectors hold values that are not finite numbers");
    }
    return d;
}

torch::Tensor moveAlong(const torch::Tensor& z, const torch::Tensor& direction, double sigmas) {
    if (direction.dim() != 1 || z.size(-1) != direction.size(0)) {
        throw ConfigError("the direction and the latent differ in length");
    }
    return z + direction.to(z.dtype()) * sigmas;
}

}  // namespace cattery
