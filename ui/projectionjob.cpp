#include "ui/projectionjob.h"

#include <QDialog>
#include <QDialogButtonBox>
#include <QFileInfo>
#include <QGridLayout>
#include <QLabel>
#include <QScrollArea>
#include <QVBoxLayout>

#include "core/data/imagefolder.h"
#include "core/errors.h"
#include "core/io/modelfile.h"
#include "core/latent/projection.h"
#include "core/runtime/device.h"
#include "core/runtime/renderer.h"
#include "core/runtime/threads.h"
#include "ui/latenttensor.h"

namespace cattery::ui {

ProjectionJob::ProjectionJob(QObject* parent) : QThread(parent) {
    qRegisterMetaType<QVector<cattery::ui::FoundCat>>();
    // Connected before anyone else: whoever hears the end may start the next search.
    const auto ended = [this] { m_busy = false; };
    connect(this, &ProjectionJob::found, this, ended);
    connect(this, &ProjectionJob::cancelled, this, ended);
    connect(this, &ProjectionJob::failed, this, ended);
}

ProjectionJob::~ProjectionJob() {
    m_cancel = true;
    wait();
}

bool ProjectionJob::find(const QString& modelPath, const QStringList& images) {
    if (m_busy) {
        return false;
    }
    wait();  // the last search's thread, past its last signal, ends at once
    m_busy = true;
    m_modelPath = modelPath;
    m_images = images;
    m_cancel = false;
    start();
    return true;
}

void showFoundCats(QWidget* parent, const QVector<FoundCat>& cats) {
    auto* dialog = new QDialog(parent);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(QObject::tr("Cats Found"));
    dialog->setObjectName(QStringLiteral("foundCats"));
    auto* layout = new QVBoxLayout(dialog);
    auto* inner = new QWidget;
    auto* grid = new QGridLayout(inner);
    const auto text = [](const QString& s) {
        auto* label = new QLabel(s);
        label->setTextFormat(Qt::PlainText);  // file names are the user's
        return label;
    };
    grid->addWidget(text(QObject::tr("Image")), 0, 0);
    grid->addWidget(text(QObject::tr("Cat found")), 0, 1);
    const auto picture = [](const QImage& image) {
        auto* label = new QLabel;
        const int side = std::max(128, image.width());
        label->setPixmap(QPixmap::fromImage(
            image.scaled(side, side, Qt::KeepAspectRatio, Qt::FastTransformation)));
        return label;
    };
    for (int i = 0; i < cats.size(); ++i) {
        const FoundCat& c = cats[i];
        grid->addWidget(picture(c.image), i + 1, 0);
        grid->addWidget(picture(c.cat), i + 1, 1);
        grid->addWidget(text(QObject::tr("%1\ndistance %2")
                                 .arg(QFileInfo(c.path).fileName())
                                 .arg(c.distance, 0, 'f', 3)),
                        i + 1, 2);
    }
    auto* scroll = new QScrollArea;
    scroll->setWidget(inner);
    scroll->setWidgetResizable(true);
    layout->addWidget(scroll);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    QObject::connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::close);
    layout->addWidget(buttons);
    dialog->resize(420, std::min(720, 160 * static_cast<int>(cats.size()) + 100));
    dialog->show();
}

void ProjectionJob::run() {
    // The one exception boundary of this thread.
    try {
        if (m_images.size() > kMostProjectionTargets) {
            throw ConfigError(
                QStringLiteral("%1 images were given; at most %2 are searched for at a "
                               "time")
                    .arg(m_images.size())
                    .arg(kMostProjectionTargets)
                    .toStdString());
        }
        configureThreads(0);
        const Model model = loadModel(m_modelPath.toStdString(), chooseDevice("auto"));
        FolderOptions read;
        read.size = model.arch.imageSize;
        std::vector<torch::Tensor> targets;
        for (const QString& path : m_images) {
            targets.push_back(
                pictureFromPixels(readImageFile(path.toStdString(), read), read.size));
        }
        const torch::Tensor batch = torch::stack(targets);
        const auto projections = project(model.generator, model.encoder, batch,
                                         ProjectionSettings{}, [this](int done, int total) {
                                             Q_EMIT progress(done, total);
                                             return !m_cancel.load();
                                         });
        if (!projections) {
            Q_EMIT cancelled();
            return;
        }
        QVector<FoundCat> cats;
        for (std::size_t i = 0; i < projections->size(); ++i) {
            const Projection& p = (*projections)[i];
            FoundCat f;
            f.path = m_images[static_cast<int>(i)];
            f.image = toQImage(toImages(batch[static_cast<int64_t>(i)].unsqueeze(0)).front());
            f.cat = toQImage(toImages(p.picture.unsqueeze(0)).front());
            f.latent = fromTensor(p.latent);
            f.distance = p.distance;
            cats.push_back(f);
        }
        Q_EMIT found(cats);
    } catch (const c10::Error& e) {
        Q_EMIT failed(QString::fromStdString(e.what_without_backtrace()));
    } catch (const std::exception& e) {
        Q_EMIT failed(QString::fromStdString(e.what()));
    }
}

}  // namespace cattery::ui
