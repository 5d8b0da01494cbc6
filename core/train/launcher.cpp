#include "core/train/launcher.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>

#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/errors.h"

extern char** environ;

namespace cattery {
namespace {

// The children, for the signal handler: written before the handlers go in, read only by them.
std::array<volatile pid_t, kMostLocalProcesses> g_children{};
volatile int g_childCount = 0;

// Passes on a signal that was sent to this process alone (kill, a service manager). One typed at a
// terminal (the kernel's, not a process's) has already reached every process of the group, and
// a second Ctrl-C would stop the children's save.
void forward(int signal, siginfo_t* info, void*) {
    if (info != nullptr && info->si_code != SI_USER && info->si_code != SI_QUEUE) {
        return;
    }
    for (int i = 0; i < g_childCount; ++i) {
        if (g_children[static_cast<std::size_t>(i)] > 0) {
            ::kill(g_children[static_cast<std::size_t>(i)], signal);
        }
    }
}

// The variables a launcher sets, which an inherited environment must not repeat.
bool launcherVariable(const char* entry) {
    for (const char* name : {"RANK=", "WORLD_SIZE=", "LOCAL_RANK=", "LOCAL_WORLD_SIZE=",
                             "MASTER_ADDR=", "MASTER_PORT="}) {
        if (std::strncmp(entry, name, std::strlen(name)) == 0) {
            return true;
        }
    }
    return false;
}

// Waits for one child; its exit status, 128 + the signal that killed it.
int waitFor(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return 1;
        }
    }
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;
}

// This process's environment without a launcher's variables, with those of a world of `count`
// meeting at 127.0.0.1:port.
std::vector<std::string> worldEnvironment(int count, int port) {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
        if (!launcherVariable(*e)) {
            env.emplace_back(*e);
        }
    }
    env.push_back(fmt::format("WORLD_SIZE={}", count));
    env.push_back(fmt::format("LOCAL_WORLD_SIZE={}", count));
    env.emplace_back("MASTER_ADDR=127.0.0.1");
    env.push_back(fmt::format("MASTER_PORT={}", port));
    return env;
}

// Starts rank `rank` of `launch` with `common` and its own place in its environment (and `files`
// applied to its descriptors when given); returns its process id, or throws ConfigError.
pid_t startRank(const LocalLaunch& launch, const std::vector<std::string>& common, int rank,
                const posix_spawn_file_actions_t* files) {
    std::vector<std::string> argStrings{launch.program};
    argStrings.insert(argStrings.end(), launch.arguments.begin(), launch.arguments.end());
    std::vector<char*> argv;
    for (std::string& a : argStrings) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    std::vector<std::string> env = common;
    env.push_back(fmt::format("RANK={}", rank));
    env.push_back(fmt::format("LOCAL_RANK={}", rank));
    std::vector<char*> envp;
    for (std::string& e : env) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);
    pid_t pid = 0;
    const int error =
        ::posix_spawn(&pid, launch.program.c_str(), files, nullptr, argv.data(), envp.data());
    if (error != 0) {
        throw ConfigError(fmt::format("'{}': could not start rank {}: {}", launch.program, rank,
                                      std::strerror(error)));
    }
    return pid;
}

}  // namespace

int threadsPerProcess(int cores, int count) {
    return std::max(1, cores / std::max(1, count));
}

int freeLocalPort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    int port = 0;
    if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&address), length) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
        port = ntohs(address.sin_port);
    }
    const int error = errno;
    if (fd >= 0) {
        ::close(fd);
    }
    if (port == 0) {
        throw ConfigError(
            fmt::format("no free TCP port on this machine for the processes to "
                        "meet at: {}",
                        std::strerror(error)));
    }
    return port;
}

int runLocalWorld(const LocalLaunch& launch) {
    if (launch.count < 2 || launch.count > kMostLocalProcesses) {
        throw ConfigError(
            fmt::format("{} processes: choose 2 to {}", launch.count, kMostLocalProcesses));
    }
    const std::vector<std::string> common = worldEnvironment(launch.count, freeLocalPort());

    std::vector<pid_t> children;
    const auto stopAll = [&children] {
        for (const pid_t pid : children) {
            ::kill(pid, SIGTERM);
        }
        for (const pid_t pid : children) {
            waitFor(pid);
        }
    };
    // In place before the first child starts, so that no signal meant for them is lost.
    struct sigaction passOn {};
    passOn.sa_sigaction = forward;
    passOn.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&passOn.sa_mask);
    struct sigaction oldInt {};
    struct sigaction oldTerm {};
    ::sigaction(SIGINT, &passOn, &oldInt);
    ::sigaction(SIGTERM, &passOn, &oldTerm);
    const auto restore = [&oldInt, &oldTerm] {
        ::sigaction(SIGINT, &oldInt, nullptr);
        ::sigaction(SIGTERM, &oldTerm, nullptr);
        g_childCount = 0;
    };

    for (int rank = 0; rank < launch.count; ++rank) {
        pid_t pid = 0;
        try {
            pid = startRank(launch, common, rank, nullptr);
        } catch (const ConfigError&) {
            stopAll();
            restore();
            throw;
        }
        children.push_back(pid);
        g_children[static_cast<std::size_t>(rank)] = pid;
        g_childCount = rank + 1;
    }

    int result = 0;
    for (const pid_t pid : children) {
        const int status = waitFor(pid);
        if (result == 0) {
            result = status;
        }
    }

    restore();
    return result;
}

LocalHelpers::LocalHelpers(const LocalLaunch& launch, int port, const std::string& logFolder)
    : m_logFolder(logFolder) {
    if (launch.count < 2 || launch.count > kMostLocalProcesses) {
        throw ConfigError(
            fmt::format("{} processes: choose 2 to {}", launch.count, kMostLocalProcesses));
    }
    const std::vector<std::string> common = worldEnvironment(launch.count, port);
    for (int rank = 1; rank < launch.count; ++rank) {
        const std::string log = logPath(rank);
        posix_spawn_file_actions_t files;
        posix_spawn_file_actions_init(&files);
        posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, log.c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0600);
        posix_spawn_file_actions_adddup2(&files, STDOUT_FILENO, STDERR_FILENO);
        posix_spawn_file_actions_addopen(&files, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        try {
            m_pids.push_back(startRank(launch, common, rank, &files));
        } catch (const ConfigError&) {
            posix_spawn_file_actions_destroy(&files);
            stop();
            throw;
        }
        posix_spawn_file_actions_destroy(&files);
    }
}

LocalHelpers::~LocalHelpers() {
    stop();
}

std::string LocalHelpers::logPath(int rank) const {
    return fmt::format("{}/rank-{}.log", m_logFolder, rank);
}

void LocalHelpers::stop() {
    for (const int pid : m_pids) {
        ::kill(pid, SIGTERM);
    }
    // A process still meeting the others takes no notice of SIGTERM until it trains: after a
    // moment to save, it is killed.
    const auto deadline = std::chrono::steady_clock::now() + kStopGrace;
    for (const int pid : m_pids) {
        while (::waitpid(pid, nullptr, WNOHANG) == 0) {
            if (std::chrono::steady_clock::now() > deadline) {
                ::kill(pid, SIGKILL);
                ::waitpid(pid, nullptr, 0);
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
    m_pids.clear();
}

int LocalHelpers::wait() {
    for (const int pid : m_pids) {
        const int status = waitFor(pid);
        if (m_status == 0) {
            m_status = status;
        }
    }
    m_pids.clear();
    return m_status;
}

std::string LocalHelpers::lastWords(int rank) const {
    // The end of the log: an error is the last thing a process says.
    constexpr std::streamoff kMost = 600;
    std::ifstream in(logPath(rank), std::ios::binary | std::ios::ate);
    const std::streamoff size = in ? static_cast<std::streamoff>(in.tellg()) : 0;
    in.seekg(std::max<std::streamoff>(0, size - kMost));
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.pop_back();
    }
    return text;
}

}  // namespace cattery
