#include "ui/generateview.h"

#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QMimeData>
#include <QPushButton>
#include <QRandomGenerator>
#include <QScrollArea>
#include <QSlider>
#include <QSpinBox>
#include <QUndoCommand>
#include <QUndoStack>
#include <QVBoxLayout>

#include "core/errors.h"
#include "core/io/sheet.h"
#include "ui/cellgrid.h"

namespace cattery::ui {
namespace {

// The truncation limits: the lowest, and where it starts when first turned on.
constexpr double kMinTruncation = 0.1;
constexpr double kDefaultTruncation = 1.5;

constexpr int kMoveCatCommandId = 3000;

// A new batch; or one cat of it moved (`movedCell`), where moves of the same cat in a row merge
// into one undo step.
class BatchCommand : public QUndoCommand {
public:
    BatchCommand(GenerateView* view, GenerateView::Batch before, GenerateView::Batch after,
                 int movedCell = -1)
        : m_view(view),
          m_before(std::move(before)),
          m_after(std::move(after)),
          m_movedCell(movedCell) {
        setText(movedCell >= 0 ? QObject::tr("move cat %1").arg(movedCell + 1)
                               : QObject::tr("new batch"));
    }
    void redo() override { m_view->applyBatch(m_after); }
    void undo() override { m_view->applyBatch(m_before); }
    int id() const override { return m_movedCell >= 0 ? kMoveCatCommandId : -1; }
    bool mergeWith(const QUndoCommand* other) override {
        const auto* o = static_cast<const BatchCommand*>(other);
        if (o->m_movedCell != m_movedCell) {
            return false;
        }
        m_after = o->m_after;
        return true;
    }

private:
    GenerateView* m_view;
    GenerateView::Batch m_before;
    GenerateView::Batch m_after;
    int m_movedCell;
};

}  // namespace

GenerateView::GenerateView(RenderWorker* worker, QUndoStack* undo, QWidget* parent)
    : ExplorerView(worker, undo, GenerateChannel, parent) {
    setAcceptDrops(true);
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
    layout->addWidget(scrolling(m_grid), 1);
    connect(m_grid, &CellGrid::cellClicked, this, [this](int cell) {
        if (cell != m_current) {
            m_current = cell;
            Q_EMIT targetChanged();
        }
    });
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

bool GenerateView::takeSheet(const QString&, const QVector<Latent>& latents, int) {
    Batch batch = m_batch;
    batch.latents = latents;
    changeBatch(batch);
    return true;
}

void GenerateView::takeFound(int, const QVector<Latent>& latents) {
    if (!latents.isEmpty()) {
        takeSheet(QStringLiteral("projection"), latents, 0);
    }
}

namespace {

// The dropped image files that are not Cattery sheets (a sheet dropped anywhere is opened).
QStringList picturesToFind(const QMimeData* mime) {
    QStringList pictures;
    for (const QString& path : imageFilesFromMime(mime)) {
        bool sheet = false;
        try {
            sheet = !readPngMetadata(path.toStdString()).is_null();
        } catch (const Error&) {
            sheet = false;  // not a PNG (or not readable): a picture to find, or a clear error
        }
        if (!sheet) {
            pictures << path;
        }
    }
    return pictures;
}

}  // namespace

void GenerateView::dragEnterEvent(QDragEnterEvent* event) {
    if (hasModel() && !picturesToFind(event->mimeData()).isEmpty()) {
        event->acceptProposedAction();
    } else {
        event->ignore();
    }
}

void GenerateView::dropEvent(QDropEvent* event) {
    const QStringList pictures = picturesToFind(event->mimeData());
    if (!hasModel() || pictures.isEmpty()) {
        event->ignore();
        return;
    }
    event->acceptProposedAction();
    Q_EMIT imagesDropped(-1, pictures);
}

void GenerateView::changeBatch(const Batch& batch) {
    if (!(batch == m_batch)) {
        undoStack()->push(new BatchCommand(this, m_batch, batch));
    }
}

QString GenerateView::targetName() const {
    return hasModel() && m_current < m_latents.size() ? tr("Cat %1").arg(m_current + 1) : QString();
}

Latent GenerateView::targetLatent() const {
    return hasModel() ? m_latents.value(m_current) : Latent();
}

void GenerateView::moveTarget(const Latent& latent) {
    if (!hasModel() || m_current >= m_latents.size() || latent.size() != model().latentDim) {
        return;
    }
    Batch moved = m_batch;
    moved.latents = m_latents;
    moved.latents[m_current] = latent;
    if (!(moved == m_batch)) {
        undoStack()->push(new BatchCommand(this, m_batch, moved, m_current));
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
    if (m_current >= count) {
        m_current = 0;
    }
    requestRender();
    Q_EMIT targetChanged();
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

}  // namespace cattery::ui
