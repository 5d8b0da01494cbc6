// The parser of three-number points and grid corners typed on the command line: any text gives
// finite numbers or a ConfigError naming the option, never a crash.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

#include "core/errors.h"
#include "core/latent/threetext.h"

using namespace cattery;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    const char* dir = std::getenv("CATTERY_FUZZ_SEEDS");
    if (dir == nullptr) {
        return 0;
    }
    const char* seeds[] = {"0.5,-1,2", " +1e-3 , 4 ,-0", "0,0,0;1,1,1;-1,0,1;2,2,2", "1,2",
                           "nan,inf,1"};
    int i = 0;
    for (const char* seed : seeds) {
        std::ofstream(std::string(dir) + "/seed" + std::to_string(i++)) << seed;
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto check = [](const Three& v) {
        for (const float x : v) {
            if (!std::isfinite(x)) {
                std::abort();
            }
        }
    };
    try {
        check(parseThree(text, "--a"));
    } catch (const ConfigError& e) {
        if (std::string_view(e.what()).find("--a") == std::string_view::npos) {
            std::abort();
        }
    }
    try {
        for (const Three& v : parseCorners(text, "--corners")) {
            check(v);
        }
    } catch (const ConfigError& e) {
        if (std::string_view(e.what()).find("--corners") == std::string_view::npos) {
            std::abort();
        }
    }
    return 0;
}
