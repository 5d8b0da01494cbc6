#pragma once

#include <optional>
#include <string>
#include <vector>

namespace cattery {

// Folders searched for the shipped models, in order: $CATTERY_MODELS, beside the installed
// program (../share/cattery/models), and the source tree the program was built from.
std::vector<std::string> modelSearchDirs(const std::string& programDir);
// The model the program opens when none is named ("chubby.cattery" first, else any .cattery).
std::optional<std::string> defaultModelPath(const std::string& programDir);
// Every .cattery model file in the search folders, without checkpoints, sorted by name.
std::vector<std::string> shippedModels(const std::string& programDir);

// cattery-cli, which the window starts for the other processes of a training: $CATTERY_CLI when
// set, else the one beside the program. Throws FileError when it is not an executable file.
std::string cliProgramPath(const std::string& programDir);

}  // namespace cattery
