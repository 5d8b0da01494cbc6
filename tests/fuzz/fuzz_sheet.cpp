// Sheets as the window's Open Sheet and drop read them back: any bytes give the sheet's picture
// and latents, or an error naming the file; never a crash, a hang or an unbounded allocation.
#include <cstdint>
#include <string>

#include <torch/torch.h>

#include "core/errors.h"
#include "core/io/sheet.h"
#include "fuzzutil.h"

using namespace cattery;

// With CATTERY_FUZZ_SEEDS set, writes small sheets there first, as the program exports them.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
    torch::set_num_threads(1);
    return fuzz::writeSeeds([](const std::string& dir) {
        RgbImage cell;
        cell.width = 8;
        cell.height = 8;
        cell.pixels.assign(8 * 8 * 3, 200);
        SheetOptions options;
        options.columns = 2;
        options.padding = 1;
        torch::manual_seed(1);
        writeSheet(dir + "/grid.png", {cell, cell, cell, cell}, options,
                   sheetMetadata("grid", "Seed", torch::randn({4, 5}), 2));
        writeSheet(dir + "/plain.png", {cell}, options);
    });
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::eachForm(data, size, fuzz::withMatchingPngChunks, [](const std::string& path) {
        const SheetContents sheet = readSheet(path);
        if (sheet.latents.dim() != 2 || !torch::isfinite(sheet.latents).all().item<bool>()) {
            std::abort();
        }
    });
    fuzz::eachForm(data, size, fuzz::withMatchingPngChunks, [](const std::string& path) {
        const RgbImage image = readPng(path);
        if (image.pixels.size() != static_cast<std::size_t>(image.width) * image.height * 3) {
            std::abort();
        }
    });
    return 0;
}
