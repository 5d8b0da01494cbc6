#include "core/train/trainrun.h"

#include <fmt/format.h>

#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/io/container.h"
#include "core/io/jsonfield.h"
#include "core/io/modelfile.h"
#include "core/io/outputs.h"
#include "core/runtime/device.h"
#include "core/runtime/precision.h"
#include "core/train/progress.h"

namespace cattery {

StartedRun startRun(const RunRequest& request, const ImageLoader& loadImages) {
    const WorldSettings& world = request.world;
    if (request.outputs.size() == 2) {
        // A resumed run may write its checkpoint back where it came from; nothing else may
        // replace what the run reads, and the two outputs must be two files.
        const NamedPath images{"the images (--data)", request.imagesFrom};
        const NamedPath model{"the model file (--out)", request.outputs[0]};
        const NamedPath checkpoint{"the checkpoint (--checkpoint)", request.outputs[1]};
        checkOutputs({images, {"the checkpoint resumed (--resume)", request.resumeFrom}}, {model});
        checkOutputs({images}, {model, checkpoint});
    }
    if (world.rank == 0) {  // rank 0 alone writes
        for (const std::string& path : request.outputs) {
            checkWritable(path);
        }
    }
    StartedRun run;
    run.device = chooseDevice(request.device);
    if (world.spread()) {
        if (request.config.batchSize > kMaxBatchSize / world.size) {
            throw ConfigError(fmt::format(
                "a batch of {} on each of {} processes is more than the {} images a step may take",
                request.config.batchSize, world.size, kMaxBatchSize));
        }
        run.world = std::make_unique<World>(
            world, run.device,
            std::chrono::duration_cast<std::chrono::milliseconds>(request.worldTimeout));
    }
    if (!request.resumeFrom.empty()) {
        // The header alone says the size to load the images at; nothing large is read before.
        const ResumePoint point = readResumePoint(request.resumeFrom);
        Dataset data = loadImages(point.arch.imageSize);
        requireImages(data);
        if (std::string w = resumeDataWarning(point, data); !w.empty()) {
            run.warnings.push_back(std::move(w));
        }
        run.trainer = std::make_unique<Trainer>(
            Trainer::resume(request.resumeFrom, std::move(data), run.device));
        if (run.trainer->optimisersRestarted()) {
            run.warnings.push_back(
                "the checkpoint was written by an earlier version of Cattery, whose optimiser "
                "states are not read (their format can carry code): the optimisers start afresh, "
                "so the first steps may move the networks more than usual");
        }
        applyResumeChanges(*run.trainer, request.changes);
        run.description = describeResume(*run.trainer, request.resumeFrom);
    } else {
        TrainConfig config = request.config;
        config.batchSize *= world.size;  // the whole batch, every process's share in it
        config.precision = choosePrecision(request.precision, run.device);
        validate(request.arch);
        validate(config);
        Dataset data = loadImages(request.arch.imageSize);
        requireImages(data);
        run.trainer = std::make_unique<Trainer>(request.arch, config, std::move(data), run.device);
    }
    if (!request.name.empty()) {
        run.trainer->setName(request.name);
    }
    if (run.world) {
        run.trainer->joinWorld(*run.world);
    }
    const Trainer& t = *run.trainer;
    const std::string where =
        t.processes() > 1
            ? fmt::format("{} processes ({} each, a batch of {} on each, {} in all)", t.processes(),
                          describeDevice(run.device), t.batchPerProcess(), t.config().batchSize)
            : describeDevice(run.device);
    const std::string what = fmt::format(
        "training {} on {} images from {} on {}, {}", describe(t.arch()), t.dataset().count(),
        t.dataset().source, where, precisionName(t.config().precision));
    // What the run does to keep its model good, as the data report says it before a run.
    TrainConfig asked = t.config();
    asked.autoAugment = request.resumeFrom.empty() && request.config.autoAugment;
    std::string safeguards = "\n" + describeSafeguards(asked, t.dataset().count());
    if (const DiscriminatorAugment& d = t.config().diffAugment;
        d.any() && d.adaptive && t.heldOutImageCount() == 0) {
        run.warnings.push_back(fmt::format(
            "with {} images none can be held out to watch the discriminator memorise them, so "
            "the augmentation probability stays at {:.2f}",
            t.dataset().count(), t.augmentProbability()));
    }
    if (t.config().scoreEvery > 0 && !t.hasScoring()) {
        run.warnings.emplace_back(
            "the images are all the same, so the run cannot be scored and keeps its last step");
    }
    run.description = (run.description.empty() ? what : run.description + "\n" + what) + safeguards;
    if (t.config().precision == Precision::BFloat16 && run.device.is_cpu() && !cpuHasNativeBf16()) {
        run.warnings.emplace_back(
            "this CPU has no native bf16 (AVX-512 BF16 or AMX), so bf16 is emulated and slower "
            "than fp32");
    }
    return run;
}

namespace {

constexpr std::uint64_t kMostRunRequestBytes = 1 << 20;
constexpr const char* kRunRequestKind = "cattery-run-request";

}  // namespace

void writeRunRequest(const std::string& path, const RunRequest& r, const std::string& images) {
    const nlohmann::json j = {{"kind", kRunRequestKind},
                              {"arch", toJson(r.arch)},
                              {"config", toJson(r.config)},
                              {"precision", r.precision},
                              {"device", r.device},
                              {"resume_from", r.resumeFrom},
                              {"changes", toJson(r.changes)},
                              {"name", r.name},
                              {"outputs", r.outputs},
                              {"images", images},
                              {"timeout_seconds", r.worldTimeout.count()}};
    writeFileAtomically(path, dumpFileJson(j, false));
}

RunRequest readRunRequest(const std::string& path, std::string& images) {
    RunRequest r;
    try {
        const nlohmann::json j = parseFileJson(readWholeFile(path, kMostRunRequestBytes));
        if (!j.is_object() || j.value("kind", "") != kRunRequestKind) {
            throw ConfigError("it is not a run request written by Cattery");
        }
        r.arch = archFromJson(j.at("arch"));
        r.config = trainConfigFromJson(j.at("config"));
        r.precision = jsonField<std::string>(j, "precision");
        r.device = jsonField<std::string>(j, "device");
        r.resumeFrom = jsonField<std::string>(j, "resume_from");
        r.changes = resumeChangesFromJson(j.at("changes"));
        r.name = jsonField<std::string>(j, "name");
        for (const auto& output : j.at("outputs")) {
            r.outputs.push_back(jsonValue<std::string>(output, "outputs"));
        }
        if (r.outputs.size() != 2) {
            throw ConfigError("it names other than a model file and a checkpoint to write");
        }
        images = jsonField<std::string>(j, "images");
        r.imagesFrom = images;
        const auto seconds = jsonField<std::int64_t>(j, "timeout_seconds");
        if (seconds < 1 || seconds > 86400) {
            throw ConfigError("its timeout is out of range (1 to 86400 seconds)");
        }
        r.worldTimeout = std::chrono::seconds(seconds);
        validate(r.arch);
        validate(r.config);
    } catch (const nlohmann::json::exception& e) {
        throw ConfigError(
            fmt::format("{}: the run request is malformed ({})", path, briefly(e.what())));
    } catch (const ConfigError& e) {
        throw ConfigError(fmt::format("{}: {}", path, e.what()));
    }
    return r;
}

std::string describeKept(const Trainer& t) {
    if (t.config().keep == KeepModel::Best && t.hasBest()) {
        return describeKeptScore(t.bestScore(), t.recentBestScore(), t.lowestScore());
    }
    if (!t.scores().empty() && t.scores().back().step == t.stepCount()) {
        return fmt::format("the last step's generator, SWD {:.1f}", t.scores().back().swd);
    }
    return "the last step's generator";
}

std::string describeScore(const StepStats& s) {
    std::string note;
    if (s.newBest) {
        switch (keptAs(TrainScore{s.step, s.swd, s.diversity}, s.recentBestSwd, s.lowestSwd)) {
            case KeptAs::Later:
                note = fmt::format(" (kept: {})", describeKeptMargin(s.recentBestSwd));
                break;
            case KeptAs::RecentBest:
                note = fmt::format(
                    " (kept: the best of the run's later half; an early one scored {:.1f})",
                    s.lowestSwd);
                break;
            case KeptAs::Best:
                note = " (the best so far)";
                break;
        }
    } else if (s.diversity < kCollapsedDiversity) {
        note = " (collapsed: not kept)";
    }
    return fmt::format("score at step {}: SWD {:.1f}, diversity {:.2f}{}", s.step, s.swd,
                       s.diversity, note);
}

std::string describeScoring(const Trainer& t) {
    const double training = t.provenance().wallSeconds;
    const std::size_t n = t.scores().size();
    return fmt::format("scored {} in {:.1f} s, {:.1f} % of the training time",
                       n == 1 ? std::string("once") : fmt::format("{} times", n),
                       t.scoringSeconds(),
                       training > 0 ? 100.0 * t.scoringSeconds() / training : 0.0);
}

}  // namespace cattery
