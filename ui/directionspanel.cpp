#include "ui/directionspanel.h"

#include <cmath>

#include <QDir>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QPainter>
#include <QPushButton>
#include <QScrollArea>
#include <QSlider>
#include <QStandardPaths>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include "core/errors.h"
#include "core/io/modelfile.h"
#include "core/latent/directions.h"
#include "ui/cellgrid.h"
#include "ui/explorerview.h"
#include "ui/latenttensor.h"
#include "ui/renderworker.h"

namespace cattery::ui {
namespace {

// The samples the directions are found from: a few seconds on two cores at 64x64.
constexpr int kSamples = 500;
constexpr double kRange = 3.0;      // standard deviations either way
constexpr int kStripSide = 32;      // pixels of each preview picture
constexpr int kStripDelayMs = 120;  // a slider's drag settles before its strips are drawn
// Random cats the selection is compared with: their mean is within 0.03 of 0 in every number.
constexpr int kAttributeSamples = 2000;

DirectionSet toSet(const Directions& d) {
    DirectionSet set;
    for (int64_t i = 0; i < d.vectors.size(0); ++i) {
        set.vectors << fromTensor(d.vectors[i]);
        set.variance << d.variance[static_cast<std::size_t>(i)];
        const auto n = static_cast<std::size_t>(i);
        set.names << (n < d.names.size() ? QString::fromStdString(d.names[n]) : QString());
    }
    set.generator = d.generator;
    return set;
}

bool near(const Latent& a, const Latent& b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (int i = 0; i < a.size(); ++i) {
        if (std::abs(a[i] - b[i]) > 1e-3f) {
            return false;
        }
    }
    return true;
}

}  // namespace

void saveDirectionSet(const QString& path, const DirectionSet& set) {
    if (set.vectors.isEmpty()) {
        throw ConfigError("there are no directions to save");
    }
    Directions d;
    d.vectors = toTensor(set.vectors, static_cast<int>(set.vectors.first().size()));
    d.variance.assign(set.variance.begin(), set.variance.end());
    for (const QString& name : set.names) {
        d.names.push_back(name.toStdString());
    }
    d.generator = set.generator;
    saveDirections(path.toStdString(), d);
}

DirectionsJob::DirectionsJob(QObject* parent) : QThread(parent) {
    qRegisterMetaType<cattery::ui::DirectionSet>();
}

DirectionsJob::~DirectionsJob() {
    {
        const QMutexLocker lock(&m_mutex);
        m_pending.reset();
    }
    wait();
}

void DirectionsJob::find(quint64 serial, const QString& modelPath, const QString& folder) {
    QMutexLocker lock(&m_mutex);
    m_pending = Request{serial, modelPath, folder};
    if (!m_running) {
        m_running = true;
        lock.unlock();
        wait();  // the last run, past its last request, ends at once
        start(QThread::LowPriority);
    }
}

void DirectionsJob::run() {
    for (;;) {
        Request request;
        {
            const QMutexLocker lock(&m_mutex);
            if (!m_pending) {
                m_running = false;
                return;
            }
            request = *m_pending;
            m_pending.reset();
        }
        work(request);
    }
}

void DirectionsJob::work(const Request& request) {
    // The one exception boundary of this thread.
    try {
        const Model model = loadModel(request.modelPath.toStdString());
        Generator generator = model.generator;
        generator->eval();
        const int dim = model.arch.latentDim;
        const std::uint32_t fingerprint = generatorFingerprint(generator);
        const QString file = QDir(request.folder)
                                 .filePath(QStringLiteral("%1-%2.directions")
                                               .arg(fingerprint, 8, 16, QLatin1Char('0'))
                                               .arg(dim));
        QString note;
        std::optional<Directions> directions;
        if (QFileInfo::exists(file)) {
            try {
                Directions kept = loadDirections(file.toStdString(), dim);
                if (kept.generator == fingerprint) {
                    directions = std::move(kept);
                } else {
                    note = tr("%1 holds another model's directions; these were found afresh.")
                               .arg(file);
                }
            } catch (const Error& e) {
                note = tr("%1\nThe directions were found afresh.").arg(QString::fromUtf8(e.what()));
            }
        }
        if (!directions) {
            directions = principalDirections(generator, dim, DirectionsPanel::kShown, kSamples);
            directions->generator = fingerprint;
            directions->names.assign(static_cast<std::size_t>(directions->vectors.size(0)), "");
            try {
                if (!QDir().mkpath(request.folder)) {
                    throw FileError(request.folder.toStdString(), "the folder cannot be made");
                }
                saveDirections(file.toStdString(), *directions);
            } catch (const Error& e) {
                note += tr("The directions could not be kept: %1").arg(QString::fromUtf8(e.what()));
            }
        }
        Q_EMIT ready(request.serial, toSet(*directions), file, note);
    } catch (const c10::Error& e) {
        Q_EMIT failed(request.serial, QString::fromStdString(e.what_without_backtrace()));
    } catch (const std::exception& e) {
        Q_EMIT failed(request.serial, QString::fromUtf8(e.what()));
    }
}

DirectionsPanel::DirectionsPanel(RenderWorker* worker, QWidget* parent)
    : QWidget(parent),
      m_worker(worker),
      m_job(new DirectionsJob(this)),
      m_folder(QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) +
               QStringLiteral("/directions")),
      m_status(new QLabel(this)),
      m_target(new QLabel(this)),
      m_reset(new QPushButton(tr("&Reset"), this)),
      m_fromSelection(new QPushButton(tr("&From Selection..."), this)),
      m_rowsLayout(new QVBoxLayout),
      m_stripTimer(new QTimer(this)) {
    setObjectName(QStringLiteral("directionsPanel"));
    auto* layout = new QVBoxLayout(this);
    m_target->setTextFormat(Qt::PlainText);
    m_status->setTextFormat(Qt::PlainText);
    m_status->setWordWrap(true);
    m_reset->setToolTip(tr("Every slider back to 0: the cat as it was"));
    m_fromSelection->setToolTip(
        tr("A direction towards what the selected cats share: their mean less that of random "
           "cats. Select cats with a click, add more with Ctrl+click (Ctrl+Shift+D)"));
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_reset);
    buttons->addWidget(m_fromSelection);
    buttons->addStretch(1);
    layout->addWidget(m_target);
    layout->addLayout(buttons);
    layout->addWidget(m_status);
    auto* rows = new QWidget;
    rows->setLayout(m_rowsLayout);
    m_rowsLayout->setContentsMargins(0, 0, 0, 0);
    m_rowsLayout->addStretch(1);
    auto* scroll = new QScrollArea(this);
    scroll->setWidget(rows);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    layout->addWidget(scroll, 1);
    m_stripTimer->setSingleShot(true);
    m_stripTimer->setInterval(kStripDelayMs);
    connect(m_stripTimer, &QTimer::timeout, this, &DirectionsPanel::requestStrips);
    connect(m_reset, &QPushButton::clicked, this, &DirectionsPanel::resetSliders);
    connect(m_fromSelection, &QPushButton::clicked, this, &DirectionsPanel::makeFromSelection);
    connect(m_job, &DirectionsJob::ready, this, &DirectionsPanel::onReady);
    connect(m_job, &DirectionsJob::failed, this, [this](quint64 serial, const QString& message) {
        if (serial == m_jobSerial) {
            m_status->setText(tr("No directions: %1").arg(message));
            Q_EMIT this->message(tr("Could not find the model's directions: %1").arg(message));
        }
    });
    connect(worker, &RenderWorker::rendered, this,
            [this](quint64 modelSerial, int channel, quint64 serial, const QVector<QImage>& images,
                   double) { onRendered(modelSerial, channel, serial, images); });
    m_reset->setEnabled(false);
    m_fromSelection->setEnabled(false);
    m_status->setText(tr("No model"));
}

QSlider* DirectionsPanel::slider(int i) const {
    return i >= 0 && i < m_rows.size() ? m_rows[i].slider : nullptr;
}

QLineEdit* DirectionsPanel::nameEdit(int i) const {
    return i >= 0 && i < m_rows.size() ? m_rows[i].name : nullptr;
}

QLabel* DirectionsPanel::strip(int i) const {
    return i >= 0 && i < m_rows.size() ? m_rows[i].strip : nullptr;
}

void DirectionsPanel::setModel(const ModelSummary& model) {
    m_model = model;
    m_ready = false;
    m_set = {};
    m_file.clear();
    m_values.clear();
    buildRows();
    m_status->setText(tr("Finding the ways %1's cats vary...").arg(model.name));
    m_job->find(++m_jobSerial, model.path, m_folder);
    onTargetChanged();
}

void DirectionsPanel::setView(ExplorerView* view) {
    if (m_view != nullptr) {
        disconnect(m_view, nullptr, this, nullptr);
        disconnect(m_view->grid(), nullptr, this, nullptr);
    }
    m_view = view;
    if (view != nullptr) {
        connect(view, &ExplorerView::targetChanged, this, &DirectionsPanel::onTargetChanged);
        connect(view->grid(), &CellGrid::selectionChanged, this, [this] {
            m_fromSelection->setEnabled(m_ready && !m_view->grid()->selectedCells().isEmpty());
        });
    }
    m_targetName.clear();  // a new view's target starts its sliders afresh
    onTargetChanged();
}

void DirectionsPanel::onReady(quint64 serial, const DirectionSet& set, const QString& path,
                              const QString& note) {
    if (serial != m_jobSerial || set.vectors.isEmpty() ||
        set.vectors.first().size() != m_model.latentDim) {
        return;  // another model's, opened before this one
    }
    m_set = set;
    m_file = path;
    m_ready = true;
    m_values.fill(0.0, static_cast<int>(set.vectors.size()));
    buildRows();
    m_status->setText(note.isEmpty()
                          ? tr("The ways %1's cats vary most, largest first").arg(m_model.name)
                          : note);
    if (!note.isEmpty()) {
        Q_EMIT message(note);
    }
    m_targetName.clear();
    onTargetChanged();
    Q_EMIT directionsReady();
}

void DirectionsPanel::buildRows() {
    for (const Row& row : m_rows) {
        delete row.box;
    }
    m_rows.clear();
    for (int i = 0; i < m_set.vectors.size(); ++i) {
        Row row;
        row.box = new QWidget;
        auto* grid = new QVBoxLayout(row.box);
        grid->setContentsMargins(0, 4, 0, 4);
        auto* top = new QHBoxLayout;
        row.name = new QLineEdit(m_set.names.value(i), row.box);
        row.name->setMaxLength(static_cast<int>(kMostDirectionNameLength));
        const bool made = m_set.variance.value(i) <= 0;
        row.name->setPlaceholderText(made ? tr("Made from a selection")
                                          : tr("Direction %1, %2 %")
                                                .arg(i + 1)
                                                .arg(100.0 * m_set.variance.value(i), 0, 'f', 1));
        row.name->setToolTip(
            made ? tr("What the selected cats share: type a name, and it is kept")
                 : tr("Direction %1 explains %2 % of how the model's pictures vary. What does "
                      "it change? Type a name, and it is kept")
                       .arg(i + 1)
                       .arg(100.0 * m_set.variance.value(i), 0, 'f', 1));
        row.value = new QLabel(row.box);
        row.value->setMinimumWidth(fontMetrics().horizontalAdvance(QStringLiteral("-3.0 sd")));
        row.value->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
        top->addWidget(row.name, 1);
        top->addWidget(row.value);
        if (made) {
            auto* remove = new QToolButton(row.box);
            remove->setText(tr("Remove"));
            remove->setToolTip(tr("Forget this direction"));
            connect(remove, &QToolButton::clicked, this, [this, i] { removeDirection(i); });
            top->addWidget(remove);
        }
        row.slider = new QSlider(Qt::Horizontal, row.box);
        const int steps = static_cast<int>(kRange * kSliderSteps);
        row.slider->setRange(-steps, steps);
        row.slider->setPageStep(kSliderSteps / 2);
        row.slider->setTickPosition(QSlider::TicksBelow);
        row.slider->setTickInterval(kSliderSteps);
        row.slider->setToolTip(
            made ? tr("Moves the cat along this direction: at 1, by the whole difference")
                 : tr("Moves the cat along this direction, in standard deviations (-3 to +3)"));
        connect(row.slider, &QSlider::valueChanged, this,
                [this, i](int position) { onSlider(i, position); });
        connect(row.name, &QLineEdit::editingFinished, this, [this, i] {
            if (i < m_set.names.size() && m_rows[i].name->text() != m_set.names[i]) {
                m_set.names[i] = m_rows[i].name->text();
                save();
            }
        });
        row.strip = new QLabel(row.box);
        row.strip->setMinimumHeight(kStripSide);
        row.strip->setToolTip(tr("The cat moved from -3 to +3 along this direction"));
        grid->addLayout(top);
        grid->addWidget(row.slider);
        grid->addWidget(row.strip);
        m_rowsLayout->insertWidget(m_rowsLayout->count() - 1, row.box);
        m_rows << row;
        showValue(i);
    }
    m_reset->setEnabled(m_ready);
    m_fromSelection->setEnabled(m_ready && m_view != nullptr &&
                                !m_view->grid()->selectedCells().isEmpty());
}

void DirectionsPanel::showValue(int index) {
    m_rows[index].value->setText(tr("%1 sd").arg(m_values.value(index), 0, 'f', 1));
}

Latent DirectionsPanel::moved() const {
    Latent z = m_base;
    for (int k = 0; k < m_set.vectors.size() && k < m_values.size(); ++k) {
        if (m_values[k] != 0.0 && m_set.vectors[k].size() == z.size()) {
            for (int j = 0; j < z.size(); ++j) {
                z[j] += static_cast<float>(m_values[k]) * m_set.vectors[k][j];
            }
        }
    }
    return z;
}

void DirectionsPanel::onTargetChanged() {
    const bool usable = m_ready && m_view != nullptr && m_view->hasModel() &&
                        m_view->model().serial == m_model.serial;
    const Latent target = usable ? m_view->targetLatent() : Latent();
    const QString name = usable ? m_view->targetName() : QString();
    if (target.isEmpty()) {
        m_target->setText(m_view == nullptr ? tr("Open a view to move its cats")
                                            : tr("Nothing to move yet"));
        m_base.clear();
        m_last.clear();
        for (const Row& row : m_rows) {
            row.slider->setEnabled(false);
            row.strip->clear();
        }
        return;
    }
    m_target->setText(tr("Moves: %1").arg(name));
    // A change the sliders did not make (another cat, an edit, an undo) starts them afresh.
    if (name != m_targetName || !near(target, m_last)) {
        m_targetName = name;
        m_base = target;
        m_last = target;
        m_values.fill(0.0, static_cast<int>(m_set.vectors.size()));
        for (int i = 0; i < m_rows.size(); ++i) {
            const QSignalBlocker block(m_rows[i].slider);
            m_rows[i].slider->setValue(0);
            showValue(i);
        }
    }
    for (const Row& row : m_rows) {
        row.slider->setEnabled(true);
    }
    m_stripTimer->start();
}

void DirectionsPanel::onSlider(int index, int position) {
    if (m_base.isEmpty() || m_view == nullptr || index >= m_values.size()) {
        return;
    }
    m_values[index] = static_cast<double>(position) / kSliderSteps;
    showValue(index);
    m_last = moved();
    m_view->moveTarget(m_last);
}

void DirectionsPanel::resetSliders() {
    if (m_base.isEmpty() || m_view == nullptr) {
        return;
    }
    m_values.fill(0.0, static_cast<int>(m_set.vectors.size()));
    for (int i = 0; i < m_rows.size(); ++i) {
        const QSignalBlocker block(m_rows[i].slider);
        m_rows[i].slider->setValue(0);
        showValue(i);
    }
    m_last = m_base;
    m_view->moveTarget(m_base);
}

void DirectionsPanel::requestStrips() {
    if (m_base.isEmpty() || m_rows.isEmpty()) {
        return;
    }
    // Each row: the cat as the sliders have it, with this direction's slider from -3 to +3.
    const Latent now = moved();
    QVector<Latent> latents;
    for (int k = 0; k < m_set.vectors.size(); ++k) {
        for (int j = 0; j < kStripPictures; ++j) {
            const double at = -kRange + 2.0 * kRange * j / (kStripPictures - 1);
            const auto step = static_cast<float>(at - m_values.value(k));
            Latent z = now;
            for (int d = 0; d < z.size(); ++d) {
                z[d] += step * m_set.vectors[k][d];
            }
            latents << z;
        }
    }
    m_stripSerial = m_worker->render(m_model.serial, DirectionsChannel, latents);
}

void DirectionsPanel::onRendered(quint64 modelSerial, int channel, quint64 serial,
                                 const QVector<QImage>& images) {
    if (channel != DirectionsChannel || modelSerial != m_model.serial || serial != m_stripSerial ||
        images.size() != m_rows.size() * kStripPictures) {
        return;
    }
    constexpr int kGap = 2;
    for (int k = 0; k < m_rows.size(); ++k) {
        QImage strip(kStripPictures * (kStripSide + kGap) - kGap, kStripSide, QImage::Format_RGB32);
        strip.fill(palette().color(QPalette::Window));
        QPainter p(&strip);
        p.setRenderHint(QPainter::SmoothPixmapTransform, true);
        for (int j = 0; j < kStripPictures; ++j) {
            p.drawImage(QRect(j * (kStripSide + kGap), 0, kStripSide, kStripSide),
                        images[k * kStripPictures + j]);
        }
        p.end();
        m_rows[k].strip->setPixmap(QPixmap::fromImage(strip));
    }
    Q_EMIT stripsShown();
}

bool DirectionsPanel::addFromSelection(const QString& name) {
    const QVector<Latent> selected =
        m_view != nullptr ? m_view->selectedLatents() : QVector<Latent>();
    if (!m_ready || selected.isEmpty()) {
        Q_EMIT message(
            tr("Select some cats first (click, Ctrl+click), then make a direction of "
               "what they share."));
        return false;
    }
    if (m_set.vectors.size() >= kMostDirections) {
        Q_EMIT message(
            tr("A model keeps at most %1 directions: remove one first.").arg(kMostDirections));
        return false;
    }
    if (selected.first().size() != m_model.latentDim) {
        return false;
    }
    const torch::Tensor d =
        attributeDirection(toTensor(selected, m_model.latentDim), kAttributeSamples);
    m_set.vectors << fromTensor(d);
    m_set.variance << 0.0;
    m_set.names << name.left(static_cast<int>(kMostDirectionNameLength));
    m_values.resize(static_cast<int>(m_set.vectors.size()));  // the new one at 0
    buildRows();
    for (int i = 0; i < m_rows.size(); ++i) {
        const QSignalBlocker block(m_rows[i].slider);
        m_rows[i].slider->setValue(static_cast<int>(std::lround(m_values[i] * kSliderSteps)));
        m_rows[i].slider->setEnabled(!m_base.isEmpty());
        showValue(i);
    }
    save();
    m_stripTimer->start();
    Q_EMIT message(selected.size() == 1
                       ? tr("Made a direction from the selected cat")
                       : tr("Made a direction from %1 selected cats").arg(selected.size()));
    return true;
}

void DirectionsPanel::makeFromSelection() {
    const qsizetype selected = m_view != nullptr ? m_view->selectedLatents().size() : 0;
    if (selected == 0 || !m_ready) {
        addFromSelection(QString());  // says what to do
        return;
    }
    bool ok = false;
    const QString name = QInputDialog::getText(
        this, tr("Make Direction from Selection"),
        selected == 1 ? tr("What is special about the selected cat?")
                      : tr("What do the %1 selected cats share?").arg(selected),
        QLineEdit::Normal, QString(), &ok);
    if (ok) {
        addFromSelection(name);
    }
}

void DirectionsPanel::removeDirection(int index) {
    if (index < 0 || index >= m_set.vectors.size() || m_set.variance.value(index) > 0) {
        return;
    }
    // The cat keeps where the sliders took it: the others start from there.
    m_base = moved();
    m_last = m_base;
    m_set.vectors.removeAt(index);
    m_set.variance.removeAt(index);
    m_set.names.removeAt(index);
    m_values.fill(0.0, static_cast<int>(m_set.vectors.size()));
    buildRows();
    for (const Row& row : m_rows) {
        row.slider->setEnabled(!m_base.isEmpty());
    }
    save();
    m_stripTimer->start();
}

void DirectionsPanel::save() {
    if (m_file.isEmpty()) {
        return;
    }
    try {
        saveDirectionSet(m_file, m_set);
    } catch (const Error& e) {
        Q_EMIT message(tr("Could not keep the directions: %1").arg(QString::fromUtf8(e.what())));
    }
}

}  // namespace cattery::ui
