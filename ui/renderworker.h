#pragma once

#include <atomic>
#include <memory>
#include <optional>

#include <QImage>
#include <QMap>
#include <QMutex>
#include <QThread>
#include <QVector>
#include <QWaitCondition>

#include "ui/latentmath.h"

namespace cattery::ui {

// The only place the window's model runs (after Qt's Mandelbrot RenderThread). Requests are kept
// one per channel (one channel per view): a newer request replaces one not yet started, and a
// render in progress stops between batches when a newer one arrives, so the newest always wins and
// stale work never queues up. Every request names the model it is for; requests and images for
// any other model are dropped, so no late image of an old model reaches a view.
class RenderWorker : public QThread {
    Q_OBJECT

public:
    explicit RenderWorker(QObject* parent = nullptr);
    ~RenderWorker() override;

    // Loads a model file off the UI thread; modelReady or modelFailed follows. Until it is ready,
    // the previous model stays in use. Returns the serial of the request.
    quint64 openModel(const QString& path);
    // Images of latents with the model `modelSerial`; rendered() follows unless a newer request
    // on the same channel replaces it. Returns the request's serial.
    quint64 render(quint64 modelSerial, int channel, const QVector<Latent>& latents);
    // Finished renders so far (for tests and the status bar).
    int completedRenders() const { return m_completed.load(); }

Q_SIGNALS:
    void modelReady(const cattery::ui::ModelSummary& summary);
    void modelFailed(const QString& path, const QString& message);
    void rendered(quint64 modelSerial, int channel, quint64 serial, const QVector<QImage>& images,
                  double milliseconds);
    void renderFailed(const QString& message);

protected:
    void run() override;

private:
    struct Request {
        quint64 modelSerial = 0;
        quint64 serial = 0;
        QVector<Latent> latents;
    };
    struct State;

    void loadModel(const QString& path, quint64 serial);
    void renderRequest(int channel, const Request& request);
    bool superseded(int channel) const;

    mutable QMutex m_mutex;
    QWaitCondition m_wake;
    bool m_abort = false;
    std::optional<std::pair<QString, quint64>> m_pendingModel;
    QMap<int, Request> m_pending;
    quint64 m_nextSerial = 1;
    std::atomic<int> m_completed{0};
    std::unique_ptr<State> m_state;  // the loaded model; touched only by the worker thread
};

}  // namespace cattery::ui
