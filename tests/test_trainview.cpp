#include <torch/torch.h>
#include <QtTest/QtTest>

#include <filesystem>
#include <fstream>

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPushButton>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QStandardPaths>
#include <QTabWidget>

#include "core/errors.h"
#include "core/io/container.h"
#include "core/io/modelfile.h"
#include "core/runtime/threads.h"
#include "core/train/trainer.h"
#include "testutil.h"
#include "ui/mainwindow.h"
#include "ui/trainfields.h"
#include "ui/trainmonitor.h"
#include "ui/trainview.h"
#include "ui/trainworker.h"

using namespace cattery;
using namespace cattery::ui;

namespace {
constexpr int kWait = 60000;
}

class TestTrainView : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void badFolderKeepsStartDisabled();
    void deviceThreadsAndPrecisionAreRemembered();
    void trainPauseResumeStopAndExplore();
    void resumeTakesTheFormsChanges();
    void formHoldsOnlyValidSettings();
    void badCheckpointIsRefused();
    void severalProcessesTrainAsOneView();
    void keptGeneratorIsNamed();

private:
    QString path(const char* name) const { return m_dir.filePath(QString::fromLatin1(name)); }
    void setKnob(const char* name, int value) {
        auto* box = m_window->trainView()->findChild<QSpinBox*>(QString::fromLatin1(name));
        QVERIFY(box != nullptr);
        box->setValue(value);
    }
    // Pause: no step advances while paused, and the run goes on after.
    void pauseHoldsTheRun() {
        TrainView* view = m_window->trainView();
        QTest::mouseClick(view->pauseButton(), Qt::LeftButton);
        QTest::qWait(300);
        const qint64 pausedAt = view->lastStep();
        QTest::qWait(800);
        QCOMPARE(view->lastStep(), pausedAt);
        QTest::mouseClick(view->pauseButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(view->lastStep() > pausedAt, kWait);
    }
    // A tiny run on the good folder that goes on until stopped.
    void setUpEndlessRun(const char* model, int batch, int checkpointEvery) {
        TrainView* view = m_window->trainView();
        view->outputEdit()->setText(path(model));
        setKnob("nf", 4);
        setKnob("ndf", 8);
        setKnob("batch", batch);
        setKnob("latent", 8);
        setKnob("sampleEvery", 5);
        setKnob("checkpointEvery", checkpointEvery);
        view->stepsBox()->setValue(1000000);
        view->setFolder(path("good"));
    }
    QTemporaryDir m_dir;
    QString m_model;
    std::unique_ptr<MainWindow> m_window;
};

void TestTrainView::initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_dir.isValid());
    m_model = path("tiny.cattery");
    test::saveTinyModel(m_model.toStdString());
    // 32 tiny pictures, and a folder of nothing but broken files.
    std::filesystem::create_directories(path("good").toStdString());
    QVERIFY(test::writeBlobPngs(path("good").toStdString(), 32, 32));
    std::filesystem::create_directories(path("bad").toStdString());
    std::ofstream(path("bad/empty.png").toStdString());
    std::ofstream(path("bad/notes.png").toStdString()) << "this is text, not a picture";
}

void TestTrainView::init() {
    QSettings().clear();
    m_window = std::make_unique<MainWindow>(m_model);
    m_window->show();
    m_window->tabs()->setCurrentWidget(m_window->trainView());
}

void TestTrainView::cleanup() {
    m_window->trainView()->stopAndWait();
    m_window.reset();
}

void TestTrainView::badFolderKeepsStartDisabled() {
    TrainView* view = m_window->trainView();
    QVERIFY(!view->startButton()->isEnabled());
    view->setFolder(path("bad"));
    QTRY_VERIFY_WITH_TIMEOUT(view->reportLabel()->text().contains(QStringLiteral("Nothing")),
                             kWait);
    QVERIFY(!view->startButton()->isEnabled());
    QVERIFY(!view->startButton()->toolTip().isEmpty());
    const auto skipped = view->findChildren<QListWidget*>().first();
    QCOMPARE(skipped->count(), 2);
    QTest::mouseClick(view->startButton(), Qt::LeftButton);
    QVERIFY(!view->running());
}

void TestTrainView::deviceThreadsAndPrecisionAreRemembered() {
    auto* precision = m_window->trainView()->findChild<QComboBox*>(QStringLiteral("precision"));
    QVERIFY(precision);
    QCOMPARE(precision->currentData().toString(), QStringLiteral("auto"));
    precision->setCurrentIndex(precision->findData(QStringLiteral("fp32")));
    // The device menu names this machine's hardware; a GPU that is not there cannot be chosen.
    auto* device = m_window->trainView()->findChild<QComboBox*>(QStringLiteral("device"));
    QVERIFY(device);
    QCOMPARE(device->count(), 3);
    const int cpu = device->findData(QStringLiteral("cpu"));
    QVERIFY(cpu >= 0);
    const int threads = usableCpus();
    QCOMPARE(device->itemText(cpu), threads == 1 ? QStringLiteral("CPU (1 thread)")
                                                 : QStringLiteral("CPU (%1 threads)").arg(threads));
    const int cuda = device->findData(QStringLiteral("cuda"));
    const auto* items = qobject_cast<QStandardItemModel*>(device->model());
    QCOMPARE(items->item(cuda)->isEnabled(), torch::cuda::is_available());
    device->setCurrentIndex(cpu);
    // Threads: Automatic unless set, and what is set reaches the run.
    auto* threadCount = m_window->trainView()->findChild<QSpinBox*>(QStringLiteral("threads"));
    QVERIFY(threadCount);
    QCOMPARE(threadCount->value(), 0);
    QCOMPARE(threadCount->text(), QStringLiteral("Automatic"));
    QCOMPARE(m_window->trainView()->settings().threads, 0);
    threadCount->setValue(1);
    QCOMPARE(m_window->trainView()->settings().threads, 1);
    auto* processes = m_window->trainView()->findChild<QSpinBox*>(QStringLiteral("processes"));
    QVERIFY(processes);
    QCOMPARE(m_window->trainView()->settings().processes, 1);
    processes->setValue(3);
    QCOMPARE(m_window->trainView()->settings().processes, 3);
    // The next window starts with the same choices.
    m_window = std::make_unique<MainWindow>(m_model);
    precision = m_window->trainView()->findChild<QComboBox*>(QStringLiteral("precision"));
    QCOMPARE(precision->currentData().toString(), QStringLiteral("fp32"));
    device = m_window->trainView()->findChild<QComboBox*>(QStringLiteral("device"));
    QCOMPARE(device->currentData().toString(), QStringLiteral("cpu"));
    QCOMPARE(m_window->trainView()->findChild<QSpinBox*>(QStringLiteral("threads"))->value(), 1);
    QCOMPARE(m_window->trainView()->findChild<QSpinBox*>(QStringLiteral("processes"))->value(), 3);
}

void TestTrainView::trainPauseResumeStopAndExplore() {
    TrainView* view = m_window->trainView();
    setUpEndlessRun("out/blobs.cattery", 4, 25);
    QTRY_VERIFY_WITH_TIMEOUT(view->startButton()->isEnabled(), kWait);
    QVERIFY(view->reportLabel()->text().contains(QStringLiteral("32")));
    // The report says what a run will do for this folder, and follows the form.
    auto* plan = view->findChild<QLabel*>(QStringLiteral("plan"));
    QVERIFY2(plan->text().contains(QStringLiteral("chosen for 32 images")),
             qPrintable(plan->text()));
    view->findChild<QCheckBox*>(QStringLiteral("autoAugment"))->setChecked(false);
    QVERIFY2(!plan->text().contains(QStringLiteral("chosen for")), qPrintable(plan->text()));
    view->findChild<QCheckBox*>(QStringLiteral("autoAugment"))->setChecked(true);
    // Latents are scaled in training only where the model draws them scaled (both switches are
    // in the Advanced section, whose switches are all off while it is folded).
    QGroupBox* advanced = nullptr;
    for (QGroupBox* box : view->findChildren<QGroupBox*>()) {
        if (box->title() == QStringLiteral("Advanced")) {
            advanced = box;
        }
    }
    QVERIFY(advanced != nullptr && !advanced->isChecked());
    advanced->setChecked(true);
    auto* drawScaled = view->findChild<QCheckBox*>(QStringLiteral("normalizeZ"));
    auto* trainScaled = view->findChild<QCheckBox*>(QStringLiteral("normalizeZInTraining"));
    QVERIFY(drawScaled->isChecked());
    QVERIFY(!trainScaled->isChecked());
    QVERIFY(trainScaled->isEnabled());
    drawScaled->setChecked(false);
    QVERIFY(!trainScaled->isEnabled());
    drawScaled->setChecked(true);
    QVERIFY(trainScaled->isEnabled());
    advanced->setChecked(false);

    QTest::mouseClick(view->startButton(), Qt::LeftButton);
    QVERIFY(view->running());
    QTRY_VERIFY_WITH_TIMEOUT(view->lastStep() > 10, kWait);
    QTRY_VERIFY_WITH_TIMEOUT(view->snapshotCount() > 0, kWait);

    // The event loop keeps turning while training runs.
    QElapsedTimer clock;
    clock.start();
    bool fired = false;
    qint64 firedAfter = 0;
    QTimer::singleShot(50, this, [&] {
        fired = true;
        firedAfter = clock.elapsed();
    });
    QTRY_VERIFY_WITH_TIMEOUT(fired, 5000);
    QVERIFY2(firedAfter < 2000, qPrintable(QString::number(firedAfter)));

    // Paused: no step advances.
    pauseHoldsTheRun();
    if (QTest::currentTestFailed()) {
        return;
    }

    // A NaN mid-run: a warning in words, and training goes on from the rollback.
    view->worker()->injectNaN();
    QTRY_VERIFY_WITH_TIMEOUT(view->warnings()->count() > 0, kWait);
    QVERIFY(view->warnings()->item(0)->text().contains(QStringLiteral("NaN")));
    const qint64 afterNaN = view->lastStep();
    QTRY_VERIFY_WITH_TIMEOUT(view->lastStep() > afterNaN + 5, kWait);
    QTRY_VERIFY_WITH_TIMEOUT(view->checkpoints()->count() > 0, kWait);

    // Stop: a checkpoint and a model exist and load.
    QTest::mouseClick(view->stopButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!view->running(), kWait);
    QVERIFY(loadModel(path("out/blobs.checkpoint.cattery").toStdString()).checkpoint);
    QCOMPARE(loadModel(path("out/blobs.cattery").toStdString()).arch.latentDim, 8);

    // The run resumes from its checkpoint where it stopped.
    const qint64 stoppedAt = loadModel(path("out/blobs.checkpoint.cattery").toStdString()).step;
    view->resume(path("out/blobs.checkpoint.cattery"));
    QVERIFY(view->running());
    QTRY_VERIFY_WITH_TIMEOUT(view->lastStep() > stoppedAt + 3, kWait);
    QVERIFY(view->lastStep() < stoppedAt + 100000);
    view->stopAndWait();
    QTRY_VERIFY_WITH_TIMEOUT(!view->running(), kWait);

    // The samples as a video, written off the UI thread.
    QVERIFY(view->monitor()->exportAnimation(path("out/training.mp4")));
    QVERIFY(QFileInfo(path("out/training.mp4")).size() > 0);
    QVERIFY(!QFile::exists(path("out/training.mp4.part.mp4")));
    // Never over what the run reads or writes: a message, and the checkpoint as it was.
    const QByteArray checkpointBytes = [this] {
        QFile f(path("out/blobs.checkpoint.cattery"));
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }();
    QVERIFY(!view->monitor()->exportAnimation(path("out/blobs.checkpoint.cattery")));
    QFile after(path("out/blobs.checkpoint.cattery"));
    QVERIFY(after.open(QIODevice::ReadOnly));
    QCOMPARE(after.readAll(), checkpointBytes);

    // Any checkpoint opens in the explorer.
    view->checkpoints()->setCurrentRow(0);
    const QString snapshot = view->checkpoints()->item(0)->data(Qt::UserRole).toString();
    Q_EMIT view->openModelRequested(snapshot);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->model().path, snapshot, kWait);
    QCOMPARE(m_window->model().latentDim, 8);
}

void TestTrainView::resumeTakesTheFormsChanges() {
    // A checkpoint of a run on other pictures than the folder chosen here.
    const QString checkpoint = path("resume/run.checkpoint.cattery");
    QDir().mkpath(path("resume"));
    {
        TrainConfig config;
        config.steps = 100;
        config.lrStallSteps = 0;
        config.augment.rotateDegrees = 6;
        Trainer t(test::tinyArch(), config, test::blobDataset(16, 32, 77), torch::kCPU);
        t.step();
        t.step();
        t.setLearningRate(3e-5);
        t.saveCheckpoint(checkpoint.toStdString());
    }
    TrainView* view = m_window->trainView();
    view->setFolder(path("good"));
    QTRY_VERIFY_WITH_TIMEOUT(view->startButton()->isEnabled(), kWait);
    QVERIFY(view->prepareResume(checkpoint));
    QCOMPARE(view->resumeFrom(), checkpoint);
    // The form shows the checkpoint: its own settings locked, the ones that may change open.
    auto* lr = view->findChild<QDoubleSpinBox*>(QStringLiteral("learningRate"));
    auto* rotate = view->findChild<QDoubleSpinBox*>(QStringLiteral("rotate"));
    auto* latent = view->findChild<QSpinBox*>(QStringLiteral("latent"));
    QVERIFY(lr && rotate && latent);
    for (auto* box : view->findChildren<QGroupBox*>()) {
        if (box->isCheckable()) {
            box->setChecked(true);  // open Advanced
        }
    }
    QCOMPARE(lr->value(), 3e-5);
    QCOMPARE(rotate->value(), 6.0);
    QCOMPARE(latent->value(), test::tinyArch().latentDim);
    QVERIFY(!latent->isEnabled());
    QVERIFY(lr->isEnabled() && rotate->isEnabled());
    QCOMPARE(view->stepsBox()->value(), 100);
    QCOMPARE(view->outputEdit()->text(), path("resume/run.cattery"));
    // Changed before Start, as cattery-cli train --resume --lr ... --rotate ... would.
    lr->setValue(5e-5);
    rotate->setValue(0.0);
    view->stepsBox()->setValue(4);
    QTest::mouseClick(view->startButton(), Qt::LeftButton);
    QVERIFY(view->running());
    QTRY_VERIFY_WITH_TIMEOUT(!view->running() && !view->worker()->isRunning(), kWait);
    const Container saved = readContainer(checkpoint.toStdString());
    QCOMPARE(saved.meta.at("training").at("step").get<int>(), 4);
    QCOMPARE(saved.meta.at("training").at("learning_rate").get<double>(), 5e-5);
    QCOMPARE(
        saved.meta.at("training").at("config").at("augment").at("rotate_degrees").get<double>(),
        0.0);
    bool told = false;
    for (int i = 0; i < view->warnings()->count(); ++i) {
        told = told || view->warnings()->item(i)->text().contains(QStringLiteral("differ"));
    }
    QVERIFY2(told, "no warning that the images differ from the checkpoint's");
    // The run is over: Start trains a new model again.
    QVERIFY(view->resumeFrom().isEmpty());
    QVERIFY(latent->isEnabled());
}

void TestTrainView::formHoldsOnlyValidSettings() {
    TrainView* view = m_window->trainView();
    // Every knob at either end of its range still makes settings that a run accepts.
    for (const bool top : {false, true}) {
        for (auto* box : view->findChildren<QSpinBox*>()) {
            box->setValue(top ? box->maximum() : box->minimum());
        }
        for (auto* box : view->findChildren<QDoubleSpinBox*>()) {
            box->setValue(top ? box->maximum() : box->minimum());
        }
        // The discriminator's multiple follows the learning rate.
        auto* lrD = view->findChild<QDoubleSpinBox*>(QStringLiteral("discriminatorRate"));
        lrD->setValue(lrD->maximum());
        const TrainSettings s = view->settings();
        try {
            validate(s.arch);
            validate(s.train);
        } catch (const ConfigError& e) {
            QFAIL(qPrintable(QStringLiteral("%1 end: %2")
                                 .arg(top ? QStringLiteral("top") : QStringLiteral("bottom"),
                                      QString::fromUtf8(e.what()))));
        }
    }
    // Every field of the table is on the form, with the table's range, and reaches the settings.
    for (const TrainField& f : trainFields()) {
        QWidget* w = view->findChild<QWidget*>(QString::fromLatin1(f.key));
        QVERIFY2(w != nullptr, f.key);
        if (auto* i = qobject_cast<QSpinBox*>(w)) {
            QCOMPARE(i->minimum(), static_cast<int>(f.lo));
            QCOMPARE(i->maximum(), static_cast<int>(f.hi));
            i->setValue(i->minimum());
            TrainSettings s = view->settings();
            QCOMPARE(f.get(s.arch, s.train), f.lo);
        } else if (auto* r = qobject_cast<QDoubleSpinBox*>(w)) {
            QCOMPARE(r->minimum(), f.lo);
            r->setValue(r->minimum());
            TrainSettings s = view->settings();
            QVERIFY2(std::abs(f.get(s.arch, s.train) - f.lo) < 1e-12, f.key);
        } else {
            auto* c = qobject_cast<QCheckBox*>(w);
            QVERIFY2(c != nullptr, f.key);
            for (const bool on : {true, false}) {
                c->setChecked(on);
                TrainSettings s = view->settings();
                QCOMPARE(f.get(s.arch, s.train), on ? 1.0 : 0.0);
            }
        }
    }
    // A size the networks are not built for cannot be typed in.
    auto* size = view->findChild<QSpinBox*>(QStringLiteral("imageSize"));
    QVERIFY(size);
    size->setValue(40);
    QCOMPARE(size->value(), 48);
    size->setValue(112);
    QCOMPARE(size->value(), 128);
    QCOMPARE(view->settings().arch.imageSize, 128);
}

void TestTrainView::badCheckpointIsRefused() {
    TrainView* view = m_window->trainView();
    std::ofstream(path("notes.checkpoint.cattery").toStdString()) << "not a checkpoint at all";
    QVERIFY(!view->prepareResume(path("notes.checkpoint.cattery")));
    QVERIFY(view->resumeFrom().isEmpty());
    auto* box = view->findChild<QMessageBox*>(QStringLiteral("resumeError"));
    QVERIFY(box);
    QVERIFY2(box->text().contains(QStringLiteral("notes.checkpoint.cattery")),
             qPrintable(box->text()));
    box->close();
    QVERIFY(!view->prepareResume(m_model));  // a finished model holds nothing to resume
}

// Two processes: this one shows the run live, a cattery-cli started for it trains beside it; pause
// holds both, stop ends both, and the files say two processes trained.
void TestTrainView::severalProcessesTrainAsOneView() {
    qputenv("CATTERY_CLI", CATTERY_CLI_PATH);
    TrainView* view = m_window->trainView();
    setUpEndlessRun("two/blobs.cattery", 2, 10);
    setKnob("processes", 2);
    setKnob("threads", 1);
    QTRY_VERIFY_WITH_TIMEOUT(view->startButton()->isEnabled(), kWait);
    QTest::mouseClick(view->startButton(), Qt::LeftButton);
    QVERIFY(view->running());
    QTRY_VERIFY_WITH_TIMEOUT(view->lastStep() > 12, kWait);

    pauseHoldsTheRun();
    if (QTest::currentTestFailed()) {
        return;
    }

    QTest::mouseClick(view->stopButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!view->running(), kWait);
    QStringList warnings;
    for (int i = 0; i < view->warnings()->count(); ++i) {
        warnings << view->warnings()->item(i)->text();
    }
    // Nothing went wrong between the processes.
    QVERIFY2(!warnings.join(QLatin1Char('\n')).contains(QStringLiteral("rank")),
             qPrintable(warnings.join(QLatin1Char('\n'))));
    const Model checkpoint = loadModel(path("two/blobs.checkpoint.cattery").toStdString());
    QCOMPARE(checkpoint.provenance.processes, 2);
    QCOMPARE(checkpoint.provenance.batch, std::int64_t{4});
    QCOMPARE(loadModel(path("two/blobs.cattery").toStdString()).provenance.processes, 2);
    qunsetenv("CATTERY_CLI");
}

void TestTrainView::keptGeneratorIsNamed() {
    TrainMonitor* monitor = m_window->trainView()->monitor();
    monitor->reset(QStringLiteral("cats"));
    monitor->addScore(1500, 92.9, 0.91, true, 92.9, 92.9);
    QCOMPARE(monitor->bestLabel()->text(),
             QStringLiteral("Chosen by its score: the best-scoring generator, step 1500, SWD 92.9, "
                            "diversity 0.91"));
    // A later generator within the margin of the recent best: named as what it is.
    monitor->addScore(10000, 95.2, 0.94, true, 93.4, 92.9);
    const QString later = monitor->bestLabel()->text();
    QVERIFY2(later.contains(QStringLiteral("the generator of step 10000, SWD 95.2")),
             qPrintable(later));
    QVERIFY2(later.contains(QStringLiteral("within 15 % of the recent best, 93.4")),
             qPrintable(later));
    // A score not kept leaves the label as it was.
    monitor->addScore(10500, 130.0, 0.9, false, 93.4, 92.9);
    QCOMPARE(monitor->bestLabel()->text(), later);
    // The best of the run's later half, where an early score was lower: both are named.
    monitor->addScore(12000, 118.0, 0.95, true, 118.0, 81.9);
    const QString recent = monitor->bestLabel()->text();
    QVERIFY2(recent.contains(QStringLiteral("the best-scoring generator of the run's later half, "
                                            "step 12000, SWD 118.0")),
             qPrintable(recent));
    QVERIFY2(recent.contains(QStringLiteral("an early one scored 81.9")), qPrintable(recent));
}

QTEST_MAIN(TestTrainView)
#include "test_trainview.moc"
