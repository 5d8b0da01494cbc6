#include "core/runtime/precision.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/errors.h"

namespace cattery {

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

}  // namespace cattery
