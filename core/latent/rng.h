#pragma once

#include <array>
#include <cstdint>

namespace cattery {

// A small, fully specified random generator (xoshiro256**, seeded by splitmix64), so that the same
// seed gives the same numbers on every machine and its whole state fits in a checkpoint.
class Rng {
public:
    using State = std::array<std::uint64_t, 4>;

    explicit Rng(std::uint64_t seed = 0);

    std::uint64_t next();
    // Uniform in [0, 1).
    double uniform();
    // Uniform in [lo, hi).
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
    // Uniform integer in [0, n).
    std::uint64_t below(std::uint64_t n);
    // Standard normal (Box-Muller; one value per call, no hidden cache).
    double normal();

    State state() const { return m_state; }
    void setState(const State& state) { m_state = state; }

private:
    State m_state{};
};

}  // namespace cattery
