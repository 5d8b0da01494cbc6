#include "ui/trainsettingsform.h"

#include <algorithm>

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLineEdit>
#include <QSettings>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QVBoxLayout>

#include "core/runtime/hardware.h"
#include "core/runtime/precision.h"
#include "core/train/launcher.h"
#include "ui/trainfields.h"

namespace cattery::ui {
namespace {

struct Preset {
    const char* name;
    int size;
    qint64 steps;
    int batch;
};
constexpr Preset kPresets[] = {
    {QT_TR_NOOP("Quick: 32x32, a few minutes on a CPU"), 32, 2000, 16},
    {QT_TR_NOOP("Standard: 64x64"), 64, 20000, 16},
    {QT_TR_NOOP("Large: 128x128, for a GPU"), 128, 100000, 16},
};

// The nearest size the networks are built for.
int nearestImageSize(int size) {
    int nearest = kImageSizes.front();
    for (const int allowed : kImageSizes) {
        if (std::abs(allowed - size) <= std::abs(nearest - size)) {
            nearest = allowed;
        }
    }
    return nearest;
}

}  // namespace

TrainSettingsForm::TrainSettingsForm(QWidget* parent) : QWidget(parent) {
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    auto* box = new QGroupBox(tr("Settings"), this);
    outer->addWidget(box);
    auto* form = new QFormLayout(box);
    m_preset = new QComboBox(this);
    for (const Preset& p : kPresets) {
        m_preset->addItem(tr(p.name));
    }
    form->addRow(tr("Preset:"), m_preset);
    m_output = new QLineEdit(this);
    m_output->setToolTip(tr("The new model file; its checkpoint and snapshots go beside it"));
    form->addRow(tr("Model file:"), m_output);

    // Every other knob, folded away until asked for.
    auto* advanced = new QGroupBox(tr("Advanced"), this);
    advanced->setCheckable(true);
    advanced->setChecked(false);
    auto* advancedBody = new QWidget(advanced);
    (new QVBoxLayout(advanced))->addWidget(advancedBody);
    advancedBody->setVisible(false);
    advanced->setFlat(true);  // no empty frame while folded
    connect(advanced, &QGroupBox::toggled, advancedBody, [advanced, advancedBody](bool open) {
        advancedBody->setVisible(open);
        advanced->setFlat(!open);
    });
    auto* advancedForm = new QFormLayout(advancedBody);
    for (const TrainField& f : trainFields()) {
        buildField(f, f.advanced ? advancedForm : form);
    }
    const TrainSettings defaults;
    for (const TrainField& f : trainFields()) {
        setValue(QString::fromLatin1(f.key), f.get(defaults.arch, defaults.train));
    }

    // Only the sizes the networks are built for: a typed 40 becomes 48.
    auto* size = qobject_cast<QSpinBox*>(m_fields.value(QStringLiteral("imageSize")));
    size->setSingleStep(16);
    connect(size, &QSpinBox::valueChanged, this, [size](int value) {
        if (const int nearest = nearestImageSize(value); nearest != value) {
            size->setValue(nearest);
        }
    });
    for (const char* key : {"autoAugment", "normalizeZ"}) {
        connect(qobject_cast<QCheckBox*>(m_fields.value(QString::fromLatin1(key))),
                &QCheckBox::toggled, this, &TrainSettingsForm::updateDependentFields);
    }
    updateDependentFields();
    // The discriminator's rate times the generator's stays within what validate() takes.
    auto* lr = qobject_cast<QDoubleSpinBox*>(m_fields.value(QStringLiteral("learningRate")));
    auto* lrD = qobject_cast<QDoubleSpinBox*>(m_fields.value(QStringLiteral("discriminatorRate")));
    const auto limitDiscriminatorRate = [lrD](double rate) {
        lrD->setMaximum(std::min(kMaxDiscriminatorLrScale, kMaxLearningRate / rate));
    };
    connect(lr, &QDoubleSpinBox::valueChanged, this, limitDiscriminatorRate);
    limitDiscriminatorRate(lr->value());

    m_threads = new QSpinBox(this);
    m_threads->setObjectName(QStringLiteral("threads"));
    m_threads->setRange(0, 1024);
    m_threads->setToolTip(
        tr("CPU threads for training. Automatic uses the CPUs this process may use and fewer "
           "while other programs keep some busy (fewer threads then train faster); drawing "
           "keeps to one thread meanwhile"));
    m_threads->setSpecialValueText(tr("Automatic"));
    m_threads->setValue(QSettings().value(QStringLiteral("train/threads"), 0).toInt());
    connect(m_threads, &QSpinBox::valueChanged, this,
            [](int n) { QSettings().setValue(QStringLiteral("train/threads"), n); });
    advancedForm->addRow(tr("Threads:"), m_threads);

    m_processes = new QSpinBox(this);
    m_processes->setObjectName(QStringLiteral("processes"));
    m_processes->setRange(1, kMostLocalProcesses);
    m_processes->setToolTip(
        tr("Processes that train together, each with its share of the CPUs and a batch of its "
           "own (the run's batch is their sum): on a computer with many cores, several processes "
           "train faster than one. Threads is then each one's."));
    m_processes->setValue(std::clamp(
        QSettings().value(QStringLiteral("train/processes"), 1).toInt(), 1, kMostLocalProcesses));
    connect(m_processes, &QSpinBox::valueChanged, this,
            [](int n) { QSettings().setValue(QStringLiteral("train/processes"), n); });
    advancedForm->addRow(tr("Processes:"), m_processes);

    m_device = new QComboBox(this);
    m_device->setToolTip(tr("Where the networks train: the GPU when there is one"));
    for (const DeviceChoice& choice : deviceChoices()) {
        m_device->addItem(QString::fromStdString(choice.label), QString::fromStdString(choice.key));
        if (!choice.available) {
            // Listed, so that one sees what is missing, but not choosable.
            auto* items = qobject_cast<QStandardItemModel*>(m_device->model());
            items->item(m_device->count() - 1)->setEnabled(false);
        }
    }
    form->addRow(tr("Device:"), m_device);
    m_precision = new QComboBox(this);
    m_precision->addItem(cpuHasNativeBf16() ? tr("Automatic (bf16 on this CPU)")
                                            : tr("Automatic (fp32 on this CPU)"),
                         QStringLiteral("auto"));
    m_precision->addItem(tr("fp32"), QStringLiteral("fp32"));
    m_precision->addItem(tr("bf16"), QStringLiteral("bf16"));
    m_precision->setToolTip(
        tr("bf16 runs the convolutions in bfloat16: several times faster on a CPU with AVX-512 "
           "BF16 or AMX, and slower where it has to be emulated"));
    form->addRow(tr("Precision:"), m_precision);
    m_device->setObjectName(QStringLiteral("device"));
    m_precision->setObjectName(QStringLiteral("precision"));
    remember(m_device, QStringLiteral("train/device"));
    remember(m_precision, QStringLiteral("train/precision"));
    form->addRow(advanced);

    connect(m_preset, &QComboBox::currentIndexChanged, this, &TrainSettingsForm::applyPreset);
    applyPreset(0);
}

void TrainSettingsForm::buildField(const TrainField& f, QFormLayout* form) {
    const QString key = QString::fromLatin1(f.key);
    QWidget* widget = nullptr;
    switch (f.kind) {
        case TrainField::Kind::Integer: {
            auto* box = new QSpinBox(this);
            box->setRange(static_cast<int>(f.lo), static_cast<int>(f.hi));
            box->setSingleStep(static_cast<int>(f.step));
            if (f.special != nullptr) {
                box->setSpecialValueText(tr(f.special));
            }
            connect(box, &QSpinBox::valueChanged, this, &TrainSettingsForm::settingsChanged);
            widget = box;
            break;
        }
        case TrainField::Kind::Real: {
            auto* box = new QDoubleSpinBox(this);
            box->setDecimals(f.decimals);
            box->setRange(f.lo, f.hi);
            box->setSingleStep(f.step);
            connect(box, &QDoubleSpinBox::valueChanged, this, &TrainSettingsForm::settingsChanged);
            widget = box;
            break;
        }
        case TrainField::Kind::Switch: {
            auto* box = new QCheckBox(tr(f.label), this);
            connect(box, &QCheckBox::toggled, this, &TrainSettingsForm::settingsChanged);
            widget = box;
            break;
        }
    }
    widget->setObjectName(key);
    if (f.tip[0] != '\0') {
        widget->setToolTip(tr(f.tip));
    }
    if (f.kind == TrainField::Kind::Switch) {
        form->addRow(widget);
    } else {
        form->addRow(tr(f.label), widget);
    }
    m_fields.insert(key, widget);
}

void TrainSettingsForm::remember(QComboBox* box, const QString& settingsKey) {
    const int saved = box->findData(QSettings().value(settingsKey));
    const auto* items = qobject_cast<QStandardItemModel*>(box->model());
    if (saved >= 0 && items->item(saved)->isEnabled()) {
        box->setCurrentIndex(saved);
    }
    connect(box, &QComboBox::currentIndexChanged, this,
            [box, settingsKey] { QSettings().setValue(settingsKey, box->currentData()); });
}

void TrainSettingsForm::setValue(const QString& key, double value) {
    QWidget* w = m_fields.value(key);
    if (auto* i = qobject_cast<QSpinBox*>(w)) {
        i->setValue(static_cast<int>(std::min<double>(value, i->maximum())));
    } else if (auto* r = qobject_cast<QDoubleSpinBox*>(w)) {
        r->setValue(value);
    } else if (auto* c = qobject_cast<QCheckBox*>(w)) {
        c->setChecked(value != 0.0);
    }
}

double TrainSettingsForm::value(const QString& key) const {
    QWidget* w = m_fields.value(key);
    if (auto* i = qobject_cast<QSpinBox*>(w)) {
        return i->value();
    }
    if (auto* r = qobject_cast<QDoubleSpinBox*>(w)) {
        return r->value();
    }
    auto* c = qobject_cast<QCheckBox*>(w);
    return c != nullptr && c->isChecked() ? 1.0 : 0.0;
}

QSpinBox* TrainSettingsForm::stepsBox() const {
    return qobject_cast<QSpinBox*>(m_fields.value(QStringLiteral("steps")));
}

int TrainSettingsForm::imageSize() const {
    return static_cast<int>(value(QStringLiteral("imageSize")));
}

void TrainSettingsForm::applyPreset(int index) {
    const Preset& p = kPresets[std::clamp(index, 0, 2)];
    setValue(QStringLiteral("imageSize"), p.size);
    setValue(QStringLiteral("steps"), static_cast<double>(p.steps));
    setValue(QStringLiteral("batch"), p.batch);
    Q_EMIT presetApplied();
}

void TrainSettingsForm::fill(TrainSettings& s) const {
    for (const TrainField& f : trainFields()) {
        f.set(s.arch, s.train, value(QString::fromLatin1(f.key)));
    }
    s.device = m_device->currentData().toString();
    s.precision = m_precision->currentData().toString();
    s.threads = m_threads->value();
    s.processes = m_processes->value();
}

void TrainSettingsForm::showCheckpoint(const ResumePoint& point) {
    for (const TrainField& f : trainFields()) {
        setValue(QString::fromLatin1(f.key), f.get(point.arch, point.config));
        m_fields.value(QString::fromLatin1(f.key))->setEnabled(!f.checkpoint);
    }
    m_preset->setEnabled(false);
    // A finished run offers as many steps again.
    const TrainConfig& c = point.config;
    setValue(QStringLiteral("steps"),
             static_cast<double>(point.step < c.steps ? c.steps : point.step + c.steps));
    m_precision->setCurrentIndex(
        m_precision->findData(QString::fromStdString(precisionName(c.precision))));
}

void TrainSettingsForm::updateDependentFields() {
    const bool automatic = value(QStringLiteral("autoAugment")) != 0.0;
    for (const char* key :
         {"diffColor", "diffTranslation", "diffCutout", "augmentP", "adaptiveAugment"}) {
        m_fields.value(QString::fromLatin1(key))->setEnabled(!automatic);
    }
    m_fields.value(QStringLiteral("normalizeZInTraining"))
        ->setEnabled(value(QStringLiteral("normalizeZ")) != 0.0);
}

void TrainSettingsForm::unlock() {
    for (QWidget* w : m_fields) {
        w->setEnabled(true);
    }
    updateDependentFields();
    m_preset->setEnabled(true);
}

}  // namespace cattery::ui
