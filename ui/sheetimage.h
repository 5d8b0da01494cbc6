#pragma once

#include <QImage>
#include <QStringList>
#include <QVector>

#include "core/io/sheetlayout.h"

namespace cattery::ui {

// A sheet as a QImage, laid out by core's one sheet layout (composeSheet); the labels under the
// images and the caption under the sheet are written in with Qt's fonts, in black on a light
// background and white on a dark one. Safe off the UI thread. Throws ConfigError as composeSheet.
QImage sheetImage(const QVector<QImage>& images, const SheetOptions& options,
                  const QStringList& labels = {}, const QString& caption = {});

}  // namespace cattery::ui
