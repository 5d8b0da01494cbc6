// One image of a training folder, decoded as `prepare` and the Train view decode it: any bytes
// give a size x size picture on white, or an error naming the file; never a crash, a hang, or
// more memory than the limits allow.
#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/data/imagefolder.h"
#include "core/errors.h"
#include "fuzzutil.h"

using namespace cattery;

// With CATTERY_FUZZ_SEEDS set, writes one small image there first in each format OpenCV writes:
// 8- and 16-bit, grey, RGB and RGBA, square and elongated.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
    return fuzz::writeSeeds([](const std::string& dir) {
        cv::Mat rgba(12, 20, CV_8UC4);
        cv::randu(rgba, 0, 256);
        cv::Mat rgba16;
        rgba.convertTo(rgba16, CV_16UC4, 257);
        cv::Mat bgr;
        cv::cvtColor(rgba, bgr, cv::COLOR_BGRA2BGR);
        cv::Mat grey;
        cv::cvtColor(rgba, grey, cv::COLOR_BGRA2GRAY);
        cv::Mat hdr;
        bgr.convertTo(hdr, CV_32FC3, 1.0 / 255);
        const std::vector<std::pair<std::string, const cv::Mat*>> seeds = {
            {"rgba.png", &rgba}, {"rgba16.png", &rgba16}, {"grey.png", &grey}, {"a.jpg", &bgr},
            {"a.bmp", &bgr},     {"a.webp", &rgba},       {"a.tif", &rgba16},  {"a.ppm", &bgr},
            {"a.pgm", &grey},    {"a.hdr", &hdr},         {"a.ras", &bgr},
        };
        for (const auto& [name, image] : seeds) {
            std::vector<std::uint8_t> bytes;
            if (cv::imencode(name.substr(name.find('.')), *image, bytes)) {
                fuzz::writeWhole(
                    dir + "/" + name,
                    std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
            }
        }
    });
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // The limits scaled down (a 1-megapixel, 16 MB image at most) so that each input decodes
    // in milliseconds; the checks are the ones the defaults go through.
    FolderOptions options;
    options.size = 32;
    options.maxPixels = 1'000'000;
    options.maxDecodedBytes = 16'000'000;
    const std::string path = "fuzz.png";
    std::vector<std::uint8_t> out(static_cast<std::size_t>(options.size) * options.size * 3);
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    try {
        decodeImage(bytes, path, options, out.data());
    } catch (const Error& e) {
        fuzz::requireNamed(e, path);
    }
    // Checksums made to match, so that mutations of a PNG reach its pixels.
    try {
        decodeImage(fuzz::withMatchingPngChunks(std::string(bytes)), path, options, out.data());
    } catch (const Error& e) {
        fuzz::requireNamed(e, path);
    }
    return 0;
}
