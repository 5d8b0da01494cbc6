// Linked into every Cattery executable (never into a library). GNU OpenMP, which runs LibTorch's
// CPU threads, reads how long an idle thread spins once, when it is loaded, before main(). Its
// default spin (300,000 rounds) outlasts a time slice, so as soon as another process wants a core
// the spinning thread burns the time the working one needs (training fell to 0.12 of its quiet
// speed beside two busy processes). 1,000 rounds cost nothing quiet and recover most of that;
// passive waiting recovers as much but costs a fifth of the quiet speed.
//
// So the executable's .preinit_array, which runs before any library is initialised, hands OpenMP
// GOMP_SPINCOUNT=1000 unless the user chose a policy (OMP_WAIT_POLICY, GOMP_SPINCOUNT). The C
// library resets the environment to the array the process started with just before the libraries
// start, so the setting goes into that array: it borrows the slot of a variable that no library
// reads while starting (the shell's `_`, SHLVL, ...) and gives it back before main(). With no such
// slot the process starts itself again with the setting, which costs a quarter of a second.
// Only plain C calls here: the C++ runtime is not initialised yet.
#include <sys/auxv.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace {

char kSpin[] = "GOMP_SPINCOUNT=1000";
char** g_slot = nullptr;  // the environment entry lent to kSpin until the libraries have started
char* g_lent = nullptr;   // what it held

bool startsWith(const char* text, const char* prefix) {
    return std::strncmp(text, prefix, std::strlen(prefix)) == 0;
}

bool readByNoLibrary(const char* entry) {
    static const char* const kNames[] = {
        "_=", "SHLVL=", "OLDPWD=", "TERM=", "SHELL=", "LOGNAME=", "USER=", "PWD=", "HOSTNAME="};
    for (const char* name : kNames) {
        if (startsWith(entry, name)) {
            return true;
        }
    }
    return false;
}

void chooseShortSpin(int /*argc*/, char** argv, char** envp) {
    if (envp == nullptr || argv == nullptr) {
        return;
    }
    std::size_t count = 0;
    char** slot = nullptr;
    for (char** e = envp; *e != nullptr; ++e, ++count) {
        // The user's own choice stands; under valgrind a new start would leave the tool behind.
        if (startsWith(*e, "OMP_WAIT_POLICY=") || startsWith(*e, "GOMP_SPINCOUNT=") ||
            (startsWith(*e, "LD_PRELOAD=") && std::strstr(*e, "vgpreload") != nullptr)) {
            return;
        }
        if (slot == nullptr && readByNoLibrary(*e)) {
            slot = e;
        }
    }
    if (slot != nullptr) {
        g_slot = slot;
        g_lent = *slot;
        *slot = kSpin;
        return;
    }
    // Run through the dynamic loader by hand (`ld.so ./cattery`), /proc/self/exe is the loader:
    // starting that again would not start us.
    if (getauxval(AT_BASE) == 0) {
        return;
    }
    auto** env = static_cast<char**>(std::malloc((count + 2) * sizeof(char*)));
    if (env == nullptr) {
        return;
    }
    std::memcpy(env, envp, count * sizeof(char*));
    env[count] = kSpin;
    env[count + 1] = nullptr;
    execve("/proc/self/exe", argv, env);
    // No /proc, or the file is gone: carry on with OpenMP's default.
    std::free(env);
}

// The executable's initialisers run after every library's: OpenMP has read its setting.
__attribute__((constructor)) void giveBackSlot() {
    if (g_slot != nullptr) {
        *g_slot = g_lent;
        // Kept in the environment, so that what this process starts waits the same way.
        setenv("GOMP_SPINCOUNT", "1000", 0);
    }
}

}  // namespace

__attribute__((section(".preinit_array"),
               used)) void (*const kChooseShortSpin)(int, char**, char**) = chooseShortSpin;
