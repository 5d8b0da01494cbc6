#include "core/io/sheetlayout.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "core/errors.h"

namespace cattery {

SheetGeometry sheetGeometry(int count, int width, int height, const SheetOptions& o) {
    if (count < 1) {
        throw ConfigError("a sheet needs at least one image");
    }
    if (o.scale < 1 || o.scale > 8) {
        throw ConfigError(fmt::format("sheet scale {} is out of range (1 to 8)", o.scale));
    }
    if (o.padding < 0 || o.padding > 64) {
        throw ConfigError(fmt::format("sheet padding {} is out of range (0 to 64)", o.padding));
    }
    if (o.labelHeight < 0 || o.labelHeight > 64 || o.captionHeight < 0 || o.captionHeight > 64) {
        throw ConfigError("sheet label and caption heights must be 0 to 64 pixels");
    }
    if (width < 1 || height < 1 || width > 4096 || height > 4096) {
        throw ConfigError(
            fmt::format("sheet images of {}x{} pixels are out of range", width, height));
    }
    SheetGeometry g;
    g.columns = o.columns > 0 ? std::min(o.columns, count)
                              : static_cast<int>(std::ceil(std::sqrt(static_cast<double>(count))));
    g.rows = (count + g.columns - 1) / g.columns;
    const int cw = width * o.scale;
    const int ch = height * o.scale;
    const int pad = o.padding * o.scale;
    const int rowHeight = ch + o.labelHeight + pad;
    // In 64 bits: a count of images large enough to overflow an int is refused here, not wrapped.
    const std::int64_t sheetWidth = pad + std::int64_t{g.columns} * (cw + pad);
    const std::int64_t sheetHeight = pad + std::int64_t{g.rows} * rowHeight + o.captionHeight;
    if (sheetWidth * sheetHeight > kMaxSheetPixels) {
        throw ConfigError(
            fmt::format("a sheet of {} x {} pixels is too large (the limit is {} "
                        "megapixels): use fewer images, a smaller scale or less "
                        "padding",
                        sheetWidth, sheetHeight, kMaxSheetPixels / 1'000'000));
    }
    g.width = static_cast<int>(sheetWidth);
    const int body = static_cast<int>(sheetHeight) - o.captionHeight;
    g.height = static_cast<int>(sheetHeight);
    for (int i = 0; i < count; ++i) {
        const int x = pad + (i % g.columns) * (cw + pad);
        const int y = pad + (i / g.columns) * rowHeight;
        g.cells.push_back({x, y, cw, ch});
        g.labels.push_back({x, y + ch, cw, o.labelHeight});
    }
    g.caption = {0, body, g.width, o.captionHeight};
    return g;
}

RgbImage composeSheet(const std::vector<RgbImage>& images, const SheetOptions& o) {
    if (images.empty()) {
        throw ConfigError("a sheet needs at least one image");
    }
    const int w = images.front().width;
    const int h = images.front().height;
    for (const auto& img : images) {
        if (img.width != w || img.height != h || img.pixels.size() != std::size_t(w) * h * 3) {
            throw ConfigError("all images on a sheet must have the same size");
        }
    }
    const SheetGeometry g = sheetGeometry(static_cast<int>(images.size()), w, h, o);
    RgbImage sheet;
    sheet.width = g.width;
    sheet.height = g.height;
    sheet.pixels.resize(std::size_t(sheet.width) * sheet.height * 3);
    for (std::size_t i = 0; i < sheet.pixels.size(); i += 3) {
        std::memcpy(&sheet.pixels[i], o.background.data(), 3);
    }
    for (std::size_t i = 0; i < images.size(); ++i) {
        const SheetRect& cell = g.cells[i];
        const auto& src = images[i].pixels;
        for (int y = 0; y < cell.height; ++y) {
            std::uint8_t* dst = &sheet.pixels[(std::size_t(cell.y + y) * sheet.width + cell.x) * 3];
            const std::uint8_t* row = &src[std::size_t(y / o.scale) * w * 3];
            for (int x = 0; x < cell.width; ++x) {
                std::memcpy(dst + x * 3, row + (x / o.scale) * 3, 3);
            }
        }
    }
    return sheet;
}

}  // namespace cattery
