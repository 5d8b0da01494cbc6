// cattery-cli movie: a morph movie around the grid's corners, or along a path of points.
#include <unistd.h>

#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "app/cli/common.h"
#include "core/io/modelfile.h"
#include "core/io/movie.h"
#include "core/latent/latentspace.h"
#include "core/latent/threetext.h"
#include "core/runtime/device.h"
#include "core/runtime/renderer.h"

namespace cattery::cli {
namespace {

// The most points a path may name.
constexpr std::size_t kMostPathPoints = 256;

struct MovieCliOptions {
    ModelChoice model;
    std::string corners = "-1.5,1,0.5;1.5,0.5,-1;-0.5,-1.5,1;1,-1,-1.5";
    std::string path;
    int frames = 60;
    bool slerp = false;
    MovieOptions movie;
    std::string out;
};

void runMovie(const MovieCliOptions& o, bool cornersGiven) {
    if (cornersGiven && !o.path.empty()) {
        throw UsageError("give --corners (a loop around the grid) or --path, not both");
    }
    std::vector<Three> points;
    try {
        points = o.path.empty() ? std::vector<Three>{}
                                : parsePoints(o.path, "--path", 2, kMostPathPoints);
    } catch (const ConfigError& e) {
        throw UsageError(e.what());
    }
    const auto corners = parseCorners(o.corners, "--corners");
    checkModelOutput(o.model, o.out);
    Model model = openModel(o.model);
    const Interpolation mode = o.slerp ? Interpolation::Spherical : Interpolation::Linear;
    torch::Tensor latents;
    if (points.empty()) {
        std::array<torch::Tensor, 4> z;
        for (std::size_t i = 0; i < z.size(); ++i) {
            z[i] = model.latent.fromThree(corners[i]);
        }
        latents = cornerLoop(z, o.frames, mode);
    } else {
        std::vector<torch::Tensor> z;
        for (const Three& p : points) {
            z.push_back(model.latent.fromThree(p));
        }
        latents = loopPath(torch::stack(z), o.frames, mode);
    }
    Renderer renderer(model.generator, chooseDevice(o.model.device), 0);
    const bool tty = ::isatty(STDERR_FILENO) != 0;
    writeMovie(o.out, renderer, model.arch.imageSize, latents, o.movie,
               [tty](std::size_t done, std::size_t total) {
                   if (tty) {
                       std::cerr << fmt::format("\r\033[K{} of {} frames drawn and written",
                                                done / 2, total / 2)
                                 << std::flush;
                   }
                   return true;
               });
    if (tty) {
        std::cerr << "\n";
    }
    const auto frames = latents.size(0);
    std::cout << fmt::format("wrote {}: {} frames of {}x{} at {:g} frames/s ({:.1f} s)\n", o.out,
                             frames, model.arch.imageSize * o.movie.scale,
                             model.arch.imageSize * o.movie.scale, o.movie.fps,
                             static_cast<double>(frames) / o.movie.fps);
}

}  // namespace

Subcommand addMovie(CLI::App& app) {
    auto o = std::make_shared<MovieCliOptions>();
    auto* command = app.add_subcommand(
        "movie", "Write a morph movie (MP4): around the grid's four corners, or along a path");
    addModelOptions(*command, o->model);
    auto* corners = command->add_option(
        "--corners", o->corners,
        "Four corners of three numbers each, as for grid: the movie goes top-left, top-right, "
        "bottom-right, bottom-left and back");
    command->add_option("--path", o->path,
                        "Instead of corners, two or more points of three numbers each "
                        "(\"a,b,c;d,e,f;...\"), visited in turn and back to the first");
    command->add_option("--frames", o->frames, "Frames from one point to the next")
        ->check(CLI::Range(1, kMostFramesPerLeg))
        ->capture_default_str();
    command->add_flag("--slerp", o->slerp, "Spherical instead of linear interpolation");
    command->add_option("--fps", o->movie.fps, "Frames per second")
        ->check(CLI::Range(1.0, 120.0))
        ->capture_default_str();
    command->add_option("--scale", o->movie.scale, "Enlarge each frame (nearest neighbour)")
        ->check(CLI::Range(1, 8))
        ->capture_default_str();
    command->add_option("--out,-o", o->out, "Output video (.mp4)")->required();
    return {command, [o, corners] { runMovie(*o, corners->count() > 0); }};
}

}  // namespace cattery::cli
