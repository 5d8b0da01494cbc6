#pragma once

#include <QImage>
#include <QStringList>
#include <QVector>
#include <QWidget>

#include "ui/latentmath.h"

class QMimeData;

namespace cattery::ui {

// A grid of cells drawn crisp (nearest-neighbour, zoom x1 to x8). Any cell can be dragged away
// with its exact latent; highlighted cells (the morph corners) also take drops. A click selects a
// cell, Ctrl+click adds or removes one.
class CellGrid : public QWidget {
    Q_OBJECT

public:
    explicit CellGrid(QWidget* parent = nullptr);

    void setColumns(int columns);
    void setCellCount(int count);
    void setImageSize(int pixels);
    void setZoom(int zoom);
    // Images and latents row-major; images may lag the latents while a render is in flight.
    void setImages(const QVector<QImage>& images);
    void setLatents(const QVector<Latent>& latents);
    void setHighlighted(const QVector<int>& cells);
    // Selected cells, in the grid's order.
    const QVector<int>& selectedCells() const { return m_selected; }
    void setSelectedCells(const QVector<int>& cells);
    // Drops are taken only on highlighted cells when true.
    void setAcceptsDrops(bool accepts) { m_acceptsDrops = accepts; }

    int columns() const { return m_columns; }
    int cellCount() const { return m_count; }
    int zoom() const { return m_zoom; }
    const QVector<QImage>& images() const { return m_images; }
    const QVector<Latent>& latents() const { return m_latents; }
    QImage cellImage(int cell) const;
    // The whole grid as one picture at zoom 1, for the clipboard (null while nothing is shown).
    QImage gridImage() const;
    int cellAt(const QPoint& pos) const;
    QRect cellRect(int cell) const;
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

Q_SIGNALS:
    void cellMenuRequested(int cell, const QPoint& globalPos);
    void latentDropped(int cell, const cattery::ui::Latent& latent, int sourceCorner);
    // Image files dropped on a highlighted cell: find their cat.
    void imagesDropped(int cell, const QStringList& paths);
    void cellClicked(int cell);
    void selectionChanged();

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void contextMenuEvent(QContextMenuEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dragMoveEvent(QDragMoveEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    int cellPixels() const { return m_imageSize * m_zoom; }
    int rows() const;
    // The size follows the cells (the grid sits unresized in a scroll area).
    void relayout();

    int m_columns = 5;
    int m_count = 25;
    int m_imageSize = 64;
    int m_zoom = 2;
    QVector<QImage> m_images;
    QVector<Latent> m_latents;
    QVector<int> m_highlighted;
    QVector<int> m_selected;
    bool m_acceptsDrops = false;
    QPoint m_pressPos;
    int m_pressCell = -1;
};

// Starts a drag carrying a latent (and, for a morph corner, which corner it came from).
void startLatentDrag(QWidget* source, const Latent& latent, const QImage& preview,
                     int sourceCorner = -1);
// The latent and source corner of a drop, if it carries one.
bool latentFromMime(const QMimeData* mime, Latent* latent, int* sourceCorner);
// The local image files a drop carries (by their names: PNG, JPEG, BMP, WebP, TIFF, PNM), whose
// cats are then searched for; empty when it carries none.
QStringList imageFilesFromMime(const QMimeData* mime);

}  // namespace cattery::ui
