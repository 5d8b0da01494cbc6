#include "ui/application.h"

#include <QApplication>
#include <QIcon>

namespace cattery::ui {

void describeApplication() {
    QApplication::setApplicationName(QStringLiteral("Cattery"));
    QApplication::setOrganizationName(QStringLiteral("Cattery"));
    QApplication::setApplicationVersion(QStringLiteral(CATTERY_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("org.cattery.Cattery"));
    QIcon icon;
    for (const int size : {32, 48, 64, 128, 256}) {
        icon.addFile(QStringLiteral(":/icons/cattery-%1.png").arg(size), QSize(size, size));
    }
    QApplication::setWindowIcon(icon);
}

}  // namespace cattery::ui
