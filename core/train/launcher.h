#pragma once

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

}  // namespace cattery
