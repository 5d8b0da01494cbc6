#include <torch/torch.h>
#include <QtTest/QtTest>

#include "core/errors.h"
#include "core/latent/latentspace.h"
#include "core/runtime/device.h"
#include "core/runtime/inference.h"
#include "core/runtime/renderer.h"
#include "core/runtime/threads.h"
#include "testutil.h"

using namespace cattery;

class TestRenderer : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void imagesHaveTheModelsSize();
    void batchSizeDoesNotChangePixels();
    void cacheSkipsUnchangedCells();
    void cacheEvictsLeastRecentlyUsed();
    void toImagesMapsTheRange();
    void deviceChoice();
    void cudaMatchesCpu();
    void inferenceGeneratorMatchesTheGenerator_data();
    void inferenceGeneratorMatchesTheGenerator();
    void bf16LooksTheSame();
    void normalisedGeneratorsDrawOnlyTheDirection();
};

void TestRenderer::imagesHaveTheModelsSize() {
    const ArchConfig arch = test::tinyArch();
    Renderer r(test::tinyGenerator(arch), torch::kCPU);
    const auto images = r.render(sampleLatents(3, arch.latentDim, 1));
    QCOMPARE(images.size(), size_t(3));
    for (const auto& img : images) {
        QCOMPARE(img.width, 32);
        QCOMPARE(img.height, 32);
        QCOMPARE(img.pixels.size(), size_t(32 * 32 * 3));
    }
    QVERIFY(!(images[0] == images[1]));
    QVERIFY_THROWS_EXCEPTION(ConfigError, r.render(torch::zeros({2, arch.latentDim + 1})));
}

void TestRenderer::batchSizeDoesNotChangePixels() {
    const ArchConfig arch = test::tinyArch();
    const Generator g = test::tinyGenerator(arch);
    Renderer one(g, torch::kCPU, 0), many(g, torch::kCPU, 0);
    const torch::Tensor z = sampleLatents(100, arch.latentDim, 4);
    const auto batch = many.render(z);
    for (int i : {0, 17, 99}) {
        const auto single = one.render(z.narrow(0, i, 1));
        QVERIFY2(single[0] == batch[static_cast<size_t>(i)], qPrintable(QString::number(i)));
    }
}

void TestRenderer::cacheSkipsUnchangedCells() {
    const ArchConfig arch = test::tinyArch();
    Renderer r(test::tinyGenerator(arch), torch::kCPU);
    const torch::Tensor c = sampleLatents(5, arch.latentDim, 8);
    std::array<torch::Tensor, 4> corners{c[0], c[1], c[2], c[3]};
    const auto first = r.render(cornerGrid(corners, 5));
    QCOMPARE(r.lastComputed(), size_t(25));
    const auto again = r.render(cornerGrid(corners, 5));
    QCOMPARE(r.lastComputed(), size_t(0));
    for (size_t i = 0; i < 25; ++i) {
        QVERIFY(first[i] == again[i]);
    }
    corners[BottomRight] = c[4];
    const auto moved = r.render(cornerGrid(corners, 5));
    QCOMPARE(r.lastComputed(), size_t(16));
    const auto changed = affectedCells(BottomRight, 5);
    for (int i = 0; i < 25; ++i) {
        const bool affected = std::find(changed.begin(), changed.end(), i) != changed.end();
        QCOMPARE(!(moved[size_t(i)] == first[size_t(i)]), affected);
    }
}

void TestRenderer::cacheEvictsLeastRecentlyUsed() {
    const ArchConfig arch = test::tinyArch();
    Renderer r(test::tinyGenerator(arch), torch::kCPU, 4);
    const torch::Tensor z = sampleLatents(6, arch.latentDim, 2);
    r.render(z.narrow(0, 0, 4));
    QCOMPARE(r.cacheSize(), size_t(4));
    r.render(z.narrow(0, 0, 1));  // touch row 0 so that row 1 is the oldest
    r.render(z.narrow(0, 4, 1));
    QCOMPARE(r.cacheSize(), size_t(4));
    r.render(z.narrow(0, 0, 1));
    QCOMPARE(r.lastComputed(), size_t(0));
    r.render(z.narrow(0, 1, 1));
    QCOMPARE(r.lastComputed(), size_t(1));
    r.clearCache();
    QCOMPARE(r.cacheSize(), size_t(0));
}

void TestRenderer::toImagesMapsTheRange() {
    torch::Tensor x = torch::zeros({1, 3, 2, 2});
    x[0][0][0][0] = -1.0;
    x[0][1][0][0] = 1.0;
    x[0][2][1][1] = 5.0;  // out of range: clamped
    const auto img = toImages(x)[0];
    QCOMPARE(int(img.pixels[0]), 0);
    QCOMPARE(int(img.pixels[1]), 255);
    QCOMPARE(int(img.pixels[2]), 128);
    QCOMPARE(int(img.pixels[(1 * 2 + 1) * 3 + 2]), 255);
}

void TestRenderer::deviceChoice() {
    QVERIFY(chooseDevice("cpu").is_cpu());
    QVERIFY_THROWS_EXCEPTION(ConfigError, chooseDevice("tpu"));
    if (!torch::cuda::is_available()) {
        QVERIFY(chooseDevice("auto").is_cpu());
        QVERIFY_THROWS_EXCEPTION(DeviceError, chooseDevice("cuda"));
    }
    QCOMPARE(configureThreads(1), 1);
    QCOMPARE(QString::fromStdString(describeDevice(torch::kCPU)), QStringLiteral("cpu (1 thread)"));
    QCOMPARE(configureThreads(2), 2);
    QCOMPARE(QString::fromStdString(describeDevice(torch::kCPU)),
             QStringLiteral("cpu (2 threads)"));
    QVERIFY(configureThreads(0) >= 1);
}

void TestRenderer::cudaMatchesCpu() {
    if (!torch::cuda::is_available()) {
        QSKIP("no CUDA device on this machine");
    }
    const ArchConfig arch = test::tinyArch();
    const Generator g = test::tinyGenerator(arch);
    const torch::Tensor z = sampleLatents(8, arch.latentDim, 3);
    const auto cpu = Renderer(g, torch::kCPU, 0).render(z);
    const auto cuda = Renderer(g, torch::Device(torch::kCUDA, 0), 0).render(z);
    for (size_t i = 0; i < cpu.size(); ++i) {
        int worst = 0;
        for (size_t p = 0; p < cpu[i].pixels.size(); ++p) {
            worst = std::max(worst, std::abs(int(cpu[i].pixels[p]) - int(cuda[i].pixels[p])));
        }
        QVERIFY(worst <= 2);
    }
}

void TestRenderer::inferenceGeneratorMatchesTheGenerator_data() {
    QTest::addColumn<int>("size");
    QTest::addColumn<int>("repeats");
    QTest::addColumn<bool>("separable");
    QTest::addColumn<bool>("batchNorm");
    QTest::addColumn<bool>("zSkip");
    QTest::addColumn<bool>("smoothZMap");
    QTest::addColumn<bool>("normalizeZ");
    QTest::newRow("default") << 32 << 1 << false << true << true << true << true;
    QTest::newRow("two repeats, 48 px") << 48 << 2 << false << true << true << true << true;
    QTest::newRow("separable") << 32 << 2 << true << true << true << true << true;
    QTest::newRow("no batch norm") << 32 << 1 << false << false << true << true << true;
    QTest::newRow("no z skip") << 32 << 1 << false << true << false << true << true;
    QTest::newRow("blocky z map") << 32 << 2 << false << true << true << false << true;
    QTest::newRow("blocky z map, separable") << 32 << 1 << true << true << true << false << true;
    QTest::newRow("latents at any length") << 32 << 1 << false << true << true << true << false;
}

void TestRenderer::inferenceGeneratorMatchesTheGenerator() {
    QFETCH(int, size);
    QFETCH(int, repeats);
    QFETCH(bool, separable);
    QFETCH(bool, batchNorm);
    QFETCH(bool, zSkip);
    QFETCH(bool, smoothZMap);
    QFETCH(bool, normalizeZ);
    ArchConfig arch = test::tinyArch();
    arch.imageSize = size;
    arch.repeats = repeats;
    arch.separable = separable;
    arch.batchNorm = batchNorm;
    arch.zSkip = zSkip;
    arch.smoothZMap = smoothZMap;
    arch.normalizeZ = normalizeZ;
    Generator g = test::tinyGenerator(arch);
    {
        // Batch-norm scales and shifts far from 1 and 0, so that folding them is put to the test.
        torch::NoGradGuard noGrad;
        for (auto& p : g->named_parameters()) {
            if (p.key().find("norm") != std::string::npos) {
                p.value().uniform_(0.5, 1.5);
            }
        }
    }
    // Latents from a third to twice a random one's length, as the grid and arithmetic make them.
    const torch::Tensor z =
        sampleLatents(6, arch.latentDim, 2) * torch::linspace(0.3, 2.0, 6).unsqueeze(1);
    torch::Tensor expected;
    {
        torch::NoGradGuard noGrad;
        expected = g->forward(z);
    }
    c10::InferenceMode inference;
    const torch::Tensor got = InferenceGenerator(g, torch::kCPU).forward(z);
    QCOMPARE(got.sizes(), expected.sizes());
    const double worst = (got - expected).abs().max().item<double>();
    QVERIFY2(worst < 1e-4, qPrintable(QString::number(worst)));
    QVERIFY(expected.std().item<double>() > 0.01);  // a real picture, not a constant
}

void TestRenderer::bf16LooksTheSame() {
    // Emulated where the CPU lacks bf16: slower, the same numbers.
    ArchConfig arch = test::tinyArch();
    arch.repeats = 2;
    const Generator g = test::tinyGenerator(arch);
    const torch::Tensor z = sampleLatents(12, arch.latentDim, 5);
    Renderer exact(g, torch::kCPU, 0, Precision::Float32);
    Renderer fast(g, torch::kCPU, 0, Precision::BFloat16);
    QCOMPARE(fast.precision(), Precision::BFloat16);
    const auto a = exact.render(z);
    const auto b = fast.render(z);
    int worst = 0;
    long differing = 0;
    long total = 0;
    long count = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        for (size_t p = 0; p < a[i].pixels.size(); ++p) {
            const int d = std::abs(int(a[i].pixels[p]) - int(b[i].pixels[p]));
            worst = std::max(worst, d);
            differing += d > 0 ? 1 : 0;
            total += d;
            ++count;
        }
    }
    // Invisible: a few levels of 255 at worst, well under one on average.
    const double mean = double(total) / double(count);
    QVERIFY2(worst <= 8 && mean < 0.5, qPrintable(QStringLiteral("%1 %2").arg(worst).arg(mean)));
    QVERIFY(differing > 0);  // it did run in bf16
    QVERIFY_THROWS_EXCEPTION(ConfigError, precisionFromName("fp16"));
    QCOMPARE(precisionFromName(precisionName(Precision::BFloat16)), Precision::BFloat16);
}

void TestRenderer::normalisedGeneratorsDrawOnlyTheDirection() {
    // A generator that normalises z draws a latent and any positive multiple of it alike, in
    // training's module and in the drawing path; one that does not draws them apart.
    const torch::Tensor z = sampleLatents(4, test::tinyArch().latentDim, 7);
    const torch::Tensor scales = torch::tensor({0.2f, 0.7f, 1.6f, 3.0f}).unsqueeze(1);
    for (const bool normalizeZ : {true, false}) {
        ArchConfig arch = test::tinyArch();
        arch.normalizeZ = normalizeZ;
        Generator g = test::tinyGenerator(arch);
        g->eval();
        torch::NoGradGuard noGrad;
        const torch::Tensor same = g->forward(z);
        const torch::Tensor scaled = g->forward(z * scales);
        const torch::Tensor drawn = InferenceGenerator(g, torch::kCPU).forward(z * scales);
        const double moduleApart = (same - scaled).abs().max().item<double>();
        const double drawnApart = (same - drawn).abs().max().item<double>();
        if (normalizeZ) {
            QVERIFY2(moduleApart < 1e-4, qPrintable(QString::number(moduleApart)));
            QVERIFY2(drawnApart < 1e-4, qPrintable(QString::number(drawnApart)));
        } else {
            QVERIFY2(moduleApart > 1e-3, qPrintable(QString::number(moduleApart)));
            QVERIFY2(drawnApart > 1e-3, qPrintable(QString::number(drawnApart)));
        }
    }
    // New runs train on latents as they come and draw them scaled: training's pass tells a
    // latent from its multiples, the drawing passes do not, and a latent already at the typical
    // length is drawn the same either way.
    for (const bool inTraining : {false, true}) {
        ArchConfig arch = test::tinyArch();
        arch.normalizeZInTraining = inTraining;
        Generator g = test::tinyGenerator(arch);
        g->eval();
        torch::NoGradGuard noGrad;
        const torch::Tensor trained = g->forwardInTraining(z * scales);
        const torch::Tensor drawn = g->forward(z * scales);
        const double apart = (trained - drawn).abs().max().item<double>();
        if (inTraining) {
            QVERIFY2(apart < 1e-4, qPrintable(QString::number(apart)));
        } else {
            QVERIFY2(apart > 1e-3, qPrintable(QString::number(apart)));
        }
        const torch::Tensor typical = atTypicalLength(z);
        const double typicalApart =
            (g->forwardInTraining(typical) - g->forward(typical)).abs().max().item<double>();
        QVERIFY2(typicalApart < 1e-4, qPrintable(QString::number(typicalApart)));
    }
    // The typical length itself: sqrt(dim) for every row, and a zero row left at zero.
    const torch::Tensor rows = torch::cat({z * scales, torch::zeros({1, z.size(1)})});
    const torch::Tensor lengths = atTypicalLength(rows).norm(2, 1);
    const double dimRoot = std::sqrt(static_cast<double>(z.size(1)));
    QVERIFY((lengths.slice(0, 0, 4) - dimRoot).abs().max().item<double>() < 1e-4);
    QCOMPARE(lengths[4].item<double>(), 0.0);
}

QTEST_APPLESS_MAIN(TestRenderer)
#include "test_renderer.moc"
