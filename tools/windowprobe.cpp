// cattery-window-probe: a development tool, not installed. It opens the window as `cattery` does
// and either saves a picture of each view (the README's screenshots, packaging/screenshots.sh) or
// prints the time to the first painted grid and the peak memory (the benchmark's cold start).
#include <sys/resource.h>

#include <cstdio>
#include <memory>

#include <QApplication>
#include <QCommandLineParser>
#include <QDialog>
#include <QDir>
#include <QElapsedTimer>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTimer>

#include "ui/application.h"
#include "ui/arithmeticview.h"
#include "ui/cellgrid.h"
#include "ui/directionspanel.h"
#include "ui/generateview.h"
#include "ui/mainwindow.h"
#include "ui/morphview.h"
#include "ui/trainview.h"

namespace {

// Once every view shows its images, saves a picture of the window with each view in front, then
// quits: the README's screenshots come from here. With a folder of images, the Train view's picture
// is taken 400 steps into a Quick run on it (written to a temporary folder).
void scheduleScreenshots(cattery::ui::MainWindow* window, const QString& dir,
                         const QString& trainingFolder, const QString& findImage) {
    using cattery::ui::TrainView;
    constexpr qint64 kTrainSteps = 400;
    constexpr qint64 kTimeoutMs = 300000;
    auto* timer = new QTimer(window);
    auto clock = std::make_shared<QElapsedTimer>();
    auto scratch = std::make_shared<QTemporaryDir>();
    // 0: explorer views, 3: finding a picture's cat, 1: training, 2: stopping
    auto stage = std::make_shared<int>(0);
    clock->start();
    const auto save = [window, dir](int tab, const char* name) {
        window->tabs()->setCurrentIndex(tab);
        QApplication::processEvents();
        window->grab().save(QDir(dir).filePath(QStringLiteral("%1.png").arg(QLatin1String(name))));
    };
    QObject::connect(timer, &QTimer::timeout, window, [=] {
        TrainView* train = window->trainView();
        const bool late = clock->elapsed() > kTimeoutMs;
        if (*stage == 0) {
            const auto ready = [](const cattery::ui::ExplorerView* v) {
                return v->hasModel() && !v->renderPending() && !v->grid()->images().isEmpty();
            };
            const cattery::ui::DirectionsPanel* directions = window->directionsPanel();
            const bool done = ready(window->morphView()) && ready(window->generateView()) &&
                              ready(window->arithmeticView()) && directions->ready() &&
                              directions->count() > 0 &&
                              !directions->strip(directions->count() - 1)->pixmap().isNull();
            if (!done && !late) {
                return;
            }
            QDir().mkpath(dir);
            save(0, "morph");
            save(1, "generate");
            save(2, "arithmetic");
            if (!done) {
                save(3, "train");
                timer->stop();
                QApplication::exit(1);
                return;
            }
            if (!findImage.isEmpty()) {
                window->tabs()->setCurrentIndex(0);
                window->findCats(window->morphView(), 0, {findImage});
                *stage = 3;
                return;
            }
        }
        if (*stage == 3) {
            auto* found = window->findChild<QDialog*>(QStringLiteral("foundCats"));
            if ((found == nullptr || !found->isVisible()) && !late) {
                return;
            }
            if (found != nullptr) {
                QApplication::processEvents();
                found->grab().save(QDir(dir).filePath(QStringLiteral("found.png")));
                found->close();
            }
        }
        if (*stage == 0 || *stage == 3) {
            if (trainingFolder.isEmpty() || late) {
                save(3, "train");
                timer->stop();
                QApplication::exit(late ? 1 : 0);
                return;
            }
            window->tabs()->setCurrentWidget(train);
            train->outputEdit()->setText(scratch->filePath(QStringLiteral("shot.cattery")));
            train->setFolder(trainingFolder);
            *stage = 1;
        } else if (*stage == 1) {
            if (!train->running() && train->startButton()->isEnabled()) {
                train->startButton()->click();
            }
            if (late || (train->running() && train->lastStep() >= kTrainSteps)) {
                save(3, "train");
                train->stopButton()->click();
                *stage = 2;
            }
        } else if (!train->running()) {
            timer->stop();
            QApplication::exit(late ? 1 : 0);
        }
    });
    timer->start(100);
}

}  // namespace

int main(int argc, char** argv) {
    QElapsedTimer sinceStart;
    sinceStart.start();
    QApplication app(argc, argv);
    cattery::ui::describeApplication();
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Open the Cattery window, picture it or time its start, then quit."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("model"),
                                 QStringLiteral("Model file to open (.cattery)"));
    const QCommandLineOption screenshots(
        QStringLiteral("screenshots"),
        QStringLiteral("Save a picture of each view into <folder> once rendered, then quit."),
        QStringLiteral("folder"));
    parser.addOption(screenshots);
    const QCommandLineOption screenshotTraining(
        QStringLiteral("screenshot-training"),
        QStringLiteral("With --screenshots: picture the Train view training on <folder>."),
        QStringLiteral("folder"));
    parser.addOption(screenshotTraining);
    const QCommandLineOption screenshotFind(
        QStringLiteral("screenshot-find"),
        QStringLiteral("With --screenshots: find the cat of <image> for corner 1 and picture the "
                       "Cats Found window (found.png)."),
        QStringLiteral("image"));
    parser.addOption(screenshotFind);
    const QCommandLineOption timeFirstGrid(
        QStringLiteral("time-first-grid"),
        QStringLiteral("Print the time to the first painted grid and the peak memory, then quit."));
    parser.addOption(timeFirstGrid);
    parser.process(app);
    if (parser.isSet(screenshots) == parser.isSet(timeFirstGrid)) {
        std::fprintf(stderr, "give either --screenshots FOLDER or --time-first-grid\n");
        return 2;
    }
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
    } else {
        window.resize(1180, 760);
        scheduleScreenshots(&window, parser.value(screenshots), parser.value(screenshotTraining),
                            parser.value(screenshotFind));
    }
    return QApplication::exec();
}
