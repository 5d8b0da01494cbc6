#include "ui/moviejob.h"

#include <algorithm>

#include <QDialog>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QSettings>
#include <QSpinBox>

#include "core/errors.h"
#include "core/io/modelfile.h"
#include "core/io/movie.h"
#include "core/latent/latentspace.h"
#include "core/runtime/device.h"
#include "core/runtime/renderer.h"
#include "core/runtime/threads.h"

namespace cattery::ui {

MovieSettings MovieSettings::remembered() {
    const QSettings s;
    MovieSettings m;
    m.framesPerLeg =
        std::clamp(s.value(QStringLiteral("movie/frames"), m.framesPerLeg).toInt(), 1, 600);
    m.fps = std::clamp(s.value(QStringLiteral("movie/fps"), m.fps).toInt(), 1, 120);
    m.scale = std::clamp(s.value(QStringLiteral("movie/scale"), m.scale).toInt(), 1, 8);
    return m;
}

void MovieSettings::remember() const {
    QSettings s;
    s.setValue(QStringLiteral("movie/frames"), framesPerLeg);
    s.setValue(QStringLiteral("movie/fps"), fps);
    s.setValue(QStringLiteral("movie/scale"), scale);
}

bool editMovieSettings(QWidget* parent, MovieSettings& settings) {
    QDialog dialog(parent);
    dialog.setWindowTitle(QObject::tr("Export Movie"));
    auto* form = new QFormLayout(&dialog);
    const auto box = [&dialog](int lo, int hi, int value, const QString& suffix) {
        auto* b = new QSpinBox(&dialog);
        b->setRange(lo, hi);
        b->setValue(value);
        b->setSuffix(suffix);
        return b;
    };
    auto* frames = box(1, 600, settings.framesPerLeg, QObject::tr(" frames"));
    frames->setToolTip(
        QObject::tr("Frames from one corner to the next; the movie goes around "
                    "the grid's corners and back to the first"));
    auto* fps = box(1, 120, settings.fps, QObject::tr(" per second"));
    auto* scale = box(1, 8, settings.scale, QStringLiteral(" x"));
    form->addRow(QObject::tr("Each leg:"), frames);
    form->addRow(QObject::tr("Frames:"), fps);
    form->addRow(QObject::tr("Scale:"), scale);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
    QObject::connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    QObject::connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    form->addRow(buttons);
    if (dialog.exec() != QDialog::Accepted) {
        return false;
    }
    settings.framesPerLeg = frames->value();
    settings.fps = fps->value();
    settings.scale = scale->value();
    return true;
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
                throw ConfigError("the corners do not belong to this model");
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
