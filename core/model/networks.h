#pragma once

#include <utility>

#include <torch/torch.h>

#include "core/model/archconfig.h"

namespace cattery {

// The negative slope of every leaky ReLU in both networks.
constexpr double kLeakySlope = 0.2;

// 3x3 convolution (full or depthwise-separable), optional batch norm, leaky ReLU 0.2.
class ConvBlockImpl : public torch::nn::Module {
public:
    ConvBlockImpl(int in, int out, bool separable, bool batchNorm, bool activate = true);
    torch::Tensor forward(torch::Tensor x);

private:
    torch::nn::Conv2d m_depthwise{nullptr};
    torch::nn::Conv2d m_conv{nullptr};
    torch::nn::BatchNorm2d m_norm{nullptr};
    bool m_activate;
};
TORCH_MODULE(ConvBlock);

// FC to an 8nf x base x base grid, four stages (8nf, 4nf, 2nf, nf) with 2x nearest upsampling
// between them and a map of z concatenated after each, then a 3x3 conv to RGB and tanh.
class GeneratorImpl : public torch::nn::Module {
public:
    explicit GeneratorImpl(const ArchConfig& config);
    // The pictures of latents as the model draws them: scaled to the typical length when the
    // config says so.
    torch::Tensor forward(const torch::Tensor& z);
    // The pictures of latents as training feeds them: scaled only when the config scales them in
    // training too.
    torch::Tensor forwardInTraining(const torch::Tensor& z);
    // The first grid of features the stages grow the picture from (8nf x base x base, after the
    // fully connected layer, its batch norm and activation): where the generator's main ways of
    // varying show most plainly (the directions of latent/directions.h).
    torch::Tensor opening(const torch::Tensor& z);
    const ArchConfig& config() const { return m_config; }
    // Starts the output at the data's mean colour (per channel, in [-1, 1]).
    void setOutputMean(const torch::Tensor& mean);

private:
    // The latents as the layers see them when the model draws.
    torch::Tensor drawn(const torch::Tensor& latents) const;
    torch::Tensor openingOf(const torch::Tensor& z);
    torch::Tensor picturesOf(const torch::Tensor& z);

    ArchConfig m_config;
    torch::nn::Linear m_fc{nullptr};
    torch::nn::BatchNorm2d m_fcNorm{nullptr};
    torch::nn::Linear m_zMap{nullptr};
    std::vector<torch::nn::Sequential> m_stages;
    torch::nn::Conv2d m_out{nullptr};
};
TORCH_MODULE(Generator);

// The discriminator's way down alone: its "in", "down0" to "down3" and "encode_fc" parts, under
// the same names, so that a discriminator's records load into it. Model files keep it (when the run
// that wrote them had one) to compare pictures by what the discriminator sees in them
// (latent/projection.h).
class EncoderImpl : public torch::nn::Module {
public:
    explicit EncoderImpl(const ArchConfig& config);
    // What each stage of the way down makes of x (at 1, 1/2, 1/4 and 1/8 of its size), then
    // the code.
    std::vector<torch::Tensor> features(const torch::Tensor& x);
    // The discriminator's latent head, where its run trained one (DiscriminatorImpl::
    // addLatentHead): a picture's code in, the latent the generator learnt to draw it from out.
    // Call before the weights are loaded.
    void addLatentHead();
    bool hasLatentHead() const { return !m_latentHead.is_empty(); }
    torch::Tensor proposeLatents(const torch::Tensor& code);

private:
    ArchConfig m_config;
    torch::nn::Sequential m_latentHead{nullptr};
    ConvBlock m_in{nullptr};
    std::vector<torch::nn::Sequential> m_down;
    torch::nn::Linear m_encodeFc{nullptr};
};
TORCH_MODULE(Encoder);

// The BEGAN discriminator: an autoencoder whose reconstruction error is the loss.
// Down: stride-1 convolutions then 2x2 average pooling; a fully connected bottleneck; up: like G,
// with a map of the code concatenated after each stage when zSkip is on.
class DiscriminatorImpl : public torch::nn::Module {
public:
    explicit DiscriminatorImpl(const ArchConfig& config);
    torch::Tensor encode(const torch::Tensor& x);
    // The code, and the last stage of the way down (ndf x base x base) that it is made from.
    std::pair<torch::Tensor, torch::Tensor> encodeWithGrid(const torch::Tensor& x);
    torch::Tensor decode(const torch::Tensor& h);
    torch::Tensor forward(const torch::Tensor& x) { return decode(encode(x)); }
    // Starts the reconstruction at the data's mean colour (per channel, in [-1, 1]).
    void setOutputMean(const torch::Tensor& mean);
    // A real-or-fake head on the code (objectives other than BEGAN's judge with it): a small
    // perceptron, registered as "head". Call once, before the weights are loaded or trained.
    void addHead();
    bool hasHead() const { return !m_head.is_empty(); }
    // The head's verdict on codes from encode(): N x 1, higher for real.
    torch::Tensor judge(const torch::Tensor& code) { return m_head->forward(code); }
    // A second real-or-fake head, on each cell of the last grid of the way down (a 1x1
    // convolution, registered as "patch_head"): a verdict on each part of the picture (a cell is
    // an eighth of its width, seen with its surroundings), where the code's head judges the whole
    // at once.
    void addPatchHead();
    bool hasPatchHead() const { return !m_patchHead.is_empty(); }
    // Its verdicts on a grid from encodeWithGrid(): N x base*base, higher for real.
    torch::Tensor judgePatches(const torch::Tensor& grid) {
        return m_patchHead->forward(grid).flatten(1);
    }
    // A head that proposes, from the code of a real picture, the latent the generator is to draw
    // it from (a small perceptron, registered as "latent_head"; TrainConfig::coverWeight). Call
    // once, before the weights are loaded or trained.
    void addLatentHead();
    bool hasLatentHead() const { return !m_latentHead.is_empty(); }
    // Its latents for codes from encode(): N x latentDim, each scaled to a random latent's
    // typical length, sqrt(latentDim), as the generator draws them.
    torch::Tensor proposeLatents(const torch::Tensor& code);

private:
    ArchConfig m_config;
    torch::nn::Sequential m_head{nullptr};
    torch::nn::Conv2d m_patchHead{nullptr};
    torch::nn::Sequential m_latentHead{nullptr};
    ConvBlock m_in{nullptr};
    std::vector<torch::nn::Sequential> m_down;
    torch::nn::Linear m_encodeFc{nullptr};
    torch::nn::Linear m_decodeFc{nullptr};
    torch::nn::Linear m_codeMap{nullptr};
    std::vector<torch::nn::Sequential> m_up;
    torch::nn::Conv2d m_out{nullptr};
};
TORCH_MODULE(Discriminator);

// z (N x dim) scaled row by row to length sqrt(dim), the typical length of a standard normal
// latent; a zero row stays zero. What a generator with ArchConfig::normalizeZ draws from.
torch::Tensor atTypicalLength(const torch::Tensor& z);

// Number of trainable scalars, for reports.
int64_t parameterCount(const torch::nn::Module& module);

// Sets the generator's batch-norm statistics to those its own weights give: the mean and variance
// of each normalised layer over `latents`, taken in batches of `batchSize` as training takes them
// (BigGAN's "standing statistics"). A running average of weights needs this: the statistics the
// running layers kept belong to other weights. Leaves the generator (a handle: the caller's) in
// eval mode.
void settleBatchNorm(Generator generator, const torch::Tensor& latents, int64_t batchSize);

}  // namespace cattery
