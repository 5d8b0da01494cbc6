// The trainer's files: the checkpoint that resumes the very same run, and the model it makes.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/io/modelfile.h"
#include "core/io/tensorio.h"
#include "core/runtime/device.h"
#include "core/train/resume.h"
#include "core/train/trainer.h"

namespace cattery {
namespace {

// Checkpoint records of the generator being trained, when the model is its running average.
constexpr const char* kTrainingGenerator = "training_generator";

}  // namespace

Trainer Trainer::resume(const std::string& path, Dataset dataset, torch::Device device) {
    return resume(readContainer(path), path, std::move(dataset), device);
}

Trainer Trainer::resume(const Container& c, const std::string& path, Dataset dataset,
                        torch::Device device) {
    const ResumePoint point = resumePoint(c, path);
    if (dataset.imageSize() != point.arch.imageSize) {
        dataset = resizedDataset(dataset, point.arch.imageSize);
    }
    Trainer trainer(point.arch, point.config, std::move(dataset), device);
    trainer.restore(c, path);
    trainer.m_lastGood = c;
    return trainer;
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
                          {"augment_p", m_strength.p()},
                          {"augment_signal", m_strength.signal()},
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
        // Older checkpoints: the configured p, no signal yet.
        const double p = t.value("augment_p", m_config.diffAugment.probability);
        const double signal = t.value("augment_signal", 0.0);
        if (!(p >= 0 && p <= 1) || !(signal >= 0)) {
            throw ModelFileError(path, "the augmentation state holds impossible values");
        }
        m_strength.restore(p, signal);
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
