#pragma once

#include <array>

#include <QImage>
#include <QVector>
#include <QWidget>

#include "ui/latentmath.h"

class QCheckBox;
class QDoubleSpinBox;
class QLabel;
class QPushButton;
class QSlider;
class QSpinBox;
class QUndoStack;

namespace cattery::ui {

class CellGrid;
class RenderWorker;
class ThreeEditor;

// Render channels: one per view, so a new request only replaces its own view's stale one.
enum Channel { MorphChannel = 1, GenerateChannel = 2, ArithmeticChannel = 3 };

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
    // Renders received and requests sent, for the status bar and tests.
    int rendersShown() const { return m_shown; }
    quint64 lastRequest() const { return m_lastRequest; }
    bool renderPending() const { return m_lastRequest != m_lastShown; }

Q_SIGNALS:
    void renderShown(double milliseconds);
    void message(const QString& text);

protected:
    // The latents of every cell; the view shows the images of the newest request only.
    virtual QVector<Latent> cellLatents() const = 0;
    virtual void showImages(const QVector<QImage>& images, const QVector<Latent>& latents) = 0;
    virtual void modelChanged() {}
    void requestRender();
    QUndoStack* undoStack() const { return m_undo; }
    // Whether a dropped latent has this model's size; if not, says so in a message.
    bool fits(const Latent& latent);

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
    int m_shown = 0;
};

// The demo's corner morph: an n x n grid between four corners set by three numbers or dropped cats.
class MorphView : public ExplorerView {
    Q_OBJECT

public:
    MorphView(RenderWorker* worker, QUndoStack* undo, QWidget* parent = nullptr);

    CellGrid* grid() const override { return m_grid; }
    QString sheetKind() const override { return QStringLiteral("grid"); }
    ThreeEditor* editor(int corner) const { return m_editors[static_cast<size_t>(corner)]; }
    const LatentValue& corner(int i) const { return m_corners[static_cast<size_t>(i)]; }
    int gridSize() const { return m_size; }
    bool slerp() const { return m_slerp; }

    // Undoable user actions.
    void changeCorner(int corner, const LatentValue& value, bool mergeable = false);
    void dropOnCorner(int corner, const Latent& latent, int sourceCorner);
    void swapCorners(int a, int b);
    void resizeGrid(int n);
    void randomCorner(int corner);
    void setSlerp(bool slerp);

    // Direct setters for the undo commands.
    void applyCorner(int corner, const LatentValue& value);
    void applyGridSize(int n);

    static constexpr int kMinSize = 2;
    static constexpr int kMaxSize = 12;
    static int cornerCell(int corner, int n);

protected:
    QVector<Latent> cellLatents() const override;
    void showImages(const QVector<QImage>& images, const QVector<Latent>& latents) override;
    void modelChanged() override;

private:
    void refresh();

    CellGrid* m_grid;
    std::array<ThreeEditor*, 4> m_editors{};
    std::array<LatentValue, 4> m_corners;
    int m_size = 5;
    bool m_slerp = false;
};

// One click, a batch of random cats; the same seed always gives the same batch.
class GenerateView : public ExplorerView {
    Q_OBJECT

public:
    struct Batch {
        int count = 25;
        quint64 seed = 1;
        double truncation = 0.0;
        QVector<Latent> latents;  // set when the batch came from a sheet instead of a seed
        bool operator==(const Batch& o) const {
            return count == o.count && seed == o.seed && truncation == o.truncation &&
                   latents == o.latents;
        }
    };

    GenerateView(RenderWorker* worker, QUndoStack* undo, QWidget* parent = nullptr);

    CellGrid* grid() const override { return m_grid; }
    QString sheetKind() const override { return QStringLiteral("batch"); }
    const Batch& batch() const { return m_batch; }

    // Undoable: a fresh seed, or the batch the controls describe, or given latents.
    void generate();
    void changeBatch(const Batch& batch);
    void applyBatch(const Batch& batch);

protected:
    QVector<Latent> cellLatents() const override;
    void showImages(const QVector<QImage>& images, const QVector<Latent>& latents) override;
    void modelChanged() override;

private:
    Batch controlsBatch() const;
    void showTruncation(double truncation);  // 0: off
    void refresh();

    CellGrid* m_grid;
    QSpinBox* m_count;
    QSpinBox* m_seed;
    QCheckBox* m_truncate;
    QDoubleSpinBox* m_truncation;
    QSlider* m_truncationSlider;
    Batch m_batch;
    QVector<Latent> m_latents;
};

// A - B + C = result, each slot three numbers or a dropped cat.
class ArithmeticView : public ExplorerView {
    Q_OBJECT

public:
    ArithmeticView(RenderWorker* worker, QUndoStack* undo, QWidget* parent = nullptr);

    CellGrid* grid() const override { return m_grid; }
    QString sheetKind() const override { return QStringLiteral("arith"); }
    ThreeEditor* editor(int slot) const { return m_editors[static_cast<size_t>(slot)]; }
    const LatentValue& slot(int i) const { return m_slots[static_cast<size_t>(i)]; }
    QVector<QImage> sheetImages() const override { return m_images; }
    QVector<Latent> sheetLatents() const override { return m_latents; }
    int sheetColumns() const override { return 4; }

    void changeSlot(int slot, const LatentValue& value, bool mergeable = false);
    void dropOnSlot(int slot, const Latent& latent);
    void applySlot(int slot, const LatentValue& value);

protected:
    QVector<Latent> cellLatents() const override;
    void showImages(const QVector<QImage>& images, const QVector<Latent>& latents) override;
    void modelChanged() override;

private:
    void refresh();

    CellGrid* m_grid;
    std::array<ThreeEditor*, 3> m_editors{};
    std::array<LatentValue, 3> m_slots;
    QVector<QImage> m_images;  // A, B, C and the result, as last rendered
    QVector<Latent> m_latents;
};

}  // namespace cattery::ui
