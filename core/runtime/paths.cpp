#include "core/runtime/paths.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include <unistd.h>

#include "core/errors.h"

namespace cattery {
namespace {

namespace fs = std::filesystem;

bool isModelFile(const fs::path& p) {
    const std::string name = p.filename().string();
    const std::string suffix = ".checkpoint.cattery";
    return p.extension() == ".cattery" &&
           !(name.size() >= suffix.size() &&
             name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0);
}

}  // namespace

std::vector<std::string> modelSearchDirs(const std::string& programDir) {
    std::vector<std::string> dirs;
    if (const char* env = std::getenv("CATTERY_MODELS"); env != nullptr && *env != '\0') {
        dirs.emplace_back(env);
    }
    if (!programDir.empty()) {
        dirs.push_back((fs::path(programDir) / ".." / "share" / "cattery" / "models")
                           .lexically_normal()
                           .string());
    }
#ifdef CATTERY_SOURCE_MODELS_DIR
    dirs.emplace_back(CATTERY_SOURCE_MODELS_DIR);
#endif
    return dirs;
}

std::vector<std::string> shippedModels(const std::string& programDir) {
    for (const auto& dir : modelSearchDirs(programDir)) {
        std::error_code ec;
        std::vector<std::string> found;
        for (const auto& entry : fs::directory_iterator(dir, ec)) {
            if (entry.is_regular_file(ec) && isModelFile(entry.path())) {
                found.push_back(entry.path().string());
            }
        }
        if (!found.empty()) {
            std::sort(found.begin(), found.end());
            return found;
        }
    }
    return {};
}

std::optional<std::string> defaultModelPath(const std::string& programDir) {
    const auto models = shippedModels(programDir);
    for (const auto& m : models) {
        if (fs::path(m).filename() == "chubby.cattery") {
            return m;
        }
    }
    if (!models.empty()) {
        return models.front();
    }
    return std::nullopt;
}

std::string cliProgramPath(const std::string& programDir) {
    const char* env = std::getenv("CATTERY_CLI");
    const std::string path = env != nullptr && *env != '\0'
                                 ? std::string(env)
                                 : (fs::path(programDir) / "cattery-cli").string();
    std::error_code ec;
    if (!fs::is_regular_file(path, ec) || ::access(path.c_str(), X_OK) != 0) {
        throw FileError(path,
                        "cattery-cli is not there (or cannot be run), and training on "
                        "several processes starts it for the others");
    }
    return path;
}

}  // namespace cattery
