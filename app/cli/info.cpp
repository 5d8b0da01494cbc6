// cattery-cli info: a model's architecture, latent space and provenance.
#include <iostream>
#include <memory>

#include "app/cli/common.h"
#include "core/io/modelfile.h"

namespace cattery::cli {

Subcommand addInfo(CLI::App& app) {
    auto model = std::make_shared<std::string>();
    auto* command =
        app.add_subcommand("info", "Show a model's architecture, latent space and provenance");
    command->add_option("model", *model, "Model file (.cattery)");
    return {command, [model] { std::cout << describeModel(loadModel(resolveModel(*model))); }};
}

}  // namespace cattery::cli
