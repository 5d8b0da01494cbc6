#include <torch/torch.h>
#include <QtTest/QtTest>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <atomic>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include "core/errors.h"
#include "core/io/container.h"
#include "core/io/modelfile.h"
#include "core/metrics/score.h"
#include "core/metrics/swd.h"
#include "core/train/progress.h"
#include "core/train/trainconfig.h"
#include "core/train/trainer.h"
#include "core/train/trainloop.h"
#include "core/train/trainrun.h"
#include "testutil.h"

using namespace cattery;

namespace {

// A short run that scores often, with nothing chosen for it.
TrainConfig scoredConfig() {
    TrainConfig c = test::plainConfig();
    c.steps = 40;
    c.batchSize = 8;
    c.sampleEvery = 0;
    c.checkpointEvery = 0;
    c.sampleCount = 4;
    c.lrStallSteps = 0;
    c.seed = 21;
    c.scoreEvery = 10;
    c.keep = KeepModel::Best;
    return c;
}

// The same run with the collapse guard on, its scores injected by the test.
TrainConfig guardedConfig() {
    TrainConfig c = scoredConfig();
    c.scoreEvery = 0;
    c.collapseGuard = true;
    return c;
}

// The same short run under the hinge objective, unscored.
TrainConfig hingeConfig() {
    TrainConfig c = scoredConfig();
    c.scoreEvery = 0;
    c.objective = Objective::Hinge;
    return c;
}

std::vector<torch::Tensor> weightsOf(const torch::nn::Module& m) {
    std::vector<torch::Tensor> out;
    for (const auto& p : m.parameters()) {
        out.push_back(p.detach().clone());
    }
    return out;
}

bool sameWeights(const std::vector<torch::Tensor>& a, const torch::nn::Module& m) {
    const auto b = m.parameters();
    if (a.size() != b.size()) {
        return false;
    }
    for (size_t i = 0; i < a.size(); ++i) {
        if (!torch::equal(a[i], b[i].detach())) {
            return false;
        }
    }
    return true;
}

void steps(Trainer& t, int n) {
    for (int i = 0; i < n; ++i) {
        t.step();
    }
}

}  // namespace

class TestScore : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void pyramidIsOpenCvs();
    void smallReferencesTakeMorePatches();
    void folderRuleChoosesAugmentation();
    void runsAreScoredOnHeldOutImages();
    void keptModelIsTheBestScoring();
    void laterNearBestScoreIsKept();
    void earlyDipIsLeftBehind();
    void collapsedScoresAreNeverKept();
    void guardRollsBackThenGivesUp();
    void guardWatchesTheScoreToo();
    void guardMeasuresFromTheRecentBest();
    void learningRateFollowsTheScore();
    void resumeContinuesScoresAndBest();
    void loopScoresTheLastStep();
    void olderRunsAreNotScored();
    void hingeObjectiveTrainsAndResumes();
    void patchVerdictTrainsAndResumes();
    void varietyShortfallMeasuresAlikeness();
    void varietyTermSpreadsTheGenerator();

private:
    QTemporaryDir m_dir;
};

void TestScore::pyramidIsOpenCvs() {
    torch::manual_seed(3);
    const torch::Tensor images = torch::randint(0, 256, {3, 3, 32, 32}, torch::kUInt8);
    const auto levels = laplacianPyramid(images, 3);
    QCOMPARE(levels.size(), size_t{3});
    QCOMPARE(levels[2].size(2), 8);
    const torch::Tensor hwc = images.permute({0, 2, 3, 1}).contiguous();
    for (int i = 0; i < 3; ++i) {
        cv::Mat gauss;
        cv::Mat(32, 32, CV_8UC3, hwc[i].data_ptr<uint8_t>()).convertTo(gauss, CV_32FC3);
        for (size_t l = 0; l < 3; ++l) {
            cv::Mat level = gauss;
            cv::Mat down;
            if (l + 1 < 3) {
                cv::pyrDown(gauss, down);
                cv::Mat up;
                cv::pyrUp(down, up, gauss.size());
                level = gauss - up;
            }
            const torch::Tensor expected =
                torch::from_blob(level.data, {level.rows, level.cols, 3}, torch::kFloat32)
                    .permute({2, 0, 1});
            const double error = (levels[l][i] - expected).abs().max().item<double>();
            QVERIFY2(error < 1e-3, qPrintable(QStringLiteral("level %1: %2").arg(l).arg(error)));
            gauss = down;
        }
    }
}

void TestScore::smallReferencesTakeMorePatches() {
    // Thirty held-out images still give a steady score: two draws of the samples' patches agree
    // far better than two different sets of pictures do.
    const Dataset data = test::blobDataset(120, 32, 9);
    const ScoreReference reference(data.images.narrow(0, 0, 30), 1);
    const double same = reference.score(data.images.narrow(0, 30, 30)).swd.average;
    const double again = reference.score(data.images.narrow(0, 60, 30)).swd.average;
    const torch::Tensor grey = torch::full({30, 3, 32, 32}, 128, torch::kUInt8);
    grey.narrow(0, 0, 15).fill_(90);
    const double other = reference.score(grey).swd.average;
    QVERIFY2(std::abs(same - again) < 0.25 * other,
             qPrintable(QStringLiteral("%1 %2 %3").arg(same).arg(again).arg(other)));
    QVERIFY(reference.score(data.images.narrow(0, 30, 30)).diversity > 0.5);
    QVERIFY(reference.score(grey).diversity < 0.5);
    // The reference keeps its patches between scores of one count and draws them again for
    // another: every score is the one a fresh comparison gives.
    for (const int64_t count : {30, 45, 30}) {
        const torch::Tensor images = data.images.narrow(0, 30, count);
        const double fresh =
            slicedWasserstein(images, data.images.narrow(0, 0, 30), reference.swdConfig()).average;
        QCOMPARE(reference.score(images).swd.average, fresh);
    }
    QVERIFY_THROWS_EXCEPTION(ConfigError, ScoreReference(grey.narrow(0, 20, 10), 1));
}

void TestScore::folderRuleChoosesAugmentation() {
    // BEGAN: adaptive, from 0.
    const DiscriminatorAugment small = folderAugment(300, Objective::Began);
    QVERIFY(small.color && small.translation && small.cutout && small.adaptive);
    QCOMPARE(small.probability, 0.0);
    // The hinge objective: fixed, half of the images.
    const DiscriminatorAugment hinge = folderAugment(300, Objective::Hinge);
    QVERIFY(hinge.color && hinge.translation && hinge.cutout && !hinge.adaptive);
    QCOMPARE(hinge.probability, kHingeAugmentProbability);
    for (const Objective objective : {Objective::Began, Objective::Hinge}) {
        QVERIFY(!folderAugment(kAutoAugmentBelow, objective).any());
        // Nothing to hold out: always on.
        const DiscriminatorAugment tiny = folderAugment(60, objective);
        QVERIFY(tiny.any() && !tiny.adaptive);
        QCOMPARE(tiny.probability, 1.0);
    }
    const std::int64_t every = autoScoreEvery(16);
    QVERIFY(every >= 250 && every % 250 == 0);
    QVERIFY(autoScoreEvery(4) >= every);  // smaller batches: cheaper steps, rarer scores

    TrainConfig asked;
    const TrainConfig resolved = resolvedConfig(asked, 300);
    QVERIFY(!resolved.autoAugment);
    QVERIFY(resolved.diffAugment.any() && !resolved.diffAugment.adaptive);  // hinge by default
    QCOMPARE(resolved.diffAugment.probability, kHingeAugmentProbability);
    QCOMPARE(resolved.scoreEvery, every);
    TrainConfig beganAsked = asked;
    beganAsked.objective = Objective::Began;
    QVERIFY(resolvedConfig(beganAsked, 300).diffAugment.adaptive);
    // A choice made by hand stays.
    asked.autoAugment = false;
    asked.scoreEvery = 70;
    QVERIFY(!resolvedConfig(asked, 300).diffAugment.any());
    QCOMPARE(resolvedConfig(asked, 300).scoreEvery, std::int64_t{70});

    const std::string text = describeSafeguards(TrainConfig{}, 300);
    QVERIFY2(text.find("chosen for 300 images") != std::string::npos, text.c_str());
    QVERIFY2(text.find("30 held-out images") != std::string::npos, text.c_str());
    QVERIFY2(text.find("best") != std::string::npos, text.c_str());
    QVERIFY2(text.find("hinge objective) with a variety term of 1") != std::string::npos,
             text.c_str());
    QVERIFY2(text.find("each cell") == std::string::npos, text.c_str());
    TrainConfig cells;
    cells.patchVerdict = true;
    const std::string cellsText = describeSafeguards(cells, 300);
    QVERIFY2(cellsText.find("verdict on each cell") != std::string::npos, cellsText.c_str());
    // New runs average the generator's weights, and say so; without the average nothing is said.
    QVERIFY2(
        text.find("running average of the generator's weights (decay 0.999)") != std::string::npos,
        text.c_str());
    TrainConfig lastWeights;
    lastWeights.averageDecay = 0.0;
    const std::string lastWeightsText = describeSafeguards(lastWeights, 300);
    QVERIFY2(lastWeightsText.find("running average") == std::string::npos, lastWeightsText.c_str());
    TrainConfig began;
    began.objective = Objective::Began;
    began.varietyWeight = 0;
    const std::string beganText = describeSafeguards(began, 300);
    QVERIFY2(beganText.find("(BEGAN);") != std::string::npos, beganText.c_str());
    const std::string few = describeSafeguards(TrainConfig{}, 60);
    QVERIFY2(few.find("against the training images") != std::string::npos, few.c_str());
}

void TestScore::runsAreScoredOnHeldOutImages() {
    Trainer t(test::tinyArch(), scoredConfig(), test::blobDataset(150, 32), torch::kCPU);
    QVERIFY(t.hasScoring());
    QCOMPARE(t.heldOutImageCount(), std::int64_t{15});  // scores need unseen images
    std::vector<StepStats> stats;
    for (int i = 0; i < 30; ++i) {
        stats.push_back(t.step());
    }
    QCOMPARE(t.scores().size(), size_t{3});
    for (size_t i = 0; i < 3; ++i) {
        const TrainScore& s = t.scores()[i];
        QCOMPARE(s.step, static_cast<std::int64_t>(10 * (i + 1)));
        QVERIFY(std::isfinite(s.swd) && s.swd > 0);
        QVERIFY(s.diversity >= 0);
        QVERIFY(stats[10 * i + 9].scored);
        QCOMPARE(stats[10 * i + 9].swd, s.swd);
    }
    QVERIFY(!stats[4].scored);
    QVERIFY(t.scoringSeconds() > 0);
    // Each varied score is kept when it is within kKeepLaterWithin of the recent best: the lowest
    // varied score from half its step on, itself included (none varied: none kept).
    std::optional<TrainScore> best;
    for (size_t i = 0; i < t.scores().size(); ++i) {
        const TrainScore& s = t.scores()[i];
        if (s.diversity < kCollapsedDiversity) {
            continue;
        }
        double recent = std::numeric_limits<double>::infinity();
        for (size_t j = 0; j <= i; ++j) {
            const TrainScore& earlier = t.scores()[j];
            if (earlier.step >= s.step / 2 && earlier.diversity >= kCollapsedDiversity) {
                recent = std::min(recent, earlier.swd);
            }
        }
        if (!best || s.swd <= recent * (1.0 + kKeepLaterWithin)) {
            best = s;
        }
    }
    QCOMPARE(t.hasBest(), best.has_value());
    if (best) {
        QCOMPARE(t.bestScore().step, best->step);
    }
}

void TestScore::keptModelIsTheBestScoring() {
    TrainConfig c = scoredConfig();
    c.scoreEvery = 0;  // scores injected
    Trainer t(test::tinyArch(), c, test::blobDataset(120, 32), torch::kCPU);
    StepStats stats;
    steps(t, 5);
    const auto atFive = weightsOf(*t.generator());
    t.takeScore({5, 100.0, 0.9}, stats);
    QVERIFY(stats.newBest);
    steps(t, 5);
    t.takeScore({10, 150.0, 0.9}, stats = {});
    QVERIFY(!stats.newBest);
    steps(t, 5);
    const auto last = weightsOf(*t.generator());
    QVERIFY(!sameWeights(atFive, *t.generator()));

    const std::string best = m_dir.filePath(QStringLiteral("best.cattery")).toStdString();
    t.saveModel(best);
    const Model kept = loadModel(best);
    QVERIFY(sameWeights(atFive, *kept.generator));
    QCOMPARE(QString::fromStdString(kept.provenance.kept), QStringLiteral("best"));
    QCOMPARE(kept.provenance.keptStep, std::int64_t{5});
    QCOMPARE(kept.provenance.swd, 100.0);
    QCOMPARE(kept.provenance.steps, std::int64_t{15});
    QVERIFY(describeModel(kept).find("the generator chosen by its score, step 5") !=
            std::string::npos);

    const std::string lastPath = m_dir.filePath(QStringLiteral("last.cattery")).toStdString();
    t.config().keep = KeepModel::Last;
    t.saveModel(lastPath);
    const Model lastModel = loadModel(lastPath);
    QVERIFY(sameWeights(last, *lastModel.generator));
    QCOMPARE(QString::fromStdString(lastModel.provenance.kept), QStringLiteral("last"));
    QCOMPARE(lastModel.provenance.keptStep, std::int64_t{15});
}

void TestScore::laterNearBestScoreIsKept() {
    TrainConfig c = scoredConfig();
    c.scoreEvery = 0;  // scores injected
    Trainer t(test::tinyArch(), c, test::blobDataset(120, 32), torch::kCPU);
    StepStats stats;
    steps(t, 3);
    // Steps 30 to 60: every score's recent best reaches back to step 30.
    t.takeScore({30, 100.0, 0.9}, stats);
    QVERIFY(stats.newBest);
    steps(t, 3);
    // Just outside the margin over the recent best: the earlier generator stays.
    t.takeScore({40, 100.0 * (1.0 + kKeepLaterWithin) + 1.0, 0.9}, stats = {});
    QVERIFY(!stats.newBest);
    QCOMPARE(t.bestScore().step, std::int64_t{30});
    steps(t, 3);
    // Within it: the later, further-trained generator is kept although it scores worse.
    const double near = 100.0 * (1.0 + kKeepLaterWithin) - 1.0;
    t.takeScore({50, near, 0.9}, stats = {});
    QVERIFY(stats.newBest);
    QCOMPARE(stats.lowestSwd, 100.0);
    QCOMPARE(stats.recentBestSwd, 100.0);
    const std::string line = describeScore(stats);
    QVERIFY2(line.find("(kept: within 15 % of the recent best, 100.0") != std::string::npos,
             line.c_str());
    const auto atFifty = weightsOf(*t.generator());
    QCOMPARE(t.bestScore().step, std::int64_t{50});
    QCOMPARE(t.lowestScore(), 100.0);
    steps(t, 3);
    // The margin is over the recent best, not over the kept one: the kept score cannot creep up.
    t.takeScore({60, near + 1.5, 0.9}, stats = {});
    QVERIFY(!stats.newBest);
    QCOMPARE(t.bestScore().step, std::int64_t{50});
    // A collapsed score is never kept, however low.
    t.takeScore({60, 50.0, 0.2}, stats = {});
    QVERIFY(!stats.newBest);
    QCOMPARE(t.lowestScore(), 100.0);
    const std::string said = describeKept(t);
    QVERIFY2(said.find("the generator of step 50,") == 0, said.c_str());
    QVERIFY2(said.find("within 15 % of the recent best, 100.0") != std::string::npos, said.c_str());
    // The live line says the same in a few words, from the same rule.
    QCOMPARE(describeKeptBriefly(t.bestScore(), t.recentBestScore(), t.lowestScore()),
             fmt::format("kept {:.1f} @ 50, recent best 100.0", near));
    QCOMPARE(describeKeptBriefly({30, 100.0, 0.9}, 100.0, 100.0), std::string("best 100.0 @ 30"));
    const std::string path = m_dir.filePath(QStringLiteral("later.cattery")).toStdString();
    t.saveModel(path);
    const Model kept = loadModel(path);
    QVERIFY(sameWeights(atFifty, *kept.generator));
    QCOMPARE(kept.provenance.keptStep, std::int64_t{50});
}

void TestScore::earlyDipIsLeftBehind() {
    const TrainConfig c = guardedConfig();
    Trainer t(test::tinyArch(), c, test::blobDataset(120, 32), torch::kCPU);
    StepStats stats;
    // A run on a small folder: smooth shapes score far below the cats of every later step.
    const std::vector<std::pair<TrainScore, bool>> run = {
        {{1000, 130.8, 0.96}, true},   // the first score
        {{1500, 81.9, 0.99}, true},    // the dip: the best so far
        {{2000, 122.1, 0.99}, false},  // the dip is still in the later half (from step 1,000)
        {{2500, 118.0, 1.00}, false},
        {{3000, 148.3, 0.97}, false},
        {{3500, 149.3, 0.96}, false},  // the dip has left the later half (from step 1,750)
        {{4000, 127.4, 0.95}, true},   // within 15 % of 118.0 (step 2,500)
        {{4500, 140.0, 0.95}, false},  // drifting upwards: nothing more is kept
        {{5000, 150.0, 0.95}, false},
        {{5500, 160.0, 0.95}, false},  // the recent best now 127.4 (step 4,000)
    };
    std::vector<torch::Tensor> keptWeights;
    for (const auto& [score, keep] : run) {
        steps(t, 1);
        t.takeScore(score, stats = {});
        QVERIFY2(stats.newBest == keep, fmt::format("step {}", score.step).c_str());
        QVERIFY(!stats.collapseRolledBack);
        if (keep) {
            keptWeights = weightsOf(*t.generator());
        }
        if (score.step == 4000) {
            const std::string line = describeScore(stats);
            QVERIFY2(line.find("(kept: within 15 % of the recent best, 118.0") != std::string::npos,
                     line.c_str());
        }
    }
    QCOMPARE(t.bestScore().step, std::int64_t{4000});
    QCOMPARE(t.lowestScore(), 81.9);
    QCOMPARE(t.recentBestScore(), 127.4);
    // It is now the recent best itself, above the early dip: named as both.
    const std::string said = describeKept(t);
    QVERIFY2(said.find("the best-scoring generator of the run's later half, step 4000") == 0,
             said.c_str());
    QVERIFY2(said.find("an early one scored 81.9") != std::string::npos, said.c_str());
    const std::string path = m_dir.filePath(QStringLiteral("dip.cattery")).toStdString();
    t.saveModel(path);
    const Model kept = loadModel(path);
    QVERIFY(sameWeights(keptWeights, *kept.generator));
    QCOMPARE(kept.provenance.keptStep, std::int64_t{4000});
    // The best of the later half, above the early dip, is kept and named as such.
    steps(t, 1);
    t.takeScore({6000, 119.0, 0.95}, stats = {});
    QVERIFY(stats.newBest);
    QCOMPARE(stats.recentBestSwd, 119.0);
    QCOMPARE(stats.lowestSwd, 81.9);
    const std::string line = describeScore(stats);
    QVERIFY2(line.find("(kept: the best of the run's later half; an early one scored 81.9)") !=
                 std::string::npos,
             line.c_str());
    QCOMPARE(describeKeptBriefly(t.bestScore(), t.recentBestScore(), t.lowestScore()),
             std::string("kept 119.0 @ 6000, early best 81.9"));
    const std::string named = describeKept(t);
    QVERIFY2(named.find("the best-scoring generator of the run's later half, step 6000") == 0,
             named.c_str());
}

void TestScore::collapsedScoresAreNeverKept() {
    TrainConfig c = scoredConfig();
    c.scoreEvery = 0;
    Trainer t(test::tinyArch(), c, test::blobDataset(120, 32), torch::kCPU);
    StepStats stats;
    steps(t, 2);
    t.takeScore({2, 50.0, 0.2}, stats);  // the lowest SWD, but all alike
    QVERIFY(!t.hasBest());
    const auto before = weightsOf(*t.generator());
    const std::string path = m_dir.filePath(QStringLiteral("none.cattery")).toStdString();
    t.saveModel(path);
    // Nothing varied scored yet: the file holds the last step's generator and says so.
    const Model m = loadModel(path);
    QVERIFY(sameWeights(before, *m.generator));
    QCOMPARE(QString::fromStdString(m.provenance.kept), QStringLiteral("last"));
    t.takeScore({2, 80.0, 0.8}, stats = {});
    QVERIFY(t.hasBest());
    QCOMPARE(t.bestScore().swd, 80.0);
}

void TestScore::guardRollsBackThenGivesUp() {
    const TrainConfig c = guardedConfig();
    Trainer t(test::tinyArch(), c, test::blobDataset(120, 32), torch::kCPU);
    StepStats stats;
    steps(t, 3);
    // Scores before kGuardFrom never trigger the guard: a young generator's samples look alike.
    t.takeScore({3, 300.0, 0.1}, stats);
    QVERIFY(!stats.collapseRolledBack);
    t.takeScore({kGuardFrom, 100.0, 0.9}, stats = {});
    QVERIFY(stats.newBest);
    const auto bestG = weightsOf(*t.trainingGenerator());
    const auto bestD = weightsOf(*t.discriminator());
    const double lr = t.learningRate();
    for (int attempt = 1; attempt <= kMaxGuardRollbacks + 1; ++attempt) {
        steps(t, 3);
        QVERIFY(!sameWeights(bestG, *t.trainingGenerator()));
        const double p = t.augmentProbability();
        t.takeScore({kGuardFrom + 10 * attempt, 120.0, 0.1}, stats = {});
        QVERIFY(stats.collapseRolledBack);
        QVERIFY(sameWeights(bestG, *t.trainingGenerator()));
        QVERIFY(sameWeights(bestD, *t.discriminator()));
        QVERIFY(stats.guardMessage.find("look alike") != std::string::npos);
        QCOMPARE(t.collapseRollbacks(), attempt);
        if (attempt <= kMaxGuardRollbacks) {
            QVERIFY(!stats.gaveUp && !t.gaveUp());
            QVERIFY(std::abs(t.learningRate() - lr * std::pow(0.5, attempt)) < 1e-12);
            // Augmentation turned on (it was off) and raised, and it stays at least that strong.
            QVERIFY(t.config().diffAugment.any());
            QVERIFY(std::abs(t.augmentProbability() - std::min(1.0, p + kGuardAugmentRaise)) <
                    1e-12);
            QVERIFY(stats.guardMessage.find(QStringLiteral("try %1 of %2")
                                                .arg(attempt)
                                                .arg(kMaxGuardRollbacks)
                                                .toStdString()) != std::string::npos);
        } else {
            QVERIFY(stats.gaveUp && t.gaveUp());
            QVERIFY2(stats.guardMessage.find("training stopped") != std::string::npos,
                     stats.guardMessage.c_str());
            QVERIFY(stats.guardMessage.find("best generator (step 1000") != std::string::npos);
        }
    }
}

void TestScore::guardWatchesTheScoreToo() {
    const TrainConfig c = guardedConfig();
    Trainer t(test::tinyArch(), c, test::blobDataset(120, 32), torch::kCPU);
    StepStats stats;
    steps(t, 2);
    t.takeScore({kGuardFrom, 100.0, 0.9}, stats);
    const double far = 100.0 * kGuardSwdRatio * 1.01;
    t.takeScore({kGuardFrom + 1, 100.0 * kGuardSwdRatio * 0.99, 0.9}, stats = {});
    QVERIFY(!stats.collapseRolledBack);  // worse, but not far enough
    QVERIFY(stats.guardMessage.empty());
    // One far score alone is a spike: it is named, and the run goes on.
    std::int64_t step = kGuardFrom + 2;
    for (int strike = 1; strike < kGuardStrikes; ++strike) {
        t.takeScore({step++, far, 0.9}, stats = {});
        QVERIFY(!stats.collapseRolledBack);
        QVERIFY2(stats.guardMessage.find("more like it") != std::string::npos,
                 stats.guardMessage.c_str());
    }
    // A score back within the line starts the count again.
    t.takeScore({step++, 150.0, 0.9}, stats = {});
    QVERIFY(!stats.collapseRolledBack && stats.guardMessage.empty());
    for (int strike = 1; strike < kGuardStrikes; ++strike) {
        t.takeScore({step++, far, 0.9}, stats = {});
        QVERIFY(!stats.collapseRolledBack);
    }
    // The count travels in the checkpoint: the resumed run goes back on the next far score.
    const Dataset data = test::blobDataset(120, 32);
    const std::string file = m_dir.filePath(QStringLiteral("strikes.cattery")).toStdString();
    t.saveCheckpoint(file);
    // The injected scores lie beyond the two steps taken: the checkpoint says the run got that
    // far, as a run scored at those steps would have.
    Container checkpoint = readContainer(file);
    checkpoint.meta["training"]["step"] = step;
    QCOMPARE(checkpoint.meta["training"]["guard_strikes"].get<int>(), kGuardStrikes - 1);
    Trainer resumed = Trainer::resume(checkpoint, file, data, torch::kCPU);
    for (Trainer* run : {&t, &resumed}) {
        run->takeScore({step, far, 0.9}, stats = {});
        QVERIFY(stats.collapseRolledBack);
        QVERIFY2(stats.guardMessage.find(fmt::format("{} times running", kGuardStrikes)) !=
                     std::string::npos,
                 stats.guardMessage.c_str());
        QCOMPARE(run->collapseRollbacks(), 1);
    }
    ++step;
    // After going back, one far score is a spike again.
    t.takeScore({step++, far, 0.9}, stats = {});
    QVERIFY(!stats.collapseRolledBack);
    QCOMPARE(t.collapseRollbacks(), 1);
    // A checkpoint claiming a count the guard would already have acted on is refused.
    Container bad = checkpoint;
    bad.meta["training"]["guard_strikes"] = kGuardStrikes;
    QVERIFY_THROWS_EXCEPTION(ModelFileError, Trainer::resume(bad, file, data, torch::kCPU));
    // Without the guard the same score only goes on the record.
    TrainConfig off = c;
    off.collapseGuard = false;
    Trainer u(test::tinyArch(), off, test::blobDataset(120, 32), torch::kCPU);
    u.takeScore({kGuardFrom, 100.0, 0.9}, stats = {});
    u.takeScore({kGuardFrom + 1, 1000.0, 0.1}, stats = {});
    QVERIFY(!stats.collapseRolledBack);
    QCOMPARE(u.scores().size(), size_t{2});
}

void TestScore::guardMeasuresFromTheRecentBest() {
    const TrainConfig c = guardedConfig();
    Trainer t(test::tinyArch(), c, test::blobDataset(120, 32), torch::kCPU);
    StepStats stats;
    // A 64x64 run on 2,000 cats: smooth shapes at step 1,500 score far below the cats after them,
    // whose scores then swing. From step 3,500 on they are more than twice the early dip, but not
    // twice the best of the run's later half: the run draws on.
    const std::vector<TrainScore> run = {
        {1000, 90.6, 0.95},  {1500, 75.3, 0.95},  {2000, 128.1, 0.95}, {2500, 128.7, 0.95},
        {3000, 146.9, 0.94}, {3500, 155.8, 0.93}, {4000, 206.2, 0.93}};
    for (const TrainScore& score : run) {
        steps(t, 1);
        t.takeScore(score, stats = {});
        QVERIFY2(!stats.collapseRolledBack && stats.guardMessage.empty(),
                 fmt::format("step {}: {}", score.step, stats.guardMessage).c_str());
    }
    QVERIFY(206.2 > kGuardSwdRatio * t.lowestScore());
    QCOMPARE(t.recentBestScore(), 128.1);
    QCOMPARE(t.bestScore().step, std::int64_t{1500});
    // A run that has lost its way is still caught, measured from the later half (128.7 now).
    steps(t, 1);
    t.takeScore({4500, 270.0, 0.92}, stats = {});
    QVERIFY(!stats.collapseRolledBack);
    QVERIFY2(stats.guardMessage.find(
                 "more than 2 times the best of the run's later half (128.7)") != std::string::npos,
             stats.guardMessage.c_str());
    steps(t, 1);
    t.takeScore({5000, 280.0, 0.92}, stats = {});
    QVERIFY2(stats.collapseRolledBack, stats.guardMessage.c_str());
    QVERIFY2(stats.guardMessage.find("went back to the best state (step 1500, SWD 75.3)") !=
                 std::string::npos,
             stats.guardMessage.c_str());
}

void TestScore::learningRateFollowsTheScore() {
    // A scored run halves its learning rate when the score has not improved for lrStallSteps,
    // counted from the best score's step, whatever M does.
    TrainConfig c = scoredConfig();
    c.scoreEvery = 1000;  // scored, but only by injected scores within these steps
    c.objective = Objective::Hinge;
    c.lrStallSteps = 6;
    Trainer t(test::tinyArch(), c, test::blobDataset(120, 32), torch::kCPU);
    QVERIFY(t.hasScoring());
    std::vector<std::int64_t> halvedAt;
    const auto run = [&](int n) {
        for (int i = 0; i < n; ++i) {
            if (t.step().learningRateHalved) {
                halvedAt.push_back(t.stepCount());
            }
        }
    };
    run(4);
    StepStats stats;
    t.takeScore({4, 100.0, 0.9}, stats);
    run(5);  // steps 5-9: 5 steps since the best
    QVERIFY(halvedAt.empty());
    t.takeScore({9, 90.0, 0.9}, stats = {});
    QVERIFY(stats.newBest);
    run(5);  // steps 10-14
    QVERIFY(halvedAt.empty());
    t.takeScore({14, 110.0, 0.9}, stats = {});  // no better: the stall goes on
    QVERIFY(!stats.newBest);
    run(8);  // steps 15-22
    QCOMPARE(halvedAt, (std::vector<std::int64_t>{15, 21}));
    QCOMPARE(t.learningRate(), c.learningRate / 4);
}

void TestScore::resumeContinuesScoresAndBest() {
    const Dataset data = test::blobDataset(150, 32);
    TrainConfig c = scoredConfig();
    c.autoAugment = true;  // the folder's choice, adaptive p included
    c.collapseGuard = true;
    Trainer full(test::tinyArch(), c, data, torch::kCPU);
    const std::string file = m_dir.filePath(QStringLiteral("s.checkpoint.cattery")).toStdString();
    std::vector<StepStats> reference;
    for (int i = 0; i < 40; ++i) {
        reference.push_back(full.step());
        if (full.stepCount() == 20) {
            full.saveCheckpoint(file);
        }
    }
    Trainer resumed = Trainer::resume(file, data, torch::kCPU);
    QCOMPARE(resumed.scores().size(), size_t{2});
    QVERIFY(resumed.config().diffAugment.adaptive);
    QVERIFY(!resumed.config().autoAugment);
    steps(resumed, 20);
    QCOMPARE(resumed.scores().size(), full.scores().size());
    for (size_t i = 0; i < full.scores().size(); ++i) {
        QCOMPARE(resumed.scores()[i].step, full.scores()[i].step);
        QVERIFY(std::abs(resumed.scores()[i].swd - full.scores()[i].swd) <=
                1e-3 * full.scores()[i].swd);
    }
    QCOMPARE(resumed.hasBest(), full.hasBest());
    QCOMPARE(resumed.bestScore().step, full.bestScore().step);
    QCOMPARE(resumed.augmentProbability(), full.augmentProbability());
    // The best state travels in the checkpoint: the kept models match.
    const std::string a = m_dir.filePath(QStringLiteral("full.cattery")).toStdString();
    const std::string b = m_dir.filePath(QStringLiteral("resumed.cattery")).toStdString();
    full.saveModel(a);
    resumed.saveModel(b);
    const auto fa = weightsOf(*loadModel(a).generator);
    const Model mb = loadModel(b);
    const auto pb = mb.generator->parameters();
    for (size_t i = 0; i < fa.size(); ++i) {
        QVERIFY(torch::allclose(fa[i], pb[i], 1e-4, 1e-5));
    }

    // A checkpoint whose best state is damaged fails when read, naming the file.
    Container bad = readContainer(file);
    bad.meta["training"]["best"]["k"] = 7.0;
    QVERIFY_THROWS_EXCEPTION(ModelFileError, Trainer::resume(bad, file, data, torch::kCPU));
    Container noScores = readContainer(file);
    noScores.meta["training"]["scores"] = nlohmann::json::array({{5, -1.0, 0.5}});
    QVERIFY_THROWS_EXCEPTION(ModelFileError, Trainer::resume(noScores, file, data, torch::kCPU));
}

void TestScore::loopScoresTheLastStep() {
    TrainConfig c = scoredConfig();
    c.steps = 25;
    Trainer t(test::tinyArch(), c, test::blobDataset(150, 32), torch::kCPU);
    LoopOptions options;
    options.modelPath = m_dir.filePath(QStringLiteral("loop.cattery")).toStdString();
    options.checkpointPath = m_dir.filePath(QStringLiteral("loop.ckpt.cattery")).toStdString();
    const std::atomic<bool> stop{false};
    // Every score comes with onScore, once: the steps' and the last one's.
    std::vector<StepStats> heard;
    LoopCallbacks callbacks;
    callbacks.onScore = [&heard](const StepStats& s) { heard.push_back(s); };
    QCOMPARE(runTraining(t, options, callbacks, stop), LoopEnd::Finished);
    QCOMPARE(t.scores().size(), size_t{3});
    QCOMPARE(t.scores().back().step, std::int64_t{25});
    QCOMPARE(heard.size(), t.scores().size());
    for (size_t i = 0; i < heard.size(); ++i) {
        QVERIFY(heard[i].scored);
        QCOMPARE(heard[i].step, t.scores()[i].step);
        QCOMPARE(heard[i].swd, t.scores()[i].swd);
        QCOMPARE(heard[i].diversity, t.scores()[i].diversity);
    }
    QCOMPARE(heard.back().lowestSwd, t.lowestScore());
    QCOMPARE(heard.back().recentBestSwd, t.recentBestScore());
    QCOMPARE(heard.back().newBest, t.bestScore().step == 25);
    const Model m = loadModel(options.modelPath);
    QVERIFY(!m.provenance.kept.empty());
    QVERIFY(m.provenance.swd >= 0);
}

void TestScore::olderRunsAreNotScored() {
    nlohmann::json j = toJson(scoredConfig());
    for (const char* key : {"score_every", "keep", "collapse_guard", "auto_augment"}) {
        j.erase(key);
    }
    const TrainConfig old = trainConfigFromJson(j);
    QCOMPARE(old.scoreEvery, std::int64_t{0});
    QVERIFY(old.keep == KeepModel::Last);
    QVERIFY(!old.collapseGuard);
    QVERIFY(!old.autoAugment);
    Trainer t(test::tinyArch(), old, test::blobDataset(150, 32), torch::kCPU);
    QVERIFY(!t.hasScoring());
    QCOMPARE(t.heldOutImageCount(), std::int64_t{0});  // every image trains, as it did
    j["keep"] = "most";
    QVERIFY_THROWS_EXCEPTION(ConfigError, trainConfigFromJson(j));
}

void TestScore::hingeObjectiveTrainsAndResumes() {
    const Dataset data = test::blobDataset(40, 32);
    TrainConfig c = hingeConfig();
    Trainer t(test::tinyArch(), c, data, torch::kCPU);
    QVERIFY(t.discriminator()->hasHead());
    const auto g0 = weightsOf(*t.trainingGenerator());
    const auto d0 = weightsOf(*t.discriminator());
    std::vector<StepStats> reference;
    const std::string file = m_dir.filePath(QStringLiteral("h.checkpoint.cattery")).toStdString();
    for (int i = 0; i < 20; ++i) {
        reference.push_back(t.step());
        QVERIFY(std::isfinite(reference.back().lossD) && std::isfinite(reference.back().lossG));
        QCOMPARE(reference.back().k, 0.0);  // no balance term
        if (t.stepCount() == 10) {
            t.saveCheckpoint(file);
        }
    }
    // Both networks learn, the head with them: every weight matrix of D moved. (The head's last
    // bias may stay: while every verdict is inside the margins its gradients from the real and
    // the generated half cancel.)
    QVERIFY(!sameWeights(g0, *t.trainingGenerator()));
    const auto d1 = t.discriminator()->parameters();
    const auto named = t.discriminator()->named_parameters();
    for (size_t i = 0; i < d0.size(); ++i) {
        QVERIFY2(d0[i].dim() < 2 || !torch::equal(d0[i], d1[i].detach()), named[i].key().c_str());
    }
    // The objective and the head travel in the checkpoint: the run goes on as it would have.
    Trainer resumed = Trainer::resume(file, data, torch::kCPU);
    QVERIFY(resumed.config().objective == Objective::Hinge);
    for (size_t i = 10; i < 20; ++i) {
        const StepStats s = resumed.step();
        QVERIFY2(
            std::abs(s.lossD - reference[i].lossD) <= 1e-3 * std::abs(reference[i].lossD) + 1e-5,
            qPrintable(QStringLiteral("step %1").arg(s.step)));
    }
    // A NaN rolls back as under BEGAN.
    t.injectNaN();
    QVERIFY(t.step().rolledBack);
    // Older settings are BEGAN's, and a BEGAN discriminator has no head.
    nlohmann::json j = toJson(c);
    j.erase("objective");
    QVERIFY(trainConfigFromJson(j).objective == Objective::Began);
    j["objective"] = "wasserstein";
    QVERIFY_THROWS_EXCEPTION(ConfigError, trainConfigFromJson(j));
    Trainer began(test::tinyArch(), scoredConfig(), data, torch::kCPU);
    QVERIFY(!began.discriminator()->hasHead());
}

void TestScore::patchVerdictTrainsAndResumes() {
    const Dataset data = test::blobDataset(40, 32);
    TrainConfig c = hingeConfig();
    c.patchVerdict = true;
    Trainer t(test::tinyArch(), c, data, torch::kCPU);
    QVERIFY(t.discriminator()->hasHead() && t.discriminator()->hasPatchHead());
    const torch::Tensor head0 =
        t.discriminator()->named_parameters()["patch_head.weight"].detach().clone();
    std::vector<StepStats> reference;
    const std::string file = m_dir.filePath(QStringLiteral("p.checkpoint.cattery")).toStdString();
    for (int i = 0; i < 16; ++i) {
        reference.push_back(t.step());
        QVERIFY(std::isfinite(reference.back().lossD) && std::isfinite(reference.back().lossG));
        if (t.stepCount() == 8) {
            t.saveCheckpoint(file);
        }
    }
    // The cells' verdicts take part: their head learns.
    QVERIFY(!torch::equal(head0, t.discriminator()->named_parameters()["patch_head.weight"]));
    // Both heads travel in the checkpoint, and the run goes on as it would have.
    Trainer resumed = Trainer::resume(file, data, torch::kCPU);
    QVERIFY(resumed.config().patchVerdict);
    QVERIFY(resumed.discriminator()->hasPatchHead());
    for (size_t i = 8; i < 16; ++i) {
        const StepStats s = resumed.step();
        QVERIFY2(
            std::abs(s.lossD - reference[i].lossD) <= 1e-3 * std::abs(reference[i].lossD) + 1e-5,
            qPrintable(QStringLiteral("step %1").arg(s.step)));
    }
    // The checkpoint opens as a model, with the discriminator's way down as its encoder.
    const Model m = loadModel(file);
    QVERIFY(m.checkpoint);
    QVERIFY(!m.encoder.is_empty());
    // Without the field (older files), the code's verdict alone; a checkpoint without the
    // cells' head that claims them is refused before anything is built.
    nlohmann::json j = toJson(c);
    j.erase("patch_verdict");
    QVERIFY(!trainConfigFromJson(j).patchVerdict);
    const std::string plainFile =
        m_dir.filePath(QStringLiteral("plain.checkpoint.cattery")).toStdString();
    Trainer(test::tinyArch(), hingeConfig(), data, torch::kCPU).saveCheckpoint(plainFile);
    Container claims = readContainer(plainFile);
    claims.meta["training"]["config"]["patch_verdict"] = true;
    writeContainer(plainFile, claims);
    QVERIFY_THROWS_EXCEPTION(ModelFileError, Trainer::resume(plainFile, data, torch::kCPU));
}

void TestScore::varietyShortfallMeasuresAlikeness() {
    torch::manual_seed(5);
    const torch::Tensor real = torch::rand({8, 3, 16, 16}) * 2 - 1;
    // As varied as the real batch, or more: nothing to make up.
    QCOMPARE(varietyShortfall(real, real).item<double>(), 0.0);
    QCOMPARE(varietyShortfall(real * 2, real).item<double>(), 0.0);
    // All alike: the whole of the real batch's variety is missing.
    const torch::Tensor same = real[0].unsqueeze(0).expand({8, 3, 16, 16}).contiguous();
    QVERIFY(std::abs(varietyShortfall(same, real).item<double>() - 1.0) < 1e-3);
    // Half as far apart: half of it is missing.
    const torch::Tensor mean = real.mean(0, true);
    const torch::Tensor half = mean + (real - mean) * 0.5;
    QVERIFY(std::abs(varietyShortfall(half, real).item<double>() - 0.5) < 1e-3);
    // Its gradient pulls the pictures of a pair apart: one small step against it spreads them.
    const torch::Tensor leaf = half.clone().requires_grad_(true);
    const torch::Tensor shortfall = varietyShortfall(leaf, real);
    const torch::Tensor grad = torch::autograd::grad({shortfall}, {leaf})[0];
    QVERIFY(grad.abs().sum().item<double>() > 0);
    const torch::Tensor moved = half - grad * 10;
    QVERIFY(varietyShortfall(moved, real).item<double>() < shortfall.item<double>());
    // The real batch is a reference only: no gradient flows into it.
    const torch::Tensor realLeaf = real.clone().requires_grad_(true);
    QVERIFY(!varietyShortfall(half, realLeaf).requires_grad());
    QVERIFY_THROWS_EXCEPTION(ConfigError, varietyShortfall(half.narrow(0, 0, 1), real));
}

void TestScore::varietyTermSpreadsTheGenerator() {
    // Two runs from the same seed, one with the variety term: the term changes what the generator
    // learns (it is on the generator's side only: D's first update is the same), and the weight
    // travels in the checkpoint; older files have none. Both generators start nearly collapsed
    // (weights shrunk a hundredfold), so the term has a shortfall to make up.
    const Dataset data = test::blobDataset(40, 32);
    TrainConfig c = hingeConfig();
    Trainer plain(test::tinyArch(), c, data, torch::kCPU);
    c.varietyWeight = 4.0;
    Trainer varied(test::tinyArch(), c, data, torch::kCPU);
    for (Trainer* t : {&plain, &varied}) {
        torch::NoGradGuard noGrad;
        for (auto& p : t->trainingGenerator()->parameters()) {
            p.mul_(0.01);
        }
    }
    QVERIFY(sameWeights(weightsOf(*plain.trainingGenerator()), *varied.trainingGenerator()));
    const StepStats a = plain.step();
    const StepStats b = varied.step();
    QCOMPARE(a.lossD, b.lossD);
    QVERIFY(sameWeights(weightsOf(*plain.discriminator()), *varied.discriminator()));
    QVERIFY(!sameWeights(weightsOf(*plain.trainingGenerator()), *varied.trainingGenerator()));
    const std::string file = m_dir.filePath(QStringLiteral("v.checkpoint.cattery")).toStdString();
    varied.saveCheckpoint(file);
    QCOMPARE(Trainer::resume(file, data, torch::kCPU).config().varietyWeight, 4.0);
    nlohmann::json j = toJson(c);
    j.erase("variety_weight");
    QCOMPARE(trainConfigFromJson(j).varietyWeight, 0.0);
    j["variety_weight"] = -1.0;
    QVERIFY_THROWS_EXCEPTION(ConfigError, trainConfigFromJson(j));
}

QTEST_APPLESS_MAIN(TestScore)
#include "test_score.moc"
