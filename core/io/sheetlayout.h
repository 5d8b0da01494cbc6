#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "core/runtime/image.h"

// The layout of a sheet of images, free of LibTorch and OpenCV: every front end's sheets come from
// here (exported, copied, written by cattery-cli, and the frames of the training animation).
namespace cattery {

struct SheetOptions {
    int columns = 0;  // images per row; 0 picks a near-square layout
    int padding = 2;  // pixels between and around images (before scaling)
    int scale = 1;    // nearest-neighbour enlargement, 1 to 8
    std::array<std::uint8_t, 3> background{255, 255, 255};
    int labelHeight = 0;    // a blank band under each image for its label (sheet pixels, 0 to 64)
    int captionHeight = 0;  // a blank band under the whole sheet for a caption (0 to 64)
};

struct SheetRect {
    int x = 0;
    int y = 0;
    int width = 0;
    int height = 0;
};

// Where everything goes on a sheet of `count` images of width x height pixels.
struct SheetGeometry {
    int columns = 1;
    int rows = 1;
    int width = 0;  // of the whole sheet
    int height = 0;
    std::vector<SheetRect> cells;   // each image, enlarged
    std::vector<SheetRect> labels;  // the band under each (empty height without labels)
    SheetRect caption;              // the band under the sheet
};

// The largest sheet laid out: 120 MB of RGB pixels, and with the copy the PNG encoder makes and its
// output, a sheet stays under about 400 MB.
inline constexpr std::int64_t kMaxSheetPixels = 40'000'000;

// The one layout of every sheet: exported, copied, on the command line and in the training
// animation. Throws ConfigError for no images, options out of range or a sheet larger than
// kMaxSheetPixels.
SheetGeometry sheetGeometry(int count, int width, int height, const SheetOptions& options);
// Lays the images out by sheetGeometry; all images must have the same size. The label and caption
// bands are left in the background colour for the front end to write in.
RgbImage composeSheet(const std::vector<RgbImage>& images, const SheetOptions& options);

}  // namespace cattery
