#pragma once

#include <QWidget>

#include "ui/trainworker.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace cattery::ui {

class CellGrid;
class TrainMonitor;
class TrainSettingsForm;

// From a folder of images to a new model, live: the data report, the settings form, Start, Pause,
// Stop and Resume From, progress with ETA, and the monitor of the run.
class TrainView : public QWidget {
    Q_OBJECT

public:
    explicit TrainView(QWidget* parent = nullptr);
    ~TrainView() override;

    void setFolder(const QString& folder);
    TrainSettings settings() const;
    bool running() const;
    TrainWorker* worker() const { return m_worker; }
    TrainSettingsForm* form() const { return m_form; }
    TrainMonitor* monitor() const { return m_monitor; }
    QPushButton* startButton() const { return m_start; }
    QPushButton* pauseButton() const { return m_pause; }
    QPushButton* stopButton() const { return m_stop; }
    QLineEdit* outputEdit() const;
    QSpinBox* stepsBox() const;
    QComboBox* presetBox() const;
    QListWidget* warnings() const;
    QListWidget* checkpoints() const;
    QLabel* reportLabel() const { return m_report; }
    qint64 lastStep() const { return m_lastStep; }
    int snapshotCount() const;
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
    QWidget* buildDataPanel();
    void onScanned(const DataReport& report);
    void onProgress(const TrainProgress& p);
    void onFinished(bool stopped, const QString& modelPath, const QString& kept);
    // The data report's line on augmentation, scores and the model kept, for the form as it is.
    void updatePlan();
    void onFailed(const QString& message);
    void updateButtons();

    TrainWorker* m_worker;
    TrainSettingsForm* m_form;
    TrainMonitor* m_monitor;
    QLineEdit* m_folder = nullptr;
    QLabel* m_report = nullptr;
    QLabel* m_plan = nullptr;  // what a run on the folder will do (describeSafeguards)
    qint64 m_used = 0;         // images the last scan found usable
    QListWidget* m_skipped = nullptr;
    CellGrid* m_examples = nullptr;
    QLabel* m_resumeNote;
    QPushButton* m_newRun;
    QString m_resumeFrom;  // the checkpoint Start continues (empty: a new run)
    QPushButton* m_start;
    QPushButton* m_pause;
    QPushButton* m_stop;
    QProgressBar* m_progress;
    QLabel* m_device;
    bool m_scanOk = false;
    bool m_training = false;
    bool m_rescan = false;
    qint64 m_lastStep = 0;
};

}  // namespace cattery::ui
