#include <torch/torch.h>
#include <QtTest/QtTest>

#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "core/runtime/threads.h"

using namespace cattery;

namespace {

// Keeps the calling thread's work going while the governor looks, as a training step would.
void busyFor(std::chrono::milliseconds ms) {
    const auto end = std::chrono::steady_clock::now() + ms;
    const torch::Tensor a = torch::randn({256, 256});
    while (std::chrono::steady_clock::now() < end) {
        (void)torch::mm(a, a);
    }
}

// Plain spinning processes: the other programs that keep cores busy.
std::vector<pid_t> startSpinners(int count) {
    std::vector<pid_t> pids;
    for (int i = 0; i < count; ++i) {
        const pid_t pid = fork();
        if (pid == 0) {
            for (volatile unsigned long n = 0;; n = n + 1) {
            }
        }
        pids.push_back(pid);
    }
    return pids;
}

void stopSpinners(std::vector<pid_t>& pids) {
    for (const pid_t pid : pids) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
    }
    pids.clear();
}

// Calls update() between bursts of work until it reports `wanted` or the time runs out.
bool governorReaches(ThreadGovernor& governor, bool (*wanted)(int, int), int usable) {
    for (int i = 0; i < 40; ++i) {
        busyFor(std::chrono::milliseconds(250));
        if (wanted(governor.update(), usable)) {
            return true;
        }
    }
    return false;
}

}  // namespace

class TestThreads : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void quotaAsCpus_data();
    void quotaAsCpus();
    void usableCpusFollowsTheAffinityMask();
    void requestedAndEnvironmentCounts();
    void drawingKeepsToOneThreadWhileTraining();
    void fixedCountIsKept();
    void governorGivesWayToBusyProcesses();
    void startupChoseAShortSpin();
};

void TestThreads::quotaAsCpus_data() {
    QTest::addColumn<QString>("cpuMax");
    QTest::addColumn<int>("cpus");
    QTest::newRow("no limit") << "max 100000" << 0;
    QTest::newRow("two") << "200000 100000" << 2;
    QTest::newRow("one and a half rounds up") << "150000 100000" << 2;
    QTest::newRow("a sliver is one") << "1000 100000" << 1;
    QTest::newRow("empty") << "" << 0;
    QTest::newRow("garbage") << "lots often" << 0;
    QTest::newRow("zero period") << "100000 0" << 0;
    QTest::newRow("absurd") << "1e300 1" << 4096;
}

void TestThreads::quotaAsCpus() {
    QFETCH(QString, cpuMax);
    QFETCH(int, cpus);
    QCOMPARE(quotaCpus(cpuMax.toStdString()), cpus);
}

void TestThreads::usableCpusFollowsTheAffinityMask() {
    const int all = usableCpus();
    QVERIFY(all >= 1);
    QVERIFY(all <= static_cast<int>(std::max(1U, std::thread::hardware_concurrency())));
    cpu_set_t saved;
    QCOMPARE(sched_getaffinity(0, sizeof saved, &saved), 0);
    int first = 0;
    while (!CPU_ISSET(first, &saved)) {
        ++first;
    }
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    QCOMPARE(sched_setaffinity(0, sizeof one, &one), 0);
    const int pinned = usableCpus();
    QCOMPARE(sched_setaffinity(0, sizeof saved, &saved), 0);
    QCOMPARE(pinned, 1);
    QCOMPARE(usableCpus(), all);
}

void TestThreads::requestedAndEnvironmentCounts() {
    QCOMPARE(resolveThreads(3), 3);
    const QByteArray saved = qgetenv("OMP_NUM_THREADS");
    const bool had = qEnvironmentVariableIsSet("OMP_NUM_THREADS");
    qputenv("OMP_NUM_THREADS", "1");
    const int fromEnvironment = resolveThreads(0);
    const int stillRequested = resolveThreads(2);
    qputenv("OMP_NUM_THREADS", "lots");
    const int ignored = resolveThreads(0);
    qunsetenv("OMP_NUM_THREADS");
    const int automatic = resolveThreads(0);
    if (had) {
        qputenv("OMP_NUM_THREADS", saved);
    }
    QCOMPARE(fromEnvironment, 1);
    QCOMPARE(stillRequested, 2);
    QCOMPARE(ignored, usableCpus());
    QCOMPARE(automatic, usableCpus());
    QCOMPARE(configureThreads(1), 1);
    QCOMPARE(at::get_num_threads(), 1);
    QCOMPARE(configureThreads(0), automatic);
    QCOMPARE(at::get_num_threads(), automatic);
}

void TestThreads::drawingKeepsToOneThreadWhileTraining() {
    const int all = resolveThreads(0);
    QCOMPARE(drawingThreads(), all);
    {
        const TrainingShare training;
        QCOMPARE(drawingThreads(), 1);
        {
            const TrainingShare another;
            QCOMPARE(drawingThreads(), 1);
        }
        QCOMPARE(drawingThreads(), 1);
    }
    QCOMPARE(drawingThreads(), all);
}

void TestThreads::fixedCountIsKept() {
    ThreadGovernor governor(1);
    QCOMPARE(governor.threads(), 1);
    QCOMPARE(at::get_num_threads(), 1);
    busyFor(std::chrono::milliseconds(1200));
    QCOMPARE(governor.update(), 1);
    QCOMPARE(at::get_num_threads(), 1);
    configureThreads(0);
}

void TestThreads::governorGivesWayToBusyProcesses() {
    const int usable = resolveThreads(0);
    if (usable < 2 || usableCpus() < 2) {
        QSKIP("one CPU: there is no thread to give up");
    }
    ThreadGovernor governor;
    QCOMPARE(governor.threads(), usable);
    // As many spinning processes as cores but one: at least one core is taken.
    std::vector<pid_t> spinners = startSpinners(usableCpus() - 1);
    const bool gaveWay = governorReaches(
        governor, [](int threads, int all) { return threads < all; }, usable);
    const int whileBusy = at::get_num_threads();
    stopSpinners(spinners);
    QVERIFY2(gaveWay, "the thread count stayed at every CPU beside busy processes");
    QVERIFY(whileBusy < usable);
    const bool tookBack = governorReaches(
        governor, [](int threads, int all) { return threads == all; }, usable);
    QVERIFY2(tookBack, "the thread count did not come back once the machine was quiet");
    QCOMPARE(at::get_num_threads(), usable);
}

void TestThreads::startupChoseAShortSpin() {
    // This test program links the same start-up code as the programs: unless the user chose a
    // policy, OpenMP was handed a short spin, and it stays in the environment for children.
    if (qEnvironmentVariableIsSet("OMP_WAIT_POLICY")) {
        QSKIP("the user chose OMP_WAIT_POLICY");
    }
    QVERIFY(qEnvironmentVariableIsSet("GOMP_SPINCOUNT"));
    QCOMPARE(QString::fromStdString(threadWaitPolicy()).left(15),
             QStringLiteral("GOMP_SPINCOUNT="));
}

QTEST_GUILESS_MAIN(TestThreads)
#include "test_threads.moc"
