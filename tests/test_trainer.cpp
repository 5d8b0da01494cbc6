#include <torch/torch.h>
#include <QtTest/QtTest>

#include <atomic>
#include <filesystem>

#include "core/errors.h"
#include "core/io/container.h"
#include "core/io/modelfile.h"
#include "core/io/naming.h"
#include "core/io/tensorio.h"
#include "core/runtime/device.h"
#include "core/runtime/renderer.h"
#include "core/runtime/threads.h"
#include "core/train/trainer.h"
#include "core/train/trainloop.h"
#include "testutil.h"

using namespace cattery;

namespace {

ArchConfig smallArch() {
    ArchConfig a = test::tinyArch(32);
    a.nf = 8;
    a.ndf = 16;
    return a;
}

TrainConfig smallConfig() {
    TrainConfig c = test::plainConfig();
    c.steps = 300;
    c.checkpointEvery = 50;
    c.sampleEvery = 0;
    c.sampleCount = 4;
    c.seed = 11;
    c.lrStallSteps = 0;
    return c;
}

// Built with AddressSanitizer (clang says so by __has_feature, gcc by __SANITIZE_ADDRESS__).
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

// Both precisions learn. (Without native bf16 it is emulated, many times slower: those rows are
// left out there, and the renderer's test still covers bf16 arithmetic. Under the sanitizers a
// bf16 row's 300 steps outlast QtTest's five minutes for one test function even where bf16 is
// native, so they are left out there too: the release build runs them, and test_latent's image
// search still takes bf16 steps under the sanitizers.)
void precisionRows() {
    QTest::addColumn<Precision>("precision");
    QTest::addColumn<double>("average");
    QTest::newRow("fp32") << Precision::Float32 << 0.0;
    QTest::newRow("fp32, weight average") << Precision::Float32 << 0.99;
    if (cpuHasNativeBf16() && !kSanitized) {
        QTest::newRow("bf16") << Precision::BFloat16 << 0.0;
    }
}

TrainConfig smallConfig(Precision precision, double average) {
    TrainConfig c = smallConfig();
    c.precision = precision;
    c.averageDecay = average;
    return c;
}

bool finite(const StepStats& s) {
    return std::isfinite(s.lossReal) && std::isfinite(s.lossFake) && std::isfinite(s.lossD) &&
           std::isfinite(s.convergence) && std::isfinite(s.k);
}

}  // namespace

Q_DECLARE_METATYPE(cattery::Precision)

class TestTrainer : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        configureThreads(0);
    }
    void lossFallsAndStaysFinite_data() { precisionRows(); }
    void lossFallsAndStaysFinite();
    void resumedRunMatchesUninterrupted_data() { precisionRows(); }
    void resumedRunMatchesUninterrupted();
    void oneBackwardPassMatchesTheTwoLosses();
    void injectedNaNRollsBack();
    void persistentNaNGivesUp();
    void cancelLeavesALoadableCheckpoint();
    void badInputIsRefused();
    void learningRateSchedule();
    void modelIsTheGeneratorsAverage();
    void settledStatisticsAreTheWeightsOwn();
    void bf16RunSettlesInItsPrecision();
    void noAverageKeepsOneGenerator();
    void discriminatorLearnsAtItsOwnRate();
    void coverTermLearnsToDrawTheRealPictures();
    void coverRunResumesAndOpensAsAModel();

private:
    std::string path(const char* name) const {
        return m_dir.filePath(QString::fromLatin1(name)).toStdString();
    }
    QTemporaryDir m_dir;
};

void TestTrainer::lossFallsAndStaysFinite() {
    QFETCH(Precision, precision);
    QFETCH(double, average);
    Trainer t(smallArch(), smallConfig(precision, average), test::blobDataset(64, 32), torch::kCPU);
    std::vector<StepStats> stats;
    for (int i = 0; i < 300; ++i) {
        stats.push_back(t.step());
        QVERIFY(finite(stats.back()));
        QVERIFY(stats.back().k >= 0.0 && stats.back().k <= 1.0);
        QCOMPARE(stats.back().step, i + 1);
        QVERIFY(stats.back().imagesPerSecond > 0);
        QCOMPARE(stats.back().lossG, stats.back().lossFake);
    }
    auto meanLx = [&](size_t from, size_t to) {
        double sum = 0;
        for (size_t i = from; i < to; ++i)
            sum += stats[i].lossReal;
        return sum / double(to - from);
    };
    const double early = meanLx(0, 20), late = meanLx(280, 300);
    QVERIFY2(late < early * 0.8, qPrintable(QStringLiteral("L(x) %1 -> %2").arg(early).arg(late)));
    // The reported measures follow BEGAN's definitions.
    const double gamma = smallConfig().gamma;
    for (size_t i = 1; i < stats.size(); ++i) {
        const StepStats& s = stats[i];
        QVERIFY(std::abs(s.convergence - (s.lossReal + std::abs(gamma * s.lossReal - s.lossFake))) <
                1e-9);
        QVERIFY(std::abs(s.lossD - (s.lossReal - stats[i - 1].k * s.lossFake)) < 1e-9);
        const double expectedK = std::clamp(
            stats[i - 1].k + smallConfig().lambdaK * (gamma * s.lossReal - s.lossFake), 0.0, 1.0);
        QVERIFY(std::abs(s.k - expectedK) < 1e-12);
    }
    const torch::Tensor samples = t.samples();
    QCOMPARE(samples.sizes(), (std::vector<int64_t>{4, 3, 32, 32}));
    QVERIFY(torch::isfinite(samples).all().item<bool>());
}

void TestTrainer::resumedRunMatchesUninterrupted() {
    QFETCH(Precision, precision);
    QFETCH(double, average);
    const Dataset data = test::blobDataset(64, 32);
    TrainConfig config = smallConfig(precision, average);
    config.discriminatorLrScale = 2.0;  // the resumed run must keep both rates
    Trainer full(smallArch(), config, data, torch::kCPU);
    std::vector<StepStats> reference;
    for (int i = 0; i < 300; ++i) {
        reference.push_back(full.step());
        if (full.stepCount() == 150) {
            full.saveCheckpoint(path("half.checkpoint.cattery"));
        }
    }
    Trainer resumed = Trainer::resume(path("half.checkpoint.cattery"), data, torch::kCPU);
    QCOMPARE(resumed.stepCount(), 150);
    QCOMPARE(resumed.config().precision, precision);  // kept in the checkpoint
    QCOMPARE(resumed.config().averageDecay, average);
    QCOMPARE(resumed.config().discriminatorLrScale, 2.0);
    for (size_t i = 150; i < 300; ++i) {
        const StepStats s = resumed.step();
        QCOMPARE(s.step, reference[i].step);
        QVERIFY2(std::abs(s.lossReal - reference[i].lossReal) <=
                     1e-4 * std::abs(reference[i].lossReal) + 1e-6,
                 qPrintable(QStringLiteral("step %1: L(x) %2 vs %3")
                                .arg(s.step)
                                .arg(s.lossReal)
                                .arg(reference[i].lossReal)));
        QVERIFY(std::abs(s.lossFake - reference[i].lossFake) <=
                1e-4 * std::abs(reference[i].lossFake) + 1e-6);
        QVERIFY(std::abs(s.k - reference[i].k) <= 1e-6);
    }
    // Both end with the same generator output.
    QVERIFY(torch::allclose(resumed.samples(), full.samples(), 1e-3, 1e-4));
}

void TestTrainer::oneBackwardPassMatchesTheTwoLosses() {
    // Two copies of one run, with k_t well above 0 so that both halves of D's gradient count.
    const Dataset data = test::blobDataset(16, 32);
    Trainer warm(smallArch(), smallConfig(), data, torch::kCPU);
    warm.step();
    Container state = warm.checkpoint();
    const double k = 0.4;
    state.meta["training"]["k"] = k;
    Trainer trained = Trainer::resume(state, "state", data, torch::kCPU);
    const Trainer plain = Trainer::resume(state, "state", data, torch::kCPU);
    torch::manual_seed(5);
    const torch::Tensor x = data.images.narrow(0, 0, 8).to(torch::kFloat32) / 127.5 - 1.0;
    const torch::Tensor z = torch::randn({8, smallArch().latentDim});
    trained.step(x, z);
    // The textbook way: L_D = L(x) - k_t L(G(z)) and L_G = L(G(z)), each with its own backward.
    Generator g = plain.trainingGenerator();
    Discriminator d = plain.discriminator();
    const torch::Tensor xs = x.contiguous(torch::MemoryFormat::ChannelsLast);
    const torch::Tensor fake = g->forwardInTraining(z);
    const torch::Tensor lossReal = (d->forward(xs) - xs).abs().mean();
    const torch::Tensor lossFake = (d->forward(fake) - fake).abs().mean();
    const auto gradsD = torch::autograd::grad({lossReal - k * lossFake}, d->parameters(), {}, true);
    const auto gradsG = torch::autograd::grad({lossFake}, g->parameters());
    const auto same = [](const std::vector<torch::Tensor>& ours,
                         const std::vector<torch::Tensor>& textbook, const char* net) {
        QCOMPARE(ours.size(), textbook.size());
        for (size_t i = 0; i < ours.size(); ++i) {
            QVERIFY2(ours[i].defined(), net);
            const double scale = textbook[i].abs().max().item<double>();
            const double off = (ours[i] - textbook[i]).abs().max().item<double>();
            QVERIFY2(off <= 1e-4 * scale + 1e-7,
                     qPrintable(QStringLiteral("%1 parameter %2: off by %3 of %4")
                                    .arg(QLatin1String(net))
                                    .arg(i)
                                    .arg(off)
                                    .arg(scale)));
        }
    };
    std::vector<torch::Tensor> oursD;
    for (const auto& p : trained.discriminator()->parameters()) {
        oursD.push_back(p.grad());
    }
    std::vector<torch::Tensor> oursG;
    for (const auto& p : trained.trainingGenerator()->parameters()) {
        oursG.push_back(p.grad());
    }
    same(oursD, gradsD, "D");
    same(oursG, gradsG, "G");
}

void TestTrainer::injectedNaNRollsBack() {
    Trainer t(smallArch(), smallConfig(), test::blobDataset(64, 32), torch::kCPU);
    for (int i = 0; i < 70; ++i) {
        t.step();
    }
    const double lr = t.learningRate();
    t.injectNaN();
    const StepStats bad = t.step();
    QVERIFY(bad.rolledBack);
    QCOMPARE(t.stepCount(), 50);  // the last good in-memory checkpoint
    QCOMPARE(t.learningRate(), lr * 0.5);
    for (int i = 0; i < 30; ++i) {
        const StepStats s = t.step();
        QVERIFY(!s.rolledBack);
        QVERIFY(finite(s));
    }
    QCOMPARE(t.stepCount(), 80);

    // The loop reports it in plain words.
    std::vector<std::string> warnings;
    LoopCallbacks callbacks;
    callbacks.onWarning = [&](const std::string& w) { warnings.push_back(w); };
    bool injected = false;
    callbacks.onStep = [&](const StepStats& s) {
        if (s.step == 90 && !injected) {
            injected = true;
            t.injectNaN();
        }
    };
    t.config().steps = 120;
    std::atomic<bool> stop{false};
    QVERIFY(runTraining(t, LoopOptions{}, callbacks, stop) == LoopEnd::Finished);
    QCOMPARE(t.stepCount(), 120);
    QVERIFY(std::any_of(warnings.begin(), warnings.end(), [](const std::string& w) {
        return w.find("rolled back") != std::string::npos;
    }));
}

void TestTrainer::persistentNaNGivesUp() {
    TrainConfig c = smallConfig();
    c.maxRollbacks = 3;
    Trainer t(smallArch(), c, test::blobDataset(16, 32), torch::kCPU);
    t.step();
    for (int i = 0; i < 3; ++i) {
        t.injectNaN();
        QVERIFY(t.step().rolledBack);
    }
    t.injectNaN();
    QVERIFY_THROWS_EXCEPTION(TrainingError, t.step());
    QCOMPARE(t.stepCount(), 0);  // back at its last good state (the start)

    // NaN that comes back after one good step each time ends the run too: rollbacks count since
    // the last good state, not in a row.
    Trainer again(smallArch(), c, test::blobDataset(16, 32), torch::kCPU);
    for (int i = 0; i < 3; ++i) {
        again.injectNaN();
        QVERIFY(again.step().rolledBack);
        QVERIFY(!again.step().rolledBack);
    }
    again.injectNaN();
    try {
        again.step();
        QFAIL("a run that kept failing went on");
    } catch (const TrainingError& e) {
        QVERIFY2(QString::fromStdString(e.what()).contains(QStringLiteral("4 times since step 0")),
                 e.what());
    }
    QCOMPARE(again.stepCount(), 0);

    // The loop saves that last good state before it passes the error on.
    Trainer looped(smallArch(), c, test::blobDataset(16, 32), torch::kCPU);
    LoopCallbacks callbacks;
    callbacks.onStep = [&](const StepStats& s) {
        if (s.step >= 60) {
            looped.injectNaN();
        }
    };
    LoopOptions options;
    options.modelPath = path("nan.cattery");
    options.checkpointPath = checkpointPathFor(options.modelPath);
    std::atomic<bool> stop{false};
    try {
        runTraining(looped, options, callbacks, stop);
        QFAIL("a run that kept failing finished");
    } catch (const TrainingError& e) {
        QVERIFY2(QString::fromStdString(e.what()).contains(QStringLiteral("saved from there")),
                 e.what());
    }
    QCOMPARE(loadModel(options.checkpointPath).step, 50);  // the checkpoint taken at step 50
    QVERIFY(loadModel(options.modelPath).generator);
}

void TestTrainer::cancelLeavesALoadableCheckpoint() {
    Trainer t(smallArch(), smallConfig(), test::blobDataset(32, 32), torch::kCPU);
    std::atomic<bool> stop{false};
    std::vector<std::int64_t> checkpoints;
    std::vector<std::int64_t> sampleSteps;
    LoopCallbacks callbacks;
    callbacks.onStep = [&](const StepStats& s) {
        if (s.step == 33)
            stop = true;
    };
    callbacks.onCheckpoint = [&](const std::string&, std::int64_t step) {
        checkpoints.push_back(step);
    };
    callbacks.onSamples = [&](std::int64_t step, const torch::Tensor& images) {
        QCOMPARE(images.size(0), 4);
        sampleSteps.push_back(step);
    };
    t.config().sampleEvery = 10;
    LoopOptions options;
    options.modelPath = path("cancel.cattery");
    options.checkpointPath = checkpointPathFor(options.modelPath);
    QCOMPARE(options.checkpointPath, path("cancel.checkpoint.cattery"));
    QVERIFY(runTraining(t, options, callbacks, stop) == LoopEnd::Stopped);
    QCOMPARE(t.stepCount(), 33);
    QCOMPARE(checkpoints, (std::vector<std::int64_t>{33}));
    QCOMPARE(sampleSteps, (std::vector<std::int64_t>{10, 20, 30}));
    Model checkpoint = loadModel(options.checkpointPath);
    QVERIFY(checkpoint.checkpoint);
    QCOMPARE(checkpoint.step, 33);
    Model model = loadModel(options.modelPath);
    QVERIFY(!model.checkpoint);
    QCOMPARE(model.provenance.steps, 33);
    QCOMPARE(model.provenance.imageCount, 32);
    // The model keeps the discriminator's way down, and the checkpoint's discriminator serves as
    // one: both see a picture as the trainer's discriminator does.
    QVERIFY(!model.encoder.is_empty());
    QVERIFY(!checkpoint.encoder.is_empty());
    {
        torch::NoGradGuard noGrad;
        const torch::Tensor x = torch::rand({2, 3, 32, 32}) * 2 - 1;
        const torch::Tensor code = t.discriminator()->encode(x);
        QVERIFY(torch::allclose(model.encoder->features(x).back(), code, 1e-5, 1e-6));
        QVERIFY(torch::allclose(checkpoint.encoder->features(x).back(), code, 1e-5, 1e-6));
    }
    Trainer again = Trainer::resume(options.checkpointPath, test::blobDataset(32, 32), torch::kCPU);
    QCOMPARE(again.stepCount(), 33);
    QVERIFY(finite(again.step()));
    // A finished model is not a checkpoint: resuming from it is a clear error.
    QVERIFY_THROWS_EXCEPTION(
        ModelFileError, Trainer::resume(options.modelPath, test::blobDataset(32, 32), torch::kCPU));
}

void TestTrainer::badInputIsRefused() {
    QVERIFY_THROWS_EXCEPTION(DataError,
                             Trainer(smallArch(), smallConfig(), Dataset{}, torch::kCPU));
    QVERIFY_THROWS_EXCEPTION(
        DataError, Trainer(smallArch(), smallConfig(), test::blobDataset(4, 16), torch::kCPU));
    TrainConfig bad = smallConfig();
    bad.gamma = 0;
    QVERIFY_THROWS_EXCEPTION(ConfigError,
                             Trainer(smallArch(), bad, test::blobDataset(4, 32), torch::kCPU));
    bad = smallConfig();
    bad.batchSize = 0;
    QVERIFY_THROWS_EXCEPTION(ConfigError, validate(bad));
    ArchConfig arch = smallArch();
    arch.imageSize = 40;
    QVERIFY_THROWS_EXCEPTION(ConfigError, validate(arch));
}

void TestTrainer::learningRateSchedule() {
    TrainConfig c = smallConfig();
    c.lrHalveEvery = 5;
    Trainer t(smallArch(), c, test::blobDataset(16, 32), torch::kCPU);
    int halvings = 0;
    for (int i = 0; i < 20; ++i) {
        halvings += t.step().learningRateHalved ? 1 : 0;
    }
    QCOMPARE(halvings, 4);
    QCOMPARE(t.learningRate(), c.learningRate / 16);

    // The loop names the rate the run goes on at, not the one the halving step ran at.
    std::vector<std::string> warnings;
    LoopCallbacks callbacks;
    callbacks.onWarning = [&](const std::string& w) { warnings.push_back(w); };
    t.config().steps = 25;
    std::atomic<bool> stop{false};
    QVERIFY(runTraining(t, LoopOptions{}, callbacks, stop) == LoopEnd::Finished);
    const std::string prefix = "learning rate halved to ";
    const auto halved = std::find_if(warnings.begin(), warnings.end(),
                                     [&](const std::string& w) { return w.rfind(prefix, 0) == 0; });
    QVERIFY(halved != warnings.end());
    const double named = std::stod(halved->substr(prefix.size()));  // 3 significant digits
    QVERIFY2(std::abs(named / (c.learningRate / 32) - 1) < 0.01, halved->c_str());
    QVERIFY(halved->find("at step 25") != std::string::npos);
}

namespace {

// The weights stored under `prefix` ("generator" or "training_generator"), by name.
std::map<std::string, torch::Tensor> weights(const Container& c, const std::string& prefix) {
    std::map<std::string, torch::Tensor> out;
    for (const Record& r : c.records) {
        if (r.name.rfind(prefix + ".", 0) == 0) {
            out[r.name.substr(prefix.size() + 1)] = toTensor(r).to(torch::kFloat64);
        }
    }
    return out;
}

}  // namespace

void TestTrainer::modelIsTheGeneratorsAverage() {
    TrainConfig c = smallConfig();
    c.averageDecay = 0.9;
    Trainer t(smallArch(), c, test::blobDataset(16, 32), torch::kCPU);
    // Follow the average from the trained weights, step by step, in double.
    auto average = weights(t.checkpoint(), "training_generator");
    QVERIFY(!average.empty());
    QCOMPARE(average.size(), weights(t.checkpoint(), "generator").size());
    const auto isStatistic = [](const std::string& name) {
        return name.find("running_") != std::string::npos ||
               name.find("num_batches_tracked") != std::string::npos;
    };
    for (int i = 0; i < 25; ++i) {
        QVERIFY(finite(t.step()));
        const double step = static_cast<double>(t.stepCount() - 1);  // steps before this one
        const double decay = std::min(0.9, (1.0 + step) / (10.0 + step));
        for (auto& [name, value] : weights(t.checkpoint(), "training_generator")) {
            if (!isStatistic(name)) {
                average[name] = decay * average[name] + (1.0 - decay) * value;
            }
        }
    }
    const Container checkpoint = t.checkpoint();
    const auto model = weights(checkpoint, "generator");
    const auto trained = weights(checkpoint, "training_generator");
    double apart = 0;
    for (const auto& [name, value] : model) {
        if (!isStatistic(name)) {
            QVERIFY2(torch::allclose(value, average.at(name), 1e-4, 1e-6), name.c_str());
            apart = std::max(apart, (value - trained.at(name)).abs().max().item<double>());
        }
    }
    QVERIFY2(apart > 1e-4, "the average should lag behind the trained weights");
    // Its batch-norm statistics are those of its own weights, not a blend of the trained ones'.
    Generator own(smallArch());
    loadModule(checkpoint, "generator", *own, "the checkpoint");
    settleBatchNorm(own, averageSettleLatents(smallArch().latentDim, c.seed), kSettleBatch);
    Container settled;
    storeModule(settled, "generator", *own);
    int statistics = 0;
    for (const auto& [name, value] : weights(settled, "generator")) {
        if (name.find("running_") != std::string::npos) {
            ++statistics;
            QVERIFY2(torch::allclose(model.at(name), value, 1e-4, 1e-6), name.c_str());
        }
    }
    QVERIFY(statistics > 0);
    // The saved model is the average.
    t.saveModel(path("average.cattery"));
    const Container saved = readContainer(path("average.cattery"));
    for (const auto& [name, value] : weights(saved, "generator")) {
        QVERIFY(torch::equal(value, model.at(name)));
    }
    QVERIFY(weights(saved, "training_generator").empty());
}

void TestTrainer::settledStatisticsAreTheWeightsOwn() {
    torch::manual_seed(3);
    Generator g(smallArch());
    {
        // Statistics from other pictures than the ones the latents below give.
        torch::NoGradGuard noGrad;
        g->train();
        g->forward(torch::randn({16, smallArch().latentDim}) * 3.0 + 1.0);
    }
    const torch::Tensor latents = torch::randn({64, smallArch().latentDim});
    settleBatchNorm(g, latents, 16);
    QVERIFY(!g->is_training());
    // The first normalised layer by hand: the mean, over batches of 16, of each batch's mean and
    // (unbiased) variance of the fully connected layer's channels, fed as the generator feeds it.
    QVERIFY(smallArch().normalizeZ);
    const torch::Tensor fed = atTypicalLength(latents);
    torch::nn::Module& fc = *g->named_children()["fc"];
    torch::nn::Module& norm = *g->named_children()["fc_norm"];
    const int64_t channels = norm.named_buffers()["running_mean"].size(0);
    torch::Tensor mean = torch::zeros({channels});
    torch::Tensor var = torch::zeros({channels});
    {
        torch::NoGradGuard noGrad;
        for (int64_t i = 0; i < 64; i += 16) {
            const torch::Tensor h = fc.as<torch::nn::Linear>()
                                        ->forward(fed.narrow(0, i, 16))
                                        .view({16, channels, -1})
                                        .transpose(0, 1)
                                        .reshape({channels, -1});
            mean += h.mean(1) / 4;
            var += h.var(1, true) / 4;
        }
    }
    QVERIFY(torch::allclose(norm.named_buffers()["running_mean"], mean, 1e-4, 1e-5));
    QVERIFY(torch::allclose(norm.named_buffers()["running_var"], var, 1e-4, 1e-5));
    // Later training counts recent batches as before.
    for (const auto& module : g->modules(false)) {
        if (auto* bn = module->as<torch::nn::BatchNorm2dImpl>()) {
            QVERIFY(bn->options.momentum().has_value());
            QCOMPARE(*bn->options.momentum(), 0.1);
        }
    }
}

void TestTrainer::bf16RunSettlesInItsPrecision() {
    const TrainConfig c = smallConfig(Precision::BFloat16, 0.9);
    Trainer t(smallArch(), c, test::blobDataset(16, 32), torch::kCPU);
    for (int i = 0; i < 5; ++i) {
        QVERIFY(finite(t.step()));
    }
    // The model's statistics, taken by the run in bf16, against the same weights' in float32.
    const Container checkpoint = t.checkpoint();
    Generator inRun(smallArch());
    loadModule(checkpoint, "generator", *inRun, "the checkpoint");
    inRun->eval();
    Generator inFloat(smallArch());
    loadModule(checkpoint, "generator", *inFloat, "the checkpoint");
    settleBatchNorm(inFloat, averageSettleLatents(smallArch().latentDim, c.seed), kSettleBatch);
    Container settled;
    storeModule(settled, "generator", *inFloat);
    const auto fromRun = weights(checkpoint, "generator");
    // bf16 moves a statistic by a few thousandths of its size; float32 taken twice agrees to
    // within about a hundred-thousandth (the order of its sums may differ).
    int statistics = 0;
    double apartMost = 0;
    for (const auto& [name, value] : weights(settled, "generator")) {
        if (name.find("running_") != std::string::npos) {
            ++statistics;
            const double apart = (fromRun.at(name) - value).abs().max().item<double>() /
                                 std::max(value.abs().max().item<double>(), 1e-6);
            apartMost = std::max(apartMost, apart);
        }
    }
    QVERIFY(statistics > 0);
    QVERIFY2(
        apartMost > 1e-4,
        qPrintable(
            QStringLiteral("a bf16 run's statistics are within %1 of float32's").arg(apartMost)));
    // The pictures they give differ by a few levels at most.
    const torch::Tensor z = sampleLatents(16, smallArch().latentDim, 5);
    const torch::Tensor a = generateBytes(inRun, z, torch::kCPU).to(torch::kInt32);
    const torch::Tensor b = generateBytes(inFloat, z, torch::kCPU).to(torch::kInt32);
    const int apart = (a - b).abs().max().item<int>();
    QVERIFY2(apart <= 4, qPrintable(QStringLiteral("%1 levels apart").arg(apart)));
}

void TestTrainer::noAverageKeepsOneGenerator() {
    TrainConfig c = smallConfig();
    c.averageDecay = 0;
    Trainer t(smallArch(), c, test::blobDataset(16, 32), torch::kCPU);
    for (int i = 0; i < 5; ++i) {
        QVERIFY(finite(t.step()));
    }
    const Container checkpoint = t.checkpoint();
    QVERIFY(weights(checkpoint, "training_generator").empty());
    t.saveCheckpoint(path("plain.checkpoint.cattery"));
    Trainer resumed =
        Trainer::resume(path("plain.checkpoint.cattery"), test::blobDataset(16, 32), torch::kCPU);
    QCOMPARE(resumed.config().averageDecay, 0.0);
    QVERIFY(torch::allclose(resumed.samples(), t.samples(), 1e-5, 1e-6));
}

namespace {

// Mean absolute change of the weights under `prefix` between two checkpoints.
double meanChange(const Container& before, const Container& after, const std::string& prefix) {
    const auto a = weights(before, prefix);
    const auto b = weights(after, prefix);
    double sum = 0;
    std::int64_t count = 0;
    for (const auto& [name, value] : a) {
        sum += (b.at(name) - value).abs().sum().item<double>();
        count += value.numel();
    }
    return sum / static_cast<double>(count);
}

}  // namespace

void TestTrainer::discriminatorLearnsAtItsOwnRate() {
    // Adam's first step moves every weight with a gradient by about the learning rate, so one
    // step from the same start shows each network's rate.
    // `later`: the multiple is set on the trainer after it is made, as a resumed run does.
    auto firstStep = [](double scale, bool later = false) {
        TrainConfig c = smallConfig();
        c.discriminatorLrScale = later ? 1.0 : scale;
        Trainer t(smallArch(), c, test::blobDataset(16, 32), torch::kCPU);
        if (later) {
            t.setLearningRates(c.learningRate, scale);
        }
        const Container before = t.checkpoint();
        t.step();
        const Container after = t.checkpoint();
        return std::make_pair(meanChange(before, after, "generator"),
                              meanChange(before, after, "discriminator"));
    };
    const auto [g1, d1] = firstStep(1.0);
    const auto [g4, d4] = firstStep(4.0);
    QVERIFY2(d4 / d1 > 3.5 && d4 / d1 < 4.5, qPrintable(QString::number(d4 / d1)));
    QVERIFY2(g4 / g1 > 0.9 && g4 / g1 < 1.1, qPrintable(QString::number(g4 / g1)));
    const auto [g4later, d4later] = firstStep(4.0, true);
    QVERIFY2(d4later / d1 > 3.5 && d4later / d1 < 4.5, qPrintable(QString::number(d4later / d1)));
    QVERIFY2(g4later / g1 > 0.9 && g4later / g1 < 1.1, qPrintable(QString::number(g4later / g1)));

    TrainConfig bad = smallConfig();
    bad.discriminatorLrScale = 0;
    QVERIFY_THROWS_EXCEPTION(ConfigError, validate(bad));
    bad.discriminatorLrScale = 1e5;
    QVERIFY_THROWS_EXCEPTION(ConfigError, validate(bad));
    // A rate set later (a resumed run's --lr) must keep the discriminator's in range too.
    TrainConfig c = smallConfig();
    c.discriminatorLrScale = 4;
    Trainer t(smallArch(), c, test::blobDataset(16, 32), torch::kCPU);
    QVERIFY_THROWS_EXCEPTION(ConfigError, t.setLearningRate(0.5));
    t.setLearningRate(0.25);
    QCOMPARE(t.learningRate(), 0.25);
    // And a multiple set later must keep it in range, changing nothing if not; both are checked
    // together, so a lower rate makes room for a larger multiple.
    QVERIFY_THROWS_EXCEPTION(ConfigError, t.setLearningRates(0.25, 5));
    QVERIFY_THROWS_EXCEPTION(ConfigError, t.setLearningRates(0.25, 0));
    QCOMPARE(t.config().discriminatorLrScale, 4.0);
    QCOMPARE(t.learningRate(), 0.25);
    t.setLearningRates(0.01, 50);
    QCOMPARE(t.config().discriminatorLrScale, 50.0);
    QCOMPARE(t.learningRate(), 0.01);
}

namespace {

TrainConfig coverConfig() {
    TrainConfig c = smallConfig();
    c.objective = Objective::Hinge;
    c.coverWeight = 10.0;
    return c;
}

double meanCover(const std::vector<StepStats>& stats, size_t from, size_t to) {
    double sum = 0;
    for (size_t i = from; i < to; ++i) {
        sum += stats[i].coverError;
    }
    return sum / static_cast<double>(to - from);
}

}  // namespace

void TestTrainer::coverTermLearnsToDrawTheRealPictures() {
    // The generator's pictures of the proposed latents come closer to the real pictures.
    const Dataset data = test::blobDataset(64, 32);
    Trainer t(smallArch(), coverConfig(), data, torch::kCPU);
    std::vector<StepStats> stats;
    for (int i = 0; i < 200; ++i) {
        stats.push_back(t.step());
        QVERIFY(finite(stats.back()));
        QVERIFY(stats.back().coverError > 0);
    }
    const double first = meanCover(stats, 0, 10);
    const double last = meanCover(stats, 190, 200);
    // (About 0.45 times the start with the term; about 0.75 with its weight near 0, the head
    // untrained and the generator learning the blobs from the judge alone.)
    QVERIFY2(last < 0.55 * first, qPrintable(QStringLiteral("%1 -> %2").arg(first).arg(last)));

    // A batch of one has no spread to keep: the term still learns, and stays finite.
    TrainConfig single = coverConfig();
    single.batchSize = 1;
    Trainer one(smallArch(), single, data, torch::kCPU);
    for (int i = 0; i < 3; ++i) {
        const StepStats s = one.step();
        QVERIFY(finite(s) && !s.rolledBack);
        QVERIFY(std::isfinite(s.coverError) && s.coverError > 0);
    }

    // Without the term there is no latent head and no error to report.
    TrainConfig off = coverConfig();
    off.coverWeight = 0;
    Trainer plain(smallArch(), off, data, torch::kCPU);
    QCOMPARE(plain.step().coverError, 0.0);
    QVERIFY(plain.checkpoint().find("discriminator.latent_head.0.weight") == nullptr);
    QVERIFY(t.checkpoint().find("discriminator.latent_head.0.weight") != nullptr);

    // Out of range, or with BEGAN (whose update has no place for the head): refused.
    TrainConfig bad = coverConfig();
    bad.coverWeight = -1;
    QVERIFY_THROWS_EXCEPTION(ConfigError, validate(bad));
    bad.coverWeight = kMaxCoverWeight * 2;
    QVERIFY_THROWS_EXCEPTION(ConfigError, validate(bad));
    bad = coverConfig();
    bad.objective = Objective::Began;
    QVERIFY_THROWS_EXCEPTION(ConfigError, validate(bad));
    // Kept with the run's settings; files without it have none.
    QCOMPARE(trainConfigFromJson(toJson(coverConfig())).coverWeight, 10.0);
    nlohmann::json older = toJson(coverConfig());
    older.erase("cover_weight");
    QCOMPARE(trainConfigFromJson(older).coverWeight, 0.0);
}

void TestTrainer::coverRunResumesAndOpensAsAModel() {
    // The latent head and its faster optimiser group are part of the checkpoint: a resumed run
    // goes on as the uninterrupted one.
    const Dataset data = test::blobDataset(64, 32);
    Trainer full(smallArch(), coverConfig(), data, torch::kCPU);
    std::vector<StepStats> reference;
    for (int i = 0; i < 60; ++i) {
        reference.push_back(full.step());
        if (full.stepCount() == 30) {
            full.saveCheckpoint(path("cover.checkpoint.cattery"));
        }
    }
    Trainer resumed = Trainer::resume(path("cover.checkpoint.cattery"), data, torch::kCPU);
    QCOMPARE(resumed.config().coverWeight, 10.0);
    for (size_t i = 30; i < 60; ++i) {
        const StepStats s = resumed.step();
        QVERIFY2(std::abs(s.coverError - reference[i].coverError) <=
                     1e-4 * reference[i].coverError + 1e-6,
                 qPrintable(QStringLiteral("step %1: cover %2 vs %3")
                                .arg(s.step)
                                .arg(s.coverError)
                                .arg(reference[i].coverError)));
    }
    QVERIFY(torch::allclose(resumed.samples(), full.samples(), 1e-3, 1e-4));
    // Its checkpoint opens as a model, with the discriminator's way down as its encoder, and the
    // latent head with it; so does the model the run saves, both proposing what the head does.
    const Model model = loadModel(path("cover.checkpoint.cattery"));
    QVERIFY(!model.encoder.is_empty());
    QVERIFY(model.encoder->hasLatentHead());
    resumed.saveModel(path("cover.cattery"), KeepModel::Last);
    Model saved = loadModel(path("cover.cattery"));
    QVERIFY(!saved.encoder.is_empty() && saved.encoder->hasLatentHead());
    torch::Tensor proposed;
    {
        torch::NoGradGuard noGrad;
        const torch::Tensor x = toUnitRange(data.images.slice(0, 0, 4));
        proposed = saved.encoder->proposeLatents(saved.encoder->features(x).back());
    }
    QCOMPARE(proposed.size(1), smallArch().latentDim);
    QVERIFY(torch::isfinite(proposed).all().item<bool>());
    // At a random latent's typical length.
    QVERIFY(torch::allclose(proposed.norm(2, 1),
                            torch::full({4}, std::sqrt(double(smallArch().latentDim))), 1e-3));
    // And a run without the term saves an encoder without the head (its step takes gradients
    // even where the caller turned them off).
    torch::NoGradGuard noGrad;
    TrainConfig off = coverConfig();
    off.coverWeight = 0;
    Trainer plain(smallArch(), off, data, torch::kCPU);
    QVERIFY(std::isfinite(plain.step().lossD));
    plain.saveModel(path("plain.cattery"), KeepModel::Last);
    QVERIFY(!loadModel(path("plain.cattery")).encoder->hasLatentHead());
}

QTEST_APPLESS_MAIN(TestTrainer)
#include "test_trainer.moc"
