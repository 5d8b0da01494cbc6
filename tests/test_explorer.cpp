#include <torch/torch.h>
#include <QtTest/QtTest>

#include <opencv2/videoio.hpp>

#include <fstream>

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QDialog>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QDropEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QRadioButton>
#include <QSlider>
#include <QStandardPaths>
#include <QTabWidget>
#include <QUndoStack>
#include <QUrl>

#include "core/io/container.h"
#include "core/io/modelfile.h"
#include "core/io/sheet.h"
#include "core/latent/directions.h"
#include "core/runtime/device.h"
#include "core/runtime/renderer.h"
#include "testutil.h"
#include "ui/arithmeticview.h"
#include "ui/cellgrid.h"
#include "ui/directionspanel.h"
#include "ui/generateview.h"
#include "ui/latentmath.h"
#include "ui/mainwindow.h"
#include "ui/morphview.h"
#include "ui/moviejob.h"
#include "ui/projectionjob.h"
#include "ui/renderworker.h"
#include "ui/threeeditor.h"

using namespace cattery;
using namespace cattery::ui;

namespace {

constexpr int kWait = 30000;

// What the model itself draws for these latents, outside the window.
QVector<QImage> directRender(const QString& modelPath, const QVector<Latent>& latents) {
    Model model = loadModel(modelPath.toStdString());
    // The precision the window draws in on this machine.
    Renderer renderer(model.generator, torch::kCPU, 0, defaultPrecision(torch::kCPU));
    std::vector<float> flat;
    for (const Latent& z : latents) {
        flat.insert(flat.end(), z.begin(), z.end());
    }
    const auto t = torch::tensor(flat).view({static_cast<int64_t>(latents.size()), -1});
    QVector<QImage> out;
    for (const RgbImage& image : renderer.render(t)) {
        out.push_back(toQImage(image));
    }
    return out;
}

// The largest difference of any pixel between two lists of images (256 when they do not match
// in number or size). Batches of other sizes may round a pixel the other way.
int maxDifference(const QVector<QImage>& a, const QVector<QImage>& b) {
    if (a.size() != b.size()) {
        return 256;
    }
    int worst = 0;
    for (int i = 0; i < a.size(); ++i) {
        const QImage x = a[i].convertToFormat(QImage::Format_RGB888);
        const QImage y = b[i].convertToFormat(QImage::Format_RGB888);
        if (x.size() != y.size()) {
            return 256;
        }
        for (int row = 0; row < x.height(); ++row) {
            const uchar* p = x.constScanLine(row);
            const uchar* q = y.constScanLine(row);
            for (int k = 0; k < x.width() * 3; ++k) {
                worst = std::max(worst, std::abs(int(p[k]) - int(q[k])));
            }
        }
    }
    return worst;
}

// The same latent, to float rounding (a corner keeps three numbers and the rest apart).
bool sameLatent(const Latent& a, const Latent& b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (int i = 0; i < a.size(); ++i) {
        if (std::abs(a[i] - b[i]) > 1e-5f) {
            return false;
        }
    }
    return true;
}

bool settled(const ExplorerView* view) {
    return view->hasModel() && !view->renderPending() && !view->grid()->images().isEmpty();
}

// The panel's directions found afresh for the window's model, kept in `folder`.
void findDirections(MainWindow* window, const QString& folder) {
    DirectionsPanel* panel = window->directionsPanel();
    panel->setFolder(folder);
    panel->setModel(window->model());
    QTRY_VERIFY_WITH_TIMEOUT(panel->ready(), kWait);
}

// How far `z` is from `expected`, in the largest number.
double distance(const Latent& z, const Latent& expected) {
    if (z.size() != expected.size()) {
        return 1e9;
    }
    double most = 0;
    for (int i = 0; i < z.size(); ++i) {
        most = std::max(most, static_cast<double>(std::abs(z[i] - expected[i])));
    }
    return most;
}

Latent plus(const Latent& a, const Latent& b, float scale) {
    Latent out = a;
    for (int i = 0; i < out.size(); ++i) {
        out[i] += scale * b[i];
    }
    return out;
}

}  // namespace

class TestExplorer : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void opensOnTheModelWithAGrid();
    void cornerChangeRedrawsOnlyAffectedCells();
    void droppedLatentIsExact();
    void droppedImagesFindTheirCats();
    void draggingACornerOntoAnotherSwapsThem();
    void sameSeedSameBatch();
    void truncationIsOffOrALimit();
    void exportedSheetReopens();
    void movieLoopsAroundTheCorners();
    void movieFollowsAPathOfCats();
    void exportsNeverReplaceTheModel();
    void undoRestoresThePreviousCorner();
    void rapidSliderChangesCoalesce();
    void corruptModelKeepsThePreviousOne();
    void switchingModelsMidRenderShowsOnlyTheNewModel();
    void arithmeticFollowsItsSlots();
    void namesFromFilesArePlainText();
    void directionSlidersMoveTheCorner();
    void directionNamesAndSelectionsAreKept();
    void unreadableDirectionsAreFoundAfresh();

private:
    QString path(const char* name) const { return m_dir.filePath(QString::fromLatin1(name)); }
    QTemporaryDir m_dir;
    QString m_modelA;
    QString m_modelB;
    QString m_modelFull;  // the default architecture: renders slow enough to coalesce
    std::unique_ptr<MainWindow> m_window;
};

void TestExplorer::initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_dir.isValid());
    m_modelA = path("a.cattery");
    test::saveTinyModel(m_modelA.toStdString());
    ArchConfig b = test::tinyArch(8);
    b.imageSize = 48;
    m_modelB = path("b.cattery");
    test::saveTinyModel(m_modelB.toStdString(), b);
    std::ofstream(path("corrupt.cattery").toStdString()) << "CATTERY\x1a but not really";
    m_modelFull = path("full.cattery");
    test::saveTinyModel(m_modelFull.toStdString(), ArchConfig{});
}

void TestExplorer::init() {
    QSettings().clear();
    m_window = std::make_unique<MainWindow>(m_modelA);
    m_window->show();
    QTRY_VERIFY_WITH_TIMEOUT(settled(m_window->morphView()), kWait);
}

void TestExplorer::opensOnTheModelWithAGrid() {
    MorphView* morph = m_window->morphView();
    QCOMPARE(m_window->model().path, m_modelA);
    QCOMPARE(morph->gridSize(), 5);
    QCOMPARE(morph->grid()->images().size(), 25);
    QCOMPARE(morph->grid()->images().first().width(), 32);
    QCOMPARE(m_window->tabs()->currentWidget(), morph);
    // Corner cells are the corners' own latents.
    QCOMPARE(morph->grid()->latents().first(),
             toLatent(*m_window->model().latent, morph->corner(0)));
    QVERIFY(maxDifference(morph->grid()->images(),
                          directRender(m_modelA, morph->grid()->latents())) <= 1);
}

void TestExplorer::cornerChangeRedrawsOnlyAffectedCells() {
    MorphView* morph = m_window->morphView();
    const QVector<QImage> before = morph->grid()->images();
    morph->editor(3)->spinBox(0)->setValue(3.5);
    QTRY_VERIFY_WITH_TIMEOUT(settled(morph), kWait);
    const QVector<QImage> after = morph->grid()->images();
    const QVector<int> affected = cellsAffectedBy(3, 5);
    QCOMPARE(affected.size(), 16);
    int changed = 0;
    for (int i = 0; i < 25; ++i) {
        if (affected.contains(i)) {
            changed += after[i] != before[i] ? 1 : 0;
        } else {
            QVERIFY2(after[i] == before[i], qPrintable(QString::number(i)));
        }
    }
    QVERIFY(changed >= 12);
    QVERIFY(after[24] != before[24]);
}

void TestExplorer::droppedLatentIsExact() {
    MorphView* morph = m_window->morphView();
    const Latent z = randomLatents(16, 1, 99, 0.0).first();
    auto* mime = new QMimeData;
    mime->setData(QString::fromLatin1(kLatentMime), latentBytes(z));
    ThreeEditor* target = morph->editor(1);
    QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(target, &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(QPointF(10, 10), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(target, &drop);
    QVERIFY(drop.isAccepted());
    const Latent now = toLatent(*m_window->model().latent, morph->corner(1));
    QCOMPARE(now.size(), z.size());
    for (int i = 0; i < z.size(); ++i) {
        QVERIFY2(std::abs(now[i] - z[i]) < 1e-5f,
                 qPrintable(QStringLiteral("%1: %2 vs %3").arg(i).arg(now[i]).arg(z[i])));
    }
    QVERIFY(!morph->corner(1).residual.isEmpty());
    QTRY_VERIFY_WITH_TIMEOUT(settled(morph), kWait);
    QVERIFY(maxDifference({morph->grid()->images()[4]}, directRender(m_modelA, {now})) <= 1);
    // A latent of another size is refused with a message, and nothing changes.
    const LatentValue kept = morph->corner(2);
    QSignalSpy messages(morph, &ExplorerView::message);
    morph->dropOnCorner(2, Latent(7, 0.5f), -1);
    QCOMPARE(messages.size(), 1);
    QCOMPARE(morph->corner(2), kept);
    delete mime;
}

// An image file dropped on a corner: the worker finds the latent whose picture is closest, the
// corner becomes it, and the image and its cat are shown side by side.
void TestExplorer::droppedImagesFindTheirCats() {
    MorphView* morph = m_window->morphView();
    // A picture the model itself drew, saved as a file: its cat is found again closely.
    const Latent drawn = randomLatents(16, 1, 5, 2.0).first();
    const QImage picture = directRender(m_modelA, {drawn}).first();
    QVERIFY(picture.save(path("drawn.png")));
    auto* mime = new QMimeData;
    mime->setUrls({QUrl::fromLocalFile(path("drawn.png"))});
    ThreeEditor* target = morph->editor(2);
    QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(target, &enter);
    QVERIFY(enter.isAccepted());
    QSignalSpy found(m_window->projectionJob(), &ProjectionJob::found);
    const LatentValue before = morph->corner(2);
    QDropEvent drop(QPointF(10, 10), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(target, &drop);
    QVERIFY(drop.isAccepted());
    QVERIFY(m_window->projectionJob()->busy());
    QTRY_COMPARE_WITH_TIMEOUT(found.size(), 1, kWait);
    const auto cats = found.first().first().value<QVector<FoundCat>>();
    QCOMPARE(cats.size(), 1);
    QVERIFY2(cats.first().distance < 0.05, qPrintable(QString::number(cats.first().distance)));
    QCOMPARE(cats.first().cat.size(), QSize(32, 32));
    // The corner is the cat found, as one undo step; the window shows the pair.
    // (The spy hears the job's thread at once; the window takes the cat through its event loop.)
    QTRY_VERIFY_WITH_TIMEOUT(
        sameLatent(toLatent(*m_window->model().latent, morph->corner(2)), cats.first().latent),
        kWait);
    QTRY_VERIFY_WITH_TIMEOUT(m_window->findChild<QDialog*>(QStringLiteral("foundCats")), kWait);
    m_window->undoStack()->undo();
    QCOMPARE(morph->corner(2), before);

    // The next search may start as soon as the window has heard the last one's end.
    const auto idle = [this] { return !m_window->projectionJob()->busy(); };
    QVERIFY(idle());
    // Several images on the Generate view become a batch of their cats.
    QVERIFY(picture.mirrored(true, false).save(path("mirrored.png")));
    GenerateView* generate = m_window->generateView();
    m_window->tabs()->setCurrentWidget(generate);
    mime->setUrls(
        {QUrl::fromLocalFile(path("drawn.png")), QUrl::fromLocalFile(path("mirrored.png"))});
    QDragEnterEvent enterBatch(QPoint(10, 10), Qt::CopyAction, mime, Qt::LeftButton,
                               Qt::NoModifier);
    QApplication::sendEvent(generate, &enterBatch);
    QVERIFY(enterBatch.isAccepted());
    QDropEvent onBatch(QPointF(10, 10), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(generate, &onBatch);
    QVERIFY(onBatch.isAccepted());
    QTRY_COMPARE_WITH_TIMEOUT(found.size(), 2, kWait);
    QTRY_COMPARE_WITH_TIMEOUT(generate->batch().latents.size(), 2, kWait);

    // An image that cannot be used is an error naming it; nothing changes. Cancel stops a search.
    std::ofstream(path("broken.png").toStdString()) << "not a picture";
    QSignalSpy failed(m_window->projectionJob(), &ProjectionJob::failed);
    QTRY_VERIFY_WITH_TIMEOUT(idle(), kWait);
    QVERIFY(m_window->findCats(morph, 0, {path("broken.png")}));
    QTRY_COMPARE_WITH_TIMEOUT(failed.size(), 1, kWait);
    QVERIFY2(failed.first().first().toString().contains(path("broken.png")),
             qPrintable(failed.first().first().toString()));
    QSignalSpy cancelled(m_window->projectionJob(), &ProjectionJob::cancelled);
    const LatentValue kept = morph->corner(0);
    QTRY_VERIFY_WITH_TIMEOUT(idle(), kWait);
    QVERIFY(m_window->findCats(morph, 0, {path("drawn.png")}));
    m_window->projectionJob()->cancel();
    QTRY_COMPARE_WITH_TIMEOUT(cancelled.size(), 1, kWait);
    QCOMPARE(morph->corner(0), kept);

    // A pasted image: found for the corner being edited (the first when none is).
    m_window->tabs()->setCurrentWidget(morph);
    QApplication::clipboard()->setImage(picture);
    QTRY_VERIFY_WITH_TIMEOUT(idle(), kWait);
    QVERIFY(m_window->findPastedImage());
    QTRY_COMPARE_WITH_TIMEOUT(found.size(), 3, kWait);
    QTRY_VERIFY_WITH_TIMEOUT(
        sameLatent(toLatent(*m_window->model().latent, morph->corner(0)),
                   found.last().first().value<QVector<FoundCat>>().first().latent),
        kWait);
    delete mime;
}

void TestExplorer::draggingACornerOntoAnotherSwapsThem() {
    MorphView* morph = m_window->morphView();
    const LatentValue c0 = morph->corner(0);
    const LatentValue c3 = morph->corner(3);
    morph->dropOnCorner(3, toLatent(*m_window->model().latent, c0), 0);
    QCOMPARE(morph->corner(3), c0);
    QCOMPARE(morph->corner(0), c3);
    m_window->undoStack()->undo();  // one step undoes the whole swap
    QCOMPARE(morph->corner(0), c0);
    QCOMPARE(morph->corner(3), c3);
}

void TestExplorer::sameSeedSameBatch() {
    GenerateView* gen = m_window->generateView();
    m_window->tabs()->setCurrentWidget(gen);
    GenerateView::Batch batch = gen->batch();
    batch.seed = 42;
    gen->changeBatch(batch);
    QTRY_VERIFY_WITH_TIMEOUT(settled(gen), kWait);
    const QVector<QImage> first = gen->grid()->images();
    QCOMPARE(first.size(), 25);
    batch.seed = 43;
    gen->changeBatch(batch);
    QTRY_VERIFY_WITH_TIMEOUT(settled(gen), kWait);
    QVERIFY(gen->grid()->images() != first);
    m_window->undoStack()->undo();
    QCOMPARE(gen->batch().seed, quint64{42});
    QTRY_VERIFY_WITH_TIMEOUT(settled(gen), kWait);
    QCOMPARE(gen->grid()->images(), first);
    gen->generate();  // a fresh seed
    QVERIFY(gen->batch().seed != 42);
}

void TestExplorer::truncationIsOffOrALimit() {
    GenerateView* gen = m_window->generateView();
    auto* truncate = gen->findChild<QCheckBox*>();
    auto* limit = gen->findChild<QDoubleSpinBox*>();
    auto* slider = gen->findChild<QSlider*>();
    QVERIFY(truncate && limit && slider);
    QVERIFY(!truncate->isChecked());
    QCOMPARE(gen->batch().truncation, 0.0);
    QVERIFY(!limit->isEnabled() && !slider->isEnabled());
    truncate->setChecked(true);  // on, at the limit shown
    QVERIFY(limit->isEnabled() && slider->isEnabled());
    QCOMPARE(gen->batch().truncation, limit->value());
    slider->setValue(slider->minimum());  // the slider's left end is the strongest truncation
    QCOMPARE(gen->batch().truncation, limit->minimum());
    QVERIFY(gen->batch().truncation > 0);
    QTRY_VERIFY_WITH_TIMEOUT(settled(gen), kWait);
    for (const Latent& z : gen->grid()->latents()) {
        for (const float v : z) {
            QVERIFY(std::abs(v) <= limit->minimum() + 1e-6);
        }
    }
    // Undo puts the controls back with the batch.
    m_window->undoStack()->undo();
    QCOMPARE(gen->batch().truncation, limit->value());
    QCOMPARE(slider->value(), static_cast<int>(std::lround(limit->value() * 100)));
    m_window->undoStack()->undo();
    QVERIFY(!truncate->isChecked());
    QCOMPARE(gen->batch().truncation, 0.0);
}

void TestExplorer::exportedSheetReopens() {
    MorphView* morph = m_window->morphView();
    morph->changeCorner(2, LatentValue{{0.25f, -2.0f, 1.5f}, {}});
    morph->resizeGrid(4);
    QTRY_VERIFY_WITH_TIMEOUT(settled(morph), kWait);
    const QVector<Latent> exported = morph->grid()->latents();
    QVERIFY(m_window->exportSheet(path("grid.png"), ExportOptions{}));
    QVERIFY(QFileInfo(path("grid.png")).size() > 0);
    morph->resizeGrid(6);
    morph->changeCorner(2, LatentValue{{3.0f, 3.0f, 3.0f}, {}});
    QVERIFY(m_window->openSheet(path("grid.png")));
    QCOMPARE(morph->gridSize(), 4);
    QTRY_VERIFY_WITH_TIMEOUT(settled(morph), kWait);
    const QVector<Latent> reopened = morph->grid()->latents();
    QCOMPARE(reopened.size(), exported.size());
    for (int c = 0; c < 4; ++c) {
        const int cell = MorphView::cornerCell(c, 4);
        for (int i = 0; i < exported[cell].size(); ++i) {
            QVERIFY(std::abs(reopened[cell][i] - exported[cell][i]) < 1e-5f);
        }
    }
    // A batch sheet comes back as the batch, labels and all options on.
    m_window->tabs()->setCurrentWidget(m_window->generateView());
    QTRY_VERIFY_WITH_TIMEOUT(settled(m_window->generateView()), kWait);
    const QVector<Latent> batch = m_window->generateView()->grid()->latents();
    ExportOptions o;
    o.labels = true;
    o.scale = 3;
    o.background = Qt::black;
    QVERIFY(m_window->exportSheet(path("batch.png"), o));
    m_window->generateView()->generate();
    QVERIFY(m_window->openSheet(path("batch.png")));
    QCOMPARE(m_window->generateView()->batch().latents, batch);
    // Not a sheet: a clear error, nothing changes.
    std::ofstream(path("plain.png").toStdString()) << "not a png";
    QVERIFY(!m_window->openSheet(path("plain.png")));
}

// File > Export Movie: a frame for each step around the four corners, written off the UI thread,
// and a cancelled one leaves nothing behind.
void TestExplorer::movieLoopsAroundTheCorners() {
    MovieSettings settings;
    settings.framesPerLeg = 3;
    settings.scale = 1;
    QSignalSpy done(m_window->movieJob(), &MovieJob::done);
    QVERIFY(m_window->exportMovie(path("morph.mp4"), settings));
    QTRY_COMPARE_WITH_TIMEOUT(done.size(), 1, kWait);
    QCOMPARE(done.at(0).at(1).toBool(), true);
    cv::VideoCapture video(path("morph.mp4").toStdString());
    QVERIFY(video.isOpened());
    int frames = 0;
    for (cv::Mat frame; video.read(frame); ++frames) {
        QCOMPARE(frame.cols, m_window->model().imageSize);
    }
    QCOMPARE(frames, 12);

    settings.framesPerLeg = 600;
    QVERIFY(m_window->exportMovie(path("cancelled.mp4"), settings));
    m_window->movieJob()->cancel();
    QTRY_COMPARE_WITH_TIMEOUT(done.size(), 2, kWait);
    QCOMPARE(done.at(1).at(1).toBool(), false);
    QVERIFY(!QFile::exists(path("cancelled.mp4")));
    QVERIFY(!QFile::exists(path("cancelled.mp4.part.mp4")));
}

// The Export Movie dialog's path: cats dropped on its list (where they are dropped), the selected
// ones added, reordered, and a movie through them and back to the first.
void TestExplorer::movieFollowsAPathOfCats() {
    GenerateView* generate = m_window->generateView();
    m_window->tabs()->setCurrentWidget(generate);
    QTRY_VERIFY_WITH_TIMEOUT(settled(generate), kWait);
    MovieDialog* dialog = m_window->movieDialog();
    QCOMPARE(dialog->path().size(), 0);
    dialog->pathButton()->setChecked(true);
    QVERIFY(!dialog->okButton()->isEnabled());  // a path needs two cats

    const QVector<Latent> cats = generate->grid()->latents();
    generate->grid()->setSelectedCells({2, 5});
    QTest::mouseClick(dialog->findChild<QPushButton*>(QStringLiteral("addSelected")),
                      Qt::LeftButton);
    QCOMPARE(dialog->path().size(), 2);
    QCOMPARE(dialog->path()[0].latent, cats[2]);
    QVERIFY(!dialog->path()[0].image.isNull());
    QVERIFY(dialog->okButton()->isEnabled());
    // A cat dragged from a grid onto the first cat goes before it.
    auto* mime = new QMimeData;
    mime->setData(QString::fromLatin1(kLatentMime), latentBytes(cats[7]));
    QWidget* viewport = dialog->list()->viewport();
    const QPoint onFirst = dialog->list()->visualItemRect(dialog->list()->item(0)).center();
    QDragEnterEvent enter(onFirst, Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(viewport, &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(QPointF(onFirst), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(viewport, &drop);
    QVERIFY(drop.isAccepted());
    delete mime;
    QCOMPARE(dialog->path().size(), 3);
    QCOMPARE(dialog->path()[0].latent, cats[7]);
    QCOMPARE(dialog->path()[1].latent, cats[2]);
    // Cats of another model are left out.
    QCOMPARE(dialog->addCats({{Latent(8, 0.5f), QImage()}}), 0);
    QCOMPARE(dialog->path().size(), 3);
    // Delete takes the selected one out.
    dialog->list()->setCurrentRow(2);
    QTest::keyClick(dialog->list(), Qt::Key_Delete);
    QCOMPARE(dialog->path().size(), 2);

    MovieSettings settings = dialog->settings();
    QVERIFY(settings.throughPath);
    settings.framesPerLeg = 2;
    settings.scale = 1;
    QVector<Latent> points;
    for (const PathCat& cat : dialog->path()) {
        points << cat.latent;
    }
    points << cats[9];
    QSignalSpy done(m_window->movieJob(), &MovieJob::done);
    QVERIFY(m_window->exportMovie(path("path.mp4"), settings, points));
    QTRY_COMPARE_WITH_TIMEOUT(done.size(), 1, kWait);
    QCOMPARE(done.at(0).at(1).toBool(), true);
    cv::VideoCapture video(path("path.mp4").toStdString());
    QVERIFY(video.isOpened());
    int frames = 0;
    for (cv::Mat frame; video.read(frame); ++frames) {
        QCOMPARE(frame.cols, m_window->model().imageSize);
    }
    QCOMPARE(frames, 6);  // three legs of two frames: 7 -> 2 -> 9 -> 7
    // A single cat, or cats of another model, make no movie.
    QVERIFY(!m_window->exportMovie(path("one.mp4"), settings, {cats[0]}));
    QVERIFY(!m_window->exportMovie(path("other.mp4"), settings, {Latent(8), Latent(8)}));
    QVERIFY(!QFile::exists(path("one.mp4")) && !QFile::exists(path("other.mp4")));
}

// Export Sheet and Export Movie refuse to write over the open model (through a link too): a
// message, and the model file as it was.
void TestExplorer::exportsNeverReplaceTheModel() {
    const QString copy = path("exported-over.cattery");
    QFile::remove(copy);
    QVERIFY(QFile::copy(m_modelA, copy));
    const QString link = path("exported-link.cattery");
    QFile::remove(link);
    QVERIFY(QFile::link(copy, link));
    m_window->openModel(copy);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->model().path, copy, kWait);
    QTRY_VERIFY_WITH_TIMEOUT(settled(m_window->morphView()), kWait);
    QFile original(copy);
    QVERIFY(original.open(QIODevice::ReadOnly));
    const QByteArray before = original.readAll();
    original.close();
    QVERIFY(!m_window->exportSheet(copy, ExportOptions{}));
    QVERIFY(!m_window->exportSheet(link, ExportOptions{}));
    MovieSettings settings;
    settings.framesPerLeg = 2;
    QVERIFY(!m_window->exportMovie(link, settings));
    QVERIFY(original.open(QIODevice::ReadOnly));
    QCOMPARE(original.readAll(), before);
    QVERIFY(QFileInfo(link).isSymLink());
    const auto* box = m_window->findChild<QMessageBox*>();
    QVERIFY(box != nullptr);
    QVERIFY2(box->text().contains(copy) || box->informativeText().contains(copy) ||
                 box->text().contains(link),
             qPrintable(box->text()));
}

void TestExplorer::undoRestoresThePreviousCorner() {
    MorphView* morph = m_window->morphView();
    const LatentValue before = morph->corner(1);
    morph->editor(1)->slider(2)->setValue(-250);
    QCOMPARE(morph->corner(1).three[2], -2.5f);
    m_window->undoStack()->undo();
    QCOMPARE(morph->corner(1), before);
    QCOMPARE(morph->editor(1)->spinBox(2)->value(), static_cast<double>(before.three[2]));
    m_window->undoStack()->redo();
    QCOMPARE(morph->corner(1).three[2], -2.5f);
    morph->resizeGrid(7);
    QCOMPARE(morph->gridSize(), 7);
    m_window->undoStack()->undo();
    QCOMPARE(morph->gridSize(), 5);
}

void TestExplorer::rapidSliderChangesCoalesce() {
    // A model of the default size, whose grid takes tens of milliseconds, as a user's would.
    m_window->openModel(m_modelFull);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->model().path, m_modelFull, kWait);
    MorphView* morph = m_window->morphView();
    // Every view re-renders for the new model; all of that is done before the drag starts.
    for (const ExplorerView* view : m_window->views()) {
        QTRY_VERIFY_WITH_TIMEOUT(settled(view), kWait);
    }
    m_window->undoStack()->clear();
    const int rendersBefore = m_window->worker()->completedRenders();
    QSlider* slider = morph->editor(0)->slider(1);
    const int steps = 200;
    int rendersAtLastMove = 0;
    for (int i = 0; i < steps; ++i) {
        slider->setValue(-300 + 3 * i);
        if (i == steps - 1) {
            rendersAtLastMove = m_window->worker()->completedRenders();
        }
        QCoreApplication::processEvents();
    }
    QTRY_VERIFY_WITH_TIMEOUT(settled(morph), kWait);
    // However fast the machine, stale requests never queue: once the slider stops, at most the
    // render already in progress and the one for the final position finish.
    const int rendersAfterLastMove = m_window->worker()->completedRenders() - rendersAtLastMove;
    QVERIFY2(rendersAfterLastMove <= 2, qPrintable(QString::number(rendersAfterLastMove)));
    QVERIFY(m_window->worker()->completedRenders() - rendersBefore <= steps);
    QCOMPARE(morph->corner(0).three[1], 2.97f);
    // The drag is one undo step.
    QCOMPARE(m_window->undoStack()->count(), 1);
    std::array<Latent, 4> corners;
    for (int c = 0; c < 4; ++c) {
        corners[static_cast<size_t>(c)] = toLatent(*m_window->model().latent, morph->corner(c));
    }
    QVERIFY(maxDifference(morph->grid()->images(),
                          directRender(m_modelFull, gridLatents(corners, 5, false))) <= 1);
}

void TestExplorer::corruptModelKeepsThePreviousOne() {
    QSignalSpy failed(m_window.get(), &MainWindow::modelLoadFailed);
    m_window->openModel(path("corrupt.cattery"));
    QVERIFY(failed.wait(kWait));
    QVERIFY(failed.first().at(1).toString().contains(QStringLiteral("corrupt.cattery")));
    QCOMPARE(m_window->model().path, m_modelA);
    QCOMPARE(m_window->morphView()->grid()->images().size(), 25);
    // The views still render with the old model.
    m_window->morphView()->randomCorner(0);
    QTRY_VERIFY_WITH_TIMEOUT(settled(m_window->morphView()), kWait);
    m_window->openModel(path("missing.cattery"));
    QVERIFY(failed.wait(kWait));
    QCOMPARE(m_window->model().path, m_modelA);
}

void TestExplorer::switchingModelsMidRenderShowsOnlyTheNewModel() {
    MorphView* morph = m_window->morphView();
    morph->resizeGrid(12);  // a slow render in flight
    m_window->openModel(m_modelB);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->model().path, m_modelB, kWait);
    QTRY_VERIFY_WITH_TIMEOUT(settled(morph), kWait);
    QTest::qWait(200);  // any late image of the old model would land now
    const QVector<QImage> shown = morph->grid()->images();
    QCOMPARE(shown.size(), 144);
    for (const QImage& image : shown) {
        QCOMPARE(image.width(), 48);
    }
    QVERIFY(maxDifference(shown, directRender(m_modelB, morph->grid()->latents())) <= 1);
    QCOMPARE(morph->grid()->latents().first().size(), 8);
}

void TestExplorer::namesFromFilesArePlainText() {
    // A model named with markup is shown as written: no bold, no image loaded from /dev/zero.
    const QString name = QStringLiteral("<img src=\"/dev/zero\"><b>x</b>");
    Container c = readContainer(m_modelA.toStdString());
    c.meta["provenance"]["name"] = name.toStdString();
    const QString file = path("markup.cattery");
    writeContainer(file.toStdString(), c);
    m_window->openModel(file);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->model().path, file, kWait);
    auto* label = m_window->findChild<QLabel*>(QStringLiteral("modelName"));
    QVERIFY(label != nullptr);
    QCOMPARE(label->text(), name);
    QCOMPARE(label->textFormat(), Qt::PlainText);
    QVERIFY(label->toolTip().contains(QStringLiteral("&lt;img src=")));  // the name, escaped
    QVERIFY(!label->toolTip().contains(QStringLiteral("<img")));
    // A sheet whose fields are of the wrong type opens with what it can use, and one whose
    // latents are not numbers is a clear error, not an exception out of the handler.
    const QString sheet = path("typed.png");
    writePng(
        sheet.toStdString(), RgbImage{4, 4, std::vector<std::uint8_t>(48, 200)},
        {{"format", "cattery-sheet"}, {"view", 5}, {"latents", {std::vector<float>(16, 0.25F)}}});
    QVERIFY(m_window->openSheet(sheet));
    writePng(sheet.toStdString(), RgbImage{4, 4, std::vector<std::uint8_t>(48, 200)},
             {{"format", "cattery-sheet"},
              {"latents", nlohmann::json::array({nlohmann::json::array({"a", "b"})})}});
    QVERIFY(!m_window->openSheet(sheet));
}

void TestExplorer::arithmeticFollowsItsSlots() {
    ArithmeticView* arith = m_window->arithmeticView();
    m_window->tabs()->setCurrentWidget(arith);
    QTRY_VERIFY_WITH_TIMEOUT(settled(arith), kWait);
    arith->changeSlot(1, LatentValue{{2.0f, 0.0f, -1.0f}, {}});
    QTRY_VERIFY_WITH_TIMEOUT(settled(arith), kWait);
    const auto& space = *m_window->model().latent;
    const Latent expected =
        arithmeticOf(toLatent(space, arith->slot(0)), toLatent(space, arith->slot(1)),
                     toLatent(space, arith->slot(2)));
    QCOMPARE(arith->grid()->latents().first(), expected);
    QVERIFY(maxDifference({arith->grid()->images().first()}, directRender(m_modelA, {expected})) <=
            1);
    QVERIFY(m_window->exportSheet(path("arith.png"), ExportOptions{}));
    arith->changeSlot(0, LatentValue{{-3.0f, -3.0f, -3.0f}, {}});
    QVERIFY(m_window->openSheet(path("arith.png")));
    QCOMPARE(arith->slot(1).three[0], 2.0f);
}

// The panel finds the model's directions off the UI thread, keeps them beside its other files, and
// its sliders move the corner last clicked along them, as one undo step.
void TestExplorer::directionSlidersMoveTheCorner() {
    QTemporaryDir folder;
    findDirections(m_window.get(), folder.path());
    DirectionsPanel* panel = m_window->directionsPanel();
    QCOMPARE(panel->count(), DirectionsPanel::kShown);
    const Directions kept = loadDirections(panel->filePath().toStdString(), 16);
    QVERIFY(panel->filePath().startsWith(folder.path()));
    QCOMPARE(static_cast<int>(kept.vectors.size(0)), DirectionsPanel::kShown);
    QCOMPARE(kept.variance.front(), panel->directions().variance.first());
    QVERIFY(kept.variance.front() > 0);

    MorphView* morph = m_window->morphView();
    CellGrid* grid = morph->grid();
    QTest::mouseClick(grid, Qt::LeftButton, {},
                      grid->cellRect(MorphView::cornerCell(2, 5)).center());
    QCOMPARE(morph->targetName(), QStringLiteral("Corner 3"));
    const Latent before = toLatent(*m_window->model().latent, morph->corner(2));
    const Latent other = toLatent(*m_window->model().latent, morph->corner(0));
    QCOMPARE(panel->base(), before);
    const Latent v0 = panel->directions().vectors[0];
    const Latent v1 = panel->directions().vectors[1];
    const int undoSteps = m_window->undoStack()->count();
    panel->slider(0)->setValue(2 * DirectionsPanel::kSliderSteps);
    panel->slider(1)->setValue(-DirectionsPanel::kSliderSteps);
    const Latent after = toLatent(*m_window->model().latent, morph->corner(2));
    QVERIFY2(distance(after, plus(plus(before, v0, 2.0f), v1, -1.0f)) < 1e-4,
             qPrintable(QString::number(distance(after, plus(plus(before, v0, 2.0f), v1, -1.0f)))));
    QCOMPARE(toLatent(*m_window->model().latent, morph->corner(0)), other);
    QCOMPARE(panel->value(0), 2.0);
    QCOMPARE(panel->value(1), -1.0);
    // Each strip: the cat from -3 to +3 along its direction.
    QTRY_VERIFY_WITH_TIMEOUT(!panel->strip(DirectionsPanel::kShown - 1)->pixmap().isNull(), kWait);
    QCOMPARE(panel->strip(0)->pixmap().height(), 32);
    // Both moves are one step; undoing it puts the corner back and the sliders at 0.
    QCOMPARE(m_window->undoStack()->count(), undoSteps + 1);
    m_window->undoStack()->undo();
    QVERIFY(distance(toLatent(*m_window->model().latent, morph->corner(2)), before) < 1e-5);
    QCOMPARE(panel->slider(0)->value(), 0);
    QCOMPARE(panel->value(0), 0.0);
    // Reset after a move: the cat as it was.
    panel->slider(3)->setValue(15);
    panel->resetSliders();
    QVERIFY(distance(toLatent(*m_window->model().latent, morph->corner(2)), before) < 1e-5);
    // The panel steps aside for the Train view.
    auto* dock = m_window->findChild<QDockWidget*>(QStringLiteral("directionsDock"));
    QVERIFY(dock->isVisible());
    m_window->tabs()->setCurrentIndex(3);
    QVERIFY(!dock->isVisible());
    m_window->tabs()->setCurrentIndex(1);
    QVERIFY(dock->isVisible());
}

// Names and directions made from selected cats are kept with the model's directions and read back
// when the model opens again; the Generate view's sliders move the cat last clicked.
void TestExplorer::directionNamesAndSelectionsAreKept() {
    QTemporaryDir folder;
    findDirections(m_window.get(), folder.path());
    DirectionsPanel* panel = m_window->directionsPanel();
    panel->nameEdit(0)->setText(QStringLiteral("pose"));
    Q_EMIT panel->nameEdit(0)->editingFinished();
    QCOMPARE(loadDirections(panel->filePath().toStdString(), 16).names.front(),
             std::string("pose"));

    GenerateView* generate = m_window->generateView();
    m_window->tabs()->setCurrentWidget(generate);
    QTRY_VERIFY_WITH_TIMEOUT(settled(generate), kWait);
    CellGrid* grid = generate->grid();
    // A click selects one cat, Ctrl+click adds one or takes it away.
    QTest::mouseClick(grid, Qt::LeftButton, {}, grid->cellRect(4).center());
    QTest::mouseClick(grid, Qt::LeftButton, Qt::ControlModifier, grid->cellRect(1).center());
    QTest::mouseClick(grid, Qt::LeftButton, Qt::ControlModifier, grid->cellRect(7).center());
    QTest::mouseClick(grid, Qt::LeftButton, Qt::ControlModifier, grid->cellRect(1).center());
    QCOMPARE(grid->selectedCells(), (QVector<int>{4, 7}));
    const QVector<Latent> selected = generate->selectedLatents();
    QCOMPARE(selected.size(), 2);
    QCOMPARE(selected.first(), grid->latents()[4]);
    QVERIFY(panel->addFromSelection(QStringLiteral("tabby")));
    QCOMPARE(panel->count(), DirectionsPanel::kShown + 1);
    const torch::Tensor expected = attributeDirection(
        torch::stack({torch::tensor(std::vector<float>(selected[0].begin(), selected[0].end())),
                      torch::tensor(std::vector<float>(selected[1].begin(), selected[1].end()))}),
        2000);
    const Directions kept = loadDirections(panel->filePath().toStdString(), 16);
    QCOMPARE(kept.vectors.size(0), DirectionsPanel::kShown + 1);
    QVERIFY(torch::allclose(kept.vectors[DirectionsPanel::kShown], expected, 1e-5, 1e-6));
    QCOMPARE(kept.names.back(), std::string("tabby"));
    QCOMPARE(kept.variance.back(), 0.0);

    // The cat last clicked moves; the others stay.
    QCOMPARE(generate->targetName(), QStringLiteral("Cat 2"));
    QTest::mouseClick(grid, Qt::LeftButton, {}, grid->cellRect(4).center());
    QCOMPARE(generate->targetName(), QStringLiteral("Cat 5"));
    const QVector<Latent> batch = grid->latents();
    panel->slider(DirectionsPanel::kShown)->setValue(DirectionsPanel::kSliderSteps);
    QTRY_VERIFY_WITH_TIMEOUT(settled(generate), kWait);
    const Latent tabby = panel->directions().vectors[DirectionsPanel::kShown];
    QVERIFY(distance(grid->latents()[4], plus(batch[4], tabby, 1.0f)) < 1e-5);
    QCOMPARE(grid->latents()[3], batch[3]);

    // Opened again, the model's directions come back with their names.
    findDirections(m_window.get(), folder.path());
    QCOMPARE(panel->count(), DirectionsPanel::kShown + 1);
    QCOMPARE(panel->nameEdit(0)->text(), QStringLiteral("pose"));
    QCOMPARE(panel->nameEdit(DirectionsPanel::kShown)->text(), QStringLiteral("tabby"));
    // A found direction cannot be removed; a made one can.
    panel->removeDirection(0);
    QCOMPARE(panel->count(), DirectionsPanel::kShown + 1);
    panel->removeDirection(DirectionsPanel::kShown);
    QCOMPARE(panel->count(), DirectionsPanel::kShown);
    QCOMPARE(loadDirections(panel->filePath().toStdString(), 16).vectors.size(0),
             DirectionsPanel::kShown);
    // Nothing selected: a message, and no direction.
    grid->setSelectedCells({});
    QSignalSpy messages(panel, &DirectionsPanel::message);
    QVERIFY(!panel->addFromSelection(QStringLiteral("nothing")));
    QCOMPARE(messages.count(), 1);
    QCOMPARE(panel->count(), DirectionsPanel::kShown);
}

// A kept file that cannot be read is named in a message, and the directions are found again.
void TestExplorer::unreadableDirectionsAreFoundAfresh() {
    QTemporaryDir folder;
    findDirections(m_window.get(), folder.path());
    DirectionsPanel* panel = m_window->directionsPanel();
    const QString file = panel->filePath();
    const Latent first = panel->directions().vectors[0];
    std::ofstream(file.toStdString(), std::ios::trunc) << "CATTERY\x1a not really";
    QSignalSpy messages(panel, &DirectionsPanel::message);
    findDirections(m_window.get(), folder.path());
    QCOMPARE(messages.count(), 1);
    QVERIFY2(messages.first().first().toString().contains(file),
             qPrintable(messages.first().first().toString()));
    QCOMPARE(panel->count(), DirectionsPanel::kShown);
    QCOMPARE(panel->directions().vectors[0], first);
    QCOMPARE(loadDirections(file.toStdString(), 16).vectors.size(0), DirectionsPanel::kShown);
}

QTEST_MAIN(TestExplorer)
#include "test_explorer.moc"
