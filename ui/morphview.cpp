#include "ui/morphview.h"

#include <QHBoxLayout>
#include <QScrollArea>
#include <QUndoStack>
#include <QVBoxLayout>

#include "ui/cellgrid.h"
#include "ui/threeeditor.h"
#include "ui/valuecommand.h"

namespace cattery::ui {
namespace {

// Undo id: slider drags on one corner merge into one step.
constexpr int kCornerCommandId = 100;

using CornerCommand = ValueCommand<MorphView, &MorphView::applyCorner, kCornerCommandId>;

class GridSizeCommand : public QUndoCommand {
public:
    GridSizeCommand(MorphView* view, int before, int after)
        : m_view(view), m_before(before), m_after(after) {
        setText(QObject::tr("grid size %1").arg(after));
    }
    void redo() override { m_view->applyGridSize(m_after); }
    void undo() override { m_view->applyGridSize(m_before); }

private:
    MorphView* m_view;
    int m_before;
    int m_after;
};

}  // namespace

MorphView::MorphView(RenderWorker* worker, QUndoStack* undo, QWidget* parent)
    : ExplorerView(worker, undo, MorphChannel, parent) {
    // The starting corners: four distinct cats at moderate distances, as in the demo.
    const Three starts[4] = {
        {-1.5f, 1.0f, 0.5f}, {1.5f, 0.5f, -1.0f}, {-0.5f, -1.5f, 1.0f}, {1.0f, -1.0f, -1.5f}};
    for (size_t i = 0; i < 4; ++i) {
        m_corners[i].three = starts[i];
    }
    m_grid = new CellGrid(this);
    m_grid->setAcceptsDrops(true);
    auto* layout = new QHBoxLayout(this);
    layout->addWidget(scrolling(m_grid), 1);
    auto* side = new QVBoxLayout;
    const QString names[4] = {tr("Top left"), tr("Top right"), tr("Bottom left"),
                              tr("Bottom right")};
    for (int i = 0; i < 4; ++i) {
        auto* editor = new ThreeEditor(tr("Corner %1: %2").arg(i + 1).arg(names[i]), i, true, this);
        editor->setValue(m_corners[static_cast<size_t>(i)]);
        m_editors[static_cast<size_t>(i)] = editor;
        side->addWidget(editor);
        connect(editor, &ThreeEditor::edited, this,
                [this](int c, const LatentValue& v) { changeCorner(c, v, true); });
        connect(editor, &ThreeEditor::randomRequested, this, &MorphView::randomCorner);
        connect(editor, &ThreeEditor::latentDropped, this, &MorphView::dropOnCorner);
        connect(editor, &ThreeEditor::imagesDropped, this, &ExplorerView::imagesDropped);
    }
    side->addStretch(1);
    layout->addLayout(side);
    followEditors({m_editors.begin(), m_editors.end()});
    connect(m_grid, &CellGrid::cellClicked, this, [this](int cell) {
        for (int c = 0; c < 4; ++c) {
            if (cornerCell(c, m_size) == cell) {
                setCurrentEditor(c);
            }
        }
    });
    connect(m_grid, &CellGrid::latentDropped, this, [this](int cell, const Latent& z, int source) {
        for (int c = 0; c < 4; ++c) {
            if (cornerCell(c, m_size) == cell) {
                dropOnCorner(c, z, source);
            }
        }
    });
    connect(m_grid, &CellGrid::imagesDropped, this, [this](int cell, const QStringList& paths) {
        for (int c = 0; c < 4; ++c) {
            if (cornerCell(c, m_size) == cell) {
                Q_EMIT imagesDropped(c, paths);
            }
        }
    });
    refresh();
}

QStringList MorphView::sheetLabels() const {
    QStringList labels;  // row,column
    for (int i = 0; i < m_size * m_size; ++i) {
        labels << QStringLiteral("%1,%2").arg(i / m_size + 1).arg(i % m_size + 1);
    }
    return labels;
}

bool MorphView::takeSheet(const QString& kind, const QVector<Latent>& latents, int columns) {
    // A grid larger than the view's largest keeps its corners on the largest.
    if (kind != QLatin1String("grid") || columns < kMinSize ||
        latents.size() != columns * columns) {
        return false;
    }
    undoStack()->beginMacro(tr("open sheet"));
    resizeGrid(columns);
    for (int c = 0; c < 4; ++c) {
        changeCorner(c, fromLatent(*model().latent, latents[cornerCell(c, columns)]));
    }
    undoStack()->endMacro();
    return true;
}

int MorphView::cornerCell(int corner, int n) {
    switch (corner) {
        case 0:
            return 0;
        case 1:
            return n - 1;
        case 2:
            return n * (n - 1);
        default:
            return n * n - 1;
    }
}

void MorphView::changeCorner(int corner, const LatentValue& value, bool mergeable) {
    if (value == m_corners[static_cast<size_t>(corner)]) {
        return;
    }
    undoStack()->push(new CornerCommand(this, corner, m_corners[static_cast<size_t>(corner)], value,
                                        mergeable, tr("set corner %1").arg(corner + 1)));
}

int MorphView::pastePlace() const {
    return currentEditor();
}

QString MorphView::targetName() const {
    return hasModel() ? tr("Corner %1").arg(currentEditor() + 1) : QString();
}

Latent MorphView::targetLatent() const {
    return hasModel() ? toLatent(*model().latent, m_corners[static_cast<size_t>(currentEditor())])
                      : Latent();
}

void MorphView::moveTarget(const Latent& latent) {
    if (hasModel() && latent.size() == model().latentDim) {
        changeCorner(currentEditor(), fromLatent(*model().latent, latent), true);
    }
}

void MorphView::takeFound(int corner, const QVector<Latent>& latents) {
    if (corner >= 0 && corner < 4 && !latents.isEmpty()) {
        dropOnCorner(corner, latents.first(), -1);
    }
}

void MorphView::dropOnCorner(int corner, const Latent& latent, int sourceCorner) {
    if (!hasModel()) {
        return;
    }
    if (sourceCorner >= 0 && sourceCorner < 4 && sourceCorner != corner) {
        swapCorners(sourceCorner, corner);
        return;
    }
    if (fits(latent)) {
        changeCorner(corner, fromLatent(*model().latent, latent));
    }
}

void MorphView::swapCorners(int a, int b) {
    if (a == b) {
        return;
    }
    const LatentValue va = m_corners[static_cast<size_t>(a)];
    const LatentValue vb = m_corners[static_cast<size_t>(b)];
    undoStack()->beginMacro(tr("swap corners %1 and %2").arg(a + 1).arg(b + 1));
    undoStack()->push(new CornerCommand(this, a, va, vb, false, QString()));
    undoStack()->push(new CornerCommand(this, b, vb, va, false, QString()));
    undoStack()->endMacro();
}

void MorphView::resizeGrid(int n) {
    n = std::clamp(n, kMinSize, kMaxSize);
    if (n != m_size) {
        undoStack()->push(new GridSizeCommand(this, m_size, n));
    }
}

void MorphView::randomCorner(int corner) {
    changeCorner(corner, randomThree());
}

void MorphView::setSlerp(bool slerp) {
    if (slerp != m_slerp) {
        m_slerp = slerp;
        refresh();
    }
}

void MorphView::applyCorner(int corner, const LatentValue& value) {
    m_corners[static_cast<size_t>(corner)] = value;
    m_editors[static_cast<size_t>(corner)]->setValue(value);
    refresh();
    if (corner == currentEditor()) {
        Q_EMIT targetChanged();
    }
}

void MorphView::applyGridSize(int n) {
    m_size = n;
    refresh();
}

QVector<Latent> MorphView::cellLatents() const {
    std::array<Latent, 4> corners;
    for (size_t i = 0; i < 4; ++i) {
        corners[i] = toLatent(*model().latent, m_corners[i]);
    }
    return gridLatents(corners, m_size, m_slerp);
}

void MorphView::refresh() {
    m_grid->setColumns(m_size);
    m_grid->setCellCount(m_size * m_size);
    QVector<int> corners;
    for (int c = 0; c < 4; ++c) {
        corners.push_back(cornerCell(c, m_size));
    }
    m_grid->setHighlighted(corners);
    // Until the new images arrive the old ones stay, unless the layout changed.
    if (m_grid->images().size() != m_size * m_size) {
        m_grid->setImages({});
    }
    requestRender();
}

void MorphView::showImages(const QVector<QImage>& images, const QVector<Latent>& latents) {
    m_grid->setImages(images);
    m_grid->setLatents(latents);
    for (int c = 0; c < 4; ++c) {
        const int cell = cornerCell(c, m_size);
        m_editors[static_cast<size_t>(c)]->setPreview(m_grid->cellImage(cell),
                                                      m_grid->latents().value(cell));
    }
}

void MorphView::modelChanged() {
    refresh();
    Q_EMIT targetChanged();
}

}  // namespace cattery::ui
