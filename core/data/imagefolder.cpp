#include "core/data/imagefolder.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>

#include <fmt/format.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/errors.h"
#include "core/io/container.h"

namespace cattery {
namespace {

namespace fs = std::filesystem;

std::uint32_t be32(std::string_view b, std::size_t at) {
    return (std::uint32_t(std::uint8_t(b[at])) << 24) |
           (std::uint32_t(std::uint8_t(b[at + 1])) << 16) |
           (std::uint32_t(std::uint8_t(b[at + 2])) << 8) | std::uint32_t(std::uint8_t(b[at + 3]));
}
std::uint32_t be16(std::string_view b, std::size_t at) {
    return (std::uint32_t(std::uint8_t(b[at])) << 8) | std::uint32_t(std::uint8_t(b[at + 1]));
}
std::uint32_t le16(std::string_view b, std::size_t at) {
    return std::uint32_t(std::uint8_t(b[at])) | (std::uint32_t(std::uint8_t(b[at + 1])) << 8);
}
std::uint32_t le32(std::string_view b, std::size_t at) {
    return le16(b, at) | (le16(b, at + 2) << 16);
}

bool startsWith(std::string_view b, std::string_view prefix) {
    return b.size() >= prefix.size() && b.substr(0, prefix.size()) == prefix;
}

void sniffJpeg(std::string_view b, ImageHeader& h) {
    std::size_t i = 2;
    while (i + 9 < b.size()) {
        if (std::uint8_t(b[i]) != 0xff) {
            ++i;
            continue;
        }
        const std::uint8_t marker = std::uint8_t(b[i + 1]);
        if (marker == 0xff) {
            ++i;
            continue;
        }
        const bool sof =
            marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
        if (sof) {
            h.height = static_cast<int>(be16(b, i + 5));
            h.width = static_cast<int>(be16(b, i + 7));
            break;
        }
        if (marker == 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker == 0x01) {
            i += 2;
            continue;
        }
        i += 2 + be16(b, i + 2);
    }
    // The end-of-image marker may be followed by a little padding.
    const std::size_t tail = std::min<std::size_t>(b.size(), 64);
    h.truncated = b.substr(b.size() - tail).find("\xff\xd9") == std::string_view::npos;
}

void sniffTiff(std::string_view b, ImageHeader& h) {
    const bool little = b[0] == 'I';
    auto u16 = [&](std::size_t at) { return little ? le16(b, at) : be16(b, at); };
    auto u32 = [&](std::size_t at) { return little ? le32(b, at) : be32(b, at); };
    const std::size_t ifd = u32(4);
    if (ifd + 2 > b.size()) {
        h.truncated = true;
        return;
    }
    const std::size_t entries = u16(ifd);
    for (std::size_t e = 0; e < entries && ifd + 2 + (e + 1) * 12 <= b.size(); ++e) {
        const std::size_t at = ifd + 2 + e * 12;
        const std::uint32_t tag = u16(at);
        const std::uint32_t type = u16(at + 2);
        const std::uint32_t value = type == 3 ? u16(at + 8) : u32(at + 8);
        if (tag == 256) {
            h.width = static_cast<int>(value);
        } else if (tag == 257) {
            h.height = static_cast<int>(value);
        }
    }
}

void sniffPnm(std::string_view b, ImageHeader& h) {
    // "P6 <ws> width <ws> height", with comments starting at '#'.
    std::size_t i = 2;
    int values[2] = {0, 0};
    for (int& v : values) {
        while (i < b.size() && (std::isspace(static_cast<unsigned char>(b[i])) || b[i] == '#')) {
            if (b[i] == '#') {
                while (i < b.size() && b[i] != '\n')
                    ++i;
            } else {
                ++i;
            }
        }
        long long n = 0;
        while (i < b.size() && std::isdigit(static_cast<unsigned char>(b[i])) && n < (1LL << 31)) {
            n = n * 10 + (b[i++] - '0');
        }
        v = static_cast<int>(std::min<long long>(n, 1LL << 30));
    }
    h.width = values[0];
    h.height = values[1];
}

std::string lowerExtension(const fs::path& p) {
    std::string ext = p.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return ext;
}

// Alpha composited on white; 16-bit and float images brought to 8 bits; result 8-bit RGB.
cv::Mat toRgbOnWhite(const cv::Mat& decoded, const std::string& path) {
    cv::Mat img;
    switch (decoded.depth()) {
        case CV_8U:
            img = decoded;
            break;
        case CV_16U:
            decoded.convertTo(img, CV_8U, 1.0 / 257.0);
            break;
        case CV_32F:
        case CV_64F:
            decoded.convertTo(img, CV_8U, 255.0);
            break;
        default:
            throw DataError(path, "unsupported pixel depth");
    }
    cv::Mat rgb;
    cv::Mat alpha;
    switch (img.channels()) {
        case 1:
            cv::cvtColor(img, rgb, cv::COLOR_GRAY2RGB);
            break;
        case 2: {
            std::vector<cv::Mat> parts;
            cv::split(img, parts);
            cv::cvtColor(parts[0], rgb, cv::COLOR_GRAY2RGB);
            alpha = parts[1];
            break;
        }
        case 3:
            cv::cvtColor(img, rgb, cv::COLOR_BGR2RGB);
            break;
        case 4: {
            cv::cvtColor(img, rgb, cv::COLOR_BGRA2RGB);
            cv::extractChannel(img, alpha, 3);
            break;
        }
        default:
            throw DataError(path,
                            fmt::format("unsupported number of channels ({})", img.channels()));
    }
    if (!alpha.empty()) {
        cv::Mat a;
        alpha.convertTo(a, CV_32F, 1.0 / 255.0);
        cv::Mat a3;
        cv::cvtColor(a, a3, cv::COLOR_GRAY2RGB);
        cv::Mat f;
        rgb.convertTo(f, CV_32FC3);
        cv::Mat white(f.size(), CV_32FC3, cv::Scalar::all(255.0));
        cv::Mat blended = f.mul(a3) + white.mul(cv::Scalar::all(1.0) - a3);
        blended.convertTo(rgb, CV_8UC3);
    }
    return rgb;
}

}  // namespace

ImageHeader sniffImage(std::string_view b) {
    ImageHeader h;
    if (startsWith(b, "\x89PNG\r\n\x1a\n")) {
        h.format = "PNG";
        if (b.size() >= 24) {
            h.width = static_cast<int>(std::min<std::uint32_t>(be32(b, 16), 1U << 30));
            h.height = static_cast<int>(std::min<std::uint32_t>(be32(b, 20), 1U << 30));
        }
        const std::size_t tail = std::min<std::size_t>(b.size(), 64);
        h.truncated = b.substr(b.size() - tail).find("IEND") == std::string_view::npos;
    } else if (startsWith(b, "\xff\xd8\xff")) {
        h.format = "JPEG";
        sniffJpeg(b, h);
    } else if (startsWith(b, "GIF87a") || startsWith(b, "GIF89a")) {
        h.format = "GIF";
        if (b.size() >= 10) {
            h.width = static_cast<int>(le16(b, 6));
            h.height = static_cast<int>(le16(b, 8));
        }
    } else if (startsWith(b, "BM") && b.size() >= 26) {
        h.format = "BMP";
        h.width = static_cast<int>(std::min<std::uint32_t>(le32(b, 18), 1U << 30));
        const auto rawHeight = static_cast<std::int32_t>(le32(b, 22));
        h.height =
            static_cast<int>(std::min<std::int64_t>(std::abs(std::int64_t{rawHeight}), 1 << 30));
    } else if (startsWith(b, "RIFF") && b.size() >= 30 && b.substr(8, 4) == "WEBP") {
        h.format = "WebP";
        const std::string_view chunk = b.substr(12, 4);
        if (chunk == "VP8 ") {
            h.width = static_cast<int>(le16(b, 26) & 0x3fff);
            h.height = static_cast<int>(le16(b, 28) & 0x3fff);
        } else if (chunk == "VP8L" && b.size() >= 25) {
            const std::uint32_t bits = le32(b, 21);
            h.width = static_cast<int>((bits & 0x3fff) + 1);
            h.height = static_cast<int>(((bits >> 14) & 0x3fff) + 1);
        } else if (chunk == "VP8X") {
            h.width = static_cast<int>((le32(b, 24) & 0xffffff) + 1);
            h.height = static_cast<int>((le32(b, 27) & 0xffffff) + 1);
        }
        h.truncated = le32(b, 4) + 8 > b.size();
    } else if ((startsWith(b, std::string_view("II*\0", 4)) ||
                startsWith(b, std::string_view("MM\0*", 4))) &&
               b.size() >= 8) {
        h.format = "TIFF";
        sniffTiff(b, h);
    } else if (b.size() >= 3 && b[0] == 'P' && b[1] >= '1' && b[1] <= '6' &&
               std::isspace(static_cast<unsigned char>(b[2]))) {
        h.format = "PNM";
        sniffPnm(b, h);
    }
    return h;
}

void decodeImage(std::string_view bytes, const std::string& path, const FolderOptions& options,
                 std::uint8_t* out) {
    if (bytes.empty()) {
        throw DataError(path, "empty file (0 bytes)");
    }
    const ImageHeader header = sniffImage(bytes);
    const std::string ext = lowerExtension(path);
    if (header.format.empty()) {
        // Not a format we can see into: OpenCV may still read it (its own pixel limit applies).
        static const std::map<std::string, std::string> kNamed = {
            {".png", "PNG"}, {".jpg", "JPEG"},  {".jpeg", "JPEG"}, {".gif", "GIF"},
            {".bmp", "BMP"}, {".webp", "WebP"}, {".tif", "TIFF"},  {".tiff", "TIFF"}};
        const auto named = kNamed.find(ext);
        if (named != kNamed.end()) {
            throw DataError(path, fmt::format("named {} but is not a {} image (its contents are "
                                              "unrecognised)",
                                              ext, named->second));
        }
    }
    if (header.format == "GIF") {
        throw DataError(path,
                        "GIF images are not supported by this build's image decoder; "
                        "convert it to PNG");
    }
    if (header.width > 0 && header.height > 0) {
        const std::int64_t pixels = std::int64_t{header.width} * header.height;
        if (pixels > options.maxPixels) {
            throw DataError(
                path, fmt::format("image is too large ({} x {} pixels; the limit is {} "
                                  "megapixels)",
                                  header.width, header.height, options.maxPixels / 1'000'000));
        }
        if (header.width < options.minSide || header.height < options.minSide) {
            throw DataError(
                path, fmt::format("image is too small ({} x {}; at least {} x {} is needed)",
                                  header.width, header.height, options.minSide, options.minSide));
        }
    }
    if (header.truncated) {
        throw DataError(path, fmt::format("truncated {} file (its end is missing)", header.format));
    }
    cv::Mat decoded;
    try {
        const cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8U,
                          const_cast<char*>(bytes.data()));
        decoded = cv::imdecode(raw, cv::IMREAD_UNCHANGED);
    } catch (const cv::Exception& e) {
        throw DataError(path, fmt::format("cannot be decoded ({})", e.what()));
    }
    if (decoded.empty()) {
        throw DataError(path,
                        header.format.empty()
                            ? std::string("not an image (or a format this build cannot read)")
                            : fmt::format("corrupt {} data (the decoder gave up)", header.format));
    }
    if (decoded.cols < options.minSide || decoded.rows < options.minSide) {
        throw DataError(path,
                        fmt::format("image is too small ({} x {}; at least {} x {} is needed)",
                                    decoded.cols, decoded.rows, options.minSide, options.minSide));
    }
    cv::Mat rgb = toRgbOnWhite(decoded, path);
    const int side =
        options.fit == Fit::Pad ? std::max(rgb.cols, rgb.rows) : std::min(rgb.cols, rgb.rows);
    cv::Mat square;
    if (options.fit == Fit::Pad) {
        const int left = (side - rgb.cols) / 2;
        const int top = (side - rgb.rows) / 2;
        cv::copyMakeBorder(rgb, square, top, side - rgb.rows - top, left, side - rgb.cols - left,
                           cv::BORDER_CONSTANT, cv::Scalar::all(255));
    } else {
        square = rgb(cv::Rect((rgb.cols - side) / 2, (rgb.rows - side) / 2, side, side));
    }
    cv::Mat target(options.size, options.size, CV_8UC3, out);
    cv::resize(square, target, target.size(), 0, 0,
               side > options.size ? cv::INTER_AREA : cv::INTER_LINEAR);
    if (target.data != out) {
        throw Error("internal error: resize reallocated the output");
    }
}

Dataset readImageFolder(const std::string& folder, const FolderOptions& options,
                        const std::function<void(std::size_t, std::size_t)>& progress) {
    std::error_code ec;
    if (!fs::exists(folder, ec)) {
        throw DataError(folder, "no such folder");
    }
    if (!fs::is_directory(folder, ec)) {
        throw DataError(folder, "is not a folder");
    }
    if (options.size < 8 || options.size > 1024) {
        throw ConfigError(fmt::format("image size {} is out of range (8 to 1024)", options.size));
    }
    Dataset d;
    d.source = folder;
    d.report.folder = folder;

    std::vector<fs::path> files;
    auto scan = [&](auto&& iterator) {
        for (auto it = iterator; it != std::decay_t<decltype(iterator)>(); it.increment(ec)) {
            if (ec) {
                d.report.skipped.push_back(
                    {it->path().string(), "cannot be listed: " + ec.message()});
                ec.clear();
                continue;
            }
            const fs::path& p = it->path();
            if (it->is_directory(ec)) {
                if (!options.recursive) {
                    d.report.skipped.push_back(
                        {p.string(),
                         "a subfolder (not scanned; turn on recursive reading to include it)"});
                }
                continue;
            }
            if (!it->is_regular_file(ec)) {
                d.report.skipped.push_back({p.string(), "not a regular file"});
                continue;
            }
            files.push_back(p);
        }
    };
    if (options.recursive) {
        scan(fs::recursive_directory_iterator(folder, fs::directory_options::skip_permission_denied,
                                              ec));
    } else {
        scan(fs::directory_iterator(folder, ec));
    }
    if (ec) {
        throw DataError(folder, "cannot be read: " + ec.message());
    }
    std::sort(files.begin(), files.end());
    std::sort(d.report.skipped.begin(), d.report.skipped.end(),
              [](const SkippedFile& a, const SkippedFile& b) { return a.path < b.path; });

    // The pixels grow as images decode (a folder of empty or broken files claims nothing), up to
    // what a data set may hold.
    const std::size_t each = static_cast<std::size_t>(options.size) * options.size * 3;
    std::vector<std::uint8_t> pixels;
    std::size_t used = 0;
    for (std::size_t i = 0; i < files.size(); ++i) {
        const std::string path = files[i].string();
        if ((used + 1) * each > kMaxDatasetBytes) {
            throw DataError(folder,
                            fmt::format("holds more images than a data set of {}x{} pictures can "
                                        "take ({} of them, {:.1f} GiB): choose a smaller size or "
                                        "fewer images",
                                        options.size, options.size, used,
                                        static_cast<double>(kMaxDatasetBytes) / (1ULL << 30)));
        }
        if (pixels.size() < (used + 1) * each) {
            pixels.resize((used + 1) * each);
        }
        try {
            const auto size = fs::file_size(files[i]);
            if (size > options.maxFileBytes) {
                throw DataError(path, fmt::format("file is too large ({} MB)", size >> 20));
            }
            const std::string bytes =
                size == 0 ? std::string() : readWholeFile(path, options.maxFileBytes);
            decodeImage(bytes, path, options, pixels.data() + used * each);
            d.report.used.push_back(path);
            ++used;
        } catch (const FileError& e) {
            const std::string message = e.what();
            const std::string prefix = "'" + path + "': ";
            d.report.skipped.push_back(
                {path, message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message});
        } catch (const fs::filesystem_error& e) {
            d.report.skipped.push_back(
                {path, std::string("cannot be read: ") + e.code().message()});
        } catch (const cv::Exception& e) {
            d.report.skipped.push_back({path, std::string("cannot be decoded: ") + e.what()});
        }
        if (progress) {
            progress(i + 1, files.size());
        }
    }
    pixels.resize(used * each);
    torch::Tensor hwc = torch::from_blob(
        pixels.data(), {static_cast<int64_t>(used), options.size, options.size, 3}, torch::kUInt8);
    d.images = hwc.permute({0, 3, 1, 2}).contiguous();
    d.hash = imagesHash(d.images);
    return d;
}

Dataset readImages(const std::string& source, const FolderOptions& options) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(source, ec)) {
        Dataset d = loadDataset(source);
        return d.imageSize() == options.size ? d : resizedDataset(d, options.size);
    }
    return readImageFolder(source, options);
}

}  // namespace cattery
