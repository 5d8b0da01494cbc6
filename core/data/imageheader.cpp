#include "core/data/imageheader.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace cattery {
namespace {

std::uint32_t be32(std::string_view b, std::size_t at) {
    return (std::uint32_t(std::uint8_t(b[at])) << 24) |
           (std::uint32_t(std::uint8_t(b[at + 1])) << 16) |
           (std::uint32_t(std::uint8_t(b[at + 2])) << 8) | std::uint32_t(std::uint8_t(b[at + 3]));
}
std::uint32_t be16(std::string_view b, std::size_t at) {
    return (std::uint32_t(std::uint8_t(b[at])) << 8) | std::uint32_t(std::uint8_t(b[at + 1]));
}
std::uint32_t le16(std::string_view b, std::size_t at) {
    return std::uint32_t(std::uint8_t(b[at])) | (std::uint32_t(std::uint8_t(b[at + 1])) << 8);
}
std::uint32_t le24(std::string_view b, std::size_t at) {
    return le16(b, at) | (std::uint32_t(std::uint8_t(b[at + 2])) << 16);
}
std::uint32_t le32(std::string_view b, std::size_t at) {
    return le16(b, at) | (le16(b, at + 2) << 16);
}

bool startsWith(std::string_view b, std::string_view prefix) {
    return b.size() >= prefix.size() && b.substr(0, prefix.size()) == prefix;
}

void sniffJpeg(std::string_view b, ImageHeader& h) {
    std::size_t i = 2;
    while (i + 9 < b.size()) {
        if (std::uint8_t(b[i]) != 0xff) {
            ++i;
            continue;
        }
        const std::uint8_t marker = std::uint8_t(b[i + 1]);
        if (marker == 0xff) {
            ++i;
            continue;
        }
        const bool sof =
            marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
        if (sof) {
            h.height = static_cast<int>(be16(b, i + 5));
            h.width = static_cast<int>(be16(b, i + 7));
            break;
        }
        if (marker == 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker == 0x01) {
            i += 2;
            continue;
        }
        i += 2 + be16(b, i + 2);
    }
    // The end-of-image marker may be followed by a little padding.
    const std::size_t tail = std::min<std::size_t>(b.size(), 64);
    h.truncated = b.substr(b.size() - tail).find("\xff\xd9") == std::string_view::npos;
}

void sniffTiff(std::string_view b, ImageHeader& h) {
    const bool little = b[0] == 'I';
    auto u16 = [&](std::size_t at) { return little ? le16(b, at) : be16(b, at); };
    auto u32 = [&](std::size_t at) { return little ? le32(b, at) : be32(b, at); };
    const std::size_t ifd = u32(4);
    if (ifd + 2 > b.size()) {
        h.truncated = true;
        return;
    }
    std::uint32_t samples = 1;
    std::uint32_t bits = 8;
    const std::size_t entries = u16(ifd);
    for (std::size_t e = 0; e < entries && ifd + 2 + (e + 1) * 12 <= b.size(); ++e) {
        const std::size_t at = ifd + 2 + e * 12;
        const std::uint32_t tag = u16(at);
        const std::uint32_t type = u16(at + 2);
        const std::uint32_t count = u32(at + 4);
        const std::uint32_t value = type == 3 ? u16(at + 8) : u32(at + 8);
        if (tag == 256) {
            h.width = static_cast<int>(std::min<std::uint32_t>(value, 1U << 30));
        } else if (tag == 257) {
            h.height = static_cast<int>(std::min<std::uint32_t>(value, 1U << 30));
        } else if (tag == 258) {
            // One size per sample: inline for one or two, elsewhere in the file for more (where
            // the largest a decoder gives, 64 bits, is assumed).
            bits = count <= 2 && type == 3 ? value : 64;
        } else if (tag == 277) {
            samples = value;
        }
    }
    h.decodedPixelBytes = static_cast<int>(std::clamp<std::uint32_t>(samples, 1, 4) *
                                           std::clamp<std::uint32_t>((bits + 7) / 8, 1, 8));
}

// Radiance HDR: text lines, a blank line, then the resolution ("-Y 480 +X 640", either axis
// first).
void sniffHdr(std::string_view b, ImageHeader& h) {
    const std::size_t blank = b.find("\n\n");
    if (blank == std::string_view::npos) {
        h.truncated = true;
        return;
    }
    std::size_t i = blank + 2;
    for (int k = 0; k < 2; ++k) {
        while (i < b.size() && b[i] == ' ')
            ++i;
        if (i + 2 > b.size() || (b[i] != '-' && b[i] != '+') ||
            (b[i + 1] != 'X' && b[i + 1] != 'Y')) {
            h.truncated = true;
            return;
        }
        const bool y = b[i + 1] == 'Y';
        i += 2;
        while (i < b.size() && b[i] == ' ')
            ++i;
        long long n = 0;
        while (i < b.size() && std::isdigit(static_cast<unsigned char>(b[i])) && n < (1LL << 31)) {
            n = n * 10 + (b[i++] - '0');
        }
        (y ? h.height : h.width) = static_cast<int>(std::min<long long>(n, 1LL << 30));
    }
}

void sniffPnm(std::string_view b, ImageHeader& h) {
    // "P6 <ws> width <ws> height", with comments starting at '#'.
    std::size_t i = 2;
    int values[2] = {0, 0};
    for (int& v : values) {
        while (i < b.size() && (std::isspace(static_cast<unsigned char>(b[i])) || b[i] == '#')) {
            if (b[i] == '#') {
                while (i < b.size() && b[i] != '\n')
                    ++i;
            } else {
                ++i;
            }
        }
        long long n = 0;
        while (i < b.size() && std::isdigit(static_cast<unsigned char>(b[i])) && n < (1LL << 31)) {
            n = n * 10 + (b[i++] - '0');
        }
        v = static_cast<int>(std::min<long long>(n, 1LL << 30));
    }
    h.width = values[0];
    h.height = values[1];
}

}  // namespace

ImageHeader sniffImage(std::string_view b) {
    ImageHeader h;
    if (startsWith(b, "\x89PNG\r\n\x1a\n")) {
        h.format = "PNG";
        if (b.size() >= 26) {
            h.width = static_cast<int>(std::min<std::uint32_t>(be32(b, 16), 1U << 30));
            h.height = static_cast<int>(std::min<std::uint32_t>(be32(b, 20), 1U << 30));
            // Grey, RGB, palette (RGBA once decoded, with transparency), grey with alpha, RGBA.
            const std::uint8_t depth = std::uint8_t(b[24]);
            const std::uint8_t colour = std::uint8_t(b[25]);
            const int channels = colour == 0 ? 1 : colour == 2 ? 3 : colour == 4 ? 2 : 4;
            h.decodedPixelBytes = channels * (depth == 16 ? 2 : 1);
        }
        // Every chunk up to IEND must lie within the file: a chunk that claims more than the
        // file holds would have the decoder allocate what it claims.
        h.truncated = true;
        for (std::size_t at = 8; at + 12 <= b.size();) {
            const std::uint64_t length = be32(b, at);
            if (length > b.size() - at - 12) {
                break;
            }
            if (b.substr(at + 4, 4) == "IEND") {
                h.truncated = false;
                break;
            }
            at += 12 + static_cast<std::size_t>(length);
        }
    } else if (startsWith(b, "\xff\xd8\xff")) {
        h.format = "JPEG";
        sniffJpeg(b, h);
        h.decodedPixelBytes = 3;
    } else if (startsWith(b, "GIF87a") || startsWith(b, "GIF89a")) {
        h.format = "GIF";
        if (b.size() >= 10) {
            h.width = static_cast<int>(le16(b, 6));
            h.height = static_cast<int>(le16(b, 8));
        }
    } else if (startsWith(b, "BM") && b.size() >= 26) {
        h.format = "BMP";
        h.width = static_cast<int>(std::min<std::uint32_t>(le32(b, 18), 1U << 30));
        const auto rawHeight = static_cast<std::int32_t>(le32(b, 22));
        h.height =
            static_cast<int>(std::min<std::int64_t>(std::abs(std::int64_t{rawHeight}), 1 << 30));
    } else if (startsWith(b, "RIFF") && b.size() >= 30 && b.substr(8, 4) == "WEBP") {
        h.format = "WebP";
        const std::string_view chunk = b.substr(12, 4);
        if (chunk == "VP8 ") {
            h.width = static_cast<int>(le16(b, 26) & 0x3fff);
            h.height = static_cast<int>(le16(b, 28) & 0x3fff);
        } else if (chunk == "VP8L" && b.size() >= 25) {
            const std::uint32_t bits = le32(b, 21);
            h.width = static_cast<int>((bits & 0x3fff) + 1);
            h.height = static_cast<int>(((bits >> 14) & 0x3fff) + 1);
        } else if (chunk == "VP8X") {
            // Canvas width and height less one, 24 bits each, at bytes 24 and 27.
            h.width = static_cast<int>(le24(b, 24) + 1);
            h.height = static_cast<int>(le24(b, 27) + 1);
        }
        h.truncated = std::uint64_t{le32(b, 4)} + 8 > b.size();
    } else if ((startsWith(b, std::string_view("II*\0", 4)) ||
                startsWith(b, std::string_view("MM\0*", 4))) &&
               b.size() >= 8) {
        h.format = "TIFF";
        sniffTiff(b, h);
    } else if (b.size() >= 3 && b[0] == 'P' && b[1] >= '1' && b[1] <= '6' &&
               std::isspace(static_cast<unsigned char>(b[2]))) {
        h.format = "PNM";
        sniffPnm(b, h);
        h.decodedPixelBytes = 6;  // up to 16 bits a sample, three samples
    } else if (b.size() >= 3 && b[0] == 'P' && (b[1] == 'F' || b[1] == 'f') &&
               std::isspace(static_cast<unsigned char>(b[2]))) {
        h.format = "PFM";
        sniffPnm(b, h);
        h.decodedPixelBytes = b[1] == 'F' ? 12 : 4;  // 32-bit floats, RGB or grey
    } else if (startsWith(b, "#?RADIANCE") || startsWith(b, "#?RGBE")) {
        h.format = "HDR";
        sniffHdr(b, h);
        h.decodedPixelBytes = 12;  // decoded to 32-bit floats, RGB
    } else if (startsWith(b, "\x59\xa6\x6a\x95") && b.size() >= 12) {
        h.format = "Sun raster";
        h.width = static_cast<int>(std::min<std::uint32_t>(be32(b, 4), 1U << 30));
        h.height = static_cast<int>(std::min<std::uint32_t>(be32(b, 8), 1U << 30));
    }
    return h;
}

}  // namespace cattery
