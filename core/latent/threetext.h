#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

// Points of the three-number space typed as text, as `cattery-cli` takes them: free of LibTorch,
// so that the parser can be checked alone (and fuzzed).
namespace cattery {

using Three = std::array<float, 3>;

// "0.5,-1,2" -> {0.5, -1, 2}: three finite numbers separated by commas, spaces around each
// allowed, read the same in every locale. Throws ConfigError naming `what` otherwise.
Three parseThree(std::string_view text, const std::string& what);
// "a;b;...": `least` to `most` such points (each named `noun` and its number in errors), a path.
// Throws ConfigError naming `what`.
std::vector<Three> parsePoints(std::string_view text, const std::string& what, std::size_t least,
                               std::size_t most, const std::string& noun = "point");
// "a;b;c;d": four such points, the corners of a grid. Throws ConfigError naming `what`.
std::array<Three, 4> parseCorners(std::string_view text, const std::string& what);

}  // namespace cattery
