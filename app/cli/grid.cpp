// cattery-cli grid: the morph grid between four corners.
#include <memory>

#include <fmt/format.h>

#include "app/cli/common.h"
#include "core/io/modelfile.h"
#include "core/latent/latentspace.h"

namespace cattery::cli {
namespace {

struct GridOptions {
    ModelChoice model;
    SheetLayout layout;
    std::string corners = "-1.5,1,0.5;1.5,0.5,-1;-0.5,-1.5,1;1,-1,-1.5";
    int size = 5;
    bool slerp = false;
    std::string out;
};

void runGrid(const GridOptions& o) {
    checkModelOutput(o.model, o.out);
    Model model = openModel(o.model);
    std::array<torch::Tensor, 4> corners;
    nlohmann::json cornerJson = nlohmann::json::array();
    const auto three = parseCorners(o.corners, "--corners");
    for (std::size_t i = 0; i < corners.size(); ++i) {
        corners[i] = model.latent.fromThree(three[i]);
        cornerJson.push_back(three[i]);
    }
    const torch::Tensor z =
        cornerGrid(corners, o.size, o.slerp ? Interpolation::Spherical : Interpolation::Linear);
    writeRendered(model, o.model.device, z, "grid", o.size, o.layout, o.out,
                  {{"corners", cornerJson}, {"interpolation", o.slerp ? "slerp" : "lerp"}});
}

}  // namespace

Subcommand addGrid(CLI::App& app) {
    auto o = std::make_shared<GridOptions>();
    auto* command = app.add_subcommand("grid", "Write the morph grid between four corners");
    addModelOptions(*command, o->model);
    command->add_option("--corners", o->corners,
                        "Four corners of three numbers each: \"a,b,c;d,e,f;g,h,i;j,k,l\" "
                        "(top-left; top-right; bottom-left; bottom-right)");
    command->add_option("--size", o->size, "Cells per side")->check(CLI::Range(2, 32));
    command->add_flag("--slerp", o->slerp, "Spherical instead of linear interpolation");
    command->add_option("--out,-o", o->out, "Output PNG sheet")->required();
    addSheetOptions(*command, o->layout);
    return {command, [o] { runGrid(*o); }};
}

}  // namespace cattery::cli
