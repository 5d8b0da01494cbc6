#include "core/io/container.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "core/errors.h"
#include "core/io/jsonfield.h"

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

// A new, empty temporary file beside `path` ("name.tmp-XXXXXX"), open for writing and created
// with no wider permissions than `mode`: the first step of an atomic write, and the proof that
// one can be made. Throws FileError (`failure` and the system's reason) when `path` is a folder or
// its folder takes no new file.
struct TemporaryBeside {
    int fd = -1;
    std::string path;
};
TemporaryBeside createTemporaryBeside(const std::string& path, const char* failure,
                                      mode_t mode = 0600) {
    namespace fs = std::filesystem;
    const fs::path target(path);
    std::error_code ec;
    if (fs::is_directory(target, ec)) {
        throw FileError(path, "is a folder; cannot write a file there");
    }
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    static constexpr char kLetters[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::random_device random;
    TemporaryBeside temp;
    for (int attempt = 0; attempt < 100; ++attempt) {
        std::string suffix(6, 'X');
        for (char& c : suffix) {
            c = kLetters[random() % (sizeof kLetters - 1)];
        }
        temp.path = (dir / (target.filename().string() + ".tmp-" + suffix)).string();
        temp.fd = ::open(temp.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0777);
        if (temp.fd >= 0 || errno != EEXIST) {
            break;
        }
    }
    if (temp.fd < 0) {
        throw FileError(path, std::string(failure) + std::strerror(errno));
    }
    return temp;
}

// The process's file mode creation mask, read without changing it (umask() would, for a moment,
// for every thread).
mode_t currentUmask() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("Umask:", 0) == 0) {
            try {
                return static_cast<mode_t>(std::stoul(line.substr(6), nullptr, 8) & 0777);
            } catch (const std::exception&) {
                break;  // unreadable: the usual mask below
            }
        }
    }
    return 022;
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

namespace {

// Where a container's bytes come from: memory, or an open file read piece by piece, so that a
// file is checked (sizes, checksum, record table) before anything as large as its records is
// allocated, and its records are then read one by one into their own buffers.
class ByteSource {
public:
    explicit ByteSource(std::string_view bytes) : m_bytes(bytes), m_size(bytes.size()) {}
    ByteSource(std::ifstream& file, std::uint64_t size, const std::string& path)
        : m_file(&file), m_size(size), m_path(&path) {}

    std::uint64_t size() const { return m_size; }
    void read(std::uint64_t at, char* out, std::size_t n) const {
        if (m_file == nullptr) {
            std::memcpy(out, m_bytes.data() + at, n);
            return;
        }
        m_file->seekg(static_cast<std::streamoff>(at));
        if (!m_file->read(out, static_cast<std::streamsize>(n))) {
            throw ModelFileError(*m_path,
                                 "could not be read completely (did it change while it "
                                 "was read?)");
        }
    }
    std::string read(std::uint64_t at, std::size_t n) const {
        std::string out(n, '\0');
        read(at, out.data(), n);
        return out;
    }
    template <typename T>
    T get(std::uint64_t at) const {
        char raw[sizeof(T)];
        read(at, raw, sizeof raw);
        return cattery::get<T>(std::string_view(raw, sizeof raw), 0);
    }
    // The CRC-32 of the first n bytes, in pieces of at most 1 MiB.
    std::uint32_t crcOfFirst(std::uint64_t n) const {
        if (m_file == nullptr) {
            return crc32(m_bytes.data(), static_cast<std::size_t>(n));
        }
        std::string piece(std::min<std::uint64_t>(n, 1 << 20), '\0');
        std::uint32_t crc = 0;
        for (std::uint64_t at = 0; at < n;) {
            const auto len =
                static_cast<std::size_t>(std::min<std::uint64_t>(n - at, piece.size()));
            read(at, piece.data(), len);
            crc = crc32(piece.data(), len, crc);
            at += len;
        }
        return crc;
    }

private:
    std::string_view m_bytes;
    std::ifstream* m_file = nullptr;
    std::uint64_t m_size = 0;
    const std::string* m_path = nullptr;
};

Container decodeFrom(const ByteSource& src, const std::string& path) {
    auto fail = [&](const std::string& problem) { return ModelFileError(path, problem); };
    const std::uint64_t size = src.size();
    if (size == 0) {
        throw fail("the file is empty");
    }
    const std::string opening =
        src.read(0, static_cast<std::size_t>(std::min<std::uint64_t>(size, 64)));
    if (size < sizeof kMagic || std::memcmp(opening.data(), kMagic, sizeof kMagic) != 0) {
        if (size < sizeof kMagic && std::memcmp(opening.data(), kMagic, opening.size()) == 0) {
            throw fail(fmt::format("the file is truncated ({} bytes)", size));
        }
        const std::string other = guessOtherFormat(opening);
        throw fail(other.empty() ? "not a Cattery file (unrecognised header)"
                                 : "not a Cattery file: it looks like " + other);
    }
    if (size < kFixedHead) {
        throw fail(fmt::format("the file is truncated ({} bytes)", size));
    }
    const auto version = get<std::uint32_t>(opening, 8);
    if (version == 0) {
        throw fail("the file is corrupt (format version 0)");
    }
    if (version > kFormatVersion) {
        throw fail(
            fmt::format("the file was written by a newer Cattery (format version {}; this build "
                        "reads up to {})",
                        version, kFormatVersion));
    }
    const auto headerLength = get<std::uint64_t>(opening, 12);
    if (headerLength > size - kFixedHead) {
        throw fail(fmt::format("the file is truncated ({} bytes) or its header is corrupt", size));
    }
    const std::uint64_t dataLengthAt = kFixedHead + headerLength;
    if (size < dataLengthAt + 8) {
        throw fail(fmt::format("the file is truncated ({} bytes)", size));
    }
    const auto dataLength = src.get<std::uint64_t>(dataLengthAt);
    const std::uint64_t dataAt = dataLengthAt + 8;
    if (dataLength > size - dataAt || size - dataAt - dataLength < kTrailer) {
        throw fail(fmt::format("the file is truncated ({} bytes)", size));
    }
    const std::uint64_t expected = dataAt + dataLength + kTrailer;
    if (size != expected) {
        throw fail(fmt::format("the file has {} unexpected bytes after its end", size - expected));
    }
    // The whole file is checked before its header is believed: a damaged byte anywhere is named
    // as damage, not as whatever it happened to break.
    if (src.crcOfFirst(expected - kTrailer) != src.get<std::uint32_t>(expected - kTrailer)) {
        throw fail("the file is corrupt (checksum mismatch): it was damaged after it was written");
    }

    Container c;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> spans;  // each record's offset, size
    std::uint64_t claimed = 0;                                   // their sizes in all
    try {
        const auto header =
            parseFileJson(src.read(kFixedHead, static_cast<std::size_t>(headerLength)));
        c.kind = header.at("kind").get<std::string>();
        c.meta = header.at("meta");
        for (const auto& entry : header.at("records")) {
            Record r;
            r.name = entry.at("name").get<std::string>();
            if (!dtypeFromName(entry.at("dtype").get<std::string>(), r.dtype)) {
                throw fail(fmt::format("record '{}' has an unknown element type", briefly(r.name)));
            }
            // Whole numbers only: 6e60 or 1.5 is refused, never cast.
            const auto& shape = entry.at("shape");
            if (!shape.is_array()) {
                throw fail(fmt::format("record '{}' has an impossible shape", briefly(r.name)));
            }
            for (const auto& d : shape) {
                r.shape.push_back(jsonValue<std::int64_t>(d, "shape"));
            }
            const auto offset = jsonValue<std::uint64_t>(entry.at("offset"), "offset");
            const auto recordSize = jsonValue<std::uint64_t>(entry.at("size"), "size");
            std::uint64_t count = 1;
            for (auto d : r.shape) {
                if (d < 0 || (d > 0 && count > (1ULL << 40) / static_cast<std::uint64_t>(d))) {
                    throw fail(fmt::format("record '{}' has an impossible shape", briefly(r.name)));
                }
                count *= static_cast<std::uint64_t>(d);
            }
            if (count * elementSize(r.dtype) != recordSize || offset > dataLength ||
                recordSize > dataLength - offset) {
                throw fail(
                    fmt::format("record '{}' does not fit its shape or the file", briefly(r.name)));
            }
            // Records may not share bytes: many records naming the same large span would
            // each be read into a buffer of their own.
            claimed += recordSize;
            if (claimed > dataLength) {
                throw fail("its records overlap or claim more than the file holds");
            }
            spans.emplace_back(offset, recordSize);
            c.records.push_back(std::move(r));
        }
    } catch (const nlohmann::json::exception& e) {
        throw fail(fmt::format("the file's header is malformed ({})", briefly(e.what())));
    } catch (const ConfigError& e) {
        throw fail(fmt::format("the file's header is malformed ({})", briefly(e.what())));
    }
    // Every record is now known to lie inside the file and no two to share bytes, so what is
    // allocated below is at most the file's own size.
    for (std::size_t i = 0; i < c.records.size(); ++i) {
        c.records[i].bytes =
            src.read(dataAt + spans[i].first, static_cast<std::size_t>(spans[i].second));
    }
    return c;
}

}  // namespace

Container decodeContainer(std::string_view bytes, const std::string& path) {
    return decodeFrom(ByteSource(bytes), path);
}

std::uint64_t checkedFileSize(const std::string& path, std::uint64_t maxBytes) {
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
    return size;
}

std::string readWholeFile(const std::string& path, std::uint64_t maxBytes) {
    const std::uint64_t size = checkedFileSize(path, maxBytes);
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

std::string writeTarget(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_symlink(path, ec)) {
        return path;
    }
    if (!fs::exists(path, ec)) {
        throw FileError(path, fmt::format("is a symbolic link to {}, which does not exist; "
                                          "cannot write through it",
                                          fs::read_symlink(path, ec).string()));
    }
    std::string real = fs::canonical(path, ec).string();
    if (ec) {
        throw FileError(path, "its symbolic link cannot be followed: " + ec.message());
    }
    return real;
}

void writeFileAtomically(const std::string& path, std::string_view bytes) {
    namespace fs = std::filesystem;
    // A symbolic link is written through: the file it points to gets the new content, and the
    // link stays a link.
    const std::string real = writeTarget(path);
    // A replaced file keeps its permissions (and owner, where the process may set it); a new one
    // gets what the umask allows, as any new file would.
    struct stat old {};
    const bool replacing = ::stat(real.c_str(), &old) == 0;
    if (replacing && !S_ISREG(old.st_mode) && !S_ISDIR(old.st_mode)) {
        throw FileError(path, "is not a regular file; cannot replace it");
    }
    const mode_t mode = replacing ? (old.st_mode & 07777) : (0666 & ~currentUmask());
    const fs::path target(real);
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    removeLeftoverTemporaries(dir, target.filename().string());
    TemporaryBeside temp =
        createTemporaryBeside(real, "cannot create a file in its folder: ", mode & 0777);
    const int fd = temp.fd;
    const std::string& tmpl = temp.path;
    ::flock(fd, LOCK_EX);  // ours until renamed: removeLeftoverTemporaries leaves it alone
    auto failWith = [&](const char* what) {
        const int err = errno;
        ::close(fd);
        ::unlink(tmpl.c_str());
        return FileError(path, std::string(what) + std::strerror(err));
    };
    if (replacing && (old.st_uid != ::geteuid() || old.st_gid != ::getegid())) {
        // Only root (or a member of the group) may give the file back to its owner; anyone
        // else's copy is theirs, as a copy made with cp would be. The mode is set after, since
        // a change of owner clears the set-user-ID bit.
        if (::fchown(fd, old.st_uid, old.st_gid) != 0 && ::fchown(fd, -1, old.st_gid) != 0) {
            errno = 0;  // not allowed: the file stays the writer's
        }
    }
    if (::fchmod(fd, mode) != 0) {
        throw failWith("cannot set the file's permissions: ");
    }
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
    if (::close(fd) != 0) {
        const int err = errno;
        ::unlink(tmpl.c_str());
        throw FileError(path, std::string("closing failed: ") + std::strerror(err));
    }
    if (::rename(tmpl.c_str(), real.c_str()) != 0) {
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
    const TemporaryBeside temp = createTemporaryBeside(path, "cannot write in its folder: ");
    ::close(temp.fd);
    ::unlink(temp.path.c_str());
}

bool startsLikeContainer(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        return false;
    }
    std::ifstream in(path, std::ios::binary);
    char opening[sizeof kMagic] = {};
    return in.read(opening, sizeof opening) && std::memcmp(opening, kMagic, sizeof kMagic) == 0;
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
    const std::uint64_t size = checkedFileSize(path, maxBytes);
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw ModelFileError(path, std::string("cannot be opened: ") + std::strerror(errno));
    }
    return decodeFrom(ByteSource(in, size, path), path);
}

}  // namespace cattery
