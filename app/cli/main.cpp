// cattery-cli: every file-making job of Cattery, headless. Each subcommand lives in its own file;
// this one only parses and turns errors into exit codes.
#include <filesystem>
#include <iostream>
#include <new>
#include <vector>

#include <c10/util/Exception.h>
#include <CLI/CLI.hpp>

#include "app/cli/common.h"
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
        cli::addInfo(app), cli::addSample(app),  cli::addGrid(app), cli::addArith(app),
        cli::addCats(app), cli::addPrepare(app), cli::addEval(app), cli::addTrain(app)};
    cli::checkNumbers(app);

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
    } catch (const cli::UsageError& e) {
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
    } catch (const std::bad_alloc&) {
        std::cerr << "\ncattery-cli: out of memory: the job needs more memory than this machine "
                     "can give it\n";
        return kExitBadInput;
    }
    return kExitOk;
}
