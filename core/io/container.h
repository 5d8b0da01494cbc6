#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace cattery {

// Element types a record may hold.
enum class DType : std::uint8_t { Float32 = 1, Int64 = 2, UInt8 = 3, Float64 = 4 };

// One named array of raw little-endian values.
struct Record {
    std::string name;
    DType dtype = DType::UInt8;
    std::vector<std::int64_t> shape;
    std::string bytes;
};

// The single-file format behind models, checkpoints and data sets: a magic, a format version, a
// JSON header (kind, metadata, record table), the raw records and a CRC-32 of everything before.
struct Container {
    std::string kind;  // "model", "checkpoint" or "dataset"
    nlohmann::json meta = nlohmann::json::object();
    std::vector<Record> records;

    const Record* find(std::string_view name) const;
};

inline constexpr std::uint32_t kFormatVersion = 1;

// JSON read from a file may nest at most this deep: a document nested a million levels deep would
// overflow the stack when it is copied or compared. Cattery's own nest a few levels.
inline constexpr std::size_t kMaxJsonDepth = 64;
// How deep `text` nests arrays and objects (brackets inside strings do not count); it stops
// counting past kMaxJsonDepth + 1. Check it before parsing JSON from a file.
std::size_t jsonNestingDepth(std::string_view text);
// The JSON text `text`, parsed after checking its depth: throws nlohmann::json::exception as the
// parser does (out_of_range for too deep a document).
nlohmann::json parseFileJson(std::string_view text);
// JSON as files hold it: bytes that are not UTF-8 (a file name from an old archive) become U+FFFD
// instead of failing the write.
std::string dumpFileJson(const nlohmann::json& json, bool ensureAscii = false);

std::size_t elementSize(DType dtype);
std::uint32_t crc32(const void* data, std::size_t size, std::uint32_t crc = 0);

std::string encodeContainer(const Container& container);
// Validates everything (magic, version, sizes, checksum, header, record table) and throws
// ModelFileError naming `path` and the problem.
Container decodeContainer(std::string_view bytes, const std::string& path);

// The size of a regular file; throws ModelFileError for a missing file, a folder, something that is
// not a regular file, or one larger than maxBytes.
std::uint64_t checkedFileSize(const std::string& path, std::uint64_t maxBytes);
// Reads a whole regular file; throws ModelFileError for a missing file, a directory, an unreadable
// file or one larger than maxBytes.
std::string readWholeFile(const std::string& path, std::uint64_t maxBytes);
// Where writing `path` lands: the file a symbolic link points to (the link stays a link), or
// `path` itself. Throws FileError for a link to nothing.
std::string writeTarget(const std::string& path);
// Writes to a temporary file beside `path`, flushes it to disk, then renames it over `path`:
// a failure (a full disk, a crash) never leaves a half-written file where a good one was. A
// replaced file keeps its permissions and, where the process may set it, its owner; a new one
// gets what the umask allows; a symbolic link is written through (writeTarget()). The temporary
// file is never readable by more than the final one.
void writeFileAtomically(const std::string& path, std::string_view bytes);

// Throws FileError naming `path` when no file can be written there (its folder is missing, not
// writable, or it is a folder itself), by creating and removing a temporary file beside it.
void checkWritable(const std::string& path);

// Whether `path` is a regular file that opens with a Cattery file's magic (false for anything that
// cannot be read): tells a model from an image among a command's arguments.
bool startsLikeContainer(const std::string& path);

void writeContainer(const std::string& path, const Container& container);
// Reads and validates a container file as decodeContainer does, without holding the file whole:
// the checksum is taken piece by piece and the records are read only once the record table is
// known to fit the file, so what it allocates is the records' own size.
Container readContainer(const std::string& path, std::uint64_t maxBytes = 4ULL << 30);
// The kind and metadata alone, for a quick look before the whole file is needed: reads only the
// header (at most 64 MiB) and checks the magic, version and header, not the records or checksum.
Container readContainerHeader(const std::string& path);

}  // namespace cattery
