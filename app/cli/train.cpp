// cattery-cli train: a generator trained on a folder of images, or a run continued from a
// checkpoint.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include <fmt/format.h>

#include "app/cli/common.h"
#include "core/io/naming.h"
#include "core/io/sheet.h"
#include "core/runtime/device.h"
#include "core/runtime/renderer.h"
#include "core/runtime/threads.h"
#include "core/train/distributed.h"
#include "core/train/launcher.h"
#include "core/train/progress.h"
#include "core/train/trainloop.h"
#include "core/train/trainrun.h"

namespace cattery::cli {
namespace {

std::atomic<bool> g_stop{false};

void onInterrupt(int) {
    g_stop = true;
    // A second Ctrl-C ends the program at once.
    std::signal(SIGINT, SIG_DFL);
}

struct TrainOptions {
    RunRequest run;  // arch, config, precision, device, resume and name
    DataChoice data;
    std::string out;
    std::string samplesDir;
    std::string checkpoint;
    int threads = 0;
    int processes = 1;         // --nproc: processes this one starts on this machine
    int timeoutSeconds = 300;  // how long processes wait for each other
    std::string runFile;       // --run: every setting from this file
    std::string diffAugment = "auto";
    std::string keep = "best";
    std::string objective = objectiveName(TrainConfig{}.objective);
    bool fixedAugment = false;
    bool noGuard = false;
    bool noFlip = false;
    bool noBatchNorm = false;
    bool noZSkip = false;
    bool anyZLength = false;
    bool zLengthInTraining = false;
    bool blockyZMap = false;
};

// The live one-line display: rewritten in place on a terminal, a line every few seconds otherwise.
class ProgressLine {
public:
    explicit ProgressLine(const Trainer& trainer)
        : m_meter(trainer.config().steps, trainer.config().batchSize),
          m_tty(::isatty(STDERR_FILENO) != 0),
          m_showAugment(trainer.config().diffAugment.any()),
          m_objective(trainer.config().objective) {
        if (!trainer.scores().empty()) {
            m_score = trainer.scores().back();
        }
        m_best = trainer.hasBest() ? std::optional(trainer.bestScore()) : std::nullopt;
        m_lowest = trainer.lowestScore();
        m_recentBest = trainer.recentBestScore();
    }

    void update(const StepStats& s) {
        m_meter.update(s);
        if (s.scored) {
            m_score = TrainScore{s.step, s.swd, s.diversity};
            if (s.newBest) {
                m_best = m_score;
            }
            m_lowest = s.lowestSwd;
            m_recentBest = s.recentBestSwd;
        }
        const auto now = std::chrono::steady_clock::now();
        const double interval = m_tty ? 0.2 : 5.0;
        if (std::chrono::duration<double>(now - m_last).count() < interval &&
            s.step != m_meter.total()) {
            return;
        }
        m_last = now;
        std::string line = fmt::format("step {}/{} | {:.1f} img/s | ETA {} | {} | lr {:.2g}",
                                       s.step, m_meter.total(), m_meter.imagesPerSecond(),
                                       formatDuration(m_meter.etaSeconds(s.step)),
                                       describeLosses(s, m_objective), s.learningRate);
        if (m_showAugment) {
            line += fmt::format(" | p {:.2f}", s.augmentProbability);
        }
        if (m_score) {
            line += fmt::format(" | SWD {:.1f}", m_score->swd);
            if (m_best) {
                line += fmt::format(" ({})", describeKeptBriefly(*m_best, m_recentBest, m_lowest));
            }
        }
        if (m_tty) {
            std::cerr << "\r\033[K" << line << std::flush;
        } else {
            std::cerr << line << "\n";
        }
        m_open = m_tty;
    }
    void message(const std::string& text) {
        finish();
        std::cerr << text << "\n";
    }
    void finish() {
        if (m_open) {
            std::cerr << "\n";
            m_open = false;
        }
    }

private:
    ProgressMeter m_meter;
    bool m_tty;
    bool m_showAugment;                 // the discriminator's augmentation p on the line
    Objective m_objective;              // which losses the line shows
    std::optional<TrainScore> m_score;  // the latest score
    std::optional<TrainScore> m_best;   // the kept one
    double m_lowest = 0;                // the lowest varied score (Trainer::lowestScore)
    double m_recentBest = 0;            // and the recent best (Trainer::recentBestScore)
    bool m_open = false;
    std::chrono::steady_clock::time_point m_last{};
};

// "color,translation,cutout" (any of them, or "none") onto `policy`; UsageError otherwise.
// ("auto" is TrainConfig::autoAugment.)
DiscriminatorAugment parseDiffAugment(const std::string& text, DiscriminatorAugment policy) {
    policy.color = policy.translation = policy.cutout = false;
    if (text == "none") {
        return policy;
    }
    std::stringstream in(text);
    std::string part;
    while (std::getline(in, part, ',')) {
        if (part == "color") {
            policy.color = true;
        } else if (part == "translation") {
            policy.translation = true;
        } else if (part == "cutout") {
            policy.cutout = true;
        } else {
            throw UsageError(fmt::format(
                "--diffaug takes auto, none, or color, translation and cutout separated by "
                "commas; '{}' is none of them",
                part));
        }
    }
    return policy;
}

// --nproc: the same command started as that many processes on this machine, each with its
// share of the cores, which then train as one run; returns when all have ended.
void runLocalProcesses(const TrainOptions& o, bool threadsGiven) {
    if (std::getenv("WORLD_SIZE") != nullptr) {
        throw UsageError(
            "--nproc starts the processes itself, but WORLD_SIZE says this process is one of "
            "several already: give one or the other");
    }
    LocalLaunch launch;
    launch.program = "/proc/self/exe";
    launch.count = o.processes;
    const std::vector<std::string>& line = commandLine();
    for (std::size_t i = 1; i < line.size(); ++i) {
        if (line[i] == "--nproc") {
            ++i;  // and its value
        } else if (line[i].rfind("--nproc=", 0) != 0) {
            launch.arguments.push_back(line[i]);
        }
    }
    if (!threadsGiven) {
        launch.arguments.push_back("--threads");
        launch.arguments.push_back(std::to_string(threadsPerProcess(usableCpus(), o.processes)));
    }
    if (const int status = runLocalWorld(launch); status != 0) {
        throw ExitStatus(status);
    }
}

// The run's settings from the options given.
void settingsFromOptions(TrainOptions& o, const std::function<bool(const char*)>& given) {
    RunRequest& request = o.run;
    request.config.autoAugment = o.diffAugment == "auto";
    if (request.config.autoAugment) {
        for (const char* option : {"--augment-p", "--fixed-augment"}) {
            if (given(option)) {
                throw UsageError(fmt::format(
                    "{} needs --diffaug with the operations to use (with --diffaug auto, the "
                    "default, the run chooses the augmentation for the folder)",
                    option));
            }
        }
    } else {
        request.config.diffAugment = parseDiffAugment(o.diffAugment, request.config.diffAugment);
        request.config.diffAugment.adaptive = request.config.diffAugment.any() && !o.fixedAugment;
    }
    request.config.keep = o.keep == "last" ? KeepModel::Last : KeepModel::Best;
    request.config.collapseGuard = !o.noGuard;
    request.config.objective = objectiveFromName(o.objective);
    request.arch.batchNorm = !o.noBatchNorm;
    request.arch.zSkip = !o.noZSkip;
    request.arch.smoothZMap = !o.blockyZMap;
    request.arch.normalizeZ = !o.anyZLength;
    request.arch.normalizeZInTraining = o.zLengthInTraining;
    request.config.augment.flip = !o.noFlip;
    if (!request.resumeFrom.empty()) {
        // The length, the learning rates, the halving interval, the precision, the data
        // augmentation and the model kept may change on resume; everything else comes from the
        // checkpoint, and asking to change it is an error rather than silently ignored.
        const auto fixed = [&given](std::initializer_list<const char*> options) {
            for (const char* option : options) {
                if (given(option)) {
                    throw UsageError(fmt::format(
                        "{} cannot change on --resume: the run goes on as its checkpoint says",
                        option));
                }
            }
        };
        fixed({"--diffaug", "--augment-p", "--fixed-augment", "--score-every",
               "--no-collapse-guard", "--objective", "--variety", "--patch-verdict", "--cover"});
        fixed({"--size", "--latent", "--nf", "--ndf", "--bottleneck", "--repeats", "--separable",
               "--no-batch-norm", "--no-z-skip", "--blocky-z-map", "--any-z-length",
               "--z-length-in-training"});
        const TrainConfig& c = request.config;
        ResumeChanges& changes = request.changes;
        static const std::pair<const char*, ResumeSetting> kOptions[] = {
            {"--steps", ResumeSetting::Steps},
            {"--lr", ResumeSetting::LearningRate},
            {"--lr-d-scale", ResumeSetting::DiscriminatorLrScale},
            {"--lr-halve-every", ResumeSetting::LrHalveEvery},
            {"--no-flip", ResumeSetting::Flip},
            {"--rotate", ResumeSetting::RotateDegrees},
            {"--scale-jitter", ResumeSetting::ScaleJitter},
            {"--shift", ResumeSetting::Shift},
            {"--keep", ResumeSetting::Keep}};
        for (const auto& [option, setting] : kOptions) {
            if (given(option)) {
                change(changes, setting, c);
            }
        }
        if (given("--precision")) {
            changes.precision = choosePrecision(request.precision, chooseDevice(request.device));
        }
    }
}

// --run: every setting from a file written by the window for the processes it starts.
void settingsFromFile(TrainOptions& o, const std::function<bool(const char*)>& given) {
    for (const char* option : {"--data", "--cats", "--resume", "--out", "--checkpoint"}) {
        if (given(option)) {
            throw UsageError(fmt::format(
                "--run holds every setting of the run: {} cannot be given with it", option));
        }
    }
    const WorldSettings world = o.run.world;
    o.run = readRunRequest(o.runFile, o.data.source);
    o.run.world = world;
    o.out = o.run.outputs.at(0);
    o.checkpoint = o.run.outputs.at(1);
}

void runTrain(TrainOptions& o, const CLI::App& command) {
    RunRequest& request = o.run;
    const std::function<bool(const char*)> given = [&command](const char* option) {
        return command.get_option(option)->count() > 0;
    };
    if (o.processes > 1) {
        runLocalProcesses(o, given("--threads"));
        return;
    }
    request.world = worldFromEnvironment();
    if (o.runFile.empty()) {
        settingsFromOptions(o, given);
    } else {
        settingsFromFile(o, given);
    }
    if (o.runFile.empty() || given("--timeout")) {
        request.worldTimeout = std::chrono::seconds(o.timeoutSeconds);
    }
    // With several processes, rank 0 speaks for the run; the others say only what goes wrong.
    const bool lead = request.world.rank == 0;
    LoopOptions options;
    options.modelPath = o.out;
    if (options.modelPath.empty()) {
        const std::string stem = !request.resumeFrom.empty() ? stemOf(request.resumeFrom)
                                 : !o.data.source.empty()    ? stemOf(o.data.source)
                                                             : std::string("procedural-cats");
        options.modelPath = unusedPath(stem, ".cattery", checkpointPathFor);
        if (lead) {
            std::cout << fmt::format("the model will be written to {}\n", options.modelPath);
        }
    }
    options.checkpointPath =
        o.checkpoint.empty() ? checkpointPathFor(options.modelPath) : o.checkpoint;
    request.outputs = {options.modelPath, options.checkpointPath};
    request.imagesFrom = o.data.source;
    configureThreads(o.threads);
    StartedRun run = startRun(request, [&o, &request, lead](int size) {
        return loadData(o.data, size, request.config.seed, lead ? &std::cout : nullptr);
    });
    Trainer& trainer = *run.trainer;
    options.threads = o.threads;
    std::signal(SIGINT, onInterrupt);
    std::signal(SIGTERM, onInterrupt);
    if (!lead) {
        runTraining(trainer, options, LoopCallbacks{}, g_stop);
        return;
    }
    std::cerr << run.description << "\n";
    for (const std::string& w : run.warnings) {
        std::cerr << "warning: " << w << "\n";
    }
    ProgressLine progress(trainer);
    LoopCallbacks callbacks;
    callbacks.onStep = [&progress](const StepStats& s) { progress.update(s); };
    callbacks.onScore = [&progress](const StepStats& s) { progress.message(describeScore(s)); };
    callbacks.onWarning = [&progress](const std::string& w) { progress.message("warning: " + w); };
    if (!o.samplesDir.empty()) {
        std::filesystem::create_directories(o.samplesDir);
        callbacks.onSamples = [&o](std::int64_t step, const torch::Tensor& images) {
            writeSheet(samplesSheetPath(o.samplesDir, step), toImages(images), SheetOptions{});
        };
    }
    const LoopEnd end = runTraining(trainer, options, callbacks, g_stop);
    progress.finish();
    std::cout << fmt::format("{} at step {}: wrote {} ({}) and {}\n",
                             end == LoopEnd::Finished  ? "finished"
                             : end == LoopEnd::Stopped ? "stopped"
                                                       : "stopped by the collapse guard",
                             trainer.stepCount(), options.modelPath, describeKept(trainer),
                             options.checkpointPath);
    if (!trainer.scores().empty()) {
        std::cerr << describeScoring(trainer) << "\n";
    }
}

void addArchOptions(CLI::App& command, TrainOptions& o) {
    ArchConfig& a = o.run.arch;
    command.add_option("--size", a.imageSize, "Image size: 32, 48, 64, 80, 96 or 128")
        ->capture_default_str();
    command.add_option("--latent", a.latentDim, "Latent dimension (3 to 512)")
        ->capture_default_str();
    command.add_option("--nf", a.nf, "Generator width")->capture_default_str();
    command.add_option("--ndf", a.ndf, "Discriminator filters per layer")->capture_default_str();
    command.add_option("--bottleneck", a.bottleneck, "Discriminator code size")
        ->capture_default_str();
    command.add_option("--repeats", a.repeats, "Convolutions per stage")->capture_default_str();
    command.add_flag("--separable", a.separable, "Depthwise-separable convolutions");
    command.add_flag("--no-batch-norm", o.noBatchNorm, "No batch norm in the generator");
    command.add_flag("--no-z-skip", o.noZSkip, "No z map concatenated after each generator stage");
    command.add_flag(
        "--blocky-z-map", o.blockyZMap,
        "Upsample the z map by repeating its cells, as earlier versions did (they show "
        "as squares), not bilinearly");
    command.add_flag("--any-z-length", o.anyZLength,
                     "Draw latents at the length they are given, as earlier versions did, not "
                     "scaled to the typical length of a random one");
    command
        .add_flag("--z-length-in-training", o.zLengthInTraining,
                  "Scale the latents training draws to the typical length too, not only the ones "
                  "the model draws afterwards")
        ->excludes("--any-z-length");
}

void addConfigOptions(CLI::App& command, TrainOptions& o) {
    TrainConfig& c = o.run.config;
    command.add_option("--steps", c.steps, "Steps in all")->capture_default_str();
    command
        .add_option("--batch", c.batchSize,
                    "Batch size of each process (with several, the run's batch is their sum)")
        ->capture_default_str();
    command.add_option("--lr", c.learningRate, "Learning rate")->capture_default_str();
    command
        .add_option("--lr-d-scale", c.discriminatorLrScale,
                    "The discriminator's learning rate as a multiple of --lr")
        ->capture_default_str();
    command.add_option("--beta1", c.beta1, "Adam beta1")->capture_default_str();
    command.add_option("--beta2", c.beta2, "Adam beta2")->capture_default_str();
    command.add_option("--gamma", c.gamma, "BEGAN gamma")->capture_default_str();
    command.add_option("--lambda-k", c.lambdaK, "BEGAN lambda_k")->capture_default_str();
    command
        .add_option("--lr-halve-every", c.lrHalveEvery,
                    "Halve the learning rate every N steps (0: never)")
        ->capture_default_str();
    command
        .add_option("--lr-stall", c.lrStallSteps,
                    "Halve it when the score (or M, unscored) stalls for N steps (0: never)")
        ->capture_default_str();
    command.add_option("--min-lr", c.minLearningRate, "Lowest learning rate")
        ->capture_default_str();
    command.add_option("--sample-every", c.sampleEvery, "Sample sheet every N steps")
        ->capture_default_str();
    command.add_option("--sample-count", c.sampleCount, "Fixed sample latents")
        ->capture_default_str();
    command.add_option("--checkpoint-every", c.checkpointEvery, "Checkpoint every N steps")
        ->capture_default_str();
    command.add_option("--seed", c.seed, "Random seed")
        ->check(seedValidator())
        ->capture_default_str();
    command
        .add_option("--average", c.averageDecay,
                    "The model is a running average of the generator's weights with this "
                    "decay per step (0: the last step's weights)")
        ->capture_default_str();
    command
        .add_option("--precision", o.run.precision,
                    "fp32, bf16 (convolutions in bfloat16: several times faster on CPUs with "
                    "AVX-512 BF16 or AMX), or auto: bf16 where the CPU has it natively")
        ->check(CLI::IsMember({"auto", "fp32", "bf16"}))
        ->capture_default_str();
    command
        .add_option("--diffaug", o.diffAugment,
                    "Augment what the discriminator sees, real and generated alike, so that it "
                    "cannot learn a small folder by heart: any of color,translation,cutout, "
                    "none, or auto (all three below 10,000 images: half of the images with the "
                    "hinge objective, adaptive with BEGAN)")
        ->capture_default_str();
    command
        .add_option("--score-every", c.scoreEvery,
                    "Score the generator every N steps against held-out images (0: never; "
                    "default: often enough to pick the best, at most about 5 % of the time)")
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 40));
    command
        .add_option("--keep", o.keep,
                    "Which generator the model file holds: the best-scoring one or the last "
                    "step's")
        ->check(CLI::IsMember({"best", "last"}))
        ->capture_default_str();
    command
        .add_option("--objective", o.objective,
                    "hinge: a real-or-fake head on the discriminator's code, its reconstruction "
                    "kept as a task of its own; began: BEGAN's balance of reconstruction errors "
                    "(the demo's)")
        ->check(CLI::IsMember({"began", "hinge"}))
        ->capture_default_str();
    command
        .add_option("--variety", c.varietyWeight,
                    "Weight of the generator's variety term, which pushes generated pictures apart "
                    "when a batch of them is less varied than a batch of real ones (0: off)")
        ->check(CLI::Range(0.0, kMaxVarietyWeight))
        ->capture_default_str();
    command
        .add_option("--cover", c.coverWeight,
                    "With the hinge objective, weight of the cover term: the generator also learns "
                    "to draw each real picture from a latent a head of the discriminator proposes "
                    "for it, so that every training picture has a place in the latent space and "
                    "finding a picture's cat gets closer (0: off)")
        ->check(CLI::Range(0.0, kMaxCoverWeight))
        ->capture_default_str();
    command.add_flag("--patch-verdict", c.patchVerdict,
                     "With the hinge objective, judge every part of a picture as well as the "
                     "whole: a real-or-fake verdict on each cell of the discriminator's last grid");
    command.add_flag("--no-collapse-guard", o.noGuard,
                     "Do not go back to the best state when a score shows collapse");
    command
        .add_option("--augment-p", c.diffAugment.probability,
                    "The chance each image is augmented for the discriminator (where it starts, "
                    "unless --fixed-augment)")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    command.add_flag("--fixed-augment", o.fixedAugment,
                     "Keep --augment-p as it is instead of following how much better the "
                     "discriminator rebuilds its training images than held-out ones");
    command.add_flag("--no-flip", o.noFlip, "No horizontal flips");
    command.add_option("--rotate", c.augment.rotateDegrees, "Random rotation, degrees (0: off)")
        ->capture_default_str();
    command.add_option("--scale-jitter", c.augment.scaleJitter, "Random zoom fraction (0: off)")
        ->capture_default_str();
    command.add_option("--shift", c.augment.shift, "Random shift fraction (0: off)")
        ->capture_default_str();
}

}  // namespace

Subcommand addTrain(CLI::App& app) {
    auto o = std::make_shared<TrainOptions>();
    auto* command = app.add_subcommand(
        "train",
        "Train a generator on a folder of images (Ctrl-C saves and stops). Started with RANK, "
        "WORLD_SIZE, MASTER_ADDR and MASTER_PORT set (as torchrun sets them), it trains as one of "
        "several processes, on this machine or others, with rank 0 writing the files.");
    addDataOptions(*command, o->data, "Folder of images, or a data set file from 'prepare'");
    command->add_option("--out,-o", o->out,
                        "Output model file (.cattery); a checkpoint goes beside it (default: "
                        "named after the data, here, never overwriting)");
    command->add_option("--resume", o->run.resumeFrom, "Continue the run saved in this checkpoint");
    command->add_option("--device", o->run.device, "auto, cpu or cuda")
        ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
    addThreadsOption(*command, o->threads);
    command
        ->add_option("--nproc", o->processes,
                     "Train on this many processes on this machine, each with its share of the "
                     "CPUs (as torchrun --nproc_per_node would start them)")
        ->check(CLI::Range(1, kMostLocalProcesses))
        ->capture_default_str();
    command
        ->add_option("--timeout", o->timeoutSeconds,
                     "With several processes: how long, in seconds, each waits for the others "
                     "before it stops and names the one missing")
        ->check(CLI::Range(1, 86400))
        ->capture_default_str();
    command->add_option("--samples", o->samplesDir,
                        "Folder for sample sheets written as training goes");
    command->add_option("--checkpoint", o->checkpoint, "Checkpoint file (default: beside --out)");
    command->add_option("--run", o->runFile,
                        "Take every setting of the run from this file, as the window writes it "
                        "for the processes it starts");
    command->add_option("--name", o->run.name,
                        "Display name stored in the model (default: the file name)");
    addArchOptions(*command, *o);
    addConfigOptions(*command, *o);
    return {command, [o, command] { runTrain(*o, *command); }};
}

}  // namespace cattery::cli
