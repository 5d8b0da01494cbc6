#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "core/data/dataset.h"
#include "core/runtime/image.h"

namespace cattery {

// A seeded generator of chubby grey cartoon cats in the spirit of the demo's stickers: a soft
// drop-shaped body with ears, eyes, mouth, whiskers, forehead stripes, tail and paws, in varied
// poses, expressions and props, on white. The same seed always gives the same picture.
enum class CatPose { Sitting, Lying, TiltLeft, TiltRight, Stretched, Curled };
enum class CatExpression { Happy, Sleepy, Surprised, Eating };
enum class CatProp { None, Taco, Doughnut, Cookie, Yarn, Leash, Hat };

inline constexpr int kCatPoses = 6;
inline constexpr int kCatExpressions = 4;
inline constexpr int kCatProps = 7;

// How often each choice is drawn; each array sums to 1.
struct CatRates {
    std::array<double, kCatPoses> pose{0.35, 0.2, 0.1, 0.1, 0.1, 0.15};
    std::array<double, kCatExpressions> expression{0.4, 0.25, 0.2, 0.15};
    std::array<double, kCatProps> prop{0.5, 0.1, 0.1, 0.08, 0.08, 0.06, 0.08};
    double colourVariant = 0.15;  // share of cats that are not grey
};

struct CatTraits {
    CatPose pose = CatPose::Sitting;
    CatExpression expression = CatExpression::Happy;
    CatProp prop = CatProp::None;
    bool colourVariant = false;
};

std::string toString(CatPose pose);
std::string toString(CatProp prop);

// The cat for (seed, index): independent of how many cats are drawn before it.
RgbImage drawCat(int size, std::uint64_t seed, std::uint64_t index, CatTraits* traits = nullptr,
                 const CatRates& rates = CatRates{});
// count cats as a data set (N x 3 x size x size uint8).
Dataset proceduralCats(int count, int size, std::uint64_t seed, const CatRates& rates = CatRates{});

}  // namespace cattery
