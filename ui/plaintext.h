#pragma once

#include <QMessageBox>
#include <QString>
#include <QTextDocument>
#include <QWidget>

namespace cattery::ui {

// Text that came from a file (a model's name or description, a path, an error that quotes a file)
// as a tooltip: markup in it is shown as written, never interpreted (a name of <img src=...>
// would otherwise make Qt load that file).
inline QString plainTip(const QString& text) {
    return text.isEmpty() ? text : Qt::convertFromPlainText(text, Qt::WhiteSpaceNormal);
}

// A warning box whose text is plain text, deleted when closed; open() it (window-modal, not
// waited for) or exec() it.
inline QMessageBox* plainWarning(QWidget* parent, const QString& title, const QString& text) {
    auto* box = new QMessageBox(QMessageBox::Warning, title, text, QMessageBox::Ok, parent);
    box->setTextFormat(Qt::PlainText);
    box->setAttribute(Qt::WA_DeleteOnClose);
    return box;
}

}  // namespace cattery::ui
