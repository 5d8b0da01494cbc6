#pragma once

#include <vector>

#include <QImage>
#include <QPair>
#include <QVector>
#include <QWidget>

#include "core/io/outputs.h"
#include "ui/trainworker.h"

class QLabel;
class QLineSeries;
class QScatterSeries;
class QListWidget;
class QSlider;
class QValueAxis;

namespace cattery::ui {

class CellGrid;

// A run as it goes: live plots of the losses, M, k_t, the learning rate, the discriminator's
// augmentation p and the score (the best marked), the sample grid with a timeline to scrub back
// (and its export as a video), warnings in words, and the checkpoints.
class TrainMonitor : public QWidget {
    Q_OBJECT

public:
    explicit TrainMonitor(QWidget* parent = nullptr);

    // Empties everything for a new run, whose files go to `folder`.
    // A new run: charts and lists cleared, the loss chart labelled for its objective (the hinge
    // objective has a rebuild error and D's loss on generated images, and no k_t or M).
    void reset(const QString& folder, bool hinge = false);
    // The files the run reads and writes (the images' folder, the model file, the checkpoint),
    // which Export Animation never writes over.
    void setRunFiles(const QString& images, const QString& model, const QString& checkpoint,
                     const QString& resumed);
    void addProgress(const TrainProgress& p);
    void addSamples(qint64 step, const QVector<QImage>& images);
    void addCheckpoint(const QString& path, qint64 step, double convergence);
    // A score while training. `kept`: this step's generator is now the one chosen by its score
    // (the model file's, unless the run keeps the last step's), marked on the plot and named below
    // it (core's describeKeptScore, with the run's recent best and lowest scores).
    void addScore(qint64 step, double swd, double diversity, bool kept, double recentBest,
                  double lowest);
    QLabel* bestLabel() const { return m_bestLabel; }
    // Core's warnings read as lines of the CLI's output ("warning: the samples ..."): shown as
    // sentences.
    void addWarning(const QString& message);

    QListWidget* warnings() const { return m_warnings; }
    QListWidget* checkpoints() const { return m_checkpoints; }
    int snapshotCount() const { return static_cast<int>(m_snapshots.size()); }
    // Writes every snapshot, in order, as an MP4 video off the UI thread, with a progress dialog
    // that can cancel it (nothing is then left behind). False when cancelled or failed.
    bool exportAnimation(const QString& path);

Q_SIGNALS:
    // "Open in Explorer" on a checkpoint.
    void openModelRequested(const QString& path);

private:
    void showSnapshot(int index);
    void chooseAnimationFile();

    QLineSeries* m_lossReal;
    QLineSeries* m_lossFake;
    QLineSeries* m_convergence;
    QLineSeries* m_k;
    QLineSeries* m_lrSeries;
    QLineSeries* m_augment;
    QLineSeries* m_score;
    QScatterSeries* m_bestMark;
    QValueAxis* m_scoreX;
    QValueAxis* m_scoreY;
    QLabel* m_bestLabel;
    double m_maxScore = 1.0;
    QValueAxis* m_lossX;
    QValueAxis* m_lossY;
    QValueAxis* m_balanceX;
    CellGrid* m_samples;
    QSlider* m_timeline;
    QLabel* m_timelineLabel;
    QListWidget* m_warnings;
    QListWidget* m_checkpoints;
    QVector<QPair<qint64, QVector<QImage>>> m_snapshots;
    double m_maxLoss = 0.1;
    QString m_animationFolder;  // where Export Animation first looks
    std::vector<NamedPath> m_runFiles;
};

}  // namespace cattery::ui
