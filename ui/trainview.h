#pragma once

#include <QVector>
#include <QWidget>

#include "ui/trainworker.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QProgressBar;
class QPushButton;
class QSlider;
class QSpinBox;
class QLineSeries;
class QValueAxis;

namespace cattery::ui {

class CellGrid;

// From a folder of images to a new model, live: the data report, presets and every knob, Start,
// Pause, Stop, progress with ETA, live plots, samples with a timeline, warnings and checkpoints.
class TrainView : public QWidget {
    Q_OBJECT

public:
    explicit TrainView(QWidget* parent = nullptr);
    ~TrainView() override;

    void setFolder(const QString& folder);
    TrainSettings settings() const;
    bool running() const;
    TrainWorker* worker() const { return m_worker; }
    QPushButton* startButton() const { return m_start; }
    QPushButton* pauseButton() const { return m_pause; }
    QPushButton* stopButton() const { return m_stop; }
    QLineEdit* outputEdit() const { return m_output; }
    QSpinBox* stepsBox() const { return m_steps; }
    QComboBox* presetBox() const { return m_preset; }
    QListWidget* warnings() const { return m_warnings; }
    QListWidget* checkpoints() const { return m_checkpoints; }
    QLabel* reportLabel() const { return m_report; }
    qint64 lastStep() const { return m_lastStep; }
    int snapshotCount() const { return m_snapshots.size(); }
    // Stops a run and waits for its checkpoint (used when the window closes).
    void stopAndWait();

    // Starts a new run, or continues the checkpoint prepared with prepareResume().
    void start();
    // Fills the settings from a checkpoint and makes Start continue it: the length, the learning
    // rates, the halving, the precision and the augmentation may still be changed (the same
    // rules as cattery-cli train --resume), the rest is the checkpoint's and stays locked. False,
    // after saying why, when the file cannot be resumed.
    bool prepareResume(const QString& checkpoint);
    // Back to a new run: every setting unlocked.
    void newRun();
    // prepareResume() and start() at once.
    void resume(const QString& checkpoint);
    QString resumeFrom() const { return m_resumeFrom; }
    void togglePause();
    void stopTraining();

Q_SIGNALS:
    // "Open in explorer" on a checkpoint.
    void openModelRequested(const QString& path);
    void trainingFinished(const QString& modelPath);

private:
    void applyPreset(int index);
    void onScanned(const DataReport& report);
    void onProgress(const TrainProgress& p);
    void onSamples(qint64 step, const QVector<QImage>& images);
    void onCheckpoint(const QString& path, qint64 step, double convergence);
    void onFinished(bool stopped, const QString& modelPath);
    void onFailed(const QString& message);
    void addWarning(const QString& message);
    void showSnapshot(int index);
    void updateButtons();
    void exportAnimation();
    QList<QWidget*> checkpointSettings() const;

    TrainWorker* m_worker;
    QLineEdit* m_folder;
    QLineEdit* m_output;
    QComboBox* m_preset;
    QSpinBox* m_size;
    QSpinBox* m_latent;
    QSpinBox* m_nf;
    QSpinBox* m_ndf;
    QSpinBox* m_batch;
    QSpinBox* m_steps;
    QDoubleSpinBox* m_lr;
    QDoubleSpinBox* m_lrD;
    QDoubleSpinBox* m_gamma;
    QDoubleSpinBox* m_lambdaK;
    QSpinBox* m_sampleEvery;
    QSpinBox* m_checkpointEvery;
    QSpinBox* m_seed;
    QCheckBox* m_batchNorm;
    QCheckBox* m_flip;
    QSpinBox* m_bottleneck;
    QSpinBox* m_repeats;
    QCheckBox* m_separable;
    QCheckBox* m_zSkip;
    QDoubleSpinBox* m_beta1;
    QDoubleSpinBox* m_beta2;
    QDoubleSpinBox* m_average;
    QSpinBox* m_lrHalveEvery;
    QSpinBox* m_lrStall;
    QDoubleSpinBox* m_minLr;
    QDoubleSpinBox* m_rotate;
    QDoubleSpinBox* m_zoom;
    QDoubleSpinBox* m_shift;
    QSpinBox* m_sampleCount;
    QSpinBox* m_maxRollbacks;
    QSpinBox* m_threads;
    QComboBox* m_deviceChoice;
    QComboBox* m_precisionChoice;
    QLabel* m_report;
    QLabel* m_resumeNote;
    QPushButton* m_newRun;
    QString m_resumeFrom;  // the checkpoint Start continues (empty: a new run)
    QListWidget* m_skipped;
    CellGrid* m_examples;
    QPushButton* m_start;
    QPushButton* m_pause;
    QPushButton* m_stop;
    QProgressBar* m_progress;
    QLabel* m_device;
    QLineSeries* m_lossReal;
    QLineSeries* m_lossFake;
    QLineSeries* m_convergence;
    QLineSeries* m_k;
    QLineSeries* m_lrSeries;
    QValueAxis* m_lossX;
    QValueAxis* m_lossY;
    QValueAxis* m_balanceX;
    CellGrid* m_samples;
    QSlider* m_timeline;
    QLabel* m_timelineLabel;
    QListWidget* m_warnings;
    QListWidget* m_checkpoints;
    QVector<QPair<qint64, QVector<QImage>>> m_snapshots;
    bool m_scanOk = false;
    bool m_training = false;
    bool m_rescan = false;
    qint64 m_lastStep = 0;
    double m_maxLoss = 0.1;
};

}  // namespace cattery::ui
