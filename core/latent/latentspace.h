#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace cattery {

// The model's latent space and its fixed dim x 3 Gaussian projection P: three numbers v become
// z = P v. For a 3-d latent P is the identity, so the three numbers are the whole latent.
class LatentSpace {
public:
    LatentSpace() = default;
    // Draws P from the seed (the same P on every machine).
    LatentSpace(int dim, std::uint64_t seed);
    // Takes a stored P (dim x 3, float32); throws ConfigError if its shape is wrong.
    LatentSpace(torch::Tensor projection, std::uint64_t seed);

    int dim() const { return m_dim; }
    std::uint64_t seed() const { return m_seed; }
    const torch::Tensor& projection() const { return m_projection; }

    // v is (3) or (N, 3); the result is (dim) or (N, dim).
    torch::Tensor fromThree(const torch::Tensor& v) const;
    torch::Tensor fromThree(const std::array<float, 3>& v) const;
    // Least-squares three numbers of any z: (dim) -> (3), (N, dim) -> (N, 3).
    torch::Tensor toThree(const torch::Tensor& z) const;
    // The part of z that P cannot express: z - P toThree(z). Adding it back keeps a dropped cat.
    torch::Tensor residual(const torch::Tensor& z) const;

private:
    int m_dim = 0;
    std::uint64_t m_seed = 0;
    torch::Tensor m_projection;  // dim x 3, float32
    torch::Tensor m_pinv;        // 3 x dim, float64: (P^T P)^-1 P^T
};

enum class Interpolation { Linear, Spherical };

// (1 - t) a + t b: exactly a at t = 0 and exactly b at t = 1.
torch::Tensor lerp(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& t);
// Spherical interpolation along the last dimension; falls back to lerp for (anti)parallel rows.
torch::Tensor slerp(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& t);
torch::Tensor interpolate(const torch::Tensor& a, const torch::Tensor& b, double t,
                          Interpolation mode);

// Corners in the order top-left, top-right, bottom-left, bottom-right.
enum Corner { TopLeft = 0, TopRight = 1, BottomLeft = 2, BottomRight = 3 };

// The demo's grid: interpolate down the left and right columns, then across each row.
// Returns (n * n, dim), row-major; cell (0, 0) is the top-left corner itself.
torch::Tensor cornerGrid(const std::array<torch::Tensor, 4>& corners, int n,
                         Interpolation mode = Interpolation::Linear);
// A closed path through `points` (N x dim, N >= 2): `framesPerLeg` latents from each point towards
// the next, the last leg back to the first, so that the path loops without a repeated frame;
// (N * framesPerLeg, dim), starting at the first point.
torch::Tensor loopPath(const torch::Tensor& points, int framesPerLeg,
                       Interpolation mode = Interpolation::Linear);
// The morph grid's corners as such a loop, around the grid's edge: top-left, top-right,
// bottom-right, bottom-left and back.
torch::Tensor cornerLoop(const std::array<torch::Tensor, 4>& corners, int framesPerLeg,
                         Interpolation mode = Interpolation::Linear);
inline constexpr int kMostFramesPerLeg = 10000;

// Row-major indices of the cells whose latent depends on the given corner.
std::vector<int> affectedCells(int corner, int n);

// A - B + C.
torch::Tensor arithmetic(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& c);

// count x dim standard normal latents from a seed. truncation > 0 redraws every value whose
// magnitude exceeds it (fewer malformed samples, less variety); truncation <= 0 keeps them all.
torch::Tensor sampleLatents(int count, int dim, std::uint64_t seed, double truncation = 0.0);

}  // namespace cattery
