#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include <torch/torch.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "core/data/dataset.h"
#include "core/errors.h"

namespace cattery {
struct Model;
}

// What the subcommands of cattery-cli share: the model they run, the data they read, the sheet
// they write, and the one error that is the user's typing (exit code 2).
namespace cattery::cli {

// A malformed option value: exit code 2.
class UsageError : public Error {
public:
    using Error::Error;
};

// A subcommand's exit status when it is not 0 and the reason was told already (by the processes
// it started): main returns it and says nothing more.
class ExitStatus : public std::exception {
public:
    explicit ExitStatus(int status) : m_status(status) {}
    int status() const { return m_status; }
    const char* what() const noexcept override { return "exit status"; }

private:
    int m_status;
};

// The command line as given, kept by main for subcommands that start copies of the program.
void keepCommandLine(int argc, const char* const* argv);
const std::vector<std::string>& commandLine();

// Checks every value given on the command line that reads as a number: it must be finite
// ("nan" or "inf" is refused). Added to every option of every subcommand.
void checkNumbers(CLI::App& app);
// A seed: a whole number from 0 to 2^64 - 1, written in decimal digits alone (so "-1" or 2^70 is
// an error rather than a wrapped or clamped seed).
const CLI::Validator& seedValidator();

// A subcommand as added to the program: its parser, and what runs it once parsed.
struct Subcommand {
    CLI::App* command = nullptr;
    std::function<void()> run;
};

Subcommand addInfo(CLI::App& app);
Subcommand addSample(CLI::App& app);
Subcommand addGrid(CLI::App& app);
Subcommand addArith(CLI::App& app);
Subcommand addCats(CLI::App& app);
Subcommand addPrepare(CLI::App& app);
Subcommand addEval(CLI::App& app);
Subcommand addTrain(CLI::App& app);
Subcommand addMovie(CLI::App& app);
Subcommand addDirections(CLI::App& app);
Subcommand addProject(CLI::App& app);

// The model a subcommand runs, where, and on how many CPU threads.
struct ModelChoice {
    std::string path;  // "" for the shipped default model
    std::string device = "auto";
    int threads = 0;
};
// MODEL (positional), --device and --threads.
void addModelOptions(CLI::App& command, ModelChoice& choice);
// --threads alone.
void addThreadsOption(CLI::App& command, int& threads);
// Sets the threads up, then loads the model (the default one when no path was given).
Model openModel(const ModelChoice& choice);
// Refuses (ConfigError, exit 2) an output that is the model read; call before any work.
void checkModelOutput(const ModelChoice& choice, const std::string& out);
// The given path, or the shipped default model's; FileError listing where it looked.
std::string resolveModel(const std::string& given);

// Where the images come from: a folder, a data set file or procedural cats.
struct DataChoice {
    std::string source;  // --data
    int cats = 0;        // --cats: this many procedural cats instead
    bool recursive = false;
    std::string fit = "pad";
};
// --data (with this help), --cats, --recursive and --fit.
void addDataOptions(CLI::App& command, DataChoice& choice, const std::string& dataHelp);
// Reads them at `size` (the cats drawn with `seed`), telling `report` (when not null) what was used
// and skipped: standard error where standard output is for a program (--json); DataError when
// nothing is usable, UsageError when neither or both of --data and --cats were given.
Dataset loadData(const DataChoice& choice, int size, std::uint64_t seed,
                 std::ostream* report = &std::cout);

// How a sheet is laid out: --scale and --padding.
struct SheetLayout {
    int scale = 1;
    int padding = 2;
};
void addSheetOptions(CLI::App& command, SheetLayout& layout);
// Renders `latents` with the model and writes them as a sheet with its metadata (`extra` added).
void writeRendered(Model& model, const std::string& device, const torch::Tensor& latents,
                   const std::string& view, int columns, const SheetLayout& layout,
                   const std::string& out, const nlohmann::json& extra = nlohmann::json::object());

// "0.5,-1,2" -> three numbers; UsageError naming `option` otherwise.
std::array<float, 3> parseThree(const std::string& text, const std::string& option);
// "a;b;c;d" -> four such points, a grid's corners; UsageError naming `option` otherwise.
std::array<std::array<float, 3>, 4> parseCorners(const std::string& text,
                                                 const std::string& option);

}  // namespace cattery::cli
