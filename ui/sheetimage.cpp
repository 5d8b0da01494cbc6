#include "ui/sheetimage.h"

#include <algorithm>

#include <QPainter>

#include "ui/latentmath.h"

namespace cattery::ui {
namespace {

QRect qrect(const SheetRect& r) {
    return {r.x, r.y, r.width, r.height};
}

}  // namespace

QImage sheetImage(const QVector<QImage>& images, const SheetOptions& options,
                  const QStringList& labels, const QString& caption) {
    std::vector<RgbImage> rgb;
    rgb.reserve(static_cast<std::size_t>(images.size()));
    for (const QImage& image : images) {
        rgb.push_back(toRgbImage(image));
    }
    QImage out = toQImage(composeSheet(rgb, options));
    if (labels.isEmpty() && caption.isEmpty()) {
        return out;
    }
    const SheetGeometry g =
        sheetGeometry(static_cast<int>(rgb.size()), rgb.front().width, rgb.front().height, options);
    const auto& bg = options.background;
    const bool light = (bg[0] * 299 + bg[1] * 587 + bg[2] * 114) / 1000 > 128;
    QPainter p(&out);
    p.setPen(light ? Qt::black : Qt::white);
    QFont font = p.font();
    font.setPixelSize(std::clamp(options.labelHeight - 4, 8, 12));
    p.setFont(font);
    for (int i = 0; i < labels.size() && i < static_cast<int>(g.labels.size()); ++i) {
        p.drawText(qrect(g.labels[static_cast<std::size_t>(i)]), Qt::AlignCenter, labels[i]);
    }
    if (!caption.isEmpty()) {
        font.setPixelSize(std::clamp(options.captionHeight - 4, 8, 12));
        p.setFont(font);
        p.drawText(qrect(g.caption), Qt::AlignCenter, caption);
    }
    return out;
}

}  // namespace cattery::ui
