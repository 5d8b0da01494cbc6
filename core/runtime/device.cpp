#include "core/runtime/device.h"

#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "core/errors.h"

namespace cattery {

torch::Device chooseDevice(const std::string& preference) {
    if (preference == "cpu") {
        return torch::kCPU;
    }
    const bool cuda = torch::cuda::is_available();
    if (preference == "cuda") {
        if (!cuda) {
            throw ConfigError("CUDA was asked for, but no usable GPU is present");
        }
        return torch::Device(torch::kCUDA, 0);
    }
    if (preference == "auto" || preference.empty()) {
        return cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
    }
    throw ConfigError(fmt::format("unknown device '{}' (use auto, cpu or cuda)", preference));
}

std::string describeDevice(const torch::Device& device) {
    if (device.is_cuda()) {
        return fmt::format("cuda:{}", device.has_index() ? device.index() : 0);
    }
    return fmt::format("cpu ({} threads)", at::get_num_threads());
}

std::string precisionName(Precision precision) {
    return precision == Precision::BFloat16 ? "bf16" : "fp32";
}

Precision precisionFromName(const std::string& name) {
    if (name == "fp32") {
        return Precision::Float32;
    }
    if (name == "bf16") {
        return Precision::BFloat16;
    }
    throw ConfigError(fmt::format("unknown precision '{}' (use fp32 or bf16)", name));
}

bool cpuHasNativeBf16() {
    static const bool has = [] {
        // Linux names the flags in /proc/cpuinfo; elsewhere, assume not.
        std::ifstream in("/proc/cpuinfo");
        std::string line;
        while (std::getline(in, line)) {
            if (line.rfind("flags", 0) == 0) {
                std::istringstream words(line);
                std::string word;
                while (words >> word) {
                    if (word == "avx512_bf16" || word == "amx_bf16") {
                        return true;
                    }
                }
                return false;
            }
        }
        return false;
    }();
    return has;
}

Precision defaultPrecision(const torch::Device& device) {
    return device.is_cpu() && cpuHasNativeBf16() ? Precision::BFloat16 : Precision::Float32;
}

int configureThreads(int threads) {
    if (threads <= 0) {
        threads = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
    }
    at::set_num_threads(threads);
    return threads;
}

}  // namespace cattery
