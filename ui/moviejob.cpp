#include "ui/moviejob.h"

#include <algorithm>

#include <QDialogButtonBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QListWidget>
#include <QMimeData>
#include <QPushButton>
#include <QRadioButton>
#include <QSettings>
#include <QSpinBox>
#include <QVBoxLayout>

#include "core/errors.h"
#include "core/io/modelfile.h"
#include "core/io/movie.h"
#include "core/latent/latentspace.h"
#include "core/runtime/device.h"
#include "core/runtime/renderer.h"
#include "core/runtime/threads.h"
#include "ui/cellgrid.h"

namespace cattery::ui {

MovieSettings MovieSettings::remembered() {
    const QSettings s;
    MovieSettings m;
    m.framesPerLeg =
        std::clamp(s.value(QStringLiteral("movie/frames"), m.framesPerLeg).toInt(), 1, 600);
    m.fps = std::clamp(s.value(QStringLiteral("movie/fps"), m.fps).toInt(), 1, 120);
    m.scale = std::clamp(s.value(QStringLiteral("movie/scale"), m.scale).toInt(), 1, 8);
    m.throughPath = s.value(QStringLiteral("movie/path"), false).toBool();
    return m;
}

void MovieSettings::remember() const {
    QSettings s;
    s.setValue(QStringLiteral("movie/frames"), framesPerLeg);
    s.setValue(QStringLiteral("movie/fps"), fps);
    s.setValue(QStringLiteral("movie/scale"), scale);
    s.setValue(QStringLiteral("movie/path"), throughPath);
}

namespace {

// The path's list: cats dragged from any view are inserted where they are dropped, dragged within
// it they move, and Delete takes the selected ones out.
class PathList : public QListWidget {
public:
    PathList(std::function<void(int row, const Latent&, const QImage&)> insert, QWidget* parent)
        : QListWidget(parent), m_insert(std::move(insert)) {
        setFlow(QListView::LeftToRight);
        setWrapping(true);
        setResizeMode(QListView::Adjust);
        setIconSize(QSize(48, 48));
        setSpacing(2);
        setSelectionMode(QAbstractItemView::ExtendedSelection);
        setDragDropMode(QAbstractItemView::DragDrop);
        setDefaultDropAction(Qt::MoveAction);
        setAcceptDrops(true);
    }

protected:
    void dragEnterEvent(QDragEnterEvent* event) override {
        if (event->source() == this) {
            QListWidget::dragEnterEvent(event);
        } else if (event->mimeData()->hasFormat(QString::fromLatin1(kLatentMime))) {
            event->setDropAction(Qt::CopyAction);
            event->accept();
        } else {
            event->ignore();
        }
    }
    void dragMoveEvent(QDragMoveEvent* event) override {
        if (event->source() == this) {
            QListWidget::dragMoveEvent(event);
        } else if (event->mimeData()->hasFormat(QString::fromLatin1(kLatentMime))) {
            event->setDropAction(Qt::CopyAction);
            event->accept();
        } else {
            event->ignore();
        }
    }
    void dropEvent(QDropEvent* event) override {
        const QPoint at = event->position().toPoint();
        if (event->source() == this) {
            // A move within the list: the dragged items go before the one dropped on.
            QListWidgetItem* target = itemAt(at);
            const int row = target != nullptr ? this->row(target) : count();
            QList<QListWidgetItem*> moving = selectedItems();
            std::sort(moving.begin(), moving.end(),
                      [this](auto* a, auto* b) { return this->row(a) < this->row(b); });
            int insertAt = row;
            for (QListWidgetItem* item : moving) {
                if (this->row(item) < row) {
                    --insertAt;
                }
            }
            for (QListWidgetItem* item : moving) {
                takeItem(this->row(item));
            }
            for (QListWidgetItem* item : moving) {
                insertItem(insertAt++, item);
                item->setSelected(true);
            }
            event->setDropAction(Qt::CopyAction);  // nothing is removed by the drag's source
            event->accept();
            return;
        }
        Latent latent;
        int sourceCorner = -1;
        if (!latentFromMime(event->mimeData(), &latent, &sourceCorner)) {
            event->ignore();
            return;
        }
        QListWidgetItem* target = itemAt(at);
        m_insert(target != nullptr ? row(target) : count(), latent,
                 qvariant_cast<QImage>(event->mimeData()->imageData()));
        event->setDropAction(Qt::CopyAction);
        event->accept();
    }
    void keyPressEvent(QKeyEvent* event) override {
        if (event->matches(QKeySequence::Delete) || event->key() == Qt::Key_Backspace) {
            qDeleteAll(selectedItems());
            return;
        }
        QListWidget::keyPressEvent(event);
    }

private:
    std::function<void(int, const Latent&, const QImage&)> m_insert;
};

constexpr int kLatentRole = Qt::UserRole;
constexpr int kImageRole = Qt::UserRole + 1;

}  // namespace

MovieDialog::MovieDialog(std::function<QVector<PathCat>()> selection, QWidget* parent)
    : QDialog(parent), m_selection(std::move(selection)) {
    setWindowTitle(tr("Export Movie"));
    setObjectName(QStringLiteral("movieDialog"));
    setModal(false);
    auto* layout = new QVBoxLayout(this);
    m_cornersButton = new QRadioButton(tr("Around the morph grid's &corners"), this);
    m_cornersButton->setToolTip(
        tr("Top left, top right, bottom right, bottom left and back, by the grid's interpolation"));
    m_pathButton = new QRadioButton(tr("Through these &cats, and back to the first:"), this);
    m_pathButton->setToolTip(
        tr("Drag cats here from any view while this stays open, or select cats and add them"));
    m_cornersButton->setChecked(true);
    layout->addWidget(m_cornersButton);
    layout->addWidget(m_pathButton);
    m_list = new PathList(
        [this](int row, const Latent& latent, const QImage& image) {
            addCats({{latent, image}}, row);
        },
        this);
    m_list->setMinimumSize(360, 140);
    m_list->setToolTip(
        tr("Drag cats here; drag them within the list to reorder; Delete takes "
           "the selected ones out"));
    layout->addWidget(m_list, 1);
    auto* row = new QHBoxLayout;
    m_addSelected = new QPushButton(tr("&Add Selected Cats"), this);
    m_addSelected->setObjectName(QStringLiteral("addSelected"));
    m_addSelected->setToolTip(tr("The cats selected in the view (click, Ctrl+click)"));
    auto* clear = new QPushButton(tr("C&lear"), this);
    row->addWidget(m_addSelected);
    row->addWidget(clear);
    row->addStretch(1);
    layout->addLayout(row);
    m_note = new QLabel(this);
    m_note->setTextFormat(Qt::PlainText);
    m_note->setWordWrap(true);
    layout->addWidget(m_note);
    auto* form = new QFormLayout;
    const auto box = [this](int lo, int hi, const QString& suffix) {
        auto* b = new QSpinBox(this);
        b->setRange(lo, hi);
        b->setSuffix(suffix);
        return b;
    };
    m_frames = box(1, 600, tr(" frames"));
    m_frames->setToolTip(tr("Frames from one corner or cat to the next"));
    m_fps = box(1, 120, tr(" per second"));
    m_scale = box(1, 8, QStringLiteral(" x"));
    form->addRow(tr("Each leg:"), m_frames);
    form->addRow(tr("Frames:"), m_fps);
    form->addRow(tr("Scale:"), m_scale);
    layout->addLayout(form);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_ok = buttons->button(QDialogButtonBox::Ok);
    m_ok->setText(tr("&Export..."));
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
    connect(m_addSelected, &QPushButton::clicked, this, [this] {
        if (addCats(m_selection ? m_selection() : QVector<PathCat>()) > 0) {
            m_pathButton->setChecked(true);
        }
    });
    connect(clear, &QPushButton::clicked, m_list, &QListWidget::clear);
    connect(m_cornersButton, &QRadioButton::toggled, this, &MovieDialog::updateState);
    connect(m_list->model(), &QAbstractItemModel::rowsInserted, this, &MovieDialog::updateState);
    connect(m_list->model(), &QAbstractItemModel::rowsRemoved, this, &MovieDialog::updateState);
    setSettings(MovieSettings{});
}

void MovieDialog::setSettings(const MovieSettings& settings) {
    m_frames->setValue(settings.framesPerLeg);
    m_fps->setValue(settings.fps);
    m_scale->setValue(settings.scale);
    (settings.throughPath ? m_pathButton : m_cornersButton)->setChecked(true);
    updateState();
}

MovieSettings MovieDialog::settings() const {
    MovieSettings s;
    s.framesPerLeg = m_frames->value();
    s.fps = m_fps->value();
    s.scale = m_scale->value();
    s.throughPath = m_pathButton->isChecked();
    return s;
}

void MovieDialog::setLatentDim(int latentDim) {
    if (latentDim != m_latentDim && m_list->count() > 0) {
        m_list->clear();
        m_note->setText(tr("The path was emptied: its cats belonged to another model."));
    }
    m_latentDim = latentDim;
    updateState();
}

QListWidget* MovieDialog::list() const {
    return m_list;
}

QVector<PathCat> MovieDialog::path() const {
    QVector<PathCat> cats;
    for (int i = 0; i < m_list->count(); ++i) {
        const QListWidgetItem* item = m_list->item(i);
        cats.push_back({latentFromBytes(item->data(kLatentRole).toByteArray()),
                        qvariant_cast<QImage>(item->data(kImageRole))});
    }
    return cats;
}

int MovieDialog::addCats(const QVector<PathCat>& cats, int row) {
    int taken = 0;
    int refused = 0;
    for (const PathCat& cat : cats) {
        if (cat.latent.size() != m_latentDim || m_latentDim == 0) {
            ++refused;
            continue;
        }
        if (m_list->count() >= kMostPathCats) {
            m_note->setText(tr("A path holds at most %1 cats.").arg(kMostPathCats));
            break;
        }
        auto* item = new QListWidgetItem;
        item->setData(kLatentRole, latentBytes(cat.latent));
        item->setData(kImageRole, cat.image);
        if (!cat.image.isNull()) {
            item->setIcon(QIcon(QPixmap::fromImage(
                cat.image.scaled(48, 48, Qt::KeepAspectRatio, Qt::SmoothTransformation))));
        }
        item->setToolTip(latentText(cat.latent));
        item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsDragEnabled);
        m_list->insertItem(row < 0 ? m_list->count() : row + taken, item);
        ++taken;
    }
    if (refused > 0) {
        m_note->setText(
            refused == 1
                ? tr("A cat from a model with another latent size was left out.")
                : tr("%1 cats from a model with another latent size were left out.").arg(refused));
    } else if (taken > 0) {
        m_note->clear();
    }
    return taken;
}

void MovieDialog::updateState() {
    const bool path = m_pathButton->isChecked();
    m_ok->setEnabled(!path || m_list->count() >= 2);
    m_addSelected->setEnabled(m_latentDim > 0);
    for (int i = 0; i < m_list->count(); ++i) {
        m_list->item(i)->setText(QString::number(i + 1));
    }
    if (path && m_list->count() < 2 && m_note->text().isEmpty()) {
        m_note->setText(tr("A path needs at least two cats."));
    } else if (m_list->count() >= 2 && m_note->text() == tr("A path needs at least two cats.")) {
        m_note->clear();
    }
}

MovieJob::MovieJob(QObject* parent) : QThread(parent) {}

MovieJob::~MovieJob() {
    m_cancel = true;
    wait();
}

void MovieJob::write(const QString& modelPath, const QVector<Latent>& points, bool slerp,
                     const MovieSettings& settings, const QString& path) {
    if (isRunning()) {
        return;
    }
    m_modelPath = modelPath;
    m_points = points;
    m_slerp = slerp;
    m_settings = settings;
    m_path = path;
    m_cancel = false;
    start();
}

void MovieJob::run() {
    // The one exception boundary of this thread.
    try {
        configureThreads(0);
        const Model model = loadModel(m_modelPath.toStdString());
        std::vector<torch::Tensor> points;
        for (const Latent& p : m_points) {
            if (p.size() != model.arch.latentDim) {
                throw ConfigError("the movie's cats do not belong to this model");
            }
            points.push_back(torch::tensor(std::vector<float>(p.begin(), p.end())));
        }
        if (points.size() < 2) {
            throw ConfigError("a movie needs at least two points to move between");
        }
        const torch::Tensor latents =
            loopPath(torch::stack(points), m_settings.framesPerLeg,
                     m_slerp ? Interpolation::Spherical : Interpolation::Linear);
        Renderer renderer(model.generator, chooseDevice("auto"), 0);
        MovieOptions options;
        options.fps = m_settings.fps;
        options.scale = m_settings.scale;
        const bool written =
            writeMovie(m_path.toStdString(), renderer, model.arch.imageSize, latents, options,
                       [this](std::size_t done, std::size_t total) {
                           Q_EMIT progress(static_cast<int>(done), static_cast<int>(total));
                           return !m_cancel.load();
                       });
        Q_EMIT done(m_path, written);
    } catch (const c10::Error& e) {
        Q_EMIT failed(m_path, QString::fromStdString(e.what_without_backtrace()));
    } catch (const std::exception& e) {
        Q_EMIT failed(m_path, QString::fromStdString(e.what()));
    }
}

}  // namespace cattery::ui
