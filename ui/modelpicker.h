#pragma once

#include <QComboBox>
#include <QStringList>

class QMenu;

namespace cattery::ui {

// The toolbar's model list (the shipped models, then the recent ones) and File > Recent Models,
// kept in step and remembered between runs.
class ModelPicker : public QComboBox {
    Q_OBJECT

public:
    ModelPicker(QMenu* recentMenu, QWidget* parent);

    // Puts `path` first among the recent models and shows it as the current one.
    void remember(const QString& path);
    // Shows `path` as the current model (none when it is not in the list).
    void showCurrent(const QString& path);
    const QStringList& recent() const { return m_recent; }

Q_SIGNALS:
    void openRequested(const QString& path);

private:
    void fill();

    QMenu* m_recentMenu;
    QStringList m_recent;
    QString m_current;
};

}  // namespace cattery::ui
