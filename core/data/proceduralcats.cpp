#include "core/data/proceduralcats.h"

#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "core/errors.h"
#include "core/latent/rng.h"

namespace cattery {
namespace {

constexpr int kSupersample = 4;

struct Palette {
    cv::Scalar body;
    cv::Scalar outline;
    cv::Scalar stripe;
    cv::Scalar innerEar;
};

// RGB colours: the demo's grey cat first, then the occasional variant.
const Palette kGrey{{172, 174, 182}, {62, 62, 72}, {120, 122, 132}, {238, 178, 190}};
const std::array<Palette, 4> kVariants{{
    {{244, 172, 96}, {110, 62, 30}, {206, 120, 60}, {250, 190, 190}},     // orange tabby
    {{246, 230, 196}, {120, 100, 70}, {214, 190, 150}, {250, 196, 196}},  // cream
    {{82, 82, 94}, {30, 30, 36}, {56, 56, 66}, {200, 140, 150}},          // black
    {{250, 250, 250}, {90, 90, 100}, {210, 210, 216}, {250, 190, 200}},   // white
}};
const cv::Scalar kInk{40, 40, 48};
const cv::Scalar kPink{236, 140, 160};
const cv::Scalar kWhite{255, 255, 255};

template <std::size_t N>
int pick(Rng& rng, const std::array<double, N>& weights) {
    const double u = rng.uniform();
    double sum = 0;
    for (std::size_t i = 0; i < N; ++i) {
        sum += weights[i];
        if (u < sum) {
            return static_cast<int>(i);
        }
    }
    return static_cast<int>(N) - 1;
}

std::uint64_t mix(std::uint64_t seed, std::uint64_t index) {
    std::uint64_t z = seed * 0x9e3779b97f4a7c15ULL + index + 0x632be59bd9b4e019ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// Drawing in unit coordinates on a supersampled canvas; OpenCV's fixed-point shift keeps edges
// smooth.
class Canvas {
public:
    explicit Canvas(int side) : m_img(side, side, CV_8UC3, kWhite), m_scale(side) {}

    cv::Point p(double x, double y) const { return {fix(x), fix(y)}; }
    int fix(double v) const { return static_cast<int>(std::lround(v * m_scale * kShiftScale)); }
    int px(double v) const { return std::max(1, static_cast<int>(std::lround(v * m_scale))); }

    void polygon(const std::vector<cv::Point>& pts, const cv::Scalar& fill, const cv::Scalar& line,
                 double width) {
        const std::vector<std::vector<cv::Point>> polys{pts};
        cv::fillPoly(m_img, polys, fill, cv::LINE_AA, kShift);
        if (width > 0) {
            cv::polylines(m_img, polys, true, line, px(width), cv::LINE_AA, kShift);
        }
    }
    void ellipse(double x, double y, double rx, double ry, double angle, const cv::Scalar& fill,
                 const cv::Scalar& line, double width) {
        const cv::Size axes(fix(rx), fix(ry));
        if (fill[0] >= 0) {
            cv::ellipse(m_img, p(x, y), axes, angle, 0, 360, fill, cv::FILLED, cv::LINE_AA, kShift);
        }
        if (width > 0) {
            cv::ellipse(m_img, p(x, y), axes, angle, 0, 360, line, px(width), cv::LINE_AA, kShift);
        }
    }
    void arc(double x, double y, double rx, double ry, double from, double to,
             const cv::Scalar& line, double width) {
        cv::ellipse(m_img, p(x, y), cv::Size(fix(rx), fix(ry)), 0, from, to, line, px(width),
                    cv::LINE_AA, kShift);
    }
    void line(double x0, double y0, double x1, double y1, const cv::Scalar& colour, double width) {
        cv::line(m_img, p(x0, y0), p(x1, y1), colour, px(width), cv::LINE_AA, kShift);
    }
    void curve(const std::vector<cv::Point>& pts, const cv::Scalar& colour, double width) {
        cv::polylines(m_img, std::vector<std::vector<cv::Point>>{pts}, false, colour, px(width),
                      cv::LINE_AA, kShift);
    }
    cv::Mat& image() { return m_img; }

private:
    static constexpr int kShift = 4;
    static constexpr double kShiftScale = 16.0;
    cv::Mat m_img;
    double m_scale;
};

struct Body {
    double cx, cy, w, h;
    double faceX, faceY;
    int facing;  // -1 left, +1 right

    double topAt(double x) const {
        const double u = std::clamp((x - cx) / w, -0.999, 0.999);
        return cy - h * std::sqrt(1.0 - u * u);
    }
};

std::vector<cv::Point> quadratic(const Canvas& c, double x0, double y0, double x1, double y1,
                                 double x2, double y2) {
    std::vector<cv::Point> pts;
    for (int i = 0; i <= 16; ++i) {
        const double t = i / 16.0;
        const double a = (1 - t) * (1 - t), b = 2 * (1 - t) * t, d = t * t;
        pts.push_back(c.p(a * x0 + b * x1 + d * x2, a * y0 + b * y1 + d * y2));
    }
    return pts;
}

void drawTail(Canvas& c, const Body& b, const Palette& pal, CatPose pose, Rng& rng) {
    const int side = -b.facing;
    std::vector<cv::Point> pts;
    if (pose == CatPose::Curled) {
        pts = quadratic(c, b.cx + side * b.w * 0.8, b.cy + b.h * 0.5, b.cx, b.cy + b.h * 1.25,
                        b.cx - side * b.w * 0.6, b.cy + b.h * 0.85);
    } else {
        const double lift = rng.uniform(0.1, 0.3);
        pts = quadratic(c, b.cx + side * b.w * 0.85, b.cy + b.h * 0.45, b.cx + side * (b.w + 0.14),
                        b.cy + b.h * 0.4, b.cx + side * (b.w + 0.1), b.cy - lift);
    }
    c.curve(pts, pal.outline, 0.062);
    c.curve(pts, pal.body, 0.04);
}

void drawEars(Canvas& c, const Body& b, const Palette& pal, Rng& rng) {
    const double spread = 0.085 + rng.uniform(0, 0.02);
    for (int s : {-1, 1}) {
        const double ex = b.faceX + s * spread;
        const double base = b.topAt(ex) + 0.035;
        const double tipX = ex + s * rng.uniform(0.0, 0.03);
        const double tipY = base - rng.uniform(0.1, 0.13);
        c.polygon({c.p(ex - 0.06, base), c.p(ex + 0.06, base), c.p(tipX, tipY)}, pal.body,
                  pal.outline, 0.012);
        c.polygon({c.p(ex - 0.03, base - 0.01), c.p(ex + 0.03, base - 0.01),
                   c.p(tipX + (ex - tipX) * 0.25, tipY + 0.035)},
                  pal.innerEar, pal.innerEar, 0);
    }
}

void drawBody(Canvas& c, const Body& b, const Palette& pal) {
    std::vector<cv::Point> pts;
    for (int i = 0; i < 72; ++i) {
        const double t = 2 * M_PI * i / 72.0;
        const double s = std::sin(t);
        // A drop: wider and flatter at the bottom.
        const double x = b.cx + b.w * std::cos(t) * (1.0 + 0.12 * s);
        const double y = b.cy + b.h * (s > 0 ? std::pow(s, 0.7) : s);
        pts.push_back(c.p(x, y));
    }
    c.polygon(pts, pal.body, pal.outline, 0.014);
    // Forehead stripes.
    for (int k = -1; k <= 1; ++k) {
        const double x = b.faceX + k * 0.028;
        const double top = b.topAt(x) + 0.018;
        c.line(x, top, x, top + (k == 0 ? 0.05 : 0.035), pal.stripe, 0.012);
    }
}

void drawPaws(Canvas& c, const Body& b, const Palette& pal, CatPose pose) {
    std::vector<std::pair<double, double>> paws;
    if (pose == CatPose::Stretched) {
        paws = {{b.cx + b.facing * (b.w + 0.02), b.cy + b.h * 0.55},
                {b.cx + b.facing * (b.w - 0.06), b.cy + b.h * 0.85}};
    } else if (pose == CatPose::Lying || pose == CatPose::Curled) {
        paws = {{b.faceX - 0.06, b.cy + b.h * 0.88}, {b.faceX + 0.06, b.cy + b.h * 0.88}};
    } else {
        paws = {{b.cx - 0.07, b.cy + b.h * 0.9}, {b.cx + 0.07, b.cy + b.h * 0.9}};
    }
    for (const auto& [x, y] : paws) {
        c.ellipse(x, y, 0.045, 0.03, 0, pal.body, pal.outline, 0.011);
        c.line(x - 0.012, y + 0.005, x - 0.012, y + 0.025, pal.outline, 0.007);
        c.line(x + 0.012, y + 0.005, x + 0.012, y + 0.025, pal.outline, 0.007);
    }
}

void drawFace(Canvas& c, const Body& b, CatExpression e, Rng& rng) {
    const double fx = b.faceX, fy = b.faceY;
    const double gap = 0.072 + rng.uniform(-0.008, 0.008);
    for (int s : {-1, 1}) {
        const double ex = fx + s * gap;
        switch (e) {
            case CatExpression::Sleepy:
                c.arc(ex, fy - 0.005, 0.022, 0.014, 0, 180, kInk, 0.009);
                break;
            case CatExpression::Surprised:
                c.ellipse(ex, fy, 0.03, 0.034, 0, kWhite, kInk, 0.008);
                c.ellipse(ex, fy + 0.004, 0.015, 0.017, 0, kInk, kInk, 0);
                break;
            default:
                c.ellipse(ex, fy, 0.02, 0.023, 0, kInk, kInk, 0);
                c.ellipse(ex - 0.006, fy - 0.008, 0.006, 0.006, 0, kWhite, kWhite, 0);
                break;
        }
        // Blush and whiskers.
        if (e == CatExpression::Happy) {
            c.ellipse(ex + s * 0.02, fy + 0.04, 0.022, 0.012, 0, kPink, kPink, 0);
        }
        for (int k = 0; k < 3; ++k) {
            const double y = fy + 0.035 + k * 0.016;
            c.line(fx + s * 0.11, y, fx + s * 0.19, y + (k - 1) * 0.018, kInk, 0.006);
        }
    }
    c.polygon({c.p(fx - 0.013, fy + 0.028), c.p(fx + 0.013, fy + 0.028), c.p(fx, fy + 0.042)},
              kPink, kPink, 0);
    if (e == CatExpression::Eating || e == CatExpression::Surprised) {
        c.ellipse(fx, fy + 0.066, 0.02, e == CatExpression::Eating ? 0.02 : 0.014, 0, {170, 60, 80},
                  kInk, 0.007);
    } else {
        c.arc(fx - 0.014, fy + 0.045, 0.014, 0.014, 0, 180, kInk, 0.007);
        c.arc(fx + 0.014, fy + 0.045, 0.014, 0.014, 0, 180, kInk, 0.007);
    }
}

void drawProp(Canvas& c, const Body& b, CatProp prop, CatExpression e, const Palette& pal,
              Rng& rng) {
    const bool food = prop == CatProp::Taco || prop == CatProp::Doughnut || prop == CatProp::Cookie;
    double x, y, r;
    if (food && e == CatExpression::Eating) {
        x = b.faceX + b.facing * 0.05;
        y = b.faceY + 0.11;
        r = 0.065;
    } else {
        x = std::clamp(b.cx - b.facing * (b.w + 0.1), 0.12, 0.88);
        y = std::min(0.86, b.cy + b.h * 0.75);
        r = 0.075;
    }
    switch (prop) {
        case CatProp::Taco:
            c.ellipse(x, y - 0.01, r, r * 0.55, 0, {120, 190, 70}, {60, 120, 40}, 0.008);
            c.ellipse(x - 0.02, y - 0.03, r * 0.2, r * 0.2, 0, {220, 60, 50}, {220, 60, 50}, 0);
            cv::ellipse(c.image(), c.p(x, y), cv::Size(c.fix(r), c.fix(r * 0.9)), 0, 0, 180,
                        {236, 196, 90}, cv::FILLED, cv::LINE_AA, 4);
            c.arc(x, y, r, r * 0.9, 0, 180, {160, 110, 40}, 0.01);
            break;
        case CatProp::Doughnut:
            c.ellipse(x, y, r, r * 0.8, 0, {214, 160, 100}, {140, 90, 50}, 0.008);
            c.ellipse(x, y - 0.006, r * 0.85, r * 0.62, 0, {246, 150, 190}, {246, 150, 190}, 0);
            c.ellipse(x, y, r * 0.3, r * 0.22, 0, kWhite, {140, 90, 50}, 0.006);
            for (int k = 0; k < 6; ++k) {
                const double a = k * M_PI / 3 + rng.uniform(0, 0.5);
                const double sx = x + std::cos(a) * r * 0.6, sy = y + std::sin(a) * r * 0.45;
                c.line(sx, sy, sx + 0.012, sy + 0.006,
                       k % 2 ? cv::Scalar{80, 150, 240} : cv::Scalar{250, 230, 80}, 0.008);
            }
            break;
        case CatProp::Cookie:
            c.ellipse(x, y, r * 0.9, r * 0.9, 0, {206, 150, 90}, {130, 80, 40}, 0.009);
            for (int k = 0; k < 5; ++k) {
                c.ellipse(x + rng.uniform(-0.6, 0.6) * r, y + rng.uniform(-0.6, 0.6) * r, 0.008,
                          0.008, 0, {80, 45, 25}, {80, 45, 25}, 0);
            }
            break;
        case CatProp::Yarn: {
            const cv::Scalar yarn =
                rng.uniform() < 0.5 ? cv::Scalar{220, 70, 80} : cv::Scalar{80, 120, 220};
            c.ellipse(x, y, r, r, 0, yarn, yarn * 0.6, 0.009);
            for (int k = 0; k < 3; ++k) {
                c.arc(x, y, r * 0.8, r * (0.3 + 0.2 * k), 20.0 * k, 20.0 * k + 160, yarn * 0.6,
                      0.006);
            }
            c.curve(
                quadratic(c, x, y + r, x + b.facing * 0.1, y + r + 0.06, b.cx, b.cy + b.h * 0.9),
                yarn * 0.6, 0.006);
            break;
        }
        case CatProp::Leash: {
            const double ny = b.faceY + 0.1;
            c.arc(b.faceX, ny - 0.03, 0.12, 0.04, 20, 160, {220, 50, 60}, 0.02);
            c.ellipse(b.faceX, ny + 0.012, 0.012, 0.012, 0, {250, 210, 60}, {150, 120, 30}, 0.005);
            c.curve(quadratic(c, b.faceX, ny + 0.02, b.faceX - b.facing * 0.3, ny + 0.25,
                              -b.facing * 0.6 + 0.5, 0.02),
                    {150, 60, 40}, 0.01);
            break;
        }
        case CatProp::Hat: {
            const double top = b.topAt(b.faceX);
            const cv::Scalar hat =
                rng.uniform() < 0.5 ? cv::Scalar{90, 160, 240} : cv::Scalar{240, 110, 150};
            c.polygon({c.p(b.faceX - 0.05, top + 0.02), c.p(b.faceX + 0.05, top + 0.02),
                       c.p(b.faceX + 0.01, top - 0.12)},
                      hat, pal.outline, 0.008);
            c.ellipse(b.faceX + 0.01, top - 0.12, 0.018, 0.018, 0, {250, 230, 90}, pal.outline,
                      0.005);
            break;
        }
        case CatProp::None:
            break;
    }
}

}  // namespace

std::string toString(CatPose pose) {
    static const char* names[] = {"sitting",      "lying",     "tilted left",
                                  "tilted right", "stretched", "curled"};
    return names[static_cast<int>(pose)];
}

std::string toString(CatProp prop) {
    static const char* names[] = {"none",         "taco",  "doughnut", "cookie",
                                  "ball of yarn", "leash", "hat"};
    return names[static_cast<int>(prop)];
}

RgbImage drawCat(int size, std::uint64_t seed, std::uint64_t index, CatTraits* traitsOut,
                 const CatRates& rates) {
    if (size < 8 || size > 1024) {
        throw ConfigError("procedural cats are drawn at 8 to 1024 pixels");
    }
    Rng rng(mix(seed, index));
    CatTraits t;
    t.pose = static_cast<CatPose>(pick(rng, rates.pose));
    t.expression = static_cast<CatExpression>(pick(rng, rates.expression));
    t.prop = static_cast<CatProp>(pick(rng, rates.prop));
    t.colourVariant = rng.uniform() < rates.colourVariant;
    const Palette& pal = t.colourVariant ? kVariants[rng.below(kVariants.size())] : kGrey;

    Body b{};
    b.facing = rng.uniform() < 0.5 ? -1 : 1;
    switch (t.pose) {
        case CatPose::Lying:
            b = {0.5, 0.62, 0.36, 0.22, 0, 0, b.facing};
            break;
        case CatPose::Stretched:
            b = {0.5, 0.64, 0.42, 0.17, 0, 0, b.facing};
            break;
        case CatPose::Curled:
            b = {0.5, 0.6, 0.3, 0.25, 0, 0, b.facing};
            break;
        default:
            b = {0.5, 0.56, 0.27, 0.31, 0, 0, b.facing};
            break;
    }
    const double scale = rng.uniform(0.82, 1.08);
    b.w *= scale * rng.uniform(0.92, 1.08);
    b.h *= scale * rng.uniform(0.92, 1.08);
    b.cx += rng.uniform(-0.05, 0.05);
    b.cy += rng.uniform(-0.04, 0.04);
    const bool side =
        t.pose == CatPose::Lying || t.pose == CatPose::Stretched || t.pose == CatPose::Curled;
    b.faceX = b.cx + (side ? b.facing * b.w * 0.4 : rng.uniform(-0.02, 0.02));
    b.faceY = b.topAt(b.faceX) + (side ? 0.1 : 0.12) + 0.02 * scale;

    Canvas c(size * kSupersample);
    drawTail(c, b, pal, t.pose, rng);
    drawEars(c, b, pal, rng);
    drawBody(c, b, pal);
    drawPaws(c, b, pal, t.pose);
    drawFace(c, b, t.expression, rng);
    drawProp(c, b, t.prop, t.expression, pal, rng);

    cv::Mat big = c.image();
    if (t.pose == CatPose::TiltLeft || t.pose == CatPose::TiltRight) {
        const double angle = (t.pose == CatPose::TiltLeft ? 1 : -1) * rng.uniform(12, 26);
        const cv::Point2f centre(big.cols / 2.0f, big.rows / 2.0f);
        cv::Mat rotated;
        cv::warpAffine(big, rotated, cv::getRotationMatrix2D(centre, angle, 1.0), big.size(),
                       cv::INTER_LINEAR, cv::BORDER_CONSTANT, kWhite);
        big = rotated;
    }
    cv::Mat small;
    cv::resize(big, small, cv::Size(size, size), 0, 0, cv::INTER_AREA);
    if (traitsOut != nullptr) {
        *traitsOut = t;
    }
    RgbImage img;
    img.width = size;
    img.height = size;
    img.pixels.assign(small.datastart, small.dataend);
    return img;
}

Dataset proceduralCats(int count, int size, std::uint64_t seed, const CatRates& rates) {
    if (count < 1) {
        throw ConfigError("at least one procedural cat is needed");
    }
    std::vector<std::uint8_t> pixels;
    pixels.reserve(static_cast<std::size_t>(count) * size * size * 3);
    for (int i = 0; i < count; ++i) {
        const RgbImage img = drawCat(size, seed, static_cast<std::uint64_t>(i), nullptr, rates);
        pixels.insert(pixels.end(), img.pixels.begin(), img.pixels.end());
    }
    Dataset d;
    d.images = torch::from_blob(pixels.data(), {count, size, size, 3}, torch::kUInt8)
                   .permute({0, 3, 1, 2})
                   .contiguous();
    d.source = "procedural cats (seed " + std::to_string(seed) + ")";
    d.hash = imagesHash(d.images);
    return d;
}

}  // namespace cattery
