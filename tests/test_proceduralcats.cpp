#include <torch/torch.h>
#include <QtTest/QtTest>

#include <set>

#include "core/data/proceduralcats.h"
#include "core/errors.h"

using namespace cattery;

class TestProceduralCats : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void sameSeedSameBytes();
    void firstThousandAreAllDifferent();
    void choicesFollowTheirRates();
    void catsLookLikeCatsOnWhite();
    void datasetMatchesSingleDrawings();
};

void TestProceduralCats::sameSeedSameBytes() {
    for (std::uint64_t i : {0, 1, 999}) {
        QVERIFY(drawCat(64, 7, i) == drawCat(64, 7, i));
    }
    QVERIFY(!(drawCat(64, 7, 0) == drawCat(64, 8, 0)));
    QVERIFY(torch::equal(proceduralCats(20, 32, 3).images, proceduralCats(20, 32, 3).images));
    QVERIFY_THROWS_EXCEPTION(ConfigError, drawCat(4, 1, 0));
    QVERIFY_THROWS_EXCEPTION(ConfigError, proceduralCats(0, 32, 1));
}

void TestProceduralCats::firstThousandAreAllDifferent() {
    std::set<std::vector<std::uint8_t>> seen;
    for (std::uint64_t i = 0; i < 1000; ++i) {
        QVERIFY2(seen.insert(drawCat(32, 1, i).pixels).second, qPrintable(QString::number(i)));
    }
}

void TestProceduralCats::choicesFollowTheirRates() {
    const CatRates rates;
    std::array<int, kCatPoses> poses{};
    std::array<int, kCatProps> props{};
    int variants = 0;
    constexpr int kCount = 1000;
    for (std::uint64_t i = 0; i < kCount; ++i) {
        CatTraits t;
        drawCat(16, 1, i, &t);
        ++poses[static_cast<size_t>(t.pose)];
        ++props[static_cast<size_t>(t.prop)];
        variants += t.colourVariant ? 1 : 0;
    }
    for (int p = 0; p < kCatPoses; ++p) {
        QVERIFY2(std::abs(poses[size_t(p)] / double(kCount) - rates.pose[size_t(p)]) < 0.05,
                 qPrintable(QString::fromStdString(toString(static_cast<CatPose>(p)))));
    }
    for (int p = 0; p < kCatProps; ++p) {
        QVERIFY2(std::abs(props[size_t(p)] / double(kCount) - rates.prop[size_t(p)]) < 0.05,
                 qPrintable(QString::fromStdString(toString(static_cast<CatProp>(p)))));
    }
    QVERIFY(std::abs(variants / double(kCount) - rates.colourVariant) < 0.05);
    // Rates can be changed: a world of hats.
    CatRates hats;
    hats.prop = {0, 0, 0, 0, 0, 0, 1};
    CatTraits t;
    drawCat(16, 1, 5, &t, hats);
    QVERIFY(t.prop == CatProp::Hat);
}

void TestProceduralCats::catsLookLikeCatsOnWhite() {
    const Dataset d = proceduralCats(50, 64, 2);
    QCOMPARE(d.images.sizes(), (std::vector<int64_t>{50, 3, 64, 64}));
    const torch::Tensor f = d.images.to(torch::kFloat32);
    // White corners, a body in the middle that covers a fair share of the picture.
    QCOMPARE(f.select(2, 0).select(2, 0).min().item<float>(), 255.0f);
    const torch::Tensor inked = (f.amin(1) < 200).to(torch::kFloat32).mean({1, 2});
    QVERIFY(inked.min().item<float>() > 0.08f);
    QVERIFY(inked.max().item<float>() < 0.7f);
    // Anti-aliased: edges have in-between values, not just a handful of colours.
    QVERIFY(std::get<0>(torch::_unique(d.images[0].flatten())).numel() > 40);
}

void TestProceduralCats::datasetMatchesSingleDrawings() {
    const Dataset d = proceduralCats(3, 32, 9);
    for (int i = 0; i < 3; ++i) {
        const RgbImage img = drawCat(32, 9, static_cast<std::uint64_t>(i));
        const torch::Tensor hwc = d.images[i].permute({1, 2, 0}).contiguous();
        QVERIFY(std::equal(img.pixels.begin(), img.pixels.end(), hwc.data_ptr<std::uint8_t>()));
    }
    QVERIFY(QString::fromStdString(d.source).contains(QStringLiteral("procedural")));
}

QTEST_APPLESS_MAIN(TestProceduralCats)
#include "test_proceduralcats.moc"
