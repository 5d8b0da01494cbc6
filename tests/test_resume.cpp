#include <torch/torch.h>
#include <QtTest/QtTest>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>

#include "core/errors.h"
#include "core/io/container.h"
#include "core/io/naming.h"
#include "core/io/tensorio.h"
#include "core/train/collapsewatch.h"
#include "core/train/progress.h"
#include "core/train/resume.h"
#include "core/train/trainer.h"
#include "core/train/trainloop.h"
#include "core/train/trainrun.h"
#include "testutil.h"

using namespace cattery;

namespace {

TrainConfig quickConfig() {
    TrainConfig c = test::plainConfig();
    c.steps = 20;
    c.sampleEvery = 0;
    c.checkpointEvery = 0;
    c.sampleCount = 8;
    c.seed = 3;
    c.lrStallSteps = 0;
    c.augment.rotateDegrees = 5;
    return c;
}

Trainer trainedFor(int steps) {
    Trainer t(test::tinyArch(), quickConfig(), test::blobDataset(24, 32), torch::kCPU);
    for (int i = 0; i < steps; ++i) {
        t.step();
    }
    return t;
}

}  // namespace

class TestResume : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void resumePointReadsTheCheckpoint();
    void resumePointRefusesOtherFiles();
    void changesApplyAllOrNothing();
    void unsetChangesKeepTheCheckpoints();
    void eachSettingChangesOneField();
    void dataWarningComparesTheImages();
    void headerAloneIsReadAndChecked();
    void optimiserStatesArePlainNumbers();
    void startRunBeginsOrContinues();
    void startRunChecksBeforeLoading();
    void runRequestsReadBackAsWritten();
    void collapseIsWatchedOnce();
    void theLoopWarnsOfCollapse();
    void durationsAndPace();
    void names();

private:
    QString path(const char* name) const { return m_dir.filePath(QString::fromLatin1(name)); }
    QTemporaryDir m_dir;
};

void TestResume::resumePointReadsTheCheckpoint() {
    Trainer t = trainedFor(3);
    t.setLearningRate(3e-5);  // as a halving would leave it
    const ResumePoint p = resumePoint(t.checkpoint(), "run.checkpoint.cattery");
    QCOMPARE(p.step, 3);
    QCOMPARE(p.config.learningRate, 3e-5);
    QCOMPARE(p.config.steps, 20);
    QCOMPARE(p.config.augment.rotateDegrees, 5.0);
    QVERIFY(p.arch == test::tinyArch());
    QCOMPARE(p.datasetHash, t.dataset().hash);
}

void TestResume::resumePointRefusesOtherFiles() {
    Trainer t = trainedFor(1);
    Container model = t.checkpoint();
    model.kind = "model";
    QVERIFY_THROWS_EXCEPTION(ModelFileError, resumePoint(model, "m.cattery"));
    Container broken = t.checkpoint();
    broken.meta["training"]["config"]["gamma"] = 7.0;
    QVERIFY_THROWS_EXCEPTION(ModelFileError, resumePoint(broken, "c.cattery"));
    Container hostile = t.checkpoint();
    hostile.meta["training"] = "not an object";
    QVERIFY_THROWS_EXCEPTION(ModelFileError, resumePoint(hostile, "c.cattery"));
    // An unsupported image size names the file on every way in: the header alone, the whole
    // checkpoint, and resuming a run from it.
    Container odd = t.checkpoint();
    odd.meta["arch"]["image_size"] = 33;
    const std::string oddPath = path("odd.checkpoint.cattery").toStdString();
    writeContainer(oddPath, odd);
    const std::vector<std::function<void()>> ways = {
        [&] { resumePoint(odd, oddPath); }, [&] { readResumePoint(oddPath); },
        [&] { Trainer::resume(oddPath, test::blobDataset(20, 32), torch::kCPU); }};
    for (const auto& way : ways) {
        try {
            way();
            QFAIL("image size 33 was accepted");
        } catch (const ModelFileError& e) {
            const QString message = QString::fromStdString(e.what());
            QVERIFY2(message.contains(QStringLiteral("image size 33")) &&
                         message.contains(QString::fromStdString(oddPath)),
                     e.what());
        }
    }
}

void TestResume::changesApplyAllOrNothing() {
    Trainer t = trainedFor(2);
    ResumeChanges changes;
    changes.steps = 50;
    changes.learningRate = 5e-5;
    changes.discriminatorLrScale = 2.0;
    changes.lrHalveEvery = 10;
    changes.precision = Precision::BFloat16;
    changes.flip = false;
    changes.rotateDegrees = 0.0;
    changes.scaleJitter = 0.1;
    changes.shift = 0.05;
    applyResumeChanges(t, changes);
    QCOMPARE(t.config().steps, 50);
    QCOMPARE(t.learningRate(), 5e-5);
    QCOMPARE(t.config().discriminatorLrScale, 2.0);
    QCOMPARE(t.config().lrHalveEvery, 10);
    QCOMPARE(t.config().precision, Precision::BFloat16);
    QVERIFY(!t.config().augment.flip);
    QCOMPARE(t.config().augment.rotateDegrees, 0.0);
    QCOMPARE(t.config().augment.scaleJitter, 0.1);
    QCOMPARE(t.config().augment.shift, 0.05);
    // One bad value: an error naming it, and nothing else changes either.
    ResumeChanges bad;
    bad.learningRate = 1e-4;
    bad.rotateDegrees = 90.0;
    QVERIFY_THROWS_EXCEPTION(ConfigError, applyResumeChanges(t, bad));
    QCOMPARE(t.learningRate(), 5e-5);
    QCOMPARE(t.config().augment.rotateDegrees, 0.0);
    // The length must go past the step reached.
    ResumeChanges shorter;
    shorter.steps = 2;
    QVERIFY_THROWS_EXCEPTION(ConfigError, applyResumeChanges(t, shorter));
    QCOMPARE(t.config().steps, 50);
}

void TestResume::unsetChangesKeepTheCheckpoints() {
    Trainer t = trainedFor(2);
    t.setLearningRate(2e-5);
    const TrainConfig before = t.config();
    applyResumeChanges(t, ResumeChanges{});
    QCOMPARE(t.learningRate(), 2e-5);
    QCOMPARE(t.config().steps, before.steps);
    QCOMPARE(t.config().augment.rotateDegrees, before.augment.rotateDegrees);
    QVERIFY(QString::fromStdString(describeResume(t, "a.checkpoint.cattery"))
                .contains(QStringLiteral("at step 2 of 20")));
}

void TestResume::eachSettingChangesOneField() {
    // Both front ends name the settings a resume may change; each sets its own field from the
    // wanted settings and nothing else, and together they set every field but the precision.
    TrainConfig wanted;
    wanted.steps = 123;
    wanted.learningRate = 3e-4;
    wanted.discriminatorLrScale = 2;
    wanted.lrHalveEvery = 77;
    wanted.augment.flip = false;
    wanted.augment.rotateDegrees = 9;
    wanted.augment.scaleJitter = 0.2;
    wanted.augment.shift = 0.1;
    wanted.keep = KeepModel::Last;
    auto setCount = [](const ResumeChanges& c) {
        return int(c.steps.has_value()) + int(c.learningRate.has_value()) +
               int(c.discriminatorLrScale.has_value()) + int(c.lrHalveEvery.has_value()) +
               int(c.flip.has_value()) + int(c.rotateDegrees.has_value()) +
               int(c.scaleJitter.has_value()) + int(c.shift.has_value()) + int(c.keep.has_value()) +
               int(c.precision.has_value());
    };
    ResumeChanges all;
    for (const ResumeSetting setting : kResumeSettings) {
        ResumeChanges one;
        change(one, setting, wanted);
        QCOMPARE(setCount(one), 1);
        change(all, setting, wanted);
    }
    QCOMPARE(setCount(all), 9);
    QCOMPARE(*all.steps, std::int64_t{123});
    QCOMPARE(*all.learningRate, 3e-4);
    QCOMPARE(*all.discriminatorLrScale, 2.0);
    QCOMPARE(*all.lrHalveEvery, std::int64_t{77});
    QCOMPARE(*all.flip, false);
    QCOMPARE(*all.rotateDegrees, 9.0);
    QCOMPARE(*all.scaleJitter, 0.2);
    QCOMPARE(*all.shift, 0.1);
    QVERIFY(*all.keep == KeepModel::Last);
}

void TestResume::dataWarningComparesTheImages() {
    Trainer t = trainedFor(1);
    const Container c = t.checkpoint();
    const ResumePoint point = resumePoint(c, "c.cattery");
    QVERIFY(resumeDataWarning(point, t.dataset()).empty());
    Dataset other = test::blobDataset(24, 32, 99);
    other.hash = imagesHash(other.images);
    QVERIFY(
        QString::fromStdString(resumeDataWarning(point, other)).contains(QStringLiteral("differ")));
    Container unsaid = c;
    unsaid.meta["provenance"]["dataset_hash"] = 12;  // hostile: not a string
    QVERIFY(resumeDataWarning(resumePoint(unsaid, "c.cattery"), other).empty());
    unsaid.meta["provenance"] = "text";  // hostile: not an object
    QVERIFY(resumeDataWarning(resumePoint(unsaid, "c.cattery"), other).empty());
}

void TestResume::startRunBeginsOrContinues() {
    RunRequest fresh;
    fresh.arch = test::tinyArch();
    fresh.config = quickConfig();
    fresh.precision = "fp32";
    fresh.device = "cpu";
    fresh.name = "blobs";
    std::vector<int> sizes;
    const auto load = [&sizes](int size) {
        sizes.push_back(size);
        return test::blobDataset(24, size);
    };
    StartedRun run = startRun(fresh, load);
    QCOMPARE(sizes, std::vector<int>{fresh.arch.imageSize});
    QVERIFY(run.warnings.empty());
    QVERIFY(QString::fromStdString(run.description).contains(QStringLiteral("24 images")));
    run.trainer->step();
    run.trainer->step();
    const std::string file = path("start.checkpoint.cattery").toStdString();
    run.trainer->saveCheckpoint(file);

    // Resumed: the size comes from the checkpoint, the changes apply, other images are named.
    RunRequest again;
    again.arch.imageSize = 64;  // ignored: the checkpoint says 32
    again.resumeFrom = file;
    again.device = "cpu";
    again.changes.steps = 30;
    again.changes.learningRate = 1e-5;
    again.changes.rotateDegrees = 0.0;
    sizes.clear();
    const auto other = [&sizes](int size) {
        sizes.push_back(size);
        return test::blobDataset(24, size, 99);
    };
    StartedRun resumed = startRun(again, other);
    QCOMPARE(sizes, std::vector<int>{32});
    QCOMPARE(resumed.trainer->stepCount(), 2);
    QCOMPARE(resumed.trainer->config().steps, 30);
    QCOMPARE(resumed.trainer->learningRate(), 1e-5);
    QCOMPARE(resumed.trainer->config().augment.rotateDegrees, 0.0);
    QCOMPARE(resumed.warnings.size(), std::size_t{1});
    QVERIFY(QString::fromStdString(resumed.warnings[0]).contains(QStringLiteral("differ")));
    QVERIFY(QString::fromStdString(resumed.description).contains(QStringLiteral("resuming")));

    // The same images: no warning.
    sizes.clear();
    QVERIFY(startRun(again, load).warnings.empty());
}

void TestResume::startRunChecksBeforeLoading() {
    bool loaded = false;
    const auto load = [&loaded](int size) {
        loaded = true;
        return test::blobDataset(24, size);
    };
    RunRequest bad;
    bad.arch = test::tinyArch();
    bad.config = quickConfig();
    bad.config.batchSize = 0;
    bad.device = "cpu";
    QVERIFY_THROWS_EXCEPTION(ConfigError, startRun(bad, load));
    QVERIFY(!loaded);

    // A model is not a checkpoint: refused from its header, before any image is read.
    Trainer t = trainedFor(1);
    const std::string model = path("finished.cattery").toStdString();
    t.saveModel(model);
    RunRequest notACheckpoint;
    notACheckpoint.resumeFrom = model;
    notACheckpoint.device = "cpu";
    QVERIFY_THROWS_EXCEPTION(ModelFileError, startRun(notACheckpoint, load));
    QVERIFY(!loaded);

    // No usable image: a DataError, not a trainer.
    RunRequest empty;
    empty.arch = test::tinyArch();
    empty.config = quickConfig();
    empty.device = "cpu";
    QVERIFY_THROWS_EXCEPTION(DataError, startRun(empty, [](int) {
                                 Dataset d;
                                 d.source = "nothing";
                                 return d;
                             }));

    // A change the checkpoint cannot take: refused, with nothing trained.
    t.saveCheckpoint(path("one.checkpoint.cattery").toStdString());
    RunRequest shorter;
    shorter.resumeFrom = path("one.checkpoint.cattery").toStdString();
    shorter.device = "cpu";
    shorter.changes.steps = 1;
    QVERIFY_THROWS_EXCEPTION(ConfigError, startRun(shorter, load));
}

void TestResume::headerAloneIsReadAndChecked() {
    Trainer t = trainedFor(1);
    const std::string file = path("h.checkpoint.cattery").toStdString();
    t.saveCheckpoint(file);
    const Container head = readContainerHeader(file);
    QCOMPARE(QString::fromStdString(head.kind), QStringLiteral("checkpoint"));
    QVERIFY(head.records.empty());
    QCOMPARE(resumePoint(head, file).step, 1);
    // Cut inside the header, garbage, a missing file: each names the file.
    const std::string bytes = readWholeFile(file, 1ULL << 30);
    const std::string cut = path("cut.cattery").toStdString();
    std::ofstream(cut, std::ios::binary) << bytes.substr(0, 40);
    QVERIFY_THROWS_EXCEPTION(ModelFileError, readContainerHeader(cut));
    const std::string text = path("text.cattery").toStdString();
    std::ofstream(text) << "just some words, more than twenty bytes of them";
    QVERIFY_THROWS_EXCEPTION(ModelFileError, readContainerHeader(text));
    const std::string tiny = path("tiny.cattery").toStdString();
    std::ofstream(tiny) << "CAT";
    QVERIFY_THROWS_EXCEPTION(ModelFileError, readContainerHeader(tiny));
    QVERIFY_THROWS_EXCEPTION(ModelFileError,
                             readContainerHeader(path("missing.cattery").toStdString()));
}

// The optimisers' states are stored as numbers, one record per moment of each weight, and read
// back checked; the archives of earlier versions (which LibTorch reads as TorchScript) are never
// read: such a checkpoint resumes with fresh optimisers, and says so.
void TestResume::optimiserStatesArePlainNumbers() {
    const Dataset data = test::blobDataset(24, 32);
    Trainer t = trainedFor(3);
    const Container c = t.checkpoint();
    QVERIFY(c.find("optimizer.generator") == nullptr);
    const std::vector<torch::Tensor> weights = t.trainingGenerator()->parameters();
    for (std::size_t i = 0; i < weights.size(); ++i) {
        const std::string at = "optimizer.generator." + std::to_string(i) + ".";
        const Record* step = c.find(at + "step");
        QVERIFY2(step != nullptr, at.c_str());
        QCOMPARE(toTensor(*step).item<std::int64_t>(), 3);
        QVERIFY(c.find(at + "exp_avg") != nullptr);
        QCOMPARE(toTensor(*c.find(at + "exp_avg_sq")).sizes(), weights[i].sizes());
    }
    const Trainer same = Trainer::resume(c, "state.cattery", data, torch::kCPU);
    QVERIFY(!same.optimisersRestarted());

    // An earlier version's checkpoint: an archive under each optimiser's name, left unread.
    Container legacy = c;
    legacy.records.erase(
        std::remove_if(legacy.records.begin(), legacy.records.end(),
                       [](const Record& r) { return r.name.rfind("optimizer.", 0) == 0; }),
        legacy.records.end());
    for (const char* name : {"optimizer.generator", "optimizer.discriminator"}) {
        Record archive;
        archive.name = name;
        archive.dtype = DType::UInt8;
        archive.bytes = std::string("PK\x03\x04 code/__torch__.py");
        archive.shape = {static_cast<std::int64_t>(archive.bytes.size())};
        legacy.records.push_back(archive);
    }
    Trainer restarted = Trainer::resume(legacy, "legacy.cattery", data, torch::kCPU);
    QVERIFY(restarted.optimisersRestarted());
    QVERIFY(std::isfinite(restarted.step().lossReal));
    QCOMPARE(
        toTensor(*restarted.checkpoint().find("optimizer.generator.0.step")).item<std::int64_t>(),
        1);

    // Damaged states: each refused, naming the file and the record.
    const auto refused = [&](const std::function<void(Container&)>& damage, const char* expected) {
        Container bad = c;
        damage(bad);
        try {
            Trainer::resume(bad, "bad.cattery", data, torch::kCPU);
            QFAIL(qPrintable(QStringLiteral("accepted: %1").arg(QLatin1String(expected))));
        } catch (const ModelFileError& e) {
            const QString message = QString::fromStdString(e.what());
            QVERIFY2(message.contains(QStringLiteral("bad.cattery")) &&
                         message.contains(QLatin1String(expected)),
                     qPrintable(message));
        }
    };
    const auto record = [](Container& bad, const std::string& name) -> Record& {
        for (Record& r : bad.records) {
            if (r.name == name) {
                return r;
            }
        }
        throw std::logic_error("no record " + name);
    };
    refused(
        [&](Container& bad) {
            record(bad, "optimizer.generator.0.exp_avg") =
                toRecord("optimizer.generator.0.exp_avg", torch::zeros({1}));
        },
        "shape");
    refused(
        [&](Container& bad) {
            Record& r = record(bad, "optimizer.discriminator.1.exp_avg_sq");
            r = toRecord(r.name, torch::full(toTensor(r).sizes(), NAN));
        },
        "NaN");
    refused(
        [&](Container& bad) {
            Record& r = record(bad, "optimizer.generator.2.step");
            r = toRecord(r.name, torch::tensor(std::int64_t{-1}));
        },
        "out of range");
    refused(
        [&](Container& bad) {
            Record extra = record(bad, "optimizer.generator.0.exp_avg");
            extra.name = "optimizer.generator.99999.exp_avg";
            bad.records.push_back(extra);
        },
        "belongs to no weight");
    refused(
        [&](Container& bad) {
            bad.records.erase(
                std::remove_if(
                    bad.records.begin(), bad.records.end(),
                    [](const Record& r) { return r.name == "optimizer.generator.0.exp_avg_sq"; }),
                bad.records.end());
        },
        "missing");
}

void TestResume::collapseIsWatchedOnce() {
    const Dataset data = test::blobDataset(24, 32);
    CollapseWatch watch(data.images);
    const torch::Tensor same = torch::zeros({8, 3, 32, 32});
    QVERIFY(watch.check(CollapseWatch::kWatchFrom - 1, same).empty());  // too early to tell
    QVERIFY(!watch.check(CollapseWatch::kWatchFrom, same).empty());
    QVERIFY(watch.check(CollapseWatch::kWatchFrom + 1, same).empty());  // said once
    const torch::Tensor varied = data.images.narrow(0, 0, 8).to(torch::kFloat32) / 127.5 - 1.0;
    QVERIFY(watch.check(CollapseWatch::kWatchFrom + 2, varied).empty());
    QVERIFY(!watch.check(CollapseWatch::kWatchFrom + 3, same).empty());  // collapsed again
}

void TestResume::theLoopWarnsOfCollapse() {
    // A run past the watch's start whose generator draws one picture, whatever z is.
    Trainer t = trainedFor(1);
    Container c = t.checkpoint();
    test::collapseCheckpoint(c, CollapseWatch::kWatchFrom + 10);
    Trainer resumed = Trainer::resume(c, "collapsed", t.dataset(), torch::kCPU);
    ResumeChanges changes;
    changes.steps = resumed.stepCount() + 2;
    applyResumeChanges(resumed, changes);
    QStringList warnings;
    LoopCallbacks callbacks;
    callbacks.onWarning = [&](const std::string& w) { warnings << QString::fromStdString(w); };
    const std::atomic<bool> stop{false};
    runTraining(resumed, LoopOptions{}, callbacks, stop);
    QCOMPARE(warnings.size(), 1);
    QVERIFY2(warnings.first().contains(QStringLiteral("look alike")), qPrintable(warnings.first()));
}

void TestResume::durationsAndPace() {
    QCOMPARE(QString::fromStdString(formatDuration(65)), QStringLiteral("1:05"));
    QCOMPARE(QString::fromStdString(formatDuration(7384)), QStringLiteral("2:03:04"));
    QCOMPARE(QString::fromStdString(formatDuration(-1)), QStringLiteral("--:--"));
    QCOMPARE(QString::fromStdString(formatDuration(std::nan(""))), QStringLiteral("--:--"));
    ProgressMeter meter(100, 16);
    QVERIFY(meter.etaSeconds(0) < 0);
    StepStats s;
    s.imagesPerSecond = 32;
    meter.update(s);
    QCOMPARE(meter.imagesPerSecond(), 32.0);
    QCOMPARE(meter.etaSeconds(50), 25.0);  // 50 steps of 16 images at 32 images/s
    s.imagesPerSecond = std::nan("");
    meter.update(s);
    QCOMPARE(meter.imagesPerSecond(), 32.0);
}

void TestResume::names() {
    QCOMPARE(QString::fromStdString(checkpointPathFor("out/cats.cattery")),
             QStringLiteral("out/cats.checkpoint.cattery"));
    QCOMPARE(QString::fromStdString(snapshotPathFor("out/cats.cattery", 1000)),
             QStringLiteral("out/cats.cattery.snapshots/step-0001000.cattery"));
    QCOMPARE(QString::fromStdString(samplesSheetPath("progress", 42)),
             QStringLiteral("progress/step-0000042.png"));
    QCOMPARE(QString::fromStdString(stemOf("models/chubby.checkpoint.cattery")),
             QStringLiteral("chubby"));
    QCOMPARE(QString::fromStdString(stemOf("pictures/")), QStringLiteral("pictures"));
    QCOMPARE(QString::fromStdString(stemOf("/")), QStringLiteral("model"));
    const std::string stem = path("taken").toStdString();
    std::ofstream(stem + ".cattery") << "x";
    QCOMPARE(QString::fromStdString(unusedPath(stem, ".cattery")),
             QString::fromStdString(stem + "-2.cattery"));
    std::ofstream(checkpointPathFor(stem + "-2.cattery")) << "x";
    QCOMPARE(QString::fromStdString(unusedPath(stem, ".cattery", checkpointPathFor)),
             QString::fromStdString(stem + "-3.cattery"));
}

// The request the window hands the processes it starts reads back field for field, and a file
// that is not one is refused with its name.
void TestResume::runRequestsReadBackAsWritten() {
    RunRequest request;
    request.arch = test::tinyArch(9);
    request.arch.smoothZMap = false;
    request.config = quickConfig();
    request.config.batchSize = 6;
    request.config.diffAugment.cutout = true;
    request.precision = "fp32";
    request.device = "cpu";
    request.resumeFrom = "runs/a checkpoint.cattery";
    request.changes.steps = 900;
    request.changes.keep = KeepModel::Last;
    request.changes.precision = Precision::BFloat16;
    request.changes.rotateDegrees = 2.5;
    request.name = "Blobs";
    request.outputs = {"out/m.cattery", "out/m.checkpoint.cattery"};
    request.worldTimeout = std::chrono::seconds(42);
    const std::string file = path("run.json").toStdString();
    writeRunRequest(file, request, "images/folder");

    std::string images;
    const RunRequest back = readRunRequest(file, images);
    QCOMPARE(images, std::string("images/folder"));
    QVERIFY(back.arch == request.arch);
    QCOMPARE(toJson(back.config), toJson(request.config));
    QCOMPARE(back.precision, request.precision);
    QCOMPARE(back.device, request.device);
    QCOMPARE(back.resumeFrom, request.resumeFrom);
    QCOMPARE(toJson(back.changes), toJson(request.changes));
    QCOMPARE(*back.changes.steps, std::int64_t{900});
    QVERIFY(!back.changes.learningRate);
    QCOMPARE(back.name, request.name);
    QCOMPARE(back.outputs, request.outputs);
    QCOMPARE(back.worldTimeout.count(), std::int64_t{42});

    const auto refused = [&](const std::string& text) {
        std::ofstream(file, std::ios::trunc) << text;
        try {
            readRunRequest(file, images);
        } catch (const ConfigError& e) {
            return QString::fromUtf8(e.what()).contains(QString::fromStdString(file));
        }
        return false;
    };
    QVERIFY(refused("not json"));
    QVERIFY(refused("{\"kind\": \"model\"}"));
    QVERIFY(refused(std::string(100, '[')));
    // A request that is one but asks for what no run may do.
    writeRunRequest(file, request, "images/folder");
    nlohmann::json j = nlohmann::json::parse(std::ifstream(file));
    j["config"]["batch_size"] = -3;
    QVERIFY(refused(j.dump()));
    j["config"]["batch_size"] = 6;
    j["outputs"] = {"only-one"};
    QVERIFY(refused(j.dump()));
}

QTEST_GUILESS_MAIN(TestResume)
#include "test_resume.moc"
