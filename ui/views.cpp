#include "ui/views.h"

#include <cmath>

#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QRandomGenerator>
#include <QScrollArea>
#include <QSlider>
#include <QSpinBox>
#include <QUndoCommand>
#include <QUndoStack>
#include <QVBoxLayout>

#include "ui/cellgrid.h"
#include "ui/renderworker.h"
#include "ui/threeeditor.h"

namespace cattery::ui {
namespace {

// Undo ids: slider drags on one corner or slot merge into one step.
constexpr int kCornerCommandId = 100;
constexpr int kSlotCommandId = 200;
// The Generate view's truncation limits: the lowest, and where it starts when first turned on.
constexpr double kMinTruncation = 0.1;
constexpr double kDefaultTruncation = 1.5;

// One corner or slot changed; slider drags on the same one merge into a single undo step.
template <typename View, void (View::*Apply)(int, const LatentValue&), int BaseId>
class ValueCommand : public QUndoCommand {
public:
    ValueCommand(View* view, int index, LatentValue before, LatentValue after, bool mergeable,
                 const QString& text)
        : QUndoCommand(text),
          m_view(view),
          m_index(index),
          m_before(std::move(before)),
          m_after(std::move(after)),
          m_mergeable(mergeable) {}
    void redo() override { (m_view->*Apply)(m_index, m_after); }
    void undo() override { (m_view->*Apply)(m_index, m_before); }
    int id() const override { return m_mergeable ? BaseId + m_index : -1; }
    bool mergeWith(const QUndoCommand* other) override {
        const auto* o = static_cast<const ValueCommand*>(other);
        if (!o->m_mergeable || o->m_index != m_index) {
            return false;
        }
        m_after = o->m_after;
        return true;
    }

private:
    View* m_view;
    int m_index;
    LatentValue m_before;
    LatentValue m_after;
    bool m_mergeable;
};

using CornerCommand = ValueCommand<MorphView, &MorphView::applyCorner, kCornerCommandId>;
using SlotCommand = ValueCommand<ArithmeticView, &ArithmeticView::applySlot, kSlotCommandId>;

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

class BatchCommand : public QUndoCommand {
public:
    BatchCommand(GenerateView* view, GenerateView::Batch before, GenerateView::Batch after)
        : m_view(view), m_before(std::move(before)), m_after(std::move(after)) {
        setText(QObject::tr("new batch"));
    }
    void redo() override { m_view->applyBatch(m_after); }
    void undo() override { m_view->applyBatch(m_before); }

private:
    GenerateView* m_view;
    GenerateView::Batch m_before;
    GenerateView::Batch m_after;
};

LatentValue randomThree() {
    LatentValue v;
    for (auto& x : v.three) {
        x = static_cast<float>(
            std::round(QRandomGenerator::global()->bounded(4.0) * 100.0 - 200.0) / 100.0);
    }
    return v;
}

QScrollArea* scrolling(QWidget* inner, QWidget* parent) {
    auto* area = new QScrollArea(parent);
    area->setWidget(inner);
    area->setAlignment(Qt::AlignCenter);
    area->setFrameShape(QFrame::NoFrame);
    return area;
}

}  // namespace

ExplorerView::ExplorerView(RenderWorker* worker, QUndoStack* undo, int channel, QWidget* parent)
    : QWidget(parent), m_worker(worker), m_undo(undo), m_channel(channel) {
    connect(worker, &RenderWorker::rendered, this, &ExplorerView::onRendered);
}

void ExplorerView::setModel(const ModelSummary& model) {
    m_model = model;
    grid()->setImageSize(model.imageSize);
    modelChanged();
    requestRender();
}

void ExplorerView::setZoom(int zoom) {
    grid()->setZoom(zoom);
}

bool ExplorerView::fits(const Latent& latent) {
    if (latent.size() == m_model.latentDim) {
        return true;
    }
    Q_EMIT message(tr("That cat comes from a model with %1 latent numbers; this one has %2.")
                       .arg(latent.size())
                       .arg(m_model.latentDim));
    return false;
}

QVector<QImage> ExplorerView::sheetImages() const {
    return grid()->images();
}

QVector<Latent> ExplorerView::sheetLatents() const {
    return grid()->latents();
}

int ExplorerView::sheetColumns() const {
    return grid()->columns();
}

void ExplorerView::requestRender() {
    if (!hasModel()) {
        return;
    }
    m_requested = cellLatents();
    m_lastRequest = m_worker->render(m_model.serial, m_channel, m_requested);
}

void ExplorerView::onRendered(quint64 modelSerial, int channel, quint64 serial,
                              const QVector<QImage>& images, double ms) {
    // Only the newest request of this view with the model now in use is painted.
    if (channel != m_channel || modelSerial != m_model.serial || serial != m_lastRequest) {
        return;
    }
    m_lastShown = serial;
    ++m_shown;
    showImages(images, m_requested);
    Q_EMIT renderShown(ms);
}

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
    layout->addWidget(scrolling(m_grid, this), 1);
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
    }
    side->addStretch(1);
    layout->addLayout(side);
    connect(m_grid, &CellGrid::latentDropped, this, [this](int cell, const Latent& z, int source) {
        for (int c = 0; c < 4; ++c) {
            if (cornerCell(c, m_size) == cell) {
                dropOnCorner(c, z, source);
            }
        }
    });
    refresh();
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
}

GenerateView::GenerateView(RenderWorker* worker, QUndoStack* undo, QWidget* parent)
    : ExplorerView(worker, undo, GenerateChannel, parent) {
    m_grid = new CellGrid(this);
    auto* layout = new QVBoxLayout(this);
    auto* controls = new QHBoxLayout;
    auto* button = new QPushButton(tr("&Generate"), this);
    button->setToolTip(tr("A new batch of random cats (Ctrl+G)"));
    m_count = new QSpinBox(this);
    m_count->setRange(1, 144);
    m_count->setValue(m_batch.count);
    m_count->setPrefix(tr("Cats: "));
    m_seed = new QSpinBox(this);
    m_seed->setRange(0, std::numeric_limits<int>::max());
    m_seed->setValue(static_cast<int>(m_batch.seed));
    m_seed->setPrefix(tr("Seed: "));
    m_seed->setKeyboardTracking(false);
    // Truncation: off, or on at a limit from 0.1 (safest, least varied) to 4 on the slider.
    const QString truncationTip =
        tr("Redraw latent numbers larger than this: smaller gives fewer malformed cats and less "
           "variety");
    m_truncate = new QCheckBox(tr("&Truncate at"), this);
    m_truncate->setToolTip(truncationTip);
    m_truncation = new QDoubleSpinBox(this);
    m_truncation->setRange(kMinTruncation, 4.0);
    m_truncation->setSingleStep(0.1);
    m_truncation->setValue(kDefaultTruncation);
    m_truncation->setKeyboardTracking(false);
    m_truncation->setToolTip(truncationTip);
    m_truncationSlider = new QSlider(Qt::Horizontal, this);
    m_truncationSlider->setRange(static_cast<int>(kMinTruncation * 100), 400);
    m_truncationSlider->setSingleStep(5);
    m_truncationSlider->setPageStep(25);
    m_truncationSlider->setMaximumWidth(160);
    m_truncationSlider->setValue(static_cast<int>(kDefaultTruncation * 100));
    m_truncationSlider->setToolTip(truncationTip);
    controls->addWidget(button);
    controls->addWidget(m_count);
    controls->addWidget(m_seed);
    controls->addSpacing(12);
    controls->addWidget(m_truncate);
    controls->addWidget(m_truncation);
    controls->addWidget(m_truncationSlider);
    controls->addStretch(1);
    showTruncation(0.0);
    connect(m_truncationSlider, &QSlider::valueChanged, this,
            [this](int v) { m_truncation->setValue(v / 100.0); });
    connect(m_truncation, &QDoubleSpinBox::valueChanged, m_truncationSlider, [this](double v) {
        const QSignalBlocker block(m_truncationSlider);
        m_truncationSlider->setValue(static_cast<int>(std::lround(v * 100.0)));
    });
    layout->addLayout(controls);
    layout->addWidget(scrolling(m_grid, this), 1);
    connect(button, &QPushButton::clicked, this, &GenerateView::generate);
    const auto fromControls = [this] { changeBatch(controlsBatch()); };
    connect(m_count, &QSpinBox::valueChanged, this, fromControls);
    connect(m_seed, &QSpinBox::valueChanged, this, fromControls);
    connect(m_truncation, &QDoubleSpinBox::valueChanged, this, fromControls);
    connect(m_truncate, &QCheckBox::toggled, this, [this, fromControls](bool on) {
        m_truncation->setEnabled(on);
        m_truncationSlider->setEnabled(on);
        fromControls();
    });
    refresh();
}

void GenerateView::showTruncation(double truncation) {
    const QSignalBlocker a(m_truncate);
    const QSignalBlocker b(m_truncation);
    const QSignalBlocker c(m_truncationSlider);
    const bool on = truncation > 0;
    m_truncate->setChecked(on);
    m_truncation->setEnabled(on);
    m_truncationSlider->setEnabled(on);
    if (on) {  // off keeps the last limit ready for the next time it is turned on
        m_truncation->setValue(truncation);
        m_truncationSlider->setValue(static_cast<int>(std::lround(truncation * 100.0)));
    }
}

GenerateView::Batch GenerateView::controlsBatch() const {
    Batch b;
    b.count = m_count->value();
    b.seed = static_cast<quint64>(m_seed->value());
    b.truncation = m_truncate->isChecked() ? m_truncation->value() : 0.0;
    return b;
}

void GenerateView::generate() {
    Batch b = controlsBatch();
    b.seed = QRandomGenerator::global()->bounded(1, std::numeric_limits<int>::max());
    changeBatch(b);
}

void GenerateView::changeBatch(const Batch& batch) {
    if (!(batch == m_batch)) {
        undoStack()->push(new BatchCommand(this, m_batch, batch));
    }
}

void GenerateView::applyBatch(const Batch& batch) {
    m_batch = batch;
    const QSignalBlocker a(m_count);
    const QSignalBlocker b(m_seed);
    m_count->setValue(batch.latents.isEmpty() ? batch.count : batch.latents.size());
    m_seed->setValue(static_cast<int>(batch.seed));
    showTruncation(batch.truncation);
    refresh();
}

QVector<Latent> GenerateView::cellLatents() const {
    return m_latents;
}

void GenerateView::refresh() {
    if (hasModel()) {
        m_latents = m_batch.latents.isEmpty() ? randomLatents(model().latentDim, m_batch.count,
                                                              m_batch.seed, m_batch.truncation)
                                              : m_batch.latents;
    }
    const int count = m_batch.latents.isEmpty() ? m_batch.count : m_batch.latents.size();
    m_grid->setColumns(static_cast<int>(std::ceil(std::sqrt(static_cast<double>(count)))));
    m_grid->setCellCount(count);
    if (m_grid->images().size() != count) {
        m_grid->setImages({});
    }
    requestRender();
}

void GenerateView::showImages(const QVector<QImage>& images, const QVector<Latent>& latents) {
    m_grid->setImages(images);
    m_grid->setLatents(latents);
}

void GenerateView::modelChanged() {
    // Latents kept from a sheet belong to the old model's latent size.
    if (!m_batch.latents.isEmpty() && m_batch.latents.first().size() != model().latentDim) {
        m_batch.latents.clear();
    }
    refresh();
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
    }
    slots->addStretch(1);
    layout->addLayout(slots);
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

void ArithmeticView::dropOnSlot(int slot, const Latent& latent) {
    if (hasModel() && fits(latent)) {
        changeSlot(slot, fromLatent(*model().latent, latent));
    }
}

void ArithmeticView::applySlot(int slot, const LatentValue& value) {
    m_slots[static_cast<size_t>(slot)] = value;
    m_editors[static_cast<size_t>(slot)]->setValue(value);
    refresh();
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
}

}  // namespace cattery::ui
