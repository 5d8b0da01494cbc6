#include "ui/trainview.h"

#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QStandardPaths>
#include <QVBoxLayout>

#include "core/errors.h"
#include "core/io/naming.h"
#include "core/runtime/precision.h"
#include "core/train/progress.h"
#include "core/train/resume.h"
#include "ui/cellgrid.h"
#include "ui/plaintext.h"
#include "ui/trainmonitor.h"
#include "ui/trainsettingsform.h"

namespace cattery::ui {

TrainView::TrainView(QWidget* parent)
    : QWidget(parent), m_worker(new TrainWorker(this)), m_form(nullptr), m_monitor(nullptr) {
    auto* layout = new QHBoxLayout(this);
    auto* leftPanel = new QWidget(this);
    auto* left = new QVBoxLayout(leftPanel);
    auto* leftScroll = new QScrollArea(this);
    leftScroll->setWidget(leftPanel);
    leftScroll->setWidgetResizable(true);
    leftScroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    leftScroll->setMinimumWidth(460);
    leftScroll->setFrameShape(QFrame::NoFrame);
    layout->addWidget(leftScroll, 0);
    left->addWidget(buildDataPanel());
    m_form = new TrainSettingsForm(this);
    left->addWidget(m_form);

    // Controls.
    auto* controls = new QHBoxLayout;
    m_start = new QPushButton(tr("&Start"), this);
    m_pause = new QPushButton(tr("&Pause"), this);
    m_stop = new QPushButton(tr("S&top"), this);
    controls->addWidget(m_start);
    controls->addWidget(m_pause);
    controls->addWidget(m_stop);
    auto* resumeButton = new QPushButton(tr("&Resume From..."), this);
    resumeButton->setToolTip(tr("Continue an earlier run from its checkpoint"));
    controls->addWidget(resumeButton);
    connect(resumeButton, &QPushButton::clicked, this, [this] {
        const QString file = QFileDialog::getOpenFileName(
            this, tr("Resume From Checkpoint"), QFileInfo(outputEdit()->text()).absolutePath(),
            tr("Cattery checkpoints (*.checkpoint.cattery);;Cattery files (*.cattery)"));
        if (!file.isEmpty()) {
            prepareResume(file);
        }
    });
    left->addLayout(controls);
    auto* resumeRow = new QHBoxLayout;
    m_resumeNote = new QLabel(this);
    m_resumeNote->setWordWrap(true);
    m_resumeNote->setTextFormat(Qt::PlainText);  // names the checkpoint's file
    m_newRun = new QPushButton(tr("&New Run"), this);
    m_newRun->setToolTip(tr("Forget the checkpoint: Start trains a new model"));
    resumeRow->addWidget(m_resumeNote, 1);
    resumeRow->addWidget(m_newRun);
    left->addLayout(resumeRow);
    m_resumeNote->hide();
    m_newRun->hide();
    connect(m_newRun, &QPushButton::clicked, this, &TrainView::newRun);
    m_progress = new QProgressBar(this);
    m_progress->setFormat(tr("Not started"));
    m_progress->setTextVisible(true);
    left->addWidget(m_progress);
    m_device = new QLabel(this);
    m_device->setTextFormat(Qt::PlainText);
    left->addWidget(m_device);
    left->addStretch(1);

    m_monitor = new TrainMonitor(this);
    layout->addWidget(m_monitor, 1);

    connect(m_form, &TrainSettingsForm::presetApplied, this, [this] {
        if (!m_folder->text().isEmpty()) {
            setFolder(m_folder->text());
        }
    });
    connect(m_start, &QPushButton::clicked, this, &TrainView::start);
    connect(m_pause, &QPushButton::clicked, this, &TrainView::togglePause);
    connect(m_stop, &QPushButton::clicked, this, &TrainView::stopTraining);
    connect(m_monitor, &TrainMonitor::openModelRequested, this, &TrainView::openModelRequested);
    connect(m_worker, &TrainWorker::scanned, this, &TrainView::onScanned);
    connect(m_worker, &TrainWorker::progress, this, &TrainView::onProgress);
    connect(m_worker, &TrainWorker::samples, m_monitor, &TrainMonitor::addSamples);
    connect(m_worker, &TrainWorker::checkpointSaved, m_monitor, &TrainMonitor::addCheckpoint);
    connect(m_worker, &TrainWorker::warning, m_monitor, &TrainMonitor::addWarning);
    connect(m_worker, &TrainWorker::finished, this, &TrainView::onFinished);
    connect(m_worker, &TrainWorker::scored, m_monitor, &TrainMonitor::addScore);
    connect(m_form, &TrainSettingsForm::settingsChanged, this, &TrainView::updatePlan);
    connect(m_worker, &TrainWorker::started, this, [this](const QString& device, qint64 from) {
        m_device->setText(from > 0 ? tr("Training on %1, resumed at step %2").arg(device).arg(from)
                                   : tr("Training on %1").arg(device));
    });
    connect(m_worker, &TrainWorker::failed, this, &TrainView::onFailed);
    connect(m_worker, &QThread::finished, this, [this] {
        if (m_rescan) {
            m_rescan = false;
            setFolder(m_folder->text());
        }
        updateButtons();
    });
    updateButtons();
}

TrainView::~TrainView() = default;

QWidget* TrainView::buildDataPanel() {
    auto* dataBox = new QGroupBox(tr("Images"), this);
    auto* dataLayout = new QVBoxLayout(dataBox);
    auto* folderRow = new QHBoxLayout;
    m_folder = new QLineEdit(this);
    m_folder->setPlaceholderText(tr("A folder of images (or drop one on the window)"));
    auto* browse = new QPushButton(tr("Choose..."), this);
    folderRow->addWidget(m_folder, 1);
    folderRow->addWidget(browse);
    dataLayout->addLayout(folderRow);
    m_report = new QLabel(tr("Choose a folder of images to train on."), this);
    m_report->setWordWrap(true);
    m_report->setTextFormat(Qt::PlainText);
    dataLayout->addWidget(m_report);
    m_plan = new QLabel(this);
    m_plan->setObjectName(QStringLiteral("plan"));
    m_plan->setWordWrap(true);
    m_plan->setTextFormat(Qt::PlainText);
    m_plan->setToolTip(tr("What a run on this folder does to keep its model good"));
    dataLayout->addWidget(m_plan);
    m_skipped = new QListWidget(this);
    m_skipped->setMaximumHeight(80);
    m_skipped->setToolTip(tr("Files that will not be used, and why"));
    dataLayout->addWidget(m_skipped);
    m_examples = new CellGrid(this);
    m_examples->setColumns(8);
    m_examples->setCellCount(0);
    m_examples->setZoom(1);
    m_examples->setToolTip(
        tr("Examples as the trainer will see them (flips, turns, zoom, shifts)"));
    dataLayout->addWidget(m_examples, 0, Qt::AlignHCenter);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString dir =
            QFileDialog::getExistingDirectory(this, tr("Folder of Images"), m_folder->text());
        if (!dir.isEmpty()) {
            setFolder(dir);
        }
    });
    connect(m_folder, &QLineEdit::editingFinished, this, [this] { setFolder(m_folder->text()); });
    return dataBox;
}

QLineEdit* TrainView::outputEdit() const {
    return m_form->outputEdit();
}

QSpinBox* TrainView::stepsBox() const {
    return m_form->stepsBox();
}

QComboBox* TrainView::presetBox() const {
    return m_form->presetBox();
}

QListWidget* TrainView::warnings() const {
    return m_monitor->warnings();
}

QListWidget* TrainView::checkpoints() const {
    return m_monitor->checkpoints();
}

int TrainView::snapshotCount() const {
    return m_monitor->snapshotCount();
}

void TrainView::setFolder(const QString& folder) {
    m_folder->setText(folder);
    m_scanOk = false;
    m_skipped->clear();
    m_examples->setCellCount(0);
    if (folder.isEmpty()) {
        updateButtons();
        return;
    }
    if (outputEdit()->text().isEmpty()) {
        const QString base = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation) +
                             QStringLiteral("/Cattery");
        outputEdit()->setText(
            QDir(base).filePath(QFileInfo(folder).completeBaseName() + QStringLiteral(".cattery")));
    }
    if (m_worker->isRunning()) {
        m_rescan = !m_training;
        updateButtons();
        return;
    }
    m_report->setText(tr("Reading %1...").arg(folder));
    m_worker->scan(folder, m_form->imageSize());
    updateButtons();
}

void TrainView::onScanned(const DataReport& report) {
    if (report.folder != m_folder->text()) {
        return;
    }
    m_scanOk = report.error.isEmpty() && report.used > 0;
    m_used = m_scanOk ? report.used : 0;
    updatePlan();
    m_report->setText(m_scanOk ? tr("%n image(s) will be used", nullptr, report.used) +
                                     (report.skipped.isEmpty()
                                          ? QString()
                                          : tr("; %n skipped:", nullptr, report.skipped.size()))
                               : tr("Nothing to train on: %1").arg(report.error));
    m_skipped->addItems(report.skipped);
    m_examples->setImageSize(report.examples.isEmpty() ? 32 : report.examples.first().width());
    m_examples->setZoom(
        report.examples.isEmpty() ? 1 : std::max(1, 48 / report.examples.first().width()));
    m_examples->setCellCount(static_cast<int>(report.examples.size()));
    m_examples->setImages(report.examples);
    updateButtons();
}

void TrainView::updatePlan() {
    if (m_used <= 0 || !m_resumeFrom.isEmpty()) {
        m_plan->clear();
        return;
    }
    const TrainSettings s = settings();
    const std::string plan = describeSafeguards(s.train, m_used);
    QString text = QString::fromStdString(plan);
    if (!text.isEmpty()) {
        text[0] = text[0].toUpper();
    }
    m_plan->setText(text + QLatin1Char('.'));
}

TrainSettings TrainView::settings() const {
    TrainSettings s;
    s.folder = m_folder->text();
    s.modelPath = outputEdit()->text();
    m_form->fill(s);
    if (!m_resumeFrom.isEmpty()) {
        // What the form may change on resume; the rest is the checkpoint's own.
        s.resumeFrom = m_resumeFrom;
        for (const ResumeSetting setting : kResumeSettings) {
            change(s.resume, setting, s.train);
        }
        if (s.precision != QStringLiteral("auto")) {
            s.resume.precision = precisionFromName(s.precision.toStdString());
        }
    }
    return s;
}

bool TrainView::running() const {
    return m_training;
}

bool TrainView::prepareResume(const QString& checkpoint) {
    ResumePoint point;
    try {
        point = readResumePoint(checkpoint.toStdString());
    } catch (const Error& e) {
        // Window-modal and not waited for: the event loop (and any training) goes on.
        QMessageBox* box =
            plainWarning(this, tr("Cannot resume"), QString::fromStdString(e.what()));
        box->setObjectName(QStringLiteral("resumeError"));
        box->open();
        return false;
    }
    m_form->showCheckpoint(point);
    // The run goes on writing the model that goes with the checkpoint.
    const QFileInfo file(checkpoint);
    QString model = file.fileName();
    model.replace(QStringLiteral(".checkpoint.cattery"), QStringLiteral(".cattery"));
    outputEdit()->setText(file.dir().filePath(model));
    m_resumeFrom = checkpoint;
    m_resumeNote->setText(
        tr("Start resumes %1 at step %2. Its architecture and most settings are its own; the "
           "steps, learning rates, halving, precision and augmentation may be changed first.")
            .arg(file.fileName())
            .arg(point.step));
    m_resumeNote->show();
    m_newRun->show();
    m_start->setText(tr("&Resume"));
    updateButtons();
    return true;
}

void TrainView::newRun() {
    m_resumeFrom.clear();
    m_form->unlock();
    m_resumeNote->hide();
    m_newRun->hide();
    m_start->setText(tr("&Start"));
    updateButtons();
}

void TrainView::resume(const QString& checkpoint) {
    if (prepareResume(checkpoint)) {
        start();
    }
}

void TrainView::start() {
    if (!m_scanOk || m_worker->isRunning() || outputEdit()->text().isEmpty()) {
        if (!m_scanOk) {
            QMessageBox::information(this, tr("Choose the images first"),
                                     tr("Choose the folder of images to train on, then start."));
        }
        return;
    }
    const TrainSettings request = settings();
    m_monitor->reset(QFileInfo(outputEdit()->text()).absolutePath(),
                     request.train.objective == Objective::Hinge);
    m_monitor->setRunFiles(
        request.folder, request.modelPath,
        QString::fromStdString(checkpointPathFor(request.modelPath.toStdString())),
        request.resumeFrom);
    m_lastStep = 0;
    m_training = true;
    m_progress->setRange(0, stepsBox()->value());
    m_progress->setValue(0);
    m_progress->setFormat(tr("Starting..."));
    m_worker->train(request);
    updateButtons();
}

void TrainView::togglePause() {
    if (!m_training) {
        return;
    }
    m_worker->setPaused(!m_worker->paused());
    m_pause->setText(m_worker->paused() ? tr("&Resume") : tr("&Pause"));
    m_progress->setFormat(m_worker->paused() ? tr("Paused at step %1").arg(m_lastStep)
                                             : m_progress->format());
}

void TrainView::stopTraining() {
    if (m_training) {
        m_worker->stop();
        m_worker->setPaused(false);
        m_progress->setFormat(tr("Stopping: saving a checkpoint..."));
    }
}

void TrainView::stopAndWait() {
    stopTraining();
    m_worker->wait();
}

void TrainView::onProgress(const TrainProgress& p) {
    m_lastStep = p.step;
    m_progress->setRange(0, static_cast<int>(p.total));
    m_progress->setValue(static_cast<int>(p.step));
    if (!m_worker->paused()) {
        m_progress->setFormat(tr("step %1 / %2 - %3 images/s - ETA %4")
                                  .arg(p.step)
                                  .arg(p.total)
                                  .arg(p.imagesPerSecond, 0, 'f', 1)
                                  .arg(QString::fromStdString(formatDuration(p.etaSeconds))));
    }
    m_monitor->addProgress(p);
}

void TrainView::onFinished(bool stopped, const QString& modelPath, const QString& kept) {
    m_training = false;
    newRun();
    m_progress->setFormat(stopped ? tr("Stopped at step %1: %2 saved").arg(m_lastStep).arg(kept)
                                  : tr("Finished: %1 (%2)").arg(modelPath, kept));
    m_pause->setText(tr("&Pause"));
    updateButtons();
    Q_EMIT trainingFinished(modelPath);
}

void TrainView::onFailed(const QString& message) {
    if (m_training) {
        m_training = false;
        m_progress->setFormat(tr("Failed"));
        m_monitor->addWarning(tr("Training stopped: %1").arg(message));
        plainWarning(this, tr("Training failed"), message)->exec();
    } else {
        m_report->setText(tr("Could not read the images: %1").arg(message));
    }
    updateButtons();
}

void TrainView::updateButtons() {
    const bool busy = m_worker->isRunning();
    m_start->setEnabled(m_scanOk && !busy && !m_training);
    m_start->setToolTip(m_scanOk ? tr("Train a new model on these images")
                                 : tr("Choose a folder with usable images first"));
    m_pause->setEnabled(m_training);
    m_stop->setEnabled(m_training);
}

}  // namespace cattery::ui
