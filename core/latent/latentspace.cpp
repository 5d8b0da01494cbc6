#include "core/latent/latentspace.h"

#include <cmath>

#include <fmt/format.h>

#include "core/errors.h"
#include "core/latent/rng.h"

namespace cattery {
namespace {

// (P^T P)^-1 P^T in double precision, by the 3x3 adjugate: no LAPACK needed.
torch::Tensor pseudoInverse(const torch::Tensor& projection) {
    const torch::Tensor p = projection.to(torch::kFloat64);
    const torch::Tensor gram = p.t().mm(p).contiguous();
    const auto g = gram.accessor<double, 2>();
    const double c00 = g[1][1] * g[2][2] - g[1][2] * g[2][1];
    const double c01 = g[0][2] * g[2][1] - g[0][1] * g[2][2];
    const double c02 = g[0][1] * g[1][2] - g[0][2] * g[1][1];
    const double c10 = g[1][2] * g[2][0] - g[1][0] * g[2][2];
    const double c11 = g[0][0] * g[2][2] - g[0][2] * g[2][0];
    const double c12 = g[0][2] * g[1][0] - g[0][0] * g[1][2];
    const double c20 = g[1][0] * g[2][1] - g[1][1] * g[2][0];
    const double c21 = g[0][1] * g[2][0] - g[0][0] * g[2][1];
    const double c22 = g[0][0] * g[1][1] - g[0][1] * g[1][0];
    const double det = g[0][0] * c00 + g[0][1] * c10 + g[0][2] * c20;
    if (!(std::abs(det) > 1e-12)) {
        throw ConfigError("the latent projection P is singular (its three columns are dependent)");
    }
    const torch::Tensor inv =
        torch::tensor({c00, c01, c02, c10, c11, c12, c20, c21, c22}, torch::kFloat64).view({3, 3}) /
        det;
    return inv.mm(p.t()).contiguous();
}

}  // namespace

LatentSpace::LatentSpace(int dim, std::uint64_t seed) : m_dim(dim), m_seed(seed) {
    if (dim < 3 || dim > 512) {
        throw ConfigError(fmt::format("latent dimension {} is out of range (3 to 512)", dim));
    }
    if (dim == 3) {
        m_projection = torch::eye(3, torch::kFloat32);
    } else {
        Rng rng(seed);
        std::vector<float> values(static_cast<size_t>(dim) * 3);
        for (auto& v : values) {
            v = static_cast<float>(rng.normal());
        }
        m_projection = torch::tensor(values, torch::kFloat32).view({dim, 3});
    }
    m_pinv = pseudoInverse(m_projection);
}

LatentSpace::LatentSpace(torch::Tensor projection, std::uint64_t seed) : m_seed(seed) {
    if (projection.dim() != 2 || projection.size(1) != 3 || projection.size(0) < 3 ||
        projection.size(0) > 512) {
        throw ConfigError(
            "the latent projection P must be a dim x 3 matrix with dim from 3 to 512");
    }
    if (!torch::isfinite(projection).all().item<bool>()) {
        throw ConfigError("the latent projection P holds NaN or infinite values");
    }
    m_projection = projection.to(torch::kFloat32).contiguous();
    m_dim = static_cast<int>(m_projection.size(0));
    m_pinv = pseudoInverse(m_projection);
}

torch::Tensor LatentSpace::fromThree(const torch::Tensor& v) const {
    const torch::Tensor vf = v.to(torch::kFloat32);
    if (vf.dim() == 1) {
        return m_projection.mv(vf);
    }
    return vf.mm(m_projection.t());
}

torch::Tensor LatentSpace::fromThree(const std::array<float, 3>& v) const {
    return fromThree(torch::tensor({v[0], v[1], v[2]}, torch::kFloat32));
}

torch::Tensor LatentSpace::toThree(const torch::Tensor& z) const {
    const torch::Tensor zd = z.to(torch::kFloat64);
    if (zd.dim() == 1) {
        return m_pinv.mv(zd).to(torch::kFloat32);
    }
    return zd.mm(m_pinv.t()).to(torch::kFloat32);
}

torch::Tensor LatentSpace::residual(const torch::Tensor& z) const {
    return z.to(torch::kFloat32) - fromThree(toThree(z));
}

torch::Tensor lerp(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& t) {
    return (1.0 - t) * a + t * b;
}

torch::Tensor slerp(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& t) {
    const torch::Tensor na = a.norm(2, -1, true);
    const torch::Tensor nb = b.norm(2, -1, true);
    const torch::Tensor cosine = ((a * b).sum(-1, true) / (na * nb).clamp_min(1e-12)).clamp(-1, 1);
    const torch::Tensor theta = torch::acos(cosine);
    const torch::Tensor sinTheta = torch::sin(theta);
    const torch::Tensor safe = sinTheta.abs() > 1e-6;
    const torch::Tensor denom = torch::where(safe, sinTheta, torch::ones_like(sinTheta));
    const torch::Tensor wa = torch::where(safe, torch::sin((1.0 - t) * theta) / denom, 1.0 - t);
    const torch::Tensor wb = torch::where(safe, torch::sin(t * theta) / denom, t);
    return wa * a + wb * b;
}

torch::Tensor interpolate(const torch::Tensor& a, const torch::Tensor& b, double t,
                          Interpolation mode) {
    const torch::Tensor tt = torch::full({1}, t, a.options());
    return mode == Interpolation::Spherical ? cattery::slerp(a, b, tt) : cattery::lerp(a, b, tt);
}

torch::Tensor cornerGrid(const std::array<torch::Tensor, 4>& corners, int n, Interpolation mode) {
    if (n < 2) {
        throw ConfigError(fmt::format("a corner grid needs at least 2 x 2 cells, not {}", n));
    }
    const int64_t dim = corners[0].size(-1);
    for (const auto& c : corners) {
        if (c.dim() != 1 || c.size(0) != dim) {
            throw ConfigError("the four corners must be latents of the same dimension");
        }
    }
    auto mix = [mode](const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& t) {
        return mode == Interpolation::Spherical ? cattery::slerp(a, b, t) : cattery::lerp(a, b, t);
    };
    const auto opts = corners[0].options().dtype(torch::kFloat32);
    // Weights i / (n - 1) are exactly 0 and 1 at the ends, so edge cells ignore far corners.
    const torch::Tensor t = torch::arange(n, opts) / static_cast<float>(n - 1);
    const torch::Tensor rows = t.view({n, 1});
    const torch::Tensor left =
        mix(corners[TopLeft].expand({n, dim}), corners[BottomLeft].expand({n, dim}), rows);
    const torch::Tensor right =
        mix(corners[TopRight].expand({n, dim}), corners[BottomRight].expand({n, dim}), rows);
    const torch::Tensor cols = t.view({1, n, 1});
    const torch::Tensor grid =
        mix(left.unsqueeze(1).expand({n, n, dim}), right.unsqueeze(1).expand({n, n, dim}), cols);
    return grid.reshape({n * n, dim}).contiguous();
}

torch::Tensor loopPath(const torch::Tensor& points, int framesPerLeg, Interpolation mode) {
    if (points.dim() != 2 || points.size(0) < 2) {
        throw ConfigError("a loop needs at least two latents of the same dimension");
    }
    if (framesPerLeg < 1 || framesPerLeg > kMostFramesPerLeg) {
        throw ConfigError(
            fmt::format("{} frames from one latent to the next is out of range (1 to "
                        "{})",
                        framesPerLeg, kMostFramesPerLeg));
    }
    const int64_t n = points.size(0);
    const int64_t dim = points.size(1);
    const torch::Tensor from = points.to(torch::kFloat32);
    const torch::Tensor to = from.roll(-1, 0);
    // t = k / framesPerLeg for k below framesPerLeg: each leg starts at its point exactly and stops
    // one frame short of the next, which starts the next leg.
    const torch::Tensor t =
        (torch::arange(framesPerLeg, torch::kFloat32) / static_cast<float>(framesPerLeg))
            .view({1, framesPerLeg, 1});
    const torch::Tensor a = from.unsqueeze(1).expand({n, framesPerLeg, dim});
    const torch::Tensor b = to.unsqueeze(1).expand({n, framesPerLeg, dim});
    const torch::Tensor path =
        mode == Interpolation::Spherical ? cattery::slerp(a, b, t) : cattery::lerp(a, b, t);
    return path.reshape({n * framesPerLeg, dim}).contiguous();
}

torch::Tensor cornerLoop(const std::array<torch::Tensor, 4>& corners, int framesPerLeg,
                         Interpolation mode) {
    for (const auto& c : corners) {
        if (c.dim() != 1 || c.size(0) != corners[0].size(0)) {
            throw ConfigError("the four corners must be latents of the same dimension");
        }
    }
    return loopPath(torch::stack({corners[TopLeft], corners[TopRight], corners[BottomRight],
                                  corners[BottomLeft]}),
                    framesPerLeg, mode);
}

std::vector<int> affectedCells(int corner, int n) {
    if (corner < 0 || corner > 3) {
        throw ConfigError(fmt::format("corner index {} is out of range (0 to 3)", corner));
    }
    const bool top = corner == TopLeft || corner == TopRight;
    const bool leftSide = corner == TopLeft || corner == BottomLeft;
    std::vector<int> cells;
    for (int r = 0; r < n; ++r) {
        for (int c = 0; c < n; ++c) {
            const bool rowOk = top ? r < n - 1 : r > 0;
            const bool colOk = leftSide ? c < n - 1 : c > 0;
            if (rowOk && colOk) {
                cells.push_back(r * n + c);
            }
        }
    }
    return cells;
}

torch::Tensor arithmetic(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& c) {
    return a - b + c;
}

torch::Tensor sampleLatents(int count, int dim, std::uint64_t seed, double truncation) {
    if (count < 0 || dim < 1) {
        throw ConfigError(fmt::format("cannot sample {} latents of dimension {}", count, dim));
    }
    if (truncation > 0.0 && truncation < 0.05) {
        throw ConfigError(fmt::format(
            "truncation {} is too small (use 0.05 or more, or 0 for none)", truncation));
    }
    Rng rng(seed);
    std::vector<float> values(static_cast<size_t>(count) * static_cast<size_t>(dim));
    for (auto& v : values) {
        double x = rng.normal();
        if (truncation > 0.0) {
            while (std::abs(x) > truncation) {
                x = rng.normal();
            }
        }
        v = static_cast<float>(x);
    }
    return torch::tensor(values, torch::kFloat32).view({count, dim});
}

}  // namespace cattery
