#include "ui/modelpicker.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QMenu>
#include <QSettings>

#include "core/runtime/paths.h"

namespace cattery::ui {
namespace {

constexpr int kMaxRecent = 8;

}  // namespace

ModelPicker::ModelPicker(QMenu* recentMenu, QWidget* parent)
    : QComboBox(parent), m_recentMenu(recentMenu) {
    setMinimumContentsLength(24);
    setToolTip(tr("Shipped and recent models"));
    m_recent = QSettings().value(QStringLiteral("recentModels")).toStringList();
    connect(this, &QComboBox::activated, this, [this](int index) {
        const QString path = itemData(index).toString();
        if (!path.isEmpty() && path != m_current) {
            Q_EMIT openRequested(path);
        }
    });
    fill();
}

void ModelPicker::remember(const QString& path) {
    m_recent.removeAll(path);
    m_recent.prepend(path);
    while (m_recent.size() > kMaxRecent) {
        m_recent.removeLast();
    }
    QSettings().setValue(QStringLiteral("recentModels"), m_recent);
    m_current = path;
    fill();
}

void ModelPicker::showCurrent(const QString& path) {
    m_current = path;
    fill();
}

void ModelPicker::fill() {
    const QSignalBlocker block(this);
    clear();
    QStringList seen;
    const std::string programDir = QCoreApplication::applicationDirPath().toStdString();
    for (const auto& p : shippedModels(programDir)) {
        const QString path = QString::fromStdString(p);
        addItem(QFileInfo(path).completeBaseName(), path);
        seen << QFileInfo(path).canonicalFilePath();
    }
    for (const QString& path : m_recent) {
        if (!seen.contains(QFileInfo(path).canonicalFilePath())) {
            addItem(tr("%1 (recent)").arg(QFileInfo(path).completeBaseName()), path);
        }
    }
    setCurrentIndex(findData(m_current));

    m_recentMenu->clear();
    for (const QString& path : m_recent) {
        m_recentMenu->addAction(path, this, [this, path] { Q_EMIT openRequested(path); });
    }
    m_recentMenu->setEnabled(!m_recent.isEmpty());
}

}  // namespace cattery::ui
