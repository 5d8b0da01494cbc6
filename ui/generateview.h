#pragma once

#include "ui/explorerview.h"

class QCheckBox;
class QDoubleSpinBox;
class QSlider;
class QSpinBox;

namespace cattery::ui {

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
    // Any sheet: its latents become the batch.
    bool takeSheet(const QString& kind, const QVector<Latent>& latents, int columns) override;
    void takeFound(int place, const QVector<Latent>& latents) override;
    // The cat last clicked (the first until one is).
    QString targetName() const override;
    Latent targetLatent() const override;
    void moveTarget(const Latent& latent) override;
    const Batch& batch() const { return m_batch; }

    // Undoable: a fresh seed, or the batch the controls describe, or given latents.
    void generate();
    void changeBatch(const Batch& batch);
    void applyBatch(const Batch& batch);

protected:
    // Image files dropped on the view: their cats are found and become the batch. Cattery
    // sheets are left to the window, which opens them.
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;
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
    int m_current = 0;  // the cat the Directions panel moves
};

}  // namespace cattery::ui
