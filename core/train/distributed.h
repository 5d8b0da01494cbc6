#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/errors.h"

namespace c10d {
class Work;
}

namespace cattery {

// A process of the run stopped answering, or the network between them failed: the run cannot go
// on, and no collective call can be made any more.
class WorldError : public TrainingError {
public:
    using TrainingError::TrainingError;
};

// Where this process stands in a run spread over several processes, as torchrun and
// `cattery-cli train --nproc` say it in the environment: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR
// and MASTER_PORT. Without them a run is one process.
struct WorldSettings {
    int rank = 0;
    int size = 1;
    int localRank = 0;
    std::string masterAddr;
    int masterPort = 0;

    bool spread() const { return size > 1; }
};

// Reads the settings through `lookup` (a name to its value, or null when unset). Throws ConfigError
// naming the variable when one is malformed or they disagree: WORLD_SIZE without MASTER_ADDR or
// MASTER_PORT, a RANK outside the world, a port outside 1 to 65535.
using EnvironmentLookup = std::function<const char*(const char*)>;
WorldSettings worldFromEnvironment(const EnvironmentLookup& lookup);
// The same, from this process's environment.
WorldSettings worldFromEnvironment();

// The processes of one run, joined through PyTorch's c10d: a TCP store that rank 0 serves at
// MASTER_ADDR:MASTER_PORT, and a Gloo process group over it (NCCL for CUDA tensors where LibTorch
// has it). Every call is collective: each rank makes the same calls in the same order. A rank
// that has gone away makes the others' calls throw WorldError within the timeout.
class World {
public:
    // Joins the group; throws ConfigError when the port cannot be served (in use) and
    // WorldError when the others do not all arrive within `timeout`.
    World(const WorldSettings& settings, torch::Device device, std::chrono::milliseconds timeout);
    ~World();
    World(const World&) = delete;
    World& operator=(const World&) = delete;

    int rank() const { return m_settings.rank; }
    int size() const { return m_settings.size; }

    // Rank 0's values into every rank's tensors, in place.
    void broadcast(const std::vector<torch::Tensor>& tensors);
    // Each tensor replaced by its mean over the ranks, in place: a few flat all-reduces, one per
    // bucket of at most kBucketBytes, not one per tensor.
    void average(const std::vector<torch::Tensor>& tensors);
    // The sums over the ranks of a few numbers (decisions every rank must take alike).
    std::vector<double> sum(const std::vector<double>& values);
    // The largest over the ranks (a flag any rank raises).
    double max(double value);
    // A barrier that names the ranks that did not reach it within the timeout.
    void checkEveryoneIsHere();
    // Every rank's `value`, by rank (through the meeting point: for a few settings to compare,
    // not for tensors).
    std::vector<std::string> gather(const std::string& value);

    static constexpr std::int64_t kBucketBytes = 16 << 20;

private:
    struct Group;
    // Which ranks stopped answering (their heartbeats stood still for a moment), in words.
    std::string whoStopped() const;
    // Waits until `key` is in the store, while rank `r` beats and before `deadline`; "" then,
    // else why not in words.
    std::string awaitKey(const std::string& key, int r,
                         std::chrono::steady_clock::time_point deadline) const;
    // Waits for a collective call; a failure becomes a WorldError that names who stopped.
    void finish(const c10::intrusive_ptr<c10d::Work>& work, const char* what) const;

    WorldSettings m_settings;
    torch::Device m_device;
    std::chrono::milliseconds m_timeout;
    std::unique_ptr<Group> m_group;
    int m_gathers = 0;  // gather() calls so far: each uses keys of its own
};

}  // namespace cattery
