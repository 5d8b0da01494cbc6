#include <torch/torch.h>
#include <QtTest/QtTest>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <tuple>

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/data/dataset.h"
#include "core/io/container.h"
#include "core/io/modelfile.h"
#include "core/io/sheet.h"
#include "core/io/tensorio.h"
#include "core/train/trainconfig.h"
#include "core/train/trainer.h"
#include "testutil.h"

using namespace cattery;

namespace {

struct Run {
    int code = -1;
    QString out;
    QString err;
};

Run cli(const QStringList& args, int timeoutMs = 120000, const QString& workingDir = {},
        const std::optional<QProcessEnvironment>& environment = std::nullopt) {
    QProcess p;
    if (!workingDir.isEmpty()) {
        p.setWorkingDirectory(workingDir);
    }
    if (environment) {
        p.setProcessEnvironment(*environment);
    }
    p.start(QStringLiteral(CATTERY_CLI_PATH), args);
    Run r;
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        r.err = QStringLiteral("timed out");
        return r;
    }
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    r.out = QString::fromLocal8Bit(p.readAllStandardOutput());
    r.err = QString::fromLocal8Bit(p.readAllStandardError());
    return r;
}

// Runs cattery-cli quietly and returns its exit code and the most memory it held, in bytes. (The
// kernel counts the peak of the process that started it too: an upper bound on the child's own.)
struct Peak {
    int code = -1;
    std::int64_t bytes = 0;
};
Peak cliPeak(const QStringList& args) {
    std::vector<std::string> owned{CATTERY_CLI_PATH};
    for (const QString& a : args) {
        owned.push_back(a.toStdString());
    }
    std::vector<char*> argv;
    for (std::string& a : owned) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t quiet;
    posix_spawn_file_actions_init(&quiet);
    posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&quiet, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    Peak peak;
    if (posix_spawn(&pid, argv[0], &quiet, nullptr, argv.data(), environ) == 0) {
        int status = 0;
        rusage usage{};
        if (wait4(pid, &status, 0, &usage) == pid) {
            peak.code = WIFEXITED(status) ? WEXITSTATUS(status) : -2;
            peak.bytes = std::int64_t{usage.ru_maxrss} * 1024;
        }
    }
    posix_spawn_file_actions_destroy(&quiet);
    return peak;
}

}  // namespace

class TestCli : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void infoDescribesTheModel();
    void defaultModelIsFoundWithoutAPath();
    void sheetsHaveTheRightSize_data();
    void sheetsHaveTheRightSize();
    void sampleIsReproducible();
    void prepareTrainResumeSample();
    void interruptSavesACheckpoint();
    void severalProcessesTrainAsOne();
    void interruptingRankZeroStopsEveryProcess();
    void defaultOutputsNeverOverwrite();
    void outputsNeverReplaceInputs_data();
    void outputsNeverReplaceInputs();
    void proceduralCats();
    void moviesLoopThroughTheirPoints();
    void directionsMakeOneRowEach();
    void projectFindsEachImage();
    void evalScoresAModel();
    void threadsOnEverySubcommand();
    void deviceOnEverySubcommand();
    void collapseIsReported();
    void startupHandsOpenMPAShortSpin();
    void usageErrorsExitWithTwo_data();
    void usageErrorsExitWithTwo();
    void badInputExitsWithOne_data();
    void badInputExitsWithOne();
    void hostileInputsStayUnderMemoryCeilings();

private:
    QString path(const char* name) const { return m_dir.filePath(QString::fromLatin1(name)); }
    QTemporaryDir m_dir;
    QString m_model;
    QString m_images;
};

void TestCli::initTestCase() {
    QVERIFY(m_dir.isValid());
    m_model = path("tiny.cattery");
    test::saveTinyModel(m_model.toStdString());
    m_images = path("images");
    std::filesystem::create_directories(m_images.toStdString());
    QVERIFY(test::writeBlobPngs(m_images.toStdString(), 12, 40));
    std::ofstream(QStringLiteral("%1/notes.txt").arg(m_images).toStdString()) << "not an image";
}

void TestCli::infoDescribesTheModel() {
    const Run r = cli({QStringLiteral("info"), m_model});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains(QStringLiteral("Tiny")) && r.out.contains(QStringLiteral("latent 16")),
             qPrintable(r.out));
    QCOMPARE(cli({QStringLiteral("--help")}).code, 0);
    QCOMPARE(cli({QStringLiteral("train"), QStringLiteral("--help")}).code, 0);
}

void TestCli::defaultModelIsFoundWithoutAPath() {
    const QString models = path("shipped");
    QVERIFY(QDir().mkpath(models));
    test::saveTinyModel((models + QStringLiteral("/zzz.cattery")).toStdString());
    test::saveTinyModel((models + QStringLiteral("/chubby.cattery")).toStdString());
    QFile::copy(models + QStringLiteral("/zzz.cattery"),
                models + QStringLiteral("/aaa.checkpoint.cattery"));
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("CATTERY_MODELS"), models);
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(CATTERY_CLI_PATH),
            {QStringLiteral("sample"), QStringLiteral("-n"), QStringLiteral("2"),
             QStringLiteral("-o"), path("default.png")});
    QVERIFY(p.waitForFinished(60000));
    QCOMPARE(p.exitCode(), 0);
    QCOMPARE(readPngMetadata(path("default.png").toStdString()).at("model").get<std::string>(),
             std::string("Tiny"));
    p.start(QStringLiteral(CATTERY_CLI_PATH), {QStringLiteral("info")});
    QVERIFY(p.waitForFinished(60000));
    QVERIFY(QString::fromLocal8Bit(p.readAllStandardOutput())
                .contains(QStringLiteral("chubby.cattery")));
}

void TestCli::sheetsHaveTheRightSize_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("width");
    QTest::addColumn<int>("height");
    const QString m = QStringLiteral("tiny.cattery");
    QTest::newRow("sample") << QStringList{QStringLiteral("sample"),    m,
                                           QStringLiteral("--count"),   QStringLiteral("6"),
                                           QStringLiteral("--columns"), QStringLiteral("3")}
                            << 3 * 32 + 4 * 2 << 2 * 32 + 3 * 2;
    QTest::newRow("sample-scaled")
        << QStringList{QStringLiteral("sample"),       m,
                       QStringLiteral("-n"),           QStringLiteral("4"),
                       QStringLiteral("--scale"),      QStringLiteral("2"),
                       QStringLiteral("--padding"),    QStringLiteral("0"),
                       QStringLiteral("--truncation"), QStringLiteral("1")}
        << 2 * 64 << 2 * 64;
    QTest::newRow("grid") << QStringList{QStringLiteral("grid"),
                                         m,
                                         QStringLiteral("--size"),
                                         QStringLiteral("4"),
                                         QStringLiteral("--corners"),
                                         QStringLiteral("1,0,0;0,1,0;0,0,1;1,1,1")}
                          << 4 * 32 + 5 * 2 << 4 * 32 + 5 * 2;
    QTest::newRow("grid-slerp") << QStringList{QStringLiteral("grid"), m, QStringLiteral("--slerp")}
                                << 5 * 32 + 6 * 2 << 5 * 32 + 6 * 2;
    QTest::newRow("arith") << QStringList{QStringLiteral("arith"), m,
                                          QStringLiteral("--a"),   QStringLiteral("1,2,3"),
                                          QStringLiteral("--b"),   QStringLiteral("0,0,1"),
                                          QStringLiteral("--c"),   QStringLiteral("-1,0,0")}
                           << 4 * 32 + 5 * 2 << 32 + 2 * 2;
}

void TestCli::sheetsHaveTheRightSize() {
    QFETCH(QStringList, args);
    QFETCH(int, width);
    QFETCH(int, height);
    args[1] = m_model;
    const QString out = path("sheet.png");
    QFile::remove(out);
    const Run r = cli(args + QStringList{QStringLiteral("--out"), out});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const RgbImage sheet = readPng(out.toStdString());
    QCOMPARE(sheet.width, width);
    QCOMPARE(sheet.height, height);
    const auto meta = readPngMetadata(out.toStdString());
    QCOMPARE(sheetLatents(meta, out.toStdString()).size(1), 16);
    QCOMPARE(meta.at("view").get<std::string>(),
             args[0] == QStringLiteral("sample") ? std::string("batch") : args[0].toStdString());
}

void TestCli::sampleIsReproducible() {
    const QStringList base{QStringLiteral("sample"), m_model,
                           QStringLiteral("--seed"), QStringLiteral("42"),
                           QStringLiteral("-n"),     QStringLiteral("9")};
    QCOMPARE(cli(base + QStringList{QStringLiteral("-o"), path("a.png")}).code, 0);
    QCOMPARE(cli(base + QStringList{QStringLiteral("-o"), path("b.png")}).code, 0);
    QCOMPARE(readPng(path("a.png").toStdString()).pixels,
             readPng(path("b.png").toStdString()).pixels);
    QStringList other = base;
    other[3] = QStringLiteral("43");
    QCOMPARE(cli(other + QStringList{QStringLiteral("-o"), path("c.png")}).code, 0);
    QVERIFY(readPng(path("a.png").toStdString()).pixels !=
            readPng(path("c.png").toStdString()).pixels);
}

void TestCli::prepareTrainResumeSample() {
    const Run prep =
        cli({QStringLiteral("prepare"), QStringLiteral("--data"), m_images, QStringLiteral("--out"),
             path("blobs.data"), QStringLiteral("--size"), QStringLiteral("32")});
    QVERIFY2(prep.code == 0, qPrintable(prep.err + prep.out));
    QVERIFY2(prep.out.contains(QStringLiteral("12 images used, 1 skipped")), qPrintable(prep.out));
    QCOMPARE(loadDataset(path("blobs.data").toStdString()).count(), 12);

    const QStringList small{
        QStringLiteral("--size"),    QStringLiteral("32"),      QStringLiteral("--nf"),
        QStringLiteral("4"),         QStringLiteral("--ndf"),   QStringLiteral("8"),
        QStringLiteral("--repeats"), QStringLiteral("1"),       QStringLiteral("--latent"),
        QStringLiteral("12"),        QStringLiteral("--batch"), QStringLiteral("4")};
    const Run train =
        cli(QStringList{QStringLiteral("train"), QStringLiteral("--data"), m_images,
                        QStringLiteral("--out"), path("trained.cattery"), QStringLiteral("--steps"),
                        QStringLiteral("12"), QStringLiteral("--samples"), path("samples"),
                        QStringLiteral("--sample-every"), QStringLiteral("6"),
                        QStringLiteral("--name"), QStringLiteral("Blobs")} +
            small);
    QVERIFY2(train.code == 0, qPrintable(train.err + train.out));
    QVERIFY2(train.err.contains(QStringLiteral("step 12/12")) &&
                 train.err.contains(QStringLiteral("img/s")) &&
                 train.err.contains(QStringLiteral("ETA")),
             qPrintable(train.err));
    QVERIFY(QFile::exists(path("samples/step-0000006.png")));
    const Model trained = loadModel(path("trained.cattery").toStdString());
    QCOMPARE(trained.provenance.steps, 12);
    QCOMPARE(trained.arch.latentDim, 12);
    QCOMPARE(trained.displayName(), std::string("Blobs"));
    // New runs learn from latents as they come and draw them scaled, and say so.
    QVERIFY(trained.arch.normalizeZ && !trained.arch.normalizeZInTraining);
    QVERIFY2(train.err.contains(QStringLiteral("latent 12 (normalised when drawn)")),
             qPrintable(train.err));

    const Run resumed =
        cli({QStringLiteral("train"), QStringLiteral("--data"), path("blobs.data"),
             QStringLiteral("--out"), path("trained.cattery"), QStringLiteral("--steps"),
             QStringLiteral("20"), QStringLiteral("--resume"), path("trained.checkpoint.cattery"),
             QStringLiteral("--lr"), QStringLiteral("2e-5"), QStringLiteral("--lr-d-scale"),
             QStringLiteral("3"), QStringLiteral("--rotate"), QStringLiteral("0")});
    QVERIFY2(resumed.code == 0, qPrintable(resumed.err + resumed.out));
    QVERIFY2(resumed.err.contains(QStringLiteral("at step 12")), qPrintable(resumed.err));
    // A resumed run may go on with new learning rates and augmentation; only what is given changes.
    QVERIFY2(resumed.err.contains(QStringLiteral("learning rate 2e-05")) &&
                 resumed.err.contains(QStringLiteral("3 times that")) &&
                 resumed.err.contains(QStringLiteral("lr 2e-05")),
             qPrintable(resumed.err));
    const nlohmann::json resumedConfig =
        readContainer(path("trained.checkpoint.cattery").toStdString())
            .meta.at("training")
            .at("config");
    QCOMPARE(resumedConfig.at("discriminator_lr_scale").get<double>(), 3.0);
    QCOMPARE(resumedConfig.at("augment").at("rotate_degrees").get<double>(), 0.0);
    QCOMPARE(resumedConfig.at("augment").at("scale_jitter").get<double>(),
             TrainConfig().augment.scaleJitter);
    QCOMPARE(resumedConfig.at("augment").at("flip").get<bool>(), true);
    const Model resumedModel = loadModel(path("trained.cattery").toStdString());
    QCOMPARE(resumedModel.provenance.steps, 20);
    QCOMPARE(resumedModel.displayName(), std::string("Blobs"));

    const Run sample = cli(
        {QStringLiteral("sample"), path("trained.cattery"), QStringLiteral("-o"), path("t.png")});
    QVERIFY2(sample.code == 0, qPrintable(sample.err));
    QCOMPARE(readPng(path("t.png").toStdString()).width, 5 * 32 + 6 * 2);
}

void TestCli::interruptSavesACheckpoint() {
    QProcess p;
    p.start(QStringLiteral(CATTERY_CLI_PATH),
            {QStringLiteral("train"), QStringLiteral("--data"), m_images, QStringLiteral("--out"),
             path("int.cattery"), QStringLiteral("--steps"), QStringLiteral("100000"),
             QStringLiteral("--size"), QStringLiteral("32"), QStringLiteral("--nf"),
             QStringLiteral("4"), QStringLiteral("--ndf"), QStringLiteral("8"),
             QStringLiteral("--batch"), QStringLiteral("4")});
    QVERIFY(p.waitForStarted());
    QString err;
    QTRY_VERIFY_WITH_TIMEOUT(
        (err += QString::fromLocal8Bit(p.readAllStandardError())).contains(QStringLiteral("step ")),
        60000);
    ::kill(static_cast<pid_t>(p.processId()), SIGINT);
    QVERIFY(p.waitForFinished(60000));
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QCOMPARE(p.exitCode(), 0);
    const Model checkpoint = loadModel(path("int.checkpoint.cattery").toStdString());
    QVERIFY(checkpoint.checkpoint);
    QVERIFY(checkpoint.step >= 1);
    QVERIFY(QString::fromLocal8Bit(p.readAllStandardOutput())
                .contains(QStringLiteral("stopped at step")));
}

namespace {

// A run whose processes can match one process to float tolerance (no batch norm, variety or
// augmentation of what the discriminator sees: each of those is measured within a share).
QStringList matchableRun() {
    return {QStringLiteral("--size"),
            QStringLiteral("32"),
            QStringLiteral("--nf"),
            QStringLiteral("4"),
            QStringLiteral("--ndf"),
            QStringLiteral("8"),
            QStringLiteral("--repeats"),
            QStringLiteral("1"),
            QStringLiteral("--latent"),
            QStringLiteral("12"),
            QStringLiteral("--no-batch-norm"),
            QStringLiteral("--objective"),
            QStringLiteral("began"),
            QStringLiteral("--variety"),
            QStringLiteral("0"),
            QStringLiteral("--diffaug"),
            QStringLiteral("none"),
            QStringLiteral("--precision"),
            QStringLiteral("fp32"),
            QStringLiteral("--score-every"),
            QStringLiteral("0"),
            QStringLiteral("--seed"),
            QStringLiteral("4"),
            QStringLiteral("--threads"),
            QStringLiteral("1")};
}

// The processes `parent` started, by rank (read from their environment).
std::map<int, pid_t> ranksOf(qint64 parent) {
    std::map<int, pid_t> ranks;
    std::ifstream children(fmt::format("/proc/{}/task/{}/children", parent, parent));
    for (pid_t child = 0; children >> child;) {
        std::ifstream environment(fmt::format("/proc/{}/environ", child), std::ios::binary);
        for (std::string entry; std::getline(environment, entry, '\0');) {
            if (entry.rfind("RANK=", 0) == 0) {
                ranks[std::stoi(entry.substr(5))] = child;
            }
        }
    }
    return ranks;
}

}  // namespace

// `--nproc 2 --batch 4` trains the run `--batch 8` trains in one process, and says so.
void TestCli::severalProcessesTrainAsOne() {
    const QStringList common =
        QStringList{QStringLiteral("train"), QStringLiteral("--data"), m_images,
                    QStringLiteral("--steps"), QStringLiteral("30")} +
        matchableRun();
    const Run two = cli(common + QStringList{QStringLiteral("--nproc"), QStringLiteral("2"),
                                             QStringLiteral("--batch"), QStringLiteral("4"),
                                             QStringLiteral("--out"), path("two.cattery")});
    QVERIFY2(two.code == 0, qPrintable(two.err + two.out));
    QVERIFY2(two.err.contains(QStringLiteral("2 processes")) &&
                 two.err.contains(QStringLiteral("a batch of 4 on each, 8 in all")),
             qPrintable(two.err));
    // Rank 0 alone reports: one plan, one last line.
    QCOMPARE(two.err.count(QStringLiteral("training ")), 1);
    QCOMPARE(two.out.count(QStringLiteral("finished at step 30")), 1);
    const Run one = cli(common + QStringList{QStringLiteral("--batch"), QStringLiteral("8"),
                                             QStringLiteral("--out"), path("one.cattery")});
    QVERIFY2(one.code == 0, qPrintable(one.err + one.out));

    const Model a = loadModel(path("two.cattery").toStdString());
    const Model b = loadModel(path("one.cattery").toStdString());
    QCOMPARE(a.provenance.processes, 2);
    QCOMPARE(a.provenance.batch, std::int64_t{8});
    QCOMPARE(b.provenance.processes, 1);
    const auto pa = a.generator->named_parameters();
    const auto pb = b.generator->named_parameters();
    QCOMPARE(pa.size(), pb.size());
    double most = 0.0;
    for (const auto& item : pa) {
        most = std::max(most, (item.value() - pb[item.key()]).abs().max().item<double>());
    }
    QVERIFY2(most < 1e-3, qPrintable(QString::number(most)));
    const Run info = cli({QStringLiteral("info"), path("two.cattery")});
    QVERIFY2(info.out.contains(QStringLiteral("30 steps of 8 images")) &&
                 info.out.contains(QStringLiteral("in 2 processes")),
             qPrintable(info.out));
}

// Ctrl-C reaches rank 0 alone (as on a host of its own): every process stops at the same step,
// rank 0 saves, and all exit 0.
void TestCli::interruptingRankZeroStopsEveryProcess() {
    QProcess p;
    p.start(QStringLiteral(CATTERY_CLI_PATH),
            QStringList{QStringLiteral("train"), QStringLiteral("--data"), m_images,
                        QStringLiteral("--out"), path("stop.cattery"), QStringLiteral("--steps"),
                        QStringLiteral("100000"), QStringLiteral("--nproc"), QStringLiteral("2"),
                        QStringLiteral("--batch"), QStringLiteral("2")} +
                matchableRun());
    QVERIFY(p.waitForStarted());
    QString err;
    QTRY_VERIFY_WITH_TIMEOUT(
        (err += QString::fromLocal8Bit(p.readAllStandardError())).contains(QStringLiteral("step ")),
        60000);
    const std::map<int, pid_t> ranks = ranksOf(p.processId());
    QCOMPARE(ranks.size(), std::size_t{2});
    ::kill(ranks.at(0), SIGINT);
    QVERIFY(p.waitForFinished(60000));
    err += QString::fromLocal8Bit(p.readAllStandardError());
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QVERIFY2(p.exitCode() == 0, qPrintable(err));
    QVERIFY(QString::fromLocal8Bit(p.readAllStandardOutput())
                .contains(QStringLiteral("stopped at step")));
    const Model checkpoint = loadModel(path("stop.checkpoint.cattery").toStdString());
    QVERIFY(checkpoint.step >= 1);
    QCOMPARE(checkpoint.provenance.processes, 2);
}

// A movie has a frame for each step of each leg, at the model's size times the scale, and loops.
void TestCli::moviesLoopThroughTheirPoints() {
    const Run corners = cli({QStringLiteral("movie"), m_model, QStringLiteral("--frames"),
                             QStringLiteral("5"), QStringLiteral("--scale"), QStringLiteral("2"),
                             QStringLiteral("--out"), path("loop.mp4")});
    QVERIFY2(corners.code == 0, qPrintable(corners.err + corners.out));
    QVERIFY2(corners.out.contains(QStringLiteral("20 frames of 64x64")), qPrintable(corners.out));
    const Run points =
        cli({QStringLiteral("movie"), m_model, QStringLiteral("--path"),
             QStringLiteral("0,0,0;1,1,1;-1,0,1"), QStringLiteral("--frames"), QStringLiteral("4"),
             QStringLiteral("--slerp"), QStringLiteral("--out"), path("path.mp4")});
    QVERIFY2(points.code == 0, qPrintable(points.err + points.out));
    for (const auto& [file, frames, side] :
         {std::tuple{path("loop.mp4"), 20, 64}, std::tuple{path("path.mp4"), 12, 32}}) {
        cv::VideoCapture video(file.toStdString());
        QVERIFY(video.isOpened());
        int read = 0;
        cv::Mat frame;
        while (video.read(frame)) {
            QCOMPARE(frame.cols, side);
            QCOMPARE(frame.rows, side);
            ++read;
        }
        QCOMPARE(read, frames);
    }
    // Nothing is left behind by a movie that cannot be written.
    const Run unwritable =
        cli({QStringLiteral("movie"), m_model, QStringLiteral("--out"), path("none/x.mp4")});
    QCOMPARE(unwritable.code, 1);
    QVERIFY2(unwritable.err.contains(path("none/x.mp4")), qPrintable(unwritable.err));
}

// One row per direction, the same cat moved across it, and each direction's share of the variance.
void TestCli::directionsMakeOneRowEach() {
    const Run r =
        cli({QStringLiteral("directions"), m_model, QStringLiteral("--count"), QStringLiteral("3"),
             QStringLiteral("--steps"), QStringLiteral("5"), QStringLiteral("--samples"),
             QStringLiteral("100"), QStringLiteral("--out"), path("directions.png")});
    QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
    QCOMPARE(r.out.count(QStringLiteral("% of the variance")), 3);
    const RgbImage sheet = readPng(path("directions.png").toStdString());
    QCOMPARE(sheet.width, 5 * 32 + 6 * 2);
    QCOMPARE(sheet.height, 3 * 32 + 4 * 2);
    const Run tooMany = cli({QStringLiteral("directions"), m_model, QStringLiteral("--count"),
                             QStringLiteral("0"), QStringLiteral("--out"), path("none.png")});
    QCOMPARE(tooMany.code, 2);
}

void TestCli::projectFindsEachImage() {
    const QString a = m_images + QStringLiteral("/blob0.png");
    const QString b = m_images + QStringLiteral("/blob1.png");
    const QStringList quick{QStringLiteral("--steps"), QStringLiteral("5"),
                            QStringLiteral("--candidates"), QStringLiteral("16")};
    const Run r = cli(QStringList{QStringLiteral("project"), m_model, a, b, QStringLiteral("--out"),
                                  path("found.png")} +
                      quick);
    QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
    QCOMPARE(r.out.count(QStringLiteral(": distance ")), 2);
    QVERIFY2(r.out.contains(a + QStringLiteral(": distance ")), qPrintable(r.out));
    QVERIFY2(r.err.contains(QStringLiteral("pixels comparison")), qPrintable(r.err));
    // The number format asked for is the one searched in.
    const Run fp32 = cli(QStringList{QStringLiteral("project"), m_model, a, QStringLiteral("--out"),
                                     path("found32.png"), QStringLiteral("--precision"),
                                     QStringLiteral("fp32")} +
                         quick);
    QVERIFY2(fp32.code == 0, qPrintable(fp32.err));
    QVERIFY2(fp32.err.contains(QStringLiteral("pixels comparison, fp32")), qPrintable(fp32.err));
    // Each image beside its cat, and the cats' latents inside: the sheet opens as two latents.
    const RgbImage sheet = readPng(path("found.png").toStdString());
    QCOMPARE(sheet.width, 2 * 32 + 3 * 2);
    QCOMPARE(sheet.height, 2 * 32 + 3 * 2);
    const SheetContents contents = readSheet(path("found.png").toStdString());
    QCOMPARE(contents.latents.size(0), 2);
    QCOMPARE(contents.latents.size(1), 16);
    QCOMPARE(contents.view, std::string("projection"));

    // A model trained by this version has an encoder, and the search can compare features.
    const Run train =
        cli({QStringLiteral("train"), QStringLiteral("--data"), m_images, QStringLiteral("--out"),
             path("encoded.cattery"), QStringLiteral("--steps"), QStringLiteral("2"),
             QStringLiteral("--size"), QStringLiteral("32"), QStringLiteral("--nf"),
             QStringLiteral("4"), QStringLiteral("--ndf"), QStringLiteral("8"),
             QStringLiteral("--sample-every"), QStringLiteral("0")});
    QVERIFY2(train.code == 0, qPrintable(train.err));
    const Run features = cli(QStringList{QStringLiteral("project"), path("encoded.cattery"), a,
                                         QStringLiteral("--loss"), QStringLiteral("features"),
                                         QStringLiteral("--out"), path("features.png")} +
                             quick);
    QVERIFY2(features.code == 0, qPrintable(features.err));
    QVERIFY2(features.err.contains(QStringLiteral("features comparison")),
             qPrintable(features.err));

    // Asking for features of a model without an encoder, or naming no image: usage errors.
    const Run noEncoder =
        cli({QStringLiteral("project"), m_model, a, QStringLiteral("--loss"),
             QStringLiteral("features"), QStringLiteral("--out"), path("none.png")});
    QCOMPARE(noEncoder.code, 2);
    QVERIFY2(
        noEncoder.err.contains(QStringLiteral("no encoder")) && noEncoder.err.contains(m_model),
        qPrintable(noEncoder.err));
    QCOMPARE(
        cli({QStringLiteral("project"), m_model, QStringLiteral("--out"), path("none.png")}).code,
        2);
    // Images that cannot be used are named, with the reason, and nothing is written.
    writePng(path("dot.png").toStdString(), RgbImage{1, 1, {0, 0, 0}});
    std::ofstream(path("fake.png").toStdString()) << "not a picture";
    const std::vector<std::pair<QString, QString>> bad = {
        {m_images, QStringLiteral("folder")},
        {path("missing.png"), QStringLiteral("no such file")},
        {path("dot.png"), QStringLiteral("too small")},
        {path("fake.png"), QStringLiteral("not a PNG")}};
    for (const auto& [image, reason] : bad) {
        const Run refused = cli({QStringLiteral("project"), m_model, a, image,
                                 QStringLiteral("--out"), path("refused.png")});
        QCOMPARE(refused.code, 1);
        QVERIFY2(refused.err.contains(image) && refused.err.contains(reason),
                 qPrintable(refused.err));
        QVERIFY(!QFile::exists(path("refused.png")));
    }
}

void TestCli::proceduralCats() {
    const Run r = cli({QStringLiteral("cats"), QStringLiteral("-n"), QStringLiteral("5"),
                       QStringLiteral("--size"), QStringLiteral("48"), QStringLiteral("-o"),
                       path("cats"), QStringLiteral("--sheet"), path("cats.png")});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QCOMPARE(QDir(path("cats")).entryList({QStringLiteral("*.png")}).size(), 5);
    QCOMPARE(readPng(path("cats/cat-000004.png").toStdString()).width, 48);
    QCOMPARE(readPng(path("cats.png").toStdString()).width, 3 * 48 + 4 * 2);
    const Run train = cli({QStringLiteral("train"), QStringLiteral("--cats"), QStringLiteral("16"),
                           QStringLiteral("--out"), path("cats.cattery"), QStringLiteral("--steps"),
                           QStringLiteral("3"), QStringLiteral("--size"), QStringLiteral("32"),
                           QStringLiteral("--nf"), QStringLiteral("4"), QStringLiteral("--ndf"),
                           QStringLiteral("8")});
    QVERIFY2(train.code == 0, qPrintable(train.err));
    QCOMPARE(loadModel(path("cats.cattery").toStdString()).provenance.imageCount, 16);

    // The discriminator's augmentation: said at the start, p on the line, kept in the checkpoint.
    const Run augmented =
        cli({QStringLiteral("train"), QStringLiteral("--cats"), QStringLiteral("120"),
             QStringLiteral("--out"), path("aug.cattery"), QStringLiteral("--steps"),
             QStringLiteral("8"), QStringLiteral("--size"), QStringLiteral("32"),
             QStringLiteral("--nf"), QStringLiteral("4"), QStringLiteral("--ndf"),
             QStringLiteral("8"), QStringLiteral("--diffaug"), QStringLiteral("translation,cutout"),
             QStringLiteral("--augment-p"), QStringLiteral("0.3"), QStringLiteral("--score-every"),
             QStringLiteral("4")});
    QVERIFY2(augmented.code == 0, qPrintable(augmented.err));
    QVERIFY2(augmented.err.contains(QStringLiteral("augmented (translation, cutout)")) &&
                 augmented.err.contains(QStringLiteral("12 held-out images")) &&
                 augmented.err.contains(QStringLiteral("| p 0.")),
             qPrintable(augmented.err));
    // Scored as it goes, each score a line, the cost said at the end, and the model file names
    // the generator it holds.
    QVERIFY2(augmented.err.contains(QStringLiteral("score at step 4: SWD")) &&
                 augmented.err.contains(QStringLiteral("score at step 8: SWD")) &&
                 augmented.err.contains(QStringLiteral("scored 2 times in")),
             qPrintable(augmented.err));
    QVERIFY2(augmented.out.contains(QStringLiteral("generator")), qPrintable(augmented.out));
    const Run info = cli({QStringLiteral("info"), path("aug.cattery")});
    QVERIFY2(info.out.contains(QStringLiteral("kept:")), qPrintable(info.out));
    const Container c = readContainer(path("aug.checkpoint.cattery").toStdString());
    const TrainConfig config = trainConfigFromJson(c.meta.at("training").at("config"));
    QVERIFY(config.diffAugment.translation && config.diffAugment.cutout);
    QVERIFY(!config.diffAugment.color);
    QVERIFY(config.diffAugment.adaptive);
    QCOMPARE(config.diffAugment.probability, 0.3);
}

void TestCli::evalScoresAModel() {
    const Run r = cli({QStringLiteral("eval"), m_model, QStringLiteral("--cats"),
                       QStringLiteral("40"), QStringLiteral("--json")});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const auto json = nlohmann::json::parse(r.out.toStdString());
    QCOMPARE(json.at("count").get<int>(), 20);
    // From a folder too, standard output holds the JSON alone (what was read goes to standard
    // error).
    const Run folder = cli({QStringLiteral("eval"), m_model, QStringLiteral("--data"), m_images,
                            QStringLiteral("--json")});
    QVERIFY2(folder.code == 0, qPrintable(folder.err));
    QVERIFY(nlohmann::json::parse(folder.out.toStdString()).is_object());
    QVERIFY2(folder.err.contains(QStringLiteral("images used")), qPrintable(folder.err));
    for (const char* set : {"model", "untrained", "data"}) {
        QVERIFY(json.at(set).at("swd").get<double>() >= 0.0);
        QCOMPARE(json.at(set).at("level_sizes").size(), std::size_t{2});
    }
    // Held-out data is as varied as the data and closer to it than any generator.
    const double dataDiversity = json.at("data").at("diversity").get<double>();
    QVERIFY2(dataDiversity > 0.7 && dataDiversity < 1.4, qPrintable(r.out));
    QVERIFY(json.at("data").at("swd").get<double>() < json.at("untrained").at("swd").get<double>());
    const Run text = cli({QStringLiteral("eval"), m_model, QStringLiteral("--data"), m_images});
    QVERIFY2(text.code == 0, qPrintable(text.err));
    QVERIFY(text.out.contains(QStringLiteral("SWD")));
    QVERIFY(text.out.contains(QStringLiteral("diversity")));
    // Truncated latents are other samples, and the figures say which were scored.
    const Run truncated =
        cli({QStringLiteral("eval"), m_model, QStringLiteral("--cats"), QStringLiteral("40"),
             QStringLiteral("--truncation"), QStringLiteral("0.5"), QStringLiteral("--json")});
    QVERIFY2(truncated.code == 0, qPrintable(truncated.err));
    const auto cut = nlohmann::json::parse(truncated.out.toStdString());
    QCOMPARE(cut.at("truncation").get<double>(), 0.5);
    QCOMPARE(json.at("truncation").get<double>(), 0.0);
    QVERIFY(cut.at("model").at("swd").get<double>() != json.at("model").at("swd").get<double>());
    QCOMPARE(cut.at("data").at("swd").get<double>(), json.at("data").at("swd").get<double>());
}

void TestCli::defaultOutputsNeverOverwrite() {
    // Without --out, train names the model after its data and sample after the model, in the
    // working folder, and a second run takes the next free name rather than overwriting.
    const QString here = path("here");
    QVERIFY(QDir().mkpath(here));
    const QStringList train{
        QStringLiteral("train"),     QStringLiteral("--data"), m_images,
        QStringLiteral("--size"),    QStringLiteral("32"),     QStringLiteral("--nf"),
        QStringLiteral("4"),         QStringLiteral("--ndf"),  QStringLiteral("8"),
        QStringLiteral("--repeats"), QStringLiteral("1"),      QStringLiteral("--steps"),
        QStringLiteral("2")};
    const Run first = cli(train, 120000, here);
    QVERIFY2(first.code == 0, qPrintable(first.err + first.out));
    QVERIFY2(first.out.contains(QStringLiteral("images.cattery")), qPrintable(first.out));
    QVERIFY(QFile::exists(here + QStringLiteral("/images.cattery")));
    QVERIFY(QFile::exists(here + QStringLiteral("/images.checkpoint.cattery")));
    const QByteArray firstBytes = [&] {
        QFile f(here + QStringLiteral("/images.cattery"));
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }();
    const Run second = cli(train, 120000, here);
    QVERIFY2(second.code == 0, qPrintable(second.err + second.out));
    QVERIFY(QFile::exists(here + QStringLiteral("/images-2.cattery")));
    QVERIFY(QFile::exists(here + QStringLiteral("/images-2.checkpoint.cattery")));
    QFile kept(here + QStringLiteral("/images.cattery"));
    QVERIFY(kept.open(QIODevice::ReadOnly));
    QCOMPARE(kept.readAll(), firstBytes);

    for (const char* sheet : {"images-samples.png", "images-samples-2.png"}) {
        const Run sample =
            cli({QStringLiteral("sample"), QStringLiteral("images.cattery")}, 120000, here);
        QVERIFY2(sample.code == 0, qPrintable(sample.err + sample.out));
        QVERIFY2(sample.out.contains(QLatin1String(sheet)), qPrintable(sample.out));
        QVERIFY(QFile::exists(here + QLatin1Char('/') + QLatin1String(sheet)));
    }
}

void TestCli::outputsNeverReplaceInputs_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("victim");     // the file that must be left as it was
    QTest::addColumn<QStringList>("named");  // what the message must name
    const QString model = path("self.cattery");
    const QString data = path("self.data");
    const QString image = m_images + QStringLiteral("/blob0.png");
    const QString link = path("model-link.cattery");
    const QString dotted = path("images/../self.cattery");
    const QStringList train{QStringLiteral("train"), QStringLiteral("--size"), QStringLiteral("32"),
                            QStringLiteral("--steps"), QStringLiteral("1")};
    const auto row = [](const char* name, const QStringList& args, const QString& victim,
                        const QStringList& named) {
        QTest::newRow(name) << args << victim << named;
    };
    row("sample", {QStringLiteral("sample"), model, QStringLiteral("--out"), model}, model,
        {QStringLiteral("--out"), QStringLiteral("MODEL")});
    row("sample through a link", {QStringLiteral("sample"), model, QStringLiteral("--out"), link},
        model, {QStringLiteral("--out"), QStringLiteral("MODEL"), link});
    row("grid through ..", {QStringLiteral("grid"), model, QStringLiteral("--out"), dotted}, model,
        {QStringLiteral("--out"), QStringLiteral("MODEL")});
    row("arith", {QStringLiteral("arith"), model, QStringLiteral("--out"), model}, model,
        {QStringLiteral("--out"), QStringLiteral("MODEL")});
    row("movie", {QStringLiteral("movie"), model, QStringLiteral("--out"), model}, model,
        {QStringLiteral("--out"), QStringLiteral("MODEL")});
    row("directions", {QStringLiteral("directions"), model, QStringLiteral("--out"), model}, model,
        {QStringLiteral("--out"), QStringLiteral("MODEL")});
    row("project over its image",
        {QStringLiteral("project"), model, image, QStringLiteral("--out"), image}, image,
        {QStringLiteral("--out"), QStringLiteral("IMAGE")});
    row("project over its model",
        {QStringLiteral("project"), model, image, QStringLiteral("--out"), model}, model,
        {QStringLiteral("--out"), QStringLiteral("MODEL")});
    row("prepare over its data set",
        {QStringLiteral("prepare"), QStringLiteral("--data"), data, QStringLiteral("--out"), data},
        data, {QStringLiteral("--out"), QStringLiteral("--data")});
    row("prepare over an image it reads",
        {QStringLiteral("prepare"), QStringLiteral("--data"), m_images, QStringLiteral("--out"),
         image},
        image, {QStringLiteral("--out"), QStringLiteral("--data")});
    row("train over its data set",
        train + QStringList{QStringLiteral("--data"), data, QStringLiteral("--out"), data}, data,
        {QStringLiteral("--out"), QStringLiteral("--data")});
    row("train with one file for both",
        train + QStringList{QStringLiteral("--data"), m_images, QStringLiteral("--out"),
                            path("both.cattery"), QStringLiteral("--checkpoint"),
                            path("both.cattery")},
        model, {QStringLiteral("--out"), QStringLiteral("--checkpoint")});
    row("train over the checkpoint it resumes",
        {QStringLiteral("train"), QStringLiteral("--data"), m_images, QStringLiteral("--resume"),
         model, QStringLiteral("--out"), model},
        model, {QStringLiteral("--out"), QStringLiteral("--resume")});
    row("cats with its sheet as its folder",
        {QStringLiteral("cats"), QStringLiteral("--count"), QStringLiteral("2"),
         QStringLiteral("--out"), path("catsdir"), QStringLiteral("--sheet"), path("catsdir")},
        model, {QStringLiteral("--out"), QStringLiteral("--sheet")});
}

// An output that would replace an input (seen through links and ".."), or two outputs that are one
// file, is a usage error before any work: exit 2, naming both, and the input is left as it was.
void TestCli::outputsNeverReplaceInputs() {
    QFETCH(QStringList, args);
    QFETCH(QString, victim);
    QFETCH(QStringList, named);
    const QString model = path("self.cattery");
    if (!QFile::exists(model)) {
        test::saveTinyModel(model.toStdString());
        QFile::link(model, path("model-link.cattery"));
        const Run prep = cli({QStringLiteral("prepare"), QStringLiteral("--data"), m_images,
                              QStringLiteral("--out"), path("self.data"), QStringLiteral("--size"),
                              QStringLiteral("32")});
        QVERIFY2(prep.code == 0, qPrintable(prep.err));
    }
    const auto bytes = [](const QString& file) {
        QFile f(file);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    };
    const QByteArray before = bytes(victim);
    QVERIFY(!before.isEmpty());
    const Run r = cli(args);
    QVERIFY2(r.code == 2,
             qPrintable(QStringLiteral("exit %1: %2%3").arg(r.code).arg(r.err, r.out)));
    for (const QString& name : named) {
        QVERIFY2(r.err.contains(name), qPrintable(name + QStringLiteral(" not in: ") + r.err));
    }
    QCOMPARE(bytes(victim), before);
    QVERIFY(!QFile::exists(path("both.cattery")));
    QVERIFY(!QFile::exists(path("catsdir")));
}

void TestCli::threadsOnEverySubcommand() {
    const QString out = path("threads.png");
    for (const QStringList& args :
         {QStringList{QStringLiteral("sample"), m_model, QStringLiteral("-n"), QStringLiteral("4")},
          QStringList{QStringLiteral("grid"), m_model, QStringLiteral("--size"),
                      QStringLiteral("2")},
          QStringList{QStringLiteral("arith"), m_model}}) {
        const Run r = cli(args + QStringList{QStringLiteral("--threads"), QStringLiteral("1"),
                                             QStringLiteral("--out"), out});
        QVERIFY2(r.code == 0, qPrintable(args.first() + QStringLiteral(": ") + r.err));
        QVERIFY(QFile::remove(out));
    }
}

void TestCli::deviceOnEverySubcommand() {
    const QString out = path("device.png");
    for (const QString& command :
         {QStringLiteral("sample"), QStringLiteral("grid"), QStringLiteral("arith")}) {
        const Run r = cli({command, m_model, QStringLiteral("--device"), QStringLiteral("cpu"),
                           QStringLiteral("--out"), out});
        QVERIFY2(r.code == 0, qPrintable(command + QStringLiteral(": ") + r.err));
        QVERIFY(QFile::remove(out));
    }
    const Run eval = cli({QStringLiteral("eval"), m_model, QStringLiteral("--data"), m_images,
                          QStringLiteral("--count"), QStringLiteral("4"),
                          QStringLiteral("--device"), QStringLiteral("cpu")});
    QVERIFY2(eval.code == 0, qPrintable(eval.err));
    if (torch::cuda::is_available()) {
        QSKIP("this machine has a GPU: --device cuda is no error here");
    }
    // No GPU here: the machine, not the command, lacks something (exit 1), said plainly.
    const Run cuda = cli({QStringLiteral("sample"), m_model, QStringLiteral("--device"),
                          QStringLiteral("cuda"), QStringLiteral("--out"), out});
    QCOMPARE(cuda.code, 1);
    QVERIFY2(cuda.err.contains(QStringLiteral("no usable GPU")), qPrintable(cuda.err));
    QVERIFY(!QFile::exists(out));
}

void TestCli::collapseIsReported() {
    // A checkpoint past the first steps whose generator draws one picture whatever z is, of a run
    // without the collapse guard (which would act on the collapse rather than warn).
    Trainer t(test::tinyArch(), test::plainConfig(), test::blobDataset(12, 32), torch::kCPU);
    t.step();
    Container c = t.checkpoint();
    test::collapseCheckpoint(c, 1000);
    const QString checkpoint = path("collapsed.checkpoint.cattery");
    writeContainer(checkpoint.toStdString(), c);
    const Run r = cli({QStringLiteral("train"), QStringLiteral("--resume"), checkpoint,
                       QStringLiteral("--data"), m_images, QStringLiteral("--steps"),
                       QStringLiteral("1002"), QStringLiteral("--out"), path("collapsed.cattery")});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY2(r.err.contains(QStringLiteral("warning: the samples look alike")), qPrintable(r.err));
    // These are not the images it trained on, and the run says so.
    QVERIFY2(r.err.contains(QStringLiteral("warning: these images differ")), qPrintable(r.err));
    // A length the run has already passed is a usage error that names the step.
    const Run shorter = cli({QStringLiteral("train"), QStringLiteral("--resume"), checkpoint,
                             QStringLiteral("--data"), m_images, QStringLiteral("--steps"),
                             QStringLiteral("10"), QStringLiteral("--out"), path("short.cattery")});
    QCOMPARE(shorter.code, 2);
    QVERIFY2(shorter.err.contains(QStringLiteral("already at step 1002")), qPrintable(shorter.err));
}

void TestCli::startupHandsOpenMPAShortSpin() {
    // OpenMP prints the settings it started with (OMP_DISPLAY_ENV) as it loads, before main().
    const auto spin = [](const QProcessEnvironment& environment) {
        QProcessEnvironment e = environment;
        e.insert(QStringLiteral("OMP_DISPLAY_ENV"), QStringLiteral("verbose"));
        const Run r = cli({QStringLiteral("--version")}, 120000, {}, e);
        const QRegularExpression line(QStringLiteral("GOMP_SPINCOUNT = '(\\d+)'"));
        const auto match = line.match(r.err);
        return r.code == 0 && match.hasMatch() ? match.captured(1) : r.err;
    };
    QProcessEnvironment plain = QProcessEnvironment::systemEnvironment();
    plain.remove(QStringLiteral("OMP_WAIT_POLICY"));
    plain.remove(QStringLiteral("GOMP_SPINCOUNT"));
    plain.insert(QStringLiteral("SHLVL"), QStringLiteral("1"));
    QCOMPARE(spin(plain), QStringLiteral("1000"));
    // With no variable to borrow a slot from, the program starts itself again.
    QCOMPARE(spin(QProcessEnvironment()), QStringLiteral("1000"));
    // The user's own choice stands.
    QProcessEnvironment mine = plain;
    mine.insert(QStringLiteral("GOMP_SPINCOUNT"), QStringLiteral("12345"));
    QCOMPARE(spin(mine), QStringLiteral("12345"));
    mine.remove(QStringLiteral("GOMP_SPINCOUNT"));
    mine.insert(QStringLiteral("OMP_WAIT_POLICY"), QStringLiteral("active"));
    QVERIFY(spin(mine) != QStringLiteral("1000"));
}

void TestCli::usageErrorsExitWithTwo_data() {
    QTest::addColumn<QStringList>("args");
    QTest::newRow("no subcommand") << QStringList{};
    QTest::newRow("unknown subcommand") << QStringList{QStringLiteral("paint")};
    QTest::newRow("unknown option") << QStringList{
        QStringLiteral("sample"), QStringLiteral("MODEL"), QStringLiteral("--colour"),
        QStringLiteral("red"),    QStringLiteral("-o"),    QStringLiteral("x.png")};
    QTest::newRow("movie of no frames")
        << QStringList{QStringLiteral("movie"), QStringLiteral("MODEL"), QStringLiteral("--frames"),
                       QStringLiteral("0"),     QStringLiteral("-o"),    QStringLiteral("x.png")};
    QTest::newRow("movie path of one point")
        << QStringList{QStringLiteral("movie"), QStringLiteral("MODEL"), QStringLiteral("--path"),
                       QStringLiteral("1,2,3"), QStringLiteral("-o"),    QStringLiteral("x.png")};
    QTest::newRow("movie of corners and a path")
        << QStringList{QStringLiteral("movie"),     QStringLiteral("MODEL"),
                       QStringLiteral("--path"),    QStringLiteral("1,2,3;0,0,0"),
                       QStringLiteral("--corners"), QStringLiteral("0,0,0;1,1,1;2,2,2;3,3,3"),
                       QStringLiteral("-o"),        QStringLiteral("x.png")};
    QTest::newRow("zero count") << QStringList{QStringLiteral("sample"), QStringLiteral("MODEL"),
                                               QStringLiteral("-n"),     QStringLiteral("0"),
                                               QStringLiteral("-o"),     QStringLiteral("x.png")};
    QTest::newRow("negative threads") << QStringList{
        QStringLiteral("sample"), QStringLiteral("MODEL"), QStringLiteral("--threads"),
        QStringLiteral("-1"),     QStringLiteral("-o"),    QStringLiteral("x.png")};
    QTest::newRow("count not a number")
        << QStringList{QStringLiteral("sample"), QStringLiteral("MODEL"), QStringLiteral("-n"),
                       QStringLiteral("many"),   QStringLiteral("-o"),    QStringLiteral("x.png")};
    QTest::newRow("three corners")
        << QStringList{QStringLiteral("grid"),      QStringLiteral("MODEL"),
                       QStringLiteral("--corners"), QStringLiteral("1,2,3;1,2,3;1,2,3"),
                       QStringLiteral("-o"),        QStringLiteral("x.png")};
    QTest::newRow("corner not numbers")
        << QStringList{QStringLiteral("grid"),      QStringLiteral("MODEL"),
                       QStringLiteral("--corners"), QStringLiteral("a,b,c;1,2,3;1,2,3;1,2,3"),
                       QStringLiteral("-o"),        QStringLiteral("x.png")};
    QTest::newRow("arith two numbers")
        << QStringList{QStringLiteral("arith"), QStringLiteral("MODEL"), QStringLiteral("--a"),
                       QStringLiteral("1,2"),   QStringLiteral("-o"),    QStringLiteral("x.png")};
    QTest::newRow("grid too big") << QStringList{QStringLiteral("grid"),   QStringLiteral("MODEL"),
                                                 QStringLiteral("--size"), QStringLiteral("99"),
                                                 QStringLiteral("-o"),     QStringLiteral("x.png")};
    QTest::newRow("bad image size") << QStringList{
        QStringLiteral("train"), QStringLiteral("--data"),    QStringLiteral("IMAGES"),
        QStringLiteral("--out"), QStringLiteral("x.cattery"), QStringLiteral("--size"),
        QStringLiteral("33")};
    QTest::newRow("bad gamma") << QStringList{
        QStringLiteral("train"), QStringLiteral("--data"),    QStringLiteral("IMAGES"),
        QStringLiteral("--out"), QStringLiteral("x.cattery"), QStringLiteral("--gamma"),
        QStringLiteral("3")};
    QTest::newRow("data and cats") << QStringList{
        QStringLiteral("train"),    QStringLiteral("--data"), QStringLiteral("IMAGES"),
        QStringLiteral("--cats"),   QStringLiteral("10"),     QStringLiteral("--out"),
        QStringLiteral("x.cattery")};
    QTest::newRow("eval without data")
        << QStringList{QStringLiteral("eval"), QStringLiteral("MODEL")};
    QTest::newRow("no data") << QStringList{QStringLiteral("prepare"), QStringLiteral("--out"),
                                            QStringLiteral("x.cattery")};
    QTest::newRow("bad device") << QStringList{
        QStringLiteral("train"), QStringLiteral("--data"),    QStringLiteral("IMAGES"),
        QStringLiteral("--out"), QStringLiteral("x.cattery"), QStringLiteral("--device"),
        QStringLiteral("tpu")};
    QTest::newRow("bad augmentation") << QStringList{
        QStringLiteral("train"),     QStringLiteral("--data"),    QStringLiteral("IMAGES"),
        QStringLiteral("--out"),     QStringLiteral("x.cattery"), QStringLiteral("--diffaug"),
        QStringLiteral("color,blur")};
    QTest::newRow("augmentation chance without operations") << QStringList{
        QStringLiteral("train"), QStringLiteral("--data"),    QStringLiteral("IMAGES"),
        QStringLiteral("--out"), QStringLiteral("x.cattery"), QStringLiteral("--augment-p"),
        QStringLiteral("0.3")};
    QTest::newRow("augmentation on resume") << QStringList{
        QStringLiteral("train"),    QStringLiteral("--data"),    QStringLiteral("IMAGES"),
        QStringLiteral("--resume"), QStringLiteral("x.cattery"), QStringLiteral("--diffaug"),
        QStringLiteral("none")};
    QTest::newRow("scoring on resume") << QStringList{
        QStringLiteral("train"),    QStringLiteral("--data"),    QStringLiteral("IMAGES"),
        QStringLiteral("--resume"), QStringLiteral("x.cattery"), QStringLiteral("--score-every"),
        QStringLiteral("100")};
    QTest::newRow("architecture on resume") << QStringList{
        QStringLiteral("train"),    QStringLiteral("--data"),    QStringLiteral("IMAGES"),
        QStringLiteral("--resume"), QStringLiteral("x.cattery"), QStringLiteral("--blocky-z-map")};
    QTest::newRow("latent length in training on resume")
        << QStringList{QStringLiteral("train"),     QStringLiteral("--data"),
                       QStringLiteral("IMAGES"),    QStringLiteral("--resume"),
                       QStringLiteral("x.cattery"), QStringLiteral("--z-length-in-training")};
    QTest::newRow("latents scaled in training but not when drawn")
        << QStringList{QStringLiteral("train"),
                       QStringLiteral("--data"),
                       QStringLiteral("IMAGES"),
                       QStringLiteral("--out"),
                       QStringLiteral("x.cattery"),
                       QStringLiteral("--steps"),
                       QStringLiteral("1"),
                       QStringLiteral("--any-z-length"),
                       QStringLiteral("--z-length-in-training")};
    QTest::newRow("model to keep") << QStringList{
        QStringLiteral("train"), QStringLiteral("--data"),    QStringLiteral("IMAGES"),
        QStringLiteral("--out"), QStringLiteral("x.cattery"), QStringLiteral("--keep"),
        QStringLiteral("most")};
    QTest::newRow("augmentation chance") << QStringList{
        QStringLiteral("train"), QStringLiteral("--data"),    QStringLiteral("IMAGES"),
        QStringLiteral("--out"), QStringLiteral("x.cattery"), QStringLiteral("--augment-p"),
        QStringLiteral("1.5")};
    // Numbers that would be wrapped, clamped or read as 0 are refused.
    const QString sample = QStringLiteral("sample");
    const QString out = QStringLiteral("-o");
    const QString png = QStringLiteral("x.png");
    QTest::newRow("seed too large")
        << QStringList{sample, QStringLiteral("MODEL"),  out,
                       png,    QStringLiteral("--seed"), QStringLiteral("1180591620717411303424")};
    QTest::newRow("negative seed")
        << QStringList{sample, QStringLiteral("MODEL"), out, png, QStringLiteral("--seed=-1")};
    QTest::newRow("truncation nan")
        << QStringList{sample, QStringLiteral("MODEL"),        out,
                       png,    QStringLiteral("--truncation"), QStringLiteral("nan")};
    QTest::newRow("infinite learning rate") << QStringList{
        QStringLiteral("train"), QStringLiteral("--data"),    QStringLiteral("IMAGES"),
        QStringLiteral("--out"), QStringLiteral("x.cattery"), QStringLiteral("--min-lr"),
        QStringLiteral("inf")};
}

void TestCli::usageErrorsExitWithTwo() {
    QFETCH(QStringList, args);
    args.replaceInStrings(QStringLiteral("MODEL"), m_model);
    args.replaceInStrings(QStringLiteral("IMAGES"), m_images);
    args.replaceInStrings(QStringLiteral("x.png"), path("x.png"));
    args.replaceInStrings(QStringLiteral("x.cattery"), path("x.cattery"));
    const Run r = cli(args);
    QVERIFY2(r.code == 2, qPrintable(QStringLiteral("exit %1: %2").arg(r.code).arg(r.err)));
    QVERIFY(!r.err.trimmed().isEmpty());
    QVERIFY(!QFile::exists(path("x.png")));
}

void TestCli::badInputExitsWithOne_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("expected");
    QTest::newRow("missing model")
        << QStringList{QStringLiteral("info"), QStringLiteral("DIR/none.cattery")}
        << QStringLiteral("no such file");
    QTest::newRow("text as model")
        << QStringList{QStringLiteral("sample"), QStringLiteral("DIR/images/notes.txt"),
                       QStringLiteral("-o"), QStringLiteral("DIR/x.png")}
        << QStringLiteral("not a Cattery file");
    QTest::newRow("folder as model")
        << QStringList{QStringLiteral("info"), QStringLiteral("DIR/images")}
        << QStringLiteral("folder");
    QTest::newRow("empty data folder")
        << QStringList{QStringLiteral("prepare"), QStringLiteral("--data"),
                       QStringLiteral("DIR/emptydir"), QStringLiteral("--out"),
                       QStringLiteral("DIR/e.data")}
        << QStringLiteral("empty");
    QTest::newRow("missing data folder")
        << QStringList{QStringLiteral("train"), QStringLiteral("--data"),
                       QStringLiteral("DIR/nowhere"), QStringLiteral("--out"),
                       QStringLiteral("DIR/x.cattery")}
        << QStringLiteral("no such folder");
    QTest::newRow("resume from a model")
        << QStringList{QStringLiteral("train"),           QStringLiteral("--data"),
                       QStringLiteral("DIR/images"),      QStringLiteral("--out"),
                       QStringLiteral("DIR/x.cattery"),   QStringLiteral("--resume"),
                       QStringLiteral("DIR/tiny.cattery")}
        << QStringLiteral("not a training checkpoint");
    QTest::newRow("unwritable output")
        << QStringList{QStringLiteral("sample"), QStringLiteral("DIR/tiny.cattery"),
                       QStringLiteral("-o"), QStringLiteral("DIR/no/such/dir/x.png")}
        << QStringLiteral("x.png");
    // Before any image is read or step taken.
    QTest::newRow("unwritable training output")
        << QStringList{QStringLiteral("train"), QStringLiteral("--data"),
                       QStringLiteral("DIR/images"), QStringLiteral("--out"),
                       QStringLiteral("DIR/no/such/dir/x.cattery")}
        << QStringLiteral("cannot write in its folder");
}

void TestCli::badInputExitsWithOne() {
    QFETCH(QStringList, args);
    QFETCH(QString, expected);
    std::filesystem::create_directories(path("emptydir").toStdString());
    args.replaceInStrings(QStringLiteral("DIR"), m_dir.path());
    const Run r = cli(args);
    QVERIFY2(r.code == 1, qPrintable(QStringLiteral("exit %1: %2").arg(r.code).arg(r.err)));
    QVERIFY2(r.err.contains(expected), qPrintable(r.err));
    QVERIFY(!QFile::exists(path("x.cattery")));
}

void TestCli::hostileInputsStayUnderMemoryCeilings() {
    // What cattery-cli holds at its peak with nothing hostile: the baseline the ceilings sit on.
    const Peak idle = cliPeak({QStringLiteral("info"), m_model});
    QCOMPARE(idle.code, 0);
    // A folder of hostile images: the largest 16-bit RGBA picture the limits let through, very
    // long thin ones, and headers that claim gigabytes. `prepare` stays under 1 GB.
    const std::string folder = path("hostile").toStdString();
    std::filesystem::create_directories(folder);
    // Written by a forked child: a child's peak memory as the kernel reports it includes this
    // process's peak, which must therefore stay low.
    const pid_t writer = fork();
    if (writer == 0) {
        const cv::Mat deep(6000, 6000, CV_16UC4, cv::Scalar(40000, 20000, 10000, 30000));
        _exit(cv::imwrite(folder + "/deep.png", deep) ? 0 : 1);
    }
    int written = -1;
    QVERIFY(writer > 0 && waitpid(writer, &written, 0) == writer);
    QVERIFY(WIFEXITED(written) && WEXITSTATUS(written) == 0);
    QVERIFY(cv::imwrite(folder + "/tall.png", cv::Mat(60000, 8, CV_8UC3, cv::Scalar::all(0))));
    QVERIFY(cv::imwrite(folder + "/wide.png", cv::Mat(8, 40000, CV_8UC3, cv::Scalar::all(0))));
    std::ofstream(folder + "/bomb.hdr", std::ios::binary)
        << "#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 16384 +X 16384\n"
        << std::string(64, '\x02');
    const Peak prepared =
        cliPeak({QStringLiteral("prepare"), QStringLiteral("--data"),
                 QString::fromStdString(folder), QStringLiteral("--size"), QStringLiteral("64"),
                 QStringLiteral("--out"), path("hostile.data")});
    qInfo("cattery-cli peaks: idle %lld MB, prepare of hostile images %lld MB",
          static_cast<long long>(idle.bytes >> 20), static_cast<long long>(prepared.bytes >> 20));
    QCOMPARE(prepared.code, 0);
    QCOMPARE(loadDataset(path("hostile.data").toStdString()).count(), std::int64_t{3});
    QVERIFY(prepared.bytes < (1LL << 30));
    // A small model file that declares the largest networks: refused before a 2 GB generator is
    // built, so loading it holds little more than the program itself.
    const Container c = test::claimingLargestNetworks(readContainer(m_model.toStdString()));
    writeContainer(path("claims.cattery").toStdString(), c);
    const Peak claims = cliPeak({QStringLiteral("info"), path("claims.cattery")});
    qInfo("cattery-cli peak on a model file claiming the largest networks: %lld MB",
          static_cast<long long>(claims.bytes >> 20));
    QCOMPARE(claims.code, 1);
    QVERIFY(claims.bytes < idle.bytes + (256LL << 20));
}

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
