#pragma once

#include <array>
#include <memory>

#include <QMainWindow>
#include <QStringList>

#include "ui/exportdialog.h"
#include "ui/latentmath.h"
#include "ui/moviejob.h"
#include "ui/projectionjob.h"

class QActionGroup;
class QLabel;
class QProgressBar;
class QTemporaryDir;
class QProgressDialog;
class QToolButton;
class QTabWidget;
class QUndoStack;

namespace cattery::ui {

class ArithmeticView;
class CellGrid;
class DirectionsPanel;
class ExplorerView;
class GenerateView;
class ModelPicker;
class MorphView;
class RenderWorker;
class TrainView;

// The explorer: Morph, Generate and Arithmetic views over one model, rendered by one worker.
class MainWindow : public QMainWindow {
    Q_OBJECT

public:
    // modelPath: the model to open first (empty: the last one used, else the shipped default).
    explicit MainWindow(const QString& modelPath = QString(), QWidget* parent = nullptr);
    ~MainWindow() override;

    // Asks the worker for a model; the views switch when it is ready, and keep the current one if
    // it fails to load.
    void openModel(const QString& path);
    bool exportSheet(const QString& path, const ExportOptions& options);
    // Starts writing a looping movie through `points` (at least two latents of the model's size),
    // or when none are given around the morph grid's corners (top-left, top-right, bottom-right,
    // bottom-left); progress and Cancel show while it runs. False when none can start (no model,
    // one is being written, or the points cannot make a movie).
    bool exportMovie(const QString& path, const MovieSettings& settings,
                     const QVector<Latent>& points = {});
    MovieJob* movieJob() const { return m_movieJob; }
    // File > Export Movie's dialog (made the first time it is asked for).
    MovieDialog* movieDialog();
    // Finds the cats closest to image files and hands them to `view` for `place` (a corner or
    // slot, or -1 for the view itself); progress and Cancel show in the status bar, and the images
    // and their cats beside them when done. False when none can start (no model, or a search is
    // running).
    bool findCats(ExplorerView* view, int place, const QStringList& images);
    ProjectionJob* projectionJob() const { return m_projectionJob; }
    // Edit > Find Pasted Image: the clipboard's image (or image files) found for the current
    // view's corner or slot being edited, or as the Generate view's batch.
    bool findPastedImage();
    bool openSheet(const QString& path);
    // The same once a model is open (at start, while the first model loads).
    void openSheetWhenReady(const QString& path);
    // The Train view, on a folder of images (a folder dropped on the window, or `cattery FOLDER`).
    void trainOn(const QString& folder);
    void copyImage();
    void copyLatent();

    const ModelSummary& model() const { return m_model; }
    MorphView* morphView() const { return m_morph; }
    GenerateView* generateView() const { return m_generate; }
    ArithmeticView* arithmeticView() const { return m_arith; }
    TrainView* trainView() const { return m_train; }
    DirectionsPanel* directionsPanel() const { return m_directions; }
    QTabWidget* tabs() const { return m_tabs; }
    QUndoStack* undoStack() const { return m_undo; }
    RenderWorker* worker() const { return m_worker; }
    ExplorerView* currentView() const;
    // The explorer views (the Train view is not one).
    std::array<ExplorerView*, 3> views() const;

Q_SIGNALS:
    void modelChanged(const cattery::ui::ModelSummary& model);
    void modelLoadFailed(const QString& path, const QString& message);

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void buildMenus();
    void onModelReady(const ModelSummary& model);
    void onModelFailed(const QString& path, const QString& message);
    void showCellMenu(ExplorerView* view, int cell, const QPoint& globalPos);
    void chooseModelFile();
    void chooseExport();
    void chooseMovie();
    void exportFromMovieDialog();
    void chooseSheet();
    void setZoom(int zoom);
    void showAbout();
    void showError(const QString& title, const QString& text);
    // False (with a message) when writing `what` to `path` would replace the open model.
    bool keepsInputs(const QString& path, const QString& what);

    RenderWorker* m_worker;
    QUndoStack* m_undo;
    QTabWidget* m_tabs;
    MorphView* m_morph;
    GenerateView* m_generate;
    ArithmeticView* m_arith;
    TrainView* m_train;
    DirectionsPanel* m_directions;
    bool m_directionsAside = false;  // hidden while the Train view is in front
    ModelPicker* m_picker = nullptr;
    QActionGroup* m_sizeGroup = nullptr;
    QActionGroup* m_zoomGroup = nullptr;
    QLabel* m_modelLabel = nullptr;
    QLabel* m_deviceLabel = nullptr;
    QLabel* m_timeLabel = nullptr;
    ModelSummary m_model;
    QString m_requestedPath;
    ExportOptions m_export;
    MovieJob* m_movieJob = nullptr;
    MovieDialog* m_movieDialog = nullptr;
    QProgressDialog* m_movieProgress = nullptr;
    ProjectionJob* m_projectionJob = nullptr;
    QLabel* m_findLabel = nullptr;
    QProgressBar* m_findProgress = nullptr;
    QToolButton* m_findCancel = nullptr;
    ExplorerView* m_findView = nullptr;  // where the cats being found go
    int m_findPlace = -1;
    std::unique_ptr<QTemporaryDir> m_pasted;  // pasted images, saved for the search to read
    int m_pastedCount = 0;
    Latent m_lastLatent;  // the cell last clicked, for Copy Latent
    QImage m_lastImage;
};

}  // namespace cattery::ui
