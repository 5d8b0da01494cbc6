#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/errors.h"

namespace cattery {

// A field of JSON read from a file, its type checked before it is used: a whole number must be a
// JSON integer within T's range (1e300, 32.5 or 4294967328 for an int are refused, never cast), a
// real number a finite one, a flag a boolean and a text a string. A missing field throws
// nlohmann::json::out_of_range (as at() does); a field of the wrong type or range, ConfigError
// naming it.
template <typename T>
T jsonValue(const nlohmann::json& value, const char* key) {
    if constexpr (std::is_same_v<T, bool>) {
        if (value.is_boolean()) {
            return value.get<bool>();
        }
        throw ConfigError(fmt::format("the field \"{}\" is not true or false", key));
    } else if constexpr (std::is_integral_v<T>) {
        constexpr auto lo = std::numeric_limits<T>::min();
        constexpr auto hi = std::numeric_limits<T>::max();
        if (value.is_number_unsigned()) {
            const auto u = value.get<std::uint64_t>();
            if (u <= static_cast<std::uint64_t>(hi)) {
                return static_cast<T>(u);
            }
        } else if (value.is_number_integer()) {
            const auto i = value.get<std::int64_t>();
            if (i >= 0 ? static_cast<std::uint64_t>(i) <= static_cast<std::uint64_t>(hi)
                       : std::is_signed_v<T> && i >= static_cast<std::int64_t>(lo)) {
                return static_cast<T>(i);
            }
        } else {
            throw ConfigError(fmt::format("the field \"{}\" is not a whole number", key));
        }
        throw ConfigError(fmt::format("the field \"{}\" is out of range ({} to {})", key, lo, hi));
    } else if constexpr (std::is_floating_point_v<T>) {
        if (value.is_number()) {
            const auto x = value.get<double>();
            if (std::isfinite(x)) {
                return static_cast<T>(x);
            }
        }
        throw ConfigError(fmt::format("the field \"{}\" is not a finite number", key));
    } else {
        static_assert(std::is_same_v<T, std::string>, "a bool, number or string field");
        if (value.is_string()) {
            return value.get<std::string>();
        }
        throw ConfigError(fmt::format("the field \"{}\" is not a text", key));
    }
}

template <typename T>
T jsonField(const nlohmann::json& object, const char* key) {
    return jsonValue<T>(object.at(key), key);
}

// The same, with `fallback` when the object has no such field (older files).
template <typename T>
T jsonField(const nlohmann::json& object, const char* key, const T& fallback) {
    if (!object.is_object()) {
        throw ConfigError(fmt::format("\"{}\" should be inside an object", key));
    }
    const auto it = object.find(key);
    return it == object.end() ? fallback : jsonValue<T>(*it, key);
}

}  // namespace cattery
