#include "core/io/sheet.h"

#include <cmath>

#include <fmt/format.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/data/imageheader.h"
#include "core/errors.h"
#include "core/io/container.h"
#include "core/model/archconfig.h"

namespace cattery {
namespace {

constexpr char kKeyword[] = "cattery";
constexpr std::size_t kPngSignature = 8;

void putBe32(std::string& out, std::uint32_t v) {
    const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 8), static_cast<char>(v)};
    out.append(b, 4);
}

std::uint32_t getBe32(std::string_view b, std::size_t at) {
    return (std::uint32_t(std::uint8_t(b[at])) << 24) |
           (std::uint32_t(std::uint8_t(b[at + 1])) << 16) |
           (std::uint32_t(std::uint8_t(b[at + 2])) << 8) | std::uint32_t(std::uint8_t(b[at + 3]));
}

std::string textChunk(const std::string& text) {
    std::string body = "tEXt";
    body.append(kKeyword, sizeof kKeyword);  // keyword and its NUL separator
    body += text;
    std::string chunk;
    putBe32(chunk, static_cast<std::uint32_t>(body.size() - 4));
    chunk += body;
    putBe32(chunk, crc32(body.data(), body.size()));
    return chunk;
}

std::string checkedPng(const std::string& path) {
    std::string bytes = readWholeFile(path, 1ULL << 30);
    if (bytes.size() < kPngSignature + 25 || bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) {
        throw FileError(path, "not a PNG image");
    }
    return bytes;
}

}  // namespace

void writePng(const std::string& path, const RgbImage& image, const nlohmann::json& metadata) {
    cv::Mat rgb(image.height, image.width, CV_8UC3, const_cast<std::uint8_t*>(image.pixels.data()));
    cv::Mat bgr;
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
    std::vector<std::uint8_t> encoded;
    if (!cv::imencode(".png", bgr, encoded)) {
        throw FileError(path, "the PNG encoder failed");
    }
    std::string bytes(encoded.begin(), encoded.end());
    if (!metadata.is_null()) {
        // After the signature and the IHDR chunk (8 + 25 bytes) comes our text chunk.
        const std::size_t at = kPngSignature + 25;
        bytes.insert(at, textChunk(dumpFileJson(metadata, true)));
    }
    writeFileAtomically(path, bytes);
}

RgbImage readPng(const std::string& path) {
    const std::string bytes = checkedPng(path);
    // The size in the header is checked before anything that large is decoded, and the chunks
    // before anything they claim is allocated.
    const ImageHeader header = sniffImage(bytes);
    if (std::int64_t{header.width} * header.height > kMaxSheetPixels) {
        throw FileError(path,
                        fmt::format("the PNG image is too large ({} x {} pixels; a sheet "
                                    "holds at most {} megapixels)",
                                    header.width, header.height, kMaxSheetPixels / 1'000'000));
    }
    if (header.truncated) {
        throw FileError(path,
                        "the PNG image is truncated (a part of it claims more bytes than "
                        "the file holds, or its end is missing)");
    }
    const cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
    const cv::Mat bgr = cv::imdecode(raw, cv::IMREAD_COLOR);
    if (bgr.empty()) {
        throw FileError(path, "the PNG image is corrupt");
    }
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    RgbImage img;
    img.width = rgb.cols;
    img.height = rgb.rows;
    img.pixels.assign(rgb.datastart, rgb.dataend);
    return img;
}

nlohmann::json readPngMetadata(const std::string& path) {
    const std::string bytes = checkedPng(path);
    std::size_t at = kPngSignature;
    while (at + 12 <= bytes.size()) {
        const std::uint32_t length = getBe32(bytes, at);
        if (length > bytes.size() - at - 12) {
            throw FileError(path, "the PNG image is truncated");
        }
        const std::string_view type(bytes.data() + at + 4, 4);
        if (type == "tEXt") {
            const std::string_view body(bytes.data() + at + 8, length);
            const std::string_view key(kKeyword, sizeof kKeyword);
            if (body.substr(0, key.size()) == key) {
                try {
                    return parseFileJson(body.substr(key.size()));
                } catch (const nlohmann::json::exception& e) {
                    throw FileError(path, fmt::format("the sheet's latents are corrupt ({})",
                                                      briefly(e.what())));
                }
            }
        }
        if (type == "IEND") {
            break;
        }
        at += 12 + length;
    }
    return nullptr;
}

void writeSheet(const std::string& path, const std::vector<RgbImage>& images,
                const SheetOptions& options, const nlohmann::json& metadata) {
    writePng(path, composeSheet(images, options), metadata);
}

nlohmann::json sheetMetadata(const std::string& view, const std::string& model,
                             const torch::Tensor& latents, int columns) {
    const torch::Tensor l = latents.detach().to(torch::kCPU, torch::kFloat32).contiguous();
    nlohmann::json rows = nlohmann::json::array();
    for (int64_t i = 0; i < l.size(0); ++i) {
        const float* p = l[i].data_ptr<float>();
        rows.push_back(std::vector<float>(p, p + l.size(1)));
    }
    return {{"format", "cattery-sheet"}, {"version", 1},   {"view", view}, {"model", model},
            {"columns", columns},        {"latents", rows}};
}

SheetContents readSheet(const std::string& path) {
    const nlohmann::json meta = readPngMetadata(path);
    SheetContents out;
    out.latents = sheetLatents(meta, path);
    if (const auto view = meta.find("view"); view != meta.end() && view->is_string()) {
        out.view = view->get<std::string>();
    }
    if (const auto columns = meta.find("columns");
        columns != meta.end() && columns->is_number_integer()) {
        const auto c = columns->get<std::int64_t>();
        out.columns =
            c >= 1 && c <= static_cast<std::int64_t>(kMaxSheetLatents) ? static_cast<int>(c) : 0;
    }
    return out;
}

torch::Tensor sheetLatents(const nlohmann::json& metadata, const std::string& path) {
    try {
        if (metadata.is_null() || metadata.value("format", "") != "cattery-sheet") {
            throw FileError(path, "holds no Cattery latents (it was not exported by Cattery)");
        }
        const nlohmann::json& list = metadata.at("latents");
        if (!list.is_array() || list.empty() || !list.front().is_array() || list.front().empty()) {
            throw FileError(path, "the sheet's latent list is empty");
        }
        if (list.size() > kMaxSheetLatents) {
            throw FileError(path, fmt::format("the sheet holds {} latents (at most {})",
                                              list.size(), kMaxSheetLatents));
        }
        const std::size_t dim = list.front().size();
        if (dim < static_cast<std::size_t>(kLatentDimRange.lo) ||
            dim > static_cast<std::size_t>(kLatentDimRange.hi)) {
            throw FileError(path, fmt::format("the sheet's latents have {} numbers ({} to {})", dim,
                                              kLatentDimRange.lo, kLatentDimRange.hi));
        }
        std::vector<float> flat;
        flat.reserve(list.size() * dim);
        for (const auto& r : list) {
            if (!r.is_array() || r.size() != dim) {
                throw FileError(path, "the sheet's latents have differing lengths");
            }
            for (const auto& v : r) {
                const auto x = v.get<float>();  // a type error for anything but a number
                if (!std::isfinite(x)) {
                    throw FileError(path, "the sheet's latents hold a number that is not finite");
                }
                flat.push_back(x);
            }
        }
        return torch::tensor(flat, torch::kFloat32)
            .view({static_cast<int64_t>(list.size()), static_cast<int64_t>(dim)});
    } catch (const nlohmann::json::exception& e) {
        throw FileError(path,
                        fmt::format("the sheet's latents are malformed ({})", briefly(e.what())));
    }
}

}  // namespace cattery
