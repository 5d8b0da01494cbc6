#include "core/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <utility>

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/io/tensorio.h"
#include "core/runtime/device.h"

namespace cattery {
namespace {

constexpr std::uint64_t kSampleSeedSalt = 0x5ca7ca7ULL;
constexpr double kEmaWeight = 0.01;
// Checkpoint records of the generator being trained, when the model is its running average.
constexpr const char* kTrainingGenerator = "training_generator";

nlohmann::json toJson(const TrainConfig& c) {
    return {{"batch_size", c.batchSize},
            {"learning_rate", c.learningRate},
            {"discriminator_lr_scale", c.discriminatorLrScale},
            {"beta1", c.beta1},
            {"beta2", c.beta2},
            {"gamma", c.gamma},
            {"lambda_k", c.lambdaK},
            {"steps", c.steps},
            {"lr_halve_every", c.lrHalveEvery},
            {"lr_stall_steps", c.lrStallSteps},
            {"min_learning_rate", c.minLearningRate},
            {"sample_every", c.sampleEvery},
            {"sample_count", c.sampleCount},
            {"checkpoint_every", c.checkpointEvery},
            {"seed", c.seed},
            {"max_rollbacks", c.maxRollbacks},
            {"augment",
             {{"flip", c.augment.flip},
              {"rotate_degrees", c.augment.rotateDegrees},
              {"scale_jitter", c.augment.scaleJitter},
              {"shift", c.augment.shift}}},
            {"precision", precisionName(c.precision)},
            {"average_decay", c.averageDecay}};
}

TrainConfig trainConfigFromJson(const nlohmann::json& j) {
    TrainConfig c;
    c.batchSize = j.at("batch_size").get<int>();
    c.learningRate = j.at("learning_rate").get<double>();
    c.discriminatorLrScale = j.value("discriminator_lr_scale", 1.0);  // older files: one rate
    c.beta1 = j.at("beta1").get<double>();
    c.beta2 = j.at("beta2").get<double>();
    c.gamma = j.at("gamma").get<double>();
    c.lambdaK = j.at("lambda_k").get<double>();
    c.steps = j.at("steps").get<std::int64_t>();
    c.lrHalveEvery = j.at("lr_halve_every").get<std::int64_t>();
    c.lrStallSteps = j.at("lr_stall_steps").get<std::int64_t>();
    c.minLearningRate = j.at("min_learning_rate").get<double>();
    c.sampleEvery = j.at("sample_every").get<std::int64_t>();
    c.sampleCount = j.at("sample_count").get<int>();
    c.checkpointEvery = j.at("checkpoint_every").get<std::int64_t>();
    c.seed = j.at("seed").get<std::uint64_t>();
    c.maxRollbacks = j.at("max_rollbacks").get<int>();
    const auto& a = j.at("augment");
    c.augment.flip = a.at("flip").get<bool>();
    c.augment.rotateDegrees = a.at("rotate_degrees").get<double>();
    c.augment.scaleJitter = a.at("scale_jitter").get<double>();
    c.augment.shift = a.at("shift").get<double>();
    c.precision = precisionFromName(j.value("precision", "fp32"));  // older files: float32
    c.averageDecay = j.value("average_decay", 0.0);                 // older files: no average
    validate(c);
    return c;
}

// Autocast to bfloat16 for the lifetime of the guard, on the thread that makes it: convolutions and
// matrix products run in bf16, reductions and batch norm stay in float32.
class Bf16Autocast {
public:
    explicit Bf16Autocast(const torch::Device& device) : m_type(device.type()) {
        m_wasEnabled = enabled(m_type);
        m_previous = dtype(m_type);
        setDtype(m_type, at::kBFloat16);
        setEnabled(m_type, true);
        at::autocast::increment_nesting();
    }
    ~Bf16Autocast() {
        if (at::autocast::decrement_nesting() == 0) {
            at::autocast::clear_cache();
        }
        setEnabled(m_type, m_wasEnabled);
        setDtype(m_type, m_previous);
    }
    Bf16Autocast(const Bf16Autocast&) = delete;
    Bf16Autocast& operator=(const Bf16Autocast&) = delete;

private:
    // LibTorch 2.4 named autocast's switches per device type; 1.13 has one pair per device.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    static bool enabled(at::DeviceType t) {
        return at::autocast::is_autocast_enabled(t);
    }
    static void setEnabled(at::DeviceType t, bool on) {
        at::autocast::set_autocast_enabled(t, on);
    }
    static at::ScalarType dtype(at::DeviceType t) {
        return at::autocast::get_autocast_dtype(t);
    }
    static void setDtype(at::DeviceType t, at::ScalarType d) {
        at::autocast::set_autocast_dtype(t, d);
    }
#else
    static bool enabled(at::DeviceType t) {
        return t == at::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
    }
    static void setEnabled(at::DeviceType t, bool on) {
        t == at::kCUDA ? at::autocast::set_enabled(on) : at::autocast::set_cpu_enabled(on);
    }
    static at::ScalarType dtype(at::DeviceType t) {
        return t == at::kCUDA ? at::autocast::get_autocast_gpu_dtype()
                              : at::autocast::get_autocast_cpu_dtype();
    }
    static void setDtype(at::DeviceType t, at::ScalarType d) {
        t == at::kCUDA ? at::autocast::set_autocast_gpu_dtype(d)
                       : at::autocast::set_autocast_cpu_dtype(d);
    }
#endif

    at::DeviceType m_type;
    bool m_wasEnabled = false;
    at::ScalarType m_previous = at::kBFloat16;
};

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

// Moves `to`'s weights and batch-norm statistics the fraction `share` of the way to `from`'s
// (1: a copy). Integer buffers (batch norm's step counter) are copied.
void blendWeights(const torch::nn::Module& from, torch::nn::Module& to, double share) {
    torch::NoGradGuard noGrad;
    const auto blend = [share](const std::vector<torch::Tensor>& source,
                               const std::vector<torch::Tensor>& target) {
        for (size_t i = 0; i < target.size(); ++i) {
            if (share >= 1.0 || !target[i].is_floating_point()) {
                target[i].copy_(source[i]);
            } else {
                target[i].lerp_(source[i], share);
            }
        }
    };
    blend(from.parameters(), to.parameters());
    blend(from.buffers(), to.buffers());
}

// The betas; the step sizes are set by Trainer::setLearningRates.
torch::optim::AdamOptions adamOptions(const TrainConfig& c) {
    return torch::optim::AdamOptions(c.learningRate).betas(std::make_tuple(c.beta1, c.beta2));
}

}  // namespace

void validate(const TrainConfig& c) {
    auto check = [](bool ok, const std::string& what) {
        if (!ok) {
            throw ConfigError(what);
        }
    };
    check(c.batchSize >= 1 && c.batchSize <= 1024,
          fmt::format("batch size {} is out of range (1 to 1024)", c.batchSize));
    check(c.learningRate > 0 && c.learningRate <= 1,
          fmt::format("learning rate {} is out of range (0 to 1]", c.learningRate));
    check(c.discriminatorLrScale > 0 && c.discriminatorLrScale <= 100 &&
              c.learningRate * c.discriminatorLrScale <= 1,
          fmt::format("the discriminator's learning-rate multiple {} is out of range (0 to 100, "
                      "and at most 1 / learning rate)",
                      c.discriminatorLrScale));
    check(c.beta1 >= 0 && c.beta1 < 1 && c.beta2 >= 0 && c.beta2 < 1,
          "Adam betas must lie in [0, 1)");
    check(c.gamma > 0 && c.gamma <= 1, fmt::format("gamma {} is out of range (0 to 1]", c.gamma));
    check(c.lambdaK >= 0 && c.lambdaK <= 1,
          fmt::format("lambda_k {} is out of range [0, 1]", c.lambdaK));
    check(c.steps >= 0, "the number of steps cannot be negative");
    check(c.lrHalveEvery >= 0 && c.lrStallSteps >= 0, "learning-rate schedules cannot be negative");
    check(c.minLearningRate > 0, "the minimum learning rate must be positive");
    check(c.sampleEvery >= 0 && c.checkpointEvery >= 0,
          "sample and checkpoint intervals cannot be negative");
    check(c.sampleCount >= 1 && c.sampleCount <= 256,
          fmt::format("sample count {} is out of range (1 to 256)", c.sampleCount));
    check(c.maxRollbacks >= 0, "the rollback limit cannot be negative");
    check(c.augment.rotateDegrees >= 0 && c.augment.rotateDegrees <= 45,
          "rotation must lie in 0 to 45 degrees");
    check(c.augment.scaleJitter >= 0 && c.augment.scaleJitter <= 0.5,
          "scale jitter must lie in 0 to 0.5");
    check(c.augment.shift >= 0 && c.augment.shift <= 0.25, "shift must lie in 0 to 0.25");
    check(c.averageDecay >= 0 && c.averageDecay < 1,
          fmt::format("the generator average's decay {} is out of range [0, 1)", c.averageDecay));
}

Trainer::Trainer(const ArchConfig& arch, const TrainConfig& config, Dataset dataset,
                 torch::Device device)
    : m_arch(arch),
      m_config(config),
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
    m_images = m_dataset.images.to(m_device);
    torch::manual_seed(config.seed);
    m_latent = LatentSpace(arch.latentDim, config.seed);
    m_generator = Generator(arch);
    m_discriminator = Discriminator(arch);
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
        blendWeights(*m_generator, *m_average, 1.0);
        m_average->eval();
    }
    m_optG = std::make_unique<torch::optim::Adam>(m_generator->parameters(), adamOptions(config));
    m_optD =
        std::make_unique<torch::optim::Adam>(m_discriminator->parameters(), adamOptions(config));
    setLearningRates(config.learningRate, config.discriminatorLrScale);
    m_sampleLatents =
        sampleLatents(config.sampleCount, arch.latentDim, config.seed ^ kSampleSeedSalt);
    m_lastGood = checkpoint();
}

Trainer Trainer::resume(const std::string& path, Dataset dataset, torch::Device device) {
    return resume(readContainer(path), path, std::move(dataset), device);
}

Trainer Trainer::resume(const Container& c, const std::string& path, Dataset dataset,
                        torch::Device device) {
    if (c.kind != "checkpoint") {
        throw ModelFileError(
            path, c.kind == "model" ? "is a finished model, not a training checkpoint: it holds "
                                      "no discriminator or optimiser state to resume from"
                                    : fmt::format("holds a {}, not a training checkpoint", c.kind));
    }
    ArchConfig arch;
    TrainConfig config;
    try {
        arch = archFromJson(c.meta.at("arch"));
        config = trainConfigFromJson(c.meta.at("training").at("config"));
    } catch (const ConfigError& e) {
        throw ModelFileError(path, e.what());
    } catch (const nlohmann::json::exception& e) {
        throw ModelFileError(path, fmt::format("the training state is incomplete ({})", e.what()));
    }
    if (dataset.imageSize() != arch.imageSize) {
        dataset = resizedDataset(dataset, arch.imageSize);
    }
    Trainer trainer(arch, config, std::move(dataset), device);
    trainer.restore(c, path);
    trainer.m_lastGood = c;
    return trainer;
}

int Trainer::imageSize(const Container& checkpoint, int fallback) {
    return checkpoint.meta.contains("arch") ? archFromJson(checkpoint.meta.at("arch")).imageSize
                                            : fallback;
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
}

StepStats Trainer::step() {
    const torch::Tensor batch =
        augmentedBatch(m_images, m_config.batchSize, m_config.augment, m_rng);
    return step(batch);
}

StepStats Trainer::step(const torch::Tensor& realBatch) {
    const auto start = std::chrono::steady_clock::now();
    const int64_t b = realBatch.size(0);
    const torch::Tensor x = m_device.is_cpu()
                                ? realBatch.contiguous(torch::MemoryFormat::ChannelsLast)
                                : realBatch.to(m_device);
    const torch::Tensor z =
        sampleLatents(static_cast<int>(b), m_arch.latentDim, m_rng.next()).to(m_device);

    // BEGAN's simultaneous update: one forward pass through D for each half serves both losses,
    // and one backward pass through each half gives every gradient. D's gradient is
    // dL(x) - k_t dL(G(z)); G's is dL(G(z)) carried back from G's output, which enters D as a
    // leaf of its own so that the pass through D's fake half also yields dL(G(z))/dG(z). (Asking
    // autograd for D's and G's gradients separately would go back through D's fake half twice:
    // 20-30 % more time per step.) The losses are taken in float32 whatever the precision.
    torch::Tensor fake;
    torch::Tensor fakeLeaf;
    torch::Tensor lossReal;
    torch::Tensor lossFake;
    {
        std::optional<Bf16Autocast> autocast;
        if (m_config.precision == Precision::BFloat16) {
            autocast.emplace(m_device);
        }
        fake = m_generator->forward(z).to(torch::kFloat32);
        fakeLeaf = fake.detach().requires_grad_(true);
        lossReal = (m_discriminator->forward(x).to(torch::kFloat32) - x).abs().mean();
        lossFake = (m_discriminator->forward(fakeLeaf).to(torch::kFloat32) - fakeLeaf).abs().mean();
    }
    if (m_injectNaN) {
        m_injectNaN = false;
        lossReal = lossReal * std::nan("");
    }

    const double lx = lossReal.item<double>();
    const double lg = lossFake.item<double>();
    if (!std::isfinite(lx) || !std::isfinite(lg)) {
        rollBack();
        StepStats stats;
        stats.step = m_step;
        stats.lossReal = lx;
        stats.lossFake = lg;
        stats.k = m_k;
        stats.learningRate = m_lr;
        stats.rolledBack = true;
        return stats;
    }

    const auto paramsD = m_discriminator->parameters();
    const auto paramsG = m_generator->parameters();
    std::vector<torch::Tensor> fakeInputs = paramsD;
    fakeInputs.push_back(fakeLeaf);
    const auto gradsFake = torch::autograd::grad({lossFake}, fakeInputs);
    const auto gradsReal = torch::autograd::grad({lossReal}, paramsD);
    const auto gradsG = torch::autograd::grad({fake}, paramsG, {gradsFake.back()});
    for (size_t i = 0; i < paramsD.size(); ++i) {
        paramsD[i].mutable_grad() = gradsReal[i].sub(gradsFake[i], m_k);
    }
    for (size_t i = 0; i < paramsG.size(); ++i) {
        paramsG[i].mutable_grad() = gradsG[i];
    }
    m_optD->step();
    m_optG->step();
    updateAverage();

    const double kUsed = m_k;
    m_k = std::clamp(m_k + m_config.lambdaK * (m_config.gamma * lx - lg), 0.0, 1.0);
    ++m_step;
    m_rollbacksInARow = 0;

    StepStats stats;
    stats.step = m_step;
    stats.lossReal = lx;
    stats.lossFake = lg;
    stats.lossD = lx - kUsed * lg;
    stats.lossG = lg;
    stats.k = m_k;
    stats.convergence = lx + std::abs(m_config.gamma * lx - lg);
    stats.learningRate = m_lr;

    // Learning-rate halving: on a fixed schedule, or when the smoothed M stops improving.
    m_emaM =
        m_emaM < 0 ? stats.convergence : (1 - kEmaWeight) * m_emaM + kEmaWeight * stats.convergence;
    bool halve = m_config.lrHalveEvery > 0 && m_step % m_config.lrHalveEvery == 0;
    if (m_emaM < m_bestM * 0.999) {
        m_bestM = m_emaM;
        m_bestStep = m_step;
    } else if (m_config.lrStallSteps > 0 && m_step - m_bestStep >= m_config.lrStallSteps) {
        halve = true;
        m_bestStep = m_step;
    }
    if (halve && m_lr * 0.5 >= m_config.minLearningRate) {
        setLearningRate(m_lr * 0.5);
        stats.learningRateHalved = true;
    }

    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    m_wallSeconds += seconds;
    stats.imagesPerSecond = seconds > 0 ? static_cast<double>(b) / seconds : 0.0;

    if (m_config.checkpointEvery > 0 && m_step % m_config.checkpointEvery == 0) {
        m_lastGood = checkpoint();
    }
    return stats;
}

void Trainer::rollBack() {
    if (++m_rollbacksInARow > m_config.maxRollbacks || !m_lastGood) {
        throw TrainingError(fmt::format(
            "training diverged: NaN or infinite losses {} times in a row even after rolling back "
            "and lowering the learning rate",
            m_rollbacksInARow));
    }
    const double lowered = std::max(m_lr * 0.5, m_config.minLearningRate);
    const int rollbacks = m_rollbacksInARow;
    const double wall = m_wallSeconds;
    restore(*m_lastGood, "in-memory checkpoint");
    m_rollbacksInARow = rollbacks;
    m_wallSeconds = wall;
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
    blendWeights(*m_generator, *m_average, 1.0 - decay);
}

torch::Tensor Trainer::samples() {
    torch::NoGradGuard noGrad;
    if (m_average) {
        return m_average->forward(m_sampleLatents.to(m_device)).cpu();
    }
    m_generator->eval();
    torch::Tensor images = m_generator->forward(m_sampleLatents.to(m_device)).cpu();
    m_generator->train();
    return images;
}

Provenance Trainer::provenance() const {
    Provenance p;
    p.name = m_name;
    p.dataset = m_dataset.source;
    p.datasetHash = m_dataset.hash;
    p.imageCount = m_dataset.count();
    p.steps = m_step;
    p.wallSeconds = m_wallSeconds;
    p.device = describeDevice(m_device) + ", " + precisionName(m_config.precision);
    p.seed = m_config.seed;
    p.date = utcNow();
    p.programVersion = CATTERY_VERSION;
    return p;
}

Container Trainer::checkpoint() const {
    // "generator" is the model (what the explorer opens); with an average, the weights being
    // trained are kept beside it.
    Container c = modelContainer("checkpoint", m_arch, m_latent, provenance(), generator());
    if (m_average) {
        storeModule(c, kTrainingGenerator, *m_generator);
    }
    storeModule(c, "discriminator", *m_discriminator);
    auto blob = [](const std::string& name, const std::string& bytes) {
        Record r;
        r.name = name;
        r.dtype = DType::UInt8;
        r.shape = {static_cast<std::int64_t>(bytes.size())};
        r.bytes = bytes;
        return r;
    };
    c.records.push_back(blob("optimizer.generator", archiveBytes(*m_optG)));
    c.records.push_back(blob("optimizer.discriminator", archiveBytes(*m_optD)));
    const auto rng = m_rng.state();
    c.meta["training"] = {{"step", m_step},
                          {"k", m_k},
                          {"learning_rate", m_lr},
                          {"ema_m", m_emaM},
                          {"best_m", m_bestM},
                          {"best_step", m_bestStep},
                          {"wall_seconds", m_wallSeconds},
                          {"rng",
                           {std::to_string(rng[0]), std::to_string(rng[1]), std::to_string(rng[2]),
                            std::to_string(rng[3])}},
                          {"config", toJson(m_config)}};
    return c;
}

void Trainer::restore(const Container& c, const std::string& path) {
    try {
        const auto& t = c.meta.at("training");
        const ArchConfig arch = archFromJson(c.meta.at("arch"));
        if (arch != m_arch) {
            throw ModelFileError(path, "the checkpoint's architecture differs from this run's");
        }
        if (m_average) {
            // A checkpoint written without an average starts one from its generator.
            const std::string prefix = std::string(kTrainingGenerator) + ".";
            const bool separate =
                std::any_of(c.records.begin(), c.records.end(),
                            [&](const Record& r) { return r.name.rfind(prefix, 0) == 0; });
            loadModule(c, separate ? kTrainingGenerator : "generator", *m_generator, path);
            loadModule(c, "generator", *m_average, path);
        } else {
            loadModule(c, "generator", *m_generator, path);
        }
        loadModule(c, "discriminator", *m_discriminator, path);
        loadArchiveBytes(*m_optG, requireRecord(c, "optimizer.generator", DType::UInt8, path).bytes,
                         m_device, path);
        loadArchiveBytes(*m_optD,
                         requireRecord(c, "optimizer.discriminator", DType::UInt8, path).bytes,
                         m_device, path);
        m_step = t.at("step").get<std::int64_t>();
        m_k = t.at("k").get<double>();
        m_emaM = t.at("ema_m").get<double>();
        m_bestM = t.at("best_m").get<double>();
        m_bestStep = t.at("best_step").get<std::int64_t>();
        m_wallSeconds = t.at("wall_seconds").get<double>();
        m_name = provenanceFromJson(c.meta.value("provenance", nlohmann::json::object())).name;
        Rng::State state{};
        const auto rng = t.at("rng").get<std::vector<std::string>>();
        if (rng.size() != state.size()) {
            throw ModelFileError(path, "the random state is malformed");
        }
        for (size_t i = 0; i < state.size(); ++i) {
            state[i] = std::stoull(rng[i]);
        }
        m_rng.setState(state);
        setLearningRate(t.at("learning_rate").get<double>());
        if (!(m_k >= 0 && m_k <= 1) || !(m_lr > 0)) {
            throw ModelFileError(path, "the training state holds impossible values");
        }
    } catch (const nlohmann::json::exception& e) {
        throw ModelFileError(path, fmt::format("the training state is incomplete ({})", e.what()));
    } catch (const ConfigError& e) {
        throw ModelFileError(path, e.what());
    } catch (const std::logic_error& e) {
        throw ModelFileError(path, fmt::format("the training state is malformed ({})", e.what()));
    }
    m_rollbacksInARow = 0;
    m_generator->train();
    m_discriminator->train();
    if (m_average) {
        m_average->eval();
    }
}

void Trainer::saveCheckpoint(const std::string& path) const {
    // The rollback snapshot taken at this very step is the same checkpoint: write it, don't rebuild
    // it.
    const bool current =
        m_lastGood && m_lastGood->meta.at("training").at("step").get<std::int64_t>() == m_step;
    writeContainer(path, current ? *m_lastGood : checkpoint());
}

void Trainer::saveModel(const std::string& path) const {
    cattery::saveModel(path, m_arch, m_latent, provenance(), generator());
}

}  // namespace cattery
