#include "core/train/distributed.h"

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string_view>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/version.h>
// LibTorch built with Gloo (Debian's, the official ones) trains across processes; another says so.
#if defined(USE_C10D_GLOO) && __has_include(<gloo/algorithm.h>)
#define CATTERY_WITH_C10D 1
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#endif

#include "core/errors.h"

namespace cattery {
namespace {

constexpr int kMostProcesses = 4096;
// How often each rank says, through the store, that it is still there.
constexpr std::chrono::milliseconds kBeat{500};

std::string beatKey(int rank) {
    return fmt::format("cattery/beat/{}", rank);
}
std::string callsKey(int rank) {
    return fmt::format("cattery/calls/{}", rank);
}
std::vector<std::uint8_t> bytesOf(std::int64_t n) {
    const std::string text = std::to_string(n);
    return {text.begin(), text.end()};
}

// A whole number in [lo, hi] from the variable's text, or ConfigError naming the variable.
int wholeNumber(const char* name, std::string_view text, int lo, int hi) {
    int value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < lo ||
        value > hi) {
        throw ConfigError(fmt::format("{}={} is not a whole number from {} to {}", name,
                                      briefly(text, 40), lo, hi));
    }
    return value;
}

// What c10d threw, for a message about the run: its first line, cut short.
std::string firstLine(const std::exception& e) {
    const std::string_view what = e.what();
    return briefly(what.substr(0, what.find('\n')));
}

}  // namespace

WorldSettings worldFromEnvironment(const EnvironmentLookup& lookup) {
    const char* size = lookup("WORLD_SIZE");
    const char* rank = lookup("RANK");
    WorldSettings w;
    if (size == nullptr) {
        if (rank != nullptr) {
            throw ConfigError(
                "RANK is set but WORLD_SIZE is not: set both, or neither for one "
                "process");
        }
        return w;
    }
    w.size = wholeNumber("WORLD_SIZE", size, 1, kMostProcesses);
    if (rank == nullptr) {
        if (w.size > 1) {
            throw ConfigError(
                fmt::format("WORLD_SIZE={} but RANK is not set: give each process "
                            "its rank, 0 to {}",
                            w.size, w.size - 1));
        }
    } else {
        w.rank = wholeNumber("RANK", rank, 0, kMostProcesses);
        if (w.rank >= w.size) {
            throw ConfigError(fmt::format("RANK={} is outside a world of {} processes (0 to {})",
                                          w.rank, w.size, w.size - 1));
        }
    }
    const char* local = lookup("LOCAL_RANK");
    w.localRank = local != nullptr ? wholeNumber("LOCAL_RANK", local, 0, w.size - 1) : w.rank;
    if (!w.spread()) {
        return w;
    }
    const char* addr = lookup("MASTER_ADDR");
    const char* port = lookup("MASTER_PORT");
    if (addr == nullptr || *addr == '\0') {
        throw ConfigError(
            fmt::format("WORLD_SIZE={} needs MASTER_ADDR: the host of rank 0, where "
                        "the processes meet",
                        w.size));
    }
    if (port == nullptr) {
        throw ConfigError(fmt::format(
            "WORLD_SIZE={} needs MASTER_PORT: a free TCP port on rank 0's host", w.size));
    }
    w.masterAddr = addr;
    w.masterPort = wholeNumber("MASTER_PORT", port, 1, 65535);
    return w;
}

WorldSettings worldFromEnvironment() {
    return worldFromEnvironment([](const char* name) { return std::getenv(name); });
}

#ifdef CATTERY_WITH_C10D

// The process groups' common base: a ProcessGroup in LibTorch 1.x, a Backend from 2.0 on.
#if TORCH_VERSION_MAJOR >= 2
using Collectives = c10d::Backend;
#else
using Collectives = c10d::ProcessGroup;
#endif

struct World::Group {
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<Collectives> group;
    c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;  // for the monitored barrier

    // The heartbeat: a thread with a store connection of its own counts up this rank's key and
    // posts how many collective calls it has begun, so that when a call fails the others can tell
    // which rank stopped (its count stands still) or hangs (it has begun fewer calls).
    c10::intrusive_ptr<c10d::Store> beatStore;
    std::atomic<std::int64_t> calls{0};
    std::thread beat;
    std::mutex mutex;
    std::condition_variable wake;
    bool stopping = false;

    ~Group() {
        {
            const std::lock_guard lock(mutex);
            stopping = true;
        }
        wake.notify_all();
        if (beat.joinable()) {
            beat.join();
        }
    }
};

World::World(const WorldSettings& settings, torch::Device device, std::chrono::milliseconds timeout)
    : m_settings(settings), m_device(device), m_timeout(timeout), m_group(new Group) {
    c10d::TCPStoreOptions options;
    options.port = static_cast<std::uint16_t>(settings.masterPort);
    options.isServer = settings.rank == 0;
    options.numWorkers = static_cast<std::size_t>(settings.size);
    options.waitWorkers = false;  // the group waits below, with its own message
    options.timeout = timeout;
    try {
        m_group->store = c10::make_intrusive<c10d::TCPStore>(settings.masterAddr, options);
        options.isServer = false;
        m_group->beatStore = c10::make_intrusive<c10d::TCPStore>(settings.masterAddr, options);
        m_group->beatStore->add(beatKey(settings.rank), 1);
        m_group->beatStore->set(callsKey(settings.rank), bytesOf(0));
    } catch (const std::exception& e) {
        if (settings.rank == 0) {
            throw ConfigError(
                fmt::format("rank 0 could not serve the meeting point at {}:{} (is "
                            "the port in use?): {}",
                            settings.masterAddr, settings.masterPort, firstLine(e)));
        }
        throw WorldError(fmt::format("rank {} could not reach rank 0 at {}:{} within {} s: {}",
                                     settings.rank, settings.masterAddr, settings.masterPort,
                                     timeout.count() / 1000, firstLine(e)));
    }
    // Beating before the group forms, so that a join that fails can tell who never came.
    Group* g = m_group.get();
    g->beat = std::thread([g, rank = settings.rank] {
        std::unique_lock lock(g->mutex);
        while (!g->wake.wait_for(lock, kBeat, [g] { return g->stopping; })) {
            lock.unlock();
            try {
                g->beatStore->set(callsKey(rank), bytesOf(g->calls.load()));
                g->beatStore->add(beatKey(rank), 1);
            } catch (const std::exception&) {
                // The meeting point is gone with rank 0: the next collective call fails, and
                // whoStopped() says so. Nothing is left to count on.
                return;
            }
            lock.lock();
        }
    });
    try {
        auto glooOptions = c10d::ProcessGroupGloo::Options::create(timeout);
        glooOptions->devices.push_back(
            c10d::ProcessGroupGloo::createDeviceForHostname(settings.masterAddr));
        glooOptions->threads = 2;
        m_group->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(m_group->store, settings.rank,
                                                                    settings.size, glooOptions);
        m_group->group = m_group->gloo;
#ifdef USE_C10D_NCCL
        if (device.is_cuda()) {
            auto ncclOptions = c10d::ProcessGroupNCCL::Options::create();
            ncclOptions->timeout = timeout;
            m_group->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(
                c10::make_intrusive<c10d::PrefixStore>("nccl", m_group->store), settings.rank,
                settings.size, ncclOptions);
        }
#endif
    } catch (const std::exception& e) {
        throw WorldError(fmt::format("rank {} could not join the {} processes: {}; {}",
                                     settings.rank, settings.size, firstLine(e), whoStopped()));
    }
}

World::~World() = default;

std::string World::whoStopped() const {
    try {
        const auto read = [this] {
            std::vector<std::int64_t> beats;
            for (int r = 0; r < size(); ++r) {
                beats.push_back(m_group->store->add(beatKey(r), 0));
            }
            return beats;
        };
        const std::vector<std::int64_t> before = read();
        std::this_thread::sleep_for(4 * kBeat);
        const std::vector<std::int64_t> after = read();
        std::vector<int> stopped;
        std::vector<int> behind;
        for (int r = 0; r < size(); ++r) {
            const auto i = static_cast<std::size_t>(r);
            if (r == rank()) {
                continue;
            }
            if (after[i] == before[i]) {
                stopped.push_back(r);
                continue;
            }
            const std::vector<std::uint8_t> posted = m_group->store->get(callsKey(r));
            std::int64_t calls = 0;
            std::from_chars(reinterpret_cast<const char*>(posted.data()),
                            reinterpret_cast<const char*>(posted.data() + posted.size()), calls);
            if (calls < m_group->calls.load()) {
                behind.push_back(r);
            }
        }
        const auto ranks = [](const std::vector<int>& list) {
            return fmt::format("{} {}", list.size() == 1 ? "rank" : "ranks", fmt::join(list, ", "));
        };
        if (!stopped.empty()) {
            return ranks(stopped) + " does not answer";
        }
        if (!behind.empty()) {
            return ranks(behind) + " still answers but has not reached this call";
        }
        return std::string("every process still answers, so the network between them failed");
    } catch (const std::exception&) {
        // The store lives in rank 0: no answer from it is the answer.
        return rank() == 0 ? std::string("the processes' meeting point failed")
                           : std::string(
                                 "rank 0, which holds the processes' meeting point, "
                                 "stopped answering");
    }
}

void World::finish(const c10::intrusive_ptr<c10d::Work>& work, const char* what) const {
    try {
        work->wait();
    } catch (const std::exception& e) {
        throw WorldError(fmt::format("rank {}: {} across the {} processes failed: {} ({})", rank(),
                                     what, size(), whoStopped(), firstLine(e)));
    }
}

void World::broadcast(const std::vector<torch::Tensor>& tensors) {
    ++m_group->calls;
    torch::NoGradGuard noGrad;
    for (const torch::Tensor& t : tensors) {
        std::vector<torch::Tensor> one{t.is_contiguous() ? t : t.contiguous()};
        finish(m_group->group->broadcast(one), "sharing rank 0's values");
        if (!t.is_contiguous()) {
            t.copy_(one[0]);
        }
    }
}

void World::average(const std::vector<torch::Tensor>& tensors) {
    ++m_group->calls;
    torch::NoGradGuard noGrad;
    // Buckets of one type and device, each one flat tensor, reduced all at once.
    std::vector<std::vector<torch::Tensor>> buckets;
    std::vector<std::int64_t> bucketBytes;
    std::map<std::pair<c10::ScalarType, std::string>, std::size_t> open;
    for (const torch::Tensor& t : tensors) {
        const auto key = std::make_pair(t.scalar_type(), t.device().str());
        const std::int64_t bytes = t.numel() * static_cast<std::int64_t>(t.element_size());
        auto found = open.find(key);
        if (found == open.end() || bucketBytes[found->second] + bytes > kBucketBytes) {
            open[key] = buckets.size();
            buckets.emplace_back();
            bucketBytes.push_back(0);
            found = open.find(key);
        }
        buckets[found->second].push_back(t);
        bucketBytes[found->second] += bytes;
    }
    std::vector<torch::Tensor> flats;
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    for (const auto& bucket : buckets) {
        std::vector<torch::Tensor> parts;
        parts.reserve(bucket.size());
        for (const torch::Tensor& t : bucket) {
            parts.push_back(t.reshape(-1));
        }
        std::vector<torch::Tensor> flat{torch::cat(parts)};
        works.push_back(m_group->group->allreduce(flat));
        flats.push_back(flat[0]);
    }
    for (std::size_t b = 0; b < buckets.size(); ++b) {
        finish(works[b], "averaging the gradients");
        flats[b].div_(size());
        std::int64_t at = 0;
        for (const torch::Tensor& t : buckets[b]) {
            t.copy_(flats[b].narrow(0, at, t.numel()).view_as(t));
            at += t.numel();
        }
    }
}

std::vector<double> World::sum(const std::vector<double>& values) {
    ++m_group->calls;
    std::vector<torch::Tensor> t{torch::tensor(values, torch::dtype(torch::kFloat64)).to(m_device)};
    finish(m_group->group->allreduce(t), "agreeing on the run's numbers");
    const torch::Tensor back = t[0].cpu();
    return std::vector<double>(back.data_ptr<double>(), back.data_ptr<double>() + back.numel());
}

double World::max(double value) {
    ++m_group->calls;
    std::vector<torch::Tensor> t{
        torch::tensor({value}, torch::dtype(torch::kFloat64)).to(m_device)};
    c10d::AllreduceOptions options;
    options.reduceOp = c10d::ReduceOp::MAX;
    finish(m_group->group->allreduce(t, options), "agreeing on the run's numbers");
    return t[0].cpu().item<double>();
}

void World::checkEveryoneIsHere() {
    ++m_group->calls;
    c10d::BarrierOptions options;
    options.timeout = m_timeout;
    try {
        m_group->gloo->monitoredBarrier(options, /*waitAllRanks=*/true);
    } catch (const std::exception& e) {
        throw WorldError(fmt::format("rank {}: not every process answered within {} s: {} ({})",
                                     rank(), m_timeout.count() / 1000, whoStopped(), firstLine(e)));
    }
}

std::string World::awaitKey(const std::string& key, int r,
                            std::chrono::steady_clock::time_point deadline) const {
    // Waited for while rank r beats: one that has gone (it failed to read its images, say) is
    // named within seconds, not at the end of the timeout.
    c10d::Store& store = *m_group->store;
    std::int64_t beats = store.add(beatKey(r), 0);
    auto lastBeat = std::chrono::steady_clock::now();
    while (!store.check({key})) {
        const auto now = std::chrono::steady_clock::now();
        if (const std::int64_t b = store.add(beatKey(r), 0); b != beats) {
            beats = b;
            lastBeat = now;
        } else if (now - lastBeat > 4 * kBeat) {
            return fmt::format("rank {} does not answer", r);
        }
        if (now > deadline) {
            return fmt::format("rank {} did not get there within {} s", r,
                               m_timeout.count() / 1000);
        }
        std::this_thread::sleep_for(kBeat / 5);
    }
    return {};
}

std::vector<std::string> World::gather(const std::string& value) {
    ++m_group->calls;
    const int call = m_gathers++;
    const auto key = [call](int r) { return fmt::format("cattery/gather/{}/{}", call, r); };
    const auto readKey = [call](int r) {
        return fmt::format("cattery/gather/{}/{}/read", call, r);
    };
    std::vector<std::string> values;
    std::string failure;
    try {
        c10d::Store& store = *m_group->store;
        store.set(key(rank()), std::vector<std::uint8_t>(value.begin(), value.end()));
        const auto deadline = std::chrono::steady_clock::now() + m_timeout;
        for (int r = 0; r < size() && failure.empty(); ++r) {
            failure = awaitKey(key(r), r, deadline);
            if (failure.empty()) {
                const std::vector<std::uint8_t> bytes = store.get(key(r));
                values.emplace_back(bytes.begin(), bytes.end());
            }
        }
        // Rank 0 serves the values: it stays until every rank has read them, so that a run that
        // stops on what they show (settings that differ) stops with the same words everywhere.
        if (failure.empty() && rank() > 0) {
            store.set(readKey(rank()), bytesOf(1));
        }
        for (int r = 1; failure.empty() && rank() == 0 && r < size(); ++r) {
            if (!awaitKey(readKey(r), r, deadline).empty()) {
                break;  // gone after all: the next call names it
            }
        }
    } catch (const std::exception& e) {
        failure = fmt::format("{} ({})", whoStopped(), firstLine(e));
    }
    if (!failure.empty()) {
        throw WorldError(
            fmt::format("rank {}: comparing the processes' settings failed: {}", rank(), failure));
    }
    return values;
}

#else

struct World::Group {};
std::string World::awaitKey(const std::string&, int, std::chrono::steady_clock::time_point) const {
    return {};
}

World::World(const WorldSettings& settings, torch::Device device, std::chrono::milliseconds timeout)
    : m_settings(settings), m_device(device), m_timeout(timeout) {
    throw ConfigError(
        "this build of Cattery has no Gloo in its LibTorch, so it trains in one "
        "process only");
}
World::~World() = default;
// Never reached: no World is ever made.
std::string World::whoStopped() const {
    return {};
}
void World::finish(const c10::intrusive_ptr<c10d::Work>&, const char*) const {}
void World::broadcast(const std::vector<torch::Tensor>&) {}
void World::average(const std::vector<torch::Tensor>&) {}
std::vector<double> World::sum(const std::vector<double>& values) {
    return values;
}
double World::max(double value) {
    return value;
}
void World::checkEveryoneIsHere() {}
std::vector<std::string> World::gather(const std::string& value) {
    return {value};
}

#endif

}  // namespace cattery
