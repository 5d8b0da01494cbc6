#include <torch/torch.h>
#include <QtTest/QtTest>

#include <chrono>
#include <future>
#include <map>
#include <optional>
#include <string>

#include <csignal>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/io/modelfile.h"
#include "core/io/tensorio.h"
#include "core/runtime/threads.h"
#include "core/train/distributed.h"
#include "core/train/launcher.h"
#include "core/train/trainer.h"
#include "testutil.h"

using namespace cattery;
using namespace std::chrono_literals;

namespace {

using Environment = std::map<std::string, std::string>;

WorldSettings settingsFrom(const Environment& env) {
    return worldFromEnvironment([&env](const char* name) -> const char* {
        const auto found = env.find(name);
        return found == env.end() ? nullptr : found->second.c_str();
    });
}

// A socket listening on a port the system chose, on every address; 0 where none could be had.
class Listener {
public:
    Listener() : m_fd(::socket(AF_INET, SOCK_STREAM, 0)) {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_ANY);
        socklen_t length = sizeof address;
        if (m_fd >= 0 && ::bind(m_fd, reinterpret_cast<sockaddr*>(&address), length) == 0 &&
            ::listen(m_fd, 1) == 0 &&
            ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
            m_port = ntohs(address.sin_port);
        }
    }
    ~Listener() {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
    }
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;
    int port() const { return m_port; }

private:
    int m_fd;
    int m_port = 0;
};

// A TCP port nobody listens on right now.
int freePort() {
    return Listener().port();
}

WorldSettings rankOf(int rank, int size, int port) {
    WorldSettings w;
    w.rank = rank;
    w.size = size;
    w.localRank = rank;
    w.masterAddr = "127.0.0.1";
    w.masterPort = port;
    return w;
}

// A run that two processes can match to float tolerance against one: fp32, BEGAN, no batch norm
// (its statistics are each process's own), no variety term (measured within each share) and no
// augmentation of what the discriminator sees.
ArchConfig sharedArch() {
    ArchConfig a = test::tinyArch(12);
    a.batchNorm = false;
    // Latents at their own length. Scaled ones (a row-wise operation, which sharing cannot touch)
    // put this run on a path where the rounding of the summed gradients, 1e-8 in the losses up to
    // step 23, grows to 1.6e-5 by step 50, past what this test can tell from a real difference.
    a.normalizeZ = false;
    return a;
}

TrainConfig sharedConfig() {
    TrainConfig c = test::plainConfig();
    c.batchSize = 16;  // the whole batch: 8 on each of two processes
    c.steps = 1000;
    c.sampleEvery = 0;
    c.sampleCount = 4;
    c.seed = 21;
    c.lrStallSteps = 0;
    c.precision = Precision::Float32;
    c.averageDecay = 0.9;
    return c;
}

// What each step did, and the networks at the end.
struct Trace {
    std::vector<StepStats> steps;
    Container state;
};

Trace trainFor(Trainer& trainer, int steps) {
    Trace trace;
    for (int i = 0; i < steps; ++i) {
        trace.steps.push_back(trainer.step());
    }
    trace.state = trainer.checkpoint();
    return trace;
}

// The largest difference between two records of the same name in two checkpoints, over the
// networks' weights.
double largestWeightDifference(const Container& a, const Container& b) {
    double most = 0.0;
    int compared = 0;
    for (const Record& r : a.records) {
        if (r.name.rfind("generator.", 0) != 0 && r.name.rfind("discriminator.", 0) != 0) {
            continue;
        }
        const Record* other = b.find(r.name);
        if (other == nullptr) {
            return std::numeric_limits<double>::infinity();
        }
        const torch::Tensor x = toTensor(r).to(torch::kFloat64);
        const torch::Tensor y = toTensor(*other).to(torch::kFloat64);
        most = std::max(most, (x - y).abs().max().item<double>());
        ++compared;
    }
    return compared > 0 ? most : std::numeric_limits<double>::infinity();
}

// Rank 0's and rank 1's refusals (ConfigError) to join `first` and `second` into one run; empty
// where one joined.
std::pair<QString, QString> joinRefusals(Trainer& first, Trainer& second) {
    const int port = freePort();
    const auto join = [port](Trainer& trainer, int rank) {
        World world(rankOf(rank, 2, port), torch::kCPU, 30s);
        try {
            trainer.joinWorld(world);
        } catch (const ConfigError& e) {
            return QString::fromUtf8(e.what());
        }
        return QString();
    };
    auto other = std::async(std::launch::async, join, std::ref(second), 1);
    const QString message = join(first, 0);
    return {message, other.get()};
}

}  // namespace

class TestDistributed : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { torch::set_num_threads(1); }
    void oneProcessWithoutTheVariables();
    void settingsFromTheEnvironment();
    void badSettingsNameTheVariable_data();
    void badSettingsNameTheVariable();
    void twoRanksAverageAndAgree();
    void aPortInUseIsNamed();
    void aRankThatNeverComesIsNamed();
    void aRankThatLeavesStopsTheOthers();
    void aRankThatHangsIsNamed();
    void launcherGivesEachRankItsPlace();
    void launcherReturnsTheFailure();
    void launcherRefusesWhatItCannotStart();
    void launcherPassesOnATermination();
    void eachProcessGetsAShareOfTheCores();
    void helpersKeepWhatEachSaid();
    void twoProcessesTrainAsOne();
    void processesOfDifferentRunsAreRefused();
    void aBatchThatDoesNotSplitIsRefused();
};

void TestDistributed::oneProcessWithoutTheVariables() {
    const WorldSettings w = settingsFrom({});
    QCOMPARE(w.size, 1);
    QCOMPARE(w.rank, 0);
    QVERIFY(!w.spread());
    // torchrun with one process sets the variables too: still one process, no meeting point.
    const WorldSettings one = settingsFrom({{"WORLD_SIZE", "1"}, {"RANK", "0"}});
    QVERIFY(!one.spread());
}

void TestDistributed::settingsFromTheEnvironment() {
    const WorldSettings w = settingsFrom({{"WORLD_SIZE", "4"},
                                          {"RANK", "3"},
                                          {"LOCAL_RANK", "1"},
                                          {"MASTER_ADDR", "host-a"},
                                          {"MASTER_PORT", "29511"}});
    QVERIFY(w.spread());
    QCOMPARE(w.size, 4);
    QCOMPARE(w.rank, 3);
    QCOMPARE(w.localRank, 1);
    QCOMPARE(w.masterAddr, std::string("host-a"));
    QCOMPARE(w.masterPort, 29511);
    // Without LOCAL_RANK, the rank stands for it.
    const WorldSettings noLocal = settingsFrom(
        {{"WORLD_SIZE", "2"}, {"RANK", "1"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}});
    QCOMPARE(noLocal.localRank, 1);
}

void TestDistributed::badSettingsNameTheVariable_data() {
    QTest::addColumn<QStringList>("assignments");
    QTest::addColumn<QString>("named");
    QTest::newRow("no master address")
        << QStringList{QStringLiteral("WORLD_SIZE=2"), QStringLiteral("RANK=0"),
                       QStringLiteral("MASTER_PORT=29500")}
        << QStringLiteral("MASTER_ADDR");
    QTest::newRow("no master port")
        << QStringList{QStringLiteral("WORLD_SIZE=2"), QStringLiteral("RANK=1"),
                       QStringLiteral("MASTER_ADDR=localhost")}
        << QStringLiteral("MASTER_PORT");
    QTest::newRow("rank outside the world")
        << QStringList{QStringLiteral("WORLD_SIZE=2"), QStringLiteral("RANK=2"),
                       QStringLiteral("MASTER_ADDR=localhost"), QStringLiteral("MASTER_PORT=1")}
        << QStringLiteral("RANK=2");
    QTest::newRow("negative rank")
        << QStringList{QStringLiteral("WORLD_SIZE=2"), QStringLiteral("RANK=-1"),
                       QStringLiteral("MASTER_ADDR=localhost"), QStringLiteral("MASTER_PORT=1")}
        << QStringLiteral("RANK=-1");
    QTest::newRow("rank without a world")
        << QStringList{QStringLiteral("RANK=0")} << QStringLiteral("WORLD_SIZE");
    QTest::newRow("world without a rank")
        << QStringList{QStringLiteral("WORLD_SIZE=3")} << QStringLiteral("RANK");
    QTest::newRow("no world") << QStringList{QStringLiteral("WORLD_SIZE=0"),
                                             QStringLiteral("RANK=0")}
                              << QStringLiteral("WORLD_SIZE=0");
    QTest::newRow("words for a number")
        << QStringList{QStringLiteral("WORLD_SIZE=two"), QStringLiteral("RANK=0")}
        << QStringLiteral("WORLD_SIZE=two");
    QTest::newRow("port out of range")
        << QStringList{QStringLiteral("WORLD_SIZE=2"), QStringLiteral("RANK=0"),
                       QStringLiteral("MASTER_ADDR=localhost"), QStringLiteral("MASTER_PORT=70000")}
        << QStringLiteral("MASTER_PORT=70000");
    QTest::newRow("local rank outside the world")
        << QStringList{QStringLiteral("WORLD_SIZE=2"), QStringLiteral("RANK=0"),
                       QStringLiteral("LOCAL_RANK=5"), QStringLiteral("MASTER_ADDR=localhost"),
                       QStringLiteral("MASTER_PORT=1")}
        << QStringLiteral("LOCAL_RANK=5");
}

void TestDistributed::badSettingsNameTheVariable() {
    QFETCH(QStringList, assignments);
    QFETCH(QString, named);
    Environment env;
    for (const QString& a : assignments) {
        const qsizetype eq = a.indexOf(QLatin1Char('='));
        env[a.left(eq).toStdString()] = a.mid(eq + 1).toStdString();
    }
    try {
        settingsFrom(env);
        QFAIL("accepted");
    } catch (const ConfigError& e) {
        QVERIFY2(QString::fromUtf8(e.what()).contains(named), e.what());
    }
}

void TestDistributed::twoRanksAverageAndAgree() {
    const int port = freePort();
    QVERIFY(port > 0);
    // Rank 1 in a thread of its own; each rank holds different numbers.
    auto other = std::async(std::launch::async, [port] {
        World world(rankOf(1, 2, port), torch::kCPU, 20s);
        std::vector<torch::Tensor> grads{torch::full({3, 2}, 4.0), torch::full({5}, 10.0),
                                         torch::full({2}, 7.0, torch::kFloat64)};
        world.average(grads);
        torch::Tensor weights = torch::full({4}, -1.0);
        world.broadcast({weights});
        const std::vector<double> sums = world.sum({1.0, 2.5});
        const double most = world.max(3.0);
        world.checkEveryoneIsHere();
        return std::make_tuple(grads, weights, sums, most);
    });
    World world(rankOf(0, 2, port), torch::kCPU, 20s);
    QCOMPARE(world.rank(), 0);
    QCOMPARE(world.size(), 2);
    std::vector<torch::Tensor> grads{torch::full({3, 2}, 2.0), torch::full({5}, 0.0),
                                     torch::full({2}, 1.0, torch::kFloat64)};
    world.average(grads);
    torch::Tensor weights = torch::arange(4, torch::kFloat32);
    world.broadcast({weights});
    const std::vector<double> sums = world.sum({0.5, 0.5});
    const double most = world.max(-2.0);
    world.checkEveryoneIsHere();
    const auto [otherGrads, otherWeights, otherSums, otherMost] = other.get();

    // Means, each tensor's own shape and type kept, alike on both ranks.
    for (const auto& g : {grads, otherGrads}) {
        QVERIFY(torch::equal(g[0], torch::full({3, 2}, 3.0)));
        QVERIFY(torch::equal(g[1], torch::full({5}, 5.0)));
        QCOMPARE(g[2].scalar_type(), torch::kFloat64);
        QVERIFY(torch::equal(g[2], torch::full({2}, 4.0, torch::kFloat64)));
    }
    // Rank 0's weights everywhere.
    QVERIFY(torch::equal(otherWeights, torch::arange(4, torch::kFloat32)));
    QVERIFY(torch::equal(weights, torch::arange(4, torch::kFloat32)));
    for (const auto& s : {sums, otherSums}) {
        QCOMPARE(s.size(), size_t{2});
        QCOMPARE(s[0], 1.5);
        QCOMPARE(s[1], 3.0);
    }
    QCOMPARE(most, 3.0);
    QCOMPARE(otherMost, 3.0);
}

void TestDistributed::aPortInUseIsNamed() {
    const Listener squatter;
    const int port = squatter.port();
    QVERIFY(port > 0);
    try {
        World world(rankOf(0, 2, port), torch::kCPU, 5s);
        QFAIL("served a port in use");
    } catch (const ConfigError& e) {
        const QString message = QString::fromUtf8(e.what());
        QVERIFY2(
            message.contains(QString::number(port)) && message.contains(QStringLiteral("in use")),
            e.what());
    }
}

void TestDistributed::aRankThatNeverComesIsNamed() {
    const int port = freePort();
    QVERIFY(port > 0);
    const auto start = std::chrono::steady_clock::now();
    try {
        World world(rankOf(0, 2, port), torch::kCPU, 2s);
        QFAIL("a world of two formed with one process");
    } catch (const TrainingError& e) {
        QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("rank 1 does not answer")),
                 e.what());
    }
    QVERIFY(std::chrono::steady_clock::now() - start < 15s);
}

void TestDistributed::aRankThatLeavesStopsTheOthers() {
    const int port = freePort();
    QVERIFY(port > 0);
    auto other = std::async(std::launch::async, [port] {
        World world(rankOf(1, 2, port), torch::kCPU, 5s);
        world.broadcast({torch::zeros({1})});
        // Gone before the next collective call.
    });
    World world(rankOf(0, 2, port), torch::kCPU, 5s);
    world.broadcast({torch::zeros({1})});
    other.get();
    const auto start = std::chrono::steady_clock::now();
    try {
        world.average({torch::ones({8})});
        QFAIL("gradients were averaged without rank 1");
    } catch (const TrainingError& e) {
        QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("rank 1 does not answer")),
                 e.what());
    }
    // Within the timeout, with a little room.
    QVERIFY(std::chrono::steady_clock::now() - start < 15s);
}

void TestDistributed::aRankThatHangsIsNamed() {
    const int port = freePort();
    QVERIFY(port > 0);
    std::promise<void> released;
    auto other = std::async(std::launch::async, [port, done = released.get_future()] {
        World world(rankOf(1, 2, port), torch::kCPU, 3s);
        world.broadcast({torch::zeros({1})});
        done.wait();  // alive, beating, but never at the next call
    });
    World world(rankOf(0, 2, port), torch::kCPU, 3s);
    world.broadcast({torch::zeros({1})});
    const auto start = std::chrono::steady_clock::now();
    try {
        world.sum({1.0});
        QFAIL("numbers were summed without rank 1");
    } catch (const TrainingError& e) {
        QVERIFY2(QString::fromUtf8(e.what()).contains(
                     QStringLiteral("rank 1 still answers but has not reached this call")),
                 e.what());
    }
    QVERIFY(std::chrono::steady_clock::now() - start < 15s);
    released.set_value();
    other.get();
}

void TestDistributed::launcherGivesEachRankItsPlace() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    // A variable left from an outer launcher must not reach the children.
    qputenv("RANK", "9");
    LocalLaunch launch;
    launch.program = "/bin/sh";
    launch.arguments = {"-c",
                        "echo \"$RANK $LOCAL_RANK $WORLD_SIZE $LOCAL_WORLD_SIZE $MASTER_ADDR "
                        "$MASTER_PORT\" > \"$0/$RANK\"",
                        dir.path().toStdString()};
    launch.count = 3;
    const int status = runLocalWorld(launch);
    qunsetenv("RANK");
    QCOMPARE(status, 0);
    QString port;
    for (int rank = 0; rank < 3; ++rank) {
        QFile file(dir.filePath(QString::number(rank)));
        QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(file.fileName()));
        const QStringList fields =
            QString::fromUtf8(file.readAll()).trimmed().split(QLatin1Char(' '));
        QCOMPARE(fields.size(), 6);
        QCOMPARE(fields[0], QString::number(rank));
        QCOMPARE(fields[1], QString::number(rank));
        QCOMPARE(fields[2], QStringLiteral("3"));
        QCOMPARE(fields[3], QStringLiteral("3"));
        QCOMPARE(fields[4], QStringLiteral("127.0.0.1"));
        QVERIFY(fields[5].toInt() > 0);
        if (rank > 0) {
            QCOMPARE(fields[5], port);  // one meeting point for all
        }
        port = fields[5];
    }
    QVERIFY(!QFile::exists(dir.filePath(QStringLiteral("9"))));
}

void TestDistributed::launcherReturnsTheFailure() {
    LocalLaunch launch;
    launch.program = "/bin/sh";
    launch.arguments = {"-c", "exit $((RANK + 3))"};
    QCOMPARE(runLocalWorld(launch), 3);
    // A rank killed by a signal reads as the shell's 128 + the signal, the others' success aside.
    launch.arguments = {"-c", "[ \"$RANK\" = 1 ] && kill -9 $$; exit 0"};
    QCOMPARE(runLocalWorld(launch), 128 + 9);
}

void TestDistributed::launcherRefusesWhatItCannotStart() {
    LocalLaunch launch;
    launch.program = "/bin/true";
    for (const int count : {1, 0, kMostLocalProcesses + 1}) {
        launch.count = count;
        QVERIFY_THROWS_EXCEPTION(ConfigError, runLocalWorld(launch));
    }
    launch.count = 2;
    launch.program = "/nonexistent/cattery-cli";
    try {
        runLocalWorld(launch);
        QFAIL("started a program that does not exist");
    } catch (const ConfigError& e) {
        QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("/nonexistent/cattery-cli")),
                 e.what());
    }
}

void TestDistributed::launcherPassesOnATermination() {
    // SIGTERM sent to the launcher alone (as a service manager would) reaches every rank, which
    // here leaves with 7; the launcher itself goes on to wait for them.
    LocalLaunch launch;
    launch.program = "/bin/sh";
    launch.arguments = {"-c",
                        "trap 'kill $! 2>/dev/null; exit 7' TERM; sleep 30 >/dev/null 2>&1 & wait"};
    auto terminate = std::async(std::launch::async, [] {
        std::this_thread::sleep_for(500ms);
        ::kill(::getpid(), SIGTERM);
    });
    const auto start = std::chrono::steady_clock::now();
    QCOMPARE(runLocalWorld(launch), 7);
    QVERIFY(std::chrono::steady_clock::now() - start < 20s);
    terminate.get();
}

void TestDistributed::eachProcessGetsAShareOfTheCores() {
    QCOMPARE(threadsPerProcess(2, 2), 1);
    QCOMPARE(threadsPerProcess(16, 3), 5);
    QCOMPARE(threadsPerProcess(1, 4), 1);
    QCOMPARE(threadsPerProcess(8, 1), 8);
}

// The window's helpers (ranks 1 to N-1): each its place in the environment, its words in a log of
// its own, the first failure's status; stop() ends those still running.
void TestDistributed::helpersKeepWhatEachSaid() {
    QTemporaryDir logs;
    QVERIFY(logs.isValid());
    LocalLaunch launch;
    launch.program = "/bin/sh";
    launch.arguments = {"-c", "echo \"rank $RANK of $WORLD_SIZE at $MASTER_PORT\"; exit $RANK"};
    launch.count = 3;
    LocalHelpers helpers(launch, 29123, logs.path().toStdString());
    QCOMPARE(helpers.wait(), 1);
    QCOMPARE(helpers.lastWords(1), std::string("rank 1 of 3 at 29123"));
    QCOMPARE(helpers.lastWords(2), std::string("rank 2 of 3 at 29123"));

    launch.arguments = {"-c", "sleep 100"};
    launch.count = 2;
    LocalHelpers sleeper(launch, 29123, logs.path().toStdString());
    QElapsedTimer timer;
    timer.start();
    sleeper.stop();
    QVERIFY(timer.elapsed() < 5000);
}

// Two processes with a batch of 8 each take the steps one process takes with 16: the same losses,
// k_t and networks, to float tolerance, for 50 steps; a checkpoint they write halfway resumes on
// one process and continues the same run.
void TestDistributed::twoProcessesTrainAsOne() {
    const Dataset data = test::blobDataset(40, 32);
    // Built one after another: the networks' first weights come from LibTorch's one global stream.
    Trainer alone(sharedArch(), sharedConfig(), data, torch::kCPU);
    Trainer first(sharedArch(), sharedConfig(), data, torch::kCPU);
    Trainer second(sharedArch(), sharedConfig(), data, torch::kCPU);
    {
        // Rank 1 starts from other weights: joining gives it rank 0's.
        torch::NoGradGuard noGrad;
        for (auto& p : second.trainingGenerator()->parameters()) {
            p.add_(0.5);
        }
    }
    const int port = freePort();
    QVERIFY(port > 0);
    auto other = std::async(std::launch::async, [&second, port] {
        configureThreads(1);
        World world(rankOf(1, 2, port), torch::kCPU, 60s);
        second.joinWorld(world);
        Trace trace = trainFor(second, 25);
        trainFor(second, 25);
        return trace;
    });
    World world(rankOf(0, 2, port), torch::kCPU, 60s);
    first.joinWorld(world);
    QCOMPARE(first.processes(), 2);
    QCOMPARE(first.rank(), 0);
    QCOMPARE(first.batchPerProcess(), 8);
    const Trace half = trainFor(first, 25);
    const Trace rest = trainFor(first, 25);
    const Trace secondHalf = other.get();
    const Trace whole = trainFor(alone, 50);

    std::vector<StepStats> two = half.steps;
    two.insert(two.end(), rest.steps.begin(), rest.steps.end());
    double mostLoss = 0.0;
    for (std::size_t i = 0; i < whole.steps.size(); ++i) {
        const StepStats& a = whole.steps[i];
        const StepStats& b = two[i];
        QVERIFY(!a.rolledBack && !b.rolledBack);
        mostLoss = std::max({mostLoss, std::abs(a.lossReal - b.lossReal),
                             std::abs(a.lossFake - b.lossFake), std::abs(a.k - b.k)});
        // Both processes saw the same numbers.
        if (i < secondHalf.steps.size()) {
            QCOMPARE(secondHalf.steps[i].lossReal, b.lossReal);
            QCOMPARE(secondHalf.steps[i].k, b.k);
        }
    }
    const double mostWeight = largestWeightDifference(whole.state, rest.state);
    qInfo(
        "two processes against one over 50 steps: losses and k_t within %.2g, weights within %.2g",
        mostLoss, mostWeight);
    QVERIFY2(mostLoss < 1e-5, qPrintable(QString::number(mostLoss)));
    QVERIFY2(mostWeight < 1e-4, qPrintable(QString::number(mostWeight)));
    // The losses moved: the comparison is of a run that learns, not of two idle ones.
    QVERIFY(std::abs(whole.steps.front().lossReal - whole.steps.back().lossReal) > 1e-3);

    // What the checkpoint says of how the run trained.
    const Provenance p = provenanceFromJson(half.state.meta.at("provenance"));
    QCOMPARE(p.processes, 2);
    QCOMPARE(p.batch, std::int64_t{16});

    // Resumed on one process, the checkpoint of two takes the steps the one process took.
    Trainer resumed = Trainer::resume(half.state, "two processes' checkpoint", data, torch::kCPU);
    QCOMPARE(resumed.stepCount(), std::int64_t{25});
    QCOMPARE(resumed.batchPerProcess(), 16);
    const Trace continued = trainFor(resumed, 25);
    for (std::size_t i = 0; i < continued.steps.size(); ++i) {
        QVERIFY(std::abs(continued.steps[i].lossReal - whole.steps[25 + i].lossReal) < 1e-4);
        QVERIFY(std::abs(continued.steps[i].k - whole.steps[25 + i].k) < 1e-4);
    }
    QVERIFY(largestWeightDifference(whole.state, continued.state) < 1e-3);
}

void TestDistributed::processesOfDifferentRunsAreRefused() {
    const Dataset data = test::blobDataset(16, 32);
    ArchConfig wider = sharedArch();
    wider.nf = 6;
    Trainer first(sharedArch(), sharedConfig(), data, torch::kCPU);
    Trainer second(wider, sharedConfig(), data, torch::kCPU);
    const auto [message, otherMessage] = joinRefusals(first, second);
    // Both refuse, naming what differs and where.
    for (const QString& m : {message, otherMessage}) {
        QVERIFY2(m.contains(QStringLiteral("architecture")) && m.contains(QStringLiteral("nf")) &&
                     m.contains(QStringLiteral("rank 1")),
                 qPrintable(m));
    }
    QVERIFY(first.world() == nullptr);
}

void TestDistributed::aBatchThatDoesNotSplitIsRefused() {
    const Dataset data = test::blobDataset(16, 32);
    TrainConfig odd = sharedConfig();
    odd.batchSize = 15;
    Trainer first(sharedArch(), odd, data, torch::kCPU);
    Trainer second(sharedArch(), odd, data, torch::kCPU);
    const auto [message, otherMessage] = joinRefusals(first, second);
    for (const QString& m : {message, otherMessage}) {
        QVERIFY2(
            m.contains(QStringLiteral("batch of 15")) && m.contains(QStringLiteral("2 processes")),
            qPrintable(m));
    }
}

QTEST_GUILESS_MAIN(TestDistributed)
#include "test_distributed.moc"
