#include "ui/explorerview.h"

#include <cmath>

#include <QApplication>
#include <QRandomGenerator>
#include <QScrollArea>

#include "ui/cellgrid.h"
#include "ui/renderworker.h"

namespace cattery::ui {

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

QStringList ExplorerView::sheetLabels() const {
    QStringList labels;
    for (int i = 0; i < sheetImages().size(); ++i) {
        labels << QString::number(i + 1);
    }
    return labels;
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
    showImages(images, m_requested);
    Q_EMIT renderShown(ms);
}

QVector<Latent> ExplorerView::selectedLatents() const {
    QVector<Latent> latents;
    for (int cell : grid()->selectedCells()) {
        const Latent z = grid()->latents().value(cell);
        if (!z.isEmpty()) {
            latents << z;
        }
    }
    return latents;
}

void ExplorerView::setCurrentEditor(int index) {
    if (index != m_currentEditor) {
        m_currentEditor = index;
        Q_EMIT targetChanged();
    }
}

void ExplorerView::followEditors(const QVector<QWidget*>& editors) {
    connect(qApp, &QApplication::focusChanged, this, [this, editors](QWidget*, QWidget* now) {
        for (int i = 0; i < editors.size(); ++i) {
            if (now != nullptr && (now == editors[i] || editors[i]->isAncestorOf(now))) {
                setCurrentEditor(i);
            }
        }
    });
}

LatentValue ExplorerView::randomThree() {
    LatentValue v;
    for (auto& x : v.three) {
        x = static_cast<float>(
            std::round(QRandomGenerator::global()->bounded(4.0) * 100.0 - 200.0) / 100.0);
    }
    return v;
}

QScrollArea* ExplorerView::scrolling(QWidget* inner) {
    auto* area = new QScrollArea(this);
    area->setWidget(inner);
    area->setAlignment(Qt::AlignCenter);
    area->setFrameShape(QFrame::NoFrame);
    return area;
}

}  // namespace cattery::ui
