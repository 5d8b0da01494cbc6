#include "core/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/io/tensorio.h"
#include "core/runtime/autocast.h"
#include "core/runtime/device.h"
#include "core/runtime/renderer.h"
#include "core/train/distributed.h"
#include "core/train/resume.h"

namespace cattery {
namespace {

constexpr std::uint64_t kSampleSeedSalt = 0x5ca7ca7ULL;
// The running average's batch-norm statistics are taken over this many fixed latents, in batches
// of kSettleBatch (trainer.h).
constexpr int kSettleSamples = 256;
constexpr std::uint64_t kSettleSeedSalt = 0x5e771eULL;
constexpr double kEmaWeight = 0.01;
constexpr std::uint64_t kHeldOutSeedSalt = 0x4e1d0075ULL;
constexpr std::uint64_t kScoreSeedSalt = 0x5c0e5ULL;

// On the CPU, channels-last convolution weights make oneDNN run both networks channels-last,
// forward and backward: about a quarter more images per second at 64x64 (see the benchmark).
void useChannelsLast(torch::nn::Module& module) {
    torch::NoGradGuard noGrad;
    for (auto& p : module.parameters()) {
        if (p.dim() == 4) {
            p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
        }
    }
}

// Copies `from`'s weights and batch-norm statistics into `to`, a network of the same shape.
void copyWeights(const torch::nn::Module& from, torch::nn::Module& to) {
    torch::NoGradGuard noGrad;
    const auto copy = [](const std::vector<torch::Tensor>& source,
                         const std::vector<torch::Tensor>& target) {
        for (size_t i = 0; i < target.size(); ++i) {
            target[i].copy_(source[i]);
        }
    };
    copy(from.parameters(), to.parameters());
    copy(from.buffers(), to.buffers());
}

// Where rank `rank`'s `mine` differs from rank 0's `first` (JSON objects of settings), in words:
// "image_size is 64 on rank 0 and 32 on rank 1".
std::string difference(const nlohmann::json& first, const nlohmann::json& mine, int rank) {
    for (const auto& [key, value] : first.items()) {
        const auto other = mine.find(key);
        if (other == mine.end() || *other != value) {
            return fmt::format(
                "{} is {} on rank 0 and {} on rank {}", key, briefly(value.dump(), 60),
                other == mine.end() ? std::string("missing") : briefly(other->dump(), 60), rank);
        }
    }
    return fmt::format("rank {} has settings rank 0 does not", rank);
}

// The betas; the step sizes are set by Trainer::setLearningRates.
torch::optim::AdamOptions adamOptions(const TrainConfig& c) {
    return torch::optim::AdamOptions(c.learningRate).betas(std::make_tuple(c.beta1, c.beta2));
}

// The discriminator's optimiser: a group for its weights, and a second for its latent head when
// it has one (set kLatentHeadRateScale times faster by Trainer::setLearningRates).
std::unique_ptr<torch::optim::Adam> discriminatorOptimiser(const Discriminator& d,
                                                           const TrainConfig& c) {
    std::vector<torch::Tensor> own;
    std::vector<torch::Tensor> latentHead;
    for (const auto& item : d->named_parameters(true)) {
        (item.key().rfind("latent_head.", 0) == 0 ? latentHead : own).push_back(item.value());
    }
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(own, std::make_unique<torch::optim::AdamOptions>(adamOptions(c)));
    if (!latentHead.empty()) {
        groups.emplace_back(latentHead,
                            std::make_unique<torch::optim::AdamOptions>(adamOptions(c)));
    }
    return std::make_unique<torch::optim::Adam>(std::move(groups), adamOptions(c));
}

}  // namespace

Trainer::Trainer(const ArchConfig& arch, const TrainConfig& config, Dataset dataset,
                 torch::Device device)
    : m_arch(arch),
      m_config(resolvedConfig(config, dataset.count())),
      m_dataset(std::move(dataset)),
      m_device(device),
      m_rng(config.seed),
      m_lr(config.learningRate) {
    validate(arch);
    validate(config);
    if (m_dataset.count() < 1) {
        throw DataError(m_dataset.source, "the data set holds no images");
    }
    if (m_dataset.images.dim() != 4 || m_dataset.images.size(1) != arch.channels ||
        m_dataset.imageSize() != arch.imageSize ||
        m_dataset.images.scalar_type() != torch::kUInt8) {
        throw DataError(m_dataset.source,
                        fmt::format("the images are not {} x {} RGB bytes as the model needs",
                                    arch.imageSize, arch.imageSize));
    }
    if (m_dataset.hash.empty()) {
        m_dataset.hash = imagesHash(m_dataset.images);
    }
    // Scores and adaptive augmentation compare with unseen images, kept out by a fixed draw of the
    // seed (so a resumed run holds out the same ones).
    const bool scored = m_config.scoreEvery > 0;
    const std::int64_t held =
        m_config.diffAugment.adaptive || scored ? heldOutCount(m_dataset.count()) : 0;
    torch::Tensor scoreImages;
    if (held > 0) {
        const auto gen =
            torch::make_generator<at::CPUGeneratorImpl>(config.seed ^ kHeldOutSeedSalt);
        const torch::Tensor order = torch::randperm(m_dataset.count(), gen, torch::kLong);
        scoreImages = m_dataset.images.index_select(0, order.narrow(0, 0, held));
        m_heldOut = scoreImages.to(m_device);
        m_images = m_dataset.images.index_select(0, order.narrow(0, held, m_dataset.count() - held))
                       .to(m_device);
    } else {
        m_images = m_dataset.images.to(m_device);
        scoreImages = m_dataset.images.narrow(0, 0, std::min(kMaxHeldOut, m_dataset.count()));
    }
    if (scored && imagesDiffer(scoreImages)) {
        m_scoreReference =
            std::make_unique<ScoreReference>(scoreImages, config.seed, kScorePatches);
        m_scoreLatents = sampleLatents(kScoreSamples, arch.latentDim, config.seed ^ kScoreSeedSalt);
    }
    m_strength = AugmentStrength(m_config.diffAugment.probability, m_config.diffAugment.target);
    torch::manual_seed(config.seed);
    m_latent = LatentSpace(arch.latentDim, config.seed);
    m_generator = Generator(arch);
    m_discriminator = Discriminator(arch);
    if (m_config.objective == Objective::Hinge) {
        m_discriminator->addHead();
    }
    if (m_config.judgesCells()) {
        m_discriminator->addPatchHead();
    }
    if (m_config.covers()) {
        m_discriminator->addLatentHead();
    }
    // Adam moves each weight about one learning rate per step, far too slowly to shift an output
    // from grey to a white background: both networks start at the data's mean colour instead.
    // Summed in double straight from the bytes: no float copy of the whole data set.
    const double pixels = static_cast<double>(m_dataset.images.numel() / m_dataset.images.size(1));
    const torch::Tensor mean = m_dataset.images.sum({0, 2, 3}, false, torch::kFloat64)
                                   .div(pixels * 127.5)
                                   .sub(1.0)
                                   .to(torch::kFloat32);
    m_generator->setOutputMean(mean);
    m_discriminator->setOutputMean(mean);
    m_generator->to(m_device);
    m_discriminator->to(m_device);
    if (m_device.is_cpu()) {
        useChannelsLast(*m_generator);
        useChannelsLast(*m_discriminator);
    }
    m_generator->train();
    m_discriminator->train();
    if (config.averageDecay > 0) {
        m_average = Generator(arch);
        m_average->to(m_device);
        if (m_device.is_cpu()) {
            useChannelsLast(*m_average);
        }
        for (auto& p : m_average->parameters()) {
            p.set_requires_grad(false);
        }
        copyWeights(*m_generator, *m_average);
        m_average->eval();
        m_settleLatents = averageSettleLatents(arch.latentDim, config.seed);
    }
    m_optG = std::make_unique<torch::optim::Adam>(m_generator->parameters(), adamOptions(config));
    m_optD = discriminatorOptimiser(m_discriminator, config);
    setLearningRates(config.learningRate, config.discriminatorLrScale);
    m_sampleLatents =
        sampleLatents(config.sampleCount, arch.latentDim, config.seed ^ kSampleSeedSalt);
    if (m_scoreReference && m_config.collapseGuard) {
        keepBest(m_best.score);  // the start: where the guard goes back to before any score
        m_best.scored = false;
    }
    m_lastGood = checkpoint();
}

void Trainer::setLearningRate(double lr) {
    setLearningRates(lr, m_config.discriminatorLrScale);
}

void Trainer::setLearningRates(double lr, double discriminatorScale) {
    TrainConfig checked = m_config;  // the same limits as a new run, the discriminator's included
    checked.learningRate = lr;
    checked.discriminatorLrScale = discriminatorScale;
    validate(checked);
    m_lr = lr;
    m_config.discriminatorLrScale = discriminatorScale;
    const std::pair<torch::optim::Adam*, double> rates[] = {
        {m_optG.get(), lr}, {m_optD.get(), lr * discriminatorScale}};
    for (const auto& [opt, rate] : rates) {
        for (auto& group : opt->param_groups()) {
            static_cast<torch::optim::AdamOptions&>(group.options()).lr(rate);
        }
    }
    // The latent head, the discriminator's second group, learns faster.
    auto& groupsD = m_optD->param_groups();
    for (size_t i = 1; i < groupsD.size(); ++i) {
        static_cast<torch::optim::AdamOptions&>(groupsD[i].options())
            .lr(lr * discriminatorScale * kLatentHeadRateScale);
    }
}

int Trainer::rank() const {
    return m_world != nullptr ? m_world->rank() : 0;
}

int Trainer::processes() const {
    return m_world != nullptr ? m_world->size() : 1;
}

BatchShare Trainer::shareOf(std::int64_t count) const {
    return {rank() * count, count, processes() * count};
}

std::vector<double> Trainer::meanAcrossProcesses(const std::vector<double>& values) {
    if (m_world == nullptr) {
        return values;
    }
    // A NaN on any process makes the mean NaN: every process rolls back together.
    std::vector<double> mean = m_world->sum(values);
    for (double& v : mean) {
        v /= m_world->size();
    }
    return mean;
}

void Trainer::averageGradients() {
    if (m_world == nullptr) {
        return;
    }
    std::vector<torch::Tensor> grads;
    for (const auto* net : {static_cast<torch::nn::Module*>(m_discriminator.get()),
                            static_cast<torch::nn::Module*>(m_generator.get())}) {
        for (const torch::Tensor& p : net->parameters()) {
            grads.push_back(p.grad());
        }
    }
    m_world->average(grads);
}

void Trainer::joinWorld(World& world) {
    // Every process must be the same run: the settings, the images and the state it starts from
    // (a resumed run's step and random stream) are compared, with the first difference named.
    const auto rng = m_rng.state();
    const std::pair<const char*, nlohmann::json> facets[] = {
        {"architecture", toJson(m_arch)},
        {"training settings", toJson(m_config)},
        {"images", {{"count", m_dataset.count()}, {"hash", m_dataset.hash}}},
        {"state",
         {{"step", m_step},
          {"learning_rate", m_lr},
          {"rng",
           {std::to_string(rng[0]), std::to_string(rng[1]), std::to_string(rng[2]),
            std::to_string(rng[3])}}}}};
    for (const auto& [what, mine] : facets) {
        const std::vector<std::string> all = world.gather(mine.dump());
        const nlohmann::json first = nlohmann::json::parse(all.front());
        for (int r = 1; r < world.size(); ++r) {
            if (all[static_cast<std::size_t>(r)] != all.front()) {
                throw ConfigError(fmt::format(
                    "the processes are not training the same run: their {} differ ({})", what,
                    difference(first, nlohmann::json::parse(all[static_cast<std::size_t>(r)]), r)));
            }
        }
    }
    if (m_config.batchSize % world.size() != 0) {
        throw ConfigError(fmt::format(
            "the run's batch of {} pictures does not split evenly over {} processes: use a "
            "number of processes that divides it",
            m_config.batchSize, world.size()));
    }
    // Rank 0's networks for all: a new run's other processes drew their own.
    std::vector<torch::Tensor> state;
    std::vector<torch::nn::Module*> nets = {m_generator.get(), m_discriminator.get()};
    if (m_average) {
        nets.push_back(m_average.get());
    }
    for (const torch::nn::Module* net : nets) {
        for (const torch::Tensor& t : net->parameters()) {
            state.push_back(t);
        }
        for (const torch::Tensor& t : net->buffers()) {
            state.push_back(t);
        }
    }
    world.broadcast(state);
    m_averageSettledAt = -1;
    m_world = &world;
    if (m_step == 0 && !m_best.scored && m_scoreReference && m_config.collapseGuard) {
        keepBest(m_best.score);  // the start the guard goes back to is now rank 0's
        m_best.scored = false;
    }
    m_lastGood = checkpoint();
}

StepStats Trainer::step() {
    const torch::Tensor batch =
        augmentedBatch(m_images, shareOf(batchPerProcess()), m_config.augment, m_rng);
    return step(batch);
}

StepStats Trainer::step(const torch::Tensor& realBatch) {
    // Drawn for the whole batch of all processes, so that each takes the latents one process
    // would give those places.
    const BatchShare share = shareOf(realBatch.size(0));
    return step(realBatch,
                sampleLatents(static_cast<int>(share.total), m_arch.latentDim, m_rng.next())
                    .narrow(0, share.first, share.count));
}

StepStats Trainer::step(const torch::Tensor& realBatch, const torch::Tensor& latents) {
    const auto start = std::chrono::steady_clock::now();
    // A step needs gradients, wherever it is called from.
    c10::InferenceMode notInference(false);
    torch::AutoGradMode gradients(true);
    m_share = shareOf(realBatch.size(0));
    const torch::Tensor x = m_device.is_cpu()
                                ? realBatch.contiguous(torch::MemoryFormat::ChannelsLast)
                                : realBatch.to(m_device);
    const torch::Tensor z = latents.to(m_device);
    const bool began = m_config.objective == Objective::Began;
    const Losses l = began ? beganUpdate(x, z) : hingeUpdate(x, z);
    if (!l.finite) {
        rollBack();
        StepStats stats;
        stats.step = m_step;
        stats.lossReal = l.real;
        stats.lossFake = l.fake;
        stats.k = m_k;
        stats.learningRate = m_lr;
        stats.rolledBack = true;
        return stats;
    }
    updateAverage();

    if (m_config.diffAugment.adaptive && m_heldOut.defined() &&
        (m_step + 1) % AugmentStrength::kAdjustEvery == 0) {
        m_strength.update(l.real, heldOutError());
    }

    if (began) {
        m_k = std::clamp(m_k + m_config.lambdaK * (m_config.gamma * l.real - l.fake), 0.0, 1.0);
    }
    ++m_step;

    StepStats stats;
    stats.step = m_step;
    stats.lossReal = l.real;
    stats.lossFake = l.fake;
    stats.lossD = l.d;
    stats.lossG = l.g;
    stats.k = m_k;
    stats.convergence = l.convergence;
    stats.coverError = l.cover;
    stats.learningRate = m_lr;
    stats.augmentProbability = m_strength.p();

    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    m_wallSeconds += seconds;
    // Of all the processes together.
    stats.imagesPerSecond =
        seconds > 0 ? static_cast<double>(realBatch.size(0) * processes()) / seconds : 0.0;

    if (m_scoreReference && m_step % m_config.scoreEvery == 0) {
        const auto scoreStart = std::chrono::steady_clock::now();
        takeScore(measure(), stats);
        m_scoreSeconds +=
            std::chrono::duration<double>(std::chrono::steady_clock::now() - scoreStart).count();
    }

    // Learning-rate halving: on a fixed schedule, or when the run stops improving. A scored run
    // follows its score, which measures the pictures; an unscored one the smoothed M. (Under
    // the hinge objective M is only the rebuild error, which can stall while the pictures still
    // get better.) m_bestStep is where the stall is counted from: the last improvement or
    // halving.
    m_emaM =
        m_emaM < 0 ? stats.convergence : (1 - kEmaWeight) * m_emaM + kEmaWeight * stats.convergence;
    bool halve = m_config.lrHalveEvery > 0 && m_step % m_config.lrHalveEvery == 0;
    if (m_emaM < m_bestM * 0.999) {
        m_bestM = m_emaM;
        if (!m_scoreReference) {
            m_bestStep = m_step;
        }
    }
    if (m_scoreReference && m_best.scored) {
        m_bestStep = std::max(m_bestStep, m_best.score.step);
    }
    if (stats.collapseRolledBack) {
        m_bestStep = m_step;
    } else if (m_config.lrStallSteps > 0 && m_step - m_bestStep >= m_config.lrStallSteps) {
        halve = true;
        m_bestStep = m_step;
    }
    if (halve && !stats.collapseRolledBack && m_lr * 0.5 >= m_config.minLearningRate) {
        setLearningRate(m_lr * 0.5);
        stats.learningRateHalved = true;
    }

    if (m_config.checkpointEvery > 0 && m_step % m_config.checkpointEvery == 0) {
        m_lastGood = checkpoint();
        m_rollbacksSinceGood = 0;
    }
    return stats;
}

torch::Tensor Trainer::poisoned(const torch::Tensor& loss) {
    if (!m_injectNaN) {
        return loss;
    }
    m_injectNaN = false;
    return loss * std::nan("");
}

// Variety is measured as the diversity score measures it, by RMS distance, here between the
// pictures of a batch's first half and those of its second half. A generator that starts to ignore
// its latent makes every pair alike, and this term's gradient pulls the pictures of each pair
// apart until they differ as much as real ones do, and no further.
torch::Tensor varietyShortfall(const torch::Tensor& fake, const torch::Tensor& real) {
    if (fake.size(0) < 2 || real.size(0) < 2) {
        throw ConfigError("variety needs batches of at least 2 pictures");
    }
    const auto spread = [](const torch::Tensor& t) {
        const int64_t half = t.size(0) / 2;
        const torch::Tensor d = t.narrow(0, 0, half) - t.narrow(0, half, half);
        return (d.pow(2).flatten(1).mean(1) + 1e-8).sqrt().mean();
    };
    const torch::Tensor realSpread = spread(real.detach()).clamp_min(1e-6);
    return torch::relu(1.0 - spread(fake) / realSpread);
}

Trainer::Halves Trainer::halves(
    const torch::Tensor& x, const torch::Tensor& z,
    const std::function<void(const torch::Tensor& real, const torch::Tensor& generated)>& judge) {
    const PrecisionScope inPrecision(m_config.precision, m_device);
    Halves h;
    h.fake = m_generator->forwardInTraining(z).to(torch::kFloat32);
    h.fakeLeaf = h.fake.detach().requires_grad_(true);
    judge(forDiscriminator(x), forDiscriminator(h.fakeLeaf));
    return h;
}

Trainer::Losses Trainer::beganUpdate(const torch::Tensor& x, const torch::Tensor& z) {
    // BEGAN's simultaneous update: one forward pass through D for each half serves both losses,
    // and one backward pass through each half gives every gradient. D's gradient is
    // dL(x) - k_t dL(G(z)); G's is dL(G(z)) carried back from G's output, which enters D as a
    // leaf of its own so that the pass through D's fake half also yields dL(G(z))/dG(z). (Asking
    // autograd for D's and G's gradients separately would go back through D's fake half twice:
    // 20-30 % more time per step.) The losses are taken in float32 whatever the precision.
    // D rebuilds what it is shown: with DiffAugment, the augmented images (the fake half's
    // gradient passes back through the augmentation to G's output).
    torch::Tensor lossReal;
    torch::Tensor lossFake;
    const Halves h = halves(x, z, [&](const torch::Tensor& real, const torch::Tensor& generated) {
        lossReal = (m_discriminator->forward(real).to(torch::kFloat32) - real).abs().mean();
        lossFake =
            (m_discriminator->forward(generated).to(torch::kFloat32) - generated).abs().mean();
    });
    lossReal = poisoned(lossReal);
    Losses l;
    const std::vector<double> mean =
        meanAcrossProcesses({lossReal.item<double>(), lossFake.item<double>()});
    l.real = mean[0];
    l.fake = mean[1];
    l.finite = std::isfinite(l.real) && std::isfinite(l.fake);
    if (!l.finite) {
        return l;
    }
    l.d = l.real - m_k * l.fake;
    l.g = l.fake;
    l.convergence = l.real + std::abs(m_config.gamma * l.real - l.fake);

    const auto paramsD = m_discriminator->parameters();
    const auto paramsG = m_generator->parameters();
    std::vector<torch::Tensor> fakeInputs = paramsD;
    fakeInputs.push_back(h.fakeLeaf);
    const auto gradsFake = torch::autograd::grad({lossFake}, fakeInputs);
    const auto gradsReal = torch::autograd::grad({lossReal}, paramsD);
    const auto gradsG =
        torch::autograd::grad({h.fake}, paramsG, {withVariety(gradsFake.back(), h.fakeLeaf, x)});
    for (size_t i = 0; i < paramsD.size(); ++i) {
        paramsD[i].mutable_grad() = gradsReal[i].sub(gradsFake[i], m_k);
    }
    for (size_t i = 0; i < paramsG.size(); ++i) {
        paramsG[i].mutable_grad() = gradsG[i];
    }
    averageGradients();
    m_optD->step();
    m_optG->step();
    return l;
}

Trainer::Losses Trainer::hingeUpdate(const torch::Tensor& x, const torch::Tensor& z) {
    // The discriminator's head judges the code of what it is shown: hinge losses for D (real above
    // +1, generated below -1) and -D(G(z)) for G, with the autoencoder's reconstruction of the real
    // images kept as D's self-supervised task (FastGAN). As in BEGAN's update, G's output enters D
    // as a leaf, so one forward pass through the fake half gives D's and G's gradients.
    torch::Tensor rebuild;
    torch::Tensor realScore;
    torch::Tensor fakeScore;
    torch::Tensor realPatches;
    torch::Tensor fakePatches;
    const Halves h = halves(x, z, [&](const torch::Tensor& real, const torch::Tensor& generated) {
        const auto [realCode, realGrid] = m_discriminator->encodeWithGrid(real);
        rebuild = (m_discriminator->decode(realCode).to(torch::kFloat32) - real).abs().mean();
        realScore = m_discriminator->judge(realCode).to(torch::kFloat32);
        const auto [fakeCode, fakeGrid] = m_discriminator->encodeWithGrid(generated);
        fakeScore = m_discriminator->judge(fakeCode).to(torch::kFloat32);
        if (m_discriminator->hasPatchHead()) {
            realPatches = m_discriminator->judgePatches(realGrid).to(torch::kFloat32);
            fakePatches = m_discriminator->judgePatches(fakeGrid).to(torch::kFloat32);
        }
    });
    rebuild = poisoned(rebuild);
    torch::Tensor lossRealD =
        torch::relu(1.0 - realScore).mean() + m_config.reconstructionWeight * rebuild;
    torch::Tensor lossFakeD = torch::relu(1.0 + fakeScore).mean();
    torch::Tensor lossG = -fakeScore.mean();
    if (realPatches.defined()) {
        // All the cells' verdicts together weigh as much as the whole picture's.
        lossRealD = lossRealD + torch::relu(1.0 - realPatches).mean();
        lossFakeD = lossFakeD + torch::relu(1.0 + fakePatches).mean();
        lossG = lossG - fakePatches.mean();
    }
    Losses l;
    const std::vector<double> mean =
        meanAcrossProcesses({rebuild.item<double>(), lossFakeD.item<double>(),
                             lossRealD.item<double>(), lossG.item<double>()});
    l.real = mean[0];
    l.fake = mean[1];
    l.d = mean[2] + l.fake;
    l.g = mean[3];
    l.finite = std::isfinite(l.real) && std::isfinite(l.d) && std::isfinite(l.g);
    if (!l.finite) {
        return l;
    }
    // The rebuild error: it falls as D learns the images' shapes, and the learning rate follows
    // it as it follows BEGAN's M.
    l.convergence = l.real;

    const auto paramsD = m_discriminator->parameters();
    const auto paramsG = m_generator->parameters();
    // The decoder takes no part in the fake half: its gradients there are left undefined.
    const auto gradsFake =
        torch::autograd::grad({lossFakeD}, paramsD, {}, /*retain_graph=*/true, false, true);
    const auto gradLeaf = torch::autograd::grad({lossG}, {h.fakeLeaf});
    const auto gradsReal =
        torch::autograd::grad({lossRealD}, paramsD, {}, c10::nullopt, false, true);
    const auto gradsG =
        torch::autograd::grad({h.fake}, paramsG, {withVariety(gradLeaf[0], h.fakeLeaf, x)});
    for (size_t i = 0; i < paramsD.size(); ++i) {
        torch::Tensor g = gradsReal[i].defined() ? gradsReal[i] : torch::zeros_like(paramsD[i]);
        if (gradsFake[i].defined()) {
            g = g + gradsFake[i];
        }
        paramsD[i].mutable_grad() = g;
    }
    for (size_t i = 0; i < paramsG.size(); ++i) {
        paramsG[i].mutable_grad() = gradsG[i];
    }
    if (m_config.covers()) {
        l.cover = addCoverGradients(x);
    }
    averageGradients();
    m_optD->step();
    m_optG->step();
    return l;
}

double Trainer::addCoverGradients(const torch::Tensor& x) {
    // The code of each real picture as it is, not as augmented for the judge: the generator is to
    // draw the picture itself. The encoder takes no gradient from this term; the head does.
    torch::Tensor code;
    {
        torch::NoGradGuard noGrad;
        const PrecisionScope inPrecision(m_config.precision, m_device);
        code = m_discriminator->encode(x).to(torch::kFloat32);
    }
    const torch::Tensor z = m_discriminator->proposeLatents(code);
    torch::Tensor error;
    {
        const PrecisionScope inPrecision(m_config.precision, m_device);
        error = (m_generator->forwardInTraining(z).to(torch::kFloat32) - x).abs().mean();
    }
    torch::Tensor loss = error * m_config.coverWeight;
    if (z.size(0) >= 2) {
        // Spread like random latents: the batch's mean near 0, each value's variance near 1.
        loss = loss + z.mean(0).pow(2).mean() + (z.var(0) - 1.0).pow(2).mean();
    }
    std::vector<torch::Tensor> inputs = m_generator->parameters();
    const auto& head = m_optD->param_groups().back().params();
    inputs.insert(inputs.end(), head.begin(), head.end());
    const auto grads = torch::autograd::grad({loss}, inputs, {}, c10::nullopt, false,
                                             /*allow_unused=*/true);
    for (size_t i = 0; i < inputs.size(); ++i) {
        if (!grads[i].defined()) {
            continue;
        }
        torch::Tensor& g = inputs[i].mutable_grad();
        g = g.defined() ? g + grads[i] : grads[i];
    }
    return error.item<double>();
}

torch::Tensor Trainer::withVariety(const torch::Tensor& gradFake, const torch::Tensor& fakeLeaf,
                                   const torch::Tensor& real) {
    if (m_config.varietyWeight <= 0 || fakeLeaf.size(0) < 2) {
        return gradFake;
    }
    // No shortfall gives a zero gradient (the shortfall is clipped at 0), so the term is added
    // whatever its value: asking for the value would wait for the device every step.
    const torch::Tensor shortfall = varietyShortfall(fakeLeaf, real);
    return gradFake.add(torch::autograd::grad({shortfall}, {fakeLeaf})[0], m_config.varietyWeight);
}

TrainScore Trainer::measure() {
    // Rank 0 scores; the others wait for its numbers, so that every process keeps the same best.
    TrainScore score{m_step, 0.0, 0.0};
    if (rank() == 0) {
        const ImageScore s =
            m_scoreReference->score(generateBytes(generator(), m_scoreLatents, m_device));
        score.swd = s.swd.average;
        score.diversity = s.diversity;
    }
    if (m_world != nullptr) {
        const std::vector<double> shared = m_world->sum({score.swd, score.diversity});
        score.swd = shared[0];
        score.diversity = shared[1];
    }
    return score;
}

namespace {

// A score as a scored step's stats carry it; `kept`, `lowest` and `recentBest` as the trainer
// recorded it.
void putScore(StepStats& stats, const TrainScore& s, bool kept, double lowest, double recentBest) {
    stats.scored = true;
    stats.swd = s.swd;
    stats.diversity = s.diversity;
    stats.newBest = kept;
    stats.lowestSwd = lowest;
    stats.recentBestSwd = recentBest;
}

}  // namespace

std::optional<StepStats> Trainer::scoreNow() {
    if (!m_scoreReference || (!m_scores.empty() && m_scores.back().step == m_step)) {
        return std::nullopt;
    }
    const auto start = std::chrono::steady_clock::now();
    const TrainScore s = measure();
    StepStats stats;
    stats.step = m_step;
    stats.learningRate = m_lr;
    stats.augmentProbability = m_strength.p();
    const bool kept = record(s);
    putScore(stats, s, kept, lowestScore(), recentBestScore());
    m_scoreSeconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (m_lastGood.meta.at("training").at("step").get<std::int64_t>() == m_step) {
        m_lastGood = checkpoint();  // saveCheckpoint() writes this one: it must hold the score
    }
    return stats;
}

double Trainer::lowestScoreFrom(std::int64_t step) const {
    double lowest = std::numeric_limits<double>::infinity();
    for (const TrainScore& s : m_scores) {
        if (s.step >= step && s.diversity >= kCollapsedDiversity) {
            lowest = std::min(lowest, s.swd);
        }
    }
    return lowest;
}

double Trainer::lowestScore() const {
    return lowestScoreFrom(std::numeric_limits<std::int64_t>::min());
}

double Trainer::recentBestScore() const {
    if (m_scores.empty()) {
        return std::numeric_limits<double>::infinity();
    }
    const double recent = lowestScoreFrom(m_scores.back().step / 2);
    return std::isfinite(recent) ? recent : lowestScore();
}

bool Trainer::record(const TrainScore& s) {
    m_scores.push_back(s);
    if (s.diversity >= kCollapsedDiversity &&
        (!m_best.scored || s.swd <= recentBestScore() * (1.0 + kKeepLaterWithin))) {
        keepBest(s);
        return true;
    }
    return false;
}

void Trainer::takeScore(const TrainScore& s, StepStats& stats) {
    const bool kept = record(s);
    putScore(stats, s, kept, lowestScore(), recentBestScore());
    if (stats.newBest || !m_config.collapseGuard || s.step < kGuardFrom) {
        m_guardStrikes = 0;
        return;
    }
    const double best = stats.recentBestSwd;
    const bool farPast = m_best.scored && s.swd > kGuardSwdRatio * best;
    m_guardStrikes = farPast ? m_guardStrikes + 1 : 0;
    if (s.diversity < kCollapsedDiversity) {
        collapseRollBack(stats, fmt::format("the samples look alike (variety {:.2f} of the data's)",
                                            s.diversity));
    } else if (m_guardStrikes >= kGuardStrikes) {
        collapseRollBack(stats, fmt::format("the score rose to {:.1f}, more than {:g} times the "
                                            "best of the run's later half ({:.1f}), {} times "
                                            "running",
                                            s.swd, kGuardSwdRatio, best, m_guardStrikes));
    } else if (farPast) {
        stats.guardMessage = fmt::format(
            "the score rose to {:.1f}, more than {:g} times the best of the run's later half "
            "({:.1f}); {} more like it and the run goes back to the best state",
            s.swd, kGuardSwdRatio, best, kGuardStrikes - m_guardStrikes);
    }
}

void Trainer::keepBest(const TrainScore& score) {
    Container weights;
    storeModule(weights, "generator", *m_generator);
    if (m_average) {
        storeModule(weights, "average", *generator());
    }
    storeModule(weights, "discriminator", *m_discriminator);
    m_best.weights = std::move(weights);
    m_best.score = score;
    m_best.scored = true;
    m_best.k = m_k;
}

void Trainer::collapseRollBack(StepStats& stats, const std::string& why) {
    ++m_guardRollbacks;
    m_guardStrikes = 0;
    stats.collapseRolledBack = true;
    const std::string source = "the best state in memory";
    loadModule(m_best.weights, "generator", *m_generator, source);
    if (m_average) {
        loadModule(m_best.weights, "average", *m_average, source);
        m_averageSettledAt = -1;
    }
    loadModule(m_best.weights, "discriminator", *m_discriminator, source);
    m_k = m_best.k;
    // The optimisers' moments belong to the collapsed path: they start afresh.
    m_optG = std::make_unique<torch::optim::Adam>(m_generator->parameters(), adamOptions(m_config));
    m_optD = discriminatorOptimiser(m_discriminator, m_config);
    setLearningRates(std::max(m_lr * 0.5, m_config.minLearningRate), m_config.discriminatorLrScale);
    DiscriminatorAugment& augment = m_config.diffAugment;
    if (!augment.any()) {
        augment.color = augment.translation = augment.cutout = true;
    }
    m_strength.raise(kGuardAugmentRaise);
    const std::string where = m_best.scored ? fmt::format("the best state (step {}, SWD {:.1f})",
                                                          m_best.score.step, m_best.score.swd)
                                            : std::string("the start (no score was good yet)");
    if (m_guardRollbacks > kMaxGuardRollbacks) {
        m_gaveUp = true;
        stats.gaveUp = true;
        stats.guardMessage = fmt::format(
            "{} at step {}, after {} returns to the best state: training stopped. {}", why, m_step,
            kMaxGuardRollbacks,
            m_best.scored && m_config.keep == KeepModel::Best
                ? fmt::format("The model file holds the best generator (step {}, SWD {:.1f}).",
                              m_best.score.step, m_best.score.swd)
                : std::string("No scored generator was varied enough to keep."));
    } else {
        stats.guardMessage = fmt::format(
            "{} at step {}: went back to {}, lowered the learning rate to {:.3g} and raised "
            "augmentation to p {:.2f} (try {} of {})",
            why, m_step, where, m_lr, m_strength.p(), m_guardRollbacks, kMaxGuardRollbacks);
    }
    stats.k = m_k;
    stats.learningRate = m_lr;
    stats.augmentProbability = m_strength.p();
    m_lastGood = checkpoint();
    m_rollbacksSinceGood = 0;
}

Generator Trainer::keptGenerator(KeepModel which) const {
    if (which != KeepModel::Best || !m_best.scored) {
        return generator();
    }
    Generator kept(m_arch);
    loadModule(m_best.weights, m_average ? "average" : "generator", *kept,
               "the best state in memory");
    kept->eval();
    return kept;
}

Encoder Trainer::keptEncoder(KeepModel which) const {
    Encoder kept(m_arch);
    if (m_discriminator->hasLatentHead()) {
        kept->addLatentHead();
    }
    if (which == KeepModel::Best && m_best.scored) {
        loadModule(m_best.weights, "discriminator", *kept, "the best state in memory");
    } else {
        Container now;
        storeModule(now, "discriminator", *m_discriminator);
        loadModule(now, "discriminator", *kept, "the discriminator in memory");
    }
    kept->eval();
    return kept;
}

torch::Tensor Trainer::forDiscriminator(const torch::Tensor& images) {
    const DiscriminatorAugment& policy = m_config.diffAugment;
    if (!policy.any() || m_strength.p() <= 0) {
        return images;
    }
    const torch::Tensor out = diffAugment(images, policy, m_strength.p(), m_rng, m_share);
    return m_device.is_cpu() ? out.contiguous(torch::MemoryFormat::ChannelsLast) : out;
}

double Trainer::heldOutError() {
    torch::NoGradGuard noGrad;
    // Drawn and augmented exactly as a training batch, so the two errors compare like with like.
    m_share = shareOf(batchPerProcess());
    const torch::Tensor batch =
        forDiscriminator(augmentedBatch(m_heldOut, m_share, m_config.augment, m_rng));
    const PrecisionScope inPrecision(m_config.precision, m_device);
    const double error =
        (m_discriminator->forward(batch).to(torch::kFloat32) - batch).abs().mean().item<double>();
    return meanAcrossProcesses({error})[0];
}

void Trainer::rollBack() {
    // Counted since the last good state was taken, not in a row: a run that fails at the same
    // step after every rollback (one good step, then NaN again) must end too.
    ++m_rollbacksSinceGood;
    const double lowered = std::max(m_lr * 0.5, m_config.minLearningRate);
    const int rollbacks = m_rollbacksSinceGood;
    const double wall = m_wallSeconds;
    const double scoring = m_scoreSeconds;
    restore(m_lastGood, "in-memory checkpoint");
    m_rollbacksSinceGood = rollbacks;
    m_wallSeconds = wall;
    m_scoreSeconds = scoring;
    if (m_rollbacksSinceGood > m_config.maxRollbacks) {
        throw TrainingError(fmt::format(
            "training diverged: NaN or infinite losses {} times since step {} even after rolling "
            "back and lowering the learning rate; the run is back at step {}, its last good state",
            m_rollbacksSinceGood, m_step, m_step));
    }
    setLearningRate(std::min(m_lr, lowered));
    // Step past the batch and latents that failed rather than repeating them.
    m_rng.next();
}

void Trainer::updateAverage() {
    if (!m_average) {
        return;
    }
    // Early on the average follows the generator closely, so that it never holds much of the
    // untrained start: decay (1 + t) / (10 + t), t the steps before this one, until that reaches
    // the configured decay.
    const double t = static_cast<double>(m_step);
    const double decay = std::min(m_config.averageDecay, (1.0 + t) / (10.0 + t));
    torch::NoGradGuard noGrad;
    const std::vector<torch::Tensor> from = m_generator->parameters();
    const std::vector<torch::Tensor> to = m_average->parameters();
    for (size_t i = 0; i < to.size(); ++i) {
        to[i].lerp_(from[i], 1.0 - decay);
    }
    // Its batch-norm statistics are taken for these weights when they are next used.
    m_averageSettledAt = -1;
}

torch::Tensor averageSettleLatents(int latentDim, std::uint64_t seed) {
    return sampleLatents(kSettleSamples, latentDim, seed ^ kSettleSeedSalt);
}

Generator Trainer::generator() const {
    if (!m_average) {
        return m_generator;
    }
    if (m_averageSettledAt != m_step) {
        // In the run's precision, as its steps run: in bf16 these passes cost a third or less of
        // float32's at 64x64 and move the pictures by well under a level.
        const PrecisionScope inPrecision(m_config.precision, m_device);
        settleBatchNorm(m_average, m_settleLatents, kSettleBatch);
        m_averageSettledAt = m_step;
    }
    return m_average;
}

torch::Tensor Trainer::samples() {
    torch::NoGradGuard noGrad;
    if (m_average) {
        return generator()->forward(m_sampleLatents.to(m_device)).cpu();
    }
    m_generator->eval();
    torch::Tensor images = m_generator->forward(m_sampleLatents.to(m_device)).cpu();
    m_generator->train();
    return images;
}

}  // namespace cattery
