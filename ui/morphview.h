#pragma once

#include <array>

#include "ui/explorerview.h"

namespace cattery::ui {

class ThreeEditor;

// The demo's corner morph: an n x n grid between four corners set by three numbers or dropped cats.
class MorphView : public ExplorerView {
    Q_OBJECT

public:
    MorphView(RenderWorker* worker, QUndoStack* undo, QWidget* parent = nullptr);

    CellGrid* grid() const override { return m_grid; }
    QString sheetKind() const override { return QStringLiteral("grid"); }
    QStringList sheetLabels() const override;
    bool takeSheet(const QString& kind, const QVector<Latent>& latents, int columns) override;
    void takeFound(int place, const QVector<Latent>& latents) override;
    int pastePlace() const override;
    QString targetName() const override;
    Latent targetLatent() const override;
    void moveTarget(const Latent& latent) override;
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

}  // namespace cattery::ui
