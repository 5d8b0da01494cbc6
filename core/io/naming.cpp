#include "core/io/naming.h"

#include <filesystem>

#include <fmt/format.h>

namespace cattery {

std::string checkpointPathFor(const std::string& modelPath) {
    std::filesystem::path p(modelPath);
    const std::string stem =
        p.extension() == ".cattery" ? p.stem().string() : p.filename().string();
    return (p.parent_path() / (stem + ".checkpoint.cattery")).string();
}

std::string snapshotPathFor(const std::string& modelPath, std::int64_t step) {
    return (std::filesystem::path(modelPath + ".snapshots") /
            fmt::format("step-{:07}.cattery", step))
        .string();
}

std::string samplesSheetPath(const std::string& folder, std::int64_t step) {
    return (std::filesystem::path(folder) / fmt::format("step-{:07}.png", step)).string();
}

std::string stemOf(const std::string& path) {
    std::filesystem::path p(path);
    if (!p.has_filename()) {
        p = p.parent_path();  // a folder given with a trailing slash
    }
    std::string name = p.filename().string();
    for (const std::string suffix : {".checkpoint.cattery", ".cattery"}) {
        if (name.size() > suffix.size() &&
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
            return name.substr(0, name.size() - suffix.size());
        }
    }
    const std::string stem = p.stem().string();
    return stem.empty() || stem == "." || stem == ".." ? std::string("model") : stem;
}

std::string unusedPath(const std::string& stem, const std::string& ext,
                       const std::function<std::string(const std::string&)>& companion) {
    for (int n = 1;; ++n) {
        const std::string path = (n == 1 ? stem : fmt::format("{}-{}", stem, n)) + ext;
        if (!std::filesystem::exists(path) &&
            (!companion || !std::filesystem::exists(companion(path)))) {
            return path;
        }
    }
}

}  // namespace cattery
