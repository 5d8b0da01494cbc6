#include "core/train/trainrun.h"

#include <fmt/format.h>

#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/runtime/device.h"
#include "core/runtime/precision.h"

namespace cattery {

StartedRun startRun(const RunRequest& request, const ImageLoader& loadImages) {
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
    std::string augment;
    if (const DiscriminatorAugment& d = t.config().diffAugment; d.any()) {
        std::string ops;
        for (const auto& [on, name] :
             {std::pair{d.color, "color"}, std::pair{d.translation, "translation"},
              std::pair{d.cutout, "cutout"}}) {
            if (on) {
                ops += (ops.empty() ? "" : ", ") + std::string(name);
            }
        }
        augment = fmt::format(
            "\nthe discriminator sees its images augmented ({}), each with "
            "probability {:.2f}{}",
            ops, t.augmentProbability(),
            d.adaptive && t.heldOutImageCount() > 0
                ? fmt::format(", adjusted as it goes against {} held-out images",
                              t.heldOutImageCount())
                : std::string());
        if (d.adaptive && t.heldOutImageCount() == 0) {
            run.warnings.push_back(fmt::format(
                "with {} images none can be held out to watch the discriminator memorise them, so "
                "the augmentation probability stays at {:.2f}",
                t.dataset().count(), t.augmentProbability()));
        }
    }
    run.description = (run.description.empty() ? what : run.description + "\n" + what) + augment;
    if (t.config().precision == Precision::BFloat16 && run.device.is_cpu() && !cpuHasNativeBf16()) {
        run.warnings.emplace_back(
            "this CPU has no native bf16 (AVX-512 BF16 or AMX), so bf16 is emulated and slower "
            "than fp32");
    }
    return run;
}

}  // namespace cattery
