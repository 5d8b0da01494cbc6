#pragma once

#include <string>

#include <torch/torch.h>

#include "core/io/video.h"

namespace cattery {

class Renderer;

// How a morph movie looks: frames per second and how many times each picture is enlarged.
struct MovieOptions {
    double fps = 30.0;
    int scale = 1;
};

// The most bytes of frames a movie may hold in memory while it is drawn (frames x size x size x 3):
// a path of many legs at 128x128 stays well inside it, a mistaken frame count does not.
inline constexpr std::size_t kMostMovieBytes = std::size_t{1} << 30;

// Draws each latent (N x dim, one frame each) with the renderer, a few at a time, and writes the
// frames as an MP4 video (writeVideo: nothing half-written is ever left at `path`). Checks the
// frames' memory before drawing any (FileError). `progress` hears (done, total) over the drawing
// and the writing together; when it returns false the movie is abandoned and writeMovie returns
// false, whatever was at `path` left as it was.
bool writeMovie(const std::string& path, Renderer& renderer, int imageSize,
                const torch::Tensor& latents, const MovieOptions& options,
                const VideoProgress& progress = {});

}  // namespace cattery
