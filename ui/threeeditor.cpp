#include "ui/threeeditor.h"

#include <cmath>

#include <QDoubleSpinBox>
#include <QDragEnterEvent>
#include <QGridLayout>
#include <QLabel>
#include <QMimeData>
#include <QMouseEvent>
#include <QPainter>
#include <QSlider>
#include <QToolButton>

#include "ui/cellgrid.h"

namespace cattery::ui {

// The corner's picture; drag it away like any cell.
class PreviewLabel : public QWidget {
public:
    PreviewLabel(int corner, QWidget* parent) : QWidget(parent), m_corner(corner) {
        setFixedSize(64, 64);
    }
    void set(const QImage& image, const Latent& latent) {
        m_image = image;
        m_latent = latent;
        update();
    }

protected:
    void paintEvent(QPaintEvent*) override {
        QPainter p(this);
        p.setRenderHint(QPainter::SmoothPixmapTransform, false);
        if (m_image.isNull()) {
            p.fillRect(rect(), palette().color(QPalette::Mid));
        } else {
            p.drawImage(rect(), m_image);
        }
    }
    void mousePressEvent(QMouseEvent* e) override { m_press = e->position().toPoint(); }
    void mouseMoveEvent(QMouseEvent* e) override {
        if ((e->buttons() & Qt::LeftButton) &&
            (e->position().toPoint() - m_press).manhattanLength() >= 4) {
            startLatentDrag(this, m_latent, m_image, m_corner);
        }
    }

private:
    int m_corner;
    QImage m_image;
    Latent m_latent;
    QPoint m_press;
};

ThreeEditor::ThreeEditor(const QString& title, int index, bool morphCorner, QWidget* parent)
    : QFrame(parent), m_index(index) {
    setFrameShape(QFrame::StyledPanel);
    setAcceptDrops(true);
    setMaximumWidth(440);
    setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Fixed);
    auto* layout = new QGridLayout(this);
    auto* heading = new QLabel(QStringLiteral("<b>%1</b>").arg(title), this);
    layout->addWidget(heading, 0, 0, 1, 2);
    m_exact = new QLabel(this);
    m_exact->setToolTip(
        tr("This latent came from a dropped cat: the three numbers are its nearest "
           "three-number position, and the rest is kept so it stays exact."));
    layout->addWidget(m_exact, 0, 2);
    auto* random = new QToolButton(this);
    random->setText(tr("Random"));
    random->setToolTip(tr("Pick three random numbers"));
    layout->addWidget(random, 0, 3);
    connect(random, &QToolButton::clicked, this, [this] { Q_EMIT randomRequested(m_index); });
    for (int i = 0; i < 3; ++i) {
        auto* spin = new QDoubleSpinBox(this);
        spin->setRange(-kRange, kRange);
        spin->setSingleStep(0.1);
        spin->setDecimals(2);
        spin->setKeyboardTracking(false);
        spin->setFixedWidth(spin->sizeHint().width());
        spin->setAccessibleName(tr("%1, number %2").arg(title).arg(i + 1));
        auto* slider = new QSlider(Qt::Horizontal, this);
        slider->setRange(static_cast<int>(-kRange * 100), static_cast<int>(kRange * 100));
        slider->setSingleStep(5);
        slider->setPageStep(50);
        slider->setMinimumWidth(120);
        m_spins[static_cast<size_t>(i)] = spin;
        m_sliders[static_cast<size_t>(i)] = slider;
        layout->addWidget(spin, i + 1, 0);
        layout->addWidget(slider, i + 1, 1, 1, 3);
        connect(spin, &QDoubleSpinBox::valueChanged, this,
                [this, i](double v) { numberChanged(i, v); });
        connect(slider, &QSlider::valueChanged, this,
                [this, i](int v) { numberChanged(i, v / 100.0); });
    }
    m_preview = new PreviewLabel(morphCorner ? index : -1, this);
    layout->addWidget(m_preview, 1, 4, 3, 1);
    showValue();
}

void ThreeEditor::setValue(const LatentValue& value) {
    m_value = value;
    showValue();
}

void ThreeEditor::setPreview(const QImage& image, const Latent& latent) {
    m_preview->set(image, latent);
}

void ThreeEditor::showValue() {
    m_updating = true;
    for (size_t i = 0; i < 3; ++i) {
        m_spins[i]->setValue(static_cast<double>(m_value.three[i]));
        m_sliders[i]->setValue(static_cast<int>(std::lround(m_value.three[i] * 100.0f)));
    }
    m_updating = false;
    m_exact->setText(m_value.residual.isEmpty() ? QString() : tr("exact cat"));
}

void ThreeEditor::numberChanged(int i, double v) {
    if (m_updating) {
        return;
    }
    LatentValue next = m_value;
    next.three[static_cast<size_t>(i)] = static_cast<float>(v);
    if (next == m_value) {
        return;
    }
    m_value = next;
    showValue();
    Q_EMIT edited(m_index, m_value);
}

void ThreeEditor::dragEnterEvent(QDragEnterEvent* event) {
    if (event->mimeData()->hasFormat(QString::fromLatin1(kLatentMime)) ||
        !imageFilesFromMime(event->mimeData()).isEmpty()) {
        event->acceptProposedAction();
    }
}

void ThreeEditor::dropEvent(QDropEvent* event) {
    const QStringList images = imageFilesFromMime(event->mimeData());
    if (!images.isEmpty()) {
        event->acceptProposedAction();
        Q_EMIT imagesDropped(m_index, images);
        return;
    }
    Latent latent;
    int sourceCorner = -1;
    if (!latentFromMime(event->mimeData(), &latent, &sourceCorner)) {
        event->ignore();
        return;
    }
    event->acceptProposedAction();
    Q_EMIT latentDropped(m_index, latent, sourceCorner);
}

}  // namespace cattery::ui
