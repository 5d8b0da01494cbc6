#include "core/train/trainrun.h"

#include <fmt/format.h>

#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/io/container.h"
#include "core/runtime/device.h"
#include "core/runtime/precision.h"

namespace cattery {

StartedRun startRun(const RunRequest& request, const ImageLoader& loadImages) {
    for (const std::string& path : request.outputs) {
        checkWritable(path);
    }
    StartedRun run;
    run.device = chooseDevice(request.device);
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
    const Trainer& t = *run.trainer;
    const std::string what = fmt::format(
        "training {} on {} images from {} on {}, {}", describe(t.arch()), t.dataset().count(),
        t.dataset().source, describeDevice(run.device), precisionName(t.config().precision));
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

std::string describeKept(const Trainer& t) {
    if (t.config().keep == KeepModel::Best && t.hasBest()) {
        const TrainScore b = t.bestScore();
        return fmt::format("the best-scoring generator, step {}, SWD {:.1f}, diversity {:.2f}",
                           b.step, b.swd, b.diversity);
    }
    if (!t.scores().empty() && t.scores().back().step == t.stepCount()) {
        return fmt::format("the last step's generator, SWD {:.1f}", t.scores().back().swd);
    }
    return "the last step's generator";
}

std::string describeScore(const StepStats& s) {
    return fmt::format("score at step {}: SWD {:.1f}, diversity {:.2f}{}", s.step, s.swd,
                       s.diversity,
                       s.newBest                           ? " (the best so far)"
                       : s.diversity < kCollapsedDiversity ? " (collapsed: not kept)"
                                                           : "");
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
