#include "ui/trainview.h"

#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QListWidget>
#include <QMessageBox>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QSlider>
#include <QSpinBox>
#include <QSplitter>
#include <QStandardItemModel>
#include <QStandardPaths>
#include <QVBoxLayout>
#include <QValueAxis>

#include "core/errors.h"
#include "core/io/container.h"
#include "core/io/video.h"
#include "core/runtime/hardware.h"
#include "core/runtime/image.h"
#include "core/runtime/precision.h"
#include "core/train/progress.h"
#include "core/train/resume.h"
#include "ui/cellgrid.h"
#include "ui/latentmath.h"

namespace cattery::ui {
namespace {

struct Preset {
    const char* name;
    int size;
    qint64 steps;
    int batch;
};
constexpr Preset kPresets[] = {
    {"Quick: 32x32, a few minutes on a CPU", 32, 2000, 16},
    {"Standard: 64x64", 64, 20000, 16},
    {"Large: 128x128, for a GPU", 128, 100000, 16},
};

QSpinBox* intBox(int lo, int hi, int value, const QString& tip, QWidget* parent) {
    auto* box = new QSpinBox(parent);
    box->setRange(lo, hi);
    box->setValue(value);
    box->setToolTip(tip);
    return box;
}

QDoubleSpinBox* realBox(double lo, double hi, double value, int decimals, double step,
                        const QString& tip, QWidget* parent) {
    auto* box = new QDoubleSpinBox(parent);
    box->setRange(lo, hi);
    box->setDecimals(decimals);
    box->setSingleStep(step);
    box->setValue(value);
    box->setToolTip(tip);
    return box;
}

QLineSeries* series(const QString& name, QChart* chart) {
    auto* s = new QLineSeries(chart);
    s->setName(name);
    chart->addSeries(s);
    return s;
}

}  // namespace

TrainView::TrainView(QWidget* parent) : QWidget(parent), m_worker(new TrainWorker(this)) {
    const TrainSettings defaults;
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

    // Data.
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
    dataLayout->addWidget(m_report);
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
    left->addWidget(dataBox);

    // Settings.
    auto* settingsBox = new QGroupBox(tr("Settings"), this);
    auto* form = new QFormLayout(settingsBox);
    m_preset = new QComboBox(this);
    for (const Preset& p : kPresets) {
        m_preset->addItem(tr(p.name));
    }
    form->addRow(tr("Preset:"), m_preset);
    m_output = new QLineEdit(this);
    m_output->setToolTip(tr("The new model file; its checkpoint and snapshots go beside it"));
    form->addRow(tr("Model file:"), m_output);
    m_size =
        intBox(32, 128, defaults.arch.imageSize, tr("Image size: 32, 48, 64, 80, 96 or 128"), this);
    m_size->setSingleStep(16);
    // Only the sizes the networks are built for: a typed 40 becomes 48.
    connect(m_size, &QSpinBox::valueChanged, this, [this](int size) {
        int nearest = kImageSizes.front();
        for (const int allowed : kImageSizes) {
            if (std::abs(allowed - size) <= std::abs(nearest - size)) {
                nearest = allowed;
            }
        }
        if (nearest != size) {
            m_size->setValue(nearest);
        }
    });
    m_steps = intBox(1, 10000000, static_cast<int>(defaults.train.steps), tr("Steps in all"), this);
    form->addRow(tr("Image size:"), m_size);
    form->addRow(tr("Steps:"), m_steps);
    // Every other knob, folded away until asked for.
    auto* advanced = new QGroupBox(tr("Advanced"), this);
    advanced->setCheckable(true);
    advanced->setChecked(false);
    auto* advancedBody = new QWidget(advanced);
    (new QVBoxLayout(advanced))->addWidget(advancedBody);
    advancedBody->setVisible(false);
    advanced->setFlat(true);  // no empty frame while folded
    connect(advanced, &QGroupBox::toggled, advancedBody, [advanced, advancedBody](bool open) {
        advancedBody->setVisible(open);
        advanced->setFlat(!open);
    });
    auto* adv = new QFormLayout(advancedBody);
    // Every range is the one validate() enforces (or inside it), so no value here is refused.
    m_latent = intBox(kLatentDimRange.lo, kLatentDimRange.hi, defaults.arch.latentDim,
                      tr("Latent dimension (the demo: 100)"), this);
    m_nf = intBox(kNfRange.lo, kNfRange.hi, defaults.arch.nf,
                  tr("Generator width: stages of 8, 4, 2 and 1 times this"), this);
    m_ndf = intBox(kNdfRange.lo, kNdfRange.hi, defaults.arch.ndf,
                   tr("Discriminator filters per convolution"), this);
    m_batch = intBox(1, kMaxBatchSize, defaults.train.batchSize,
                     tr("Images per step (the demo: 16)"), this);
    m_lr = realBox(1e-6, kMaxLearningRate, defaults.train.learningRate, 6, 1e-5,
                   tr("Adam learning rate of the generator (the demo: 1e-4 to 1e-3)"), this);
    m_lrD = realBox(0.01, kMaxDiscriminatorLrScale, defaults.train.discriminatorLrScale, 2, 0.5,
                    tr("The discriminator's learning rate as a multiple of the generator's "
                       "(two time-scale updates; 1: the same rate)"),
                    this);
    m_gamma = realBox(0.05, 1.0, defaults.train.gamma, 2, 0.05,
                      tr("BEGAN gamma: lower gives sharper, less varied pictures (the demo: "
                         "0.7 to 0.8; 1.0 scores closer to the data in our runs)"),
                      this);
    m_lambdaK = realBox(0.0, 1.0, defaults.train.lambdaK, 4, 0.001,
                        tr("How fast k_t follows the balance between the two losses"), this);
    m_sampleEvery = intBox(1, 1000000, static_cast<int>(defaults.train.sampleEvery),
                           tr("Refresh the sample grid every N steps"), this);
    m_checkpointEvery = intBox(1, 1000000, static_cast<int>(defaults.train.checkpointEvery),
                               tr("Save a checkpoint and a snapshot every N steps"), this);
    m_seed = intBox(0, std::numeric_limits<int>::max(), static_cast<int>(defaults.train.seed),
                    tr("Seed of the weights, batches and sample latents"), this);
    m_batchNorm = new QCheckBox(tr("Batch norm in the generator"), this);
    m_batchNorm->setChecked(defaults.arch.batchNorm);
    m_flip = new QCheckBox(tr("Mirror images at random"), this);
    m_flip->setChecked(defaults.train.augment.flip);
    m_bottleneck = intBox(kBottleneckRange.lo, kBottleneckRange.hi, defaults.arch.bottleneck,
                          tr("Size of the discriminator's fully connected code (BEGAN's h)"), this);
    m_repeats = intBox(kRepeatsRange.lo, kRepeatsRange.hi, defaults.arch.repeats,
                       tr("Convolutions per stage"), this);
    m_separable = new QCheckBox(tr("Depthwise-separable convolutions (faster, smaller)"), this);
    m_separable->setChecked(defaults.arch.separable);
    m_zSkip = new QCheckBox(tr("A map of z after each generator stage (the demo's z skip)"), this);
    m_zSkip->setChecked(defaults.arch.zSkip);
    m_beta1 =
        realBox(0.0, 0.999, defaults.train.beta1, 3, 0.05, tr("Adam beta1 (the demo: 0.5)"), this);
    m_beta2 = realBox(0.0, 0.9999, defaults.train.beta2, 4, 0.001, tr("Adam beta2"), this);
    m_average = realBox(0.0, 0.9999, defaults.train.averageDecay, 4, 0.001,
                        tr("The model is a running average of the generator's weights, each step "
                           "keeping this much of the average (0: the last step's weights). "
                           "Smoother pictures; on the procedural cats it scored worse."),
                        this);
    m_lrHalveEvery = intBox(0, 10000000, static_cast<int>(defaults.train.lrHalveEvery),
                            tr("Halve the learning rate every N steps (0: never)"), this);
    m_lrStall = intBox(0, 10000000, static_cast<int>(defaults.train.lrStallSteps),
                       tr("Halve it when M has not improved for N steps (0: never)"), this);
    m_minLr = realBox(1e-7, 1e-2, defaults.train.minLearningRate, 7, 1e-6,
                      tr("Never halve the learning rate below this"), this);
    m_rotate = realBox(0.0, kMaxRotateDegrees, defaults.train.augment.rotateDegrees, 1, 1.0,
                       tr("Turn images by up to this many degrees either way (0: off)"), this);
    m_zoom = realBox(0.0, kMaxScaleJitter, defaults.train.augment.scaleJitter, 2, 0.01,
                     tr("Zoom in or out by up to this fraction (0: off)"), this);
    m_shift = realBox(0.0, kMaxShift, defaults.train.augment.shift, 2, 0.01,
                      tr("Move by up to this fraction of the size, a random crop (0: off)"), this);
    m_sampleCount = intBox(1, kMaxSampleCount, defaults.train.sampleCount,
                           tr("How many fixed sample latents the sample grid shows"), this);
    m_maxRollbacks = intBox(0, 100, defaults.train.maxRollbacks,
                            tr("NaN rollbacks in a row before training gives up"), this);
    // The discriminator's rate times the generator's stays within what validate() takes.
    const auto limitDiscriminatorRate = [this](double lr) {
        m_lrD->setMaximum(std::min(kMaxDiscriminatorLrScale, kMaxLearningRate / lr));
    };
    connect(m_lr, &QDoubleSpinBox::valueChanged, this, limitDiscriminatorRate);
    limitDiscriminatorRate(m_lr->value());
    m_threads = intBox(0, 1024, 0,
                       tr("CPU threads for training. Automatic uses the CPUs this process may use "
                          "and fewer while other programs keep some busy (fewer threads then "
                          "train faster); drawing keeps to one thread meanwhile"),
                       this);
    m_threads->setSpecialValueText(tr("Automatic"));
    m_threads->setValue(QSettings().value(QStringLiteral("train/threads"), 0).toInt());
    connect(m_threads, &QSpinBox::valueChanged, this,
            [](int n) { QSettings().setValue(QStringLiteral("train/threads"), n); });
    m_threads->setObjectName(QStringLiteral("threads"));
    // Object names let scripts and tests find every knob.
    m_latent->setObjectName(QStringLiteral("latent"));
    m_nf->setObjectName(QStringLiteral("nf"));
    m_ndf->setObjectName(QStringLiteral("ndf"));
    m_batch->setObjectName(QStringLiteral("batch"));
    m_sampleEvery->setObjectName(QStringLiteral("sampleEvery"));
    m_checkpointEvery->setObjectName(QStringLiteral("checkpointEvery"));
    m_lr->setObjectName(QStringLiteral("learningRate"));
    m_lrD->setObjectName(QStringLiteral("discriminatorRate"));
    m_rotate->setObjectName(QStringLiteral("rotate"));
    m_flip->setObjectName(QStringLiteral("flip"));
    adv->addRow(tr("Latent:"), m_latent);
    adv->addRow(tr("Generator width:"), m_nf);
    adv->addRow(tr("Discriminator width:"), m_ndf);
    adv->addRow(tr("Batch:"), m_batch);
    adv->addRow(tr("Learning rate:"), m_lr);
    adv->addRow(tr("Discriminator rate x:"), m_lrD);
    adv->addRow(tr("Gamma:"), m_gamma);
    adv->addRow(tr("lambda_k:"), m_lambdaK);
    adv->addRow(tr("Samples every:"), m_sampleEvery);
    adv->addRow(tr("Checkpoint every:"), m_checkpointEvery);
    adv->addRow(tr("Seed:"), m_seed);
    adv->addRow(tr("Bottleneck:"), m_bottleneck);
    adv->addRow(tr("Repeats:"), m_repeats);
    adv->addRow(tr("Adam beta1:"), m_beta1);
    adv->addRow(tr("Adam beta2:"), m_beta2);
    adv->addRow(tr("Weight average:"), m_average);
    adv->addRow(tr("Halve lr every:"), m_lrHalveEvery);
    adv->addRow(tr("Halve lr after a stall of:"), m_lrStall);
    adv->addRow(tr("Lowest lr:"), m_minLr);
    adv->addRow(tr("Sample count:"), m_sampleCount);
    adv->addRow(tr("Rollbacks before giving up:"), m_maxRollbacks);
    adv->addRow(tr("Threads:"), m_threads);
    adv->addRow(tr("Rotation:"), m_rotate);
    adv->addRow(tr("Zoom:"), m_zoom);
    adv->addRow(tr("Shift:"), m_shift);
    adv->addRow(m_batchNorm);
    adv->addRow(m_separable);
    adv->addRow(m_zSkip);
    adv->addRow(m_flip);
    m_deviceChoice = new QComboBox(this);
    m_deviceChoice->setObjectName(QStringLiteral("device"));
    m_deviceChoice->setToolTip(tr("Where the networks train: the GPU when there is one"));
    for (const DeviceChoice& choice : deviceChoices()) {
        m_deviceChoice->addItem(QString::fromStdString(choice.label),
                                QString::fromStdString(choice.key));
        if (!choice.available) {
            // Listed, so that one sees what is missing, but not choosable.
            auto* model = qobject_cast<QStandardItemModel*>(m_deviceChoice->model());
            model->item(m_deviceChoice->count() - 1)->setEnabled(false);
        }
    }
    form->addRow(tr("Device:"), m_deviceChoice);
    m_precisionChoice = new QComboBox(this);
    m_precisionChoice->addItem(cpuHasNativeBf16() ? tr("Automatic (bf16 on this CPU)")
                                                  : tr("Automatic (fp32 on this CPU)"),
                               QStringLiteral("auto"));
    m_precisionChoice->addItem(tr("fp32"), QStringLiteral("fp32"));
    m_precisionChoice->addItem(tr("bf16"), QStringLiteral("bf16"));
    m_precisionChoice->setToolTip(
        tr("bf16 runs the convolutions in bfloat16: several times faster on a CPU with "
           "AVX-512 BF16 or AMX, and slower where it has to be emulated"));
    m_precisionChoice->setObjectName(QStringLiteral("precision"));
    form->addRow(tr("Precision:"), m_precisionChoice);
    // The device and precision are remembered from one session to the next.
    for (const auto& [box, key] :
         {std::pair{m_deviceChoice, QStringLiteral("train/device")},
          std::pair{m_precisionChoice, QStringLiteral("train/precision")}}) {
        const int saved = box->findData(QSettings().value(key));
        const auto* items = qobject_cast<QStandardItemModel*>(box->model());
        if (saved >= 0 && items->item(saved)->isEnabled()) {
            box->setCurrentIndex(saved);
        }
        connect(box, &QComboBox::currentIndexChanged, this,
                [box = box, key = key] { QSettings().setValue(key, box->currentData()); });
    }
    form->addRow(advanced);
    left->addWidget(settingsBox);

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
            this, tr("Resume From Checkpoint"), QFileInfo(m_output->text()).absolutePath(),
            tr("Cattery checkpoints (*.checkpoint.cattery);;Cattery files (*.cattery)"));
        if (!file.isEmpty()) {
            prepareResume(file);
        }
    });
    left->addLayout(controls);
    auto* resumeRow = new QHBoxLayout;
    m_resumeNote = new QLabel(this);
    m_resumeNote->setWordWrap(true);
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
    left->addWidget(m_device);
    left->addStretch(1);

    // Live: plots, samples, warnings, checkpoints.
    auto* right = new QVBoxLayout;
    layout->addLayout(right, 1);
    auto* lossChart = new QChart;
    lossChart->setTitle(tr("Losses"));
    m_lossReal = series(tr("L(x)"), lossChart);
    m_lossFake = series(tr("L(G(z))"), lossChart);
    m_convergence = series(tr("M"), lossChart);
    m_lossX = new QValueAxis(lossChart);
    m_lossY = new QValueAxis(lossChart);
    m_lossX->setLabelFormat(QStringLiteral("%d"));
    m_lossX->setRange(0, 100);
    lossChart->addAxis(m_lossX, Qt::AlignBottom);
    lossChart->addAxis(m_lossY, Qt::AlignLeft);
    for (auto* s : {m_lossReal, m_lossFake, m_convergence}) {
        s->attachAxis(m_lossX);
        s->attachAxis(m_lossY);
    }
    auto* balanceChart = new QChart;
    balanceChart->setTitle(tr("Balance"));
    m_k = series(tr("k_t"), balanceChart);
    m_lrSeries = series(tr("learning rate (x1000)"), balanceChart);
    m_balanceX = new QValueAxis(balanceChart);
    m_balanceX->setLabelFormat(QStringLiteral("%d"));
    m_balanceX->setRange(0, 100);
    auto* balanceY = new QValueAxis(balanceChart);
    balanceY->setRange(0, 1);
    balanceChart->addAxis(m_balanceX, Qt::AlignBottom);
    balanceChart->addAxis(balanceY, Qt::AlignLeft);
    for (auto* s : {m_k, m_lrSeries}) {
        s->attachAxis(m_balanceX);
        s->attachAxis(balanceY);
    }
    auto* charts = new QHBoxLayout;
    for (QChart* c : {lossChart, balanceChart}) {
        auto* view = new QChartView(c, this);
        view->setRenderHint(QPainter::Antialiasing);
        view->setMinimumSize(300, 220);
        charts->addWidget(view);
    }
    right->addLayout(charts, 1);
    auto* sampleRow = new QHBoxLayout;
    m_samples = new CellGrid(this);
    m_samples->setColumns(4);
    m_samples->setCellCount(16);
    m_samples->setZoom(2);
    sampleRow->addWidget(m_samples);
    auto* sampleSide = new QVBoxLayout;
    m_timelineLabel = new QLabel(tr("Samples appear as training goes."), this);
    m_timeline = new QSlider(Qt::Horizontal, this);
    m_timeline->setEnabled(false);
    m_timeline->setToolTip(tr("Scrub back through earlier samples"));
    auto* animation = new QPushButton(tr("Export Animation..."), this);
    animation->setToolTip(tr("Every sample snapshot, in order, as an MP4 video"));
    sampleSide->addWidget(m_timelineLabel);
    sampleSide->addWidget(m_timeline);
    sampleSide->addWidget(animation);
    sampleSide->addWidget(new QLabel(tr("Warnings:"), this));
    m_warnings = new QListWidget(this);
    m_warnings->setMaximumHeight(90);
    m_warnings->setWordWrap(true);
    m_warnings->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_warnings->setTextElideMode(Qt::ElideNone);
    sampleSide->addWidget(m_warnings);
    sampleSide->addWidget(new QLabel(tr("Checkpoints (double-click to explore):"), this));
    m_checkpoints = new QListWidget(this);
    sampleSide->addWidget(m_checkpoints);
    auto* openCheckpoint = new QPushButton(tr("Open in Explorer"), this);
    sampleSide->addWidget(openCheckpoint);
    sampleRow->addLayout(sampleSide, 1);
    right->addLayout(sampleRow);

    connect(browse, &QPushButton::clicked, this, [this] {
        const QString dir =
            QFileDialog::getExistingDirectory(this, tr("Folder of Images"), m_folder->text());
        if (!dir.isEmpty()) {
            setFolder(dir);
        }
    });
    connect(m_folder, &QLineEdit::editingFinished, this, [this] { setFolder(m_folder->text()); });
    connect(m_preset, &QComboBox::currentIndexChanged, this, &TrainView::applyPreset);
    connect(m_size, &QSpinBox::editingFinished, this,
            [this] { m_size->setValue(std::clamp((m_size->value() + 8) / 16 * 16, 32, 128)); });
    connect(m_start, &QPushButton::clicked, this, &TrainView::start);
    connect(m_pause, &QPushButton::clicked, this, &TrainView::togglePause);
    connect(m_stop, &QPushButton::clicked, this, &TrainView::stopTraining);
    connect(m_timeline, &QSlider::valueChanged, this, &TrainView::showSnapshot);
    connect(animation, &QPushButton::clicked, this, &TrainView::exportAnimation);
    const auto openSelected = [this] {
        if (auto* item = m_checkpoints->currentItem()) {
            Q_EMIT openModelRequested(item->data(Qt::UserRole).toString());
        }
    };
    connect(openCheckpoint, &QPushButton::clicked, this, openSelected);
    connect(m_checkpoints, &QListWidget::itemDoubleClicked, this, openSelected);
    connect(m_worker, &TrainWorker::scanned, this, &TrainView::onScanned);
    connect(m_worker, &TrainWorker::progress, this, &TrainView::onProgress);
    connect(m_worker, &TrainWorker::samples, this, &TrainView::onSamples);
    connect(m_worker, &TrainWorker::checkpointSaved, this, &TrainView::onCheckpoint);
    connect(m_worker, &TrainWorker::warning, this, &TrainView::addWarning);
    connect(m_worker, &TrainWorker::finished, this, &TrainView::onFinished);
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
    applyPreset(0);
    updateButtons();
}

TrainView::~TrainView() = default;

void TrainView::applyPreset(int index) {
    const Preset& p = kPresets[std::clamp(index, 0, 2)];
    m_size->setValue(p.size);
    m_steps->setValue(static_cast<int>(p.steps));
    m_batch->setValue(p.batch);
    if (!m_folder->text().isEmpty()) {
        setFolder(m_folder->text());
    }
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
    if (m_output->text().isEmpty()) {
        const QString base = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation) +
                             QStringLiteral("/Cattery");
        m_output->setText(
            QDir(base).filePath(QFileInfo(folder).completeBaseName() + QStringLiteral(".cattery")));
    }
    if (m_worker->isRunning()) {
        m_rescan = !m_training;
        updateButtons();
        return;
    }
    m_report->setText(tr("Reading %1...").arg(folder));
    m_worker->scan(folder, m_size->value());
    updateButtons();
}

void TrainView::onScanned(const DataReport& report) {
    if (report.folder != m_folder->text()) {
        return;
    }
    m_scanOk = report.error.isEmpty() && report.used > 0;
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

TrainSettings TrainView::settings() const {
    TrainSettings s;
    s.folder = m_folder->text();
    s.modelPath = m_output->text();
    s.arch.imageSize = m_size->value();
    s.arch.latentDim = m_latent->value();
    s.arch.nf = m_nf->value();
    s.arch.ndf = m_ndf->value();
    s.train.batchSize = m_batch->value();
    s.train.steps = m_steps->value();
    s.train.learningRate = m_lr->value();
    s.train.discriminatorLrScale = m_lrD->value();
    s.train.gamma = m_gamma->value();
    s.train.lambdaK = m_lambdaK->value();
    s.train.sampleEvery = m_sampleEvery->value();
    s.train.checkpointEvery = m_checkpointEvery->value();
    s.train.seed = static_cast<std::uint64_t>(m_seed->value());
    s.arch.batchNorm = m_batchNorm->isChecked();
    s.train.augment.flip = m_flip->isChecked();
    s.device = m_deviceChoice->currentData().toString();
    s.precision = m_precisionChoice->currentData().toString();
    s.arch.bottleneck = m_bottleneck->value();
    s.arch.repeats = m_repeats->value();
    s.arch.separable = m_separable->isChecked();
    s.arch.zSkip = m_zSkip->isChecked();
    s.train.beta1 = m_beta1->value();
    s.train.beta2 = m_beta2->value();
    s.train.averageDecay = m_average->value();
    s.train.lrHalveEvery = m_lrHalveEvery->value();
    s.train.lrStallSteps = m_lrStall->value();
    s.train.minLearningRate = m_minLr->value();
    s.train.augment.rotateDegrees = m_rotate->value();
    s.train.augment.scaleJitter = m_zoom->value();
    s.train.augment.shift = m_shift->value();
    s.train.sampleCount = m_sampleCount->value();
    s.train.maxRollbacks = m_maxRollbacks->value();
    s.threads = m_threads->value();
    if (!m_resumeFrom.isEmpty()) {
        s.resumeFrom = m_resumeFrom;
        s.resume.steps = s.train.steps;
        s.resume.learningRate = s.train.learningRate;
        s.resume.discriminatorLrScale = s.train.discriminatorLrScale;
        s.resume.lrHalveEvery = s.train.lrHalveEvery;
        if (s.precision != QStringLiteral("auto")) {
            s.resume.precision = precisionFromName(s.precision.toStdString());
        }
        s.resume.flip = s.train.augment.flip;
        s.resume.rotateDegrees = s.train.augment.rotateDegrees;
        s.resume.scaleJitter = s.train.augment.scaleJitter;
        s.resume.shift = s.train.augment.shift;
    }
    return s;
}

bool TrainView::running() const {
    return m_training;
}

QList<QWidget*> TrainView::checkpointSettings() const {
    return {m_preset, m_size,        m_latent,      m_nf,          m_ndf,
            m_batch,  m_gamma,       m_lambdaK,     m_sampleEvery, m_checkpointEvery,
            m_seed,   m_batchNorm,   m_bottleneck,  m_repeats,     m_separable,
            m_zSkip,  m_beta1,       m_beta2,       m_average,     m_lrStall,
            m_minLr,  m_sampleCount, m_maxRollbacks};
}

bool TrainView::prepareResume(const QString& checkpoint) {
    ResumePoint point;
    try {
        point =
            resumePoint(readContainerHeader(checkpoint.toStdString()), checkpoint.toStdString());
    } catch (const Error& e) {
        // Window-modal and not waited for: the event loop (and any training) goes on.
        auto* box = new QMessageBox(QMessageBox::Warning, tr("Cannot resume"),
                                    QString::fromStdString(e.what()), QMessageBox::Ok, this);
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->setObjectName(QStringLiteral("resumeError"));
        box->open();
        return false;
    }
    const ArchConfig& a = point.arch;
    const TrainConfig& c = point.config;
    m_size->setValue(a.imageSize);
    m_latent->setValue(a.latentDim);
    m_nf->setValue(a.nf);
    m_ndf->setValue(a.ndf);
    m_bottleneck->setValue(a.bottleneck);
    m_repeats->setValue(a.repeats);
    m_batchNorm->setChecked(a.batchNorm);
    m_separable->setChecked(a.separable);
    m_zSkip->setChecked(a.zSkip);
    m_batch->setValue(c.batchSize);
    m_gamma->setValue(c.gamma);
    m_lambdaK->setValue(c.lambdaK);
    m_sampleEvery->setValue(static_cast<int>(c.sampleEvery));
    m_checkpointEvery->setValue(static_cast<int>(c.checkpointEvery));
    m_seed->setValue(static_cast<int>(c.seed));
    m_beta1->setValue(c.beta1);
    m_beta2->setValue(c.beta2);
    m_average->setValue(c.averageDecay);
    m_lrStall->setValue(static_cast<int>(c.lrStallSteps));
    m_minLr->setValue(c.minLearningRate);
    m_sampleCount->setValue(c.sampleCount);
    m_maxRollbacks->setValue(c.maxRollbacks);
    // What may change, as the checkpoint has it; a finished run offers as many steps again.
    m_steps->setValue(static_cast<int>(std::min<std::int64_t>(
        point.step < c.steps ? c.steps : point.step + c.steps, m_steps->maximum())));
    m_lr->setValue(c.learningRate);
    m_lrD->setValue(c.discriminatorLrScale);
    m_lrHalveEvery->setValue(static_cast<int>(c.lrHalveEvery));
    m_precisionChoice->setCurrentIndex(
        m_precisionChoice->findData(QString::fromStdString(precisionName(c.precision))));
    m_flip->setChecked(c.augment.flip);
    m_rotate->setValue(c.augment.rotateDegrees);
    m_zoom->setValue(c.augment.scaleJitter);
    m_shift->setValue(c.augment.shift);
    for (QWidget* w : checkpointSettings()) {
        w->setEnabled(false);
    }
    // The run goes on writing the model that goes with the checkpoint.
    const QFileInfo file(checkpoint);
    QString model = file.fileName();
    model.replace(QStringLiteral(".checkpoint.cattery"), QStringLiteral(".cattery"));
    m_output->setText(file.dir().filePath(model));
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
    for (QWidget* w : checkpointSettings()) {
        w->setEnabled(true);
    }
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
    if (!m_scanOk || m_worker->isRunning() || m_output->text().isEmpty()) {
        if (!m_scanOk) {
            QMessageBox::information(this, tr("Choose the images first"),
                                     tr("Choose the folder of images to train on, then start."));
        }
        return;
    }
    for (auto* s : {m_lossReal, m_lossFake, m_convergence, m_k, m_lrSeries}) {
        s->clear();
    }
    m_snapshots.clear();
    m_checkpoints->clear();
    m_warnings->clear();
    m_maxLoss = 0.1;
    m_lastStep = 0;
    m_training = true;
    m_progress->setRange(0, m_steps->value());
    m_progress->setValue(0);
    m_progress->setFormat(tr("Starting..."));
    m_worker->train(settings());
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
    const double x = static_cast<double>(p.step);
    m_lossReal->append(x, p.lossReal);
    m_lossFake->append(x, p.lossFake);
    m_convergence->append(x, p.convergence);
    m_k->append(x, p.k);
    m_lrSeries->append(x, p.learningRate * 1000.0);
    m_maxLoss = std::max({m_maxLoss, p.lossReal, p.lossFake, p.convergence});
    m_lossX->setRange(0, std::max<double>(1, x));
    m_balanceX->setRange(0, std::max<double>(1, x));
    m_lossY->setRange(0, m_maxLoss * 1.05);
}

void TrainView::onSamples(qint64 step, const QVector<QImage>& images) {
    m_snapshots.push_back({step, images});
    const bool atEnd = m_timeline->value() == m_timeline->maximum();
    m_timeline->setEnabled(true);
    m_timeline->setRange(0, m_snapshots.size() - 1);
    if (atEnd || m_snapshots.size() == 1) {
        m_timeline->setValue(m_snapshots.size() - 1);
        showSnapshot(m_snapshots.size() - 1);
    }
}

void TrainView::showSnapshot(int index) {
    if (index < 0 || index >= m_snapshots.size()) {
        return;
    }
    const auto& [step, images] = m_snapshots[index];
    const int pixels = images.isEmpty() ? 32 : images.first().width();
    m_samples->setImageSize(pixels);
    // About 384 pixels across for four columns: x3 at 32, x1 from 64 up.
    m_samples->setZoom(std::clamp(384 / (4 * pixels), 1, 8));
    m_samples->setCellCount(static_cast<int>(images.size()));
    m_samples->setImages(images);
    m_timelineLabel->setText(tr("Samples at step %1").arg(step));
}

void TrainView::onCheckpoint(const QString& path, qint64 step, double convergence) {
    auto* item = new QListWidgetItem(tr("step %1 - M %2").arg(step).arg(convergence, 0, 'f', 4));
    item->setData(Qt::UserRole, path);
    item->setToolTip(path);
    m_checkpoints->addItem(item);
}

void TrainView::addWarning(const QString& message) {
    // Core words its warnings as lines of the CLI's output ("warning: the samples ..."): a
    // sentence here.
    QString sentence = message;
    if (!sentence.isEmpty()) {
        sentence[0] = sentence[0].toUpper();
    }
    m_warnings->addItem(sentence);
    m_warnings->scrollToBottom();
}

void TrainView::onFinished(bool stopped, const QString& modelPath) {
    m_training = false;
    newRun();
    m_progress->setFormat(stopped ? tr("Stopped at step %1: model saved").arg(m_lastStep)
                                  : tr("Finished: %1").arg(modelPath));
    m_pause->setText(tr("&Pause"));
    updateButtons();
    Q_EMIT trainingFinished(modelPath);
}

void TrainView::onFailed(const QString& message) {
    if (m_training) {
        m_training = false;
        m_progress->setFormat(tr("Failed"));
        addWarning(tr("Training stopped: %1").arg(message));
        QMessageBox::warning(this, tr("Training failed"), message);
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

void TrainView::exportAnimation() {
    if (m_snapshots.isEmpty()) {
        QMessageBox::information(this, tr("No samples yet"),
                                 tr("Samples appear every few steps once training runs."));
        return;
    }
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export Animation"),
        QFileInfo(m_output->text()).absolutePath() + QStringLiteral("/training.mp4"),
        tr("MP4 videos (*.mp4)"));
    if (path.isEmpty()) {
        return;
    }
    std::vector<RgbImage> frames;
    for (const auto& [step, images] : m_snapshots) {
        CellGrid grid;
        grid.setColumns(4);
        grid.setCellCount(static_cast<int>(images.size()));
        grid.setImageSize(images.isEmpty() ? 32 : images.first().width());
        grid.setImages(images);
        QImage frame = grid.gridImage();
        QImage labelled(frame.width(), frame.height() + 14, QImage::Format_RGB888);
        labelled.fill(Qt::white);
        QPainter p(&labelled);
        p.drawImage(0, 0, frame);
        QFont font = p.font();
        font.setPixelSize(10);
        p.setFont(font);
        p.setPen(Qt::black);
        p.drawText(QRect(0, frame.height(), frame.width(), 14), Qt::AlignCenter,
                   tr("step %1").arg(step));
        p.end();
        frames.push_back(toRgbImage(labelled));
    }
    try {
        writeVideo(path.toStdString(), frames, 4.0, 3);
    } catch (const Error& e) {
        QMessageBox::warning(this, tr("Could not export the animation"),
                             QString::fromStdString(e.what()));
    }
}

}  // namespace cattery::ui
