#include "ui/renderworker.h"

#include <chrono>
#include <exception>

#include <QMutexLocker>

#include "core/errors.h"
#include "core/io/modelfile.h"
#include "core/runtime/device.h"
#include "core/runtime/renderer.h"
#include "core/runtime/threads.h"

namespace cattery::ui {

namespace {
constexpr int kBatch =
    32;  // cells per forward pass (a 5x5 grid in one); newer requests are noticed between them
}

struct RenderWorker::State {
    torch::Device device{torch::kCPU};
    quint64 modelSerial = 0;
    std::unique_ptr<Renderer> renderer;
    Precision precision = Precision::Float32;
};

RenderWorker::RenderWorker(QObject* parent) : QThread(parent), m_state(std::make_unique<State>()) {
    qRegisterMetaType<cattery::ui::ModelSummary>();
    qRegisterMetaType<QVector<QImage>>();
}

RenderWorker::~RenderWorker() {
    {
        QMutexLocker lock(&m_mutex);
        m_abort = true;
        m_wake.wakeOne();
    }
    wait();
}

quint64 RenderWorker::openModel(const QString& path) {
    QMutexLocker lock(&m_mutex);
    const quint64 serial = m_nextSerial++;
    m_pendingModel = std::make_pair(path, serial);
    if (!isRunning()) {
        start();
    }
    m_wake.wakeOne();
    return serial;
}

quint64 RenderWorker::render(quint64 modelSerial, int channel, const QVector<Latent>& latents) {
    QMutexLocker lock(&m_mutex);
    const quint64 serial = m_nextSerial++;
    m_pending[channel] = Request{modelSerial, serial, latents};
    if (!isRunning()) {
        start();
    }
    m_wake.wakeOne();
    return serial;
}

bool RenderWorker::superseded(int channel) const {
    QMutexLocker lock(&m_mutex);
    return m_abort || m_pending.contains(channel) || m_pendingModel.has_value();
}

void RenderWorker::run() {
    // No exception leaves this thread: a failed render is reported and the next one goes on.
    try {
        configureThreads(0);
        m_state->device = chooseDevice("auto");
        // bf16 drawing where the CPU does it natively; CATTERY_PRECISION=fp32 or bf16 decides.
        m_state->precision = defaultPrecision(m_state->device);
        if (const QByteArray asked = qgetenv("CATTERY_PRECISION"); !asked.isEmpty()) {
            try {
                m_state->precision = precisionFromName(asked.toStdString());
            } catch (const ConfigError& e) {
                Q_EMIT renderFailed(
                    QStringLiteral("CATTERY_PRECISION: %1").arg(QString::fromUtf8(e.what())));
            }
        }
        for (;;) {
            std::optional<std::pair<QString, quint64>> model;
            int channel = 0;
            Request request;
            {
                QMutexLocker lock(&m_mutex);
                while (!m_abort && !m_pendingModel && m_pending.isEmpty()) {
                    m_wake.wait(&m_mutex);
                }
                if (m_abort) {
                    return;
                }
                if (m_pendingModel) {
                    model = std::move(m_pendingModel);
                    m_pendingModel.reset();
                } else {
                    channel = m_pending.firstKey();
                    request = m_pending.take(channel);
                }
            }
            if (model) {
                loadModel(model->first, model->second);
            } else if (request.modelSerial == m_state->modelSerial && m_state->renderer) {
                try {
                    renderRequest(channel, request);
                } catch (const c10::Error& e) {
                    Q_EMIT renderFailed(QString::fromStdString(e.what_without_backtrace()));
                } catch (const std::exception& e) {
                    Q_EMIT renderFailed(QString::fromStdString(e.what()));
                }
            }
        }
    } catch (const std::exception& e) {
        Q_EMIT renderFailed(QString::fromStdString(e.what()));
    }
}

void RenderWorker::loadModel(const QString& path, quint64 serial) {
    try {
        Model model = cattery::loadModel(path.toStdString());
        auto renderer =
            std::make_unique<Renderer>(model.generator, m_state->device, 4096, m_state->precision);
        ModelSummary summary;
        summary.serial = serial;
        summary.path = path;
        summary.name = QString::fromStdString(model.displayName());
        summary.description = QString::fromStdString(describeModel(model));
        summary.device = QString::fromStdString(describeDevice(m_state->device) + ", " +
                                                precisionName(m_state->precision));
        summary.latentDim = model.arch.latentDim;
        summary.imageSize = model.arch.imageSize;
        summary.latent = std::make_shared<const LatentSpace>(model.latent);
        m_state->renderer = std::move(renderer);
        m_state->modelSerial = serial;
        Q_EMIT modelReady(summary);
    } catch (const Error& e) {
        Q_EMIT modelFailed(path, QString::fromStdString(e.what()));
    } catch (const c10::Error& e) {
        Q_EMIT modelFailed(path, QString::fromStdString(e.what_without_backtrace()));
    }
}

void RenderWorker::renderRequest(int channel, const Request& request) {
    const auto start = std::chrono::steady_clock::now();
    // One thread while a training run shares the cores, every thread otherwise.
    configureThreads(drawingThreads());
    QVector<QImage> images;
    images.reserve(request.latents.size());
    for (int i = 0; i < request.latents.size(); i += kBatch) {
        if (superseded(channel)) {
            return;
        }
        const int n = std::min(kBatch, static_cast<int>(request.latents.size()) - i);
        std::vector<float> flat;
        for (int j = i; j < i + n; ++j) {
            flat.insert(flat.end(), request.latents[j].begin(), request.latents[j].end());
        }
        const int64_t width = request.latents[i].size();
        if (static_cast<int64_t>(flat.size()) != n * width) {
            throw ConfigError("the latents of one request differ in length");
        }
        const torch::Tensor z = torch::from_blob(flat.data(), {n, width}, torch::kFloat32);
        for (const RgbImage& image : m_state->renderer->render(z)) {
            images.push_back(toQImage(image));
        }
    }
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    ++m_completed;
    Q_EMIT rendered(request.modelSerial, channel, request.serial, images, ms);
}

}  // namespace cattery::ui
