#include "core/io/modelfile.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/io/jsonfield.h"
#include "core/io/tensorio.h"

namespace cattery {
namespace {

constexpr const char* kEncoderPrefix = "encoder";

// A model file's encoder, or a checkpoint's discriminator's way down (its records, under the same
// names, hold the encoder's); null for a model file written without one. Its records are counted
// before it is built.
Encoder storedEncoder(const Container& c, const ArchConfig& arch, bool checkpoint,
                      const std::string& path) {
    std::string prefix = kEncoderPrefix;
    bool latentHead = false;
    if (checkpoint) {
        prefix = "discriminator";
        // BEGAN's bare autoencoder, or the hinge objective's with its heads: the verdict's, and
        // the cells' or the latent's or both.
        const std::int64_t held = heldValueCount(c, prefix);
        const std::int64_t withoutLatentHead[] = {discriminatorValueCount(arch, false),
                                                  discriminatorValueCount(arch, true),
                                                  discriminatorValueCount(arch, true, true)};
        const std::int64_t withLatentHead[] = {discriminatorValueCount(arch, true, false, true),
                                               discriminatorValueCount(arch, true, true, true)};
        latentHead = std::find(std::begin(withLatentHead), std::end(withLatentHead), held) !=
                     std::end(withLatentHead);
        if (!latentHead && std::find(std::begin(withoutLatentHead), std::end(withoutLatentHead),
                                     held) == std::end(withoutLatentHead)) {
            // Names the problem if that does not fit either.
            requireValueCount(c, prefix, discriminatorValueCount(arch, true), path);
        }
    } else if (jsonField<bool>(c.meta, "encoder", false)) {
        latentHead = jsonField<bool>(c.meta, "encoder_latent_head", false);
        requireValueCount(c, prefix, encoderValueCount(arch, latentHead), path);
    } else {
        return Encoder{nullptr};
    }
    Encoder encoder(arch);
    if (latentHead) {
        encoder->addLatentHead();
    }
    loadModule(c, prefix, *encoder, path);
    encoder->eval();
    return encoder;
}

}  // namespace

std::string Model::displayName() const {
    if (!provenance.name.empty()) {
        return provenance.name;
    }
    return std::filesystem::path(path).stem().string();
}

nlohmann::json toJson(const ArchConfig& a) {
    return {{"image_size", a.imageSize},
            {"channels", a.channels},
            {"latent_dim", a.latentDim},
            {"nf", a.nf},
            {"ndf", a.ndf},
            {"bottleneck", a.bottleneck},
            {"repeats", a.repeats},
            {"separable", a.separable},
            {"batch_norm", a.batchNorm},
            {"z_skip", a.zSkip},
            {"smooth_z_map", a.smoothZMap},
            {"normalize_z", a.normalizeZ},
            {"normalize_z_in_training", a.normalizeZInTraining}};
}

ArchConfig archFromJson(const nlohmann::json& j) {
    ArchConfig a;
    try {
        a.imageSize = jsonField<int>(j, "image_size");
        a.channels = jsonField<int>(j, "channels");
        a.latentDim = jsonField<int>(j, "latent_dim");
        a.nf = jsonField<int>(j, "nf");
        a.ndf = jsonField<int>(j, "ndf");
        a.bottleneck = jsonField<int>(j, "bottleneck");
        a.repeats = jsonField<int>(j, "repeats");
        a.separable = jsonField<bool>(j, "separable");
        a.batchNorm = jsonField<bool>(j, "batch_norm");
        a.zSkip = jsonField<bool>(j, "z_skip");
        a.smoothZMap = jsonField<bool>(j, "smooth_z_map", false);  // older files: repeated cells
        a.normalizeZ = jsonField<bool>(j, "normalize_z", false);   // older files: z as it is
        // Older files trained on latents the way they draw them.
        a.normalizeZInTraining = jsonField<bool>(j, "normalize_z_in_training", a.normalizeZ);
    } catch (const nlohmann::json::exception& e) {
        throw ConfigError(fmt::format("the architecture is incomplete ({})", briefly(e.what())));
    }
    validate(a);
    return a;
}

nlohmann::json toJson(const Provenance& p) {
    nlohmann::json j = {{"name", p.name},
                        {"dataset", p.dataset},
                        {"dataset_hash", p.datasetHash},
                        {"image_count", p.imageCount},
                        {"steps", p.steps},
                        {"wall_seconds", p.wallSeconds},
                        {"device", p.device},
                        {"seed", p.seed},
                        {"date", p.date},
                        {"program_version", p.programVersion}};
    if (p.batch > 0) {
        j["processes"] = p.processes;
        j["batch"] = p.batch;
    }
    if (!p.kept.empty()) {
        j["kept"] = {{"which", p.kept}, {"step", p.keptStep}};
        if (p.swd >= 0) {
            j["kept"]["swd"] = p.swd;
            j["kept"]["diversity"] = p.diversity;
        }
    }
    return j;
}

Provenance provenanceFromJson(const nlohmann::json& j) {
    Provenance p;
    p.name = jsonField<std::string>(j, "name", std::string(""));
    p.dataset = jsonField<std::string>(j, "dataset", std::string(""));
    p.datasetHash = jsonField<std::string>(j, "dataset_hash", std::string(""));
    p.imageCount = jsonField<std::int64_t>(j, "image_count", std::int64_t{0});
    p.steps = jsonField<std::int64_t>(j, "steps", std::int64_t{0});
    p.wallSeconds = jsonField<double>(j, "wall_seconds", 0.0);
    p.device = jsonField<std::string>(j, "device", std::string(""));
    p.seed = jsonField<std::uint64_t>(j, "seed", std::uint64_t{0});
    p.date = jsonField<std::string>(j, "date", std::string(""));
    p.programVersion = jsonField<std::string>(j, "program_version", std::string(""));
    // Only shown: what makes no sense is dropped rather than refused.
    p.processes = jsonField<int>(j, "processes", 1);
    p.batch = jsonField<std::int64_t>(j, "batch", std::int64_t{0});
    if (p.processes < 1 || p.batch < 0) {
        p.processes = 1;
        p.batch = 0;
    }
    if (const auto kept = j.find("kept"); kept != j.end() && kept->is_object()) {
        p.kept = kept->value("which", "");
        p.keptStep = kept->value("step", std::int64_t{0});
        p.swd = kept->value("swd", -1.0);
        p.diversity = kept->value("diversity", -1.0);
        if ((p.kept != "best" && p.kept != "last") || p.keptStep < 0 || !std::isfinite(p.swd) ||
            !std::isfinite(p.diversity)) {
            p.kept.clear();  // what the file says of itself is only shown: drop what makes no sense
            p.swd = p.diversity = -1.0;
        }
    }
    return p;
}

std::string utcNow() {
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

Container modelContainer(const std::string& kind, const ArchConfig& arch, const LatentSpace& latent,
                         const Provenance& provenance, const Generator& generator,
                         const Encoder& encoder) {
    Container c;
    c.kind = kind;
    c.meta["arch"] = toJson(arch);
    c.meta["latent"] = {{"dim", latent.dim()}, {"seed", latent.seed()}};
    c.meta["provenance"] = toJson(provenance);
    c.records.push_back(toRecord("latent.projection", latent.projection()));
    storeModule(c, "generator", *generator);
    if (!encoder.is_empty()) {
        c.meta["encoder"] = true;
        if (encoder->hasLatentHead()) {
            c.meta["encoder_latent_head"] = true;
        }
        storeModule(c, kEncoderPrefix, *encoder);
    }
    return c;
}

Model modelFromContainer(const Container& c, const std::string& path, const torch::Device& device) {
    if (c.kind != "model" && c.kind != "checkpoint") {
        throw ModelFileError(path,
                             fmt::format("holds a {}, not a model", c.kind.empty() ? "?" : c.kind));
    }
    Model m;
    m.path = path;
    m.checkpoint = c.kind == "checkpoint";
    try {
        m.arch = archFromJson(c.meta.at("arch"));
        const auto& latentMeta = c.meta.at("latent");
        const int dim = jsonField<int>(latentMeta, "dim");
        const auto seed = jsonField<std::uint64_t>(latentMeta, "seed");
        const Record& projection = requireRecord(c, "latent.projection", DType::Float32, path);
        m.latent = LatentSpace(toTensor(projection), seed);
        if (m.latent.dim() != dim || dim != m.arch.latentDim) {
            throw ModelFileError(path, "the latent projection does not match the latent dimension");
        }
        m.provenance = provenanceFromJson(c.meta.value("provenance", nlohmann::json::object()));
        if (m.checkpoint) {
            m.step = jsonField<std::int64_t>(c.meta.at("training"), "step");
        }
    } catch (const ConfigError& e) {
        throw ModelFileError(path, briefly(e.what()));
    } catch (const nlohmann::json::exception& e) {
        throw ModelFileError(
            path, fmt::format("the model description is incomplete ({})", briefly(e.what())));
    }
    requireValueCount(c, "generator", generatorValueCount(m.arch), path);
    m.generator = Generator(m.arch);
    loadModule(c, "generator", *m.generator, path);
    m.generator->to(device);
    m.generator->eval();
    try {
        m.encoder = storedEncoder(c, m.arch, m.checkpoint, path);
    } catch (const ConfigError& e) {
        throw ModelFileError(
            path, fmt::format("the encoder's entry is malformed ({})", briefly(e.what())));
    }
    if (!m.encoder.is_empty()) {
        m.encoder->to(device);
    }
    return m;
}

void saveModel(const std::string& path, const ArchConfig& arch, const LatentSpace& latent,
               const Provenance& provenance, const Generator& generator, const Encoder& encoder) {
    writeContainer(path, modelContainer("model", arch, latent, provenance, generator, encoder));
}

Model loadModel(const std::string& path, const torch::Device& device) {
    return modelFromContainer(readContainer(path), path, device);
}

std::string describeModel(const Model& m) {
    const Provenance& p = m.provenance;
    std::string out =
        fmt::format("{}\n  file:          {}{}\n", m.displayName(), m.path,
                    m.checkpoint ? fmt::format(" (checkpoint at step {})", m.step) : "");
    out += fmt::format("  architecture:  {}\n", describe(m.arch));
    out += fmt::format("  parameters:    {} in the generator\n", parameterCount(*m.generator));
    out += fmt::format(
        "  encoder:       {}\n",
        m.encoder.is_empty()
            ? "none (pictures are found by their pixels alone)"
            : fmt::format("{} parameters (pictures are found by what it sees{})",
                          parameterCount(*m.encoder),
                          m.encoder->hasLatentHead() ? ", and searches start where its latent head "
                                                       "proposes"
                                                     : ""));
    out += fmt::format("  latent:        {} dimensions, projection seed {}\n", m.latent.dim(),
                       m.latent.seed());
    out += fmt::format("  trained on:    {} ({} images, hash {})\n",
                       p.dataset.empty() ? "unknown" : p.dataset, p.imageCount,
                       p.datasetHash.empty() ? "-" : p.datasetHash);
    out += fmt::format(
        "  training:      {} steps{}, {:.0f} s on {}{}, seed {}\n", p.steps,
        p.batch > 0 ? fmt::format(" of {} images", p.batch) : std::string(), p.wallSeconds,
        p.device.empty() ? "unknown device" : p.device,
        p.processes > 1 ? fmt::format(", in {} processes", p.processes) : std::string(), p.seed);
    if (!p.kept.empty()) {
        out += fmt::format(
            "  kept:          {}, step {}{}\n",
            p.kept == "best" ? "the generator chosen by its score" : "the last step's generator",
            p.keptStep,
            p.swd >= 0 ? fmt::format(" (SWD {:.1f}, diversity {:.2f})", p.swd, p.diversity)
                       : std::string());
    }
    out += fmt::format("  written:       {} by Cattery {}\n", p.date.empty() ? "unknown" : p.date,
                       p.programVersion.empty() ? "?" : p.programVersion);
    return out;
}

}  // namespace cattery
