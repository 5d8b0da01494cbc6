#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/model/networks.h"
#include "core/runtime/precision.h"

namespace cattery {

// What the search for a picture's latent compares: the pixels alone, or the pixels and what the
// model's encoder sees in both pictures (its features at every scale). Pixels are the default: on
// 100 unseen procedural cats the features' search ended farther from the images in pixels, and
// took 45 % longer (tests/bench/RESULTS.md).
enum class ProjectionLoss { Pixels, Features };
const char* projectionLossName(ProjectionLoss loss);             // "pixels", "features"
ProjectionLoss projectionLossFromName(const std::string& name);  // throws ConfigError

// How the search goes: many random latents are drawn and the closest few to the picture are
// refined by Adam on the latent, every value kept within [-range, range] (the latents a model
// draws from lie there).
struct ProjectionSettings {
    int candidates = 256;  // random latents drawn and compared with the picture
    int starts = 1;        // the closest of them, each refined
    // Adam steps on every start: on the default model, 250 take the search on 100 unseen cats
    // to half the distance of the nearest of 10,000 random samples, at about 1.6 s an image on
    // two cores (tests/bench/RESULTS.md).
    int steps = 250;
    double learningRate = 0.1;
    double range = 3.0;
    ProjectionLoss loss = ProjectionLoss::Pixels;
    double featureWeight = 1.0;  // the features' share beside the pixels'
    std::uint64_t seed = 1;      // the random latents
    // Where the encoder has a latent head (trained with the cover term), the latent it proposes
    // for the picture is a start too, in place of the farthest random one where it is closer.
    bool proposal = true;
    // The number format of the refining steps; unset: the generator's device's default
    // (defaultPrecision). The distances reported, and the choice among the starts, are always
    // computed in float32.
    std::optional<Precision> precision;
};

inline constexpr int kMostProjectionCandidates = 100000;
inline constexpr int kMostProjectionStarts = 64;
inline constexpr int kMostProjectionSteps = 100000;
inline constexpr double kMostProjectionRange = 10.0;
// The most pictures one search takes (at 128x128, about 200 MB of targets).
inline constexpr int kMostProjectionTargets = 1000;
// Throws ConfigError naming the first setting out of range.
void validate(const ProjectionSettings& settings);

// A picture's place in the latent space, as found.
struct Projection {
    torch::Tensor latent;   // dim, float, on the CPU
    torch::Tensor picture;  // the model's picture of it: channels x S x S in [-1, 1], on the CPU
    double distance = 0;    // pictureDistance to the target
};

// How far apart pictures are: the root mean square difference of their pixel values, on a scale
// where black to white is 1. a, b: N x C x H x W in [-1, 1]; returns N values.
torch::Tensor pictureDistance(const torch::Tensor& a, const torch::Tensor& b);

// An image as prepared for the model (imagefolder.h: S x S x 3 RGB, uint8) as the model's
// pictures are: 3 x S x S float in [-1, 1].
torch::Tensor pictureFromPixels(const std::vector<std::uint8_t>& pixels, int size);

// Finds, for each target (N x C x S x S in [-1, 1], the model's size), the latent whose picture is
// closest. `encoder` may be null unless the features are compared (checkLoss); where it has a
// latent head, the search starts from its proposals too (ProjectionSettings::proposal). The
// generator must be in eval mode (as loadModel gives it): batch norm then uses its running
// statistics, unchanged. Runs on the generator's device; the generator is only read (no gradients
// are kept in its weights). `progress` hears (done, total) as the work goes; when it returns false
// the search stops and nothing is returned.
std::optional<std::vector<Projection>> project(
    const Generator& generator, const Encoder& encoder, const torch::Tensor& targets,
    const ProjectionSettings& settings,
    const std::function<bool(int done, int total)>& progress = {});

// Throws ConfigError, saying why, when the features are to be compared and there is no encoder.
void checkLoss(ProjectionLoss loss, const Encoder& encoder);

}  // namespace cattery
