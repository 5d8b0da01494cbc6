#pragma once

#include <array>
#include <memory>

#include <QImage>
#include <QMetaType>
#include <QString>
#include <QVector>

namespace cattery {
class LatentSpace;
struct RgbImage;
}  // namespace cattery

// The window's side of the latent math: Qt value types in, core's tensor functions inside, so no
// header that moc reads sees torch.
namespace cattery::ui {

using Latent = QVector<float>;
using Three = std::array<float, 3>;

// A corner or a slot: three numbers plus what P cannot express of a dropped cat (empty: nothing),
// so z = P v + residual is exactly the cat that was dropped.
struct LatentValue {
    Three three{0.0f, 0.0f, 0.0f};
    Latent residual;

    bool operator==(const LatentValue& o) const {
        return three == o.three && residual == o.residual;
    }
    bool operator!=(const LatentValue& o) const { return !(*this == o); }
};

// What the window needs to know of a loaded model.
struct ModelSummary {
    quint64 serial = 0;  // which openModel() request this is
    QString path;
    QString name;
    QString description;  // architecture and provenance, for tooltips and About
    QString device;
    int latentDim = 0;
    int imageSize = 0;
    std::shared_ptr<const LatentSpace> latent;
};

Latent toLatent(const LatentSpace& space, const LatentValue& value);
// The three numbers of z (least squares) and the residual that keeps it exact.
LatentValue fromLatent(const LatentSpace& space, const Latent& z);
// Row-major n x n latents between four corners (top-left, top-right, bottom-left, bottom-right).
QVector<Latent> gridLatents(const std::array<Latent, 4>& corners, int n, bool slerp);
QVector<int> cellsAffectedBy(int corner, int n);
// count random latents for a seed: the same seed always gives the same batch.
QVector<Latent> randomLatents(int dim, int count, quint64 seed, double truncation);
Latent arithmeticOf(const Latent& a, const Latent& b, const Latent& c);

QImage toQImage(const RgbImage& image);
RgbImage toRgbImage(const QImage& image);

// A latent as text and as the bytes that drag and drop carry.
QString latentText(const Latent& z);
QByteArray latentBytes(const Latent& z);
Latent latentFromBytes(const QByteArray& bytes);

// A PNG sheet with the latents inside; throws cattery::Error naming the file on failure.
void writeSheetPng(const QString& path, const QImage& sheet, const QString& view,
                   const QString& model, const QVector<Latent>& latents, int columns);
struct SheetLatents {
    QString view;  // "grid", "batch" or "arith"
    int columns = 0;
    QVector<Latent> latents;
};
SheetLatents readSheetLatents(const QString& path);

inline constexpr const char* kLatentMime = "application/x-cattery-latent";

}  // namespace cattery::ui

Q_DECLARE_METATYPE(cattery::ui::ModelSummary)
