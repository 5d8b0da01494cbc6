#include "core/latent/projection.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "core/errors.h"
#include "core/latent/latentspace.h"
#include "core/runtime/autocast.h"
#include "core/runtime/device.h"
#include "core/runtime/inference.h"

namespace cattery {
namespace {

// Random latents are compared with the target at this size (or the model's, if smaller): the
// closest at a glance, not in every pixel, make the best starts.
constexpr int kGlanceSize = 16;
// Latents drawn per batch while comparing candidates.
constexpr int kCandidateBatch = 64;
// Targets searched for together: their starts share the generator's batches.
constexpr int kTargetsPerGroup = 8;

torch::Tensor glance(const torch::Tensor& pictures) {
    const int64_t size = std::min<int64_t>(kGlanceSize, pictures.size(-1));
    return torch::adaptive_avg_pool2d(pictures, {size, size}).flatten(1);
}

// Per picture: the mean squared difference of the pixels, plus (with an encoder) the features'
// squared differences, each scale's relative to the target's own size there.
torch::Tensor searchLoss(const torch::Tensor& pictures, const torch::Tensor& targets,
                         Encoder* encoder, const std::vector<torch::Tensor>& targetFeatures,
                         double featureWeight) {
    torch::Tensor loss = (pictures - targets).pow(2).flatten(1).mean(1);
    if (encoder == nullptr) {
        return loss;
    }
    const std::vector<torch::Tensor> features = (*encoder)->features(pictures);
    torch::Tensor seen = torch::zeros_like(loss);
    for (size_t l = 0; l < features.size(); ++l) {
        const torch::Tensor& t = targetFeatures[l];
        const torch::Tensor scale = t.pow(2).flatten(1).mean(1).clamp_min(1e-8);
        seen = seen + (features[l] - t).pow(2).flatten(1).mean(1) / scale;
    }
    return loss + featureWeight * seen / static_cast<double>(features.size());
}

// The latent the encoder's head proposes for each target takes the place of the target's farthest
// start (z: n x starts rows) where its picture is closer to the target.
void propose(torch::Tensor& z, Encoder& encoder, const torch::Tensor& group,
             const torch::Tensor& wanted, const InferenceGenerator& fast, double range) {
    torch::NoGradGuard noGrad;
    const int64_t n = group.size(0);
    const int64_t starts = z.size(0) / n;
    const torch::Tensor proposed =
        encoder->proposeLatents(encoder->features(group).back()).clamp(-range, range);
    const torch::Tensor startLoss =
        (fast.forward(z) - wanted).pow(2).flatten(1).mean(1).view({n, starts});
    const torch::Tensor proposedLoss = (fast.forward(proposed) - group).pow(2).flatten(1).mean(1);
    const auto [farthestLoss, farthest] = startLoss.max(1);
    const torch::Tensor closer = proposedLoss < farthestLoss;
    const torch::Tensor rows = torch::arange(n, farthest.options()) * starts + farthest;
    z.index_copy_(0, rows.index({closer}), proposed.index({closer}).to(z.dtype()));
}

}  // namespace

const char* projectionLossName(ProjectionLoss loss) {
    return loss == ProjectionLoss::Features ? "features" : "pixels";
}

ProjectionLoss projectionLossFromName(const std::string& name) {
    for (const ProjectionLoss loss : {ProjectionLoss::Pixels, ProjectionLoss::Features}) {
        if (name == projectionLossName(loss)) {
            return loss;
        }
    }
    throw ConfigError(
        fmt::format("the comparison '{}' is not known (pixels or features)", briefly(name)));
}

void validate(const ProjectionSettings& s) {
    if (s.candidates < 1 || s.candidates > kMostProjectionCandidates) {
        throw ConfigError(fmt::format("candidates must be from 1 to {} (it is {})",
                                      kMostProjectionCandidates, s.candidates));
    }
    if (s.starts < 1 || s.starts > kMostProjectionStarts) {
        throw ConfigError(
            fmt::format("starts must be from 1 to {} (it is {})", kMostProjectionStarts, s.starts));
    }
    if (s.steps < 0 || s.steps > kMostProjectionSteps) {
        throw ConfigError(
            fmt::format("steps must be from 0 to {} (it is {})", kMostProjectionSteps, s.steps));
    }
    if (!(s.learningRate > 0 && s.learningRate <= 10)) {
        throw ConfigError(
            fmt::format("the step size must be above 0 and at most 10 (it is {})", s.learningRate));
    }
    if (!(s.range > 0 && s.range <= kMostProjectionRange)) {
        throw ConfigError(fmt::format("the range must be above 0 and at most {} (it is {})",
                                      kMostProjectionRange, s.range));
    }
    if (!(s.featureWeight >= 0 && s.featureWeight <= 100)) {
        throw ConfigError(
            fmt::format("the features' weight must be from 0 to 100 (it is {})", s.featureWeight));
    }
}

void checkLoss(ProjectionLoss loss, const Encoder& encoder) {
    if (loss == ProjectionLoss::Features && encoder.is_empty()) {
        throw ConfigError(
            "this model has no encoder, so pictures can be compared by their pixels only (models "
            "trained by this version of Cattery have one)");
    }
}

torch::Tensor pictureDistance(const torch::Tensor& a, const torch::Tensor& b) {
    return (a - b).pow(2).flatten(1).mean(1).sqrt() * 0.5;
}

torch::Tensor pictureFromPixels(const std::vector<std::uint8_t>& pixels, int size) {
    if (pixels.size() != static_cast<std::size_t>(size) * size * 3) {
        throw ConfigError(
            fmt::format("{} bytes are not a {}x{} RGB image", pixels.size(), size, size));
    }
    return torch::from_blob(const_cast<std::uint8_t*>(pixels.data()), {size, size, 3},
                            torch::kUInt8)
        .permute({2, 0, 1})
        .to(torch::kFloat32)
        .div(127.5)
        .sub(1.0);
}

std::optional<std::vector<Projection>> project(const Generator& generator, const Encoder& encoder,
                                               const torch::Tensor& targets,
                                               const ProjectionSettings& settings,
                                               const std::function<bool(int, int)>& progress) {
    validate(settings);
    if (generator->is_training()) {
        throw std::invalid_argument("project() needs a generator in eval mode");
    }
    const ArchConfig& arch = generator->config();
    checkLoss(settings.loss, encoder);
    const bool withFeatures = settings.loss == ProjectionLoss::Features;
    if (targets.dim() == 4 && targets.size(0) > kMostProjectionTargets) {
        throw ConfigError(fmt::format("at most {} pictures can be searched for at a time, not {}",
                                      kMostProjectionTargets, targets.size(0)));
    }
    if (targets.dim() != 4 || targets.size(1) != arch.channels ||
        targets.size(2) != arch.imageSize || targets.size(3) != arch.imageSize) {
        throw ConfigError(fmt::format("the pictures to find must be N x {} x {} x {}, not {}",
                                      arch.channels, arch.imageSize, arch.imageSize,
                                      fmt::join(targets.sizes(), " x ")));
    }
    // The search needs gradients, wherever it is called from.
    c10::InferenceMode notInference(false);
    torch::AutoGradMode gradients(true);
    Generator model = generator;  // a handle: the forward pass is not const
    const torch::Device device = model->parameters().front().device();
    const Precision precision = settings.precision.value_or(defaultPrecision(device));
    const int64_t count = targets.size(0);
    const int candidates = settings.candidates;
    const int starts = std::min(settings.starts, candidates);
    const int chunks = (candidates + kCandidateBatch - 1) / kCandidateBatch;
    const int groups = static_cast<int>((count + kTargetsPerGroup - 1) / kTargetsPerGroup);
    const int total = count > 0 ? chunks + groups * settings.steps : 0;
    int done = 0;
    auto advance = [&] { return !progress || progress(++done, total); };

    const InferenceGenerator fast(generator, device);
    Encoder encoderHere = withFeatures ? encoder : Encoder{nullptr};
    Encoder proposer = settings.proposal && !encoder.is_empty() && encoder->hasLatentHead()
                           ? encoder
                           : Encoder{nullptr};
    const torch::Tensor drawn =
        sampleLatents(candidates, arch.latentDim, settings.seed, settings.range).to(device);
    // The random latents' pictures at a glance, drawn once for every target.
    torch::Tensor drawnGlances;
    {
        torch::NoGradGuard noGrad;
        std::vector<torch::Tensor> seen;
        for (int c = 0; c < chunks && count > 0; ++c) {
            const torch::Tensor latents =
                drawn.slice(0, int64_t{c} * kCandidateBatch, int64_t{c + 1} * kCandidateBatch);
            seen.push_back(glance(fast.forward(latents)));
            if (!advance()) {
                return std::nullopt;
            }
        }
        if (!seen.empty()) {
            drawnGlances = torch::cat(seen);
        }
    }
    std::vector<Projection> found;
    for (int64_t first = 0; first < count; first += kTargetsPerGroup) {
        const int64_t n = std::min<int64_t>(kTargetsPerGroup, count - first);
        const torch::Tensor group =
            targets.slice(0, first, first + n).to(device, torch::kFloat32).clone();
        // The closest random latents at a glance.
        torch::Tensor glances;
        {
            torch::NoGradGuard noGrad;
            glances = torch::cdist(glance(group), drawnGlances);
        }
        const torch::Tensor closest = std::get<1>(glances.topk(starts, 1, false));
        torch::Tensor z = drawn.index_select(0, closest.flatten()).clone();
        const torch::Tensor wanted = group.repeat_interleave(starts, 0);
        if (proposer) {
            propose(z, proposer, group, wanted, fast, settings.range);
        }
        std::vector<torch::Tensor> wantedFeatures;
        if (withFeatures) {
            torch::NoGradGuard noGrad;
            wantedFeatures = encoderHere->features(wanted);
        }
        // Adam on the latents, each start on its own; the best latent each start reached is kept.
        z.requires_grad_(true);
        torch::optim::Adam adam({z}, torch::optim::AdamOptions(settings.learningRate));
        torch::Tensor best = z.detach().clone();
        torch::Tensor bestLoss = torch::full({z.size(0)}, INFINITY, z.options());
        for (int step = 0; step < settings.steps; ++step) {
            // A scope per step: autocast caches the bf16 copy of every leaf that needs gradients,
            // and z is one that Adam changes in place, so the cache must be cleared each step.
            const PrecisionScope inPrecision(precision, device);
            const torch::Tensor pictures = model->forward(z).to(torch::kFloat32);
            const torch::Tensor loss =
                searchLoss(pictures, wanted, withFeatures ? &encoderHere : nullptr, wantedFeatures,
                           settings.featureWeight);
            z.mutable_grad() = torch::autograd::grad({loss.sum()}, {z})[0];
            {
                torch::NoGradGuard noGrad;
                const torch::Tensor better = loss.detach() < bestLoss;
                best.index_copy_(0, better.nonzero().flatten(), z.detach().index({better}));
                bestLoss = torch::where(better, loss.detach(), bestLoss);
                adam.step();
                z.clamp_(-settings.range, settings.range);
            }
            if (!advance()) {
                return std::nullopt;
            }
        }
        if (settings.steps > 0) {
            torch::NoGradGuard noGrad;
            const torch::Tensor last =
                searchLoss(model->forward(z), wanted, withFeatures ? &encoderHere : nullptr,
                           wantedFeatures, settings.featureWeight);
            const torch::Tensor better = last < bestLoss;
            best.index_copy_(0, better.nonzero().flatten(), z.detach().index({better}));
        }
        // Of each target's starts, the one whose picture is closest.
        torch::NoGradGuard noGrad;
        const torch::Tensor pictures = fast.forward(best);
        const torch::Tensor distances = pictureDistance(pictures, wanted).view({n, starts});
        const torch::Tensor pick = distances.argmin(1);
        for (int64_t i = 0; i < n; ++i) {
            const int64_t row = i * starts + pick[i].item<int64_t>();
            Projection p;
            p.latent = best[row].to(torch::kCPU).clone();
            p.picture = pictures[row].to(torch::kCPU).clone();
            p.distance = distances[i][pick[i].item<int64_t>()].item<double>();
            found.push_back(std::move(p));
        }
    }
    return found;
}

}  // namespace cattery
