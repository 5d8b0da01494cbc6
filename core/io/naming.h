#pragma once

#include <cstdint>
#include <functional>
#include <string>

// How Cattery names the files it writes, in one place for the window and cattery-cli.
namespace cattery {

// The checkpoint that goes with a model: "cats.cattery" -> "cats.checkpoint.cattery".
std::string checkpointPathFor(const std::string& modelPath);
// The model snapshot a training run leaves at each checkpoint, in a folder beside the model:
// "cats.cattery" -> "cats.cattery.snapshots/step-0001000.cattery".
std::string snapshotPathFor(const std::string& modelPath, std::int64_t step);
// The sample sheet of `step` in a folder of them: "progress/step-0001000.png".
std::string samplesSheetPath(const std::string& folder, std::int64_t step);
// The name of what a path holds: "chubby" for models/chubby.cattery (or its checkpoint), "images"
// for images/ or images.data, "model" when the path names nothing.
std::string stemOf(const std::string& path);
// `stem` + `ext` in the working folder, or stem-2, stem-3, ... so that nothing already there is
// overwritten; `companion` names a file that goes beside it (a model's checkpoint), which must be
// free too.
std::string unusedPath(const std::string& stem, const std::string& ext,
                       const std::function<std::string(const std::string&)>& companion = {});

}  // namespace cattery
