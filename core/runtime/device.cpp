#include "core/runtime/device.h"

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

int configureThreads(int threads) {
    if (threads <= 0) {
        threads = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
    }
    at::set_num_threads(threads);
    return threads;
}

}  // namespace cattery
