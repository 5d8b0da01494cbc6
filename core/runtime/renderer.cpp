#include "core/runtime/renderer.h"

#include <algorithm>
#include <cstring>

#include "core/errors.h"

namespace cattery {
namespace {

constexpr int64_t kMaxBatch = 64;

std::string keyOf(const torch::Tensor& row) {
    return std::string(static_cast<const char*>(row.data_ptr()),
                       static_cast<std::size_t>(row.numel()) * sizeof(float));
}

}  // namespace

torch::Tensor toBytes(const torch::Tensor& batch) {
    return batch.detach().add(1.0).mul(127.5).round().clamp(0, 255).to(torch::kUInt8).cpu();
}

torch::Tensor generateBytes(const Generator& generator, const torch::Tensor& latents,
                            torch::Device device) {
    const int dim = generator->config().latentDim;
    if (latents.dim() != 2 || latents.size(1) != dim) {
        throw ConfigError("latents must be an N x " + std::to_string(dim) + " matrix");
    }
    const int size = generator->config().imageSize;
    if (latents.size(0) == 0) {
        return torch::empty({0, 3, size, size}, torch::kUInt8);
    }
    c10::InferenceMode guard;
    const InferenceGenerator ready(generator, device);
    std::vector<torch::Tensor> parts;
    for (int64_t i = 0; i < latents.size(0); i += kMaxBatch) {
        const int64_t n = std::min(kMaxBatch, latents.size(0) - i);
        parts.push_back(toBytes(ready.forward(latents.narrow(0, i, n))));
    }
    return torch::cat(parts, 0);
}

std::vector<RgbImage> toImages(const torch::Tensor& batch) {
    const torch::Tensor bytes = toBytes(batch).permute({0, 2, 3, 1}).contiguous();
    const int64_t n = bytes.size(0);
    const int h = static_cast<int>(bytes.size(1));
    const int w = static_cast<int>(bytes.size(2));
    const std::size_t each = static_cast<std::size_t>(w) * h * 3;
    std::vector<RgbImage> images(static_cast<std::size_t>(n));
    const auto* src = bytes.data_ptr<std::uint8_t>();
    for (int64_t i = 0; i < n; ++i) {
        auto& img = images[static_cast<std::size_t>(i)];
        img.width = w;
        img.height = h;
        img.pixels.assign(src + i * each, src + (i + 1) * each);
    }
    return images;
}

Renderer::Renderer(const Generator& generator, torch::Device device, std::size_t cacheCapacity,
                   Precision precision)
    : m_generator(generator, device, precision), m_capacity(cacheCapacity) {}

std::vector<RgbImage> Renderer::render(const torch::Tensor& latents) {
    const int dim = m_generator.arch().latentDim;
    if (latents.dim() != 2 || latents.size(1) != dim) {
        throw ConfigError("latents must be an N x " + std::to_string(dim) + " matrix");
    }
    const torch::Tensor rows = latents.detach().to(torch::kCPU, torch::kFloat32).contiguous();
    const int64_t n = rows.size(0);
    std::vector<RgbImage> out(static_cast<std::size_t>(n));
    std::vector<int64_t> missing;
    std::vector<std::string> missingKeys;
    for (int64_t i = 0; i < n; ++i) {
        std::string key = keyOf(rows[i]);
        auto it = m_index.find(key);
        if (it != m_index.end()) {
            m_lru.splice(m_lru.begin(), m_lru, it->second);
            out[static_cast<std::size_t>(i)] = it->second->second;
        } else {
            missing.push_back(i);
            missingKeys.push_back(std::move(key));
        }
    }
    m_lastComputed = missing.size();
    if (missing.empty()) {
        return out;
    }
    c10::InferenceMode inference;
    const torch::Tensor todo = rows.index_select(0, torch::tensor(missing, torch::kInt64));
    for (int64_t start = 0; start < todo.size(0); start += kMaxBatch) {
        const int64_t count = std::min(kMaxBatch, todo.size(0) - start);
        const std::vector<RgbImage> images =
            toImages(m_generator.forward(todo.narrow(0, start, count)));
        for (int64_t j = 0; j < count; ++j) {
            const auto k = static_cast<std::size_t>(start + j);
            out[static_cast<std::size_t>(missing[k])] = images[static_cast<std::size_t>(j)];
            remember(std::move(missingKeys[k]), images[static_cast<std::size_t>(j)]);
        }
    }
    return out;
}

void Renderer::remember(std::string key, const RgbImage& image) {
    if (m_capacity == 0) {
        return;
    }
    auto it = m_index.find(key);
    if (it != m_index.end()) {
        m_lru.erase(it->second);
        m_index.erase(it);
    }
    m_lru.emplace_front(key, image);
    m_index.emplace(std::move(key), m_lru.begin());
    while (m_index.size() > m_capacity) {
        m_index.erase(m_lru.back().first);
        m_lru.pop_back();
    }
}

void Renderer::clearCache() {
    m_lru.clear();
    m_index.clear();
}

}  // namespace cattery
