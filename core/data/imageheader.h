#pragma once

#include <string>
#include <string_view>

// What an image file's first bytes say it is, read without decoding it: free of OpenCV and
// LibTorch, so that it can be checked alone (and fuzzed).
namespace cattery {

// What the first bytes of a file say it is; width and height are 0 where the header does not say.
struct ImageHeader {
    // "PNG", "JPEG", "GIF", "BMP", "WebP", "TIFF", "PNM", "PFM", "HDR", "Sun raster", or empty if
    // unknown (an image format the header check cannot see into is not decoded)
    std::string format;
    int width = 0;
    int height = 0;
    // At most how many bytes a pixel takes once decoded (its channels times its sample size), as
    // far as the header says; the format's largest where it does not.
    int decodedPixelBytes = 4;
    // The format's end marker is missing, or (PNG) a chunk before it claims more bytes than the
    // file holds.
    bool truncated = false;
};
ImageHeader sniffImage(std::string_view bytes);

}  // namespace cattery
