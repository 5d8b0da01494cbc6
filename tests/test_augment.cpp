#include <torch/torch.h>
#include <QtTest/QtTest>

#include "core/errors.h"
#include "core/latent/rng.h"
#include "core/train/diffaugment.h"
#include "core/train/trainconfig.h"
#include "core/train/trainer.h"
#include "testutil.h"

using namespace cattery;

namespace {

DiscriminatorAugment everything() {
    DiscriminatorAugment d;
    d.color = true;
    d.translation = true;
    d.cutout = true;
    return d;
}

TrainConfig adaptiveConfig() {
    TrainConfig c = test::plainConfig();
    c.steps = 100;
    c.batchSize = 8;
    c.sampleEvery = 0;
    c.checkpointEvery = 0;
    c.sampleCount = 4;
    c.lrStallSteps = 0;
    c.seed = 11;
    c.diffAugment = everything();
    c.diffAugment.adaptive = true;
    c.diffAugment.probability = 0.2;
    return c;
}

}  // namespace

class TestAugment : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void nothingAtZero();
    void eachOperationChangesImages();
    void gradientsFlowThrough();
    void strengthFollowsTheSignal();
    void heldOutImagesFollowTheRule();
    void adaptiveRunResumesExactly();
    void olderSettingsHaveNoAugmentation();

private:
    QTemporaryDir m_dir;
};

void TestAugment::nothingAtZero() {
    torch::manual_seed(1);
    const torch::Tensor x = torch::rand({4, 3, 16, 16}) * 2 - 1;
    Rng rng(3);
    const Rng::State before = rng.state();
    const torch::Tensor y = diffAugment(x, everything(), 0.0, rng);
    QVERIFY(torch::equal(x, y));
    QVERIFY(rng.state() == before);  // no random number spent: a run without it is unchanged
    QVERIFY(torch::equal(x, diffAugment(x, DiscriminatorAugment{}, 1.0, rng)));
}

void TestAugment::eachOperationChangesImages() {
    torch::manual_seed(2);
    const torch::Tensor x = torch::rand({8, 3, 16, 16}) * 2 - 1;
    for (int op = 0; op < 3; ++op) {
        DiscriminatorAugment d;
        d.color = op == 0;
        d.translation = op == 1;
        d.cutout = op == 2;
        Rng rng(5);
        const torch::Tensor y = diffAugment(x, d, 1.0, rng);
        QCOMPARE(y.sizes(), x.sizes());
        // At p = 1 most images change; the same stream gives the same result.
        const torch::Tensor changed = (y - x).abs().flatten(1).amax(1).gt(1e-6);
        QVERIFY2(changed.sum().item<int>() >= 4, qPrintable(QString::number(op)));
        Rng again(5);
        QVERIFY(torch::equal(y, diffAugment(x, d, 1.0, again)));
    }
    // Translation fills what comes into view with white, and moves at most 1/8 of the size.
    DiscriminatorAugment move;
    move.translation = true;
    Rng rng(9);
    const torch::Tensor black = -torch::ones({16, 3, 16, 16});
    const torch::Tensor moved = diffAugment(black, move, 1.0, rng);
    QVERIFY(moved.eq(1.0).any().item<bool>());
    QVERIFY(moved.eq(1.0).logical_or(moved.eq(-1.0)).all().item<bool>());
    QVERIFY(moved.eq(-1.0).flatten(1).sum(1).min().item<int>() >= 3 * 14 * 14);
}

void TestAugment::gradientsFlowThrough() {
    // Finite differences against autograd, in double precision, with the random choices fixed.
    torch::manual_seed(4);
    const torch::Tensor x0 = (torch::rand({2, 3, 8, 8}, torch::kFloat64) * 2 - 1);
    const torch::Tensor weights = torch::rand({2, 3, 8, 8}, torch::kFloat64);
    const Rng start(21);
    const auto f = [&](const torch::Tensor& x) {
        Rng rng = start;
        return (diffAugment(x, everything(), 1.0, rng) * weights).sum();
    };
    const torch::Tensor x = x0.clone().requires_grad_(true);
    f(x).backward();
    const torch::Tensor analytic = x.grad();
    QVERIFY(analytic.abs().sum().item<double>() > 0);
    const double h = 1e-6;
    for (const std::int64_t i : {0L, 17L, 63L, 130L, 200L, 255L, 300L, 383L}) {
        torch::Tensor up = x0.clone();
        torch::Tensor down = x0.clone();
        up.view({-1})[i] += h;
        down.view({-1})[i] -= h;
        const double numeric = (f(up).item<double>() - f(down).item<double>()) / (2 * h);
        const double exact = analytic.view({-1})[i].item<double>();
        QVERIFY2(std::abs(numeric - exact) < 1e-5 * (1 + std::abs(exact)),
                 qPrintable(QStringLiteral("element %1: %2 vs %3").arg(i).arg(numeric).arg(exact)));
    }
}

void TestAugment::strengthFollowsTheSignal() {
    AugmentStrength s(0.5, 1.1);
    // Held-out images rebuilt much worse than training ones: the discriminator memorises; p rises.
    for (int i = 0; i < 50; ++i) {
        s.update(0.1, 0.2);
    }
    QVERIFY(s.p() > 0.5);
    QVERIFY(s.signal() > 1.9 && s.signal() < 2.1);
    const double up = s.p();
    for (int i = 0; i < 2000; ++i) {
        s.update(0.1, 0.1);
    }
    QVERIFY(s.p() < up);
    QCOMPARE(s.p(), 0.0);  // clamped
    for (int i = 0; i < 2000; ++i) {
        s.update(0.1, 0.5);
    }
    QCOMPARE(s.p(), 1.0);
    // A NaN or a zero error teaches nothing.
    s.update(0.0, 0.3);
    s.update(std::nan(""), 0.3);
    QCOMPARE(s.p(), 1.0);
}

void TestAugment::heldOutImagesFollowTheRule() {
    QCOMPARE(heldOutCount(50), std::int64_t{0});    // too few to spare any
    QCOMPARE(heldOutCount(110), std::int64_t{0});   // 11 would leave 99
    QCOMPARE(heldOutCount(112), std::int64_t{11});  // a tenth
    QCOMPARE(heldOutCount(5000), std::int64_t{500});
    QCOMPARE(heldOutCount(50000), std::int64_t{1000});  // at most 1,000
    Trainer t(test::tinyArch(), adaptiveConfig(), test::blobDataset(150, 32), torch::kCPU);
    QCOMPARE(t.heldOutImageCount(), std::int64_t{15});
    QCOMPARE(t.trainingImageCount(), std::int64_t{135});
}

void TestAugment::adaptiveRunResumesExactly() {
    const Dataset data = test::blobDataset(150, 32);
    Trainer full(test::tinyArch(), adaptiveConfig(), data, torch::kCPU);
    std::vector<StepStats> reference;
    const std::string file = m_dir.filePath(QStringLiteral("a.checkpoint.cattery")).toStdString();
    for (int i = 0; i < 40; ++i) {
        reference.push_back(full.step());
        if (full.stepCount() == 20) {
            full.saveCheckpoint(file);
        }
    }
    // p moved from where it started, and every step reports it.
    QVERIFY(reference.back().augmentProbability != 0.2);
    QVERIFY(full.overfitSignal() > 0);
    Trainer resumed = Trainer::resume(file, data, torch::kCPU);
    QCOMPARE(resumed.augmentProbability(), reference[19].augmentProbability);
    QCOMPARE(resumed.config().diffAugment.adaptive, true);
    for (std::size_t i = 20; i < 40; ++i) {
        const StepStats s = resumed.step();
        QVERIFY2(std::abs(s.lossReal - reference[i].lossReal) <=
                     1e-4 * std::abs(reference[i].lossReal) + 1e-6,
                 qPrintable(QStringLiteral("step %1").arg(s.step)));
        QCOMPARE(s.augmentProbability, reference[i].augmentProbability);
    }
}

void TestAugment::olderSettingsHaveNoAugmentation() {
    TrainConfig c = adaptiveConfig();
    nlohmann::json j = toJson(c);
    QCOMPARE(trainConfigFromJson(j).diffAugment.probability, 0.2);
    j.erase("diff_augment");  // as written before it existed
    const TrainConfig old = trainConfigFromJson(j);
    QVERIFY(!old.diffAugment.any());
    QVERIFY(!old.diffAugment.adaptive);
    c.diffAugment.probability = 1.5;
    QVERIFY_THROWS_EXCEPTION(ConfigError, validate(c));
}

QTEST_APPLESS_MAIN(TestAugment)
#include "test_augment.moc"
