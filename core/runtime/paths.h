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

}  // namespace cattery
