// cattery: the desktop explorer.
#include <QApplication>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFileInfo>

#include <string_view>

#include "app/windowoptions.h"
#include "ui/application.h"
#include "ui/mainwindow.h"

namespace {

void describeCommandLine(QCommandLineParser& parser) {
    parser.setApplicationDescription(QString::fromUtf8(cattery::app::kWindowSummary));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QString::fromUtf8(cattery::app::kWindowPathName),
                                 QString::fromUtf8(cattery::app::kWindowPathHelp));
}

// --help and --version need no window: they answer without a display too.
bool onlyAsks(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg(argv[i]);
        if (arg == "-h" || arg == "--help" || arg == "--help-all" || arg == "-v" ||
            arg == "--version") {
            return true;
        }
    }
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    if (onlyAsks(argc, argv)) {
        QCoreApplication core(argc, argv);
        QCoreApplication::setApplicationName(QStringLiteral("cattery"));
        QCoreApplication::setApplicationVersion(QStringLiteral(CATTERY_VERSION));
        QCommandLineParser parser;
        describeCommandLine(parser);
        parser.process(core);  // prints the answer and ends the program
        return 0;
    }
    QApplication app(argc, argv);
    cattery::ui::describeApplication();
    QCommandLineParser parser;
    describeCommandLine(parser);
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
