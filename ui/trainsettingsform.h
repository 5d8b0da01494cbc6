#pragma once

#include <QHash>
#include <QString>
#include <QWidget>

#include "core/train/resume.h"
#include "ui/trainworker.h"

class QComboBox;
class QFormLayout;
class QLineEdit;
class QSpinBox;

namespace cattery::ui {

struct TrainField;

// The Train view's settings: a preset, the model file, the device and precision, and every number
// of a run, built from trainFields() (the common ones shown, the rest under Advanced).
class TrainSettingsForm : public QWidget {
    Q_OBJECT

public:
    explicit TrainSettingsForm(QWidget* parent = nullptr);

    // Sets the architecture, training settings, device, precision, threads and processes of
    // `settings`.
    void fill(TrainSettings& settings) const;
    // Shows a checkpoint's settings: its own locked, those a resumed run may change open.
    void showCheckpoint(const ResumePoint& point);
    // Every setting open again, for a new run.
    void unlock();

    QLineEdit* outputEdit() const { return m_output; }
    QComboBox* presetBox() const { return m_preset; }
    QSpinBox* stepsBox() const;
    int imageSize() const;

Q_SIGNALS:
    // A preset was picked: the images are worth reading again at its size.
    void presetApplied();
    // Any number or switch changed.
    void settingsChanged();

private:
    void applyPreset(int index);
    // Switches that count only with another: the hand-picked augmentation is open only while
    // the folder does not choose it, and scaling latents in training only where drawing does.
    void updateDependentFields();
    void buildField(const TrainField& field, QFormLayout* form);
    void setValue(const QString& key, double value);
    double value(const QString& key) const;
    // The choice made last time (when it can still be made), and each new one kept.
    void remember(QComboBox* box, const QString& settingsKey);

    QComboBox* m_preset;
    QLineEdit* m_output;
    QComboBox* m_device;
    QComboBox* m_precision;
    QSpinBox* m_threads;
    QSpinBox* m_processes;
    QHash<QString, QWidget*> m_fields;  // by TrainField::key
};

}  // namespace cattery::ui
