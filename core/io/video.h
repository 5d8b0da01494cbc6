#pragma once

#include <string>
#include <vector>

#include "core/runtime/image.h"

namespace cattery {

// Writes equally sized frames as an MP4 video (MPEG-4, through OpenCV's video writer), each frame
// enlarged `scale` times with nearest-neighbour; the training animation. Written beside the path
// first and renamed, so a failure never leaves half a video. Throws FileError naming the file.
void writeVideo(const std::string& path, const std::vector<RgbImage>& frames, double fps,
                int scale = 1);

}  // namespace cattery
