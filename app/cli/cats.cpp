// cattery-cli cats: procedural cartoon cats as a folder of PNGs.
#include <filesystem>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "app/cli/common.h"
#include "core/data/proceduralcats.h"
#include "core/io/outputs.h"
#include "core/io/sheet.h"

namespace cattery::cli {
namespace {

constexpr std::size_t kSheetMost = 256;  // cats on the contact sheet at most

struct CatsOptions {
    int count = 64;
    int size = 64;
    std::uint64_t seed = 1;
    std::string out;
    std::string sheet;
};

void runCats(const CatsOptions& o) {
    checkOutputs({}, {{"--out", o.out}, {"--sheet", o.sheet}});
    std::filesystem::create_directories(o.out);
    std::vector<RgbImage> drawn;
    for (int i = 0; i < o.count; ++i) {
        RgbImage cat = drawCat(o.size, o.seed, static_cast<std::uint64_t>(i));
        writePng((std::filesystem::path(o.out) / fmt::format("cat-{:06}.png", i)).string(), cat);
        if (!o.sheet.empty() && drawn.size() < kSheetMost) {
            drawn.push_back(std::move(cat));
        }
    }
    std::cout << fmt::format("wrote {} cats of {}x{} to {}\n", o.count, o.size, o.size, o.out);
    if (!o.sheet.empty()) {
        writeSheet(o.sheet, drawn, SheetOptions{});
        std::cout << fmt::format("wrote {}\n", o.sheet);
    }
}

}  // namespace

Subcommand addCats(CLI::App& app) {
    auto o = std::make_shared<CatsOptions>();
    auto* command =
        app.add_subcommand("cats", "Draw procedural cartoon cats into a folder of PNGs");
    command->add_option("--count,-n", o->count, "How many cats")->check(CLI::Range(1, 1000000));
    command->add_option("--size", o->size, "Width and height in pixels")
        ->check(CLI::Range(8, 1024));
    command->add_option("--seed,-s", o->seed, "Random seed: the same seed draws the same cats")
        ->check(seedValidator());
    command->add_option("--out,-o", o->out, "Output folder")->required();
    command->add_option("--sheet", o->sheet, "Also write a contact sheet of them to this PNG");
    return {command, [o] { runCats(*o); }};
}

}  // namespace cattery::cli
