#include "ui/arithmeticview.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QUndoStack>
#include <QVBoxLayout>

#include "ui/cellgrid.h"
#include "ui/threeeditor.h"
#include "ui/valuecommand.h"

namespace cattery::ui {
namespace {

// Undo id: slider drags on one slot merge into one step.
constexpr int kSlotCommandId = 200;

using SlotCommand = ValueCommand<ArithmeticView, &ArithmeticView::applySlot, kSlotCommandId>;

}  // namespace

QStringList ArithmeticView::sheetLabels() const {
    return {tr("A"), tr("B"), tr("C"), tr("A - B + C")};
}

bool ArithmeticView::takeSheet(const QString& kind, const QVector<Latent>& latents, int) {
    if (kind != QLatin1String("arith") || latents.size() < 3) {
        return false;
    }
    undoStack()->beginMacro(tr("open sheet"));
    for (int s = 0; s < 3; ++s) {
        changeSlot(s, fromLatent(*model().latent, latents[s]));
    }
    undoStack()->endMacro();
    return true;
}

ArithmeticView::ArithmeticView(RenderWorker* worker, QUndoStack* undo, QWidget* parent)
    : ExplorerView(worker, undo, ArithmeticChannel, parent) {
    const Three starts[3] = {{1.0f, 0.5f, -0.5f}, {-0.5f, 1.0f, 0.0f}, {0.0f, -1.0f, 1.0f}};
    auto* layout = new QHBoxLayout(this);
    auto* slots = new QVBoxLayout;
    const QString titles[3] = {tr("A"), tr("minus B"), tr("plus C")};
    for (int i = 0; i < 3; ++i) {
        m_slots[static_cast<size_t>(i)].three = starts[i];
        auto* editor = new ThreeEditor(titles[i], i, false, this);
        editor->setValue(m_slots[static_cast<size_t>(i)]);
        m_editors[static_cast<size_t>(i)] = editor;
        slots->addWidget(editor);
        connect(editor, &ThreeEditor::edited, this,
                [this](int s, const LatentValue& v) { changeSlot(s, v, true); });
        connect(editor, &ThreeEditor::randomRequested, this,
                [this](int s) { changeSlot(s, randomThree()); });
        connect(editor, &ThreeEditor::latentDropped, this,
                [this](int s, const Latent& z, int) { dropOnSlot(s, z); });
        connect(editor, &ThreeEditor::imagesDropped, this, &ExplorerView::imagesDropped);
    }
    slots->addStretch(1);
    layout->addLayout(slots);
    followEditors({m_editors.begin(), m_editors.end()});
    auto* resultBox = new QVBoxLayout;
    resultBox->addStretch(1);
    resultBox->addWidget(new QLabel(tr("<b>A - B + C =</b>"), this), 0, Qt::AlignHCenter);
    m_grid = new CellGrid(this);
    m_grid->setColumns(1);
    m_grid->setCellCount(1);
    resultBox->addWidget(m_grid, 0, Qt::AlignHCenter);
    resultBox->addStretch(2);
    layout->addLayout(resultBox, 1);
}

void ArithmeticView::changeSlot(int slot, const LatentValue& value, bool mergeable) {
    if (value != m_slots[static_cast<size_t>(slot)]) {
        undoStack()->push(new SlotCommand(this, slot, m_slots[static_cast<size_t>(slot)], value,
                                          mergeable, tr("set %1").arg(QChar(u'A' + slot))));
    }
}

int ArithmeticView::pastePlace() const {
    return currentEditor();
}

QString ArithmeticView::targetName() const {
    const QString names[3] = {tr("A"), tr("B"), tr("C")};
    return hasModel() ? tr("Slot %1").arg(names[currentEditor()]) : QString();
}

Latent ArithmeticView::targetLatent() const {
    return hasModel() ? toLatent(*model().latent, m_slots[static_cast<size_t>(currentEditor())])
                      : Latent();
}

void ArithmeticView::moveTarget(const Latent& latent) {
    if (hasModel() && latent.size() == model().latentDim) {
        changeSlot(currentEditor(), fromLatent(*model().latent, latent), true);
    }
}

void ArithmeticView::takeFound(int slot, const QVector<Latent>& latents) {
    if (slot >= 0 && slot < 3 && !latents.isEmpty()) {
        dropOnSlot(slot, latents.first());
    }
}

void ArithmeticView::dropOnSlot(int slot, const Latent& latent) {
    if (hasModel() && fits(latent)) {
        changeSlot(slot, fromLatent(*model().latent, latent));
    }
}

void ArithmeticView::applySlot(int slot, const LatentValue& value) {
    m_slots[static_cast<size_t>(slot)] = value;
    m_editors[static_cast<size_t>(slot)]->setValue(value);
    refresh();
    if (slot == currentEditor()) {
        Q_EMIT targetChanged();
    }
}

QVector<Latent> ArithmeticView::cellLatents() const {
    QVector<Latent> out;
    for (const auto& s : m_slots) {
        out.push_back(toLatent(*model().latent, s));
    }
    out.push_back(arithmeticOf(out[0], out[1], out[2]));
    return out;
}

void ArithmeticView::refresh() {
    requestRender();
}

void ArithmeticView::showImages(const QVector<QImage>& images, const QVector<Latent>& latents) {
    for (int i = 0; i < 3 && i < images.size(); ++i) {
        m_editors[static_cast<size_t>(i)]->setPreview(images[i], latents[i]);
    }
    if (images.size() == 4) {
        m_images = images;
        m_latents = latents;
        m_grid->setImages({images[3]});
        m_grid->setLatents({latents[3]});
    }
}

void ArithmeticView::modelChanged() {
    refresh();
    Q_EMIT targetChanged();
}

}  // namespace cattery::ui
