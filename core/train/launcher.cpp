#include "core/train/launcher.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>

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
    const int port = freeLocalPort();
    std::vector<std::string> common;
    for (char** e = environ; *e != nullptr; ++e) {
        if (!launcherVariable(*e)) {
            common.emplace_back(*e);
        }
    }
    common.push_back(fmt::format("WORLD_SIZE={}", launch.count));
    common.push_back(fmt::format("LOCAL_WORLD_SIZE={}", launch.count));
    common.emplace_back("MASTER_ADDR=127.0.0.1");
    common.push_back(fmt::format("MASTER_PORT={}", port));

    std::vector<std::string> argStrings{launch.program};
    argStrings.insert(argStrings.end(), launch.arguments.begin(), launch.arguments.end());
    std::vector<char*> argv;
    for (std::string& a : argStrings) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);

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
            ::posix_spawn(&pid, launch.program.c_str(), nullptr, nullptr, argv.data(), envp.data());
        if (error != 0) {
            stopAll();
            restore();
            throw ConfigError(fmt::format("'{}': could not start rank {}: {}", launch.program, rank,
                                          std::strerror(error)));
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

}  // namespace cattery
