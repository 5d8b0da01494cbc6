#pragma once

#include <cstdint>

#include <torch/torch.h>

// How varied a set of images is: the mode-collapse figure that training watches and eval reports.
namespace cattery {

// Mean root-mean-square difference between random pairs of distinct images, in [0, 1] units.
// A collapsed generator scores near 0; compare with the data's own figure.
double meanPairwiseDistance(const torch::Tensor& images, int pairs = 2000, std::uint64_t seed = 1);

// Samples' pairwise distance over the data's. Below kCollapsedDiversity the samples are
// clearly less varied than the data: mode collapse.
constexpr double kCollapsedDiversity = 0.5;
double diversityRatio(const torch::Tensor& samples, const torch::Tensor& data,
                      std::uint64_t seed = 1);

// Throws ConfigError unless `images` is N x 3 x S x S uint8 with N >= 2; `what` names the set.
void checkImageSet(const torch::Tensor& images, const char* what);

}  // namespace cattery
