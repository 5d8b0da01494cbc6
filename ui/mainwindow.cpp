#include "ui/mainwindow.h"

#include <QApplication>
#include <QCoreApplication>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QStatusBar>

#include "core/runtime/paths.h"

namespace cattery {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle(QStringLiteral("Cattery"));
    auto* fileMenu = menuBar()->addMenu(tr("&File"));
    fileMenu->addAction(tr("&Quit"), QKeySequence::Quit, qApp, &QApplication::quit);
    auto* helpMenu = menuBar()->addMenu(tr("&Help"));
    helpMenu->addAction(tr("&About Cattery"), this, &MainWindow::showAbout);

    const auto model = defaultModelPath(QCoreApplication::applicationDirPath().toStdString());
    m_status = new QLabel(model ? tr("Default model: %1").arg(QString::fromStdString(*model))
                                : tr("No shipped model was found."),
                          this);
    m_status->setAlignment(Qt::AlignCenter);
    setCentralWidget(m_status);
    statusBar()->showMessage(tr("Ready"));
    resize(900, 700);
}

void MainWindow::showAbout() {
    QMessageBox::about(
        this, tr("About Cattery"),
        tr("<h3>Cattery %1</h3><p>Explore and train small generative models of cartoon cats.</p>"
           "<p>Emoji data: Twemoji by Twitter, Inc. and other contributors, CC-BY 4.0.</p>")
            .arg(QStringLiteral(CATTERY_VERSION)));
}

}  // namespace cattery
