// Data set files from `cattery-cli prepare`, as training reads them: any bytes give images to
// train on, or an error naming the file; never a crash, a hang or an unbounded allocation.
#include <cstdint>
#include <string>

#include <torch/torch.h>

#include "core/data/dataset.h"
#include "core/errors.h"
#include "fuzzutil.h"

using namespace cattery;

// With CATTERY_FUZZ_SEEDS set, writes a small data set there first, as `prepare` saves one.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
    torch::set_num_threads(1);
    return fuzz::writeSeeds([](const std::string& dir) {
        Dataset d;
        d.images = torch::randint(0, 256, {2, 3, 32, 32}, torch::kUInt8);
        d.source = "seed";
        d.hash = imagesHash(d.images);
        d.report.used = {"a.png", "b.png"};
        d.report.skipped = {{"c.txt", "not an image"}};
        saveDataset(dir + "/seed.data", d);
    });
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::eachForm(data, size, fuzz::withMatchingChecksum, [](const std::string& path) {
        const Dataset d = loadDataset(path);
        requireImages(d);
        if (d.images.scalar_type() != torch::kUInt8 || d.images.dim() != 4 ||
            imagesHash(d.images).empty()) {
            std::abort();
        }
    });
    return 0;
}
