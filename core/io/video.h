#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "core/runtime/image.h"

namespace cattery {

// Writes equally sized frames as an MP4 video (MPEG-4, through OpenCV's video writer), each frame
// enlarged `scale` times with nearest-neighbour; the training animation. Written beside the path
// first and renamed, so a failure never leaves half a video. Throws FileError naming the file.
// `progress` hears of each frame written; when it returns false, the video is abandoned (nothing
// is left behind, whatever was at `path` stays) and writeVideo returns false.
using VideoProgress = std::function<bool(std::size_t done, std::size_t total)>;
bool writeVideo(const std::string& path, const std::vector<RgbImage>& frames, double fps,
                int scale = 1, const VideoProgress& progress = {});

}  // namespace cattery
