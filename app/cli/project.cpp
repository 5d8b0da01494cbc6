// cattery-cli project: finds the latents whose pictures are closest to given images.
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "app/cli/common.h"
#include "core/data/imagefolder.h"
#include "core/io/container.h"
#include "core/io/modelfile.h"
#include "core/io/outputs.h"
#include "core/io/sheet.h"
#include "core/io/sheetlayout.h"
#include "core/latent/projection.h"
#include "core/runtime/device.h"
#include "core/runtime/renderer.h"
#include "core/runtime/threads.h"

namespace cattery::cli {
namespace {

struct ProjectOptions {
    std::vector<std::string> inputs;  // [MODEL] IMAGE...
    std::string device = "auto";
    int threads = 0;
    std::string fit = "pad";
    std::string loss = "pixels";
    std::string precision = "auto";
    ProjectionSettings search;
    SheetLayout layout;
    std::string out;
};

void runProject(const ProjectOptions& o) {
    // The first argument is the model when it is a Cattery file; otherwise every argument is an
    // image and the shipped model finds them.
    std::string modelPath;
    std::vector<std::string> images = o.inputs;
    if (!images.empty() && startsLikeContainer(images.front())) {
        modelPath = images.front();
        images.erase(images.begin());
    }
    if (images.empty()) {
        throw UsageError("name at least one image to find");
    }
    if (images.size() > static_cast<std::size_t>(kMostProjectionTargets)) {
        throw UsageError(fmt::format("at most {} images at a time", kMostProjectionTargets));
    }
    ProjectionSettings search = o.search;
    try {
        search.loss = projectionLossFromName(o.loss);
        validate(search);
    } catch (const ConfigError& e) {
        throw UsageError(e.what());
    }
    const std::string modelFile = resolveModel(modelPath);
    std::vector<NamedPath> inputs = {{"MODEL", modelFile}};
    for (const std::string& image : images) {
        inputs.push_back({"IMAGE", image});
    }
    checkOutputs(inputs, {{"--out", o.out}});
    configureThreads(o.threads);
    const torch::Device device = chooseDevice(o.device);
    search.precision = choosePrecision(o.precision, device);
    Model model = loadModel(modelFile, device);
    try {
        checkLoss(search.loss, model.encoder);
    } catch (const ConfigError& e) {
        throw ConfigError(fmt::format("'{}': {}", modelFile, e.what()));
    }
    // Every image is read (and refused, naming it) before the search begins.
    FolderOptions read;
    read.size = model.arch.imageSize;
    read.fit = o.fit == "crop" ? Fit::Crop : Fit::Pad;
    std::vector<torch::Tensor> targets;
    for (const std::string& path : images) {
        targets.push_back(pictureFromPixels(readImageFile(path, read), read.size));
    }
    const bool tty = ::isatty(STDERR_FILENO) != 0;
    std::cerr << fmt::format("finding {} image{} in {} ({} comparison, {})\n", images.size(),
                             images.size() == 1 ? "" : "s", model.displayName(),
                             projectionLossName(search.loss), precisionName(*search.precision));
    const auto start = std::chrono::steady_clock::now();
    const auto found = project(
        model.generator, model.encoder, torch::stack(targets), search, [tty](int done, int total) {
            if (tty) {
                std::cerr << fmt::format("\r\033[K{} %", 100 * done / total) << std::flush;
            }
            return true;
        });
    if (tty) {
        std::cerr << "\r\033[K";
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // Each image beside its cat; the sheet keeps the cats' latents, so it reopens as a batch.
    std::vector<RgbImage> cells;
    std::vector<torch::Tensor> latents;
    double sum = 0;
    for (std::size_t i = 0; i < found->size(); ++i) {
        const Projection& p = (*found)[i];
        cells.push_back(toImages(targets[i].unsqueeze(0)).front());
        cells.push_back(toImages(p.picture.unsqueeze(0)).front());
        latents.push_back(p.latent);
        sum += p.distance;
        std::cout << fmt::format("{}: distance {:.4f}\n", images[i], p.distance);
    }
    SheetOptions options;
    options.columns = 2;
    options.scale = o.layout.scale;
    options.padding = o.layout.padding;
    nlohmann::json meta =
        sheetMetadata("projection", model.displayName(), torch::stack(latents), 1);
    meta["comparison"] = projectionLossName(search.loss);
    writePng(o.out, composeSheet(cells, options), meta);
    std::cout << fmt::format(
        "wrote {}: {} image{} beside the cats found, mean distance {:.4f}, {:.2f} s per image\n",
        o.out, images.size(), images.size() == 1 ? "" : "s",
        sum / static_cast<double>(images.size()), seconds / static_cast<double>(images.size()));
}

}  // namespace

Subcommand addProject(CLI::App& app) {
    auto o = std::make_shared<ProjectOptions>();
    auto* command = app.add_subcommand(
        "project",
        "Find the cats closest to images: a sheet of each image beside its cat (the cats' latents "
        "inside, so it opens as a batch), and each distance (root mean square pixel difference, "
        "black to white = 1)");
    command
        ->add_option("inputs", o->inputs,
                     "[MODEL] IMAGE...: a model file first (else the shipped model), then images")
        ->required();
    command->add_option("--out,-o", o->out, "Output PNG sheet")->required();
    command->add_option("--steps", o->search.steps, "Adam steps on each start")
        ->check(CLI::Range(0, kMostProjectionSteps))
        ->capture_default_str();
    command
        ->add_option("--starts", o->search.starts, "The closest random latents refined, per image")
        ->check(CLI::Range(1, kMostProjectionStarts))
        ->capture_default_str();
    command
        ->add_option("--candidates", o->search.candidates,
                     "Random latents compared with each image to choose the starts")
        ->check(CLI::Range(1, kMostProjectionCandidates))
        ->capture_default_str();
    command
        ->add_option(
            "--loss", o->loss,
            "What is compared: pixels, or features (the pixels and what the model's encoder "
            "sees; models trained by this version have one)")
        ->check(CLI::IsMember({"pixels", "features"}))
        ->capture_default_str();
    command->add_flag(
        "!--no-proposal", o->search.proposal,
        "Start from random latents only, not also from the latent the model's encoder proposes "
        "for each image (models trained with --cover have one)");
    command->add_option("--lr", o->search.learningRate, "Adam step size")
        ->check(CLI::Range(1e-6, 10.0))
        ->capture_default_str();
    command->add_option("--seed,-s", o->search.seed, "Random seed of the candidates")
        ->check(seedValidator())
        ->capture_default_str();
    command->add_option("--fit", o->fit, "Make images square by padding with white or cropping")
        ->check(CLI::IsMember({"pad", "crop"}))
        ->capture_default_str();
    command
        ->add_option("--device", o->device,
                     "auto (the GPU when there is one), cpu or cuda (an error without a GPU)")
        ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
        ->capture_default_str();
    command
        ->add_option("--precision", o->precision,
                     "Number format of the search's steps: fp32, bf16 (about twice as fast on "
                     "CPUs with AVX-512 BF16 or AMX, as close), or auto: bf16 where the CPU has it "
                     "natively")
        ->check(CLI::IsMember({"auto", "fp32", "bf16"}))
        ->capture_default_str();
    addThreadsOption(*command, o->threads);
    addSheetOptions(*command, o->layout);
    return {command, [o] { runProject(*o); }};
}

}  // namespace cattery::cli
