// cattery: the desktop explorer.
#include <QApplication>
#include <QCommandLineParser>

#include "ui/application.h"
#include "ui/mainwindow.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    cattery::ui::describeApplication();
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Explore and train small generative models of cartoon cats."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("model"),
                                 QStringLiteral("Model file to open (.cattery)"));
    parser.process(app);
    const QStringList args = parser.positionalArguments();
    cattery::ui::MainWindow window(args.isEmpty() ? QString() : args.first());
    window.show();
    return QApplication::exec();
}
