#include "core/runtime/threads.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <torch/torch.h>

namespace cattery {

int quotaCpus(const std::string& text) {
    std::istringstream in(text);
    std::string quota;
    double period = 0;
    if (!(in >> quota >> period) || quota == "max" || period <= 0) {
        return 0;
    }
    try {
        const double q = std::stod(quota);
        return q > 0 ? static_cast<int>(std::clamp(std::ceil(q / period), 1.0, 4096.0)) : 0;
    } catch (const std::exception&) {
        return 0;  // not a number: no limit we can read
    }
}

namespace {

std::atomic<int> g_trainingShares{0};

std::string readLine(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

// The tightest CPU quota on this process's cgroup and its ancestors (v2), or on its cpu
// controller (v1); 0 for none.
int cgroupCpus() {
    std::ifstream self("/proc/self/cgroup");
    std::string line;
    int best = 0;
    const auto take = [&best](int cpus) {
        if (cpus > 0) {
            best = best > 0 ? std::min(best, cpus) : cpus;
        }
    };
    while (std::getline(self, line)) {
        const auto first = line.find(':');
        const auto second = line.find(':', first + 1);
        if (first == std::string::npos || second == std::string::npos) {
            continue;
        }
        const std::string controllers = line.substr(first + 1, second - first - 1);
        std::string path = line.substr(second + 1);
        if (controllers.empty()) {
            // v2: every level of the hierarchy may cap the CPU time.
            for (;;) {
                take(quotaCpus(readLine("/sys/fs/cgroup" + path + "/cpu.max")));
                if (path.empty() || path == "/") {
                    break;
                }
                path = path.substr(0, path.rfind('/'));
            }
        } else if (("," + controllers + ",").find(",cpu,") != std::string::npos) {
            for (const std::string root : {"/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpu"}) {
                const std::string quota = readLine(root + path + "/cpu.cfs_quota_us");
                const std::string period = readLine(root + path + "/cpu.cfs_period_us");
                if (!quota.empty() && !period.empty()) {
                    take(quota.front() == '-' ? 0 : quotaCpus(quota + " " + period));
                    break;
                }
            }
        }
    }
    return best;
}

// OMP_NUM_THREADS as the user gave it ("4", or a nested list "4,2" whose first entry counts);
// 0 when unset or not a positive number.
int ompNumThreads() {
    const char* value = std::getenv("OMP_NUM_THREADS");
    if (value == nullptr) {
        return 0;
    }
    char* end = nullptr;
    const long n = std::strtol(value, &end, 10);
    return end != value && (*end == '\0' || *end == ',') && n > 0 && n <= 4096 ? static_cast<int>(n)
                                                                               : 0;
}

}  // namespace

int usableCpus() {
    int cpus = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        cpus = std::max(1, CPU_COUNT(&set));
    }
    const int quota = cgroupCpus();
    return quota > 0 ? std::min(cpus, quota) : cpus;
}

int resolveThreads(int requested) {
    if (requested > 0) {
        return requested;
    }
    const int omp = ompNumThreads();
    return omp > 0 ? omp : usableCpus();
}

int configureThreads(int threads) {
    threads = resolveThreads(threads);
    // Changing the count can rebuild a thread pool: only when it differs.
    if (at::get_num_threads() != threads) {
        at::set_num_threads(threads);
    }
    return threads;
}

std::string threadWaitPolicy() {
    for (const char* name : {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT"}) {
        if (const char* value = std::getenv(name); value != nullptr) {
            return std::string(name) + "=" + value;
        }
    }
    return "spinning (OpenMP's default)";
}

ThreadGovernor::ThreadGovernor(int requested)
    : m_adapt(requested <= 0 && ompNumThreads() == 0), m_max(resolveThreads(requested)) {
    m_threads = configureThreads(m_max);
    if (!m_adapt) {
        return;
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
            if (CPU_ISSET(cpu, &set)) {
                m_cpus.push_back(cpu);
            }
        }
    }
    m_last = sample();
    // Without /proc there is nothing to measure: keep every thread.
    m_adapt = !m_cpus.empty() && m_last.busy > 0;
}

ThreadGovernor::Sample ThreadGovernor::sample() const {
    Sample s;
    s.when = std::chrono::steady_clock::now();
    std::ifstream stat("/proc/stat");
    std::string line;
    std::size_t next = 0;  // m_cpus is sorted, as /proc/stat lists the CPUs
    while (std::getline(stat, line) && next < m_cpus.size()) {
        if (line.rfind("cpu", 0) != 0 || line.size() < 4 || line[3] < '0' || line[3] > '9') {
            continue;
        }
        std::istringstream in(line.substr(3));
        int cpu = -1;
        std::uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0,
                      steal = 0;
        in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
        while (next < m_cpus.size() && m_cpus[next] < cpu) {
            ++next;
        }
        if (next < m_cpus.size() && m_cpus[next] == cpu) {
            s.busy += user + nice + system + irq + softirq + steal;
            ++next;
        }
    }
    // utime and stime, the 14th and 15th fields, after the command name in parentheses.
    std::ifstream self("/proc/self/stat");
    std::string text((std::istreambuf_iterator<char>(self)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    if (close != std::string::npos) {
        std::istringstream in(text.substr(close + 2));
        std::string field;
        for (int i = 3; i <= 13 && in >> field; ++i) {
        }
        std::uint64_t utime = 0, stime = 0;
        in >> utime >> stime;
        s.self = utime + stime;
    }
    return s;
}

int ThreadGovernor::update() {
    if (!m_adapt) {
        return m_threads;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - m_last.when < std::chrono::seconds(1)) {
        return m_threads;
    }
    const Sample s = sample();
    const double seconds = std::chrono::duration<double>(s.when - m_last.when).count();
    static const double ticksPerSecond = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double others = (static_cast<double>(s.busy) - static_cast<double>(m_last.busy) -
                           (static_cast<double>(s.self) - static_cast<double>(m_last.self))) /
                          (ticksPerSecond * seconds);
    m_last = s;
    const double free = static_cast<double>(m_cpus.size()) - std::max(0.0, others);
    const int target = std::clamp(static_cast<int>(std::lround(free)), 1, m_max);
    // One odd second (a burst of another program) does not change anything.
    if (target == m_threads) {
        m_pending = 0;
    } else if (target != m_pending) {
        m_pending = target;
    } else {
        m_threads = configureThreads(target);
        m_pending = 0;
    }
    return m_threads;
}

TrainingShare::TrainingShare() {
    ++g_trainingShares;
}

TrainingShare::~TrainingShare() {
    --g_trainingShares;
}

int drawingThreads() {
    return g_trainingShares.load() > 0 ? 1 : resolveThreads(0);
}

}  // namespace cattery
