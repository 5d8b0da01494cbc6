#pragma once

#include <atomic>

#include <QImage>
#include <QStringList>
#include <QThread>
#include <QVector>

#include "ui/latentmath.h"

namespace cattery::ui {

// One image and the cat found for it.
struct FoundCat {
    QString path;
    QImage image;  // the image as the model sees it (square on white, the model's size)
    QImage cat;    // the model's picture of the latent
    Latent latent;
    double distance = 0;  // root mean square pixel difference, black to white = 1
};

// Finds the cats closest to image files off the UI thread: its own copy of the model (read from
// the file, with its encoder, so the window's worker goes on drawing), every image read and
// checked first (the first that cannot be used fails the job, naming it), then the search with
// progress, stopped by cancel() (nothing is found then).
class ProjectionJob : public QThread {
    Q_OBJECT

public:
    explicit ProjectionJob(QObject* parent = nullptr);
    ~ProjectionJob() override;

    // Ignored (false) while a search is under way.
    bool find(const QString& modelPath, const QStringList& images);
    void cancel() { m_cancel = true; }
    // A search was started and its end (found, cancelled or failed) has not reached the UI
    // thread yet. (The thread itself may outlive its last signal by a moment.)
    bool busy() const { return m_busy; }

Q_SIGNALS:
    void progress(int done, int total);
    void found(const QVector<cattery::ui::FoundCat>& cats);
    void cancelled();
    void failed(const QString& message);

protected:
    void run() override;

private:
    QString m_modelPath;
    QStringList m_images;
    std::atomic<bool> m_cancel{false};
    bool m_busy = false;  // read and written on the UI thread only
};

// A window beside the main one showing each image beside the cat found for it, with the distance;
// it closes (and deletes itself) when the user closes it.
void showFoundCats(QWidget* parent, const QVector<FoundCat>& cats);

}  // namespace cattery::ui

Q_DECLARE_METATYPE(cattery::ui::FoundCat)
