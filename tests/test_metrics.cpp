#include <torch/torch.h>
#include <QtTest/QtTest>

#include "core/data/imagefolder.h"
#include "core/data/proceduralcats.h"
#include "core/errors.h"
#include "core/latent/rng.h"
#include "core/metrics/diversity.h"
#include "core/metrics/swd.h"
#include "testutil.h"

using namespace cattery;

namespace {

// Fewer patches than the default keep the suite quick; the figures are as telling.
double swd(const torch::Tensor& a, const torch::Tensor& b) {
    SwdConfig c;
    c.patchesPerImage = 32;
    return slicedWasserstein(a, b, c).average;
}

}  // namespace

class TestMetrics : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void levelsFollowTheImageSize_data();
    void levelsFollowTheImageSize();
    void setAgainstItselfIsNearZero();
    void shiftedColoursScoreClearlyWorse();
    void collapsedSamplesAreFlagged();
    void everyImageOfTheLargerSetCounts();
    void pairwiseDistanceIsTheMeanOverEveryPair();
    void patchesDrawnBeforehandGiveTheSameDistance();
    void badInputIsAClearError();

private:
    torch::Tensor m_a;  // two disjoint halves of the emoji data set at 32x32
    torch::Tensor m_b;
};

void TestMetrics::initTestCase() {
    const QString twemoji = test::sharedDir() + QStringLiteral("/datasets/twemoji64/images");
    Dataset d;
    if (QDir(twemoji).exists()) {
        FolderOptions o;
        o.size = 32;
        d = readImageFolder(twemoji.toStdString(), o);
    } else {
        d = proceduralCats(800, 32, 3);
    }
    // The files are sorted by kind (faces, flags, ...): split at random.
    const int64_t half = std::min<int64_t>(d.count() / 2, 400);
    torch::manual_seed(1);
    const auto order = torch::randperm(d.count(), torch::kLong);
    m_a = d.images.index_select(0, order.narrow(0, 0, half));
    m_b = d.images.index_select(0, order.narrow(0, half, half));
}

void TestMetrics::levelsFollowTheImageSize_data() {
    QTest::addColumn<int>("size");
    QTest::addColumn<QList<int>>("levels");
    QTest::newRow("32") << 32 << QList<int>{32, 16};
    QTest::newRow("48") << 48 << QList<int>{48, 24};
    QTest::newRow("64") << 64 << QList<int>{64, 32, 16};
    QTest::newRow("80") << 80 << QList<int>{80, 40, 20};
    QTest::newRow("8") << 8 << QList<int>{8};
}

void TestMetrics::levelsFollowTheImageSize() {
    QFETCH(int, size);
    QFETCH(QList<int>, levels);
    const auto images = torch::randint(0, 256, {6, 3, size, size}, torch::kUInt8);
    SwdConfig c;
    c.patchesPerImage = 8;
    const SwdResult r = slicedWasserstein(images, images, c);
    QCOMPARE(QList<int>(r.levelSizes.begin(), r.levelSizes.end()), levels);
    QCOMPARE(r.perLevel.size(), r.levelSizes.size());
    for (double d : r.perLevel) {
        QVERIFY(std::isfinite(d) && d >= 0.0);
    }
}

void TestMetrics::setAgainstItselfIsNearZero() {
    // Same images, other random patches: only sampling noise is left.
    const double self = swd(m_a, m_a);
    const double halves = swd(m_a, m_b);
    const double noise = swd(m_a, torch::randint(0, 256, m_a.sizes(), torch::kUInt8));
    QVERIFY2(self < 0.1 * noise, qPrintable(QStringLiteral("%1 vs %2").arg(self).arg(noise)));
    QVERIFY2(halves < 0.2 * noise, qPrintable(QStringLiteral("%1 vs %2").arg(halves).arg(noise)));
    // The same seed gives the same figure.
    QCOMPARE(swd(m_a, m_b), halves);
}

void TestMetrics::shiftedColoursScoreClearlyWorse() {
    // Red and blue swapped and darkened: the same shapes in other colours.
    const auto shifted =
        m_b.flip(1).to(torch::kFloat32).mul(0.7).round().to(torch::kUInt8).contiguous();
    const double halves = swd(m_a, m_b);
    const double moved = swd(m_a, shifted);
    QVERIFY2(moved > 3.0 * halves, qPrintable(QStringLiteral("%1 vs %2").arg(moved).arg(halves)));
}

void TestMetrics::collapsedSamplesAreFlagged() {
    const double dataItself = diversityRatio(m_b, m_a);
    QVERIFY2(dataItself > 0.8 && dataItself < 1.25, qPrintable(QString::number(dataItself)));
    const auto one = m_b.narrow(0, 3, 1).expand_as(m_b).contiguous();
    const double collapsed = diversityRatio(one, m_a);
    QCOMPARE(collapsed, 0.0);
    QVERIFY(collapsed < kCollapsedDiversity);
    // Nearly one picture with a little noise is still collapse.
    const auto jitter = (one.to(torch::kInt16) + torch::randint(-8, 9, one.sizes(), torch::kInt16))
                            .clamp(0, 255)
                            .to(torch::kUInt8);
    QVERIFY(diversityRatio(jitter, m_a) < kCollapsedDiversity);
    QVERIFY(swd(m_a, one) > 3.0 * swd(m_a, m_b));
}

void TestMetrics::everyImageOfTheLargerSetCounts() {
    // A few reference pictures against many samples whose first ones are those very pictures and
    // the rest the same shapes in other colours: the others must count.
    const auto few = m_a.narrow(0, 0, 8);
    const auto shifted = m_b.narrow(0, 0, 92).flip(1).to(torch::kFloat32).mul(0.7).round();
    const auto mixed = torch::cat({few, shifted.to(torch::kUInt8)}).contiguous();
    const double unlike = swd(few, mixed);
    const double alike = swd(few, m_a.narrow(0, 0, 100));
    QVERIFY2(unlike > 2.0 * alike, qPrintable(QStringLiteral("%1 vs %2").arg(unlike).arg(alike)));
    const double reversed = swd(mixed, few);
    QVERIFY2(reversed > 2.0 * alike,
             qPrintable(QStringLiteral("%1 vs %2").arg(reversed).arg(alike)));
}

void TestMetrics::pairwiseDistanceIsTheMeanOverEveryPair() {
    // The pairs are drawn with the seed (the first at random, the second any other image) and
    // measured a slice at a time; every drawn pair must count once, whatever the count.
    const auto images = m_a.narrow(0, 0, 37).contiguous();
    const auto n = static_cast<std::uint64_t>(images.size(0));
    const auto flat = images.flatten(1).to(torch::kFloat64) / 255.0;
    for (const int pairs : {1, 99, 100, 101, 250}) {
        Rng rng(7);
        double sum = 0;
        for (int p = 0; p < pairs; ++p) {
            const std::uint64_t i = rng.below(n);
            const std::uint64_t j = (i + 1 + rng.below(n - 1)) % n;
            QVERIFY(i != j);
            const auto a = flat[static_cast<int64_t>(i)];
            const auto b = flat[static_cast<int64_t>(j)];
            sum += (a - b).pow(2).mean().sqrt().item<double>();
        }
        const double measured = meanPairwiseDistance(images, pairs, 7);
        QVERIFY2(std::abs(measured - sum / pairs) < 1e-6,
                 qPrintable(QStringLiteral("%1 pairs: %2 against %3")
                                .arg(pairs)
                                .arg(measured)
                                .arg(sum / pairs)));
    }
}

void TestMetrics::patchesDrawnBeforehandGiveTheSameDistance() {
    // The second set's patches drawn once and reused give what drawing them afresh gives, to the
    // bit, for sets of any count; drawn for another count, they are refused.
    SwdConfig c;
    c.patchesPerImage = 16;
    const torch::Tensor b = m_b.narrow(0, 0, 50);
    for (const int64_t count : {20, 50, 80}) {
        const torch::Tensor a = m_a.narrow(0, 0, count);
        const SwdPatches patches = secondSetPatches(b, count, c);
        QCOMPARE(patches.total, std::min<int64_t>(count, 50) * 16);
        const SwdResult fresh = slicedWasserstein(a, b, c);
        const SwdResult reused = slicedWasserstein(a, b, patches, c);
        QCOMPARE(reused.perLevel.size(), fresh.perLevel.size());
        for (size_t l = 0; l < fresh.perLevel.size(); ++l) {
            QCOMPARE(reused.perLevel[l], fresh.perLevel[l]);
        }
        QVERIFY(fresh.average > 0.0);
        QCOMPARE(slicedWasserstein(a, b, patches, c).average, fresh.average);
    }
    QVERIFY_THROWS_EXCEPTION(
        ConfigError, slicedWasserstein(m_a.narrow(0, 0, 20), b, secondSetPatches(b, 30, c), c));
    QVERIFY_THROWS_EXCEPTION(ConfigError, secondSetPatches(b, 0, c));
}

void TestMetrics::badInputIsAClearError() {
    const auto floats = torch::zeros({4, 3, 32, 32});
    QVERIFY_THROWS_EXCEPTION(ConfigError, slicedWasserstein(floats, m_a));
    QVERIFY_THROWS_EXCEPTION(ConfigError, slicedWasserstein(m_a.narrow(0, 0, 1), m_a));
    QVERIFY_THROWS_EXCEPTION(ConfigError,
                             slicedWasserstein(m_a, torch::zeros({4, 3, 64, 64}, torch::kUInt8)));
    QVERIFY_THROWS_EXCEPTION(ConfigError,
                             slicedWasserstein(m_a, torch::zeros({4, 1, 32, 32}, torch::kUInt8)));
    QVERIFY_THROWS_EXCEPTION(ConfigError,
                             slicedWasserstein(torch::zeros({4, 3, 4, 4}, torch::kUInt8),
                                               torch::zeros({4, 3, 4, 4}, torch::kUInt8)));
    SwdConfig none;
    none.patchesPerImage = 0;
    QVERIFY_THROWS_EXCEPTION(ConfigError, slicedWasserstein(m_a, m_b, none));
    QVERIFY_THROWS_EXCEPTION(ConfigError, meanPairwiseDistance(m_a, 0));
    const auto blank = torch::full({5, 3, 32, 32}, 255, torch::kUInt8);
    QVERIFY_THROWS_EXCEPTION(ConfigError, diversityRatio(m_a, blank));
}

QTEST_GUILESS_MAIN(TestMetrics)
#include "test_metrics.moc"
