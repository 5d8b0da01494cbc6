#pragma once

#include <atomic>

#include <QString>
#include <QThread>
#include <QVector>

#include "ui/latentmath.h"

namespace cattery::ui {

// What File > Export Movie makes, remembered between runs.
struct MovieSettings {
    int framesPerLeg = 30;  // frames from one corner to the next
    int fps = 30;
    int scale = 2;

    static MovieSettings remembered();
    void remember() const;
};

// The Export Movie dialog: frames per leg, frames per second and scale. False when cancelled.
bool editMovieSettings(QWidget* parent, MovieSettings& settings);

// Writes a morph movie off the UI thread: its own copy of the model (read from the file, so the
// window's worker goes on drawing), the loop through the points, drawn and written with progress,
// stopped between frames by cancel() (nothing is left at the path then).
class MovieJob : public QThread {
    Q_OBJECT

public:
    explicit MovieJob(QObject* parent = nullptr);
    ~MovieJob() override;

    // `points`: the latents the loop visits in turn (at least two). Ignored while one runs.
    void write(const QString& modelPath, const QVector<Latent>& points, bool slerp,
               const MovieSettings& settings, const QString& path);
    void cancel() { m_cancel = true; }

Q_SIGNALS:
    void progress(int done, int total);
    // `written`: false when cancelled.
    void done(const QString& path, bool written);
    void failed(const QString& path, const QString& message);

protected:
    void run() override;

private:
    QString m_modelPath;
    QVector<Latent> m_points;
    bool m_slerp = false;
    MovieSettings m_settings;
    QString m_path;
    std::atomic<bool> m_cancel{false};
};

}  // namespace cattery::ui
