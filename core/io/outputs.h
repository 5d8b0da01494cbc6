#pragma once

#include <string>
#include <vector>

// The rule that no output replaces an input, for every command and dialog that writes files.
namespace cattery {

// A path as the user gave it, with what it is for in their words ("--out", "MODEL").
struct NamedPath {
    std::string name;
    std::string path;
};

// Whether two paths are one file: by device and inode when both exist (so links, "..", hard
// links and bind mounts are seen through), else by their absolute paths with links resolved.
bool sameFile(const std::string& a, const std::string& b);

// Throws ConfigError naming both and the path when an output is the same file as an input, is one
// of the images an input folder holds, or is the same file as another output. Empty paths are
// skipped. Call it before any work starts.
void checkOutputs(const std::vector<NamedPath>& inputs, const std::vector<NamedPath>& outputs);

}  // namespace cattery
