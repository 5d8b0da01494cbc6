#include "core/runtime/inference.h"

#include <string>
#include <utility>

#include "core/errors.h"

namespace cattery {
namespace {

constexpr auto kChannelsLast = torch::MemoryFormat::ChannelsLast;

torch::Tensor activate(torch::Tensor x) {
    return torch::leaky_relu_(x, kLeakySlope);
}

std::shared_ptr<torch::nn::Module> child(const torch::nn::Module& module, const std::string& name) {
    const auto children = module.named_children();
    const auto* found = children.find(name);
    return found != nullptr ? *found : nullptr;
}

template <typename T>
T& childAs(const torch::nn::Module& module, const std::string& name) {
    const auto found = child(module, name);
    T* typed = found ? found->as<T>() : nullptr;
    if (typed == nullptr) {
        throw ConfigError("the generator has no layer '" + name + "' of the expected kind");
    }
    return *typed;
}

// An eval-mode batch norm as a per-channel scale and shift.
std::pair<torch::Tensor, torch::Tensor> normAffine(const torch::nn::BatchNorm2dImpl& norm) {
    torch::Tensor scale = torch::rsqrt(norm.running_var + norm.options.eps());
    torch::Tensor shift = -norm.running_mean * scale;
    if (norm.options.affine()) {
        scale = scale * norm.weight;
        shift = shift * norm.weight + norm.bias;
    }
    return {scale, shift};
}

// The layer's bias, or zeros beside its weight (same device and type) when it has none.
torch::Tensor biasOrZeros(const torch::Tensor& bias, const torch::Tensor& weight) {
    return bias.defined() ? bias.detach() : torch::zeros({weight.size(0)}, weight.options());
}

// Nearest-neighbour 2x upsampling followed by a 3x3 convolution (padding 1) sees only a 2x2 patch
// of the input for each output pixel, so each of the four output phases (row and column parity)
// is a 2x2 convolution of the input with sums of the 3x3 weights: 2.25x fewer multiply-adds, and
// no upsampled copy. Along one axis, output row 2i sees input rows i-1 (tap 0) and i (taps 1 and
// 2); row 2i+1 sees rows i (taps 0 and 1) and i+1 (tap 2). Returns the phases' weights stacked
// phase-major (row parity, then column parity): 4 out x in x 2 x 2. Convolved at padding 1 they
// give (H + 1) x (W + 1) maps; phase (a, b) is the H x W window at offset (a, b) of its channels.
torch::Tensor upsamplePhaseWeights(const torch::Tensor& weight) {
    // combine[a][p][k]: tap k's share in phase a's p-th 2x2 weight.
    const torch::Tensor combine =
        torch::tensor({1.f, 0.f, 0.f, 0.f, 1.f, 1.f, 1.f, 1.f, 0.f, 0.f, 0.f, 1.f},
                      weight.options().requires_grad(false))
            .view({2, 2, 3});
    return torch::einsum("apk,bql,oikl->aboipq", {combine, combine, weight})
        .reshape({4 * weight.size(0), weight.size(1), 2, 2});
}

torch::Tensor upsample2x(const torch::Tensor& x) {
    return torch::upsample_nearest2d(x, {2 * x.size(2), 2 * x.size(3)});
}

// The one-channel z map, bilinearly (as the Generator does), in float32 and back: it is small.
torch::Tensor smoothUpsample2x(const torch::Tensor& map) {
    return torch::upsample_bilinear2d(map.to(torch::kFloat32), {2 * map.size(2), 2 * map.size(3)},
                                      false)
        .to(map.scalar_type());
}

}  // namespace

InferenceGenerator::InferenceGenerator(const Generator& generator, torch::Device device,
                                       Precision precision)
    : m_arch(generator->config()),
      m_device(device),
      m_precision(precision),
      m_dtype(precision == Precision::BFloat16 ? torch::kBFloat16 : torch::kFloat32) {
    torch::NoGradGuard noGrad;
    // Folded in float32, then stored in the working precision.
    auto place = [&](const torch::Tensor& t,
                     torch::MemoryFormat format = torch::MemoryFormat::Contiguous,
                     torch::ScalarType dtype = torch::kFloat32) {
        return t.detach().to(torch::kCPU, torch::kFloat32).contiguous(format).to(device, dtype);
    };
    const torch::nn::Module& g = *generator;
    const int64_t cells = static_cast<int64_t>(m_arch.baseGrid()) * m_arch.baseGrid();

    // The first layer: FC, then batch norm per channel of the base grid (rows c*cells onwards).
    const auto& fc = childAs<torch::nn::LinearImpl>(g, "fc");
    torch::Tensor fcWeight = fc.weight.detach();
    torch::Tensor fcBias = biasOrZeros(fc.bias, fc.weight);
    if (child(g, "fc_norm")) {
        auto [scale, shift] = normAffine(childAs<torch::nn::BatchNorm2dImpl>(g, "fc_norm"));
        scale = scale.repeat_interleave(cells);
        shift = shift.repeat_interleave(cells);
        fcWeight = fcWeight * scale.unsqueeze(1);
        fcBias = fcBias * scale + shift;
    }
    m_fcWeight = place(fcWeight, torch::MemoryFormat::Contiguous, m_dtype);
    m_fcBias = place(fcBias, torch::MemoryFormat::Contiguous, m_dtype);
    if (child(g, "z_map")) {
        const auto& zMap = childAs<torch::nn::LinearImpl>(g, "z_map");
        m_zMapWeight = place(zMap.weight, torch::MemoryFormat::Contiguous, m_dtype);
        m_zMapBias =
            place(biasOrZeros(zMap.bias, zMap.weight), torch::MemoryFormat::Contiguous, m_dtype);
    }

    for (int s = 0;; ++s) {
        const auto stageModule = child(g, "stage" + std::to_string(s));
        if (!stageModule) {
            break;
        }
        std::vector<Block> stage;
        const auto blocks = stageModule->children();
        for (size_t r = 0; r < blocks.size(); ++r) {
            const torch::nn::Module& blockModule = *blocks[r];
            const auto& conv = childAs<torch::nn::Conv2dImpl>(blockModule, "conv");
            torch::Tensor weight = conv.weight.detach();
            torch::Tensor bias = biasOrZeros(conv.bias, conv.weight);
            if (child(blockModule, "norm")) {
                const auto [scale, shift] =
                    normAffine(childAs<torch::nn::BatchNorm2dImpl>(blockModule, "norm"));
                weight = weight * scale.view({-1, 1, 1, 1});
                bias = bias * scale + shift;
            }
            Block block;
            block.upsampling = s > 0 && r == 0;
            block.outChannels = weight.size(0);
            const bool splitSkip = block.upsampling && m_arch.zSkip && m_arch.smoothZMap &&
                                   !child(blockModule, "depthwise");
            if (splitSkip) {
                const int64_t in = weight.size(1);
                block.skipWeight = place(weight.narrow(1, in - 1, 1), kChannelsLast, m_dtype);
                weight = weight.narrow(1, 0, in - 1);
            }
            if (child(blockModule, "depthwise")) {
                block.depthwise =
                    place(childAs<torch::nn::Conv2dImpl>(blockModule, "depthwise").weight,
                          kChannelsLast, m_dtype);
            } else if (block.upsampling) {
                weight = upsamplePhaseWeights(weight);
                bias = bias.repeat({4});
            }
            block.weight = place(weight, kChannelsLast, m_dtype);
            block.bias = place(bias, torch::MemoryFormat::Contiguous, m_dtype);
            stage.push_back(std::move(block));
        }
        m_stages.push_back(std::move(stage));
    }
    const auto& out = childAs<torch::nn::Conv2dImpl>(g, "out");
    m_outWeight = place(out.weight, kChannelsLast);
    m_outBias = place(biasOrZeros(out.bias, out.weight));
}

torch::Tensor InferenceGenerator::runBlock(const Block& block, const torch::Tensor& x,
                                           const torch::Tensor& skip) const {
    if (block.depthwise.defined()) {
        torch::Tensor in = block.upsampling ? upsample2x(x) : x;
        if (skip.defined()) {
            in = torch::cat({in, skip}, 1).contiguous(kChannelsLast);
        }
        in = torch::conv2d(in, block.depthwise, {}, 1, 1, 1, in.size(1));
        return activate(torch::conv2d(in, block.weight, block.bias));
    }
    if (!block.upsampling) {
        return activate(torch::conv2d(x, block.weight, block.bias, 1, 1));
    }
    // The four phases at x's resolution, each written with its activation straight into its
    // rows and columns of the 2x output.
    const int64_t n = x.size(0);
    const int64_t h = x.size(2);
    const int64_t w = x.size(3);
    const int64_t out = block.outChannels;
    const torch::Tensor phases = torch::conv2d(x, block.weight, block.bias, 1, 1);
    if (skip.defined()) {
        // The smooth map's share at the full resolution, the phases added into it, then the
        // activation in place.
        torch::Tensor result =
            torch::conv2d(skip, block.skipWeight, {}, 1, 1).contiguous(kChannelsLast);
        const torch::Tensor grid = result.view({n, out, h, 2, w, 2});
        for (int64_t a = 0; a < 2; ++a) {
            for (int64_t b = 0; b < 2; ++b) {
                grid.select(3, a).select(4, b).add_(
                    phases.narrow(1, (2 * a + b) * out, out).narrow(2, a, h).narrow(3, b, w));
            }
        }
        return torch::leaky_relu_(result, kLeakySlope);
    }
    torch::Tensor result =
        torch::empty({n, out, 2 * h, 2 * w}, x.options().memory_format(kChannelsLast));
    const torch::Tensor grid = result.view({n, out, h, 2, w, 2});
    for (int64_t a = 0; a < 2; ++a) {
        for (int64_t b = 0; b < 2; ++b) {
            torch::Tensor target = grid.select(3, a).select(4, b);
            torch::leaky_relu_out(
                target, phases.narrow(1, (2 * a + b) * out, out).narrow(2, a, h).narrow(3, b, w),
                kLeakySlope);
        }
    }
    return result;
}

torch::Tensor InferenceGenerator::forward(const torch::Tensor& latents) const {
    if (latents.dim() != 2 || latents.size(1) != m_arch.latentDim) {
        throw ConfigError("latents must be an N x " + std::to_string(m_arch.latentDim) + " matrix");
    }
    const torch::Tensor z =
        (m_arch.normalizeZ ? atTypicalLength(latents.to(m_device, torch::kFloat32))
                           : latents.to(m_device))
            .to(m_dtype);
    const int64_t n = z.size(0);
    const int64_t base = m_arch.baseGrid();
    torch::Tensor h = activate(torch::addmm(m_fcBias, z, m_fcWeight.t()))
                          .view({n, 8 * m_arch.nf, base, base})
                          .contiguous(kChannelsLast);
    torch::Tensor skip;
    if (m_zMapWeight.defined()) {
        skip = torch::addmm(m_zMapBias, z, m_zMapWeight.t()).view({n, 1, base, base});
    }
    // A smooth map is upsampled on its own and handed to the next stage's first block; a
    // repeated one travels concatenated to h, upsampled with it inside that block.
    const bool smooth = skip.defined() && m_arch.smoothZMap;
    for (size_t s = 0; s < m_stages.size(); ++s) {
        for (size_t r = 0; r < m_stages[s].size(); ++r) {
            h = runBlock(m_stages[s][r], h, smooth && s > 0 && r == 0 ? skip : torch::Tensor());
        }
        const bool last = s + 1 == m_stages.size();
        if (smooth && !last) {
            skip = smoothUpsample2x(skip);
        } else if (skip.defined()) {
            h = torch::cat({h, skip}, 1).contiguous(kChannelsLast);
            if (!last) {
                skip = upsample2x(skip);
            }
        }
    }
    // The last convolution in float32, so that bf16 costs at most about a level of 255.
    return torch::conv2d(h.to(torch::kFloat32), m_outWeight, m_outBias, 1, 1).tanh_();
}

}  // namespace cattery
