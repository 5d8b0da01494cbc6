#include "core/runtime/device.h"

#include <fmt/format.h>

#include "core/errors.h"
#include "core/runtime/hardware.h"

namespace cattery {

torch::Device chooseDevice(const std::string& preference) {
    if (preference == "cpu") {
        return torch::kCPU;
    }
    const bool cuda = torch::cuda::is_available();
    if (preference == "cuda") {
        if (!cuda) {
            throw DeviceError("CUDA was asked for, but no usable GPU is present");
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
        const int index = device.has_index() ? device.index() : 0;
        const std::string name = gpuName(index);
        return name.empty() ? fmt::format("cuda:{}", index)
                            : fmt::format("cuda:{} ({})", index, name);
    }
    return fmt::format("cpu ({})", threadCount(at::get_num_threads()));
}

Precision defaultPrecision(const torch::Device& device) {
    return device.is_cpu() && cpuHasNativeBf16() ? Precision::BFloat16 : Precision::Float32;
}

Precision choosePrecision(const std::string& preference, const torch::Device& device) {
    return preference == "auto" || preference.empty() ? defaultPrecision(device)
                                                      : precisionFromName(preference);
}

}  // namespace cattery
