#include "core/io/movie.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "core/errors.h"
#include "core/runtime/renderer.h"

namespace cattery {
namespace {

// Frames drawn in one call: small enough to report progress often, large enough to batch well.
constexpr std::int64_t kFramesPerDraw = 16;

}  // namespace

bool writeMovie(const std::string& path, Renderer& renderer, int imageSize,
                const torch::Tensor& latents, const MovieOptions& options,
                const VideoProgress& progress) {
    if (latents.dim() != 2 || latents.size(0) < 1) {
        throw FileError(path, "there are no frames to write");
    }
    const auto frames = static_cast<std::size_t>(latents.size(0));
    const std::size_t bytes =
        frames * static_cast<std::size_t>(imageSize) * static_cast<std::size_t>(imageSize) * 3;
    if (imageSize < 1 || bytes / frames / 3 != static_cast<std::size_t>(imageSize) * imageSize ||
        bytes > kMostMovieBytes) {
        throw FileError(
            path, fmt::format("{} frames of {}x{} would take {} MB, more than the {} MB "
                              "a movie may: use fewer frames",
                              frames, imageSize, imageSize, bytes >> 20, kMostMovieBytes >> 20));
    }
    std::vector<RgbImage> pictures;
    pictures.reserve(frames);
    const std::size_t total = 2 * frames;  // drawn, then written
    for (std::int64_t at = 0; at < latents.size(0); at += kFramesPerDraw) {
        if (progress && !progress(pictures.size(), total)) {
            return false;
        }
        const std::int64_t count = std::min(kFramesPerDraw, latents.size(0) - at);
        for (RgbImage& image : renderer.render(latents.narrow(0, at, count))) {
            pictures.push_back(std::move(image));
        }
    }
    return writeVideo(path, pictures, options.fps, options.scale,
                      [&progress, frames, total](std::size_t done, std::size_t) {
                          return !progress || progress(frames + done, total);
                      });
}

}  // namespace cattery
