#include "core/io/video.h"

#include <sys/stat.h>

#include <filesystem>

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "core/errors.h"
#include "core/io/container.h"

namespace cattery {

bool writeVideo(const std::string& path, const std::vector<RgbImage>& frames, double fps, int scale,
                const VideoProgress& progress) {
    if (frames.empty()) {
        throw FileError(path, "there are no frames to write");
    }
    if (fps <= 0 || scale < 1 || scale > 16) {
        throw FileError(path, fmt::format("cannot write {} frames/s at scale {}", fps, scale));
    }
    const int w = frames.front().width;
    const int h = frames.front().height;
    for (const auto& f : frames) {
        if (f.width != w || f.height != h || f.pixels.size() != size_t(w) * h * 3) {
            throw FileError(path, "the frames differ in size");
        }
    }
    // Even sizes keep every codec happy.
    const cv::Size size((w * scale + 1) / 2 * 2, (h * scale + 1) / 2 * 2);
    // Written beside where it lands (through a link), then renamed into place, keeping the
    // permissions of a movie it replaces.
    const std::string real = writeTarget(path);
    const std::string partial = real + ".part.mp4";
    std::error_code ec;
    {
        cv::VideoWriter writer(partial, cv::VideoWriter::fourcc('m', 'p', '4', 'v'), fps, size);
        if (!writer.isOpened()) {
            std::filesystem::remove(partial, ec);
            throw FileError(path, "cannot be written as a video (no MP4 encoder, or no access)");
        }
        for (std::size_t i = 0; i < frames.size(); ++i) {
            if (progress && !progress(i, frames.size())) {
                writer.release();
                std::filesystem::remove(partial, ec);
                return false;
            }
            const RgbImage& f = frames[i];
            cv::Mat rgb(h, w, CV_8UC3, const_cast<std::uint8_t*>(f.pixels.data()));
            cv::Mat big;
            cv::resize(rgb, big, cv::Size(w * scale, h * scale), 0, 0, cv::INTER_NEAREST);
            cv::Mat bgr(size, CV_8UC3, cv::Scalar(255, 255, 255));
            cv::cvtColor(big, bgr(cv::Rect(0, 0, big.cols, big.rows)), cv::COLOR_RGB2BGR);
            writer.write(bgr);
        }
    }
    if (progress) {
        progress(frames.size(), frames.size());
    }
    struct stat replaced {};
    if (::stat(real.c_str(), &replaced) == 0) {
        if (::chmod(partial.c_str(), replaced.st_mode & 07777) != 0) {
            std::filesystem::remove(partial, ec);
            throw FileError(path, "the movie's permissions could not be kept");
        }
    }
    std::filesystem::rename(partial, real, ec);
    if (ec) {
        std::filesystem::remove(partial, ec);
        throw FileError(path, "could not be written: " + ec.message());
    }
    return true;
}

}  // namespace cattery
