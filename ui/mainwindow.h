#pragma once

#include <QMainWindow>

class QLabel;

namespace cattery {

// The main window; the explorer views hang off it.
class MainWindow : public QMainWindow {
    Q_OBJECT

public:
    explicit MainWindow(QWidget* parent = nullptr);

private:
    void showAbout();

    QLabel* m_status = nullptr;
};

}  // namespace cattery
