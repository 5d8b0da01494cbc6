#pragma once

#include <cstdint>
#include <string>

namespace cattery {

struct StepStats;
struct TrainScore;
enum class Objective;

// A step's losses as the progress line shows them: BEGAN's "L(x) 0.1234 L(G(z)) 0.1200 | k
// 0.0312 | M 0.1300"; the hinge objective's "rebuild 0.1234 | D 1.5000 G 0.2500".
std::string describeLosses(const StepStats& stats, Objective objective);

// How the generator kept stands among the run's scores: the lowest of them all (Best); the recent
// best (Trainer::recentBestScore) where an early score was lower (RecentBest); or a later one,
// within kKeepLaterWithin (trainconfig.h) of the recent best (Later).
enum class KeptAs { Best, RecentBest, Later };
KeptAs keptAs(const TrainScore& kept, double recentBestSwd, double lowestSwd);
// The generator kept, in plain words, given the run's recent best and its lowest score: "the
// best-scoring generator, step 2500, SWD 110.2, diversity 0.91"; "the generator of step 9500, SWD
// 118.0, diversity 0.94: within 15 % of the recent best, 110.2, and further trained"; or, when an
// early score was lower, "the best-scoring generator of the run's later half, step 5000, SWD
// 124.2, diversity 0.95 (an early one scored 81.9)".
std::string describeKeptScore(const TrainScore& kept, double recentBestSwd, double lowestSwd);
// Why a later generator was kept: "within 15 % of the recent best, 110.2, and further trained".
std::string describeKeptMargin(double recentBestSwd);
// The same in a few words for a live line: "best 110.2 @ 2500", "kept 118.0 @ 9500, recent best
// 110.2", "kept 124.2 @ 5000, early best 81.9".
std::string describeKeptBriefly(const TrainScore& kept, double recentBestSwd, double lowestSwd);

// "1:05", "2:03:04", or "--:--" for an unknown time.
std::string formatDuration(double seconds);

// A run's pace as both front ends show it: images per second smoothed over the last steps, and
// the time left at that pace.
class ProgressMeter {
public:
    ProgressMeter(std::int64_t totalSteps, int batchSize)
        : m_total(totalSteps), m_batch(batchSize) {}
    void update(const StepStats& stats);
    double imagesPerSecond() const { return m_rate; }
    // Seconds to the last step from `step` (negative while the pace is unknown).
    double etaSeconds(std::int64_t step) const;
    std::int64_t total() const { return m_total; }

private:
    std::int64_t m_total;
    int m_batch;
    double m_rate = 0;
};

}  // namespace cattery
