#pragma once

#include <string>
#include <vector>

// What the machine offers to run the model on, described before any model is loaded. Free of
// LibTorch, so that the window's headers can use it.
namespace cattery {

// One entry of a device menu: key is what chooseDevice() takes ("auto", "cpu", "cuda").
struct DeviceChoice {
    std::string key;
    std::string label;       // "CPU (2 threads)", "GPU: NVIDIA H100 80GB HBM3 (cuda:0)"
    bool available = false;  // "cuda" without a usable GPU is listed but not available
};

// "1 thread", "2 threads".
std::string threadCount(int threads);
// "auto", "cpu" and "cuda", each labelled with the hardware it means on this machine.
std::vector<DeviceChoice> deviceChoices();
// The model name the NVIDIA driver gives CUDA device `index` ("NVIDIA H100 80GB HBM3"), or ""
// where the driver does not say (another vendor, another system, a remapped device list).
std::string gpuName(int index);

}  // namespace cattery
