#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "core/model/archconfig.h"
#include "core/model/networks.h"

// What cattery-bench and cattery-gpu-check share: timing, the generator's FLOPs, and handing the
// same weights and latents to the Python reference.
namespace cattery::bench {

using Clock = std::chrono::steady_clock;

inline double msSince(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

inline double medianMs(const std::function<void()>& fn, int repeats) {
    fn();
    std::vector<double> times;
    for (int i = 0; i < repeats; ++i) {
        const auto start = Clock::now();
        fn();
        times.push_back(msSince(start));
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

inline std::string run(const std::string& command) {
    std::string out;
    if (FILE* pipe = popen(command.c_str(), "r")) {
        char buffer[4096];
        while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) {
            out.append(buffer, n);
        }
        pclose(pipe);
    }
    return out;
}

// The generator's floating-point operations for one image: every convolution and linear layer.
inline double generatorGflop(const ArchConfig& a) {
    double macs = 0;
    const int base = a.baseGrid();
    const int widths[4] = {8 * a.nf, 4 * a.nf, 2 * a.nf, a.nf};
    macs += double(a.latentDim) * widths[0] * base * base + double(a.latentDim) * base * base;
    int in = widths[0];
    int side = base;
    for (int s = 0; s < 4; ++s) {
        for (int r = 0; r < a.repeats; ++r) {
            macs += 9.0 * (r == 0 ? in : widths[s]) * widths[s] * side * side;
        }
        in = widths[s] + 1;
        if (s < 3) {
            side *= 2;
        }
    }
    macs += 9.0 * in * 3 * side * side;
    return 2.0 * macs / 1e9;
}

// A generator of the given shape whose batch-norm statistics have settled, in inference mode.
inline Generator settledGenerator(const ArchConfig& arch) {
    torch::manual_seed(1);
    Generator g(arch);
    torch::NoGradGuard noGrad;
    g->train();
    for (int i = 0; i < 5; ++i) {
        g->forward(torch::randn({16, arch.latentDim}));
    }
    g->eval();
    return g;
}

// weights.json (name -> offset, shape) and weights.bin (float32), and latents.bin, for
// tests/bench/reference.py.
inline void writeForPython(const torch::nn::Module& module, const torch::Tensor& latents,
                           const std::filesystem::path& dir) {
    nlohmann::json index;
    std::ofstream bin(dir / "weights.bin", std::ios::binary);
    int64_t offset = 0;
    const auto write = [&](const std::string& name, const torch::Tensor& t) {
        const torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
        bin.write(static_cast<const char*>(c.data_ptr()), c.numel() * 4);
        index[name] = {offset, c.sizes().vec()};
        offset += c.numel();
    };
    for (const auto& p : module.named_parameters()) {
        write(p.key(), p.value());
    }
    for (const auto& b : module.named_buffers()) {
        if (b.key().find("num_batches_tracked") == std::string::npos) {
            write(b.key(), b.value());
        }
    }
    std::ofstream(dir / "weights.json") << index.dump();
    const torch::Tensor z = latents.to(torch::kCPU, torch::kFloat32).contiguous();
    std::ofstream(dir / "latents.bin", std::ios::binary)
        .write(static_cast<const char*>(z.data_ptr()), z.numel() * 4);
}

// The largest difference between the reference's pixels and ours, in 8-bit levels.
inline int maxPixelDifference(const std::filesystem::path& file, const torch::Tensor& ours) {
    const torch::Tensor flat = ours.to(torch::kCPU).contiguous().flatten();
    std::vector<uint8_t> theirs(static_cast<size_t>(flat.numel()));
    std::ifstream in(file, std::ios::binary);
    in.read(reinterpret_cast<char*>(theirs.data()), static_cast<std::streamsize>(theirs.size()));
    if (!in) {
        return 256;
    }
    const uint8_t* p = flat.data_ptr<uint8_t>();
    int worst = 0;
    for (size_t i = 0; i < theirs.size(); ++i) {
        worst = std::max(worst, std::abs(int(theirs[i]) - int(p[i])));
    }
    return worst;
}

}  // namespace cattery::bench
