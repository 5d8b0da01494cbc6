#pragma once

#include <array>

#include <QFrame>
#include <QImage>

#include "ui/latentmath.h"

class QDoubleSpinBox;
class QLabel;
class QSlider;
class QToolButton;

namespace cattery::ui {

class PreviewLabel;

// Three numbers (spin boxes and sliders, -4 to 4), a random button and a small preview: one morph
// corner or one arithmetic slot. A dropped cat sets its exact latent.
class ThreeEditor : public QFrame {
    Q_OBJECT

public:
    static constexpr double kRange = 4.0;

    // morphCorner: dragging the preview away carries the corner's index, so a drop on another
    // corner swaps the two; an arithmetic slot's preview carries only its latent.
    ThreeEditor(const QString& title, int index, bool morphCorner, QWidget* parent = nullptr);

    void setValue(const LatentValue& value);
    const LatentValue& value() const { return m_value; }
    void setPreview(const QImage& image, const Latent& latent);
    int index() const { return m_index; }
    QSlider* slider(int i) const { return m_sliders[static_cast<size_t>(i)]; }
    QDoubleSpinBox* spinBox(int i) const { return m_spins[static_cast<size_t>(i)]; }

Q_SIGNALS:
    // The user changed the numbers (the residual of a dropped cat is kept).
    void edited(int index, const cattery::ui::LatentValue& value);
    void randomRequested(int index);
    void latentDropped(int index, const cattery::ui::Latent& latent, int sourceCorner);
    // Image files dropped here: find their cat.
    void imagesDropped(int index, const QStringList& paths);

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void numberChanged(int i, double v);
    void showValue();

    int m_index;
    LatentValue m_value;
    std::array<QDoubleSpinBox*, 3> m_spins{};
    std::array<QSlider*, 3> m_sliders{};
    QLabel* m_exact = nullptr;
    PreviewLabel* m_preview = nullptr;
    bool m_updating = false;
};

}  // namespace cattery::ui
