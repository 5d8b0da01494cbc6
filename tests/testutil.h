#pragma once

#include <cstdlib>
#include <string>

#include <torch/torch.h>
#include <QString>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/data/dataset.h"
#include "core/io/container.h"
#include "core/io/modelfile.h"
#include "core/io/tensorio.h"
#include "core/latent/latentspace.h"
#include "core/latent/rng.h"
#include "core/model/archconfig.h"
#include "core/model/networks.h"
#include "core/train/trainconfig.h"

namespace cattery::test {

// The settings of a run that does only what BEGAN does, with nothing chosen for the folder, no
// scores and no collapse guard: for tests of the step itself.
inline TrainConfig plainConfig() {
    TrainConfig c;
    c.autoAugment = false;
    c.scoreEvery = 0;
    c.collapseGuard = false;
    c.keep = KeepModel::Last;
    c.objective = Objective::Began;
    c.varietyWeight = 0.0;
    c.averageDecay = 0.0;
    c.lrStallSteps = 2000;
    return c;
}

// A model small enough to build, run and train in a blink.
inline ArchConfig tinyArch(int latent = 16) {
    ArchConfig a;
    a.imageSize = 32;
    a.latentDim = latent;
    a.nf = 4;
    a.ndf = 8;
    a.bottleneck = 16;
    a.repeats = 1;
    return a;
}

// A model or checkpoint container whose header now declares the largest networks (and a latent
// space to match), its weights left as they were: a small file that claims gigabytes.
inline Container claimingLargestNetworks(Container c) {
    ArchConfig largest = tinyArch(kLatentDimRange.hi);
    largest.imageSize = 128;
    largest.nf = kNfRange.hi;
    largest.repeats = kRepeatsRange.hi;
    c.meta["arch"] = toJson(largest);
    c.meta["latent"]["dim"] = largest.latentDim;
    for (Record& r : c.records) {
        if (r.name == "latent.projection") {
            r = toRecord("latent.projection", LatentSpace(largest.latentDim, 1).projection());
        }
    }
    return c;
}

// A generator whose batch-norm statistics are not the trivial defaults.
inline Generator tinyGenerator(const ArchConfig& arch, std::uint64_t seed = 7) {
    torch::manual_seed(static_cast<std::uint64_t>(seed));
    Generator g(arch);
    g->train();
    {
        torch::NoGradGuard noGrad;
        for (int i = 0; i < 3; ++i) {
            g->forward(torch::randn({8, arch.latentDim}));
        }
    }
    g->eval();
    return g;
}

inline std::string saveTinyModel(const std::string& path, const ArchConfig& arch = tinyArch()) {
    Provenance p;
    p.name = "Tiny";
    p.date = utcNow();
    saveModel(path, arch, LatentSpace(arch.latentDim, 3), p, tinyGenerator(arch));
    return path;
}

// Blobs of colour on white: something with structure for the trainer to learn.
// Makes a checkpoint's generator draw one picture whatever z is (every weight zero), sets it at
// `step` and has it sample every step: a collapsed run, for the collapse warning.
inline void collapseCheckpoint(Container& c, std::int64_t step) {
    c.meta["training"]["step"] = step;
    c.meta["training"]["config"]["sample_every"] = 1;
    for (Record& r : c.records) {
        const bool weight = r.name.size() > 7 && r.name.rfind(".weight") == r.name.size() - 7;
        if (r.name.rfind("generator.", 0) == 0 && weight && r.dtype == DType::Float32) {
            r.bytes.assign(r.bytes.size(), '\0');
        }
    }
}

inline Dataset blobDataset(int count, int size, std::uint64_t seed = 5) {
    Rng rng(seed);
    torch::Tensor images = torch::full({count, 3, size, size}, 255, torch::kUInt8);
    auto acc = images.accessor<std::uint8_t, 4>();
    for (int i = 0; i < count; ++i) {
        const double cx = rng.uniform(0.3, 0.7) * size;
        const double cy = rng.uniform(0.3, 0.7) * size;
        const double r = rng.uniform(0.2, 0.35) * size;
        const int colour[3] = {static_cast<int>(rng.below(200)), static_cast<int>(rng.below(200)),
                               60};
        for (int y = 0; y < size; ++y) {
            for (int x = 0; x < size; ++x) {
                if ((x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r) {
                    for (int c = 0; c < 3; ++c) {
                        acc[i][c][y][x] = static_cast<std::uint8_t>(colour[c]);
                    }
                }
            }
        }
    }
    Dataset d;
    d.images = images;
    d.source = "blobs";
    d.hash = imagesHash(images);
    return d;
}

// Writes blobDataset(count, size) as blob0.png, blob1.png, ... into an existing folder.
inline bool writeBlobPngs(const std::string& folder, int count, int size) {
    const Dataset blobs = blobDataset(count, size);
    for (int i = 0; i < count; ++i) {
        const torch::Tensor hwc = blobs.images[i].permute({1, 2, 0}).contiguous();
        cv::Mat rgb(size, size, CV_8UC3, hwc.data_ptr());
        cv::Mat bgr;
        cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
        if (!cv::imwrite(folder + "/blob" + std::to_string(i) + ".png", bgr)) {
            return false;
        }
    }
    return true;
}

inline QString sharedDir() {
    if (const char* env = std::getenv("CATTERY_SHARED")) {
        return QString::fromLocal8Bit(env);
    }
    return QStringLiteral(CATTERY_SHARED_DIR);
}

}  // namespace cattery::test
