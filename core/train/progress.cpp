#include "core/train/progress.h"

#include <cmath>

#include <fmt/format.h>

#include "core/train/trainconfig.h"

namespace cattery {

std::string formatDuration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e9) {
        return "--:--";
    }
    const auto s = static_cast<long long>(seconds + 0.5);
    if (s >= 3600) {
        return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
    }
    return fmt::format("{}:{:02}", s / 60, s % 60);
}

KeptAs keptAs(const TrainScore& kept, double recentBestSwd, double lowestSwd) {
    if (kept.swd > recentBestSwd) {
        return KeptAs::Later;
    }
    return kept.swd > lowestSwd ? KeptAs::RecentBest : KeptAs::Best;
}

std::string describeKeptMargin(double recentBestSwd) {
    return fmt::format("within {:g} % of the recent best, {:.1f}, and further trained",
                       kKeepLaterWithin * 100, recentBestSwd);
}

std::string describeKeptScore(const TrainScore& kept, double recentBestSwd, double lowestSwd) {
    switch (keptAs(kept, recentBestSwd, lowestSwd)) {
        case KeptAs::Later:
            return fmt::format("the generator of step {}, SWD {:.1f}, diversity {:.2f}: {}",
                               kept.step, kept.swd, kept.diversity,
                               describeKeptMargin(recentBestSwd));
        case KeptAs::RecentBest:
            return fmt::format(
                "the best-scoring generator of the run's later half, step {}, SWD {:.1f}, "
                "diversity {:.2f} (an early one scored {:.1f})",
                kept.step, kept.swd, kept.diversity, lowestSwd);
        case KeptAs::Best:
            break;
    }
    return fmt::format("the best-scoring generator, step {}, SWD {:.1f}, diversity {:.2f}",
                       kept.step, kept.swd, kept.diversity);
}

std::string describeKeptBriefly(const TrainScore& kept, double recentBestSwd, double lowestSwd) {
    switch (keptAs(kept, recentBestSwd, lowestSwd)) {
        case KeptAs::Later:
            return fmt::format("kept {:.1f} @ {}, recent best {:.1f}", kept.swd, kept.step,
                               recentBestSwd);
        case KeptAs::RecentBest:
            return fmt::format("kept {:.1f} @ {}, early best {:.1f}", kept.swd, kept.step,
                               lowestSwd);
        case KeptAs::Best:
            break;
    }
    return fmt::format("best {:.1f} @ {}", kept.swd, kept.step);
}

std::string describeLosses(const StepStats& s, Objective objective) {
    if (objective == Objective::Hinge) {
        std::string out =
            fmt::format("rebuild {:.4f} | D {:.4f} G {:.4f}", s.lossReal, s.lossD, s.lossG);
        if (s.coverError > 0) {
            out += fmt::format(" | cover {:.4f}", s.coverError);
        }
        return out;
    }
    return fmt::format("L(x) {:.4f} L(G(z)) {:.4f} | k {:.4f} | M {:.4f}", s.lossReal, s.lossFake,
                       s.k, s.convergence);
}

void ProgressMeter::update(const StepStats& stats) {
    if (!(stats.imagesPerSecond > 0) || !std::isfinite(stats.imagesPerSecond)) {
        return;
    }
    m_rate = m_rate <= 0 ? stats.imagesPerSecond : 0.9 * m_rate + 0.1 * stats.imagesPerSecond;
}

double ProgressMeter::etaSeconds(std::int64_t step) const {
    return m_rate > 0 && m_batch > 0 ? static_cast<double>(m_total - step) * m_batch / m_rate
                                     : -1.0;
}

}  // namespace cattery
