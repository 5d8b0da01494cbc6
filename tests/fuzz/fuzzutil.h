#pragma once

// What the fuzz targets share: inputs as files, checksums made to match so that mutations reach
// what lies behind them, the seeds' folder, and the rule that every error names its file.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <string>
#include <string_view>

#include <sys/mman.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/io/container.h"
#include "core/model/archconfig.h"

namespace cattery::fuzz {

// The bytes as a file the loaders open by its path: an in-memory file, /proc/self/fd/N, gone when
// this goes.
class MemoryFile {
public:
    explicit MemoryFile(std::string_view bytes) : m_fd(::memfd_create("fuzz", MFD_CLOEXEC)) {
        if (m_fd < 0) {
            std::abort();
        }
        for (std::size_t done = 0; done < bytes.size();) {
            const ssize_t n = ::write(m_fd, bytes.data() + done, bytes.size() - done);
            if (n <= 0) {
                std::abort();
            }
            done += static_cast<std::size_t>(n);
        }
        m_path = "/proc/self/fd/" + std::to_string(m_fd);
    }
    ~MemoryFile() { ::close(m_fd); }
    MemoryFile(const MemoryFile&) = delete;
    MemoryFile& operator=(const MemoryFile&) = delete;
    const std::string& path() const { return m_path; }

private:
    int m_fd;
    std::string m_path;
};

// The smallest networks a file may describe, for seeds small enough to mutate quickly.
inline ArchConfig smallestArch() {
    ArchConfig arch;
    arch.imageSize = 32;
    arch.latentDim = kLatentDimRange.lo + 1;
    arch.nf = kNfRange.lo;
    arch.ndf = kNdfRange.lo;
    arch.bottleneck = 2;
    arch.repeats = kRepeatsRange.lo;
    return arch;
}

// The folder to write seeds in (CATTERY_FUZZ_SEEDS), or null.
inline const char* seedFolder() {
    return std::getenv("CATTERY_FUZZ_SEEDS");
}

// LLVMFuzzerInitialize's answer: write(folder) writes the seeds when CATTERY_FUZZ_SEEDS names one.
template <typename Write>
int writeSeeds(Write write) {
    if (const char* dir = seedFolder()) {
        write(std::string(dir));
    }
    return 0;
}

inline std::string readWhole(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void writeWhole(const std::string& path, std::string_view bytes) {
    std::ofstream(path, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A container's bytes with its checksum (the last four bytes) made to match the rest.
inline std::string withMatchingChecksum(std::string bytes) {
    if (bytes.size() >= 4) {
        const std::uint32_t crc = crc32(bytes.data(), bytes.size() - 4);
        std::memcpy(bytes.data() + bytes.size() - 4, &crc, 4);
    }
    return bytes;
}

// A PNG's bytes with every whole chunk's CRC made to match its type and data.
inline std::string withMatchingPngChunks(std::string bytes) {
    std::size_t at = 8;
    while (at + 12 <= bytes.size()) {
        const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + at);
        const std::uint64_t length = (std::uint64_t{p[0]} << 24) | (std::uint64_t{p[1]} << 16) |
                                     (std::uint64_t{p[2]} << 8) | p[3];
        if (length > bytes.size() - at - 12) {
            break;
        }
        const std::uint32_t crc = crc32(bytes.data() + at + 4, 4 + length);
        for (int i = 0; i < 4; ++i) {
            bytes[at + 8 + length + i] = static_cast<char>((crc >> (24 - 8 * i)) & 0xff);
        }
        at += 12 + length;
    }
    return bytes;
}

// Every error a loader throws names the file it was given.
inline void requireNamed(const std::exception& e, const std::string& path) {
    if (std::string_view(e.what()).find(path) == std::string_view::npos) {
        std::abort();
    }
}

// The bytes as a file, then fixed(bytes) (checksums made to match) as another, each handed to
// load(path): whatever load does with them must end in its own checks or in an Error that names
// the file.
template <typename Load>
void eachForm(const std::uint8_t* data, std::size_t size, std::string (*fixed)(std::string),
              Load load) {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    for (const std::string& form : {bytes, fixed(bytes)}) {
        const MemoryFile file(form);
        try {
            load(file.path());
        } catch (const Error& e) {
            requireNamed(e, file.path());
        }
    }
}

}  // namespace cattery::fuzz
