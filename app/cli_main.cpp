// cattery-cli: every file-making job of Cattery, headless.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>

#include <fmt/format.h>
#include <torch/torch.h>
#include <CLI/CLI.hpp>

#include "core/data/imagefolder.h"
#include "core/data/proceduralcats.h"
#include "core/errors.h"
#include "core/io/modelfile.h"
#include "core/io/naming.h"
#include "core/io/sheet.h"
#include "core/latent/latentspace.h"
#include "core/metrics/swd.h"
#include "core/runtime/device.h"
#include "core/runtime/paths.h"
#include "core/runtime/renderer.h"
#include "core/runtime/threads.h"
#include "core/train/progress.h"
#include "core/train/resume.h"
#include "core/train/trainloop.h"

namespace {

using namespace cattery;

constexpr int kExitOk = 0;
constexpr int kExitBadInput = 1;
constexpr int kExitUsage = 2;

std::atomic<bool> g_stop{false};

void onInterrupt(int) {
    g_stop = true;
    // A second Ctrl-C ends the program at once.
    std::signal(SIGINT, SIG_DFL);
}

// A malformed option value: exit code 2.
class UsageError : public Error {
public:
    using Error::Error;
};

std::string programDir() {
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::string() : exe.parent_path().string();
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

std::array<float, 3> parseThree(const std::string& text, const std::string& option) {
    std::array<float, 3> v{};
    std::stringstream in(text);
    std::string part;
    int i = 0;
    while (std::getline(in, part, ',')) {
        if (i >= 3) {
            throw UsageError(fmt::format("{} takes three numbers, got more: '{}'", option, text));
        }
        try {
            std::size_t used = 0;
            v[static_cast<std::size_t>(i)] = std::stof(part, &used);
            if (part.find_first_not_of(" \t", used) != std::string::npos) {
                throw std::invalid_argument(part);
            }
            if (!std::isfinite(v[static_cast<std::size_t>(i)])) {
                throw std::invalid_argument(part);
            }
        } catch (const std::logic_error&) {
            throw UsageError(fmt::format("{}: '{}' is not a number", option, part));
        }
        ++i;
    }
    if (i != 3) {
        throw UsageError(
            fmt::format("{} takes three numbers separated by commas, like \"0.5,-1,2\"; got '{}'",
                        option, text));
    }
    return v;
}

SheetOptions sheetOptions(int columns, int scale, int padding) {
    SheetOptions o;
    o.columns = columns;
    o.scale = scale;
    o.padding = padding;
    return o;
}

void writeRendered(Model& model, const torch::Device& device, const torch::Tensor& latents,
                   const std::string& view, int columns, const SheetOptions& options,
                   const std::string& out, nlohmann::json extra = nlohmann::json::object()) {
    Renderer renderer(model.generator, device, 0);
    const auto images = renderer.render(latents);
    nlohmann::json meta = sheetMetadata(view, model.displayName(), latents, columns);
    for (auto& [key, value] : extra.items()) {
        meta[key] = value;
    }
    const RgbImage sheet = composeSheet(images, options);
    writePng(out, sheet, meta);
    std::cout << fmt::format("wrote {} ({} x {} pixels, {} {}x{} images)\n", out, sheet.width,
                             sheet.height, images.size(), model.arch.imageSize,
                             model.arch.imageSize);
}

// The live one-line display: rewritten in place on a terminal, a line every few seconds otherwise.
class ProgressLine {
public:
    ProgressLine(std::int64_t total, int batch)
        : m_meter(total, batch), m_tty(::isatty(STDERR_FILENO) != 0) {}

    void update(const StepStats& s) {
        m_meter.update(s);
        const auto now = std::chrono::steady_clock::now();
        const double interval = m_tty ? 0.2 : 5.0;
        if (std::chrono::duration<double>(now - m_last).count() < interval &&
            s.step != m_meter.total()) {
            return;
        }
        m_last = now;
        const std::string line = fmt::format(
            "step {}/{} | {:.1f} img/s | ETA {} | L(x) {:.4f} L(G(z)) {:.4f} | k {:.4f} | M {:.4f} "
            "| lr {:.2g}",
            s.step, m_meter.total(), m_meter.imagesPerSecond(),
            formatDuration(m_meter.etaSeconds(s.step)), s.lossReal, s.lossFake, s.k, s.convergence,
            s.learningRate);
        if (m_tty) {
            std::cerr << "\r\033[K" << line << std::flush;
        } else {
            std::cerr << line << "\n";
        }
        m_open = m_tty;
    }
    void message(const std::string& text) {
        finish();
        std::cerr << text << "\n";
    }
    void finish() {
        if (m_open) {
            std::cerr << "\n";
            m_open = false;
        }
    }

private:
    ProgressMeter m_meter;
    bool m_tty;
    bool m_open = false;
    std::chrono::steady_clock::time_point m_last{};
};

void printReport(const Dataset& d) {
    std::cout << fmt::format("{}: {} images used, {} skipped\n", d.source, d.count(),
                             d.report.skipped.size());
    for (const auto& s : d.report.skipped) {
        std::cout << fmt::format("  skipped {}: {}\n", s.path, s.reason);
    }
}

Dataset loadData(const std::string& data, int size, bool recursive, const std::string& fit,
                 int proceduralCount, std::uint64_t seed) {
    if ((proceduralCount > 0) == !data.empty()) {
        throw UsageError(
            "give either --data (a folder or data set file) or --cats (procedural cats)");
    }
    if (proceduralCount > 0) {
        return proceduralCats(proceduralCount, size, seed);
    }
    FolderOptions options;
    options.size = size;
    options.recursive = recursive;
    options.fit = fit == "crop" ? Fit::Crop : Fit::Pad;
    Dataset d = readImages(data, options);
    printReport(d);
    requireImages(d);
    return d;
}

// The model's samples, an untrained generator of the same shape, and one half of the data, each
// scored against the other half: the untrained score is the ceiling to beat, the data's the floor.
void runEval(Model& model, const torch::Device& device, const Dataset& data, int count,
             std::uint64_t seed, bool json) {
    if (data.count() < 4) {
        throw DataError(data.source,
                        fmt::format("{} images; scoring needs at least 4", data.count()));
    }
    const auto gen = torch::make_generator<at::CPUGeneratorImpl>(seed);
    const torch::Tensor order = torch::randperm(data.count(), gen, torch::kLong);
    const int64_t half = data.count() / 2;
    const int64_t n = std::min<int64_t>(count, half);
    const torch::Tensor reference = data.images.index_select(0, order.narrow(0, 0, n));
    const torch::Tensor heldOut = data.images.index_select(0, order.narrow(0, half, n));
    const double dataDistance = meanPairwiseDistance(reference, 2000, seed);
    if (dataDistance == 0.0) {
        throw DataError(data.source, "every image is the same, so there is nothing to compare");
    }
    const torch::Tensor z = sampleLatents(static_cast<int>(n), model.arch.latentDim, seed);
    torch::manual_seed(seed);
    const Generator untrained(model.arch);

    const std::vector<std::pair<std::string, torch::Tensor>> sets = {
        {"model", generateBytes(model.generator, z, device)},
        {"untrained", generateBytes(untrained, z, device)},
        {"data", heldOut}};
    SwdConfig swdConfig;
    swdConfig.seed = seed;
    nlohmann::json out = {{"model", model.displayName()},
                          {"data", data.source},
                          {"count", n},
                          {"image_size", model.arch.imageSize}};
    std::string table;
    for (const auto& [name, images] : sets) {
        const SwdResult swd = slicedWasserstein(images, reference, swdConfig);
        const double diversity = meanPairwiseDistance(images, 2000, seed) / dataDistance;
        out[name] = {{"swd", swd.average},
                     {"swd_levels", swd.perLevel},
                     {"level_sizes", swd.levelSizes},
                     {"diversity", diversity}};
        std::string levels;
        for (size_t l = 0; l < swd.perLevel.size(); ++l) {
            levels +=
                fmt::format("{}{}px {:.1f}", l ? ", " : "", swd.levelSizes[l], swd.perLevel[l]);
        }
        table +=
            fmt::format("{:<10} SWD x1e3 {:7.1f} ({})  diversity {:.2f}{}\n", name, swd.average,
                        levels, diversity, diversity < kCollapsedDiversity ? "  COLLAPSED" : "");
    }
    if (json) {
        std::cout << out.dump(2) << "\n";
        return;
    }
    std::cout << fmt::format(
        "{} ({}x{}) against {} held-out images of {}\n"
        "SWD: lower is closer to the data; diversity: pairwise distance over the data's (1 = as "
        "varied, below {} = collapsed)\n",
        model.displayName(), model.arch.imageSize, model.arch.imageSize, n, data.source,
        kCollapsedDiversity);
    std::cout << table;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "cattery-cli: sample, morph, combine and train generative models of cartoon cats.\n"
        "MODEL may be left out to use the shipped default model."};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("cattery-cli ") + CATTERY_VERSION);

    // info
    std::string infoModel;
    auto* info =
        app.add_subcommand("info", "Show a model's architecture, latent space and provenance");
    info->add_option("model", infoModel, "Model file (.cattery)");

    // sample
    std::string sampleModel, sampleOut;
    int sampleCount = 25, sampleColumns = 0, scale = 1, padding = 2;
    std::uint64_t sampleSeed = 1;
    double truncation = 0.0;
    auto* sample = app.add_subcommand("sample", "Write a sheet of random samples");
    sample->add_option("model", sampleModel, "Model file (.cattery)");
    sample->add_option("--count,-n", sampleCount, "How many samples")->check(CLI::Range(1, 1024));
    sample->add_option("--seed,-s", sampleSeed, "Random seed: the same seed gives the same sheet");
    sample
        ->add_option(
            "--truncation,-t", truncation,
            "Redraw latent values beyond this magnitude (smaller: fewer malformed cats; 0: off)")
        ->check(CLI::Range(0.0, 100.0));
    sample->add_option("--columns", sampleColumns, "Images per row (0: near-square)")
        ->check(CLI::Range(0, 1024));
    sample->add_option("--out,-o", sampleOut,
                       "Output PNG sheet (default: MODEL-samples.png here, never overwriting)");

    // grid
    std::string gridModel, gridOut, corners = "-1.5,1,0.5;1.5,0.5,-1;-0.5,-1.5,1;1,-1,-1.5";
    int gridSize = 5;
    bool slerp = false;
    auto* grid = app.add_subcommand("grid", "Write the morph grid between four corners");
    grid->add_option("model", gridModel, "Model file (.cattery)");
    grid->add_option("--corners", corners,
                     "Four corners of three numbers each: \"a,b,c;d,e,f;g,h,i;j,k,l\" "
                     "(top-left; top-right; bottom-left; bottom-right)");
    grid->add_option("--size", gridSize, "Cells per side")->check(CLI::Range(2, 32));
    grid->add_flag("--slerp", slerp, "Spherical instead of linear interpolation");
    grid->add_option("--out,-o", gridOut, "Output PNG sheet")->required();

    // arith
    std::string arithModel, arithOut, va = "1,0.5,-0.5", vb = "-0.5,1,0", vc = "0,-1,1";
    auto* arith = app.add_subcommand("arith", "Write A, B, C and A - B + C");
    arith->add_option("model", arithModel, "Model file (.cattery)");
    arith->add_option("--a", va, "Three numbers for A");
    arith->add_option("--b", vb, "Three numbers for B");
    arith->add_option("--c", vc, "Three numbers for C");
    arith->add_option("--out,-o", arithOut, "Output PNG sheet")->required();

    for (auto* cmd : {sample, grid, arith}) {
        cmd->add_option("--scale", scale, "Enlarge each image (nearest neighbour)")
            ->check(CLI::Range(1, 8));
        cmd->add_option("--padding", padding, "Pixels between images")->check(CLI::Range(0, 64));
    }

    // cats
    int catCount = 64, catSize = 64;
    std::uint64_t catSeed = 1;
    std::string catOut, catSheet;
    auto* cats = app.add_subcommand("cats", "Draw procedural cartoon cats into a folder of PNGs");
    cats->add_option("--count,-n", catCount, "How many cats")->check(CLI::Range(1, 1000000));
    cats->add_option("--size", catSize, "Width and height in pixels")->check(CLI::Range(8, 1024));
    cats->add_option("--seed,-s", catSeed, "Random seed: the same seed draws the same cats");
    cats->add_option("--out,-o", catOut, "Output folder")->required();
    cats->add_option("--sheet", catSheet, "Also write a contact sheet of them to this PNG");

    // prepare
    std::string prepData, prepOut, fit = "pad";
    int prepSize = 64;
    bool recursive = false;
    auto* prepare = app.add_subcommand("prepare", "Read a folder of images into one data set file");
    prepare->add_option("--data,-d", prepData, "Folder of images");
    prepare->add_option("--seed", catSeed, "Seed of the procedural cats (with --cats)");
    prepare->add_option("--out,-o", prepOut, "Output data set file")->required();
    prepare->add_option("--size", prepSize, "Image size in pixels")->check(CLI::Range(8, 1024));

    // eval
    std::string evalModel, evalData;
    int evalCount = 2048;
    std::uint64_t evalSeed = 1;
    bool evalJson = false;
    auto* eval = app.add_subcommand(
        "eval", "Score a model against images: sliced Wasserstein distance and diversity");
    eval->add_option("model", evalModel, "Model file (.cattery)");
    eval->add_option("--data,-d", evalData, "Folder of images, or a data set file from 'prepare'");
    eval->add_option("--count,-n", evalCount, "Samples to score (at most half the images)")
        ->check(CLI::Range(2, 100000));
    eval->add_option("--seed,-s", evalSeed, "Seed of the samples, patches and data split");
    eval->add_flag("--json", evalJson, "Print the figures as JSON");
    eval->add_option("--cat-seed", catSeed,
                     "Seed of the procedural cats (with --cats; use another than training's)");

    // train
    ArchConfig archConfig;
    TrainConfig trainConfig;
    std::string trainData, trainOut, resume, device = "auto", samplesDir, checkpointPath;
    std::string precision = "auto";
    bool noFlip = false, noBatchNorm = false, noZSkip = false;
    auto* train =
        app.add_subcommand("train", "Train a BEGAN on a folder of images (Ctrl-C saves and stops)");
    train->add_option("--data,-d", trainData,
                      "Folder of images, or a data set file from 'prepare'");
    train->add_option("--out,-o", trainOut,
                      "Output model file (.cattery); a checkpoint goes beside it (default: named "
                      "after the data, here, never overwriting)");
    train->add_option("--resume", resume, "Continue the run saved in this checkpoint");
    train->add_option("--device", device, "auto, cpu or cuda")
        ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
    train->add_option("--samples", samplesDir, "Folder for sample sheets written as training goes");
    train->add_option("--checkpoint", checkpointPath, "Checkpoint file (default: beside --out)");
    std::string modelName;
    train->add_option("--name", modelName,
                      "Display name stored in the model (default: the file name)");
    train->add_option("--size", archConfig.imageSize, "Image size: 32, 48, 64, 80, 96 or 128")
        ->capture_default_str();
    train->add_option("--latent", archConfig.latentDim, "Latent dimension (3 to 512)")
        ->capture_default_str();
    train->add_option("--nf", archConfig.nf, "Generator width")->capture_default_str();
    train->add_option("--ndf", archConfig.ndf, "Discriminator filters per layer")
        ->capture_default_str();
    train->add_option("--bottleneck", archConfig.bottleneck, "Discriminator code size")
        ->capture_default_str();
    train->add_option("--repeats", archConfig.repeats, "Convolutions per stage")
        ->capture_default_str();
    train->add_flag("--separable", archConfig.separable, "Depthwise-separable convolutions");
    train->add_flag("--no-batch-norm", noBatchNorm, "No batch norm in the generator");
    train->add_flag("--no-z-skip", noZSkip, "No z map concatenated after each generator stage");
    train->add_option("--steps", trainConfig.steps, "Steps in all")->capture_default_str();
    train->add_option("--batch", trainConfig.batchSize, "Batch size")->capture_default_str();
    train->add_option("--lr", trainConfig.learningRate, "Learning rate")->capture_default_str();
    train
        ->add_option("--lr-d-scale", trainConfig.discriminatorLrScale,
                     "The discriminator's learning rate as a multiple of --lr")
        ->capture_default_str();
    train->add_option("--beta1", trainConfig.beta1, "Adam beta1")->capture_default_str();
    train->add_option("--beta2", trainConfig.beta2, "Adam beta2")->capture_default_str();
    train->add_option("--gamma", trainConfig.gamma, "BEGAN gamma")->capture_default_str();
    train->add_option("--lambda-k", trainConfig.lambdaK, "BEGAN lambda_k")->capture_default_str();
    train
        ->add_option("--lr-halve-every", trainConfig.lrHalveEvery,
                     "Halve the learning rate every N steps (0: never)")
        ->capture_default_str();
    train
        ->add_option("--lr-stall", trainConfig.lrStallSteps,
                     "Halve it when M stalls for N steps (0: never)")
        ->capture_default_str();
    train->add_option("--min-lr", trainConfig.minLearningRate, "Lowest learning rate")
        ->capture_default_str();
    train->add_option("--sample-every", trainConfig.sampleEvery, "Sample sheet every N steps")
        ->capture_default_str();
    train->add_option("--sample-count", trainConfig.sampleCount, "Fixed sample latents")
        ->capture_default_str();
    train->add_option("--checkpoint-every", trainConfig.checkpointEvery, "Checkpoint every N steps")
        ->capture_default_str();
    train->add_option("--seed", trainConfig.seed, "Random seed")->capture_default_str();
    train
        ->add_option("--average", trainConfig.averageDecay,
                     "The model is a running average of the generator's weights with this "
                     "decay per step (0: the last step's weights)")
        ->capture_default_str();
    train
        ->add_option("--precision", precision,
                     "fp32, bf16 (convolutions in bfloat16: several times faster on CPUs with "
                     "AVX-512 BF16 or AMX), or auto: bf16 where the CPU has it natively")
        ->check(CLI::IsMember({"auto", "fp32", "bf16"}))
        ->capture_default_str();
    train->add_flag("--no-flip", noFlip, "No horizontal flips");
    train
        ->add_option("--rotate", trainConfig.augment.rotateDegrees,
                     "Random rotation, degrees (0: off)")
        ->capture_default_str();
    train
        ->add_option("--scale-jitter", trainConfig.augment.scaleJitter,
                     "Random zoom fraction (0: off)")
        ->capture_default_str();
    train->add_option("--shift", trainConfig.augment.shift, "Random shift fraction (0: off)")
        ->capture_default_str();

    std::string modelDevice = "auto";
    for (auto* cmd : {sample, grid, arith, eval}) {
        cmd->add_option("--device", modelDevice,
                        "auto (the GPU when there is one), cpu or cuda (an error without a GPU)")
            ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
            ->capture_default_str();
    }
    int threads = 0;
    for (auto* cmd : {sample, grid, arith, train, eval}) {
        cmd->add_option("--threads", threads,
                        "CPU threads for the model (0: the CPUs this process may use; while "
                        "training, fewer when other programs keep some busy)")
            ->check(CLI::Range(0, 1024))
            ->capture_default_str();
    }

    int proceduralCount = 0;
    for (auto* cmd : {prepare, train, eval}) {
        cmd->add_option("--cats", proceduralCount,
                        "Draw this many procedural cats instead of reading --data")
            ->check(CLI::Range(1, 1000000));
        cmd->add_flag("--recursive,-r", recursive, "Read subfolders too");
        cmd->add_option("--fit", fit, "Make images square by padding with white or cropping")
            ->check(CLI::IsMember({"pad", "crop"}));
    }

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return kExitUsage;
    }

    try {
        configureThreads(threads);
        if (*info) {
            const Model model = loadModel(resolveModel(infoModel));
            std::cout << describeModel(model);
        } else if (*sample) {
            const std::string modelPath = resolveModel(sampleModel);
            Model model = loadModel(modelPath);
            if (sampleOut.empty()) {
                sampleOut = unusedPath(stemOf(modelPath) + "-samples", ".png");
            }
            const torch::Tensor z =
                sampleLatents(sampleCount, model.arch.latentDim, sampleSeed, truncation);
            const int columns = sampleColumns > 0 ? sampleColumns : 0;
            writeRendered(model, chooseDevice(modelDevice), z, "batch", columns,
                          sheetOptions(columns, scale, padding), sampleOut,
                          {{"seed", sampleSeed}, {"truncation", truncation}});
        } else if (*grid) {
            Model model = loadModel(resolveModel(gridModel));
            std::array<torch::Tensor, 4> c;
            std::stringstream in(corners);
            std::string part;
            int i = 0;
            nlohmann::json cornerJson = nlohmann::json::array();
            while (std::getline(in, part, ';')) {
                if (i >= 4) {
                    throw UsageError("--corners takes exactly four corners separated by ';'");
                }
                const auto v = parseThree(part, fmt::format("--corners (corner {})", i + 1));
                c[static_cast<std::size_t>(i++)] = model.latent.fromThree(v);
                cornerJson.push_back(v);
            }
            if (i != 4) {
                throw UsageError("--corners takes exactly four corners separated by ';'");
            }
            const torch::Tensor z =
                cornerGrid(c, gridSize, slerp ? Interpolation::Spherical : Interpolation::Linear);
            writeRendered(model, chooseDevice(modelDevice), z, "grid", gridSize,
                          sheetOptions(gridSize, scale, padding), gridOut,
                          {{"corners", cornerJson}, {"interpolation", slerp ? "slerp" : "lerp"}});
        } else if (*arith) {
            Model model = loadModel(resolveModel(arithModel));
            const auto a = model.latent.fromThree(parseThree(va, "--a"));
            const auto b = model.latent.fromThree(parseThree(vb, "--b"));
            const auto c = model.latent.fromThree(parseThree(vc, "--c"));
            const torch::Tensor z = torch::stack({a, b, c, arithmetic(a, b, c)});
            writeRendered(model, chooseDevice(modelDevice), z, "arith", 4,
                          sheetOptions(4, scale, padding), arithOut);
        } else if (*cats) {
            std::filesystem::create_directories(catOut);
            std::vector<RgbImage> drawn;
            for (int i = 0; i < catCount; ++i) {
                RgbImage cat = drawCat(catSize, catSeed, static_cast<std::uint64_t>(i));
                writePng((std::filesystem::path(catOut) / fmt::format("cat-{:06}.png", i)).string(),
                         cat);
                if (!catSheet.empty() && drawn.size() < 256) {
                    drawn.push_back(std::move(cat));
                }
            }
            std::cout << fmt::format("wrote {} cats of {}x{} to {}\n", catCount, catSize, catSize,
                                     catOut);
            if (!catSheet.empty()) {
                writeSheet(catSheet, drawn, SheetOptions{});
                std::cout << fmt::format("wrote {}\n", catSheet);
            }
        } else if (*prepare) {
            const auto start = std::chrono::steady_clock::now();
            Dataset d = loadData(prepData, prepSize, recursive, fit, proceduralCount, catSeed);
            saveDataset(prepOut, d);
            const double seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            std::cout << fmt::format("wrote {} ({} images of {}x{}, hash {}, {:.0f} images/s)\n",
                                     prepOut, d.count(), prepSize, prepSize, d.hash,
                                     d.count() / std::max(seconds, 1e-9));
        } else if (*eval) {
            Model model = loadModel(resolveModel(evalModel));
            runEval(
                model, chooseDevice(modelDevice),
                loadData(evalData, model.arch.imageSize, recursive, fit, proceduralCount, catSeed),
                evalCount, evalSeed, evalJson);
        } else if (*train) {
            archConfig.batchNorm = !noBatchNorm;
            archConfig.zSkip = !noZSkip;
            trainConfig.augment.flip = !noFlip;
            validate(archConfig);
            validate(trainConfig);
            const torch::Device dev = chooseDevice(device);
            trainConfig.precision = choosePrecision(precision, dev);
            const std::int64_t steps = trainConfig.steps;
            std::optional<Trainer> trainer;
            if (!resume.empty()) {
                const Container head = readContainer(resume);
                const int size = Trainer::imageSize(head, archConfig.imageSize);
                trainer.emplace(Trainer::resume(
                    head, resume,
                    loadData(trainData, size, recursive, fit, proceduralCount, trainConfig.seed),
                    dev));
                // The length, the learning rates, the halving interval, the precision and the
                // augmentation may change on resume (a run is often continued more gently);
                // everything else comes from the checkpoint.
                const auto given = [train](const char* option) {
                    return train->get_option(option)->count() > 0;
                };
                ResumeChanges changes;
                if (given("--steps")) {
                    changes.steps = steps;
                }
                if (given("--lr")) {
                    changes.learningRate = trainConfig.learningRate;
                }
                if (given("--lr-d-scale")) {
                    changes.discriminatorLrScale = trainConfig.discriminatorLrScale;
                }
                if (given("--lr-halve-every")) {
                    changes.lrHalveEvery = trainConfig.lrHalveEvery;
                }
                if (given("--precision")) {
                    changes.precision = trainConfig.precision;
                }
                if (given("--no-flip")) {
                    changes.flip = false;
                }
                if (given("--rotate")) {
                    changes.rotateDegrees = trainConfig.augment.rotateDegrees;
                }
                if (given("--scale-jitter")) {
                    changes.scaleJitter = trainConfig.augment.scaleJitter;
                }
                if (given("--shift")) {
                    changes.shift = trainConfig.augment.shift;
                }
                applyResumeChanges(*trainer, changes);
                std::cerr << describeResume(*trainer, resume) << "\n";
                if (const std::string w = resumeDataWarning(head, trainer->dataset()); !w.empty()) {
                    std::cerr << "warning: " << w << "\n";
                }
            } else {
                trainer.emplace(archConfig, trainConfig,
                                loadData(trainData, archConfig.imageSize, recursive, fit,
                                         proceduralCount, trainConfig.seed),
                                dev);
            }
            if (!modelName.empty()) {
                trainer->setName(modelName);
            }
            std::cerr << fmt::format("training {} on {} images from {} on {}, {}\n",
                                     describe(trainer->arch()), trainer->dataset().count(),
                                     trainer->dataset().source, describeDevice(dev),
                                     precisionName(trainer->config().precision));
            if (trainer->config().precision == Precision::BFloat16 && dev.is_cpu() &&
                !cpuHasNativeBf16()) {
                std::cerr << "warning: this CPU has no native bf16 (AVX-512 BF16 or AMX), so bf16 "
                             "is emulated and slower than fp32\n";
            }
            if (trainOut.empty()) {
                const std::string stem = !resume.empty()      ? stemOf(resume)
                                         : !trainData.empty() ? stemOf(trainData)
                                                              : std::string("procedural-cats");
                trainOut = unusedPath(stem, ".cattery", checkpointPathFor);
                std::cout << fmt::format("the model will be written to {}\n", trainOut);
            }
            LoopOptions options;
            options.modelPath = trainOut;
            options.threads = threads;
            options.checkpointPath =
                checkpointPath.empty() ? checkpointPathFor(trainOut) : checkpointPath;
            ProgressLine progress(trainer->config().steps, trainer->config().batchSize);
            LoopCallbacks callbacks;
            callbacks.onStep = [&](const StepStats& s) { progress.update(s); };
            callbacks.onWarning = [&](const std::string& w) { progress.message("warning: " + w); };
            if (!samplesDir.empty()) {
                std::filesystem::create_directories(samplesDir);
                callbacks.onSamples = [&](std::int64_t step, const torch::Tensor& images) {
                    writeSheet(samplesSheetPath(samplesDir, step), toImages(images),
                               SheetOptions{});
                };
            }
            std::signal(SIGINT, onInterrupt);
            std::signal(SIGTERM, onInterrupt);
            const LoopEnd end = runTraining(*trainer, options, callbacks, g_stop);
            progress.finish();
            std::cout << fmt::format("{} at step {}: wrote {} and {}\n",
                                     end == LoopEnd::Stopped ? "stopped" : "finished",
                                     trainer->stepCount(), options.modelPath,
                                     options.checkpointPath);
        }
    } catch (const UsageError& e) {
        std::cerr << "cattery-cli: " << e.what() << "\nRun with --help for more information.\n";
        return kExitUsage;
    } catch (const ConfigError& e) {
        std::cerr << "cattery-cli: " << e.what() << "\n";
        return kExitUsage;
    } catch (const Error& e) {
        std::cerr << "\ncattery-cli: " << e.what() << "\n";
        return kExitBadInput;
    } catch (const std::filesystem::filesystem_error& e) {
        std::cerr << "\ncattery-cli: " << e.what() << "\n";
        return kExitBadInput;
    } catch (const c10::Error& e) {
        std::cerr << "\ncattery-cli: the model failed: " << e.what_without_backtrace() << "\n";
        return kExitBadInput;
    }
    return kExitOk;
}
