#pragma once

#include <array>

#include "ui/explorerview.h"

namespace cattery::ui {

class ThreeEditor;

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
    QStringList sheetLabels() const override;
    bool takeSheet(const QString& kind, const QVector<Latent>& latents, int columns) override;
    void takeFound(int place, const QVector<Latent>& latents) override;
    int pastePlace() const override;
    QString targetName() const override;
    Latent targetLatent() const override;
    void moveTarget(const Latent& latent) override;

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
