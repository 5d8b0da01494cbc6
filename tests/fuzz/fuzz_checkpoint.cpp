// Checkpoints as `cattery-cli train --resume` and the Train view read them: any bytes give a run
// that takes its next step, or an error naming the file; never a crash, a hang or an unbounded
// allocation.
#include <cstdint>
#include <map>
#include <string>

#include <torch/torch.h>

#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/train/resume.h"
#include "core/train/trainer.h"
#include "fuzzutil.h"

using namespace cattery;

namespace {

// Eight images of `size`: grey squares of differing shades.
Dataset images(int size) {
    static std::map<int, Dataset> made;
    Dataset& d = made[size];
    if (!d.images.defined()) {
        d.images = torch::full({8, 3, size, size}, 255, torch::kUInt8);
        for (int i = 0; i < 8; ++i) {
            d.images[i].narrow(1, size / 4, size / 2).narrow(2, size / 4, size / 2).fill_(i * 30);
        }
        d.source = "squares";
        d.hash = imagesHash(d.images);
    }
    return d;
}

}  // namespace

// With CATTERY_FUZZ_SEEDS set, writes small checkpoints there first, as training saves them: one
// of each objective.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
    torch::set_num_threads(1);
    return fuzz::writeSeeds([](const std::string& dir) {
        const ArchConfig arch = fuzz::smallestArch();
        for (const Objective objective : {Objective::Hinge, Objective::Began}) {
            TrainConfig config;
            config.objective = objective;
            config.batchSize = 2;
            config.scoreEvery = 0;
            config.sampleCount = 1;
            Trainer trainer(arch, config, images(32), torch::kCPU);
            trainer.step();
            trainer.saveCheckpoint(dir + "/" + (objective == Objective::Hinge ? "hinge" : "began") +
                                   ".checkpoint.cattery");
        }
    });
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::eachForm(data, size, fuzz::withMatchingChecksum, [](const std::string& path) {
        // As a run starts: the header first, then the images at its size, then the whole file.
        const ResumePoint point = readResumePoint(path);
        Trainer trainer = Trainer::resume(path, images(point.arch.imageSize), torch::kCPU);
        try {
            trainer.step();
        } catch (const TrainingError&) {
            // A run that cannot go on (its numbers are not finite) says so; that is an answer too.
        }
    });
    return 0;
}
