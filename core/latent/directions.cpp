#include "core/latent/directions.h"

#include <algorithm>
#include <tuple>

#include <fmt/format.h>

#include "core/errors.h"
#include "core/latent/latentspace.h"

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
    {
        std::vector<torch::Tensor> parts;
        constexpr int kBatch = 256;
        for (int at = 0; at < samples; at += kBatch) {
            const int n = std::min(kBatch, samples - at);
            const torch::Tensor batch = z.narrow(0, at, n).to(torch::kFloat32).to(device);
            // Pictures at a quarter of their size (16x16 at 64x64): the shapes that change, at a
            // fraction of the cost.
            const torch::Tensor f =
                which == DirectionFeatures::Opening
                    ? g->opening(batch)
                    : torch::adaptive_avg_pool2d(g->forward(batch), {kPictureSide, kPictureSide});
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
    const int k = static_cast<int>(std::min<std::int64_t>(count, eigenvalues.size(0)));
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

torch::Tensor moveAlong(const torch::Tensor& z, const torch::Tensor& direction, double sigmas) {
    if (direction.dim() != 1 || z.size(-1) != direction.size(0)) {
        throw ConfigError("the direction and the latent differ in length");
    }
    return z + direction.to(z.dtype()) * sigmas;
}

}  // namespace cattery
