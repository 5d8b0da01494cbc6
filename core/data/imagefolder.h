#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/data/dataset.h"
#include "core/data/imageheader.h"

namespace cattery {

enum class Fit { Pad, Crop };  // make non-square images square by padding with white, or cropping

struct FolderOptions {
    int size = 64;                        // output width and height
    bool recursive = false;               // descend into subfolders
    Fit fit = Fit::Pad;                   // how non-square images become square
    int minSide = 8;                      // smaller images are skipped as too small
    std::int64_t maxPixels = 40'000'000;  // larger images are refused before decoding
    // Images whose decoded pixels would take more (16-bit, floating point or with alpha) are
    // refused before decoding too: with the 8-bit copy made after it, one image then never
    // claims more than about 500 MB, whatever its file's size.
    std::int64_t maxDecodedBytes = 400'000'000;
    std::uint64_t maxFileBytes = 256ULL << 20;  // larger files are refused before reading
};

// Decodes one image file's bytes to size x size RGB on white (HWC uint8 in `out`, size*size*3).
// Throws DataError naming `path` and the reason it cannot be used.
void decodeImage(std::string_view bytes, const std::string& path, const FolderOptions& options,
                 std::uint8_t* out);

// Reads one image file as decodeImage prepares it (size x size RGB on white, HWC uint8). Throws
// DataError naming `path`: missing, a folder, unreadable, too large, not an image, too small.
std::vector<std::uint8_t> readImageFile(const std::string& path, const FolderOptions& options);

// Reads every image in the folder. Files that cannot be used are listed in the report with their
// reason; only a folder that is missing or unreadable throws (DataError).
Dataset readImageFolder(
    const std::string& folder, const FolderOptions& options,
    const std::function<void(std::size_t done, std::size_t total)>& progress = {});

// A folder of images, or a data set file written by `cattery-cli prepare` (resized to
// options.size when it differs): what `train`, `eval` and the Train view accept.
Dataset readImages(const std::string& source, const FolderOptions& options);

}  // namespace cattery
