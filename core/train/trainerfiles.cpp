// The trainer's files: the checkpoint that resumes the very same run, and the model it makes.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/io/jsonfield.h"
#include "core/io/modelfile.h"
#include "core/io/tensorio.h"
#include "core/runtime/device.h"
#include "core/train/resume.h"
#include "core/train/trainer.h"

namespace cattery {
namespace {

// Checkpoint records of the generator being trained, when the model is its running average.
constexpr const char* kTrainingGenerator = "training_generator";
// Checkpoint records of the best scored state's networks.
const std::string kBestPrefix = "best.";
// Checkpoint records of the optimisers' states.
constexpr const char* kOptimiserG = "optimizer.generator";
constexpr const char* kOptimiserD = "optimizer.discriminator";

bool finiteAtLeastZero(double v) {
    return std::isfinite(v) && v >= 0;
}

}  // namespace

Trainer Trainer::resume(const std::string& path, Dataset dataset, torch::Device device) {
    return resume(readContainer(path), path, std::move(dataset), device);
}

Trainer Trainer::resume(const Container& c, const std::string& path, Dataset dataset,
                        torch::Device device) {
    const ResumePoint point = resumePoint(c, path);
    // The networks the header describes are built only once the file is known to hold them.
    requireValueCount(c, "generator", generatorValueCount(point.arch), path);
    requireValueCount(
        c, "discriminator",
        discriminatorValueCount(point.arch, point.config.objective == Objective::Hinge,
                                point.config.judgesCells(), point.config.covers()),
        path);
    if (dataset.imageSize() != point.arch.imageSize) {
        dataset = resizedDataset(dataset, point.arch.imageSize);
    }
    Trainer trainer(point.arch, point.config, std::move(dataset), device);
    trainer.restore(c, path);
    trainer.m_lastGood = c;
    return trainer;
}

Provenance Trainer::provenance() const {
    return provenanceOf(false);
}

Provenance Trainer::provenanceOf(bool best) const {
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
    p.processes = processes();
    p.batch = m_config.batchSize;
    if (best) {
        p.kept = "best";
        p.keptStep = m_best.score.step;
        p.swd = m_best.score.swd;
        p.diversity = m_best.score.diversity;
    } else {
        p.kept = "last";
        p.keptStep = m_step;
        if (!m_scores.empty() && m_scores.back().step == m_step) {
            p.swd = m_scores.back().swd;
            p.diversity = m_scores.back().diversity;
        }
    }
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
    storeAdamState(c, kOptimiserG, *m_optG);
    storeAdamState(c, kOptimiserD, *m_optD);
    for (const Record& r : m_best.weights.records) {
        Record copy = r;
        copy.name = kBestPrefix + r.name;
        c.records.push_back(std::move(copy));
    }
    nlohmann::json scores = nlohmann::json::array();
    for (const TrainScore& s : m_scores) {
        scores.push_back({s.step, s.swd, s.diversity});
    }
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
                          {"augment_floor", m_strength.floor()},
                          {"scores", scores},
                          {"best",
                           {{"scored", m_best.scored},
                            {"step", m_best.score.step},
                            {"swd", m_best.scored ? m_best.score.swd : 0.0},
                            {"diversity", m_best.score.diversity},
                            {"k", m_best.k}}},
                          {"score_seconds", m_scoreSeconds},
                          {"collapse_rollbacks", m_guardRollbacks},
                          {"guard_strikes", m_guardStrikes},
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
            m_averageSettledAt = -1;
        } else {
            loadModule(c, "generator", *m_generator, path);
        }
        loadModule(c, "discriminator", *m_discriminator, path);
        // Checkpoints of earlier versions hold each optimiser's state as a LibTorch archive
        // (one record under the prefix itself), which only LibTorch's TorchScript loader reads:
        // never read, the optimisers start afresh instead.
        m_optimisersRestarted = false;
        for (const auto& [prefix, adam] :
             {std::pair{kOptimiserG, m_optG.get()}, std::pair{kOptimiserD, m_optD.get()}}) {
            if (hasAdamState(c, prefix)) {
                loadAdamState(c, prefix, *adam, kMaxSteps, path);
            } else {
                adam->state().clear();
                m_optimisersRestarted = m_optimisersRestarted || c.find(prefix) != nullptr;
            }
        }
        m_step = jsonField<std::int64_t>(t, "step");
        if (m_step < 0 || m_step > kMaxSteps) {
            throw ModelFileError(
                path, fmt::format("the step {} is out of range (0 to {})", m_step, kMaxSteps));
        }
        m_k = jsonField<double>(t, "k");
        m_emaM = jsonField<double>(t, "ema_m");
        m_bestM = jsonField<double>(t, "best_m");
        m_bestStep = jsonField<std::int64_t>(t, "best_step");
        m_wallSeconds = jsonField<double>(t, "wall_seconds");
        // Older checkpoints: the configured p, no signal yet.
        const double p = jsonField<double>(t, "augment_p", m_config.diffAugment.probability);
        const double signal = jsonField<double>(t, "augment_signal", 0.0);
        if (!(p >= 0 && p <= 1) || !(signal >= 0)) {
            throw ModelFileError(path, "the augmentation state holds impossible values");
        }
        const double floor = jsonField<double>(t, "augment_floor", 0.0);
        if (!(floor >= 0 && floor <= p)) {
            throw ModelFileError(path, "the augmentation state holds impossible values");
        }
        m_strength.restore(p, signal, floor);
        restoreScores(t, c, path);
        m_name = provenanceFromJson(c.meta.value("provenance", nlohmann::json::object())).name;
        Rng::State state{};
        const auto& rng = t.at("rng");
        if (!rng.is_array() || rng.size() != state.size()) {
            throw ModelFileError(path, "the random state is malformed");
        }
        for (size_t i = 0; i < state.size(); ++i) {
            // Whole decimal numbers that fit in 64 bits, nothing else (no sign, no spaces).
            const std::string digits = jsonValue<std::string>(rng[i], "rng");
            const auto [end, error] =
                std::from_chars(digits.data(), digits.data() + digits.size(), state[i]);
            if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) {
                throw ModelFileError(path, "the random state is malformed");
            }
        }
        if (std::all_of(state.begin(), state.end(), [](std::uint64_t v) { return v == 0; })) {
            // xoshiro's one fixed point: every draw would be 0.
            throw ModelFileError(path, "the random state is all zero");
        }
        m_rng.setState(state);
        setLearningRate(jsonField<double>(t, "learning_rate"));
        if (!(m_k >= 0 && m_k <= 1) || !(m_lr > 0 && m_lr <= kMaxLearningRate) ||
            m_wallSeconds < 0 || m_bestStep < 0 || m_bestStep > m_step) {
            throw ModelFileError(path, "the training state holds impossible values");
        }
    } catch (const nlohmann::json::exception& e) {
        throw ModelFileError(
            path, fmt::format("the training state is incomplete ({})", briefly(e.what())));
    } catch (const ConfigError& e) {
        throw ModelFileError(path, briefly(e.what()));
    } catch (const std::logic_error& e) {
        throw ModelFileError(
            path, fmt::format("the training state is malformed ({})", briefly(e.what())));
    }
    m_rollbacksSinceGood = 0;
    m_generator->train();
    m_discriminator->train();
    if (m_average) {
        m_average->eval();
    }
}

void Trainer::saveCheckpoint(const std::string& path) const {
    // The rollback snapshot taken at this very step is the same checkpoint: write it, don't rebuild
    // it.
    const bool current = jsonField<std::int64_t>(m_lastGood.meta.at("training"), "step") == m_step;
    writeContainer(path, current ? m_lastGood : checkpoint());
}

void Trainer::restoreScores(const nlohmann::json& t, const Container& c, const std::string& path) {
    // Older checkpoints hold no scores: the best stays the start the constructor kept.
    m_scores.clear();
    for (const auto& entry : t.value("scores", nlohmann::json::array())) {
        if (!entry.is_array() || entry.size() != 3) {
            throw ModelFileError(path, "the training scores are malformed");
        }
        const TrainScore s{jsonValue<std::int64_t>(entry.at(0), "scores"),
                           jsonValue<double>(entry.at(1), "scores"),
                           jsonValue<double>(entry.at(2), "scores")};
        if (s.step < 1 || s.step > m_step || !finiteAtLeastZero(s.swd) ||
            !finiteAtLeastZero(s.diversity) ||
            (!m_scores.empty() && s.step <= m_scores.back().step)) {
            throw ModelFileError(path, "the training scores hold impossible values");
        }
        m_scores.push_back(s);
    }
    m_scoreSeconds = jsonField<double>(t, "score_seconds", 0.0);
    m_guardRollbacks = jsonField<int>(t, "collapse_rollbacks", 0);
    m_guardStrikes = jsonField<int>(t, "guard_strikes", 0);
    if (!finiteAtLeastZero(m_scoreSeconds) || m_guardRollbacks < 0 || m_guardStrikes < 0 ||
        m_guardStrikes >= kGuardStrikes) {
        throw ModelFileError(path, "the training scores hold impossible values");
    }
    const auto best = t.find("best");
    if (best == t.end()) {
        return;
    }
    Best b;
    b.scored = jsonField<bool>(*best, "scored");
    b.score = {jsonField<std::int64_t>(*best, "step"), jsonField<double>(*best, "swd"),
               jsonField<double>(*best, "diversity")};
    b.k = jsonField<double>(*best, "k");
    if (!b.scored) {
        b.score.swd = std::numeric_limits<double>::infinity();
    }
    if (b.score.step < 0 || b.score.step > m_step || !(b.k >= 0 && b.k <= 1) ||
        (b.scored && !finiteAtLeastZero(b.score.swd)) || !finiteAtLeastZero(b.score.diversity)) {
        throw ModelFileError(path, "the best state's score holds impossible values");
    }
    for (const Record& r : c.records) {
        if (r.name.rfind(kBestPrefix, 0) == 0) {
            Record copy = r;
            copy.name = r.name.substr(kBestPrefix.size());
            b.weights.records.push_back(std::move(copy));
        }
    }
    if (!b.scored && b.weights.records.empty()) {
        return;  // nothing scored and nothing to go back to but the start the constructor kept
    }
    // Checked now against the run's own networks (the same architecture), so that a bad file
    // fails here rather than when the guard or the model file needs them.
    checkModuleRecords(b.weights, "generator", *m_generator, path);
    if (m_average) {
        checkModuleRecords(b.weights, "average", *m_average, path);
    }
    checkModuleRecords(b.weights, "discriminator", *m_discriminator, path);
    m_best = std::move(b);
}

void Trainer::saveModel(const std::string& path) const {
    saveModel(path, m_config.keep);
}

void Trainer::saveModel(const std::string& path, KeepModel which) const {
    const bool best = which == KeepModel::Best && m_best.scored;
    cattery::saveModel(path, m_arch, m_latent, provenanceOf(best), keptGenerator(which),
                       keptEncoder(which));
}

}  // namespace cattery
