// cattery-cli: every file-making job of Cattery, headless. Each subcommand lives in its own file;
// this one only parses and turns errors into exit codes.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <new>
#include <string_view>
#include <vector>

#include <c10/util/Exception.h>
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "app/cli/common.h"
#include "app/cli/docs.h"
#include "core/errors.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitBadInput = 1;
constexpr int kExitUsage = 2;

}  // namespace

int main(int argc, char** argv) {
    using namespace cattery;
    CLI::App app{
        "cattery-cli: sample, morph, combine and train generative models of cartoon cats.\n"
        "MODEL may be left out to use the shipped default model."};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("cattery-cli ") + CATTERY_VERSION);
    const std::vector<cli::Subcommand> subcommands = {
        cli::addInfo(app),  cli::addSample(app),     cli::addGrid(app),   cli::addArith(app),
        cli::addCats(app),  cli::addPrepare(app),    cli::addEval(app),   cli::addTrain(app),
        cli::addMovie(app), cli::addDirections(app), cli::addProject(app)};
    cli::checkNumbers(app);
    // At build time: the manual pages and the bash completion, from the definitions above.
    if (argc == 3 && std::string_view(argv[1]) == "--write-docs") {
        try {
            cli::writeDocs(app, argv[2]);
            return kExitOk;
        } catch (const std::exception& e) {
            std::cerr << "cattery-cli: " << e.what() << "\n";
            return kExitBadInput;
        }
    }
    cli::keepCommandLine(argc, argv);
    // One of several processes training together says which it is in what it prints.
    const char* rank = std::getenv("RANK");
    const std::string name =
        rank != nullptr && std::string_view(rank) != "0" && std::getenv("WORLD_SIZE") != nullptr
            ? fmt::format("cattery-cli (rank {})", briefly(rank, 8))
            : std::string("cattery-cli");

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
        for (const cli::Subcommand& s : subcommands) {
            if (s.command->parsed()) {
                s.run();
            }
        }
    } catch (const cli::ExitStatus& e) {
        return e.status();
    } catch (const cli::UsageError& e) {
        std::cerr << name << ": " << e.what() << "\nRun with --help for more information.\n";
        return kExitUsage;
    } catch (const ConfigError& e) {
        std::cerr << name << ": " << e.what() << "\n";
        return kExitUsage;
    } catch (const Error& e) {
        std::cerr << "\n" << name << ": " << e.what() << "\n";
        return kExitBadInput;
    } catch (const std::filesystem::filesystem_error& e) {
        std::cerr << "\n" << name << ": " << e.what() << "\n";
        return kExitBadInput;
    } catch (const c10::Error& e) {
        std::cerr << "\n" << name << ": the model failed: " << e.what_without_backtrace() << "\n";
        return kExitBadInput;
    } catch (const std::bad_alloc&) {
        std::cerr << "\n"
                  << name
                  << ": out of memory: the job needs more memory than this machine "
                     "can give it\n";
        return kExitBadInput;
    }
    return kExitOk;
}
