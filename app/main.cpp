// cattery: the desktop explorer.
#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>

#include "app/windowoptions.h"
#include "ui/application.h"
#include "ui/mainwindow.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    cattery::ui::describeApplication();
    QCommandLineParser parser;
    parser.setApplicationDescription(QString::fromUtf8(cattery::app::kWindowSummary));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QString::fromUtf8(cattery::app::kWindowPathName),
                                 QString::fromUtf8(cattery::app::kWindowPathHelp));
    parser.process(app);
    const QStringList args = parser.positionalArguments();
    const QString path = args.isEmpty() ? QString() : args.first();
    const QFileInfo info(path);
    const bool folder = info.isDir();
    const bool sheet = info.suffix().compare(QStringLiteral("png"), Qt::CaseInsensitive) == 0;
    cattery::ui::MainWindow window(folder || sheet ? QString() : path);
    window.show();
    if (folder) {
        window.trainOn(path);
    } else if (sheet) {
        window.openSheetWhenReady(path);
    }
    return QApplication::exec();
}
