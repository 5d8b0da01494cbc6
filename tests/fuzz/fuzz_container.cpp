// The container reader behind model, checkpoint and data set files: any bytes give a Container or
// a ModelFileError naming the file, never a crash, a hang or an unbounded allocation.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "core/errors.h"
#include "core/io/container.h"
#include "fuzzutil.h"

using namespace cattery;

namespace {

void writeSeed(const std::string& dir, const std::string& name, const Container& c) {
    const std::string bytes = encodeContainer(c);
    std::ofstream(dir + "/" + name, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

Record record(const std::string& name, DType dtype, std::vector<std::int64_t> shape) {
    Record r;
    r.name = name;
    r.dtype = dtype;
    r.shape = std::move(shape);
    std::size_t count = 1;
    for (const auto d : r.shape) {
        count *= static_cast<std::size_t>(d);
    }
    r.bytes.assign(count * elementSize(dtype), '\x01');
    return r;
}

}  // namespace

// With CATTERY_FUZZ_SEEDS set, writes small containers like the program's own there first: a
// model, a checkpoint and a data set.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
    const char* dir = std::getenv("CATTERY_FUZZ_SEEDS");
    if (dir == nullptr) {
        return 0;
    }
    Container model;
    model.kind = "model";
    model.meta = {{"arch",
                   {{"image_size", 32},
                    {"channels", 3},
                    {"latent_dim", 8},
                    {"nf", 2},
                    {"ndf", 2},
                    {"bottleneck", 4},
                    {"repeats", 1},
                    {"separable", false},
                    {"batch_norm", true},
                    {"z_skip", true}}},
                  {"latent", {{"dim", 8}, {"seed", 1}}},
                  {"provenance", {{"name", "Seed"}, {"steps", 10}}}};
    model.records = {record("latent.projection", DType::Float32, {8, 3}),
                     record("generator.fc.weight", DType::Float32, {64, 8})};
    writeSeed(dir, "model.cattery", model);
    Container checkpoint = model;
    checkpoint.kind = "checkpoint";
    checkpoint.meta["training"] = {{"step", 20}, {"rng", {"1", "2", "3", "4"}}};
    checkpoint.records.push_back(record("optimizer.generator", DType::UInt8, {16}));
    writeSeed(dir, "checkpoint.cattery", checkpoint);
    Container data;
    data.kind = "dataset";
    data.meta = {{"source", "seed"}, {"used", {"a.png"}}, {"skipped", nlohmann::json::array()}};
    data.records = {record("images", DType::UInt8, {2, 3, 8, 8})};
    writeSeed(dir, "data.cattery", data);
    return 0;
}

namespace {

void decode(std::string_view bytes) {
    try {
        const Container c = decodeContainer(bytes, "fuzz.cattery");
        // What was read is written again and read back the same: a file Cattery accepts is one
        // it can save.
        const Container again = decodeContainer(encodeContainer(c), "again.cattery");
        if (again.kind != c.kind || again.records.size() != c.records.size() ||
            again.meta != c.meta) {
            std::abort();
        }
    } catch (const ModelFileError& e) {
        if (std::string_view(e.what()).find("fuzz.cattery") == std::string_view::npos) {
            std::abort();  // every error names the file
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    decode(bytes);
    // The same bytes with a checksum that matches them, so that mutations reach the header and the
    // record table instead of stopping at the checksum.
    decode(fuzz::withMatchingChecksum(bytes));
    return 0;
}
