#include "ui/cellgrid.h"

#include <algorithm>

#include <QApplication>
#include <QContextMenuEvent>
#include <QDrag>
#include <QFileInfo>
#include <QMimeData>
#include <QPainter>
#include <QPalette>
#include <QUrl>

#include "ui/sheetimage.h"

namespace cattery::ui {
namespace {

constexpr int kGap = 2;
constexpr const char* kCornerMime = "application/x-cattery-corner";

}  // namespace

void startLatentDrag(QWidget* source, const Latent& latent, const QImage& preview,
                     int sourceCorner) {
    if (latent.isEmpty()) {
        return;
    }
    auto* mime = new QMimeData;
    mime->setData(QString::fromLatin1(kLatentMime), latentBytes(latent));
    mime->setText(latentText(latent));
    if (!preview.isNull()) {
        mime->setImageData(preview);  // the cat's picture, for lists that show it
    }
    if (sourceCorner >= 0) {
        mime->setData(QString::fromLatin1(kCornerMime), QByteArray::number(sourceCorner));
    }
    auto* drag = new QDrag(source);
    drag->setMimeData(mime);
    if (!preview.isNull()) {
        const QImage small = preview.scaled(preview.width() * 2, preview.height() * 2,
                                            Qt::IgnoreAspectRatio, Qt::FastTransformation);
        drag->setPixmap(QPixmap::fromImage(small));
        drag->setHotSpot(QPoint(small.width() / 2, small.height() / 2));
    }
    drag->exec(Qt::CopyAction);
}

bool latentFromMime(const QMimeData* mime, Latent* latent, int* sourceCorner) {
    if (mime == nullptr || !mime->hasFormat(QString::fromLatin1(kLatentMime))) {
        return false;
    }
    *latent = latentFromBytes(mime->data(QString::fromLatin1(kLatentMime)));
    bool ok = false;
    const int corner = mime->data(QString::fromLatin1(kCornerMime)).toInt(&ok);
    *sourceCorner = ok ? corner : -1;
    return !latent->isEmpty();
}

QStringList imageFilesFromMime(const QMimeData* mime) {
    static const QStringList kSuffixes = {
        QStringLiteral("png"),  QStringLiteral("jpg"),  QStringLiteral("jpeg"),
        QStringLiteral("bmp"),  QStringLiteral("webp"), QStringLiteral("tif"),
        QStringLiteral("tiff"), QStringLiteral("pnm"),  QStringLiteral("ppm"),
        QStringLiteral("pgm"),  QStringLiteral("pbm")};
    QStringList paths;
    if (mime == nullptr || mime->hasFormat(QString::fromLatin1(kLatentMime))) {
        return paths;  // a cat dragged from a grid carries its latent: that is what counts
    }
    for (const QUrl& url : mime->urls()) {
        const QFileInfo info(url.toLocalFile());
        if (url.isLocalFile() && kSuffixes.contains(info.suffix().toLower())) {
            paths << info.filePath();
        }
    }
    return paths;
}

CellGrid::CellGrid(QWidget* parent) : QWidget(parent) {
    setAcceptDrops(true);
    setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Fixed);
}

void CellGrid::relayout() {
    resize(sizeHint());
    updateGeometry();
    update();
}

void CellGrid::setColumns(int columns) {
    m_columns = std::max(1, columns);
    relayout();
}

void CellGrid::setCellCount(int count) {
    m_count = std::max(0, count);
    QVector<int> kept;
    for (int cell : m_selected) {
        if (cell < m_count) {
            kept << cell;
        }
    }
    if (kept != m_selected) {
        m_selected = kept;
        Q_EMIT selectionChanged();
    }
    relayout();
}

void CellGrid::setSelectedCells(const QVector<int>& cells) {
    QVector<int> sorted;
    for (int cell : cells) {
        if (cell >= 0 && cell < m_count && !sorted.contains(cell)) {
            sorted << cell;
        }
    }
    std::sort(sorted.begin(), sorted.end());
    if (sorted != m_selected) {
        m_selected = sorted;
        update();
        Q_EMIT selectionChanged();
    }
}

void CellGrid::setImageSize(int pixels) {
    m_imageSize = std::max(8, pixels);
    relayout();
}

void CellGrid::setZoom(int zoom) {
    m_zoom = std::clamp(zoom, 1, 8);
    relayout();
}

void CellGrid::setImages(const QVector<QImage>& images) {
    m_images = images;
    update();
}

void CellGrid::setLatents(const QVector<Latent>& latents) {
    m_latents = latents;
}

void CellGrid::setHighlighted(const QVector<int>& cells) {
    m_highlighted = cells;
    update();
}

QImage CellGrid::cellImage(int cell) const {
    return cell >= 0 && cell < m_images.size() ? m_images[cell] : QImage();
}

int CellGrid::rows() const {
    return (m_count + m_columns - 1) / m_columns;
}

QRect CellGrid::cellRect(int cell) const {
    const int step = cellPixels() + kGap;
    return QRect(kGap + (cell % m_columns) * step, kGap + (cell / m_columns) * step, cellPixels(),
                 cellPixels());
}

int CellGrid::cellAt(const QPoint& pos) const {
    for (int i = 0; i < m_count; ++i) {
        if (cellRect(i).contains(pos)) {
            return i;
        }
    }
    return -1;
}

QSize CellGrid::sizeHint() const {
    const int step = cellPixels() + kGap;
    return QSize(kGap + std::min(m_columns, std::max(1, m_count)) * step, kGap + rows() * step);
}

QSize CellGrid::minimumSizeHint() const {
    return sizeHint();
}

QImage CellGrid::gridImage() const {
    const QVector<QImage> shown = m_images.mid(0, m_count);
    if (shown.isEmpty()) {
        return {};
    }
    SheetOptions options;
    options.columns = m_columns;
    options.padding = kGap;
    return sheetImage(shown, options);
}

void CellGrid::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::SmoothPixmapTransform, false);
    const QColor empty = palette().color(QPalette::Mid);
    for (int i = 0; i < m_count; ++i) {
        const QRect r = cellRect(i);
        if (i < m_images.size() && !m_images[i].isNull()) {
            p.drawImage(r, m_images[i]);
        } else {
            p.fillRect(r, empty);
        }
        if (m_selected.contains(i)) {
            QColor tint = palette().color(QPalette::Highlight);
            tint.setAlpha(70);
            p.fillRect(r, tint);
        }
        if (m_highlighted.contains(i) || m_selected.contains(i)) {
            p.setPen(QPen(palette().color(QPalette::Highlight), m_selected.contains(i) ? 3 : 2,
                          Qt::SolidLine, Qt::SquareCap, Qt::MiterJoin));
            p.drawRect(r.adjusted(-1, -1, 0, 0));
        }
    }
}

void CellGrid::mousePressEvent(QMouseEvent* event) {
    if (event->button() == Qt::LeftButton) {
        m_pressPos = event->position().toPoint();
        m_pressCell = cellAt(m_pressPos);
        if (event->modifiers() & Qt::ControlModifier) {
            QVector<int> cells = m_selected;
            if (cells.contains(m_pressCell)) {
                cells.removeAll(m_pressCell);
            } else {
                cells << m_pressCell;
            }
            setSelectedCells(cells);
        } else {
            setSelectedCells(m_pressCell >= 0 ? QVector<int>{m_pressCell} : QVector<int>{});
        }
        if (m_pressCell >= 0) {
            Q_EMIT cellClicked(m_pressCell);
        }
    }
    QWidget::mousePressEvent(event);
}

void CellGrid::mouseMoveEvent(QMouseEvent* event) {
    if (!(event->buttons() & Qt::LeftButton) || m_pressCell < 0 ||
        m_pressCell >= m_latents.size() ||
        (event->position().toPoint() - m_pressPos).manhattanLength() <
            QApplication::startDragDistance()) {
        return;
    }
    const int cell = m_pressCell;
    m_pressCell = -1;
    const int corner = m_highlighted.indexOf(cell);
    startLatentDrag(this, m_latents[cell], cellImage(cell), m_acceptsDrops ? corner : -1);
}

void CellGrid::contextMenuEvent(QContextMenuEvent* event) {
    const int cell = cellAt(event->pos());
    if (cell >= 0 && cell < m_latents.size()) {
        Q_EMIT cellMenuRequested(cell, event->globalPos());
    }
}

void CellGrid::dragEnterEvent(QDragEnterEvent* event) {
    if (m_acceptsDrops && (event->mimeData()->hasFormat(QString::fromLatin1(kLatentMime)) ||
                           !imageFilesFromMime(event->mimeData()).isEmpty())) {
        event->acceptProposedAction();
    }
}

void CellGrid::dragMoveEvent(QDragMoveEvent* event) {
    const int cell = cellAt(event->position().toPoint());
    if (m_acceptsDrops && m_highlighted.contains(cell)) {
        event->acceptProposedAction();
    } else {
        event->ignore();
    }
}

void CellGrid::dropEvent(QDropEvent* event) {
    const int cell = cellAt(event->position().toPoint());
    const QStringList images = imageFilesFromMime(event->mimeData());
    if (m_acceptsDrops && m_highlighted.contains(cell) && !images.isEmpty()) {
        event->acceptProposedAction();
        Q_EMIT imagesDropped(cell, images);
        return;
    }
    Latent latent;
    int sourceCorner = -1;
    if (!m_acceptsDrops || !m_highlighted.contains(cell) ||
        !latentFromMime(event->mimeData(), &latent, &sourceCorner)) {
        event->ignore();
        return;
    }
    event->acceptProposedAction();
    Q_EMIT latentDropped(cell, latent, sourceCorner);
}

}  // namespace cattery::ui
