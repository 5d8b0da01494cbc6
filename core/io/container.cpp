#include "core/io/container.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "core/errors.h"

namespace cattery {
namespace {

constexpr char kMagic[8] = {'C', 'A', 'T', 'T', 'E', 'R', 'Y', '\x1a'};
constexpr std::size_t kFixedHead = 8 + 4 + 8;  // magic, version, header length
constexpr std::size_t kTrailer = 4;            // CRC-32

template <typename T>
void put(std::string& out, T value) {
    char buf[sizeof(T)];
    std::memcpy(buf, &value, sizeof(T));
    out.append(buf, sizeof(T));
}

template <typename T>
T get(std::string_view bytes, std::size_t offset) {
    T value;
    std::memcpy(&value, bytes.data() + offset, sizeof(T));
    return value;
}

std::array<std::uint32_t, 256> makeCrcTable() {
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) {
            c = (c & 1) ? 0xedb88320U ^ (c >> 1) : c >> 1;
        }
        table[i] = c;
    }
    return table;
}

const char* dtypeName(DType t) {
    switch (t) {
        case DType::Float32:
            return "f32";
        case DType::Int64:
            return "i64";
        case DType::UInt8:
            return "u8";
        case DType::Float64:
            return "f64";
    }
    return "?";
}

bool dtypeFromName(const std::string& name, DType& out) {
    for (DType t : {DType::Float32, DType::Int64, DType::UInt8, DType::Float64}) {
        if (name == dtypeName(t)) {
            out = t;
            return true;
        }
    }
    return false;
}

// Names what a file is when it is clearly not ours, so the message helps.
std::string guessOtherFormat(std::string_view bytes) {
    auto starts = [&](std::string_view prefix) {
        return bytes.size() >= prefix.size() && bytes.substr(0, prefix.size()) == prefix;
    };
    if (starts("\x89PNG"))
        return "a PNG image";
    if (starts("\xff\xd8\xff"))
        return "a JPEG image";
    if (starts("PK\x03\x04"))
        return "a ZIP archive (perhaps a PyTorch or TorchScript file)";
    if (starts("GIF8"))
        return "a GIF image";
    if (starts("{") || starts("["))
        return "a JSON or text file";
    if (starts("\x80\x02") || starts("\x80\x04"))
        return "a Python pickle";
    return "";
}

// Temporary files beside `dir / name` left by a write that was killed (kill -9, a power cut). A
// writer holds a lock on its temporary file until it is renamed into place, so a temporary file
// whose lock can be taken has no writer left: it is removed.
void removeLeftoverTemporaries(const std::filesystem::path& dir, const std::string& name) {
    namespace fs = std::filesystem;
    const std::string prefix = name + ".tmp-";
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
        const std::string file = it->path().filename().string();
        if (file.size() != prefix.size() + 6 || file.compare(0, prefix.size(), prefix) != 0) {
            continue;
        }
        const int fd = ::open(it->path().c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
            continue;
        }
        if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
            ::unlink(it->path().c_str());
        }
        ::close(fd);
    }
}

}  // namespace

std::size_t jsonNestingDepth(std::string_view text) {
    std::size_t depth = 0;
    std::size_t deepest = 0;
    bool inString = false;
    bool escaped = false;
    for (const char ch : text) {
        if (inString) {
            if (escaped) {
                escaped = false;
            } else if (ch == '\\') {
                escaped = true;
            } else if (ch == '"') {
                inString = false;
            }
        } else if (ch == '"') {
            inString = true;
        } else if (ch == '[' || ch == '{') {
            deepest = std::max(deepest, ++depth);
            if (deepest > kMaxJsonDepth) {
                break;
            }
        } else if ((ch == ']' || ch == '}') && depth > 0) {
            --depth;
        }
    }
    return deepest;
}

nlohmann::json parseFileJson(std::string_view text) {
    if (jsonNestingDepth(text) > kMaxJsonDepth) {
        throw nlohmann::json::out_of_range::create(
            406, fmt::format("nested more than {} levels deep", kMaxJsonDepth), nullptr);
    }
    return nlohmann::json::parse(text);
}

std::string dumpFileJson(const nlohmann::json& json, bool ensureAscii) {
    return json.dump(-1, ' ', ensureAscii, nlohmann::json::error_handler_t::replace);
}

const Record* Container::find(std::string_view name) const {
    for (const auto& r : records) {
        if (r.name == name) {
            return &r;
        }
    }
    return nullptr;
}

std::size_t elementSize(DType dtype) {
    switch (dtype) {
        case DType::Float32:
            return 4;
        case DType::Int64:
            return 8;
        case DType::UInt8:
            return 1;
        case DType::Float64:
            return 8;
    }
    return 0;
}

std::uint32_t crc32(const void* data, std::size_t size, std::uint32_t crc) {
    static const std::array<std::uint32_t, 256> table = makeCrcTable();
    const auto* p = static_cast<const unsigned char*>(data);
    crc = ~crc;
    for (std::size_t i = 0; i < size; ++i) {
        crc = table[(crc ^ p[i]) & 0xffU] ^ (crc >> 8);
    }
    return ~crc;
}

std::string encodeContainer(const Container& c) {
    nlohmann::json table = nlohmann::json::array();
    std::uint64_t offset = 0;
    for (const auto& r : c.records) {
        table.push_back({{"name", r.name},
                         {"dtype", dtypeName(r.dtype)},
                         {"shape", r.shape},
                         {"offset", offset},
                         {"size", r.bytes.size()}});
        offset += r.bytes.size();
    }
    const nlohmann::json header = {{"kind", c.kind}, {"meta", c.meta}, {"records", table}};
    const std::string headerText = dumpFileJson(header);

    std::string out;
    out.reserve(kFixedHead + headerText.size() + 8 + offset + kTrailer);
    out.append(kMagic, sizeof kMagic);
    put<std::uint32_t>(out, kFormatVersion);
    put<std::uint64_t>(out, headerText.size());
    out += headerText;
    put<std::uint64_t>(out, offset);
    for (const auto& r : c.records) {
        out += r.bytes;
    }
    put<std::uint32_t>(out, crc32(out.data(), out.size()));
    return out;
}

Container decodeContainer(std::string_view bytes, const std::string& path) {
    auto fail = [&](const std::string& problem) { return ModelFileError(path, problem); };
    if (bytes.empty()) {
        throw fail("the file is empty");
    }
    if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
        if (bytes.size() < sizeof kMagic && std::memcmp(bytes.data(), kMagic, bytes.size()) == 0) {
            throw fail(fmt::format("the file is truncated ({} bytes)", bytes.size()));
        }
        const std::string other = guessOtherFormat(bytes);
        throw fail(other.empty() ? "not a Cattery file (unrecognised header)"
                                 : "not a Cattery file: it looks like " + other);
    }
    if (bytes.size() < kFixedHead) {
        throw fail(fmt::format("the file is truncated ({} bytes)", bytes.size()));
    }
    const auto version = get<std::uint32_t>(bytes, 8);
    if (version == 0) {
        throw fail("the file is corrupt (format version 0)");
    }
    if (version > kFormatVersion) {
        throw fail(
            fmt::format("the file was written by a newer Cattery (format version {}; this build "
                        "reads up to {})",
                        version, kFormatVersion));
    }
    const auto headerLength = get<std::uint64_t>(bytes, 12);
    if (headerLength > bytes.size() - kFixedHead) {
        throw fail(
            fmt::format("the file is truncated ({} bytes) or its header is corrupt", bytes.size()));
    }
    const std::size_t dataLengthAt = kFixedHead + headerLength;
    if (bytes.size() < dataLengthAt + 8) {
        throw fail(fmt::format("the file is truncated ({} bytes)", bytes.size()));
    }
    const auto dataLength = get<std::uint64_t>(bytes, dataLengthAt);
    const std::size_t dataAt = dataLengthAt + 8;
    if (dataLength > bytes.size() - dataAt || bytes.size() - dataAt - dataLength < kTrailer) {
        throw fail(fmt::format("the file is truncated ({} bytes)", bytes.size()));
    }
    const std::size_t expected = dataAt + dataLength + kTrailer;
    if (bytes.size() != expected) {
        throw fail(
            fmt::format("the file has {} unexpected bytes after its end", bytes.size() - expected));
    }
    const auto stored = get<std::uint32_t>(bytes, expected - kTrailer);
    if (crc32(bytes.data(), expected - kTrailer) != stored) {
        throw fail("the file is corrupt (checksum mismatch): it was damaged after it was written");
    }

    Container c;
    try {
        const auto header = parseFileJson(bytes.substr(kFixedHead, headerLength));
        c.kind = header.at("kind").get<std::string>();
        c.meta = header.at("meta");
        for (const auto& entry : header.at("records")) {
            Record r;
            r.name = entry.at("name").get<std::string>();
            if (!dtypeFromName(entry.at("dtype").get<std::string>(), r.dtype)) {
                throw fail(fmt::format("record '{}' has an unknown element type", r.name));
            }
            r.shape = entry.at("shape").get<std::vector<std::int64_t>>();
            const auto offset = entry.at("offset").get<std::uint64_t>();
            const auto size = entry.at("size").get<std::uint64_t>();
            std::uint64_t count = 1;
            for (auto d : r.shape) {
                if (d < 0 || (d > 0 && count > (1ULL << 40) / static_cast<std::uint64_t>(d))) {
                    throw fail(fmt::format("record '{}' has an impossible shape", r.name));
                }
                count *= static_cast<std::uint64_t>(d);
            }
            if (count * elementSize(r.dtype) != size || offset > dataLength ||
                size > dataLength - offset) {
                throw fail(fmt::format("record '{}' does not fit its shape or the file", r.name));
            }
            r.bytes.assign(bytes.substr(dataAt + offset, size));
            c.records.push_back(std::move(r));
        }
    } catch (const nlohmann::json::exception& e) {
        throw fail(fmt::format("the file's header is malformed ({})", briefly(e.what())));
    }
    return c;
}

std::string readWholeFile(const std::string& path, std::uint64_t maxBytes) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
        throw ModelFileError(path, "no such file");
    }
    if (fs::is_directory(status)) {
        throw ModelFileError(path, "is a folder, not a file");
    }
    if (!fs::is_regular_file(status)) {
        throw ModelFileError(path, "is not a regular file");
    }
    const auto size = fs::file_size(path, ec);
    if (ec) {
        throw ModelFileError(path, "cannot read its size: " + ec.message());
    }
    if (size > maxBytes) {
        throw ModelFileError(
            path, fmt::format("is too large ({} bytes; the limit is {})", size, maxBytes));
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw ModelFileError(path, std::string("cannot be opened: ") + std::strerror(errno));
    }
    std::string bytes(static_cast<std::size_t>(size), '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(size));
    if (static_cast<std::uint64_t>(in.gcount()) != size) {
        throw ModelFileError(path, "could not be read completely");
    }
    return bytes;
}

void writeFileAtomically(const std::string& path, std::string_view bytes) {
    namespace fs = std::filesystem;
    const fs::path target(path);
    if (fs::is_directory(target)) {
        throw FileError(path, "is a folder; cannot write a file there");
    }
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    std::string tmpl = (dir / (target.filename().string() + ".tmp-XXXXXX")).string();
    removeLeftoverTemporaries(dir, target.filename().string());
    const int fd = ::mkstemp(tmpl.data());
    if (fd < 0) {
        throw FileError(path,
                        std::string("cannot create a file in its folder: ") + std::strerror(errno));
    }
    ::flock(fd, LOCK_EX);  // ours until renamed: removeLeftoverTemporaries leaves it alone
    auto failWith = [&](const char* what) {
        const int err = errno;
        ::close(fd);
        ::unlink(tmpl.c_str());
        return FileError(path, std::string(what) + std::strerror(err));
    };
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw failWith("writing failed (is the disk full?): ");
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) {
        throw failWith("flushing to disk failed: ");
    }
    ::fchmod(fd, 0644);
    if (::close(fd) != 0) {
        const int err = errno;
        ::unlink(tmpl.c_str());
        throw FileError(path, std::string("closing failed: ") + std::strerror(err));
    }
    if (::rename(tmpl.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmpl.c_str());
        throw FileError(path, std::string("cannot replace the file: ") + std::strerror(err));
    }
    // Make the rename itself durable.
    const int dirFd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (dirFd >= 0) {
        ::fsync(dirFd);
        ::close(dirFd);
    }
}

void checkWritable(const std::string& path) {
    namespace fs = std::filesystem;
    const fs::path target(path);
    std::error_code ec;
    if (fs::is_directory(target, ec)) {
        throw FileError(path, "is a folder; cannot write a file there");
    }
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    std::string tmpl = (dir / (target.filename().string() + ".tmp-XXXXXX")).string();
    const int fd = ::mkstemp(tmpl.data());
    if (fd < 0) {
        throw FileError(path, std::string("cannot write in its folder: ") + std::strerror(errno));
    }
    ::close(fd);
    ::unlink(tmpl.c_str());
}

void writeContainer(const std::string& path, const Container& container) {
    writeFileAtomically(path, encodeContainer(container));
}

Container readContainerHeader(const std::string& path) {
    constexpr std::uint64_t kMaxHeader = 64ULL << 20;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        throw ModelFileError(
            path, std::filesystem::exists(path, ec) ? "is not a regular file" : "no such file");
    }
    const auto size = std::filesystem::file_size(path, ec);
    std::ifstream in(path, std::ios::binary);
    std::string head(kFixedHead, '\0');
    if (ec || !in || !in.read(head.data(), static_cast<std::streamsize>(head.size()))) {
        // Too short for the fixed head: the full reader names the problem.
        return decodeContainer(readWholeFile(path, kFixedHead), path);
    }
    if (std::memcmp(head.data(), kMagic, sizeof kMagic) != 0 || get<std::uint32_t>(head, 8) == 0 ||
        get<std::uint32_t>(head, 8) > kFormatVersion) {
        (void)decodeContainer(head, path);  // throws, naming what the file is
        throw ModelFileError(path, "not a Cattery file (unrecognised header)");
    }
    const auto headerLength = get<std::uint64_t>(head, 12);
    if (headerLength > size - kFixedHead || headerLength > kMaxHeader) {
        throw ModelFileError(path, fmt::format("the file is truncated ({} bytes) or its header "
                                               "is corrupt",
                                               size));
    }
    std::string text(static_cast<std::size_t>(headerLength), '\0');
    if (!in.read(text.data(), static_cast<std::streamsize>(text.size()))) {
        throw ModelFileError(path, "could not be read completely");
    }
    Container c;
    try {
        const auto header = parseFileJson(text);
        c.kind = header.at("kind").get<std::string>();
        c.meta = header.at("meta");
    } catch (const nlohmann::json::exception& e) {
        throw ModelFileError(path,
                             fmt::format("the file's header is malformed ({})", briefly(e.what())));
    }
    return c;
}

Container readContainer(const std::string& path, std::uint64_t maxBytes) {
    return decodeContainer(readWholeFile(path, maxBytes), path);
}

}  // namespace cattery
