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
    const char* dir = fuzz::seedFolder();
    if (dir == nullptr) {
        return 0;
    }
    RgbImage cell;
    cell.width = 8;
    cell.height = 8;
    cell.pixels.assign(8 * 8 * 3, 200);
    SheetOptions options;
    options.columns = 2;
    options.padding = 1;
    torch::manual_seed(1);
    writeSheet(std::string(dir) + "/grid.png", {cell, cell, cell, cell}, options,
               sheetMetadata("grid", "Seed", torch::randn({4, 5}), 2));
    writeSheet(std::string(dir) + "/plain.png", {cell}, options);
    return 0;
}

namespace {

void read(const std::string& bytes) {
    const fuzz::MemoryFile file(bytes);
    try {
        const SheetContents sheet = readSheet(file.path());
        if (sheet.latents.dim() != 2 || !torch::isfinite(sheet.latents).all().item<bool>()) {
            std::abort();
        }
    } catch (const Error& e) {
        fuzz::requireNamed(e, file.path());
    }
    try {
        const RgbImage image = readPng(file.path());
        if (image.pixels.size() != static_cast<std::size_t>(image.width) * image.height * 3) {
            std::abort();
        }
    } catch (const Error& e) {
        fuzz::requireNamed(e, file.path());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    read(bytes);
    read(fuzz::withMatchingPngChunks(bytes));
    return 0;
}
