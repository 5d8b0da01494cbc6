#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "core/model/archconfig.h"
#include "core/model/networks.h"
#include "core/runtime/precision.h"

namespace cattery {

// The generator made ready for drawing only: batch norm (with its running statistics) folded into
// the convolution and linear weights, every upsample-then-convolve done at the lower resolution
// (four 2x2 convolutions, one per output phase) with the activation written straight into the
// interleaved output, and channels-last weights throughout. Gives the generator's eval-mode
// pictures within float rounding, with a third less work. Holds its own copies of the weights on
// one device.
class InferenceGenerator {
public:
    InferenceGenerator(const Generator& generator, torch::Device device,
                       Precision precision = Precision::Float32);

    // latents: N x dim on any device; returns N x channels x S x S in [-1, 1] on the device.
    // Call under InferenceMode or NoGradGuard.
    torch::Tensor forward(const torch::Tensor& latents) const;

    const ArchConfig& arch() const { return m_arch; }
    const torch::Device& device() const { return m_device; }
    Precision precision() const { return m_precision; }

private:
    struct Block {
        torch::Tensor depthwise;  // separable blocks: the 3x3 per-channel weights
        torch::Tensor weight;     // folded; for an upsampling full block, the four phases' weights
        torch::Tensor bias;
        // A smooth z map's share of an upsampling full block's weight (out x 1 x 3 x 3): the map
        // is upsampled bilinearly, so the phases above cover the other channels only.
        torch::Tensor skipWeight;
        bool upsampling = false;  // the block's input is upsampled 2x first
        int64_t outChannels = 0;
    };

    // x: the block's input at its own resolution. skip: the smooth z map, already upsampled, for
    // the first block of a stage after the first when the map is smooth (x then lacks it).
    torch::Tensor runBlock(const Block& block, const torch::Tensor& x,
                           const torch::Tensor& skip = {}) const;

    ArchConfig m_arch;
    torch::Device m_device;
    Precision m_precision;
    torch::ScalarType m_dtype;
    torch::Tensor m_fcWeight;
    torch::Tensor m_fcBias;
    torch::Tensor m_zMapWeight;
    torch::Tensor m_zMapBias;
    std::vector<std::vector<Block>> m_stages;
    torch::Tensor m_outWeight;
    torch::Tensor m_outBias;
};

}  // namespace cattery
