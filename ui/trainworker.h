#pragma once

#include <atomic>

#include <QImage>
#include <QMetaType>
#include <QString>
#include <QStringList>
#include <QThread>
#include <QVector>

#include "core/model/archconfig.h"
#include "core/train/resume.h"
#include "core/train/trainconfig.h"

namespace cattery::ui {

// What a run is asked to do: where, on what, and core's own configs (both free of LibTorch).
struct TrainSettings {
    TrainSettings() {
        // The Quick preset: small and short, with frequent samples and checkpoints.
        arch.imageSize = 32;
        train.steps = 2000;
        train.sampleEvery = 100;
        train.checkpointEvery = 500;
    }
    QString folder;                              // folder of images, or a data set file
    QString modelPath;                           // where the model goes; the checkpoint beside it
    QString resumeFrom;                          // a checkpoint to continue (empty: a new run)
    ResumeChanges resume;                        // what a resumed run changes (the CLI's rules)
    QString device = QStringLiteral("auto");     // auto, cpu or cuda
    QString precision = QStringLiteral("auto");  // auto (decided by the device), fp32 or bf16
    int threads = 0;  // CPU threads (0: automatic, fewer while other programs keep cores busy)
    // Processes training together on this computer: this one (rank 0, the live view) and as many
    // more cattery-cli processes less one, each with its share of the CPUs (threads: each one's).
    int processes = 1;
    ArchConfig arch;
    TrainConfig train;  // its precision is set from `precision` when the run starts
};

// The data report shown before anything trains.
struct DataReport {
    QString folder;
    int used = 0;
    QStringList skipped;       // "file: reason"
    QVector<QImage> examples;  // augmented exactly as the trainer will see them
    QString error;             // why nothing can train (empty when something can)
};

struct TrainProgress {
    qint64 step = 0;
    qint64 total = 0;
    double imagesPerSecond = 0;
    double etaSeconds = -1;
    double lossReal = 0;
    double lossFake = 0;
    double k = 0;
    double convergence = 0;
    double learningRate = 0;
    double augmentProbability = 0;  // the discriminator's augmentation p
};

// Runs the trainer's step loop off the UI thread. Pause and stop are atomics checked between
// steps; every failure becomes failed(); progress arrives at most ten times a second.
class TrainWorker : public QThread {
    Q_OBJECT

public:
    explicit TrainWorker(QObject* parent = nullptr);
    ~TrainWorker() override;

    // Reads the folder (on this worker's thread) and reports what would be used.
    void scan(const QString& folder, int imageSize);
    void train(const TrainSettings& settings);
    void setPaused(bool paused) { m_pause = paused; }
    void stop() { m_stop = true; }
    bool paused() const { return m_pause.load(); }
    // The next step's losses become NaN (fault drills and tests).
    void injectNaN() { m_injectNaN = true; }

Q_SIGNALS:
    void scanned(const cattery::ui::DataReport& report);
    void progress(const cattery::ui::TrainProgress& progress);
    void samples(qint64 step, const QVector<QImage>& images);
    void checkpointSaved(const QString& path, qint64 step, double convergence);
    void warning(const QString& message);
    // `kept`: which generator the model file holds, in words (describeKept).
    void finished(bool stopped, const QString& modelPath, const QString& kept);
    // A score of the generator (every TrainConfig::scoreEvery steps); `kept`: this step's generator
    // is now the one chosen by its score; `recentBest` and `lowest`: the run's recent best
    // (Trainer::recentBestScore) and lowest varied score, this one included.
    void scored(qint64 step, double swd, double diversity, bool kept, double recentBest,
                double lowest);
    void started(const QString& device, qint64 fromStep);
    void failed(const QString& message);

protected:
    void run() override;

private:
    void runScan();
    void runTrain();

    enum class Job { Scan, Train };
    Job m_job = Job::Scan;
    QString m_folder;
    int m_scanSize = 32;
    TrainSettings m_settings;
    std::atomic<bool> m_pause{false};
    std::atomic<bool> m_stop{false};
    std::atomic<bool> m_injectNaN{false};
};

}  // namespace cattery::ui

Q_DECLARE_METATYPE(cattery::ui::DataReport)
Q_DECLARE_METATYPE(cattery::ui::TrainProgress)
