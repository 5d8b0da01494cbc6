#include "ui/latentmath.h"

#include <algorithm>
#include <cstring>

#include <torch/torch.h>

#include "core/errors.h"
#include "core/io/sheet.h"
#include "core/latent/latentspace.h"
#include "core/runtime/image.h"
#include "ui/latenttensor.h"

namespace cattery::ui {

torch::Tensor toTensor(const Latent& z) {
    return torch::tensor(std::vector<float>(z.begin(), z.end()), torch::kFloat32);
}

torch::Tensor toTensor(const QVector<Latent>& rows, int dim) {
    torch::Tensor t = torch::empty({static_cast<int64_t>(rows.size()), dim}, torch::kFloat32);
    for (int i = 0; i < rows.size(); ++i) {
        if (rows[i].size() != dim) {
            throw ConfigError("the latents differ in length");
        }
        std::copy(rows[i].begin(), rows[i].end(), t[i].data_ptr<float>());
    }
    return t;
}

Latent fromTensor(const torch::Tensor& t) {
    const torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
    const float* p = c.data_ptr<float>();
    return Latent(p, p + c.numel());
}

QVector<Latent> rows(const torch::Tensor& t) {
    QVector<Latent> out;
    out.reserve(static_cast<int>(t.size(0)));
    for (int64_t i = 0; i < t.size(0); ++i) {
        out.push_back(fromTensor(t[i]));
    }
    return out;
}

Latent toLatent(const LatentSpace& space, const LatentValue& value) {
    torch::Tensor z = space.fromThree(value.three);
    if (value.residual.size() == space.dim()) {
        z = z + toTensor(value.residual);
    }
    return fromTensor(z);
}

LatentValue fromLatent(const LatentSpace& space, const Latent& z) {
    const torch::Tensor t = toTensor(z);
    const torch::Tensor v = space.toThree(t).to(torch::kFloat32);
    LatentValue out;
    for (int i = 0; i < 3; ++i) {
        out.three[static_cast<size_t>(i)] = v[i].item<float>();
    }
    // Whatever the rounding, z = P v + residual holds exactly.
    out.residual = fromTensor(t - space.fromThree(out.three));
    return out;
}

QVector<Latent> gridLatents(const std::array<Latent, 4>& corners, int n, bool slerp) {
    std::array<torch::Tensor, 4> c;
    for (size_t i = 0; i < 4; ++i) {
        c[i] = toTensor(corners[i]);
    }
    return rows(cornerGrid(c, n, slerp ? Interpolation::Spherical : Interpolation::Linear));
}

QVector<int> cellsAffectedBy(int corner, int n) {
    const auto cells = affectedCells(corner, n);
    return QVector<int>(cells.begin(), cells.end());
}

QVector<Latent> randomLatents(int dim, int count, quint64 seed, double truncation) {
    return rows(sampleLatents(count, dim, seed, truncation));
}

Latent arithmeticOf(const Latent& a, const Latent& b, const Latent& c) {
    return fromTensor(arithmetic(toTensor(a), toTensor(b), toTensor(c)));
}

QImage toQImage(const RgbImage& image) {
    return QImage(image.pixels.data(), image.width, image.height, image.width * 3,
                  QImage::Format_RGB888)
        .copy();
}

RgbImage toRgbImage(const QImage& image) {
    const QImage rgb = image.convertToFormat(QImage::Format_RGB888);
    RgbImage out;
    out.width = rgb.width();
    out.height = rgb.height();
    out.pixels.resize(static_cast<size_t>(out.width) * out.height * 3);
    for (int y = 0; y < out.height; ++y) {
        std::memcpy(out.pixels.data() + static_cast<size_t>(y) * out.width * 3,
                    rgb.constScanLine(y), static_cast<size_t>(out.width) * 3);
    }
    return out;
}

QString latentText(const Latent& z) {
    QStringList parts;
    for (float f : z) {
        parts << QString::number(static_cast<double>(f), 'g', 9);
    }
    return parts.join(QStringLiteral(", "));
}

QByteArray latentBytes(const Latent& z) {
    return QByteArray(reinterpret_cast<const char*>(z.constData()),
                      static_cast<qsizetype>(z.size() * sizeof(float)));
}

Latent latentFromBytes(const QByteArray& bytes) {
    Latent z(static_cast<int>(bytes.size() / static_cast<qsizetype>(sizeof(float))));
    std::memcpy(z.data(), bytes.constData(), static_cast<size_t>(z.size()) * sizeof(float));
    return z;
}

void writeSheetPng(const QString& path, const QImage& sheet, const QString& view,
                   const QString& model, const QVector<Latent>& latents, int columns) {
    std::vector<float> flat;
    for (const Latent& z : latents) {
        flat.insert(flat.end(), z.begin(), z.end());
    }
    const int64_t dim = latents.isEmpty() ? 0 : latents.first().size();
    const torch::Tensor t =
        torch::tensor(flat, torch::kFloat32).view({static_cast<int64_t>(latents.size()), dim});
    writePng(path.toStdString(), toRgbImage(sheet),
             sheetMetadata(view.toStdString(), model.toStdString(), t, columns));
}

SheetLatents readSheetLatents(const QString& path) {
    const SheetContents sheet = readSheet(path.toStdString());
    SheetLatents out;
    out.latents = rows(sheet.latents);
    out.view = QString::fromStdString(sheet.view);
    out.columns = sheet.columns;
    return out;
}

}  // namespace cattery::ui
