#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace cattery {

// One machine's share of a run spread over processes, started the way torchrun starts them: each
// copy of the program gets RANK and LOCAL_RANK (0 to count - 1), WORLD_SIZE, MASTER_ADDR
// (127.0.0.1) and MASTER_PORT (a port free when asked) in its environment, and its standard
// streams are this process's.
struct LocalLaunch {
    std::string program;                 // a path to an executable
    std::vector<std::string> arguments;  // after the program's name
    int count = 2;                       // processes, 2 to kMostLocalProcesses
};

inline constexpr int kMostLocalProcesses = 64;

// The threads each of `count` processes gets out of `cores`: an even share, at least one.
int threadsPerProcess(int cores, int count);

// A TCP port on this machine that nothing listens on at the moment of asking; throws
// ConfigError when the system gives none.
int freeLocalPort();

// Starts the processes, waits for every one, and returns the first non-zero exit status among
// them (128 + the signal for one killed by a signal), or 0. While they run, Ctrl-C and SIGTERM
// reach them (Ctrl-C from a terminal reaches the whole process group anyway) and do not stop the
// wait. Throws ConfigError when the count is out of range or the program cannot be started; any
// processes already started are then stopped and waited for.
int runLocalWorld(const LocalLaunch& launch);

// The other processes of a world whose rank 0 is this process (the window training on several):
// ranks 1 to count - 1 of `launch`, meeting at 127.0.0.1:`port`, each with its output written to
// `logFolder`/rank-N.log. Throws ConfigError as runLocalWorld does; stops any still running
// (SIGTERM, then waits) when destroyed.
class LocalHelpers {
public:
    LocalHelpers(const LocalLaunch& launch, int port, const std::string& logFolder);
    ~LocalHelpers();
    LocalHelpers(const LocalHelpers&) = delete;
    LocalHelpers& operator=(const LocalHelpers&) = delete;

    // Waits for every one; the first non-zero exit status (128 + a signal), or 0.
    int wait();
    // Asks every one still running to stop (SIGTERM), and kills those not gone within
    // kStopGrace.
    void stop();
    static constexpr std::chrono::seconds kStopGrace{10};
    // The end of what rank `rank` wrote, for a message when it failed.
    std::string lastWords(int rank) const;

private:
    std::string logPath(int rank) const;

    std::vector<int> m_pids;
    std::string m_logFolder;
    int m_status = 0;
};

}  // namespace cattery
