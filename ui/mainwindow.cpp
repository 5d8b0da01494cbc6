#include "ui/mainwindow.h"

#include <algorithm>

#include <QActionGroup>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QCoreApplication>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QProgressDialog>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QToolBar>
#include <QToolButton>
#include <QUndoStack>

#include "core/errors.h"
#include "core/io/outputs.h"
#include "core/runtime/paths.h"
#include "ui/arithmeticview.h"
#include "ui/cellgrid.h"
#include "ui/directionspanel.h"
#include "ui/generateview.h"
#include "ui/modelpicker.h"
#include "ui/morphview.h"
#include "ui/plaintext.h"
#include "ui/renderworker.h"
#include "ui/sheetimage.h"
#include "ui/threeeditor.h"
#include "ui/trainview.h"

namespace cattery::ui {
namespace {

QString programDir() {
    return QCoreApplication::applicationDirPath();
}

}  // namespace

MainWindow::MainWindow(const QString& modelPath, QWidget* parent)
    : QMainWindow(parent),
      m_worker(new RenderWorker(this)),
      m_undo(new QUndoStack(this)),
      m_tabs(new QTabWidget(this)),
      m_morph(new MorphView(m_worker, m_undo, this)),
      m_generate(new GenerateView(m_worker, m_undo, this)),
      m_arith(new ArithmeticView(m_worker, m_undo, this)),
      m_train(new TrainView(this)),
      m_directions(new DirectionsPanel(m_worker, this)) {
    setWindowTitle(QStringLiteral("Cattery"));
    setAcceptDrops(true);
    m_tabs->addTab(m_morph, tr("&Morph"));
    m_tabs->addTab(m_generate, tr("&Generate"));
    m_tabs->addTab(m_arith, tr("&Arithmetic"));
    m_tabs->addTab(m_train, tr("&Train"));
    connect(m_train, &TrainView::openModelRequested, this, [this](const QString& path) {
        openModel(path);
        m_tabs->setCurrentWidget(m_morph);
    });
    setCentralWidget(m_tabs);
    // The Directions panel moves the current view's cat; the Train view has none.
    auto* dock = new QDockWidget(tr("Directions"), this);
    dock->setObjectName(QStringLiteral("directionsDock"));
    dock->setWidget(m_directions);
    addDockWidget(Qt::RightDockWidgetArea, dock);
    connect(this, &MainWindow::modelChanged, m_directions, &DirectionsPanel::setModel);
    // It steps aside for the Train view, and comes back with the explorer views if it was shown.
    connect(m_tabs, &QTabWidget::currentChanged, this, [this, dock] {
        m_directions->setView(currentView());
        if (currentView() == nullptr && dock->isVisible()) {
            m_directionsAside = true;
            dock->hide();
        } else if (currentView() != nullptr && m_directionsAside) {
            m_directionsAside = false;
            dock->show();
        }
    });
    connect(m_directions, &DirectionsPanel::message, this,
            [this](const QString& m) { statusBar()->showMessage(m, 8000); });
    m_directions->setView(currentView());

    connect(m_worker, &RenderWorker::modelReady, this, &MainWindow::onModelReady);
    connect(m_worker, &RenderWorker::modelFailed, this, &MainWindow::onModelFailed);
    connect(m_worker, &RenderWorker::renderFailed, this,
            [this](const QString& m) { statusBar()->showMessage(tr("Render failed: %1").arg(m)); });
    for (ExplorerView* view : views()) {
        connect(view, &ExplorerView::renderShown, this,
                [this](double ms) { m_timeLabel->setText(tr("%1 ms").arg(ms, 0, 'f', 0)); });
        connect(view, &ExplorerView::message, this,
                [this](const QString& m) { statusBar()->showMessage(m, 6000); });
        connect(view->grid(), &CellGrid::cellMenuRequested, this,
                [this, view](int cell, const QPoint& pos) { showCellMenu(view, cell, pos); });
        connect(
            view, &ExplorerView::imagesDropped, this,
            [this, view](int place, const QStringList& paths) { findCats(view, place, paths); });
        connect(view->grid(), &CellGrid::cellClicked, this, [this, view](int cell) {
            m_lastLatent = view->grid()->latents().value(cell);
            m_lastImage = view->grid()->cellImage(cell);
        });
    }

    m_modelLabel = new QLabel(tr("No model"), this);
    m_modelLabel->setObjectName(QStringLiteral("modelName"));
    m_deviceLabel = new QLabel(this);
    m_timeLabel = new QLabel(this);
    for (QLabel* label : {m_modelLabel, m_deviceLabel, m_timeLabel}) {
        label->setTextFormat(Qt::PlainText);  // the model's name comes from its file
    }
    statusBar()->addPermanentWidget(m_modelLabel);
    statusBar()->addPermanentWidget(m_deviceLabel);
    statusBar()->addPermanentWidget(m_timeLabel);

    QSettings settings;
    m_export = ExportOptions::remembered();
    // Movies are written by a job of their own, with progress and Cancel beside the window.
    m_movieJob = new MovieJob(this);
    m_movieProgress = new QProgressDialog(this);
    m_movieProgress->setWindowTitle(tr("Export Movie"));
    m_movieProgress->setWindowModality(Qt::NonModal);
    m_movieProgress->setAutoReset(false);
    m_movieProgress->setAutoClose(false);
    m_movieProgress->reset();
    m_movieProgress->hide();
    connect(m_movieProgress, &QProgressDialog::canceled, m_movieJob, &MovieJob::cancel);
    connect(m_movieJob, &MovieJob::progress, this, [this](int done, int total) {
        m_movieProgress->setMaximum(total);
        m_movieProgress->setValue(done);
    });
    connect(m_movieJob, &MovieJob::done, this, [this](const QString& path, bool written) {
        m_movieProgress->hide();
        statusBar()->showMessage(
            written ? tr("Wrote %1").arg(path) : tr("Cancelled: %1 was not written").arg(path),
            5000);
    });
    connect(m_movieJob, &MovieJob::failed, this, [this](const QString&, const QString& message) {
        m_movieProgress->hide();
        showError(tr("Could not export the movie"), message);
    });
    // Cats are found for dropped images by a job of their own, with progress and Cancel in the
    // status bar.
    m_projectionJob = new ProjectionJob(this);
    m_findLabel = new QLabel(this);
    m_findLabel->setTextFormat(Qt::PlainText);  // file names are the user's
    m_findProgress = new QProgressBar(this);
    m_findProgress->setMaximumWidth(160);
    m_findCancel = new QToolButton(this);
    m_findCancel->setText(tr("Cancel"));
    m_findCancel->setToolTip(tr("Stop looking for the cat"));
    for (QWidget* w : std::initializer_list<QWidget*>{m_findLabel, m_findProgress, m_findCancel}) {
        statusBar()->addWidget(w);
        w->hide();
    }
    const auto hideFind = [this] {
        for (QWidget* w :
             std::initializer_list<QWidget*>{m_findLabel, m_findProgress, m_findCancel}) {
            w->hide();
        }
    };
    connect(m_findCancel, &QToolButton::clicked, m_projectionJob, &ProjectionJob::cancel);
    connect(m_projectionJob, &ProjectionJob::progress, this, [this](int done, int total) {
        m_findProgress->setMaximum(total);
        m_findProgress->setValue(done);
    });
    connect(m_projectionJob, &ProjectionJob::found, this,
            [this, hideFind](const QVector<FoundCat>& cats) {
                hideFind();
                QVector<Latent> latents;
                for (const FoundCat& c : cats) {
                    latents << c.latent;
                }
                // The model may have changed while the search ran: its latents would not fit.
                if (m_findView != nullptr && m_model.latentDim == latents.first().size()) {
                    m_findView->takeFound(m_findPlace, latents);
                }
                statusBar()->showMessage(cats.size() == 1
                                             ? tr("Found the cat closest to %1: distance %2")
                                                   .arg(QFileInfo(cats.first().path).fileName())
                                                   .arg(cats.first().distance, 0, 'f', 3)
                                             : tr("Found the cats closest to %n images", nullptr,
                                                  static_cast<int>(cats.size())),
                                         8000);
                showFoundCats(this, cats);
            });
    connect(m_projectionJob, &ProjectionJob::cancelled, this, [this, hideFind] {
        hideFind();
        statusBar()->showMessage(tr("Stopped looking for the cat"), 5000);
    });
    connect(m_projectionJob, &ProjectionJob::failed, this,
            [this, hideFind](const QString& message) {
                hideFind();
                showError(tr("Could not find the cat"), message);
            });
    buildMenus();
    m_morph->applyGridSize(std::clamp(settings.value(QStringLiteral("gridSize"), 5).toInt(),
                                      MorphView::kMinSize, MorphView::kMaxSize));
    m_morph->setSlerp(settings.value(QStringLiteral("slerp"), false).toBool());
    if (settings.contains(QStringLiteral("zoom"))) {
        setZoom(settings.value(QStringLiteral("zoom")).toInt());
    }
    if (!restoreGeometry(settings.value(QStringLiteral("geometry")).toByteArray())) {
        resize(1400, 800);
    }
    restoreState(settings.value(QStringLiteral("windowState")).toByteArray());

    QString first = modelPath;
    if (first.isEmpty()) {
        first = settings.value(QStringLiteral("lastModel")).toString();
        if (!first.isEmpty() && !QFileInfo::exists(first)) {
            first.clear();
        }
    }
    if (first.isEmpty()) {
        if (const auto def = defaultModelPath(programDir().toStdString())) {
            first = QString::fromStdString(*def);
        }
    }
    if (first.isEmpty()) {
        statusBar()->showMessage(tr("No model found: open one with File > Open Model."));
    } else {
        openModel(first);
    }
}

MainWindow::~MainWindow() {
    // The undo stack is deleted with the window's children and signals its clearing as it goes,
    // when this window is no longer whole: nothing here may answer it then.
    m_undo->disconnect(this);
}

void MainWindow::buildMenus() {
    auto* file = menuBar()->addMenu(tr("&File"));
    auto* open = file->addAction(tr("&Open Model..."), QKeySequence::Open, this,
                                 &MainWindow::chooseModelFile);
    m_picker = new ModelPicker(file->addMenu(tr("&Recent Models")), this);
    connect(m_picker, &ModelPicker::openRequested, this, &MainWindow::openModel);
    file->addSeparator();
    auto* exportAction = file->addAction(tr("&Export Sheet..."), QKeySequence(tr("Ctrl+E")), this,
                                         &MainWindow::chooseExport);
    file->addAction(tr("Export &Movie..."), QKeySequence(tr("Ctrl+Shift+E")), this,
                    &MainWindow::chooseMovie);
    file->addAction(tr("Open &Sheet..."), QKeySequence(tr("Ctrl+Shift+O")), this,
                    &MainWindow::chooseSheet);
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    auto* edit = menuBar()->addMenu(tr("&Edit"));
    auto* undo = m_undo->createUndoAction(this, tr("&Undo"));
    undo->setShortcut(QKeySequence::Undo);
    auto* redo = m_undo->createRedoAction(this, tr("&Redo"));
    redo->setShortcut(QKeySequence::Redo);
    edit->addAction(undo);
    edit->addAction(redo);
    edit->addSeparator();
    edit->addAction(tr("&Copy Image"), QKeySequence::Copy, this, &MainWindow::copyImage);
    edit->addAction(tr("Copy &Latent"), QKeySequence(tr("Ctrl+Shift+C")), this,
                    &MainWindow::copyLatent);
    edit->addAction(tr("&Find Pasted Image"), QKeySequence(tr("Ctrl+Shift+V")), this,
                    &MainWindow::findPastedImage);
    edit->addSeparator();
    edit->addAction(tr("Make &Direction from Selection..."), QKeySequence(tr("Ctrl+Shift+D")),
                    m_directions, &DirectionsPanel::makeFromSelection);

    auto* view = menuBar()->addMenu(tr("&View"));
    auto* sizeMenu = view->addMenu(tr("&Grid Size"));
    m_sizeGroup = new QActionGroup(this);
    for (int n = MorphView::kMinSize; n <= MorphView::kMaxSize; ++n) {
        auto* a = sizeMenu->addAction(tr("%1 x %1").arg(n));
        a->setCheckable(true);
        a->setData(n);
        m_sizeGroup->addAction(a);
        connect(a, &QAction::triggered, this, [this, n] { m_morph->resizeGrid(n); });
    }
    auto* zoomMenu = view->addMenu(tr("Cell &Zoom"));
    m_zoomGroup = new QActionGroup(this);
    for (int z = 1; z <= 8; ++z) {
        auto* a = zoomMenu->addAction(tr("x%1").arg(z));
        a->setCheckable(true);
        a->setData(z);
        m_zoomGroup->addAction(a);
        connect(a, &QAction::triggered, this, [this, z] { setZoom(z); });
    }
    zoomMenu->addSeparator();
    zoomMenu->addAction(tr("Zoom &In"), QKeySequence::ZoomIn, this,
                        [this] { setZoom(m_morph->grid()->zoom() + 1); });
    zoomMenu->addAction(tr("Zoom &Out"), QKeySequence::ZoomOut, this,
                        [this] { setZoom(m_morph->grid()->zoom() - 1); });
    auto* slerp = view->addAction(tr("&Spherical Interpolation (slerp)"));
    slerp->setCheckable(true);
    slerp->setChecked(QSettings().value(QStringLiteral("slerp"), false).toBool());
    connect(slerp, &QAction::toggled, this, [this](bool on) {
        m_morph->setSlerp(on);
        QSettings().setValue(QStringLiteral("slerp"), on);
    });
    auto* directions =
        findChild<QDockWidget*>(QStringLiteral("directionsDock"))->toggleViewAction();
    directions->setText(tr("&Directions Panel"));
    directions->setShortcut(QKeySequence(tr("Ctrl+D")));
    view->addAction(directions);
    view->addSeparator();
    for (int i = 0; i < 4; ++i) {
        view->addAction(m_tabs->tabText(i).remove(QLatin1Char('&')),
                        QKeySequence(tr("Ctrl+%1").arg(i + 1)), this,
                        [this, i] { m_tabs->setCurrentIndex(i); });
    }
    auto* generate =
        view->addAction(tr("&Generate Batch"), QKeySequence(tr("Ctrl+G")), this, [this] {
            m_tabs->setCurrentWidget(m_generate);
            m_generate->generate();
        });
    connect(m_undo, &QUndoStack::indexChanged, this, [this] {
        for (QAction* a : m_sizeGroup->actions()) {
            a->setChecked(a->data().toInt() == m_morph->gridSize());
        }
        QSettings().setValue(QStringLiteral("gridSize"), m_morph->gridSize());
    });

    auto* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Cattery"), this, &MainWindow::showAbout);

    auto* bar = addToolBar(tr("Main"));
    bar->setObjectName(QStringLiteral("mainToolBar"));
    bar->addWidget(new QLabel(tr(" Model: "), this));
    bar->addWidget(m_picker);
    bar->addAction(open);
    bar->addSeparator();
    bar->addAction(generate);
    bar->addAction(exportAction);
    bar->addSeparator();
    bar->addAction(undo);
    bar->addAction(redo);
    for (QAction* a : m_sizeGroup->actions()) {
        a->setChecked(a->data().toInt() == m_morph->gridSize());
    }
}

void MainWindow::openModel(const QString& path) {
    m_requestedPath = path;
    statusBar()->showMessage(tr("Opening %1...").arg(path));
    m_worker->openModel(path);
}

void MainWindow::onModelReady(const ModelSummary& model) {
    m_model = model;
    if (!QSettings().contains(QStringLiteral("zoom"))) {
        // Until the user picks a zoom, cells are about 128 pixels wide.
        setZoom(std::max(1, 128 / std::max(1, model.imageSize)));
        QSettings().remove(QStringLiteral("zoom"));
    }
    m_morph->setModel(model);
    m_generate->setModel(model);
    m_arith->setModel(model);
    m_modelLabel->setText(model.name);
    m_modelLabel->setToolTip(plainTip(model.description));
    m_deviceLabel->setText(model.device);
    setWindowTitle(tr("%1 - Cattery").arg(model.name));
    statusBar()->showMessage(tr("Opened %1").arg(model.path), 4000);
    QSettings().setValue(QStringLiteral("lastModel"), model.path);
    m_picker->remember(model.path);
    Q_EMIT modelChanged(model);
}

void MainWindow::onModelFailed(const QString& path, const QString& message) {
    statusBar()->showMessage(tr("Could not open %1").arg(path), 8000);
    m_picker->showCurrent(m_model.path);
    showError(
        tr("Could not open the model"),
        tr("%1\n\n%2")
            .arg(message, m_model.latent ? tr("%1 stays open.").arg(m_model.name) : QString()));
    Q_EMIT modelLoadFailed(path, message);
}

bool MainWindow::keepsInputs(const QString& path, const QString& what) {
    try {
        checkOutputs({{tr("the open model").toStdString(), m_model.path.toStdString()}},
                     {{what.toStdString(), path.toStdString()}});
        return true;
    } catch (const ConfigError& e) {
        showError(tr("Nothing was written"), QString::fromStdString(e.what()));
        return false;
    }
}

void MainWindow::showError(const QString& title, const QString& text) {
    // Window-modal and non-blocking: the event loop (and any render) goes on.
    plainWarning(this, title, text)->open();
}

std::array<ExplorerView*, 3> MainWindow::views() const {
    return {m_morph, m_generate, m_arith};
}

ExplorerView* MainWindow::currentView() const {
    return qobject_cast<ExplorerView*>(m_tabs->currentWidget());
}

void MainWindow::setZoom(int zoom) {
    zoom = std::clamp(zoom, 1, 8);
    for (ExplorerView* view : views()) {
        view->setZoom(view == m_arith ? std::min(8, zoom * 3 / 2 + 1) : zoom);
    }
    for (QAction* a : m_zoomGroup->actions()) {
        a->setChecked(a->data().toInt() == zoom);
    }
    QSettings().setValue(QStringLiteral("zoom"), zoom);
}

void MainWindow::showCellMenu(ExplorerView* view, int cell, const QPoint& globalPos) {
    const Latent latent = view->grid()->latents().value(cell);
    const QImage image = view->grid()->cellImage(cell);
    if (latent.isEmpty() || !m_model.latent) {
        return;
    }
    QMenu menu(this);
    for (int c = 0; c < 4; ++c) {
        menu.addAction(tr("Set as Corner %1").arg(c + 1), this,
                       [this, c, latent] { m_morph->dropOnCorner(c, latent, -1); });
    }
    menu.addSeparator();
    const char* names[3] = {"A", "B", "C"};
    for (int s = 0; s < 3; ++s) {
        menu.addAction(tr("Send to Arithmetic %1").arg(QLatin1String(names[s])), this,
                       [this, s, latent] { m_arith->dropOnSlot(s, latent); });
    }
    menu.addSeparator();
    menu.addAction(tr("Copy Latent"), this,
                   [latent] { QApplication::clipboard()->setText(latentText(latent)); });
    menu.addAction(tr("Copy Image"), this, [image] { QApplication::clipboard()->setImage(image); });
    menu.addAction(tr("Save Image..."), this, [this, image] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save Image"), QString(),
                                                          tr("PNG images (*.png)"));
        if (path.isEmpty() || !keepsInputs(path, tr("the image"))) {
            return;
        }
        if (!image.save(path, "PNG")) {
            showError(tr("Could not save the image"), tr("%1 could not be written.").arg(path));
        }
    });
    menu.exec(globalPos);
}

void MainWindow::copyImage() {
    ExplorerView* view = currentView();
    const QImage image = view != nullptr ? view->grid()->gridImage() : QImage();
    if (!image.isNull()) {
        QApplication::clipboard()->setImage(image);
        statusBar()->showMessage(tr("Copied the view's image"), 3000);
    }
}

void MainWindow::copyLatent() {
    if (m_lastLatent.isEmpty()) {
        statusBar()->showMessage(tr("Click a cat first, then copy its latent."), 4000);
        return;
    }
    QApplication::clipboard()->setText(latentText(m_lastLatent));
    statusBar()->showMessage(tr("Copied the latent (%1 numbers)").arg(m_lastLatent.size()), 3000);
}

bool MainWindow::exportSheet(const QString& path, const ExportOptions& options) {
    ExplorerView* view = currentView();
    const QVector<QImage> images = view ? view->sheetImages() : QVector<QImage>();
    const QVector<Latent> latents = view ? view->sheetLatents() : QVector<Latent>();
    if (images.isEmpty() || images.size() != latents.size()) {
        showError(tr("Nothing to export"), tr("The view has no images yet."));
        return false;
    }
    const int columns = view->sheetColumns();
    if (!keepsInputs(path, tr("the sheet"))) {
        return false;
    }
    try {
        writeSheetPng(path, sheetImage(images, options.sheet(columns), view->sheetLabels()),
                      view->sheetKind(), m_model.name, latents, columns);
    } catch (const Error& e) {
        showError(tr("Could not export the sheet"), QString::fromStdString(e.what()));
        return false;
    }
    statusBar()->showMessage(tr("Wrote %1").arg(path), 5000);
    return true;
}

bool MainWindow::openSheet(const QString& path) {
    SheetLatents sheet;
    try {
        sheet = readSheetLatents(path);
    } catch (const Error& e) {
        showError(tr("Could not open the sheet"), QString::fromStdString(e.what()));
        return false;
    }
    if (!m_model.latent || sheet.latents.first().size() != m_model.latentDim) {
        showError(tr("Could not open the sheet"),
                  tr("%1 holds latents of %2 numbers; the open model takes %3.")
                      .arg(path)
                      .arg(sheet.latents.first().size())
                      .arg(m_model.latentDim));
        return false;
    }
    // The view that made the sheet takes it back; any other becomes a batch.
    for (ExplorerView* view :
         {static_cast<ExplorerView*>(m_morph), static_cast<ExplorerView*>(m_arith),
          static_cast<ExplorerView*>(m_generate)}) {
        if (view->takeSheet(sheet.view, sheet.latents, sheet.columns)) {
            m_tabs->setCurrentWidget(view);
            break;
        }
    }
    statusBar()->showMessage(tr("Opened the sheet %1").arg(path), 5000);
    return true;
}

void MainWindow::openSheetWhenReady(const QString& path) {
    if (m_model.latent) {
        openSheet(path);
        return;
    }
    auto once = std::make_shared<QMetaObject::Connection>();
    *once = connect(this, &MainWindow::modelChanged, this, [this, path, once] {
        disconnect(*once);
        openSheet(path);
    });
}

void MainWindow::trainOn(const QString& folder) {
    m_train->setFolder(folder);
    m_tabs->setCurrentWidget(m_train);
}

void MainWindow::chooseModelFile() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open Model"), QString(),
                                                      tr("Cattery models (*.cattery)"));
    if (!path.isEmpty()) {
        openModel(path);
    }
}

void MainWindow::chooseExport() {
    if (!editExportOptions(this, m_export)) {
        return;
    }
    m_export.remember();
    QSettings settings;
    const QString dir = settings.value(QStringLiteral("export/dir")).toString();
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export Sheet"),
        dir + QStringLiteral("/cattery-%1.png").arg(currentView()->sheetKind()),
        tr("PNG images (*.png)"));
    if (!path.isEmpty() && exportSheet(path, m_export)) {
        settings.setValue(QStringLiteral("export/dir"), QFileInfo(path).absolutePath());
    }
}

bool MainWindow::exportMovie(const QString& path, const MovieSettings& settings,
                             const QVector<Latent>& points) {
    if (!m_model.latent || m_model.path.isEmpty()) {
        showError(tr("Nothing to export"), tr("No model is open yet."));
        return false;
    }
    if (m_movieJob->isRunning()) {
        showError(tr("A movie is being written"),
                  tr("Wait for it to finish, or cancel it, before starting another."));
        return false;
    }
    if (!keepsInputs(path, tr("the movie"))) {
        return false;
    }
    QVector<Latent> loop = points;
    if (loop.isEmpty()) {
        for (const int corner : {0, 1, 3, 2}) {  // around the grid's edge
            loop.push_back(toLatent(*m_model.latent, m_morph->corner(corner)));
        }
    }
    const bool fits = std::all_of(loop.begin(), loop.end(), [this](const Latent& z) {
        return z.size() == m_model.latentDim;
    });
    if (loop.size() < 2 || loop.size() > kMostPathCats || !fits) {
        showError(tr("Nothing to export"),
                  !fits ? tr("The path's cats belong to a model with another latent size.")
                        : tr("A movie's path needs 2 to %1 cats.").arg(kMostPathCats));
        return false;
    }
    m_movieProgress->setLabelText(tr("Drawing and writing %1").arg(QFileInfo(path).fileName()));
    m_movieProgress->setValue(0);
    m_movieProgress->show();
    m_movieJob->write(m_model.path, loop, m_morph->slerp(), settings, path);
    return true;
}

bool MainWindow::findCats(ExplorerView* view, int place, const QStringList& images) {
    if (m_model.path.isEmpty() || images.isEmpty()) {
        return false;
    }
    if (m_projectionJob->busy()) {
        statusBar()->showMessage(tr("Still looking for the last cat: wait, or Cancel it"), 5000);
        return false;
    }
    m_findView = view;
    m_findPlace = place;
    m_findLabel->setText(
        images.size() == 1
            ? tr("Finding the cat closest to %1").arg(QFileInfo(images.first()).fileName())
            : tr("Finding the cats closest to %n images", nullptr,
                 static_cast<int>(images.size())));
    m_findProgress->setRange(0, 0);  // busy until the first progress
    for (QWidget* w : std::initializer_list<QWidget*>{m_findLabel, m_findProgress, m_findCancel}) {
        w->show();
    }
    m_projectionJob->find(m_model.path, images);
    return true;
}

bool MainWindow::findPastedImage() {
    ExplorerView* view = currentView();
    const QMimeData* mime = QApplication::clipboard()->mimeData();
    if (view == nullptr || mime == nullptr) {
        return false;
    }
    QStringList images = imageFilesFromMime(mime);
    if (images.isEmpty() && mime->hasImage()) {
        if (!m_pasted) {
            m_pasted = std::make_unique<QTemporaryDir>();
        }
        const QString path =
            m_pasted->filePath(QStringLiteral("pasted-%1.png").arg(++m_pastedCount));
        if (!m_pasted->isValid() || !qvariant_cast<QImage>(mime->imageData()).save(path, "PNG")) {
            showError(tr("Could not find the cat"),
                      tr("The pasted image could not be saved for the search."));
            return false;
        }
        images << path;
    }
    if (images.isEmpty()) {
        statusBar()->showMessage(tr("Copy an image (or image files) first, then paste it here."),
                                 5000);
        return false;
    }
    return findCats(view, view->pastePlace(), images);
}

MovieDialog* MainWindow::movieDialog() {
    if (m_movieDialog == nullptr) {
        m_movieDialog = new MovieDialog(
            [this] {
                QVector<PathCat> cats;
                if (ExplorerView* view = currentView()) {
                    for (int cell : view->grid()->selectedCells()) {
                        const Latent z = view->grid()->latents().value(cell);
                        if (!z.isEmpty()) {
                            cats.push_back({z, view->grid()->cellImage(cell)});
                        }
                    }
                }
                return cats;
            },
            this);
        m_movieDialog->setSettings(MovieSettings::remembered());
        m_movieDialog->setLatentDim(m_model.latentDim);
        connect(this, &MainWindow::modelChanged, m_movieDialog, [this](const ModelSummary& model) {
            m_movieDialog->setLatentDim(model.latentDim);
        });
        connect(m_movieDialog, &QDialog::accepted, this, &MainWindow::exportFromMovieDialog);
    }
    return m_movieDialog;
}

void MainWindow::chooseMovie() {
    MovieDialog* dialog = movieDialog();
    dialog->show();
    dialog->raise();
    dialog->activateWindow();
}

void MainWindow::exportFromMovieDialog() {
    const MovieSettings settings = m_movieDialog->settings();
    settings.remember();
    QVector<Latent> points;
    if (settings.throughPath) {
        for (const PathCat& cat : m_movieDialog->path()) {
            points.push_back(cat.latent);
        }
    }
    QSettings stored;
    const QString dir = stored.value(QStringLiteral("export/dir")).toString();
    const QString path = QFileDialog::getSaveFileName(this, tr("Export Movie"),
                                                      dir + QStringLiteral("/cattery-morph.mp4"),
                                                      tr("MP4 videos (*.mp4)"));
    if (!path.isEmpty() && exportMovie(path, settings, points)) {
        stored.setValue(QStringLiteral("export/dir"), QFileInfo(path).absolutePath());
    }
}

void MainWindow::chooseSheet() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open Sheet"), QString(),
                                                      tr("Cattery sheets (*.png)"));
    if (!path.isEmpty()) {
        openSheet(path);
    }
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    for (const QUrl& url : event->mimeData()->urls()) {
        const QFileInfo info(url.toLocalFile());
        const QString suffix = info.suffix().toLower();
        if (info.isDir() || suffix == QLatin1String("cattery") || suffix == QLatin1String("png")) {
            event->acceptProposedAction();
            return;
        }
    }
}

void MainWindow::dropEvent(QDropEvent* event) {
    for (const QUrl& url : event->mimeData()->urls()) {
        const QString path = url.toLocalFile();
        const QString suffix = QFileInfo(path).suffix().toLower();
        if (QFileInfo(path).isDir()) {
            trainOn(path);  // a folder of images
        } else if (suffix == QLatin1String("cattery")) {
            openModel(path);
        } else if (suffix == QLatin1String("png")) {
            openSheet(path);
        }
    }
    event->acceptProposedAction();
}

void MainWindow::closeEvent(QCloseEvent* event) {
    if (m_train->running()) {
        const auto answer = QMessageBox::question(
            this, tr("Training is running"),
            tr("Stop training and close? A checkpoint is saved, so the run can be resumed."),
            QMessageBox::Yes | QMessageBox::No, QMessageBox::No);
        if (answer != QMessageBox::Yes) {
            event->ignore();
            return;
        }
        m_train->stopAndWait();
    }
    QSettings().setValue(QStringLiteral("geometry"), saveGeometry());
    if (m_directionsAside) {  // kept as the user left it, not as the Train view does
        findChild<QDockWidget*>(QStringLiteral("directionsDock"))->show();
    }
    QSettings().setValue(QStringLiteral("windowState"), saveState());
    QMainWindow::closeEvent(event);
}

void MainWindow::showAbout() {
    QMessageBox::about(
        this, tr("About Cattery"),
        tr("<h3>Cattery %1</h3><p>Explore and train small generative models of cartoon cats.</p>"
           "<p>Model: %2</p>"
           "<p>The Emoji model is trained on Twemoji graphics, Copyright Twitter, Inc. and other "
           "contributors (jdecked/twemoji fork), licensed CC-BY 4.0 "
           "(https://creativecommons.org/licenses/by/4.0/).</p>"
           "<p>The procedural cats are drawn by Cattery itself.</p>")
            .arg(QStringLiteral(CATTERY_VERSION), m_model.name.toHtmlEscaped()));
}

}  // namespace cattery::ui
