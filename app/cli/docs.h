#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace cattery::cli {

// Writes into `folder`: man1/cattery.1, man1/cattery-cli.1 and man1/cattery-cli-COMMAND.1 for
// every subcommand of `app`, and cattery-cli.bash (bash completion). Throws FileError naming a
// file that cannot be written.
void writeDocs(const CLI::App& app, const std::string& folder);

}  // namespace cattery::cli
