#pragma once

#include <cstddef>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

#include <torch/torch.h>

#include "core/model/networks.h"
#include "core/runtime/image.h"
#include "core/runtime/inference.h"

namespace cattery {

// Float images in [-1, 1], N x 3 x H x W on any device, to 8-bit RGB.
std::vector<RgbImage> toImages(const torch::Tensor& batch);
// Float images in [-1, 1] to N x 3 x H x W uint8 on the CPU.
torch::Tensor toBytes(const torch::Tensor& batch);
// The generator's pictures for many latents (N x dim), in batches under InferenceMode, as
// N x 3 x S x S uint8 on the CPU; for metrics over thousands of samples.
torch::Tensor generateBytes(const Generator& generator, const torch::Tensor& latents,
                            torch::Device device);

// Turns latents into pictures in batches on one device, under InferenceMode, through an
// InferenceGenerator (batch norm folded, upsampling fused), with an LRU cache keyed by the exact
// latent so that unchanged cells are never computed again.
// Not thread-safe: one renderer belongs to one worker thread.
class Renderer {
public:
    Renderer(const Generator& generator, torch::Device device, std::size_t cacheCapacity = 1024,
             Precision precision = Precision::Float32);

    // latents: N x dim. Returns N images in the same order.
    std::vector<RgbImage> render(const torch::Tensor& latents);

    void clearCache();
    std::size_t cacheSize() const { return m_index.size(); }
    // Images computed by the model (not taken from the cache) in the last render() call.
    std::size_t lastComputed() const { return m_lastComputed; }
    const torch::Device& device() const { return m_generator.device(); }
    Precision precision() const { return m_generator.precision(); }

private:
    using Entry = std::pair<std::string, RgbImage>;

    void remember(std::string key, const RgbImage& image);

    InferenceGenerator m_generator;
    std::size_t m_capacity;
    std::list<Entry> m_lru;  // most recently used first
    std::unordered_map<std::string, std::list<Entry>::iterator> m_index;
    std::size_t m_lastComputed = 0;
};

}  // namespace cattery
