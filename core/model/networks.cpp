#include "core/model/networks.h"

#include <cmath>
#include <string>

#include "core/errors.h"

namespace cattery {
namespace {

constexpr int kStages = 4;

torch::Tensor upsample2x(const torch::Tensor& x, bool smooth = false) {
    namespace F = torch::nn::functional;
    auto options = F::InterpolateFuncOptions().scale_factor(std::vector<double>{2.0, 2.0});
    if (smooth) {
        options.mode(torch::kBilinear).align_corners(false);
    } else {
        options.mode(torch::kNearest);
    }
    return F::interpolate(x, options);
}

// The generator's (and the decoder's) way up: each stage, then the skip map concatenated, then 2x
// nearest-neighbour upsampling of both before the next stage. A smooth skip map is upsampled
// bilinearly on its own and concatenated after.
torch::Tensor upStages(std::vector<torch::nn::Sequential>& stages, torch::Tensor h,
                       torch::Tensor skip, bool smoothSkip) {
    for (size_t s = 0; s < stages.size(); ++s) {
        h = stages[s]->forward(h);
        const bool last = s + 1 == stages.size();
        if (skip.defined() && smoothSkip && !last) {
            skip = upsample2x(skip, true);
            h = torch::cat({upsample2x(h), skip}, 1);
            continue;
        }
        if (skip.defined()) {
            h = torch::cat({h, skip}, 1);
        }
        if (!last) {
            h = upsample2x(h);
            if (skip.defined()) {
                skip = upsample2x(skip);
            }
        }
    }
    return h;
}

torch::nn::Conv2d conv3x3(int in, int out, bool bias) {
    return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1).bias(bias));
}

// He initialisation for leaky ReLU keeps the signal alive through deep stacks without batch norm
// (LibTorch's default shrinks it by about a third per layer), so training starts at once.
void initialise(torch::nn::Module& root) {
    torch::NoGradGuard noGrad;
    for (auto& m : root.modules(false)) {
        torch::Tensor weight;
        torch::Tensor bias;
        if (auto* conv = m->as<torch::nn::Conv2d>()) {
            weight = conv->weight;
            bias = conv->bias;
        } else if (auto* linear = m->as<torch::nn::Linear>()) {
            weight = linear->weight;
            bias = linear->bias;
        } else {
            continue;
        }
        torch::nn::init::kaiming_normal_(weight, kLeakySlope, torch::kFanIn, torch::kLeakyReLU);
        if (bias.defined()) {
            bias.zero_();
        }
    }
}

// The discriminator's reconstruction starts small and smooth. (The generator's output is left at
// full strength: a generator that starts out nearly constant in z collapses to a single picture.)
void quieten(torch::nn::Conv2d& out) {
    torch::NoGradGuard noGrad;
    out->weight.mul_(0.1);
}

// The parts of the discriminator's way down, shared with the Encoder so that both are built alike.
torch::nn::Sequential downStage(const ArchConfig& config) {
    torch::nn::Sequential down;
    for (int r = 0; r < config.repeats; ++r) {
        down->push_back(ConvBlock(config.ndf, config.ndf, config.separable, false));
    }
    return down;
}

torch::nn::Linear encodeFc(const ArchConfig& config) {
    const int base = config.baseGrid();
    return torch::nn::Linear(config.ndf * base * base, config.bottleneck);
}

torch::Tensor encodePath(ConvBlock& in, std::vector<torch::nn::Sequential>& down,
                         torch::nn::Linear& fc, const torch::Tensor& x,
                         std::vector<torch::Tensor>* features, torch::Tensor* grid = nullptr) {
    torch::Tensor h = in->forward(x);
    for (size_t s = 0; s < down.size(); ++s) {
        h = down[s]->forward(h);
        if (features) {
            features->push_back(h);
        }
        if (s + 1 < down.size()) {
            h = torch::avg_pool2d(h, 2);
        }
    }
    if (grid) {
        *grid = h;
    }
    return fc->forward(h.flatten(1));
}

// The latent head's perceptron (DiscriminatorImpl::addLatentHead), the same in the encoder.
torch::nn::Sequential latentHead(const ArchConfig& config) {
    const int b = config.bottleneck;
    return torch::nn::Sequential(
        torch::nn::Linear(b, kLatentHeadWidth * b),
        torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(kLeakySlope)),
        torch::nn::Linear(kLatentHeadWidth * b, config.latentDim));
}

}  // namespace

ConvBlockImpl::ConvBlockImpl(int in, int out, bool separable, bool batchNorm, bool activate)
    : m_activate(activate) {
    if (separable) {
        m_depthwise = register_module(
            "depthwise",
            torch::nn::Conv2d(
                torch::nn::Conv2dOptions(in, in, 3).padding(1).groups(in).bias(false)));
        m_conv = register_module(
            "conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1).bias(!batchNorm)));
    } else {
        m_conv = register_module("conv", conv3x3(in, out, !batchNorm));
    }
    if (batchNorm) {
        m_norm = register_module("norm", torch::nn::BatchNorm2d(out));
    }
}

torch::Tensor ConvBlockImpl::forward(torch::Tensor x) {
    if (m_depthwise) {
        x = m_depthwise->forward(x);
    }
    x = m_conv->forward(x);
    if (m_norm) {
        x = m_norm->forward(x);
    }
    return m_activate ? torch::leaky_relu(x, kLeakySlope) : x;
}

GeneratorImpl::GeneratorImpl(const ArchConfig& config) : m_config(config) {
    validate(config);
    const int base = config.baseGrid();
    const int widths[kStages] = {8 * config.nf, 4 * config.nf, 2 * config.nf, config.nf};
    const int skip = config.zSkip ? 1 : 0;

    m_fc = register_module(
        "fc", torch::nn::Linear(torch::nn::LinearOptions(config.latentDim, widths[0] * base * base)
                                    .bias(!config.batchNorm)));
    if (config.batchNorm) {
        m_fcNorm = register_module("fc_norm", torch::nn::BatchNorm2d(widths[0]));
    }
    if (config.zSkip) {
        m_zMap = register_module("z_map", torch::nn::Linear(config.latentDim, base * base));
    }
    int in = widths[0];
    for (int s = 0; s < kStages; ++s) {
        torch::nn::Sequential stage;
        for (int r = 0; r < config.repeats; ++r) {
            stage->push_back(
                ConvBlock(r == 0 ? in : widths[s], widths[s], config.separable, config.batchNorm));
        }
        m_stages.push_back(register_module("stage" + std::to_string(s), stage));
        in = widths[s] + skip;
    }
    m_out = register_module("out", conv3x3(in, config.channels, true));
    initialise(*this);
}

torch::Tensor atTypicalLength(const torch::Tensor& z) {
    // The floor only keeps a zero row from dividing by zero; any latent worth drawing is longer.
    constexpr double kShortest = 1e-12;
    return z *
           (std::sqrt(static_cast<double>(z.size(-1))) / z.norm(2, -1, true).clamp_min(kShortest));
}

torch::Tensor GeneratorImpl::drawn(const torch::Tensor& latents) const {
    return m_config.normalizeZ ? atTypicalLength(latents) : latents;
}

torch::Tensor GeneratorImpl::opening(const torch::Tensor& latents) {
    return openingOf(drawn(latents));
}

torch::Tensor GeneratorImpl::openingOf(const torch::Tensor& z) {
    const int base = m_config.baseGrid();
    torch::Tensor h = m_fc->forward(z).view({z.size(0), 8 * m_config.nf, base, base});
    if (m_fcNorm) {
        h = m_fcNorm->forward(h);
    }
    return torch::leaky_relu(h, kLeakySlope);
}

torch::Tensor GeneratorImpl::forward(const torch::Tensor& latents) {
    return picturesOf(drawn(latents));
}

torch::Tensor GeneratorImpl::forwardInTraining(const torch::Tensor& latents) {
    return picturesOf(
        m_config.normalizeZ && m_config.normalizeZInTraining ? atTypicalLength(latents) : latents);
}

torch::Tensor GeneratorImpl::picturesOf(const torch::Tensor& z) {
    const int base = m_config.baseGrid();
    const int64_t n = z.size(0);
    const torch::Tensor h = openingOf(z);
    torch::Tensor zMap;
    if (m_zMap) {
        zMap = m_zMap->forward(z).view({n, 1, base, base});
    }
    return torch::tanh(m_out->forward(upStages(m_stages, h, zMap, m_config.smoothZMap)));
}

void GeneratorImpl::setOutputMean(const torch::Tensor& mean) {
    torch::NoGradGuard noGrad;
    m_out->bias.copy_(torch::atanh(mean.clamp(-0.95, 0.95)));
}

DiscriminatorImpl::DiscriminatorImpl(const ArchConfig& config) : m_config(config) {
    validate(config);
    const int base = config.baseGrid();
    const int ndf = config.ndf;
    m_in = register_module("in", ConvBlock(config.channels, ndf, config.separable, false));
    const int skip = config.zSkip ? 1 : 0;
    for (int s = 0; s < kStages; ++s) {
        torch::nn::Sequential up;
        for (int r = 0; r < config.repeats; ++r) {
            up->push_back(
                ConvBlock(r == 0 && s > 0 ? ndf + skip : ndf, ndf, config.separable, false));
        }
        m_down.push_back(register_module("down" + std::to_string(s), downStage(config)));
        m_up.push_back(register_module("up" + std::to_string(s), up));
    }
    m_encodeFc = register_module("encode_fc", encodeFc(config));
    m_decodeFc =
        register_module("decode_fc", torch::nn::Linear(config.bottleneck, ndf * base * base));
    if (config.zSkip) {
        m_codeMap = register_module("code_map", torch::nn::Linear(config.bottleneck, base * base));
    }
    m_out = register_module("out", conv3x3(ndf + (config.zSkip ? 1 : 0), config.channels, true));
    initialise(*this);
    quieten(m_out);
}

torch::Tensor DiscriminatorImpl::encode(const torch::Tensor& x) {
    return encodePath(m_in, m_down, m_encodeFc, x, nullptr);
}

std::pair<torch::Tensor, torch::Tensor> DiscriminatorImpl::encodeWithGrid(const torch::Tensor& x) {
    torch::Tensor grid;
    torch::Tensor code = encodePath(m_in, m_down, m_encodeFc, x, nullptr, &grid);
    return {std::move(code), std::move(grid)};
}

EncoderImpl::EncoderImpl(const ArchConfig& config) : m_config(config) {
    validate(config);
    m_in = register_module("in", ConvBlock(config.channels, config.ndf, config.separable, false));
    for (int s = 0; s < kStages; ++s) {
        m_down.push_back(register_module("down" + std::to_string(s), downStage(config)));
    }
    m_encodeFc = register_module("encode_fc", encodeFc(config));
}

std::vector<torch::Tensor> EncoderImpl::features(const torch::Tensor& x) {
    std::vector<torch::Tensor> out;
    torch::Tensor code = encodePath(m_in, m_down, m_encodeFc, x, &out);
    out.push_back(std::move(code));
    return out;
}

void EncoderImpl::addLatentHead() {
    if (!hasLatentHead()) {
        m_latentHead = register_module("latent_head", latentHead(m_config));
    }
}

torch::Tensor EncoderImpl::proposeLatents(const torch::Tensor& code) {
    return atTypicalLength(m_latentHead->forward(code));
}

torch::Tensor DiscriminatorImpl::decode(const torch::Tensor& code) {
    const int base = m_config.baseGrid();
    const int64_t n = code.size(0);
    torch::Tensor h = m_decodeFc->forward(code).view({n, m_config.ndf, base, base});
    torch::Tensor codeMap;
    if (m_codeMap) {
        codeMap = m_codeMap->forward(code).view({n, 1, base, base});
    }
    return m_out->forward(upStages(m_up, h, codeMap, false));
}

void DiscriminatorImpl::addHead() {
    if (hasHead()) {
        return;
    }
    const int b = m_config.bottleneck;
    m_head = register_module(
        "head", torch::nn::Sequential(
                    torch::nn::Linear(b, b),
                    torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.2)),
                    torch::nn::Linear(b, 1)));
}

void DiscriminatorImpl::addPatchHead() {
    if (hasPatchHead()) {
        return;
    }
    m_patchHead = register_module("patch_head",
                                  torch::nn::Conv2d(torch::nn::Conv2dOptions(m_config.ndf, 1, 1)));
}

void DiscriminatorImpl::addLatentHead() {
    if (!hasLatentHead()) {
        m_latentHead = register_module("latent_head", latentHead(m_config));
    }
}

torch::Tensor DiscriminatorImpl::proposeLatents(const torch::Tensor& code) {
    return atTypicalLength(m_latentHead->forward(code));
}

void DiscriminatorImpl::setOutputMean(const torch::Tensor& mean) {
    torch::NoGradGuard noGrad;
    m_out->bias.copy_(mean);
}

int64_t parameterCount(const torch::nn::Module& module) {
    int64_t count = 0;
    for (const auto& p : module.parameters()) {
        count += p.numel();
    }
    return count;
}

void settleBatchNorm(Generator generator, const torch::Tensor& latents, int64_t batchSize) {
    torch::NoGradGuard noGrad;
    std::vector<std::pair<torch::nn::BatchNorm2dImpl*, c10::optional<double>>> norms;
    for (const auto& module : generator->modules(false)) {
        if (auto* norm = module->as<torch::nn::BatchNorm2dImpl>()) {
            norms.emplace_back(norm, norm->options.momentum());
            // No momentum: each batch counts equally, an exact mean over the passes below.
            norm->options.momentum(c10::nullopt);
            norm->reset_running_stats();
        }
    }
    if (!norms.empty()) {
        generator->train();
        const torch::Device device = generator->parameters().front().device();
        for (int64_t i = 0; i + batchSize <= latents.size(0); i += batchSize) {
            generator->forward(latents.narrow(0, i, batchSize).to(device));
        }
        for (const auto& [norm, momentum] : norms) {
            norm->options.momentum(momentum);
        }
    }
    generator->eval();
}

}  // namespace cattery
