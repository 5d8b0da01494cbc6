#include "ui/exportdialog.h"

#include <QCheckBox>
#include <QColorDialog>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>

namespace cattery::ui {
namespace {

constexpr int kLabelHeight = 16;  // the band under each picture, in sheet pixels

}  // namespace

ExportOptions ExportOptions::remembered() {
    const QSettings settings;
    ExportOptions o;
    o.scale = std::clamp(settings.value(QStringLiteral("export/scale"), o.scale).toInt(), 1, 8);
    o.padding =
        std::clamp(settings.value(QStringLiteral("export/padding"), o.padding).toInt(), 0, 64);
    o.background =
        settings.value(QStringLiteral("export/background"), o.background).value<QColor>();
    if (!o.background.isValid()) {
        o.background = Qt::white;
    }
    o.labels = settings.value(QStringLiteral("export/labels"), o.labels).toBool();
    return o;
}

void ExportOptions::remember() const {
    QSettings settings;
    settings.setValue(QStringLiteral("export/scale"), scale);
    settings.setValue(QStringLiteral("export/padding"), padding);
    settings.setValue(QStringLiteral("export/background"), background);
    settings.setValue(QStringLiteral("export/labels"), labels);
}

SheetOptions ExportOptions::sheet(int columns) const {
    SheetOptions s;
    s.columns = columns;
    s.scale = scale;
    s.padding = padding;
    s.background = {static_cast<std::uint8_t>(background.red()),
                    static_cast<std::uint8_t>(background.green()),
                    static_cast<std::uint8_t>(background.blue())};
    s.labelHeight = labels ? kLabelHeight : 0;
    return s;
}

bool editExportOptions(QWidget* parent, ExportOptions& options) {
    QDialog dialog(parent);
    dialog.setWindowTitle(QObject::tr("Export Sheet"));
    auto* form = new QFormLayout(&dialog);
    auto* scale = new QSpinBox(&dialog);
    scale->setRange(1, 8);
    scale->setValue(options.scale);
    auto* padding = new QSpinBox(&dialog);
    padding->setRange(0, 64);
    padding->setValue(options.padding);
    auto* labels = new QCheckBox(QObject::tr("Label each picture"), &dialog);
    labels->setChecked(options.labels);
    QColor background = options.background;
    auto* colour = new QPushButton(background.name(), &dialog);
    QObject::connect(colour, &QPushButton::clicked, &dialog, [&] {
        const QColor c = QColorDialog::getColor(background, &dialog, QObject::tr("Background"));
        if (c.isValid()) {
            background = c;
            colour->setText(c.name());
        }
    });
    form->addRow(QObject::tr("Scale:"), scale);
    form->addRow(QObject::tr("Padding:"), padding);
    form->addRow(QObject::tr("Background:"), colour);
    form->addRow(labels);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
    form->addRow(buttons);
    QObject::connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    QObject::connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    if (dialog.exec() != QDialog::Accepted) {
        return false;
    }
    options = {scale->value(), padding->value(), background, labels->isChecked()};
    return true;
}

}  // namespace cattery::ui
