#pragma once

#include <array>
#include <string>
#include <vector>

// The rows of cattery-bench on training in several processes (c10d over Gloo), and the child that
// measures them.
namespace cattery::bench {

// Child: one of the processes of a world (from the environment) training at 64x64 in fp32 with a
// batch of 16 in all and one thread; rank 0 writes what it measured as JSON to `resultPath`.
int worldChild(const std::string& resultPath);
// Rows of (what, result, side by side): 1 process with every usable thread against as many
// processes with one thread each, at the same batch, and the all-reduce's share of a step.
std::vector<std::array<std::string, 3>> worldRows(const std::string& self);

}  // namespace cattery::bench
