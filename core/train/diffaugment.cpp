#include "core/train/diffaugment.h"

#include <algorithm>

#include "core/latent/rng.h"

namespace cattery {
namespace {

constexpr double kWhite = 1.0;
constexpr int kTranslationDivisor = 8;  // moves of up to 1/8 of the size
constexpr int kCutoutDivisor = 2;       // squares of half the size

// Uniform numbers in [0, 1) from the run's stream, one for each picture of the share, as float32
// on the CPU: those of its places in the whole batch.
torch::Tensor uniform(const BatchShare& share, Rng& rng) {
    const auto gen = torch::make_generator<at::CPUGeneratorImpl>(rng.next());
    return torch::rand({share.total}, gen, torch::kFloat32).narrow(0, share.first, share.count);
}

// Which images are augmented: 1 with probability p, else 0; B x 1 x 1 x 1.
torch::Tensor chosen(const BatchShare& share, double p, Rng& rng) {
    return uniform(share, rng).lt(p).to(torch::kFloat32).view({share.count, 1, 1, 1});
}

torch::Tensor color(const torch::Tensor& x, const torch::Tensor& on, const BatchShare& share,
                    Rng& rng, const torch::Device& device) {
    const std::int64_t b = x.size(0);
    const auto draw = [&](double scale, double offset) {
        return (uniform(share, rng).mul(scale).add(offset)).view({b, 1, 1, 1});
    };
    // Brightness: plus up to half either way. Saturation: 0 to 2 times. Contrast: 0.5 to 1.5 times.
    const torch::Tensor brightness = (draw(1.0, -0.5) * on).to(device);
    const torch::Tensor saturation = (draw(2.0, 0.0) * on + (1 - on)).to(device);
    const torch::Tensor contrast = (draw(1.0, 0.5) * on + (1 - on)).to(device);
    torch::Tensor y = x + brightness;
    torch::Tensor mean = y.mean(1, true);
    y = (y - mean) * saturation + mean;
    mean = y.mean({1, 2, 3}, true);
    return (y - mean) * contrast + mean;
}

torch::Tensor translation(const torch::Tensor& x, const torch::Tensor& on, const BatchShare& share,
                          Rng& rng, const torch::Device& device) {
    const std::int64_t b = x.size(0);
    const std::int64_t c = x.size(1);
    const std::int64_t s = x.size(2);
    const std::int64_t r = std::max<std::int64_t>(1, s / kTranslationDivisor);
    const auto shift = [&] {
        // Integers in [-r, r], 0 for the images left alone.
        return (uniform(share, rng).mul(2 * r + 1).floor().sub(r) * on.view({b})).to(torch::kLong);
    };
    const torch::Tensor dx = shift();
    const torch::Tensor dy = shift();
    // Padded with white on every side, then each image read from its own offset: a gather, so
    // the gradient reaches every pixel that stays in view.
    const torch::Tensor padded =
        torch::constant_pad_nd(x, {r, r, r, r}, kWhite);  // B x C x (S+2r) x (S+2r)
    const torch::Tensor base = torch::arange(s, torch::kLong);
    const torch::Tensor rows = (base.view({1, s}) + r - dy.view({b, 1})).to(device);
    const torch::Tensor cols = (base.view({1, s}) + r - dx.view({b, 1})).to(device);
    const torch::Tensor rowIndex = rows.view({b, 1, s, 1}).expand({b, c, s, s + 2 * r});
    const torch::Tensor picked = padded.gather(2, rowIndex);  // B x C x S x (S+2r)
    const torch::Tensor colIndex = cols.view({b, 1, 1, s}).expand({b, c, s, s});
    return picked.gather(3, colIndex);
}

torch::Tensor cutout(const torch::Tensor& x, const torch::Tensor& on, const BatchShare& share,
                     Rng& rng, const torch::Device& device) {
    const std::int64_t b = x.size(0);
    const std::int64_t s = x.size(2);
    const std::int64_t half = s / kCutoutDivisor;
    // The square's centre anywhere on the image; the square may reach past its edges.
    const torch::Tensor cx = uniform(share, rng).mul(s).floor().to(torch::kLong);
    const torch::Tensor cy = uniform(share, rng).mul(s).floor().to(torch::kLong);
    const torch::Tensor grid = torch::arange(s, torch::kLong);
    const auto inside = [&](const torch::Tensor& centre) {
        const torch::Tensor d = grid.view({1, s}) - centre.view({b, 1}) + half / 2;
        return d.ge(0).logical_and(d.lt(half));  // B x S
    };
    const torch::Tensor square =
        inside(cy).view({b, 1, s, 1}).logical_and(inside(cx).view({b, 1, 1, s}));
    const torch::Tensor keep = 1.0 - square.to(torch::kFloat32) * on;  // B x 1 x S x S
    return x * keep.to(device);
}

}  // namespace

torch::Tensor diffAugment(const torch::Tensor& images, const DiscriminatorAugment& policy, double p,
                          Rng& rng) {
    return diffAugment(images, policy, p, rng, BatchShare::whole(images.size(0)));
}

torch::Tensor diffAugment(const torch::Tensor& images, const DiscriminatorAugment& policy, double p,
                          Rng& rng, const BatchShare& share) {
    if (p <= 0.0 || !policy.any()) {
        return images;
    }
    const torch::Device device = images.device();
    torch::Tensor x = images;
    // Each operation draws its own images to change, as each of ADA's does.
    if (policy.color) {
        x = color(x, chosen(share, p, rng), share, rng, device);
    }
    if (policy.translation) {
        x = translation(x, chosen(share, p, rng), share, rng, device);
    }
    if (policy.cutout) {
        x = cutout(x, chosen(share, p, rng), share, rng, device);
    }
    return x;
}

double AugmentStrength::update(double trainingError, double heldOutError) {
    if (!(trainingError > 0) || !(heldOutError >= 0)) {
        return m_p;  // nothing to learn from (a NaN, or a perfect rebuild)
    }
    const double ratio = heldOutError / trainingError;
    m_signal = m_signal <= 0 ? ratio : (1 - kSmoothing) * m_signal + kSmoothing * ratio;
    const double pace = static_cast<double>(kAdjustEvery) / kStepsToFull;
    m_p = std::clamp(m_p + (m_signal > m_target ? pace : -pace), m_floor, 1.0);
    return m_p;
}

}  // namespace cattery
