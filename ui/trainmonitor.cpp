#include "ui/trainmonitor.h"

#include <atomic>
#include <initializer_list>

#include <QChart>
#include <QChartView>
#include <QDir>
#include <QEventLoop>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineSeries>
#include <QListWidget>
#include <QMessageBox>
#include <QPainter>
#include <QProgressDialog>
#include <QPushButton>
#include <QScatterSeries>
#include <QSlider>
#include <QThread>
#include <QTimer>
#include <QVBoxLayout>
#include <QValueAxis>

#include "core/errors.h"
#include "core/io/outputs.h"
#include "core/io/video.h"
#include "core/train/progress.h"
#include "core/train/trainconfig.h"
#include "ui/cellgrid.h"
#include "ui/latentmath.h"
#include "ui/plaintext.h"
#include "ui/sheetimage.h"

namespace cattery::ui {
namespace {

constexpr int kSampleColumns = 4;
constexpr double kAnimationFps = 4.0;
constexpr int kAnimationScale = 3;
constexpr int kCaptionHeight = 14;  // "step N" under each frame

template <typename Series = QLineSeries>
Series* series(const QString& name, QChart* chart) {
    auto* s = new Series(chart);
    s->setName(name);
    chart->addSeries(s);
    return s;
}

QValueAxis* stepAxis(QChart* chart) {
    auto* axis = new QValueAxis(chart);
    axis->setLabelFormat(QStringLiteral("%d"));
    axis->setRange(0, 100);
    return axis;
}

// Puts the axes on the chart and plots every series against them.
void attachAxes(QChart* chart, QValueAxis* x, QValueAxis* y,
                std::initializer_list<QXYSeries*> plotted) {
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    for (QXYSeries* s : plotted) {
        s->attachAxis(x);
        s->attachAxis(y);
    }
}

}  // namespace

TrainMonitor::TrainMonitor(QWidget* parent) : QWidget(parent) {
    auto* right = new QVBoxLayout(this);
    right->setContentsMargins(0, 0, 0, 0);
    auto* lossChart = new QChart;
    lossChart->setTitle(tr("Losses"));
    m_lossReal = series(tr("L(x)"), lossChart);
    m_lossFake = series(tr("L(G(z))"), lossChart);
    m_convergence = series(tr("M"), lossChart);
    m_lossX = stepAxis(lossChart);
    m_lossY = new QValueAxis(lossChart);
    attachAxes(lossChart, m_lossX, m_lossY, {m_lossReal, m_lossFake, m_convergence});
    auto* balanceChart = new QChart;
    balanceChart->setTitle(tr("Balance"));
    m_k = series(tr("k_t"), balanceChart);
    m_lrSeries = series(tr("learning rate (x1000)"), balanceChart);
    m_augment = series(tr("augmentation p"), balanceChart);
    m_balanceX = stepAxis(balanceChart);
    auto* balanceY = new QValueAxis(balanceChart);
    balanceY->setRange(0, 1);
    attachAxes(balanceChart, m_balanceX, balanceY, {m_k, m_lrSeries, m_augment});
    auto* scoreChart = new QChart;
    scoreChart->setTitle(tr("Score (SWD to held-out images; lower is better)"));
    m_score = series(tr("SWD"), scoreChart);
    m_bestMark = series<QScatterSeries>(tr("best"), scoreChart);
    m_bestMark->setMarkerSize(9);
    m_scoreX = stepAxis(scoreChart);
    m_scoreY = new QValueAxis(scoreChart);
    m_scoreY->setRange(0, m_maxScore);
    attachAxes(scoreChart, m_scoreX, m_scoreY, {m_score, m_bestMark});
    auto* charts = new QHBoxLayout;
    for (QChart* c : {lossChart, balanceChart, scoreChart}) {
        auto* view = new QChartView(c, this);
        view->setRenderHint(QPainter::Antialiasing);
        view->setMinimumSize(300, 220);
        charts->addWidget(view);
    }
    right->addLayout(charts, 1);
    m_bestLabel = new QLabel(this);
    m_bestLabel->setObjectName(QStringLiteral("bestScore"));
    m_bestLabel->setTextFormat(Qt::PlainText);
    m_bestLabel->setToolTip(
        tr("The generator the model file keeps: among those as varied as the data, the latest "
           "whose samples came within %1 % of the closest to images training never saw in the "
           "later half of the run. Early in a run smooth shapes can score better than the cats "
           "with faces that come later; they stop counting once the run has gone twice as "
           "far.")
            .arg(kKeepLaterWithin * 100));
    right->addWidget(m_bestLabel);

    auto* sampleRow = new QHBoxLayout;
    m_samples = new CellGrid(this);
    m_samples->setColumns(kSampleColumns);
    m_samples->setCellCount(16);
    m_samples->setZoom(2);
    sampleRow->addWidget(m_samples);
    auto* side = new QVBoxLayout;
    m_timelineLabel = new QLabel(tr("Samples appear as training goes."), this);
    m_timelineLabel->setTextFormat(Qt::PlainText);
    m_timeline = new QSlider(Qt::Horizontal, this);
    m_timeline->setEnabled(false);
    m_timeline->setToolTip(tr("Scrub back through earlier samples"));
    auto* animation = new QPushButton(tr("Export Animation..."), this);
    animation->setToolTip(tr("Every sample snapshot, in order, as an MP4 video"));
    side->addWidget(m_timelineLabel);
    side->addWidget(m_timeline);
    side->addWidget(animation);
    side->addWidget(new QLabel(tr("Warnings:"), this));
    m_warnings = new QListWidget(this);
    m_warnings->setMaximumHeight(90);
    m_warnings->setWordWrap(true);
    m_warnings->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_warnings->setTextElideMode(Qt::ElideNone);
    side->addWidget(m_warnings);
    side->addWidget(new QLabel(tr("Checkpoints (double-click to explore):"), this));
    m_checkpoints = new QListWidget(this);
    side->addWidget(m_checkpoints);
    auto* openCheckpoint = new QPushButton(tr("Open in Explorer"), this);
    side->addWidget(openCheckpoint);
    sampleRow->addLayout(side, 1);
    right->addLayout(sampleRow);

    connect(m_timeline, &QSlider::valueChanged, this, &TrainMonitor::showSnapshot);
    connect(animation, &QPushButton::clicked, this, &TrainMonitor::chooseAnimationFile);
    const auto openSelected = [this] {
        if (auto* item = m_checkpoints->currentItem()) {
            Q_EMIT openModelRequested(item->data(Qt::UserRole).toString());
        }
    };
    connect(openCheckpoint, &QPushButton::clicked, this, openSelected);
    connect(m_checkpoints, &QListWidget::itemDoubleClicked, this, openSelected);
}

void TrainMonitor::reset(const QString& folder, bool hinge) {
    m_animationFolder = folder;
    m_lossReal->setName(hinge ? tr("rebuild error") : tr("L(x)"));
    m_lossFake->setName(hinge ? tr("D's loss on generated") : tr("L(G(z))"));
    m_convergence->setVisible(!hinge);  // the rebuild error again
    m_k->setVisible(!hinge);
    for (QXYSeries* s :
         std::initializer_list<QXYSeries*>{m_lossReal, m_lossFake, m_convergence, m_k, m_lrSeries,
                                           m_augment, m_score, m_bestMark}) {
        s->clear();
    }
    m_maxScore = 1.0;
    m_bestLabel->clear();
    m_snapshots.clear();
    m_checkpoints->clear();
    m_warnings->clear();
    m_maxLoss = 0.1;
}

void TrainMonitor::addProgress(const TrainProgress& p) {
    const double x = static_cast<double>(p.step);
    m_lossReal->append(x, p.lossReal);
    m_lossFake->append(x, p.lossFake);
    m_convergence->append(x, p.convergence);
    m_k->append(x, p.k);
    m_lrSeries->append(x, p.learningRate * 1000.0);
    m_augment->append(x, p.augmentProbability);
    m_maxLoss = std::max({m_maxLoss, p.lossReal, p.lossFake, p.convergence});
    m_lossX->setRange(0, std::max<double>(1, x));
    m_balanceX->setRange(0, std::max<double>(1, x));
    m_scoreX->setRange(0, std::max<double>(1, x));
    m_lossY->setRange(0, m_maxLoss * 1.05);
}

void TrainMonitor::addScore(qint64 step, double swd, double diversity, bool kept, double recentBest,
                            double lowest) {
    const double x = static_cast<double>(step);
    m_score->append(x, swd);
    if (kept) {
        m_bestMark->clear();  // one mark: the model kept
        m_bestMark->append(x, swd);
        m_bestLabel->setText(tr("Chosen by its score: %1")
                                 .arg(QString::fromStdString(describeKeptScore(
                                     TrainScore{step, swd, diversity}, recentBest, lowest))));
    }
    m_maxScore = std::max(m_maxScore, swd);
    m_scoreX->setRange(0, std::max<double>(1, x));
    m_scoreY->setRange(0, m_maxScore * 1.05);
}

void TrainMonitor::addSamples(qint64 step, const QVector<QImage>& images) {
    m_snapshots.push_back({step, images});
    const bool atEnd = m_timeline->value() == m_timeline->maximum();
    const int last = static_cast<int>(m_snapshots.size()) - 1;
    m_timeline->setEnabled(true);
    m_timeline->setRange(0, last);
    if (atEnd || last == 0) {
        m_timeline->setValue(last);
        showSnapshot(last);
    }
}

void TrainMonitor::showSnapshot(int index) {
    if (index < 0 || index >= m_snapshots.size()) {
        return;
    }
    const auto& [step, images] = m_snapshots[index];
    const int pixels = images.isEmpty() ? 32 : images.first().width();
    m_samples->setImageSize(pixels);
    // About 384 pixels across for four columns: x3 at 32, x1 from 64 up.
    m_samples->setZoom(std::clamp(384 / (kSampleColumns * pixels), 1, 8));
    m_samples->setCellCount(static_cast<int>(images.size()));
    m_samples->setImages(images);
    m_timelineLabel->setText(tr("Samples at step %1").arg(step));
}

void TrainMonitor::addCheckpoint(const QString& path, qint64 step, double convergence) {
    auto* item = new QListWidgetItem(tr("step %1 - M %2").arg(step).arg(convergence, 0, 'f', 4));
    item->setData(Qt::UserRole, path);
    item->setToolTip(plainTip(path));
    m_checkpoints->addItem(item);
}

void TrainMonitor::addWarning(const QString& message) {
    QString sentence = message;
    if (!sentence.isEmpty()) {
        sentence[0] = sentence[0].toUpper();
    }
    m_warnings->addItem(sentence);
    m_warnings->scrollToBottom();
}

void TrainMonitor::chooseAnimationFile() {
    if (m_snapshots.isEmpty()) {
        QMessageBox::information(this, tr("No samples yet"),
                                 tr("Samples appear every few steps once training runs."));
        return;
    }
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export Animation"),
        QDir(m_animationFolder).filePath(QStringLiteral("training.mp4")), tr("MP4 videos (*.mp4)"));
    if (!path.isEmpty()) {
        exportAnimation(path);
    }
}

void TrainMonitor::setRunFiles(const QString& images, const QString& model,
                               const QString& checkpoint, const QString& resumed) {
    m_runFiles = {{tr("the images").toStdString(), images.toStdString()},
                  {tr("the model file").toStdString(), model.toStdString()},
                  {tr("the checkpoint").toStdString(), checkpoint.toStdString()},
                  {tr("the checkpoint resumed").toStdString(), resumed.toStdString()}};
}

bool TrainMonitor::exportAnimation(const QString& path) {
    if (m_snapshots.isEmpty()) {
        return false;
    }
    try {
        checkOutputs(m_runFiles, {{tr("the animation").toStdString(), path.toStdString()}});
    } catch (const ConfigError& e) {
        plainWarning(this, tr("Nothing was written"), QString::fromStdString(e.what()))->open();
        return false;
    }
    // The frames are composed and encoded on a thread of their own; the dialog's Cancel is
    // heard between frames.
    const QVector<QPair<qint64, QVector<QImage>>> snapshots = m_snapshots;
    const auto total = static_cast<int>(snapshots.size());
    QProgressDialog dialog(tr("Writing %1...").arg(QFileInfo(path).fileName()), tr("Cancel"), 0,
                           2 * total, this);
    dialog.setWindowTitle(tr("Export Animation"));
    dialog.setWindowModality(Qt::WindowModal);
    dialog.setMinimumDuration(300);
    dialog.setObjectName(QStringLiteral("animationProgress"));
    std::atomic<int> done{0};
    std::atomic<bool> cancel{false};
    QString error;
    bool written = false;
    QThread* thread = QThread::create([&] {
        try {
            std::vector<RgbImage> frames;
            SheetOptions options;
            options.columns = kSampleColumns;
            options.captionHeight = kCaptionHeight;
            for (const auto& [step, images] : snapshots) {
                if (cancel) {
                    return;
                }
                frames.push_back(
                    toRgbImage(sheetImage(images, options, {}, QObject::tr("step %1").arg(step))));
                ++done;
            }
            written = writeVideo(path.toStdString(), frames, kAnimationFps, kAnimationScale,
                                 [&](std::size_t frame, std::size_t) {
                                     done = total + static_cast<int>(frame);
                                     return !cancel;
                                 });
        } catch (const Error& e) {
            error = QString::fromStdString(e.what());
        }
    });
    QEventLoop loop;
    connect(thread, &QThread::finished, &loop, &QEventLoop::quit);
    QTimer ticks;
    connect(&ticks, &QTimer::timeout, &dialog, [&] { dialog.setValue(done); });
    connect(&dialog, &QProgressDialog::canceled, this, [&cancel] { cancel = true; });
    thread->start();
    ticks.start(50);
    loop.exec();
    thread->wait();
    delete thread;
    dialog.reset();
    if (!error.isEmpty()) {
        plainWarning(this, tr("Could not export the animation"), error)->exec();
    }
    return written;
}

}  // namespace cattery::ui
