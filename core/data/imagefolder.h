#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/data/dataset.h"

namespace cattery {

enum class Fit { Pad, Crop };  // make non-square images square by padding with white, or cropping

struct FolderOptions {
    int size = 64;                              // output width and height
    bool recursive = false;                     // descend into subfolders
    Fit fit = Fit::Pad;                         // how non-square images become square
    int minSide = 8;                            // smaller images are skipped as too small
    std::int64_t maxPixels = 40'000'000;        // larger images are refused before decoding
    std::uint64_t maxFileBytes = 256ULL << 20;  // larger files are refused before reading
};

// What the first bytes of a file say it is; width and height are 0 where the header does not say.
struct ImageHeader {
    std::string format;  // "PNG", "JPEG", "GIF", "BMP", "WebP", "TIFF", "PNM", or empty if unknown
    int width = 0;
    int height = 0;
    bool truncated = false;  // the format's end marker is missing
};
ImageHeader sniffImage(std::string_view bytes);

// Decodes one image file's bytes to size x size RGB on white (HWC uint8 in `out`, size*size*3).
// Throws DataError naming `path` and the reason it cannot be used.
void decodeImage(std::string_view bytes, const std::string& path, const FolderOptions& options,
                 std::uint8_t* out);

// Reads every image in the folder. Files that cannot be used are listed in the report with their
// reason; only a folder that is missing or unreadable throws (DataError).
Dataset readImageFolder(
    const std::string& folder, const FolderOptions& options,
    const std::function<void(std::size_t done, std::size_t total)>& progress = {});

// A folder of images, or a data set file written by `cattery-cli prepare` (resized to
// options.size when it differs): what `train`, `eval` and the Train view accept.
Dataset readImages(const std::string& source, const FolderOptions& options);

}  // namespace cattery
