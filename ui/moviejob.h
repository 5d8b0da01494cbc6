#pragma once

#include <atomic>
#include <functional>

#include <QDialog>
#include <QImage>
#include <QString>
#include <QThread>
#include <QVector>

#include "ui/latentmath.h"

class QLabel;
class QListWidget;
class QPushButton;
class QRadioButton;
class QSpinBox;

namespace cattery::ui {

// What File > Export Movie makes, remembered between runs.
struct MovieSettings {
    int framesPerLeg = 30;  // frames from one corner (or cat of the path) to the next
    int fps = 30;
    int scale = 2;
    bool throughPath = false;  // through the dialog's list of cats instead of the grid's corners

    static MovieSettings remembered();
    void remember() const;
};

// A cat on a movie's path: its latent, and its picture for the list.
struct PathCat {
    Latent latent;
    QImage image;
};

// The most cats a movie's path may hold (as cattery-cli movie --path).
inline constexpr int kMostPathCats = 256;

// The Export Movie dialog: around the morph grid's corners, or through a list of cats (dragged
// from any view while it stays open, or the selected ones added; dragged within the list to
// reorder, Delete to take one out) and back to the first; frames per leg, frames per second and
// scale. It does not block the window; accepted() means export.
class MovieDialog : public QDialog {
    Q_OBJECT

public:
    // `selection`: the cats selected in the current view, for Add Selected.
    MovieDialog(std::function<QVector<PathCat>()> selection, QWidget* parent = nullptr);

    void setSettings(const MovieSettings& settings);
    MovieSettings settings() const;
    // The open model's latent size: cats of another are refused, and a change empties the path.
    void setLatentDim(int latentDim);
    QVector<PathCat> path() const;
    // Puts cats of the model's size into the path (up to kMostPathCats) before `row`, or at its
    // end when row is -1; how many were taken.
    int addCats(const QVector<PathCat>& cats, int row = -1);
    QListWidget* list() const;
    QRadioButton* pathButton() const { return m_pathButton; }
    QPushButton* okButton() const { return m_ok; }

private:
    void updateState();

    std::function<QVector<PathCat>()> m_selection;
    int m_latentDim = 0;
    QRadioButton* m_cornersButton;
    QRadioButton* m_pathButton;
    QListWidget* m_list;
    QLabel* m_note;
    QPushButton* m_addSelected;
    QSpinBox* m_frames;
    QSpinBox* m_fps;
    QSpinBox* m_scale;
    QPushButton* m_ok;
};

// Writes a morph movie off the UI thread: its own copy of the model (read from the file, so the
// window's worker goes on drawing), the loop through the points, drawn and written with progress,
// stopped between frames by cancel() (nothing is left at the path then).
class MovieJob : public QThread {
    Q_OBJECT

public:
    explicit MovieJob(QObject* parent = nullptr);
    ~MovieJob() override;

    // `points`: the latents the loop visits in turn (at least two) and leaves for the first
    // again. Ignored while one runs.
    void write(const QString& modelPath, const QVector<Latent>& points, bool slerp,
               const MovieSettings& settings, const QString& path);
    void cancel() { m_cancel = true; }

Q_SIGNALS:
    void progress(int done, int total);
    // `written`: false when cancelled.
    void done(const QString& path, bool written);
    void failed(const QString& path, const QString& message);

protected:
    void run() override;

private:
    QString m_modelPath;
    QVector<Latent> m_points;
    bool m_slerp = false;
    MovieSettings m_settings;
    QString m_path;
    std::atomic<bool> m_cancel{false};
};

}  // namespace cattery::ui
