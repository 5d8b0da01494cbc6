#pragma once

#include <QImage>
#include <QVector>
#include <QWidget>

#include "ui/latentmath.h"

class QScrollArea;
class QUndoStack;

namespace cattery::ui {

class CellGrid;
class RenderWorker;

// Render channels: one per view (and one for the Directions panel's previews), so a new request
// only replaces its own view's stale one.
enum Channel {
    MorphChannel = 1,
    GenerateChannel = 2,
    ArithmeticChannel = 3,
    DirectionsChannel = 4
};

// What every view shares: the render worker, the undo stack and the model in use.
class ExplorerView : public QWidget {
    Q_OBJECT

public:
    ExplorerView(RenderWorker* worker, QUndoStack* undo, int channel, QWidget* parent);

    void setModel(const ModelSummary& model);
    const ModelSummary& model() const { return m_model; }
    bool hasModel() const { return m_model.latent != nullptr; }
    virtual CellGrid* grid() const = 0;
    // The name stored in exported sheets: "grid", "batch" or "arith".
    virtual QString sheetKind() const = 0;
    void setZoom(int zoom);
    // What an exported sheet holds: images, their latents, and images per row.
    virtual QVector<QImage> sheetImages() const;
    virtual QVector<Latent> sheetLatents() const;
    virtual int sheetColumns() const;
    // The label under each image of an exported sheet (by default 1, 2, 3, ...).
    virtual QStringList sheetLabels() const;
    // Takes back the latents of a sheet of `kind` ("grid", "batch" or "arith") as one undo step,
    // when this view can show it; the latents have this model's size.
    virtual bool takeSheet(const QString& kind, const QVector<Latent>& latents, int columns) = 0;
    // Whether the images of the newest request are still to come.
    bool renderPending() const { return m_lastRequest != m_lastShown; }
    // Takes the cats found for images dropped on `place` (imagesDropped) as one undo step: a
    // corner or slot takes the first, the batch all of them.
    virtual void takeFound(int place, const QVector<Latent>& latents) = 0;
    // Where a pasted image's cat goes: the corner or slot last edited (the first until one is),
    // or -1 for the view itself.
    virtual int pastePlace() const { return -1; }

    // The cat the Directions panel moves: the corner or slot last edited, or the cat last clicked.
    // Its name for the panel ("Corner 2"; empty: none) and its latent (empty: none).
    virtual QString targetName() const { return {}; }
    virtual Latent targetLatent() const { return {}; }
    // Sets the target's latent as an undo step, merged with the one before when that moved the
    // same cat.
    virtual void moveTarget(const Latent& latent) { Q_UNUSED(latent); }
    // The latents of the cats selected in the grid (click, Ctrl+click), in the grid's order.
    QVector<Latent> selectedLatents() const;

Q_SIGNALS:
    void renderShown(double milliseconds);
    void message(const QString& text);
    // Image files dropped on a corner or slot (`place`), or on the view (-1): their cats are
    // to be found, then handed to takeFound.
    void imagesDropped(int place, const QStringList& paths);
    // The target (targetName(), targetLatent()) is another cat, or its latent changed.
    void targetChanged();

protected:
    // The latents of every cell; the view shows the images of the newest request only.
    virtual QVector<Latent> cellLatents() const = 0;
    virtual void showImages(const QVector<QImage>& images, const QVector<Latent>& latents) = 0;
    virtual void modelChanged() {}
    void requestRender();
    QUndoStack* undoStack() const { return m_undo; }
    // Whether a dropped latent has this model's size; if not, says so in a message.
    bool fits(const Latent& latent);
    // Three random numbers in [-2, 2], two decimals: a Random button's corner or slot.
    static LatentValue randomThree();
    // The grid in a borderless scroll area, centred.
    QScrollArea* scrolling(QWidget* inner);
    // The editor (a corner's or a slot's) that last held the keyboard focus, of those given to
    // followEditors; 0 until one has. Changing it is a targetChanged().
    int currentEditor() const { return m_currentEditor; }
    void setCurrentEditor(int index);
    void followEditors(const QVector<QWidget*>& editors);

private:
    void onRendered(quint64 modelSerial, int channel, quint64 serial, const QVector<QImage>& images,
                    double ms);

    RenderWorker* m_worker;
    QUndoStack* m_undo;
    int m_channel;
    ModelSummary m_model;
    quint64 m_lastRequest = 0;
    quint64 m_lastShown = 0;
    QVector<Latent> m_requested;  // the latents of the newest request
    int m_currentEditor = 0;
};

}  // namespace cattery::ui
