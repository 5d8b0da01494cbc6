#include "core/io/outputs.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include <fmt/format.h>

#include "core/errors.h"

namespace cattery {
namespace {

namespace fs = std::filesystem;

// The path made absolute, its links and ".." resolved as far as it exists.
fs::path resolved(const std::string& path) {
    std::error_code ec;
    fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
    return ec ? fs::absolute(path).lexically_normal() : p;
}

bool isImageName(const fs::path& p) {
    std::string ext = p.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    static const char* const kImages[] = {".png",  ".jpg", ".jpeg", ".bmp", ".webp", ".tif",
                                          ".tiff", ".gif", ".pnm",  ".ppm", ".pgm",  ".pbm"};
    return std::any_of(std::begin(kImages), std::end(kImages),
                       [&ext](const char* e) { return ext == e; });
}

// Whether `output` is an existing image inside the folder `input` (at any depth): one of the
// images a folder input is read for.
bool inFolder(const std::string& output, const std::string& input) {
    std::error_code ec;
    if (!fs::is_directory(input, ec) || !fs::is_regular_file(output, ec) || !isImageName(output)) {
        return false;
    }
    const fs::path folder = resolved(input);
    const fs::path file = resolved(output);
    const auto [end, at] = std::mismatch(folder.begin(), folder.end(), file.begin(), file.end());
    return end == folder.end() && at != file.end();
}

}  // namespace

bool sameFile(const std::string& a, const std::string& b) {
    struct stat sa {};
    struct stat sb {};
    const bool ea = ::stat(a.c_str(), &sa) == 0;
    const bool eb = ::stat(b.c_str(), &sb) == 0;
    if (ea && eb) {
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    }
    if (ea != eb) {
        return false;  // one is there and the other is not
    }
    return resolved(a) == resolved(b);
}

void checkOutputs(const std::vector<NamedPath>& inputs, const std::vector<NamedPath>& outputs) {
    for (std::size_t i = 0; i < outputs.size(); ++i) {
        const NamedPath& out = outputs[i];
        if (out.path.empty()) {
            continue;
        }
        for (const NamedPath& in : inputs) {
            if (in.path.empty()) {
                continue;
            }
            if (sameFile(out.path, in.path)) {
                throw ConfigError(fmt::format(
                    "{} and {} are the same file ({}): writing {} would destroy what is read; "
                    "choose another output",
                    out.name, in.name, out.path, out.name));
            }
            if (inFolder(out.path, in.path)) {
                throw ConfigError(fmt::format(
                    "{} ({}) is one of the images {} reads: writing it would destroy one of them; "
                    "choose another output",
                    out.name, out.path, in.name));
            }
        }
        for (std::size_t j = i + 1; j < outputs.size(); ++j) {
            if (!outputs[j].path.empty() && sameFile(out.path, outputs[j].path)) {
                throw ConfigError(
                    fmt::format("{} and {} name the same file ({}): one would "
                                "replace the other; give each its own",
                                out.name, outputs[j].name, out.path));
            }
        }
    }
}

}  // namespace cattery
