#include "core/runtime/hardware.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <torch/torch.h>

#include "core/runtime/threads.h"

namespace cattery {

std::string threadCount(int threads) {
    return fmt::format("{} thread{}", threads, threads == 1 ? "" : "s");
}

std::string gpuName(int index) {
    // CUDA numbers the visible devices; with CUDA_VISIBLE_DEVICES a plain list of indices maps
    // them back to the driver's order, anything else (UUIDs) is not followed.
    if (const char* visible = std::getenv("CUDA_VISIBLE_DEVICES"); visible != nullptr) {
        std::vector<int> map;
        std::istringstream list(visible);
        std::string item;
        while (std::getline(list, item, ',')) {
            if (item.empty() || item.size() > 4 ||
                !std::all_of(item.begin(), item.end(),
                             [](unsigned char c) { return c >= '0' && c <= '9'; })) {
                return {};
            }
            map.push_back(std::stoi(item));
        }
        if (index < 0 || index >= static_cast<int>(map.size())) {
            return {};
        }
        index = map[static_cast<size_t>(index)];
    }
    // The driver lists its GPUs by PCI bus id, CUDA's order when it is asked for
    // (CUDA_DEVICE_ORDER=PCI_BUS_ID) and on machines with one kind of GPU.
    std::vector<std::filesystem::path> gpus;
    std::error_code error;
    for (const auto& entry :
         std::filesystem::directory_iterator("/proc/driver/nvidia/gpus", error)) {
        gpus.push_back(entry.path());
    }
    std::sort(gpus.begin(), gpus.end());
    if (index < 0 || index >= static_cast<int>(gpus.size())) {
        return {};
    }
    std::ifstream in(gpus[static_cast<size_t>(index)] / "information");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("Model:", 0) == 0) {
            const auto start = line.find_first_not_of(" \t", 6);
            return start == std::string::npos ? std::string() : line.substr(start);
        }
    }
    return {};
}

std::vector<DeviceChoice> deviceChoices() {
    const std::string cpu = fmt::format("CPU ({})", threadCount(usableCpus()));
    const bool cuda = torch::cuda::is_available();
    std::string gpu;
    if (cuda) {
        const std::string name = gpuName(0);
        gpu = name.empty() ? "GPU (cuda:0)" : fmt::format("GPU: {} (cuda:0)", name);
    }
    return {{"auto", fmt::format("Automatic: {}", cuda ? gpu : cpu), true},
            {"cpu", cpu, true},
            {"cuda", cuda ? gpu : std::string("GPU: none found"), cuda}};
}

}  // namespace cattery
