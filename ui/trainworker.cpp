#include "ui/trainworker.h"

#include <chrono>
#include <filesystem>

#include <fmt/format.h>

#include <QDir>
#include <QFileInfo>

#include "core/data/dataset.h"
#include "core/data/imagefolder.h"
#include "core/errors.h"
#include "core/latent/rng.h"
#include "core/metrics/diversity.h"
#include "core/runtime/device.h"
#include "core/runtime/renderer.h"
#include "core/runtime/threads.h"
#include "core/train/trainloop.h"
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
    const torch::Device device = chooseDevice(s.device.toStdString());
    std::optional<Trainer> trainer;
    if (!s.resumeFrom.isEmpty()) {
        const Container head = readContainer(s.resumeFrom.toStdString());
        const int size = Trainer::imageSize(head, s.arch.imageSize);
        trainer.emplace(
            Trainer::resume(head, s.resumeFrom.toStdString(), loadImages(s.folder, size), device));
        trainer->config().steps = std::max<std::int64_t>(s.train.steps, trainer->stepCount() + 1);
        if (s.precision != QStringLiteral("auto")) {
            trainer->config().precision = precisionFromName(s.precision.toStdString());
        }
    } else {
        TrainConfig config = s.train;
        config.precision = choosePrecision(s.precision.toStdString(), device);
        validate(s.arch);
        validate(config);
        Dataset data = loadImages(s.folder, s.arch.imageSize);
        requireImages(data);
        trainer.emplace(s.arch, config, std::move(data), device);
    }
    trainer->setName(QFileInfo(s.modelPath).completeBaseName().toStdString());
    LoopOptions options;
    options.modelPath = s.modelPath.toStdString();
    options.checkpointPath = checkpointPathFor(options.modelPath);
    std::filesystem::create_directories(
        std::filesystem::path(options.modelPath).parent_path().empty()
            ? std::filesystem::path(".")
            : std::filesystem::path(options.modelPath).parent_path());

    auto last = std::chrono::steady_clock::now() - std::chrono::seconds(1);
    double rate = 0;
    double lastM = 0;
    LoopCallbacks callbacks;
    callbacks.onStep = [&](const StepStats& st) {
        if (m_injectNaN.exchange(false)) {
            trainer->injectNaN();
        }
        lastM = st.convergence;
        rate = rate <= 0 ? st.imagesPerSecond : 0.9 * rate + 0.1 * st.imagesPerSecond;
        const auto now = std::chrono::steady_clock::now();
        if (std::chrono::duration<double>(now - last).count() < kProgressInterval &&
            st.step != trainer->config().steps) {
            return;
        }
        last = now;
        TrainProgress p;
        p.step = st.step;
        p.total = trainer->config().steps;
        p.imagesPerSecond = rate;
        p.etaSeconds =
            rate > 0 ? double(p.total - p.step) * trainer->config().batchSize / rate : -1;
        p.lossReal = st.lossReal;
        p.lossFake = st.lossFake;
        p.k = st.k;
        p.convergence = st.convergence;
        p.learningRate = st.learningRate;
        Q_EMIT progress(p);
    };
    // The variety of a small fixed slice of the data, measured once, to compare samples with
    // (0 when there is nothing to compare: fewer than two images, or all the same).
    const torch::Tensor reference =
        trainer->dataset().images.narrow(0, 0, std::min<int64_t>(64, trainer->dataset().count()));
    const double dataDistance = reference.size(0) >= 2 ? meanPairwiseDistance(reference) : 0.0;
    bool collapsed = false;
    // A young generator's samples all look alike before they spread out: no warning for that.
    constexpr std::int64_t kCollapseWatchFrom = 500;
    callbacks.onSamples = [&](std::int64_t step, const torch::Tensor& images) {
        Q_EMIT samples(step, qimages(images));
        if (step >= kCollapseWatchFrom && images.size(0) >= 2 && dataDistance > 0.0) {
            const double diversity = meanPairwiseDistance(toBytes(images)) / dataDistance;
            if (diversity < kCollapsedDiversity && !collapsed) {
                Q_EMIT warning(tr("The samples look alike (variety %1 of the data's) at step %2: "
                                  "the generator may be collapsing; try a higher gamma or a lower "
                                  "learning rate")
                                   .arg(diversity, 0, 'f', 2)
                                   .arg(step));
            }
            collapsed = diversity < kCollapsedDiversity;
        }
    };
    // Each checkpoint also leaves a model snapshot, so any of them can be explored later.
    const QString snapshots = s.modelPath + QStringLiteral(".snapshots");
    QDir().mkpath(snapshots);
    callbacks.onCheckpoint = [&](const std::string&, std::int64_t step) {
        const QString path = QDir(snapshots).filePath(
            QStringLiteral("step-%1.cattery").arg(step, 7, 10, QLatin1Char('0')));
        trainer->saveModel(path.toStdString());
        Q_EMIT checkpointSaved(path, step, lastM);
    };
    callbacks.onWarning = [&](const std::string& w) { Q_EMIT warning(QString::fromStdString(w)); };
    Q_EMIT started(QString::fromStdString(describeDevice(device)), trainer->stepCount());
    options.threads = s.threads;
    const TrainingShare share;  // drawing keeps to one thread meanwhile
    const LoopEnd end = runTraining(*trainer, options, callbacks, m_stop, &m_pause);
    Q_EMIT finished(end == LoopEnd::Stopped, s.modelPath);
}

}  // namespace cattery::ui
