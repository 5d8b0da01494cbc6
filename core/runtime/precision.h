#pragma once

#include <string>

namespace cattery {

// The number format of the networks' heavy arithmetic.
enum class Precision {
    Float32,   // everything in float32
    BFloat16,  // convolutions and matrix products in bfloat16, the rest in float32: several times
               // faster on CPUs with native bf16 (AVX-512 BF16, AMX) and on GPUs
};

// "fp32" or "bf16".
std::string precisionName(Precision precision);
// Throws ConfigError for a name other than "fp32" or "bf16".
Precision precisionFromName(const std::string& name);
// Whether the CPU computes bfloat16 natively (AVX-512 BF16 or AMX); without it bf16 is emulated
// and slower than float32.
bool cpuHasNativeBf16();

}  // namespace cattery
