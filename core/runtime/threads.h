#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

// How many threads run the model, and how they wait. Free of LibTorch, so that the window's headers
// can use it.
namespace cattery {

// The CPUs this process may actually use: its affinity mask (taskset, a container's cpuset),
// capped by a cgroup CPU quota (docker --cpus), at least 1.
int usableCpus();
// A cgroup v2 "cpu.max" ("max 100000", "150000 100000") as whole CPUs, rounded up; 0: no limit.
int quotaCpus(const std::string& cpuMax);
// The thread count that `requested` means: itself when positive, else the user's OMP_NUM_THREADS
// when set, else usableCpus().
int resolveThreads(int requested);
// Sets LibTorch's thread count for the calling thread's work (resolveThreads(threads)) and
// returns it. Call at the start of each thread that runs the model.
int configureThreads(int threads = 0);
// How OpenMP's threads wait, as chosen at start-up: "passive" (ours), or the user's own
// "OMP_WAIT_POLICY=..." or "GOMP_SPINCOUNT=...".
std::string threadWaitPolicy();

// Keeps a long job's thread count to the CPUs that other processes leave free (two threads on
// two quiet cores, one when a browser or another training run takes a core): with OpenMP's
// static split of every operation, a thread that has to share its core holds the others up at
// each barrier, so fewer threads beat more as soon as the machine is busy.
class ThreadGovernor {
public:
    // `requested` > 0 fixes the count (the user's --threads); 0 adapts, up to resolveThreads(0).
    explicit ThreadGovernor(int requested = 0);
    // Call between steps on the thread that runs the model: at most once a second it measures
    // how much CPU time other processes took since the last look and sets the thread count.
    // Returns the count in force.
    int update();
    int threads() const { return m_threads; }

private:
    struct Sample {
        std::uint64_t busy = 0;  // ticks of the usable CPUs spent on any process
        std::uint64_t self = 0;  // ticks spent on this one
        std::chrono::steady_clock::time_point when;
    };
    Sample sample() const;

    bool m_adapt = false;
    int m_max = 1;
    int m_threads = 1;
    int m_pending = 0;  // a different count seen once: taken when seen twice in a row
    std::vector<int> m_cpus;
    Sample m_last;
};

// While one of these lives, a training run shares this process's CPUs with drawing, and drawing
// keeps to one thread so the two do not fight over the cores (the window trains while you explore).
class TrainingShare {
public:
    TrainingShare();
    ~TrainingShare();
    TrainingShare(const TrainingShare&) = delete;
    TrainingShare& operator=(const TrainingShare&) = delete;
};
// Threads for drawing now: one while a TrainingShare lives, else resolveThreads(0).
int drawingThreads();

}  // namespace cattery
