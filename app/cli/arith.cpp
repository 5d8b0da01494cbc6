// cattery-cli arith: A, B, C and A - B + C.
#include <memory>

#include "app/cli/common.h"
#include "core/io/modelfile.h"
#include "core/latent/latentspace.h"

namespace cattery::cli {
namespace {

struct ArithOptions {
    ModelChoice model;
    SheetLayout layout;
    std::string a = "1,0.5,-0.5";
    std::string b = "-0.5,1,0";
    std::string c = "0,-1,1";
    std::string out;
};

void runArith(const ArithOptions& o) {
    checkModelOutput(o.model, o.out);
    Model model = openModel(o.model);
    const auto a = model.latent.fromThree(parseThree(o.a, "--a"));
    const auto b = model.latent.fromThree(parseThree(o.b, "--b"));
    const auto c = model.latent.fromThree(parseThree(o.c, "--c"));
    const torch::Tensor z = torch::stack({a, b, c, arithmetic(a, b, c)});
    writeRendered(model, o.model.device, z, "arith", 4, o.layout, o.out);
}

}  // namespace

Subcommand addArith(CLI::App& app) {
    auto o = std::make_shared<ArithOptions>();
    auto* command = app.add_subcommand("arith", "Write A, B, C and A - B + C");
    addModelOptions(*command, o->model);
    command->add_option("--a", o->a, "Three numbers for A");
    command->add_option("--b", o->b, "Three numbers for B");
    command->add_option("--c", o->c, "Three numbers for C");
    command->add_option("--out,-o", o->out, "Output PNG sheet")->required();
    addSheetOptions(*command, o->layout);
    return {command, [o] { runArith(*o); }};
}

}  // namespace cattery::cli
