#pragma once

#include <QColor>

#include "core/io/sheetlayout.h"

class QWidget;

namespace cattery::ui {

// Options of File > Export Sheet, remembered between runs.
struct ExportOptions {
    int scale = 2;
    int padding = 2;
    QColor background = Qt::white;
    bool labels = false;

    // The last options used (the defaults the first time), and keeping these for next time.
    static ExportOptions remembered();
    void remember() const;
    // The sheet they describe, `columns` images per row.
    SheetOptions sheet(int columns) const;
};

// The Export Sheet dialog: scale, padding, background and labels. False when cancelled.
bool editExportOptions(QWidget* parent, ExportOptions& options);

}  // namespace cattery::ui
