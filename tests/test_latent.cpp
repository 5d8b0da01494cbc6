#include <torch/torch.h>
#include <QtTest/QtTest>

#include <cmath>
#include <filesystem>

#include "core/errors.h"
#include "core/io/container.h"
#include "core/io/tensorio.h"
#include "core/latent/directions.h"
#include "core/latent/latentspace.h"
#include "core/latent/projection.h"
#include "core/latent/rng.h"
#include "core/latent/threetext.h"
#include "core/runtime/precision.h"
#include "testutil.h"

using namespace cattery;

Q_DECLARE_METATYPE(cattery::Interpolation)

Q_DECLARE_METATYPE(cattery::DirectionFeatures)

namespace QTest {
template <>
inline char* toString(const cattery::ProjectionLoss& loss) {
    return qstrdup(cattery::projectionLossName(loss));
}
}  // namespace QTest

class TestLatent : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void projectionIsSeeded();
    void threeNumbersRoundTrip_data();
    void threeNumbersRoundTrip();
    void residualKeepsAnyLatent();
    void slerpEndpointsAndNorms_data();
    void slerpEndpointsAndNorms();
    void gridCornersAreTheCorners_data();
    void gridCornersAreTheCorners();
    void affectedCells_data();
    void affectedCells();
    void arithmeticIsLinear();
    void samplingIsSeeded();
    void truncationBoundsValues_data();
    void truncationBoundsValues();
    void badArgumentsThrow();
    void threeNumbersAsText();
    void loopsVisitEveryPointInTurn_data();
    void loopsVisitEveryPointInTurn();
    void directionsAreOrthonormalAndSortedByVariance_data();
    void directionsAreOrthonormalAndSortedByVariance();
    void attributeDirectionIsTheDifferenceOfMeans();
    void directionsFilesRoundTrip();
    void fingerprintTellsGeneratorsApart();
    void badDirectionsFilesAreRefused_data();
    void badDirectionsFilesAreRefused();
    void projectionRecoversALatentTheModelDrew();
    void projectionComparesFeaturesWithAnEncoder();
    void projectionStartsWhereTheLatentHeadProposes();
    void projectionStopsWhenCancelled();
    void badProjectionsAreRefused();
};

void TestLatent::projectionIsSeeded() {
    const LatentSpace a(100, 42), b(100, 42), c(100, 43);
    QVERIFY(torch::equal(a.projection(), b.projection()));
    QVERIFY(!torch::equal(a.projection(), c.projection()));
    QCOMPARE(a.projection().size(0), 100);
    QCOMPARE(a.projection().size(1), 3);
    // Gaussian entries: mean near 0, standard deviation near 1.
    QVERIFY(std::abs(a.projection().mean().item<double>()) < 0.2);
    QVERIFY(std::abs(a.projection().std().item<double>() - 1.0) < 0.2);
    QVERIFY(torch::equal(LatentSpace(3, 9).projection(), torch::eye(3)));
}

void TestLatent::threeNumbersRoundTrip_data() {
    QTest::addColumn<int>("dim");
    QTest::addColumn<float>("x");
    QTest::addColumn<float>("y");
    QTest::addColumn<float>("z");
    QTest::newRow("dim3") << 3 << 0.5f << -1.0f << 2.0f;
    QTest::newRow("dim8") << 8 << 1.0f << 0.0f << 0.0f;
    QTest::newRow("dim100") << 100 << -3.5f << 2.25f << 0.125f;
    QTest::newRow("dim512-small") << 512 << 0.001f << -0.002f << 0.003f;
    QTest::newRow("dim100-zero") << 100 << 0.0f << 0.0f << 0.0f;
}

void TestLatent::threeNumbersRoundTrip() {
    QFETCH(int, dim);
    QFETCH(float, x);
    QFETCH(float, y);
    QFETCH(float, z);
    const LatentSpace space(dim, 11);
    const torch::Tensor latent = space.fromThree(std::array<float, 3>{x, y, z});
    QCOMPARE(latent.size(0), dim);
    const torch::Tensor back = space.toThree(latent);
    QVERIFY(torch::allclose(back, torch::tensor({x, y, z}), 1e-4, 1e-5));
    QVERIFY(space.residual(latent).abs().max().item<float>() < 1e-4f);
}

void TestLatent::residualKeepsAnyLatent() {
    const LatentSpace space(100, 5);
    const torch::Tensor z = sampleLatents(1, 100, 77)[0];
    const torch::Tensor residual = space.residual(z);
    QVERIFY(residual.norm().item<float>() > 1.0f);  // a random z is not in P's span
    const torch::Tensor rebuilt = space.fromThree(space.toThree(z)) + residual;
    QVERIFY(torch::allclose(rebuilt, z, 1e-5, 1e-5));
    // The residual is orthogonal to P's columns: moving the three numbers never fights it.
    QVERIFY(space.projection().t().mv(residual).abs().max().item<float>() < 1e-3f);
}

void TestLatent::slerpEndpointsAndNorms_data() {
    QTest::addColumn<int>("dim");
    QTest::addColumn<double>("t");
    QTest::newRow("d100-t0.25") << 100 << 0.25;
    QTest::newRow("d100-t0.5") << 100 << 0.5;
    QTest::newRow("d3-t0.9") << 3 << 0.9;
    QTest::newRow("d512-t0.1") << 512 << 0.1;
}

void TestLatent::slerpEndpointsAndNorms() {
    QFETCH(int, dim);
    QFETCH(double, t);
    const torch::Tensor a = sampleLatents(1, dim, 1)[0];
    torch::Tensor b = sampleLatents(1, dim, 2)[0];
    b = b * (a.norm() / b.norm());  // equal norms: slerp stays on the sphere
    QVERIFY(torch::equal(interpolate(a, b, 0.0, Interpolation::Spherical), a));
    QVERIFY(torch::equal(interpolate(a, b, 1.0, Interpolation::Spherical), b));
    QVERIFY(torch::equal(interpolate(a, b, 0.0, Interpolation::Linear), a));
    QVERIFY(torch::equal(interpolate(a, b, 1.0, Interpolation::Linear), b));
    const torch::Tensor mid = interpolate(a, b, t, Interpolation::Spherical);
    QVERIFY(std::abs(mid.norm().item<double>() - a.norm().item<double>()) <
            1e-3 * a.norm().item<double>());
    // Linear interpolation cuts inside the sphere.
    const torch::Tensor chord = interpolate(a, b, t, Interpolation::Linear);
    QVERIFY(chord.norm().item<double>() < mid.norm().item<double>());
    // Parallel vectors fall back to lerp without NaN.
    const torch::Tensor same = interpolate(a, a * 2, t, Interpolation::Spherical);
    QVERIFY(torch::isfinite(same).all().item<bool>());
    QVERIFY(torch::allclose(same, a * (1 + t), 1e-4, 1e-4));
}

void TestLatent::gridCornersAreTheCorners_data() {
    QTest::addColumn<int>("n");
    QTest::addColumn<bool>("spherical");
    for (int n : {2, 3, 5, 12}) {
        QTest::addRow("n%d-lerp", n) << n << false;
        QTest::addRow("n%d-slerp", n) << n << true;
    }
}

void TestLatent::gridCornersAreTheCorners() {
    QFETCH(int, n);
    QFETCH(bool, spherical);
    const torch::Tensor c = sampleLatents(4, 50, 9);
    const std::array<torch::Tensor, 4> corners{c[0], c[1], c[2], c[3]};
    const torch::Tensor grid =
        cornerGrid(corners, n, spherical ? Interpolation::Spherical : Interpolation::Linear);
    QCOMPARE(grid.size(0), n * n);
    QCOMPARE(grid.size(1), 50);
    QVERIFY(torch::equal(grid[0], c[0]));
    QVERIFY(torch::equal(grid[n - 1], c[1]));
    QVERIFY(torch::equal(grid[(n - 1) * n], c[2]));
    QVERIFY(torch::equal(grid[n * n - 1], c[3]));
    if (!spherical && n == 3) {
        // The centre of a 3x3 linear grid is the mean of the corners.
        QVERIFY(torch::allclose(grid[4], c.mean(0), 1e-5, 1e-5));
    }
}

void TestLatent::affectedCells_data() {
    QTest::addColumn<int>("corner");
    QTest::addColumn<int>("n");
    QTest::addColumn<int>("expected");
    QTest::newRow("tl-5") << int(TopLeft) << 5 << 16;
    QTest::newRow("tr-5") << int(TopRight) << 5 << 16;
    QTest::newRow("bl-5") << int(BottomLeft) << 5 << 16;
    QTest::newRow("br-5") << int(BottomRight) << 5 << 16;
    QTest::newRow("tl-2") << int(TopLeft) << 2 << 1;
    QTest::newRow("br-12") << int(BottomRight) << 12 << 121;
}

void TestLatent::affectedCells() {
    QFETCH(int, corner);
    QFETCH(int, n);
    QFETCH(int, expected);
    const std::vector<int> cells = cattery::affectedCells(corner, n);
    QCOMPARE(int(cells.size()), expected);
    for (bool spherical : {false, true}) {
        const auto mode = spherical ? Interpolation::Spherical : Interpolation::Linear;
        const torch::Tensor c = sampleLatents(5, 20, 4);
        std::array<torch::Tensor, 4> corners{c[0], c[1], c[2], c[3]};
        const torch::Tensor before = cornerGrid(corners, n, mode);
        corners[static_cast<size_t>(corner)] = c[4];
        const torch::Tensor after = cornerGrid(corners, n, mode);
        for (int i = 0; i < n * n; ++i) {
            const bool listed = std::find(cells.begin(), cells.end(), i) != cells.end();
            // Exactly the listed cells change; the others keep their bits.
            QCOMPARE(!torch::equal(before[i], after[i]), listed);
        }
    }
}

void TestLatent::arithmeticIsLinear() {
    const LatentSpace space(100, 1);
    const std::array<float, 3> a{1.0f, 0.5f, -0.5f}, b{-0.5f, 1.0f, 0.0f}, c{0.0f, -1.0f, 1.0f};
    const torch::Tensor result =
        arithmetic(space.fromThree(a), space.fromThree(b), space.fromThree(c));
    const torch::Tensor direct = space.fromThree(std::array<float, 3>{1.5f, -1.5f, 0.5f});
    QVERIFY(torch::allclose(result, direct, 1e-5, 1e-5));
    QVERIFY(torch::allclose(space.toThree(result), torch::tensor({1.5f, -1.5f, 0.5f}), 1e-4, 1e-4));
}

void TestLatent::samplingIsSeeded() {
    const torch::Tensor a = sampleLatents(25, 100, 1234);
    QVERIFY(torch::equal(a, sampleLatents(25, 100, 1234)));
    QVERIFY(!torch::equal(a, sampleLatents(25, 100, 1235)));
    // The first rows do not depend on how many are drawn.
    QVERIFY(torch::equal(sampleLatents(5, 100, 1234), a.narrow(0, 0, 5)));
    QVERIFY(std::abs(a.mean().item<double>()) < 0.1);
    QVERIFY(std::abs(a.std().item<double>() - 1.0) < 0.1);
    Rng r1(5), r2(5);
    for (int i = 0; i < 100; ++i) {
        QCOMPARE(r1.next(), r2.next());
    }
}

void TestLatent::truncationBoundsValues_data() {
    QTest::addColumn<double>("truncation");
    QTest::newRow("0.5") << 0.5;
    QTest::newRow("1") << 1.0;
    QTest::newRow("2") << 2.0;
}

void TestLatent::truncationBoundsValues() {
    QFETCH(double, truncation);
    const torch::Tensor z = sampleLatents(50, 100, 3, truncation);
    QVERIFY(z.abs().max().item<double>() <= truncation);
    QVERIFY(z.abs().max().item<double>() > truncation * 0.9);
    QVERIFY(sampleLatents(50, 100, 3).abs().max().item<double>() > truncation);
}

void TestLatent::badArgumentsThrow() {
    QVERIFY_THROWS_EXCEPTION(ConfigError, LatentSpace(2, 1));
    QVERIFY_THROWS_EXCEPTION(ConfigError, LatentSpace(513, 1));
    QVERIFY_THROWS_EXCEPTION(ConfigError, LatentSpace(torch::zeros({10, 3}), 1));
    QVERIFY_THROWS_EXCEPTION(ConfigError, LatentSpace(torch::zeros({10, 2}), 1));
    const torch::Tensor c = sampleLatents(4, 8, 1);
    QVERIFY_THROWS_EXCEPTION(ConfigError, cornerGrid({c[0], c[1], c[2], c[3]}, 1));
    QVERIFY_THROWS_EXCEPTION(ConfigError, cattery::affectedCells(4, 5));
    QVERIFY_THROWS_EXCEPTION(ConfigError, sampleLatents(2, 8, 1, 0.001));
}

void TestLatent::threeNumbersAsText() {
    const Three v = parseThree(" 0.5, -1 ,+2", "--a");
    QCOMPARE(v[0], 0.5f);
    QCOMPARE(v[1], -1.0f);
    QCOMPARE(v[2], 2.0f);
    // Commas and points mean the same in every locale: "0,5" is two numbers, not one half.
    for (const char* bad : {"", "1,2", "1,2,3,4", "1,2,3,", "a,b,c", "1,,3", "nan,0,0", "inf,0,0",
                            "1e99,0,0", "0x1p3,0,0", "1 2,3,4", "--1,0,0"}) {
        try {
            parseThree(bad, "--a");
            QFAIL(bad);
        } catch (const ConfigError& e) {
            QVERIFY2(QString::fromStdString(e.what()).contains(QStringLiteral("--a")), e.what());
        }
    }
    const std::array<Three, 4> corners = parseCorners("0,0,0;1,1,1;-1,0,1; 2,2,2", "--corners");
    QCOMPARE(corners[2][0], -1.0f);
    QCOMPARE(corners[3][2], 2.0f);
    for (const char* bad :
         {"0,0,0;1,1,1;2,2,2", "0,0,0;1,1,1;2,2,2;3,3,3;4,4,4", "0,0,0;1,1;2,2,2;3,3,3"}) {
        QVERIFY_THROWS_EXCEPTION(ConfigError, parseCorners(bad, "--corners"));
    }
    // A path: any number of points within the limits.
    const std::vector<Three> path = parsePoints("0,0,0; 1,2,3", "--path", 2, 5);
    QCOMPARE(path.size(), std::size_t{2});
    QCOMPARE(path[1][1], 2.0f);
    for (const char* bad : {"0,0,0", "0,0,0;1,1,1;2,2,2;3,3,3;4,4,4;5,5,5", "0,0,0;;1,1,1"}) {
        try {
            parsePoints(bad, "--path", 2, 5);
            QFAIL(bad);
        } catch (const ConfigError& e) {
            QVERIFY2(QString::fromStdString(e.what()).contains(QStringLiteral("--path")), e.what());
        }
    }
    // A long typing error is echoed cut short, not whole.
    try {
        parseThree(std::string(100000, 'x'), "--a");
        QFAIL("a long string was a number");
    } catch (const ConfigError& e) {
        QVERIFY(std::string(e.what()).size() < 1000);
    }
}

void TestLatent::loopsVisitEveryPointInTurn_data() {
    QTest::addColumn<Interpolation>("mode");
    QTest::newRow("lerp") << Interpolation::Linear;
    QTest::newRow("slerp") << Interpolation::Spherical;
}

// A loop of F frames per leg: N x F frames, each point exactly at the start of its leg, in turn,
// and the last frame one step short of the first (the movie loops without a repeated frame).
void TestLatent::loopsVisitEveryPointInTurn() {
    QFETCH(Interpolation, mode);
    const torch::Tensor points = sampleLatents(3, 8, 5);
    const int f = 7;
    const torch::Tensor path = loopPath(points, f, mode);
    QCOMPARE(path.size(0), 3 * f);
    QCOMPARE(path.size(1), 8);
    for (int i = 0; i < 3; ++i) {
        QVERIFY(torch::allclose(path[i * f], points[i], 1e-5, 1e-6));
    }
    // Each step of a leg is small beside the leg, the step from the last frame to the first too.
    const double leg = (points[0] - points[2]).norm().item<double>();
    const double wrap = (path[3 * f - 1] - path[0]).norm().item<double>();
    QVERIFY2(wrap > 0 && wrap < leg / f * 1.6, qPrintable(QString::number(wrap)));

    // The grid's corners: around its edge, top-left, top-right, bottom-right, bottom-left.
    std::array<torch::Tensor, 4> corners;
    for (int c = 0; c < 4; ++c) {
        corners[static_cast<std::size_t>(c)] = points[c % 3] * (c + 1);
    }
    const torch::Tensor loop = cornerLoop(corners, 2, mode);
    QCOMPARE(loop.size(0), 8);
    QVERIFY(torch::allclose(loop[0], corners[TopLeft]));
    QVERIFY(torch::allclose(loop[2], corners[TopRight]));
    QVERIFY(torch::allclose(loop[4], corners[BottomRight]));
    QVERIFY(torch::allclose(loop[6], corners[BottomLeft]));

    QVERIFY_THROWS_EXCEPTION(ConfigError, loopPath(points, 0, mode));
    QVERIFY_THROWS_EXCEPTION(ConfigError, loopPath(points, kMostFramesPerLeg + 1, mode));
    QVERIFY_THROWS_EXCEPTION(ConfigError, loopPath(points.narrow(0, 0, 1), 4, mode));
}

void TestLatent::directionsAreOrthonormalAndSortedByVariance_data() {
    QTest::addColumn<DirectionFeatures>("features");
    QTest::newRow("pictures") << DirectionFeatures::Pictures;
    QTest::newRow("opening features") << DirectionFeatures::Opening;
}

// GANSpace directions: orthonormal in the latent space, the largest variance first, the same for
// the same seed; the first changes what it was found in more than a random direction does.
void TestLatent::directionsAreOrthonormalAndSortedByVariance() {
    QFETCH(DirectionFeatures, features);
    ArchConfig arch = test::tinyArch(16);
    Generator g = test::tinyGenerator(arch);
    g->eval();
    const Directions d = principalDirections(g, 16, 6, 400, 3, features);
    QCOMPARE(d.vectors.size(0), 6);
    QCOMPARE(d.vectors.size(1), 16);
    const torch::Tensor gram = d.vectors.mm(d.vectors.t());
    QVERIFY2(torch::allclose(gram, torch::eye(6), 1e-4, 1e-5),
             qPrintable(QString::number((gram - torch::eye(6)).abs().max().item<double>())));
    double sum = 0;
    for (std::size_t i = 0; i < d.variance.size(); ++i) {
        QVERIFY(d.variance[i] > 0 && d.variance[i] <= 1);
        if (i > 0) {
            QVERIFY(d.variance[i] <= d.variance[i - 1]);
        }
        sum += d.variance[i];
    }
    QVERIFY(sum <= 1.0 + 1e-9);
    QVERIFY(torch::equal(principalDirections(g, 16, 6, 400, 3, features).vectors, d.vectors));

    // The first direction moves the features more than a random direction of the same length.
    c10::InferenceMode inference;
    const torch::Tensor z = sampleLatents(64, 16, 9);
    const auto seen = [&](const torch::Tensor& latents) {
        return features == DirectionFeatures::Opening ? g->opening(latents) : g->forward(latents);
    };
    const auto change = [&](const torch::Tensor& direction) {
        return (seen(moveAlong(z, direction, 1.0)) - seen(z)).pow(2).mean().item<double>();
    };
    const torch::Tensor random = torch::nn::functional::normalize(
        sampleLatents(1, 16, 11)[0], torch::nn::functional::NormalizeFuncOptions().dim(0));
    QVERIFY(change(d.vectors[0]) > change(random));
    QVERIFY(torch::equal(moveAlong(z, d.vectors[0], 0.0), z));

    // A three-number latent space has three directions at most.
    Generator three = test::tinyGenerator(test::tinyArch(3));
    three->eval();
    QCOMPARE(principalDirections(three, 3, 6, 100, 1, features).vectors.size(0), 3);
    QVERIFY_THROWS_EXCEPTION(ConfigError, principalDirections(g, 16, 0, 400));
    QVERIFY_THROWS_EXCEPTION(ConfigError, principalDirections(g, 16, kMostDirections + 1, 400));
    QVERIFY_THROWS_EXCEPTION(ConfigError, principalDirections(g, 16, 6, 10));
    QVERIFY_THROWS_EXCEPTION(ConfigError, moveAlong(z, torch::zeros({5}), 1.0));
}

void TestLatent::attributeDirectionIsTheDifferenceOfMeans() {
    const torch::Tensor selected = sampleLatents(200, 12, 4) + 2.0;
    const torch::Tensor d = attributeDirection(selected, 300, 9);
    const torch::Tensor expected = selected.mean(0) - sampleLatents(300, 12, 9).mean(0);
    QVERIFY(torch::allclose(d, expected, 1e-5, 1e-6));
    // Towards what the selection shares: about +2 in every number.
    QVERIFY(d.min().item<float>() > 1.5f);
    QVERIFY_THROWS_EXCEPTION(ConfigError, attributeDirection(torch::zeros({0, 12})));
}

namespace {

Directions someDirections() {
    Directions d;
    d.vectors = torch::eye(3, 8);
    d.variance = {0.5, 0.25, 0.0};
    d.names = {"pose", "tail"};
    d.generator = 0xdeadbeef;
    return d;
}

}  // namespace

void TestLatent::directionsFilesRoundTrip() {
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("m.directions")).toStdString();
    const Directions d = someDirections();
    saveDirections(path, d);
    const Directions back = loadDirections(path, 8);
    QVERIFY(torch::equal(back.vectors, d.vectors));
    QCOMPARE(back.variance, d.variance);
    QCOMPARE(back.names, d.names);
    QCOMPARE(back.generator, d.generator);
}

void TestLatent::fingerprintTellsGeneratorsApart() {
    const ArchConfig arch = test::tinyArch(16);
    Generator a = test::tinyGenerator(arch);
    Generator b = test::tinyGenerator(arch);
    torch::NoGradGuard noGrad;
    for (std::size_t i = 0; i < a->parameters().size(); ++i) {
        b->parameters()[i].copy_(a->parameters()[i]);
    }
    QCOMPARE(generatorFingerprint(b), generatorFingerprint(a));
    b->parameters().back().add_(1e-3);
    QVERIFY(generatorFingerprint(b) != generatorFingerprint(a));
}

void TestLatent::badDirectionsFilesAreRefused_data() {
    QTest::addColumn<QString>("damage");
    QTest::addColumn<QString>("expected");
    QTest::newRow("another length") << QStringLiteral("dim") << QStringLiteral("latents of 8");
    QTest::newRow("a model") << QStringLiteral("kind")
                             << QStringLiteral("not a model's directions");
    QTest::newRow("truncated") << QStringLiteral("truncate") << QStringLiteral("truncated");
    QTest::newRow("share out of range")
        << QStringLiteral("variance") << QStringLiteral("between 0 and 1");
    QTest::newRow("not finite") << QStringLiteral("nan") << QStringLiteral("not finite");
    QTest::newRow("long name") << QStringLiteral("name") << QStringLiteral("too long");
    QTest::newRow("fingerprint not a number")
        << QStringLiteral("generator") << QStringLiteral("generator");
    QTest::newRow("vectors of another shape")
        << QStringLiteral("shape") << QStringLiteral("are not 3 x 8");
}

// Each damaged file is a ModelFileError naming the file and what is wrong with it.
void TestLatent::badDirectionsFilesAreRefused() {
    QFETCH(QString, damage);
    QFETCH(QString, expected);
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("m.directions")).toStdString();
    Directions d = someDirections();
    int dim = 8;
    if (damage == QStringLiteral("nan")) {
        d.vectors[1][2] = std::nanf("");
    }
    if (damage == QStringLiteral("name")) {
        d.names[0] = std::string(kMostDirectionNameLength + 1, 'x');
    }
    saveDirections(path, d);
    Container c = readContainer(path);
    if (damage == QStringLiteral("dim")) {
        dim = 9;
    } else if (damage == QStringLiteral("kind")) {
        c.kind = "model";
    } else if (damage == QStringLiteral("variance")) {
        c.meta["variance"][1] = 1.5;
    } else if (damage == QStringLiteral("generator")) {
        c.meta["generator"] = -1;
    } else if (damage == QStringLiteral("shape")) {
        c.records[0] = toRecord("vectors", torch::zeros({2, 8}));
    }
    writeContainer(path, c);
    if (damage == QStringLiteral("truncate")) {
        std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
    }
    try {
        loadDirections(path, dim);
        QFAIL("a damaged directions file was read");
    } catch (const ModelFileError& e) {
        const QString message = QString::fromStdString(e.what());
        QVERIFY2(message.contains(QString::fromStdString(path)) && message.contains(expected),
                 qPrintable(message));
    }
}

namespace {

// A small search, for a tiny model: quick, and still many steps.
ProjectionSettings quickSearch() {
    ProjectionSettings s;
    s.candidates = 64;
    s.steps = 200;
    return s;
}

}  // namespace

void TestLatent::projectionRecoversALatentTheModelDrew() {
    const ArchConfig arch = test::tinyArch(8);
    Generator g = test::tinyGenerator(arch);
    const torch::Tensor drawn = sampleLatents(3, 8, 77, 2.0);
    torch::Tensor pictures;
    {
        torch::NoGradGuard noGrad;
        pictures = g->forward(drawn);
    }
    const torch::Tensor before = g->parameters().front().clone();
    // Both number formats of the refining steps (bf16 is emulated where the CPU lacks it).
    for (const Precision precision : {Precision::Float32, Precision::BFloat16}) {
        ProjectionSettings search = quickSearch();
        search.precision = precision;
        ProjectionSettings glanceOnly = search;
        glanceOnly.steps = 0;
        const auto started = project(g, Encoder{nullptr}, pictures, glanceOnly);
        const auto found = project(g, Encoder{nullptr}, pictures, search);
        QVERIFY(started && found);
        QCOMPARE(found->size(), std::size_t{3});
        for (std::size_t i = 0; i < found->size(); ++i) {
            const Projection& p = (*found)[i];
            QCOMPARE(p.latent.size(0), 8);
            QVERIFY(p.latent.abs().max().item<double>() <= 3.0);
            // The distance reported is that of the picture returned, which is the latent's
            // picture, in float32 whatever the steps' format.
            torch::NoGradGuard noGrad;
            const torch::Tensor again = g->forward(p.latent.unsqueeze(0));
            QCOMPARE(p.picture.scalar_type(), torch::kFloat32);
            QVERIFY(torch::allclose(again[0], p.picture, 1e-4, 1e-4));
            QVERIFY(std::abs(pictureDistance(again, pictures[i].unsqueeze(0)).item<double>() -
                             p.distance) < 1e-4);
            // Adam brings the closest random start much nearer the picture.
            QVERIFY2(p.distance < 0.5 * (*started)[i].distance,
                     qPrintable(QStringLiteral("%1 from %2 (%3)")
                                    .arg(p.distance)
                                    .arg((*started)[i].distance)
                                    .arg(QString::fromStdString(precisionName(precision)))));
            QVERIFY2(p.distance < 0.02, qPrintable(QString::number(p.distance)));
        }
        // The same search finds the same latents.
        const auto repeat = project(g, Encoder{nullptr}, pictures, search);
        QVERIFY(torch::equal((*repeat)[0].latent, (*found)[0].latent));
    }
    // The model itself is only read.
    QVERIFY(torch::equal(before, g->parameters().front()));
    QVERIFY(!g->parameters().front().grad().defined());
}

void TestLatent::projectionComparesFeaturesWithAnEncoder() {
    const ArchConfig arch = test::tinyArch(8);
    Generator g = test::tinyGenerator(arch);
    torch::manual_seed(5);
    Encoder encoder(arch);
    encoder->eval();
    torch::Tensor pictures;
    {
        torch::NoGradGuard noGrad;
        pictures = g->forward(sampleLatents(2, 8, 78, 2.0));
    }
    QCOMPARE(ProjectionSettings{}.loss, ProjectionLoss::Pixels);
    checkLoss(ProjectionLoss::Features, encoder);
    checkLoss(ProjectionLoss::Pixels, Encoder{nullptr});
    ProjectionSettings s = quickSearch();
    s.loss = ProjectionLoss::Features;
    const auto found = project(g, encoder, pictures, s);
    QVERIFY(found);
    for (const Projection& p : *found) {
        QVERIFY2(p.distance < 0.05, qPrintable(QString::number(p.distance)));
    }
    // The features change the search: another latent than the pixels' alone.
    s.loss = ProjectionLoss::Pixels;
    const auto byPixels = project(g, encoder, pictures, s);
    QVERIFY(!torch::equal((*byPixels)[0].latent, (*found)[0].latent));
    // Without an encoder, asking for features is an error that says why.
    s.loss = ProjectionLoss::Features;
    try {
        project(g, Encoder{nullptr}, pictures, s);
        QFAIL("features without an encoder were accepted");
    } catch (const ConfigError& e) {
        QVERIFY(QString::fromStdString(e.what()).contains(QStringLiteral("no encoder")));
    }
}

void TestLatent::projectionStartsWhereTheLatentHeadProposes() {
    const ArchConfig arch = test::tinyArch(8);
    Generator g = test::tinyGenerator(arch);
    // A head that proposes one latent whatever it sees: its last layer's weights are zero and its
    // bias is the latent, at a random latent's typical length as proposals are.
    const torch::Tensor wanted = atTypicalLength(sampleLatents(1, 8, 79, 2.0));
    Encoder encoder(arch);
    encoder->addLatentHead();
    encoder->eval();
    {
        torch::NoGradGuard noGrad;
        for (auto& item : encoder->named_parameters()) {
            if (item.key() == "latent_head.2.weight") {
                item.value().zero_();
            } else if (item.key() == "latent_head.2.bias") {
                item.value().copy_(wanted[0]);
            }
        }
    }
    torch::Tensor picture;
    {
        torch::NoGradGuard noGrad;
        picture = g->forward(wanted);
    }
    // Without refining steps, what is found is the proposal where it is closer than the random
    // starts; and only the random starts without the proposals.
    ProjectionSettings s;
    s.candidates = 8;
    s.steps = 0;
    const auto proposed = project(g, encoder, picture, s);
    QVERIFY(proposed);
    QVERIFY(torch::allclose((*proposed)[0].latent, wanted[0], 1e-5, 1e-5));
    QVERIFY2((*proposed)[0].distance < 1e-4, qPrintable(QString::number((*proposed)[0].distance)));
    s.proposal = false;
    const auto random = project(g, encoder, picture, s);
    QVERIFY((*random)[0].distance > 100 * (*proposed)[0].distance + 1e-3);
    QVERIFY((*random)[0].distance == (*project(g, Encoder{nullptr}, picture, s))[0].distance);
    // With several starts it takes the farthest one's place; the search then refines them all,
    // and ends no farther than the proposal.
    s.proposal = true;
    s.starts = 3;
    s.steps = 20;
    const auto refined = project(g, encoder, picture, s);
    QVERIFY((*refined)[0].distance <= (*proposed)[0].distance + 1e-4);
}

void TestLatent::projectionStopsWhenCancelled() {
    const ArchConfig arch = test::tinyArch(8);
    Generator g = test::tinyGenerator(arch);
    const torch::Tensor pictures = torch::zeros({2, 3, 32, 32});
    int calls = 0;
    int lastTotal = 0;
    bool inRange = true;
    const auto cancelled =
        project(g, Encoder{nullptr}, pictures, quickSearch(), [&](int done, int total) {
            ++calls;
            lastTotal = total;
            inRange = inRange && done == calls && done <= total;
            return done < 5;
        });
    QVERIFY(!cancelled);
    QVERIFY(inRange);
    QCOMPARE(calls, 5);
    // One group of targets: the candidates' batch, then each step.
    QCOMPARE(lastTotal, 1 + 200);
}

void TestLatent::badProjectionsAreRefused() {
    const ArchConfig arch = test::tinyArch(8);
    Generator g = test::tinyGenerator(arch);
    auto refused = [&](const torch::Tensor& targets, const ProjectionSettings& s) {
        try {
            project(g, Encoder{nullptr}, targets, s);
        } catch (const ConfigError&) {
            return true;
        }
        return false;
    };
    const ProjectionSettings fine = quickSearch();
    QVERIFY(refused(torch::zeros({1, 3, 64, 64}), fine));  // another size than the model's
    QVERIFY(refused(torch::zeros({3, 32, 32}), fine));     // not a batch
    QVERIFY(refused(torch::zeros({1, 1, 32, 32}), fine));  // one channel
    QVERIFY(refused(torch::zeros({kMostProjectionTargets + 1, 3, 32, 32}), fine));
    g->train();  // batch norm would learn from the search
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                             project(g, Encoder{nullptr}, torch::zeros({1, 3, 32, 32}), fine));
    g->eval();
    for (auto change : std::vector<std::function<void(ProjectionSettings&)>>{
             [](ProjectionSettings& s) { s.candidates = 0; },
             [](ProjectionSettings& s) { s.starts = kMostProjectionStarts + 1; },
             [](ProjectionSettings& s) { s.steps = -1; },
             [](ProjectionSettings& s) { s.learningRate = std::nan(""); },
             [](ProjectionSettings& s) { s.range = 0; },
             [](ProjectionSettings& s) { s.featureWeight = -1; }}) {
        ProjectionSettings s = fine;
        change(s);
        QVERIFY(refused(torch::zeros({1, 3, 32, 32}), s));
    }
    QVERIFY_THROWS_EXCEPTION(ConfigError, projectionLossFromName("gradients"));
    QCOMPARE(projectionLossFromName("features"), ProjectionLoss::Features);
    // No targets: nothing to find.
    QCOMPARE(project(g, Encoder{nullptr}, torch::zeros({0, 3, 32, 32}), fine)->size(),
             std::size_t{0});
}

QTEST_APPLESS_MAIN(TestLatent)
#include "test_latent.moc"
