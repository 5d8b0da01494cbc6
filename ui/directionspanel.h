#pragma once

#include <optional>

#include <QMutex>
#include <QPointer>
#include <QStringList>
#include <QThread>
#include <QVector>
#include <QWidget>

#include "ui/latentmath.h"

class QLabel;
class QLineEdit;
class QPushButton;
class QSlider;
class QTimer;
class QToolButton;
class QVBoxLayout;

namespace cattery::ui {

class ExplorerView;
class RenderWorker;

// A model's directions as the window holds them (core's Directions without torch).
struct DirectionSet {
    QVector<Latent> vectors;   // unit rows for found directions; a selection's as made
    QVector<double> variance;  // the share of the pictures' variance each explains (0: made)
    QStringList names;         // as the user named them ("" unnamed)
    quint32 generator = 0;     // the fingerprint of their model
};

// Writes `set` to `path` atomically; throws cattery::Error naming the file.
void saveDirectionSet(const QString& path, const DirectionSet& set);

// Finds a model's directions off the UI thread: its own copy of the model, the directions kept for
// it in `folder` (by its weights' fingerprint) when there are any and they can be read, else found
// afresh (principalDirections) and kept there. The newest request wins; one under way finishes
// first.
class DirectionsJob : public QThread {
    Q_OBJECT

public:
    explicit DirectionsJob(QObject* parent = nullptr);
    ~DirectionsJob() override;

    void find(quint64 serial, const QString& modelPath, const QString& folder);

Q_SIGNALS:
    // `note` says what the user should know (a kept file that could not be read, or not written).
    void ready(quint64 serial, const cattery::ui::DirectionSet& set, const QString& path,
               const QString& note);
    void failed(quint64 serial, const QString& message);

protected:
    void run() override;

private:
    struct Request {
        quint64 serial = 0;
        QString modelPath;
        QString folder;
    };
    void work(const Request& request);

    QMutex m_mutex;
    std::optional<Request> m_pending;
    bool m_running = false;
};

// The Directions panel: the model's top directions as sliders (in standard deviations, -3 to +3)
// that move the current view's target cat (a corner, a slot or the cat last clicked), each with an
// editable name and a strip of that cat moved along it; and directions made from the selected
// cats (the mean of the selection less that of random cats). Names and made directions are kept
// with the model's directions.
class DirectionsPanel : public QWidget {
    Q_OBJECT

public:
    static constexpr int kShown = 10;         // directions found for a model
    static constexpr int kStripPictures = 5;  // pictures per preview strip, -3 to +3
    static constexpr int kSliderSteps = 10;   // slider positions per standard deviation

    DirectionsPanel(RenderWorker* worker, QWidget* parent = nullptr);

    // Where directions are kept (by default the user's data folder).
    void setFolder(const QString& folder) { m_folder = folder; }
    void setModel(const ModelSummary& model);
    void setView(ExplorerView* view);

    // Adds the direction from the current view's selected cats, named `name`, and keeps it.
    // False (with a message) when no cats are selected.
    bool addFromSelection(const QString& name);
    // The same, asking for the name first.
    void makeFromSelection();
    // Removes direction `index` (one made from a selection; found ones stay).
    void removeDirection(int index);
    // Every slider back to 0: the target as it was.
    void resetSliders();

    bool ready() const { return m_ready; }
    const DirectionSet& directions() const { return m_set; }
    QString filePath() const { return m_file; }
    int count() const { return static_cast<int>(m_rows.size()); }
    QSlider* slider(int i) const;
    QLineEdit* nameEdit(int i) const;
    QLabel* strip(int i) const;
    // The latent the sliders start from, and each slider's value in standard deviations.
    const Latent& base() const { return m_base; }
    double value(int i) const { return m_values.value(i); }

Q_SIGNALS:
    void message(const QString& text);
    // The directions of the model now open are shown (found, or read back).
    void directionsReady();
    // Preview strips were drawn for the newest target.
    void stripsShown();

private:
    struct Row {
        QWidget* box = nullptr;
        QLineEdit* name = nullptr;
        QSlider* slider = nullptr;
        QLabel* value = nullptr;
        QLabel* strip = nullptr;
    };

    void onReady(quint64 serial, const DirectionSet& set, const QString& path, const QString& note);
    void buildRows();
    void onTargetChanged();
    void onSlider(int index, int position);
    void showValue(int index);
    void requestStrips();
    void onRendered(quint64 modelSerial, int channel, quint64 serial,
                    const QVector<QImage>& images);
    void save();
    Latent moved() const;  // the base moved by every slider

    RenderWorker* m_worker;
    DirectionsJob* m_job;
    QPointer<ExplorerView> m_view;
    ModelSummary m_model;
    QString m_folder;
    DirectionSet m_set;
    QString m_file;
    bool m_ready = false;
    quint64 m_jobSerial = 0;  // the newest request's
    QString m_targetName;
    Latent m_base;
    Latent m_last;  // what the sliders last set the target to
    QVector<double> m_values;
    QVector<Row> m_rows;
    QLabel* m_status;
    QLabel* m_target;
    QPushButton* m_reset;
    QPushButton* m_fromSelection;
    QVBoxLayout* m_rowsLayout;
    QTimer* m_stripTimer;
    quint64 m_stripSerial = 0;
};

}  // namespace cattery::ui

Q_DECLARE_METATYPE(cattery::ui::DirectionSet)
