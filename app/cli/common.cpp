#include "app/cli/common.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <limits>

#include <fmt/format.h>

#include "core/data/imagefolder.h"
#include "core/data/proceduralcats.h"
#include "core/io/modelfile.h"
#include "core/io/outputs.h"
#include "core/io/sheet.h"
#include "core/latent/threetext.h"
#include "core/runtime/device.h"
#include "core/runtime/paths.h"
#include "core/runtime/renderer.h"
#include "core/runtime/threads.h"

namespace cattery::cli {
namespace {

std::string programDir() {
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::string() : exe.parent_path().string();
}

}  // namespace

void checkNumbers(CLI::App& app) {
    static const CLI::Validator finite(
        [](std::string& value) -> std::string {
            const char* begin = value.c_str();
            char* end = nullptr;
            const long double x = std::strtold(begin, &end);
            if (end != begin && *end == '\0' && !std::isfinite(x)) {
                return fmt::format("{} is not a finite number", value);
            }
            return {};
        },
        "");
    for (CLI::Option* option : app.get_options()) {
        if (option->get_expected_min() > 0) {  // takes a value (not a flag)
            option->check(finite);
        }
    }
    for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
        checkNumbers(*sub);
    }
}

const CLI::Validator& seedValidator() {
    static const CLI::Validator seed(
        [](std::string& value) -> std::string {
            std::uint64_t parsed = 0;
            const auto [end, error] =
                std::from_chars(value.data(), value.data() + value.size(), parsed);
            if (value.empty() || error != std::errc() || end != value.data() + value.size()) {
                return fmt::format("the seed {} is not a whole number from 0 to {}", value,
                                   std::numeric_limits<std::uint64_t>::max());
            }
            return {};
        },
        "");
    return seed;
}

namespace {
std::vector<std::string> g_commandLine;
}

void keepCommandLine(int argc, const char* const* argv) {
    g_commandLine.assign(argv, argv + argc);
}

const std::vector<std::string>& commandLine() {
    return g_commandLine;
}

void addThreadsOption(CLI::App& command, int& threads) {
    command
        .add_option("--threads", threads,
                    "CPU threads for the model (0: the CPUs this process may use; while "
                    "training, fewer when other programs keep some busy)")
        ->check(CLI::Range(0, 1024))
        ->capture_default_str();
}

void addModelOptions(CLI::App& command, ModelChoice& choice) {
    command.add_option("model", choice.path, "Model file (.cattery)");
    command
        .add_option("--device", choice.device,
                    "auto (the GPU when there is one), cpu or cuda (an error without a GPU)")
        ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
        ->capture_default_str();
    addThreadsOption(command, choice.threads);
}

std::string resolveModel(const std::string& given) {
    if (!given.empty()) {
        return given;
    }
    if (auto path = defaultModelPath(programDir())) {
        return *path;
    }
    std::string where;
    for (const auto& d : modelSearchDirs(programDir())) {
        where += "\n  " + d;
    }
    throw FileError("(default model)",
                    "no model was named and no shipped model was found in:" + where);
}

void checkModelOutput(const ModelChoice& choice, const std::string& out) {
    checkOutputs({{"MODEL", resolveModel(choice.path)}}, {{"--out", out}});
}

Model openModel(const ModelChoice& choice) {
    configureThreads(choice.threads);
    return loadModel(resolveModel(choice.path));
}

void addDataOptions(CLI::App& command, DataChoice& choice, const std::string& dataHelp) {
    command.add_option("--data,-d", choice.source, dataHelp);
    command
        .add_option("--cats", choice.cats,
                    "Draw this many procedural cats instead of reading --data")
        ->check(CLI::Range(1, 1000000));
    command.add_flag("--recursive,-r", choice.recursive, "Read subfolders too");
    command.add_option("--fit", choice.fit, "Make images square by padding with white or cropping")
        ->check(CLI::IsMember({"pad", "crop"}));
}

Dataset loadData(const DataChoice& choice, int size, std::uint64_t seed, std::ostream* report) {
    if ((choice.cats > 0) == !choice.source.empty()) {
        throw UsageError(
            "give either --data (a folder or data set file) or --cats (procedural cats)");
    }
    if (choice.cats > 0) {
        return proceduralCats(choice.cats, size, seed);
    }
    FolderOptions options;
    options.size = size;
    options.recursive = choice.recursive;
    options.fit = choice.fit == "crop" ? Fit::Crop : Fit::Pad;
    Dataset d = readImages(choice.source, options);
    if (report == nullptr) {
        requireImages(d);
        return d;
    }
    *report << fmt::format("{}: {} images used, {} skipped\n", d.source, d.count(),
                           d.report.skipped.size());
    for (const auto& s : d.report.skipped) {
        *report << fmt::format("  skipped {}: {}\n", s.path, s.reason);
    }
    requireImages(d);
    return d;
}

void addSheetOptions(CLI::App& command, SheetLayout& layout) {
    command.add_option("--scale", layout.scale, "Enlarge each image (nearest neighbour)")
        ->check(CLI::Range(1, 8));
    command.add_option("--padding", layout.padding, "Pixels between images")
        ->check(CLI::Range(0, 64));
}

void writeRendered(Model& model, const std::string& device, const torch::Tensor& latents,
                   const std::string& view, int columns, const SheetLayout& layout,
                   const std::string& out, const nlohmann::json& extra) {
    Renderer renderer(model.generator, chooseDevice(device), 0);
    const auto images = renderer.render(latents);
    nlohmann::json meta = sheetMetadata(view, model.displayName(), latents, columns);
    for (const auto& [key, value] : extra.items()) {
        meta[key] = value;
    }
    SheetOptions options;
    options.columns = columns;
    options.scale = layout.scale;
    options.padding = layout.padding;
    const RgbImage sheet = composeSheet(images, options);
    writePng(out, sheet, meta);
    std::cout << fmt::format("wrote {} ({} x {} pixels, {} {}x{} images)\n", out, sheet.width,
                             sheet.height, images.size(), model.arch.imageSize,
                             model.arch.imageSize);
}

std::array<float, 3> parseThree(const std::string& text, const std::string& option) {
    try {
        return cattery::parseThree(text, option);
    } catch (const ConfigError& e) {
        throw UsageError(e.what());
    }
}

std::array<std::array<float, 3>, 4> parseCorners(const std::string& text,
                                                 const std::string& option) {
    try {
        return cattery::parseCorners(text, option);
    } catch (const ConfigError& e) {
        throw UsageError(e.what());
    }
}

}  // namespace cattery::cli
