#include "ui/trainworker.h"

#include <chrono>
#include <filesystem>
#include <optional>

#include <fmt/format.h>

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QTemporaryDir>

#include "core/data/dataset.h"
#include "core/data/imagefolder.h"
#include "core/errors.h"
#include "core/io/naming.h"
#include "core/latent/rng.h"
#include "core/runtime/device.h"
#include "core/runtime/paths.h"
#include "core/runtime/renderer.h"
#include "core/runtime/threads.h"
#include "core/train/distributed.h"
#include "core/train/launcher.h"
#include "core/train/progress.h"
#include "core/train/trainloop.h"
#include "core/train/trainrun.h"
#include "ui/latentmath.h"

namespace cattery::ui {
namespace {

constexpr double kProgressInterval = 0.1;  // seconds between progress signals
constexpr int kExamples = 16;

Dataset loadImages(const QString& source, int size) {
    FolderOptions options;
    options.size = size;
    return readImages(source.toStdString(), options);
}

QVector<QImage> qimages(const torch::Tensor& batch) {
    QVector<QImage> out;
    for (const RgbImage& image : toImages(batch)) {
        out.push_back(toQImage(image));
    }
    return out;
}

}  // namespace

TrainWorker::TrainWorker(QObject* parent) : QThread(parent) {
    qRegisterMetaType<cattery::ui::DataReport>();
    qRegisterMetaType<cattery::ui::TrainProgress>();
    qRegisterMetaType<QVector<QImage>>();
}

TrainWorker::~TrainWorker() {
    m_stop = true;
    m_pause = false;
    wait();
}

void TrainWorker::scan(const QString& folder, int imageSize) {
    if (isRunning()) {
        return;
    }
    m_job = Job::Scan;
    m_folder = folder;
    m_scanSize = imageSize;
    start();
}

void TrainWorker::train(const TrainSettings& settings) {
    if (isRunning()) {
        return;
    }
    m_job = Job::Train;
    m_settings = settings;
    m_stop = false;
    m_pause = false;
    start();
}

void TrainWorker::run() {
    // The one exception boundary of this thread.
    try {
        configureThreads(0);
        if (m_job == Job::Scan) {
            runScan();
        } else {
            runTrain();
        }
    } catch (const c10::Error& e) {
        Q_EMIT failed(QString::fromStdString(e.what_without_backtrace()));
    } catch (const std::exception& e) {
        Q_EMIT failed(QString::fromStdString(e.what()));
    }
}

void TrainWorker::runScan() {
    DataReport report;
    report.folder = m_folder;
    try {
        const Dataset d = loadImages(m_folder, m_scanSize);
        report.used = static_cast<int>(d.count());
        for (const auto& s : d.report.skipped) {
            report.skipped << QStringLiteral("%1: %2").arg(
                QString::fromStdString(std::filesystem::path(s.path).filename().string()),
                QString::fromStdString(s.reason));
        }
        if (d.count() == 0) {
            report.error = tr("No usable images in %1.").arg(m_folder);
        } else {
            Rng rng(1);
            report.examples = qimages(
                augmentedBatch(d.images, static_cast<int>(std::min<int64_t>(kExamples, d.count())),
                               AugmentConfig{}, rng));
        }
    } catch (const Error& e) {
        report.error = QString::fromStdString(e.what());
    }
    Q_EMIT scanned(report);
}

void TrainWorker::runTrain() {
    const TrainSettings& s = m_settings;
    RunRequest request;
    request.arch = s.arch;
    request.config = s.train;
    request.precision = s.precision.toStdString();
    request.device = s.device.toStdString();
    request.resumeFrom = s.resumeFrom.toStdString();
    request.changes = s.resume;
    request.name = QFileInfo(s.modelPath).completeBaseName().toStdString();
    // The window makes the model's folder when it is new (a failure shows as unwritable next).
    std::error_code ec;
    std::filesystem::create_directories(
        std::filesystem::path(s.modelPath.toStdString()).parent_path(), ec);
    request.outputs = {s.modelPath.toStdString(), checkpointPathFor(s.modelPath.toStdString())};
    request.imagesFrom = s.folder.toStdString();
    int threads = s.threads;
    // The other processes, when there are any: cattery-cli with this very request. Declared before
    // the run, so that they are stopped after this process has left their world.
    QTemporaryDir helperFolder;
    std::optional<LocalHelpers> helpers;
    if (s.processes > 1) {
        if (!helperFolder.isValid()) {
            throw FileError(QDir::tempPath().toStdString(),
                            "no folder could be made here for the other processes' settings");
        }
        if (threads == 0) {
            threads = threadsPerProcess(usableCpus(), s.processes);
        }
        request.world.size = s.processes;
        request.world.masterAddr = "127.0.0.1";
        request.world.masterPort = freeLocalPort();
        const std::string file = helperFolder.filePath(QStringLiteral("run.json")).toStdString();
        writeRunRequest(file, request, s.folder.toStdString());
        LocalLaunch launch;
        launch.program = cliProgramPath(QCoreApplication::applicationDirPath().toStdString());
        launch.arguments = {"train", "--run", file, "--threads", std::to_string(threads)};
        launch.count = s.processes;
        helpers.emplace(launch, request.world.masterPort, helperFolder.path().toStdString());
        configureThreads(threads);
    }
    // A failure of this process's share is told with what the others said.
    const auto withTheOthers = [&helpers, &s](const std::string& what) {
        std::string message = what;
        if (helpers) {
            helpers->stop();
            for (int rank = 1; rank < s.processes; ++rank) {
                if (const std::string words = helpers->lastWords(rank); !words.empty()) {
                    message += fmt::format("\n\nrank {}: {}", rank, words);
                }
            }
        }
        return message;
    };
    std::optional<StartedRun> begun;
    try {
        begun.emplace(startRun(request, [&s](int size) { return loadImages(s.folder, size); }));
    } catch (const WorldError& e) {
        throw WorldError(withTheOthers(e.what()));
    }
    StartedRun& run = *begun;
    for (const std::string& w : run.warnings) {
        Q_EMIT warning(QString::fromStdString(w));
    }
    Trainer* trainer = run.trainer.get();
    LoopOptions options;
    options.modelPath = s.modelPath.toStdString();
    options.checkpointPath = checkpointPathFor(options.modelPath);
    options.threads = threads;

    auto last = std::chrono::steady_clock::now() - std::chrono::seconds(1);
    ProgressMeter meter(trainer->config().steps, trainer->config().batchSize);
    double lastM = 0;
    LoopCallbacks callbacks;
    callbacks.onStep = [&](const StepStats& st) {
        if (m_injectNaN.exchange(false)) {
            trainer->injectNaN();
        }
        lastM = st.convergence;
        meter.update(st);
        const auto now = std::chrono::steady_clock::now();
        if (std::chrono::duration<double>(now - last).count() < kProgressInterval &&
            st.step != trainer->config().steps) {
            return;
        }
        last = now;
        TrainProgress p;
        p.step = st.step;
        p.total = meter.total();
        p.imagesPerSecond = meter.imagesPerSecond();
        p.etaSeconds = meter.etaSeconds(st.step);
        p.lossReal = st.lossReal;
        p.lossFake = st.lossFake;
        p.k = st.k;
        p.convergence = st.convergence;
        p.learningRate = st.learningRate;
        p.augmentProbability = st.augmentProbability;
        Q_EMIT progress(p);
    };
    callbacks.onScore = [&](const StepStats& st) {
        Q_EMIT scored(st.step, st.swd, st.diversity, st.newBest, st.recentBestSwd, st.lowestSwd);
    };
    callbacks.onSamples = [&](std::int64_t step, const torch::Tensor& images) {
        Q_EMIT samples(step, qimages(images));
    };
    // Each checkpoint also leaves a model snapshot, so any of them can be explored later.
    callbacks.onCheckpoint = [&](const std::string&, std::int64_t step) {
        const std::string path = snapshotPathFor(options.modelPath, step);
        std::filesystem::create_directories(std::filesystem::path(path).parent_path());
        trainer->saveModel(path, KeepModel::Last);  // the generator at that step
        Q_EMIT checkpointSaved(QString::fromStdString(path), step, lastM);
    };
    callbacks.onWarning = [&](const std::string& w) { Q_EMIT warning(QString::fromStdString(w)); };
    const std::string device = describeDevice(run.device);
    Q_EMIT started(
        QString::fromStdString(trainer->processes() > 1 ? fmt::format("{} processes, {} each",
                                                                      trainer->processes(), device)
                                                        : device),
        trainer->stepCount());
    const TrainingShare share;  // drawing keeps to one thread meanwhile
    LoopEnd end = LoopEnd::Finished;
    try {
        end = runTraining(*trainer, options, callbacks, m_stop, &m_pause);
    } catch (const WorldError& e) {
        throw WorldError(withTheOthers(e.what()));
    }
    if (helpers) {
        helpers->wait();  // they end with this process's last step
    }
    Q_EMIT finished(end != LoopEnd::Finished, s.modelPath,
                    QString::fromStdString(describeKept(*trainer)));
}

}  // namespace cattery::ui
