#include <torch/torch.h>
#include <QtTest/QtTest>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <random>

#include <cstring>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/data/dataset.h"
#include "core/errors.h"
#include "core/io/container.h"
#include "core/io/modelfile.h"
#include "core/io/sheet.h"
#include "core/train/launcher.h"
#include "core/train/resume.h"
#include "core/train/trainer.h"
#include "testutil.h"

using namespace cattery;
namespace fs = std::filesystem;

// What happens to a training run's files when the run is killed, the disk fills up or the output
// folder takes no file: every file that exists afterwards loads, and the last good checkpoint is
// never lost.
namespace {

// Starts `argv` (argv[0] is the program) with its output to `log`, and `variables` ("NAME=value")
// added to this process's environment; returns the process id.
pid_t spawn(const std::vector<std::string>& args, const std::string& log,
            const std::vector<std::string>& variables = {}) {
    std::vector<std::string> owned = args;
    std::vector<char*> argv;
    for (std::string& a : owned) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    std::vector<std::string> ownedEnv = variables;
    std::vector<char*> env;
    for (std::string& v : ownedEnv) {
        env.push_back(v.data());
    }
    for (char** e = environ; *e != nullptr; ++e) {
        env.push_back(*e);
    }
    env.push_back(nullptr);
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&files, 1, 2);
    pid_t pid = -1;
    if (posix_spawnp(&pid, argv[0], &files, nullptr, argv.data(), env.data()) != 0) {
        pid = -1;
    }
    posix_spawn_file_actions_destroy(&files);
    return pid;
}

// Waits for `pid`; its exit code, or -signal when a signal ended it.
int waitFor(pid_t pid) {
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) {
        return -1000;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

QString readLog(const std::string& log) {
    QFile f(QString::fromStdString(log));
    return f.open(QIODevice::ReadOnly) ? QString::fromLocal8Bit(f.readAll()) : QString();
}

// A tiny run: a few milliseconds a step, so that a kill lands while a file is being written. With
// `resume`, the run goes on from that checkpoint, whose settings it keeps.
std::vector<std::string> trainArgs(const std::string& data, const std::string& out,
                                   const std::string& resume = {}) {
    std::vector<std::string> args{CATTERY_CLI_PATH, "train", "--data",    data,
                                  "--out",          out,     "--threads", "1"};
    const std::vector<std::string> settings{"--size",        "32", "--nf",     "4",  "--ndf",   "8",
                                            "--repeats",     "1",  "--latent", "12", "--batch", "4",
                                            "--score-every", "0"};
    if (resume.empty()) {
        args.insert(args.end(), settings.begin(), settings.end());
    } else {
        args.insert(args.end(), {"--resume", resume});
    }
    return args;
}

std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

std::vector<std::string> leftoverTemporaries(const fs::path& dir) {
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.path().filename().string().find(".tmp-") != std::string::npos) {
            found.push_back(entry.path().filename().string());
        }
    }
    return found;
}

// Waits until a temporary file appears in `dirs` (a write has begun) or `timeoutMs` passes;
// whether one did.
bool waitForTemporary(const std::vector<fs::path>& dirs, int timeoutMs) {
    const int fd = ::inotify_init1(IN_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    for (const fs::path& dir : dirs) {
        ::inotify_add_watch(fd, dir.c_str(), IN_CREATE);
    }
    bool seen = false;
    QElapsedTimer timer;
    timer.start();
    alignas(inotify_event) char buffer[4096];
    while (!seen && timer.elapsed() < timeoutMs) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeoutMs - timer.elapsed())) <= 0) {
            break;
        }
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        for (ssize_t at = 0; n > 0 && at < n;) {
            const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
            seen = seen || (event->len > 0 && std::strstr(event->name, ".tmp-") != nullptr);
            at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
        }
    }
    ::close(fd);
    return seen;
}

// Whether `command` runs in a user and mount namespace of its own (where it may mount a tmpfs).
bool namespacesWork() {
    const pid_t pid = spawn({"unshare", "-rm", "true"}, "/dev/null");
    return pid > 0 && waitFor(pid) == 0;
}

}  // namespace

class TestFaults : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void killedRunsLeaveLoadableFiles();
    void fullDiskKeepsThePreviousCheckpoint();
    void tooLargeAFileKeepsThePreviousCheckpoint();
    void unwritableFolderFailsBeforeTraining();
    void aKilledProcessStopsTheOthers();

private:
    std::string path(const std::string& name) const {
        return m_dir.filePath(QString::fromStdString(name)).toStdString();
    }
    QTemporaryDir m_dir;
    std::string m_data;
};

void TestFaults::initTestCase() {
    QVERIFY(m_dir.isValid());
    m_data = path("blobs.data");
    saveDataset(m_data, test::blobDataset(12, 32));
}

// kill -9 at 20 moments of a run that writes a checkpoint, a model and a sample sheet at every
// step, half of them at random and half the moment a file has begun to be written: each time,
// every model, checkpoint and sheet in the folder loads, the checkpoint never goes back, and the
// next run resumes from it. Leftover temporary files are removed by the next write of the same
// file.
void TestFaults::killedRunsLeaveLoadableFiles() {
    const fs::path dir = path("killed");
    fs::create_directories(dir / "samples");
    const std::string model = (dir / "m.cattery").string();
    const std::string checkpoint = (dir / "m.checkpoint.cattery").string();
    const std::string log = path("killed.log");
    std::mt19937 moments(20261202);
    std::uniform_int_distribution<int> afterMs(300, 3000);
    std::int64_t lastStep = 0;
    int killedWhileWriting = 0;
    for (int round = 0; round < 20; ++round) {
        const std::vector<std::string> args =
            trainArgs(m_data, model, fs::exists(checkpoint) ? checkpoint : std::string()) +
            std::vector<std::string>{
                "--steps",        "100000", "--checkpoint-every", "1",
                "--sample-every", "1",      "--samples",          (dir / "samples").string()};
        const pid_t pid = spawn(args, log);
        QVERIFY(pid > 0);
        const int ms = afterMs(moments);
        if (round % 2 == 0) {
            QThread::msleep(static_cast<unsigned long>(ms));
        } else {
            // A moment within a write: skip a random number of them first.
            for (int writes = ms / 300; writes >= 0; --writes) {
                QVERIFY2(waitForTemporary({dir, dir / "samples"}, 30000), qPrintable(readLog(log)));
            }
        }
        ::kill(pid, SIGKILL);
        const int code = waitFor(pid);
        QVERIFY2(code == -SIGKILL, qPrintable(QStringLiteral("round %1: exit %2 after %3 ms\n%4")
                                                  .arg(round)
                                                  .arg(code)
                                                  .arg(ms)
                                                  .arg(readLog(log))));
        killedWhileWriting +=
            leftoverTemporaries(dir).size() + leftoverTemporaries(dir / "samples").size() > 0;

        for (const auto& entry : fs::directory_iterator(dir)) {
            const std::string file = entry.path().string();
            if (entry.path().extension() != ".cattery") {
                continue;
            }
            try {
                const Model loaded = loadModel(file);
                if (loaded.checkpoint) {
                    QVERIFY2(loaded.step >= lastStep,
                             qPrintable(QStringLiteral("round %1: the checkpoint went back from "
                                                       "step %2 to %3")
                                            .arg(round)
                                            .arg(lastStep)
                                            .arg(loaded.step)));
                    lastStep = loaded.step;
                    QCOMPARE(readResumePoint(file).step, loaded.step);
                }
            } catch (const Error& e) {
                QFAIL(qPrintable(QStringLiteral("round %1, after %2 ms: %3")
                                     .arg(round)
                                     .arg(ms)
                                     .arg(QString::fromStdString(e.what()))));
            }
        }
        for (const auto& entry : fs::directory_iterator(dir / "samples")) {
            if (entry.path().extension() == ".png") {
                try {
                    QVERIFY(readPng(entry.path().string()).width > 0);
                } catch (const Error& e) {
                    QFAIL(qPrintable(QStringLiteral("round %1: %2")
                                         .arg(round)
                                         .arg(QString::fromStdString(e.what()))));
                }
            }
        }
    }
    qInfo("checkpoint at step %lld after 20 kills, %d of them while a file was being written",
          static_cast<long long>(lastStep), killedWhileWriting);
    QVERIFY2(lastStep > 0, "no run lived long enough to write a checkpoint");

    // The full checkpoint (networks, optimisers, random state) resumes, and a run that ends well
    // leaves no temporary file beside the model or the checkpoint.
    const Trainer resumed = Trainer::resume(checkpoint, loadDataset(m_data), torch::kCPU);
    QCOMPARE(resumed.stepCount(), lastStep);
    const pid_t pid = spawn(trainArgs(m_data, model, checkpoint) +
                                std::vector<std::string>{"--steps", std::to_string(lastStep + 2),
                                                         "--sample-every", "0"},
                            log);
    QCOMPARE(waitFor(pid), 0);
    QCOMPARE(loadModel(checkpoint).step, lastStep + 2);
    const std::vector<std::string> left = leftoverTemporaries(dir);
    QVERIFY2(left.empty(), left.empty() ? "" : left.front().c_str());
}

// A tmpfs that holds one checkpoint but not a second beside it: the second write fails with a
// clear error, the run stops with exit 1, and the first checkpoint is intact.
void TestFaults::fullDiskKeepsThePreviousCheckpoint() {
    if (!namespacesWork()) {
        QSKIP(
            "this system lets no process mount a tmpfs in a namespace of its own "
            "(tooLargeAFileKeepsThePreviousCheckpoint covers the same failure)");
    }
    // How large a checkpoint of this run is.
    const fs::path sized = path("sized");
    fs::create_directories(sized);
    const pid_t first = spawn(trainArgs(m_data, (sized / "m.cattery").string()) +
                                  std::vector<std::string>{"--steps", "2", "--sample-every", "0"},
                              path("sized.log"));
    QCOMPARE(waitFor(first), 0);
    const auto checkpointBytes = fs::file_size(sized / "m.checkpoint.cattery");
    const auto modelBytes = fs::file_size(sized / "m.cattery");

    const fs::path disk = path("disk");
    const fs::path copied = path("copied");
    fs::create_directories(disk);
    fs::create_directories(copied);
    const auto limitKiB = (modelBytes + checkpointBytes * 3 / 2) / 1024;
    std::string train;
    for (const std::string& a : trainArgs(m_data, (disk / "m.cattery").string()) +
                                    std::vector<std::string>{"--steps", "12", "--checkpoint-every",
                                                             "4", "--sample-every", "0"}) {
        train += "'" + a + "' ";
    }
    const std::string script = "mount -t tmpfs -o size=" + std::to_string(limitKiB) + "k tmpfs '" +
                               disk.string() + "' || exit 99; " + train + "; code=$?; cp '" +
                               disk.string() + "'/* '" + copied.string() + "'/; exit $code";
    const std::string log = path("disk.log");
    const pid_t pid = spawn({"unshare", "-rm", "sh", "-c", script}, log);
    const int code = waitFor(pid);
    const QString out = readLog(log);
    QVERIFY2(code == 1, qPrintable(QStringLiteral("exit %1\n%2").arg(code).arg(out)));
    QVERIFY2(out.contains(QStringLiteral("m.checkpoint.cattery")) &&
                 out.contains(QStringLiteral("disk full")) &&
                 out.contains(QStringLiteral("No space left on device")),
             qPrintable(out));
    const Model kept = loadModel((copied / "m.checkpoint.cattery").string());
    QCOMPARE(kept.step, 4);
    QVERIFY(leftoverTemporaries(copied).empty());
}

// The same failure where no tmpfs can be mounted: a file size limit (what a quota does) makes the
// resumed run's first checkpoint fail; the checkpoint it resumed from keeps every byte.
void TestFaults::tooLargeAFileKeepsThePreviousCheckpoint() {
    const fs::path dir = path("limited");
    fs::create_directories(dir);
    const std::string model = (dir / "m.cattery").string();
    const std::string checkpoint = (dir / "m.checkpoint.cattery").string();
    const pid_t first = spawn(
        trainArgs(m_data, model) + std::vector<std::string>{"--steps", "4", "--sample-every", "0"},
        path("limited-first.log"));
    QCOMPARE(waitFor(first), 0);
    QFile before(QString::fromStdString(checkpoint));
    QVERIFY(before.open(QIODevice::ReadOnly));
    const QByteArray bytes = before.readAll();
    before.close();

    // The limit (in the shell's 512-byte blocks) stops the checkpoint halfway.
    const std::string limitBlocks = std::to_string(fs::file_size(checkpoint) / 2 / 512);
    std::string train;
    for (const std::string& a : trainArgs(m_data, model, checkpoint) +
                                    std::vector<std::string>{"--steps", "8", "--checkpoint-every",
                                                             "2", "--sample-every", "0"}) {
        train += "'" + a + "' ";
    }
    const std::string log = path("limited.log");
    const pid_t pid =
        spawn({"sh", "-c", "trap '' XFSZ; ulimit -f " + limitBlocks + " && exec " + train}, log);
    const int code = waitFor(pid);
    const QString out = readLog(log);
    QVERIFY2(code == 1, qPrintable(QStringLiteral("exit %1 (limit %2 blocks)\n%3")
                                       .arg(code)
                                       .arg(QString::fromStdString(limitBlocks))
                                       .arg(out)));
    QVERIFY2(out.contains(QString::fromStdString(checkpoint)) &&
                 out.contains(QStringLiteral("File too large")),
             qPrintable(out));
    QFile after(QString::fromStdString(checkpoint));
    QVERIFY(after.open(QIODevice::ReadOnly));
    QVERIFY(after.readAll() == bytes);
    QCOMPARE(loadModel(checkpoint).step, 4);
    QVERIFY(leftoverTemporaries(dir).empty());
}

// An output folder that takes no file is an error before the images are read or a step is taken.
void TestFaults::unwritableFolderFailsBeforeTraining() {
    // A folder below a regular file is one that no user, root included, can write in.
    const fs::path blocker = path("not-a-folder");
    { std::ofstream(blocker.string()) << "x"; }
    for (const fs::path& model : {blocker / "m.cattery", fs::path(path("missing")) / "m.cattery"}) {
        const std::string log = path("unwritable.log");
        const pid_t pid = spawn(
            trainArgs(m_data, model.string()) + std::vector<std::string>{"--steps", "100000"}, log);
        const int code = waitFor(pid);
        const QString out = readLog(log);
        QVERIFY2(code == 1, qPrintable(out));
        QVERIFY2(out.contains(QString::fromStdString(model.string())) &&
                     out.contains(QStringLiteral("cannot write in its folder")) &&
                     !out.contains(QStringLiteral("step ")) &&
                     !out.contains(QStringLiteral("training ")),
                 qPrintable(out));
    }
}

// Two processes train one run, as two hosts would (started by hand with the variables torchrun
// sets); one is killed: the other stops within its timeout, exits 1 naming the rank that went, and
// the last checkpoint loads and resumes on one process.
void TestFaults::aKilledProcessStopsTheOthers() {
    const fs::path dir = path("ranks");
    fs::create_directories(dir);
    const std::string model = (dir / "m.cattery").string();
    const std::string checkpoint = (dir / "m.checkpoint.cattery").string();
    const int port = freeLocalPort();
    const auto variables = [port](int rank) {
        return std::vector<std::string>{
            "WORLD_SIZE=2", "RANK=" + std::to_string(rank), "LOCAL_RANK=" + std::to_string(rank),
            "MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + std::to_string(port)};
    };
    const std::vector<std::string> args =
        trainArgs(m_data, model) +
        std::vector<std::string>{"--steps", "100000", "--checkpoint-every", "5", "--timeout", "20"};
    const std::string log0 = path("rank0.log");
    const std::string log1 = path("rank1.log");
    const pid_t first = spawn(args, log0, variables(0));
    const pid_t second = spawn(args, log1, variables(1));
    QVERIFY(first > 0 && second > 0);
    QTRY_VERIFY2_WITH_TIMEOUT(fs::exists(checkpoint), qPrintable(readLog(log0) + readLog(log1)),
                              120000);
    // Rank 1 alone never writes.
    QVERIFY(!readLog(log1).contains(QStringLiteral("step ")));
    ::kill(second, SIGKILL);
    QCOMPARE(waitFor(second), -SIGKILL);
    QElapsedTimer stopping;
    stopping.start();
    const int code = waitFor(first);
    const QString out = readLog(log0);
    QVERIFY2(code == 1, qPrintable(out));
    QVERIFY2(stopping.elapsed() < 30000, qPrintable(out));
    QVERIFY2(out.contains(QStringLiteral("rank 1 does not answer")) &&
                 out.contains(QString::fromStdString(checkpoint)) &&
                 out.contains(QStringLiteral("resumes the run")),
             qPrintable(out));

    const Model saved = loadModel(checkpoint);
    QVERIFY(saved.checkpoint && saved.step >= 5);
    QCOMPARE(saved.provenance.processes, 2);
    QCOMPARE(saved.provenance.batch, std::int64_t{8});  // --batch 4 on each
    const pid_t alone =
        spawn(trainArgs(m_data, model, checkpoint) +
                  std::vector<std::string>{"--steps", std::to_string(saved.step + 2)},
              path("alone.log"));
    QVERIFY2(waitFor(alone) == 0, qPrintable(readLog(path("alone.log"))));
    QCOMPARE(loadModel(checkpoint).step, saved.step + 2);
    QCOMPARE(loadModel(model).provenance.processes, 1);
}

QTEST_GUILESS_MAIN(TestFaults)
#include "test_faults.moc"
