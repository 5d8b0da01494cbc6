// cattery: the desktop explorer.
#include <QApplication>

#include "ui/mainwindow.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("Cattery"));
    QApplication::setOrganizationName(QStringLiteral("Cattery"));
    QApplication::setApplicationVersion(QStringLiteral(CATTERY_VERSION));
    cattery::MainWindow window;
    window.show();
    return QApplication::exec();
}
