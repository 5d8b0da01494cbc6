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

std::string lowerExtension(const fs::path& p) {
    std::string ext = p.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return ext;
}

// 16-bit and floating-point pixels brought to 8 bits (floats from 0..1); 8-bit ones as they are.
cv::Mat to8Bit(const cv::Mat& decoded, const std::string& path) {
    cv::Mat img;
    switch (decoded.depth()) {
        case CV_8U:
            return decoded;
        case CV_16U:
            decoded.convertTo(img, CV_8U, 1.0 / 257.0);
            return img;
        case CV_32F:
        case CV_64F:
            decoded.convertTo(img, CV_8U, 255.0);
            return img;
        default:
            throw DataError(path, "unsupported pixel depth");
    }
}

// Colour times alpha, in place, for 8-bit images whose last channel is alpha (grey-alpha, BGRA).
// Composited on white after resizing, premultiplied colour gives what compositing before it gives
// (both are linear), without a full-size floating-point copy of a large image.
void premultiply(cv::Mat& img) {
    const int channels = img.channels();
    for (int y = 0; y < img.rows; ++y) {
        std::uint8_t* p = img.ptr<std::uint8_t>(y);
        for (int x = 0; x < img.cols; ++x, p += channels) {
            const unsigned alpha = p[channels - 1];
            for (int c = 0; c < channels - 1; ++c) {
                p[c] = static_cast<std::uint8_t>((p[c] * alpha + 127) / 255);
            }
        }
    }
}

// A premultiplied image composited on white (colour + 255 - alpha) and brought to RGB in `out`.
void toRgbOnWhite(const cv::Mat& img, cv::Mat& out, const std::string& path) {
    const int channels = img.channels();
    if (channels == 2 || channels == 4) {
        cv::Mat composited(img.size(), CV_8UC(channels - 1));
        for (int y = 0; y < img.rows; ++y) {
            const std::uint8_t* p = img.ptr<std::uint8_t>(y);
            std::uint8_t* q = composited.ptr<std::uint8_t>(y);
            for (int x = 0; x < img.cols; ++x, p += channels, q += channels - 1) {
                const int white = 255 - p[channels - 1];
                for (int c = 0; c < channels - 1; ++c) {
                    q[c] = static_cast<std::uint8_t>(std::min(255, p[c] + white));
                }
            }
        }
        cv::cvtColor(composited, out, channels == 2 ? cv::COLOR_GRAY2RGB : cv::COLOR_BGR2RGB);
        return;
    }
    switch (channels) {
        case 1:
            cv::cvtColor(img, out, cv::COLOR_GRAY2RGB);
            break;
        case 3:
            cv::cvtColor(img, out, cv::COLOR_BGR2RGB);
            break;
        default:
            throw DataError(path, fmt::format("unsupported number of channels ({})", channels));
    }
}

}  // namespace

void decodeImage(std::string_view bytes, const std::string& path, const FolderOptions& options,
                 std::uint8_t* out) {
    if (bytes.empty()) {
        throw DataError(path, "empty file (0 bytes)");
    }
    const ImageHeader header = sniffImage(bytes);
    const std::string ext = lowerExtension(path);
    if (header.format.empty()) {
        // Not a format whose size can be read before decoding: it is not decoded.
        static const std::map<std::string, std::string> kNamed = {
            {".png", "PNG"}, {".jpg", "JPEG"},  {".jpeg", "JPEG"}, {".gif", "GIF"},
            {".bmp", "BMP"}, {".webp", "WebP"}, {".tif", "TIFF"},  {".tiff", "TIFF"}};
        const auto named = kNamed.find(ext);
        if (named != kNamed.end()) {
            throw DataError(path, fmt::format("named {} but is not a {} image (its contents are "
                                              "unrecognised)",
                                              ext, named->second));
        }
        throw DataError(path, "not an image (or a format this build cannot read)");
    }
    if (header.format == "GIF") {
        throw DataError(path,
                        "GIF images are not supported by this build's image decoder; "
                        "convert it to PNG");
    }
    if (header.width <= 0 || header.height <= 0) {
        if (header.truncated) {
            throw DataError(path,
                            fmt::format("truncated {} file (its end is missing)", header.format));
        }
        throw DataError(path, fmt::format("a {} file whose header does not give its size (damaged, "
                                          "or a variant this build cannot check)",
                                          header.format));
    }
    const std::int64_t pixels = std::int64_t{header.width} * header.height;
    if (pixels > options.maxPixels) {
        throw DataError(path,
                        fmt::format("image is too large ({} x {} pixels; the limit is {} "
                                    "megapixels)",
                                    header.width, header.height, options.maxPixels / 1'000'000));
    }
    if (pixels * header.decodedPixelBytes > options.maxDecodedBytes) {
        throw DataError(path, fmt::format("image is too large to decode ({} x {} pixels of {} "
                                          "bytes each; the limit is {} MB decoded)",
                                          header.width, header.height, header.decodedPixelBytes,
                                          options.maxDecodedBytes / 1'000'000));
    }
    if (header.width < options.minSide || header.height < options.minSide) {
        throw DataError(path,
                        fmt::format("image is too small ({} x {}; at least {} x {} is needed)",
                                    header.width, header.height, options.minSide, options.minSide));
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
    // Brought to 8 bits and, where it has alpha, premultiplied; then made square at the output
    // size: a padded image shrinks before it is padded, a cropped one is cropped before it
    // shrinks, so nothing larger than the decoded image is ever allocated.
    cv::Mat img = to8Bit(decoded, path);
    decoded.release();
    if (img.channels() == 2 || img.channels() == 4) {
        premultiply(img);
    }
    const int size = options.size;
    cv::Mat square;
    if (options.fit == Fit::Pad) {
        const int longest = std::max(img.cols, img.rows);
        if (longest > size) {
            const double scale = static_cast<double>(size) / longest;
            const cv::Size shrunk(
                std::clamp(static_cast<int>(std::lround(img.cols * scale)), 1, size),
                std::clamp(static_cast<int>(std::lround(img.rows * scale)), 1, size));
            cv::Mat small;
            cv::resize(img, small, shrunk, 0, 0, cv::INTER_AREA);
            img = small;
        }
        const int side = std::max(img.cols, img.rows);
        const int left = (side - img.cols) / 2;
        const int top = (side - img.rows) / 2;
        cv::copyMakeBorder(img, square, top, side - img.rows - top, left, side - img.cols - left,
                           cv::BORDER_CONSTANT, cv::Scalar::all(255));
    } else {
        const int side = std::min(img.cols, img.rows);
        square = img(cv::Rect((img.cols - side) / 2, (img.rows - side) / 2, side, side));
    }
    cv::Mat sized;
    cv::resize(square, sized, cv::Size(size, size), 0, 0,
               square.cols > size ? cv::INTER_AREA : cv::INTER_LINEAR);
    cv::Mat target(size, size, CV_8UC3, out);
    toRgbOnWhite(sized, target, path);
    if (target.data != out) {
        throw Error("internal error: the conversion reallocated the output");
    }
}

std::vector<std::uint8_t> readImageFile(const std::string& path, const FolderOptions& options) {
    std::string bytes;
    try {
        bytes = readWholeFile(path, options.maxFileBytes);
    } catch (const ModelFileError& e) {
        // The same checks and words, as an image's problem rather than a model's.
        const std::string message = e.what();
        const std::string prefix = "'" + path + "': ";
        throw DataError(path,
                        message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message);
    }
    std::vector<std::uint8_t> pixels(static_cast<std::size_t>(options.size) * options.size * 3);
    try {
        decodeImage(bytes, path, options, pixels.data());
    } catch (const cv::Exception& e) {
        throw DataError(path, std::string("cannot be decoded: ") + e.what());
    }
    return pixels;
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
