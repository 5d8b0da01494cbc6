// cattery: the desktop explorer.
#include <sys/resource.h>

#include <cstdio>

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QElapsedTimer>
#include <QTabWidget>
#include <QTimer>

#include "ui/cellgrid.h"
#include "ui/mainwindow.h"
#include "ui/views.h"

namespace {

// Once every view shows its images, saves a picture of the window with each view in front, then
// quits: the README's screenshots come from here.
void scheduleScreenshots(cattery::ui::MainWindow* window, const QString& dir) {
    auto* timer = new QTimer(window);
    auto* clock = new QElapsedTimer;
    clock->start();
    QObject::connect(timer, &QTimer::timeout, window, [=] {
        const auto ready = [](const cattery::ui::ExplorerView* v) {
            return v->hasModel() && !v->renderPending() && !v->grid()->images().isEmpty();
        };
        const bool done = ready(window->morphView()) && ready(window->generateView()) &&
                          ready(window->arithmeticView());
        if (!done && clock->elapsed() < 120000) {
            return;
        }
        timer->stop();
        QDir().mkpath(dir);
        const char* names[4] = {"morph", "generate", "arithmetic", "train"};
        for (int i = 0; i < 4; ++i) {
            window->tabs()->setCurrentIndex(i);
            QApplication::processEvents();
            window->grab().save(
                QDir(dir).filePath(QStringLiteral("%1.png").arg(QLatin1String(names[i]))));
        }
        delete clock;
        QApplication::exit(done ? 0 : 1);
    });
    timer->start(100);
}

}  // namespace

int main(int argc, char** argv) {
    QElapsedTimer sinceStart;
    sinceStart.start();
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("Cattery"));
    QApplication::setOrganizationName(QStringLiteral("Cattery"));
    QApplication::setApplicationVersion(QStringLiteral(CATTERY_VERSION));
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Explore and train small generative models of cartoon cats."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("model"),
                                 QStringLiteral("Model file to open (.cattery)"));
    const QCommandLineOption screenshots(
        QStringLiteral("screenshots"),
        QStringLiteral("Save a picture of each view into <folder> once rendered, then quit."),
        QStringLiteral("folder"));
    parser.addOption(screenshots);
    const QCommandLineOption timeFirstGrid(
        QStringLiteral("time-first-grid"),
        QStringLiteral("Print the time to the first painted grid and the peak memory, then quit."));
    parser.addOption(timeFirstGrid);
    parser.process(app);
    const QStringList args = parser.positionalArguments();
    cattery::ui::MainWindow window(args.isEmpty() ? QString() : args.first());
    window.show();
    if (parser.isSet(timeFirstGrid)) {
        QObject::connect(
            window.morphView(), &cattery::ui::ExplorerView::renderShown, &window, [&sinceStart] {
                QApplication::processEvents();  // the grid is painted
                rusage usage{};
                getrusage(RUSAGE_SELF, &usage);
                std::printf("%lld ms to the first grid, peak RSS %ld MB\n",
                            static_cast<long long>(sinceStart.elapsed()), usage.ru_maxrss / 1024);
                std::fflush(stdout);
                QApplication::exit(0);
            });
    }
    if (parser.isSet(screenshots)) {
        window.resize(1180, 760);
        scheduleScreenshots(&window, parser.value(screenshots));
    }
    return QApplication::exec();
}
