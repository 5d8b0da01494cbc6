#pragma once

#include <array>
#include <string>
#include <vector>

// The busy-machine rows of cattery-bench, and the child processes that measure them.
namespace cattery::bench {

// Child: trains at 64x64 in fp32 with `threads` (0: the governor) and prints "images/s R" after a
// warm-up; `forever` trains without end, as the load beside another child.
int trainChild(int threads, bool forever);
// Child: trains while another thread draws a 5x5 grid again and again, as the window does; with
// `share` the drawing keeps to one thread (TrainingShare). Prints "images/s R grid MS p90 MS".
int windowChild(bool share);
// Rows of (what, result, side by side), each measured in children of `self` (this program).
std::vector<std::array<std::string, 3>> loadRows(const std::string& self);

}  // namespace cattery::bench
