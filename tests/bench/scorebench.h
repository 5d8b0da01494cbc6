#pragma once

#include <array>
#include <string>
#include <vector>

// The rows of cattery-bench on how steady the score that training keeps is.
namespace cattery::bench {

// Rows of (what, result, side by side) for each model: its training score against the few
// held-out cats of a 300-cat folder, over several draws of samples, taking as many samples as
// reference images against taking every sample; and the eval score on 1,000 of each.
std::vector<std::array<std::string, 3>> scoreSpreadRows(const std::vector<std::string>& models);

// Rows of (what, result, side by side) for each model on what one training score costs, for a
// folder of `folder` cats: taking a weight average's batch-norm statistics in float32 and in bf16,
// drawing the samples, and comparing them with the held-out cats; and how far the two kinds of
// statistics move the pictures and the score.
std::vector<std::array<std::string, 3>> scoreCostRows(int folder,
                                                      const std::vector<std::string>& models);

}  // namespace cattery::bench
