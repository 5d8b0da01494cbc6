#pragma once

#include <string>

#include <torch/torch.h>

#include "core/runtime/precision.h"

namespace cattery {

// "auto" (CUDA when present, else CPU), "cpu" or "cuda"; throws ConfigError for anything else
// and DeviceError for "cuda" on a machine without a usable GPU.
torch::Device chooseDevice(const std::string& preference = "auto");
// "cpu (2 threads)" or "cuda:0".
std::string describeDevice(const torch::Device& device);
// What "auto" means, for drawing and training: bf16 on a CPU with native bf16 (several times
// faster; pictures within a few levels of 255, training scores as good in our measurements), else
// fp32 (on a GPU fp32 is already fast).
Precision defaultPrecision(const torch::Device& device);
// "auto" (or empty): defaultPrecision(device); else "fp32" or "bf16" (ConfigError for others).
Precision choosePrecision(const std::string& preference, const torch::Device& device);

}  // namespace cattery
