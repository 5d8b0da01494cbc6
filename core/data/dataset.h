#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/data/augmentconfig.h"
#include "core/latent/rng.h"

namespace cattery {

// One file that was not used, and why, in words for the user.
struct SkippedFile {
    std::string path;
    std::string reason;
};

// What reading a folder of images found.
struct FolderReport {
    std::string folder;
    std::vector<std::string> used;
    std::vector<SkippedFile> skipped;
};

// Preprocessed training images: N x 3 x S x S, uint8 RGB on white.
struct Dataset {
    torch::Tensor images;
    std::string source;  // folder or file it came from
    std::string hash;    // CRC-32 of the image bytes, hex
    FolderReport report;

    std::int64_t count() const { return images.defined() ? images.size(0) : 0; }
    int imageSize() const { return images.defined() ? static_cast<int>(images.size(3)) : 0; }
};

// The most image bytes a data set holds (N x S x S x 3): its file must stay under the 4 GiB that
// readContainer reads, with room for the header.
inline constexpr std::uint64_t kMaxDatasetBytes = (4ULL << 30) - (64ULL << 20);

std::string imagesHash(const torch::Tensor& images);
// Throws DataError if the data set has no usable image, summing up the report's reasons.
void requireImages(const Dataset& dataset);

// The data set file: one Cattery container of kind "dataset" (feeds machines without OpenCV).
void saveDataset(const std::string& path, const Dataset& dataset);
Dataset loadDataset(const std::string& path);

// Area-averaged down- or bilinear up-scaling of every image to size x size.
Dataset resizedDataset(const Dataset& dataset, int size);

// uint8 [0, 255] -> float [-1, 1].
torch::Tensor toUnitRange(const torch::Tensor& images);
// A random batch: indices drawn from rng, augmented on the images' device, float in [-1, 1].
torch::Tensor augmentedBatch(const torch::Tensor& images, int batchSize,
                             const AugmentConfig& config, Rng& rng);
// The share `share` of a batch of share.total drawn so: the same pictures, and the same draws
// from rng, as those places of the whole batch.
torch::Tensor augmentedBatch(const torch::Tensor& images, const BatchShare& share,
                             const AugmentConfig& config, Rng& rng);
// Flips, rotates, scales and shifts float images in [-1, 1]; uncovered areas become white.
torch::Tensor augment(const torch::Tensor& batch, const AugmentConfig& config, Rng& rng);
// The same for the share `share` of a batch (batch holds share.count pictures): the random
// choices of all share.total are drawn, and those of the share applied.
torch::Tensor augment(const torch::Tensor& batch, const AugmentConfig& config, Rng& rng,
                      const BatchShare& share);

}  // namespace cattery
