// Model files as the window and `cattery-cli info`/`sample` load them: any bytes give a model that
// draws a picture, or an error naming the file; never a crash, a hang or an unbounded allocation.
#include <cstdint>
#include <string>

#include <torch/torch.h>

#include "core/errors.h"
#include "core/io/modelfile.h"
#include "fuzzutil.h"

using namespace cattery;

// With CATTERY_FUZZ_SEEDS set, writes a small model there first, as the program saves one.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
    torch::set_num_threads(1);
    return fuzz::writeSeeds([](const std::string& dir) {
        const ArchConfig arch = fuzz::smallestArch();
        torch::manual_seed(1);
        Provenance provenance;
        provenance.name = "Seed";
        provenance.steps = 10;
        saveModel(dir + "/model.cattery", arch, LatentSpace(arch.latentDim, 1), provenance,
                  Generator(arch));
    });
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::eachForm(data, size, fuzz::withMatchingChecksum, [](const std::string& path) {
        Model model = loadModel(path);
        model.generator->eval();
        torch::NoGradGuard noGrad;
        const torch::Tensor z = model.latent.fromThree(torch::ones({1, 3}));
        const torch::Tensor image = model.generator->forward(z);
        if (image.size(2) != model.arch.imageSize || describeModel(model).empty()) {
            std::abort();
        }
    });
    return 0;
}
