#include "core/latent/threetext.h"

#include <charconv>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "core/errors.h"

namespace cattery {
namespace {

std::string_view trimmed(std::string_view s) {
    const auto first = s.find_first_not_of(" \t");
    if (first == std::string_view::npos) {
        return {};
    }
    return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

}  // namespace

Three parseThree(std::string_view text, const std::string& what) {
    Three v{};
    std::size_t count = 0;
    std::size_t start = 0;
    while (true) {
        const std::size_t comma = text.find(',', start);
        const std::string_view raw = text.substr(
            start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        if (count >= 3) {
            throw ConfigError(
                fmt::format("{} takes three numbers, got more: '{}'", what, briefly(text)));
        }
        std::string_view part = trimmed(raw);
        if (!part.empty() && part.front() == '+') {
            part.remove_prefix(1);
        }
        float value = 0;
        const auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), value);
        if (part.empty() || error != std::errc() || end != part.data() + part.size() ||
            !std::isfinite(value)) {
            throw ConfigError(fmt::format("{}: '{}' is not a number", what, briefly(raw)));
        }
        v[count++] = value;
        if (comma == std::string_view::npos) {
            break;
        }
        start = comma + 1;
    }
    if (count != 3) {
        throw ConfigError(
            fmt::format("{} takes three numbers separated by commas, like \"0.5,-1,2\"; got '{}'",
                        what, briefly(text)));
    }
    return v;
}

std::vector<Three> parsePoints(std::string_view text, const std::string& what, std::size_t least,
                               std::size_t most, const std::string& noun) {
    const auto wrongCount = [&] {
        return ConfigError(
            least == most
                ? fmt::format("{} takes exactly {} {}s separated by ';'", what,
                              least == 4 ? std::string("four") : std::to_string(least), noun)
                : fmt::format("{} takes {} to {} {}s separated by ';'", what, least, most, noun));
    };
    std::vector<Three> points;
    std::size_t start = 0;
    while (true) {
        const std::size_t semicolon = text.find(';', start);
        if (points.size() >= most) {
            throw wrongCount();
        }
        points.push_back(parseThree(
            text.substr(start, semicolon == std::string_view::npos ? std::string_view::npos
                                                                   : semicolon - start),
            fmt::format("{} ({} {})", what, noun, points.size() + 1)));
        if (semicolon == std::string_view::npos) {
            break;
        }
        start = semicolon + 1;
    }
    if (points.size() < least) {
        throw wrongCount();
    }
    return points;
}

std::array<Three, 4> parseCorners(std::string_view text, const std::string& what) {
    const std::vector<Three> points = parsePoints(text, what, 4, 4, "corner");
    return {points[0], points[1], points[2], points[3]};
}

}  // namespace cattery
