// The image header reader that decides, before any decoding, whether an image is small enough to
// decode: any bytes give a header within its stated ranges, never a crash or an out-of-bounds read.
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

#include "core/data/imageheader.h"

using namespace cattery;

namespace {

// Every byte of a literal but its terminating NUL, zeros inside included.
template <std::size_t N>
std::string raw(const char (&text)[N]) {
    return std::string(text, N - 1);
}

}  // namespace

// With CATTERY_FUZZ_SEEDS set, writes the opening bytes of each format it knows there first.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
    const char* dir = std::getenv("CATTERY_FUZZ_SEEDS");
    if (dir == nullptr) {
        return 0;
    }
    const std::pair<const char*, std::string> seeds[] = {
        {"a.png",
         raw("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x40\0\0\0\x40\x10\x06\0\0\0") + "....IEND"},
        {"a.jpg", raw("\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0"
                      "\xff\xc0\0\x11\x08\0\x40\0\x40\x03\x01\x22\0\x02\x11\x01\x03\x11\x01"
                      "\xff\xd9")},
        {"a.bmp", raw("BM\0\0\0\0\0\0\0\0\0\0\0\0\x28\0\0\0\x40\0\0\0\xc0\xff\xff\xff")},
        {"a.webp", raw("RIFF\x20\0\0\0WEBPVP8L\x10\0\0\0\x2f\x3f\xc0\x0f\0\0\0\0\0\0\0\0")},
        {"a.tif", raw("II*\0\x08\0\0\0\x02\0\0\x01\x03\0\x01\0\0\0\x40\0\0\0"
                      "\x01\x01\x03\0\x01\0\0\0\x40\0\0\0")},
        {"a.ppm", "P6\n# comment\n64 64\n65535\n"},
        {"a.pfm", "PF\n64 64\n-1.0\n"},
        {"a.hdr", "#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 64 +X 64\n"},
        {"a.ras", raw("\x59\xa6\x6a\x95\0\0\0\x40\0\0\0\x40\0\0\0\x18")},
        {"a.gif", raw("GIF89a\x40\0\x40\0")},
    };
    for (const auto& [name, bytes] : seeds) {
        std::ofstream(std::string(dir) + "/" + name, std::ios::binary)
            .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ImageHeader h = sniffImage(std::string_view(reinterpret_cast<const char*>(data), size));
    if (h.width < 0 || h.height < 0 || h.width > (1 << 30) || h.height > (1 << 30) ||
        h.decodedPixelBytes < 1 || h.decodedPixelBytes > 32 ||
        (h.format.empty() && (h.width != 0 || h.height != 0))) {
        std::abort();
    }
    return 0;
}
