#include <torch/torch.h>
#include <QtTest/QtTest>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/io/container.h"
#include "core/io/modelfile.h"
#include "core/io/outputs.h"
#include "core/io/tensorio.h"
#include "core/runtime/renderer.h"
#include "testutil.h"

using namespace cattery;

namespace {

std::string slurp(const std::string& path) {
    return readWholeFile(path, 1ULL << 30);
}

void spit(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Loads and expects a ModelFileError whose message names the file; returns the message.
QString loadError(const std::string& path) {
    try {
        loadModel(path);
    } catch (const ModelFileError& e) {
        const QString message = QString::fromStdString(e.what());
        if (!message.contains(QString::fromStdString(path))) {
            return QStringLiteral("message does not name the file: ") + message;
        }
        return message;
    }
    return QStringLiteral("no error");
}

// A container file around the header text `header` and the record data `data` (none unless
// given), checksummed as a real one is.
std::string withHeader(const std::string& header, const std::string& data = {}) {
    std::string out("CATTERY\x1a", 8);
    const auto put = [&out](auto value) {
        char b[sizeof value];
        std::memcpy(b, &value, sizeof value);
        out.append(b, sizeof value);
    };
    put(std::uint32_t{kFormatVersion});
    put(std::uint64_t{header.size()});
    out += header;
    put(std::uint64_t{data.size()});
    out += data;
    put(crc32(out.data(), out.size()));
    return out;
}

// The most memory this process has held so far, in bytes.
std::int64_t peakBytes() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return std::int64_t{usage.ru_maxrss} * 1024;
}

std::int64_t valuesOf(torch::nn::Module& m) {
    std::int64_t n = 0;
    for (const auto& p : m.parameters()) {
        n += p.numel();
    }
    for (const auto& b : m.buffers()) {
        n += b.numel();
    }
    return n;
}

// Saves a tiny model of `arch` at `path`, and the same file at `olderPath` without the
// architecture's `field`, as files written before it were. Returns the older file's container.
Container saveWithout(const ArchConfig& arch, const std::string& path, const std::string& olderPath,
                      const char* field) {
    saveModel(path, arch, LatentSpace(arch.latentDim, 1), Provenance{}, test::tinyGenerator(arch));
    Container c = readContainer(path);
    if (!c.meta["arch"].contains(field)) {
        throw std::runtime_error(std::string("a new file lacks ") + field);
    }
    c.meta["arch"].erase(field);
    writeContainer(olderPath, c);
    return c;
}

}  // namespace

class TestModelFile : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init() { QVERIFY(m_dir.isValid()); }
    void saveThenLoadGivesIdenticalPixels();
    void metadataRoundTrips();
    void everyTruncatedPrefixIsAClearError();
    void flippedBytesAreCaught();
    void emptyDirectoryAndOtherFormats_data();
    void emptyDirectoryAndOtherFormats();
    void futureVersionIsNamed();
    void wellFormedButWrongContentIsCaught();
    void saveIsAtomic();
    void saveKeepsPermissionsOwnersAndLinks();
    void outputsNeverReplaceInputs();
    void hostileHeadersAreClearErrors();
    void valueCountsMatchBuiltNetworks();
    void olderFilesRepeatTheZMapCells();
    void olderFilesDrawLatentsAsGiven();
    void hostileSizesClaimLittleMemory();
    void encodersRoundTrip();

private:
    std::string path(const char* name) const {
        return m_dir.filePath(QString::fromLatin1(name)).toStdString();
    }
    QTemporaryDir m_dir;
};

void TestModelFile::saveThenLoadGivesIdenticalPixels() {
    const ArchConfig arch = test::tinyArch();
    const Generator original = test::tinyGenerator(arch, 21);
    const LatentSpace space(arch.latentDim, 8);
    saveModel(path("m.cattery"), arch, space, Provenance{}, original);
    Model loaded = loadModel(path("m.cattery"));
    const torch::Tensor z = sampleLatents(6, arch.latentDim, 2);
    Renderer a(original, torch::kCPU, 0), b(loaded.generator, torch::kCPU, 0);
    const auto ia = a.render(z);
    const auto ib = b.render(z);
    QCOMPARE(ia.size(), size_t(6));
    for (size_t i = 0; i < ia.size(); ++i) {
        QVERIFY(ia[i] == ib[i]);
    }
    QVERIFY(torch::equal(loaded.latent.projection(), space.projection()));
    QCOMPARE(loaded.latent.seed(), std::uint64_t(8));
}

void TestModelFile::metadataRoundTrips() {
    ArchConfig arch = test::tinyArch(3);
    arch.separable = true;
    arch.zSkip = false;
    arch.smoothZMap = false;
    arch.batchNorm = false;
    Provenance p;
    p.name = "Three";
    p.dataset = "/data/cats";
    p.datasetHash = "deadbeef";
    p.imageCount = 123;
    p.steps = 4567;
    p.wallSeconds = 89.5;
    p.device = "cpu (2 threads)";
    p.seed = 99;
    p.date = "2026-01-02T03:04:05Z";
    p.programVersion = "9.9.9";
    saveModel(path("p.cattery"), arch, LatentSpace(3, 1), p, test::tinyGenerator(arch));
    const Model m = loadModel(path("p.cattery"));
    QVERIFY(m.arch == arch);
    QCOMPARE(m.provenance.name, p.name);
    QCOMPARE(m.provenance.dataset, p.dataset);
    QCOMPARE(m.provenance.datasetHash, p.datasetHash);
    QCOMPARE(m.provenance.imageCount, p.imageCount);
    QCOMPARE(m.provenance.steps, p.steps);
    QCOMPARE(m.provenance.wallSeconds, p.wallSeconds);
    QCOMPARE(m.provenance.seed, p.seed);
    QCOMPARE(m.displayName(), std::string("Three"));
    QVERIFY(!m.checkpoint);
    QVERIFY(QString::fromStdString(describeModel(m)).contains(QStringLiteral("4567 steps")));
}

void TestModelFile::everyTruncatedPrefixIsAClearError() {
    const std::string good = slurp(test::saveTinyModel(path("t.cattery")));
    QVERIFY(good.size() > 1000);
    for (size_t n = 0; n < good.size(); ++n) {
        try {
            decodeContainer(std::string_view(good.data(), n), "t.cattery");
            QFAIL(qPrintable(QStringLiteral("a %1-byte prefix was accepted").arg(n)));
        } catch (const ModelFileError& e) {
            QVERIFY(QString::fromStdString(e.what()).contains(QStringLiteral("t.cattery")));
        }
    }
    // And through the file system, for a spread of lengths.
    for (size_t n : {size_t(0), size_t(1), size_t(7), size_t(8), size_t(20), good.size() / 3,
                     good.size() - 1}) {
        spit(path("cut.cattery"), good.substr(0, n));
        const QString message = loadError(path("cut.cattery"));
        QVERIFY2(message.contains(QStringLiteral("truncated")) ||
                     message.contains(QStringLiteral("empty")),
                 qPrintable(message));
    }
}

void TestModelFile::flippedBytesAreCaught() {
    const std::string good = slurp(test::saveTinyModel(path("f.cattery")));
    const size_t step = std::max<size_t>(1, good.size() / 400);
    for (size_t at = 0; at < good.size(); at += (at < 512 ? 1 : step)) {
        std::string bad = good;
        bad[at] = static_cast<char>(bad[at] ^ 0x10);
        try {
            decodeContainer(bad, "f.cattery");
            QFAIL(qPrintable(QStringLiteral("a flipped byte at %1 was not noticed").arg(at)));
        } catch (const ModelFileError&) {
        }
    }
    std::string bad = good;
    bad[good.size() / 2] = static_cast<char>(bad[good.size() / 2] ^ 1);
    spit(path("flip.cattery"), bad);
    QVERIFY2(loadError(path("flip.cattery")).contains(QStringLiteral("checksum")),
             qPrintable(loadError(path("flip.cattery"))));
}

void TestModelFile::emptyDirectoryAndOtherFormats_data() {
    QTest::addColumn<QByteArray>("contents");
    QTest::addColumn<QString>("expected");
    QTest::newRow("empty") << QByteArray() << QStringLiteral("empty");
    QTest::newRow("png") << QByteArray("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16)
                         << QStringLiteral("PNG");
    QTest::newRow("zip") << QByteArray("PK\x03\x04 pytorch archive") << QStringLiteral("ZIP");
    QTest::newRow("json") << QByteArray("{\"arch\": 1}") << QStringLiteral("JSON");
    QTest::newRow("text") << QByteArray("hello, I am not a model\n")
                          << QStringLiteral("not a Cattery file");
    QTest::newRow("zeros") << QByteArray(4096, '\0') << QStringLiteral("not a Cattery file");
}

void TestModelFile::emptyDirectoryAndOtherFormats() {
    QFETCH(QByteArray, contents);
    QFETCH(QString, expected);
    spit(path("x.cattery"), contents.toStdString());
    const QString message = loadError(path("x.cattery"));
    QVERIFY2(message.contains(expected), qPrintable(message));

    std::filesystem::create_directories(path("folder.cattery"));
    QVERIFY2(loadError(path("folder.cattery")).contains(QStringLiteral("folder")),
             qPrintable(loadError(path("folder.cattery"))));
    QVERIFY2(loadError(path("missing.cattery")).contains(QStringLiteral("no such file")),
             qPrintable(loadError(path("missing.cattery"))));
}

void TestModelFile::futureVersionIsNamed() {
    std::string bytes = slurp(test::saveTinyModel(path("v.cattery")));
    const std::uint32_t future = kFormatVersion + 41;
    std::memcpy(bytes.data() + 8, &future, 4);
    const std::uint32_t crc = crc32(bytes.data(), bytes.size() - 4);
    std::memcpy(bytes.data() + bytes.size() - 4, &crc, 4);
    spit(path("v.cattery"), bytes);
    const QString message = loadError(path("v.cattery"));
    QVERIFY2(message.contains(QStringLiteral("newer")) && message.contains(QString::number(future)),
             qPrintable(message));
}

void TestModelFile::wellFormedButWrongContentIsCaught() {
    const Container good = readContainer(test::saveTinyModel(path("w.cattery")));
    struct Case {
        const char* name;
        std::function<void(Container&)> spoil;
        const char* expected;
    };
    const std::vector<Case> cases = {
        {"bad size", [](Container& c) { c.meta["arch"]["image_size"] = 33; }, "image size 33"},
        {"no arch", [](Container& c) { c.meta.erase("arch"); }, "incomplete"},
        {"kind", [](Container& c) { c.kind = "dataset"; }, "not a model"},
        {"missing weights", [](Container& c) { c.records.pop_back(); }, "missing"},
        {"other arch", [](Container& c) { c.meta["arch"]["nf"] = 5; }, "architecture needs"},
        {"wrong shape",
         [](Container& c) {
             for (auto& r : c.records) {
                 if (r.name.rfind("generator.", 0) == 0 && r.shape.size() == 2 &&
                     r.shape[0] != r.shape[1]) {
                     std::swap(r.shape[0], r.shape[1]);  // the same values, transposed
                     break;
                 }
             }
         },
         "shape"},
        {"latent", [](Container& c) { c.meta["latent"]["dim"] = 17; }, "latent"},
        {"nan",
         [](Container& c) {
             for (auto& r : c.records) {
                 if (r.dtype == DType::Float32 && r.name.rfind("generator.", 0) == 0) {
                     const float nan = std::nanf("");
                     std::memcpy(r.bytes.data(), &nan, 4);
                     break;
                 }
             }
         },
         "NaN"},
    };
    for (const auto& c : cases) {
        Container spoilt = good;
        c.spoil(spoilt);
        writeContainer(path("spoilt.cattery"), spoilt);
        const QString message = loadError(path("spoilt.cattery"));
        QVERIFY2(message.contains(QString::fromLatin1(c.expected)),
                 qPrintable(QStringLiteral("%1: %2").arg(QString::fromLatin1(c.name), message)));
    }
}

void TestModelFile::saveIsAtomic() {
    const std::string target = test::saveTinyModel(path("a.cattery"));
    const std::string before = slurp(target);
    // A save that cannot happen leaves the good file alone and no stray temporary files.
    QVERIFY_THROWS_EXCEPTION(FileError, writeFileAtomically(path("no/such/dir/a.cattery"), "x"));
    QVERIFY_THROWS_EXCEPTION(FileError, writeFileAtomically(m_dir.path().toStdString(), "x"));
    QCOMPARE(slurp(target), before);
    test::saveTinyModel(target);
    int files = 0;
    for (const auto& e : std::filesystem::directory_iterator(m_dir.path().toStdString())) {
        QVERIFY2(e.path().string().find(".tmp-") == std::string::npos, e.path().c_str());
        ++files;
    }
    QVERIFY(files >= 1);
    QVERIFY_THROWS_EXCEPTION(FileError, writeFileAtomically("/dev/full/x.cattery", "x"));

    // A temporary file left by a killed write (no one holds its lock) goes at the next write of
    // the same file; one that a live writer holds, and other files, stay.
    spit(path("a.cattery.tmp-KILLED"), "half a model");
    spit(path("a.cattery.tmp-LIVE00"), "being written");
    spit(path("b.cattery.tmp-OTHER0"), "another file's");
    const int live = ::open(path("a.cattery.tmp-LIVE00").c_str(), O_RDONLY);
    QVERIFY(live >= 0 && ::flock(live, LOCK_EX) == 0);
    test::saveTinyModel(target);
    ::close(live);
    QVERIFY(!std::filesystem::exists(path("a.cattery.tmp-KILLED")));
    QVERIFY(std::filesystem::exists(path("a.cattery.tmp-LIVE00")));
    QVERIFY(std::filesystem::exists(path("b.cattery.tmp-OTHER0")));
    QVERIFY(loadModel(target).generator);
}

namespace {

mode_t modeOf(const std::string& file) {
    struct stat st {};
    return ::stat(file.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

}  // namespace

// Replacing a file keeps its permissions and owner; a link is written through and stays a link;
// a link to nothing is an error that writes nothing.
void TestModelFile::saveKeepsPermissionsOwnersAndLinks() {
    namespace fs = std::filesystem;
    const std::string file = path("kept.bin");
    writeFileAtomically(file, "one");
    const mode_t mask = ::umask(022);  // as a login shell's
    ::umask(mask);
    writeFileAtomically(path("new.bin"), "new");
    QCOMPARE(modeOf(path("new.bin")), static_cast<mode_t>(0666 & ~mask));
    for (const mode_t mode : {0600, 0640, 0400, 0755}) {
        QCOMPARE(::chmod(file.c_str(), mode), 0);
        writeFileAtomically(file, "mode " + std::to_string(mode));
        QCOMPARE(modeOf(file), mode);
        QCOMPARE(slurp(file), "mode " + std::to_string(mode));
    }
    if (::geteuid() == 0) {  // only root may give a file to someone else
        QCOMPARE(::chown(file.c_str(), 4321, 4322), 0);
        writeFileAtomically(file, "theirs");
        struct stat st {};
        QCOMPARE(::stat(file.c_str(), &st), 0);
        QCOMPARE(st.st_uid, static_cast<uid_t>(4321));
        QCOMPARE(st.st_gid, static_cast<gid_t>(4322));
    }

    // A link (relative, from another folder) stays a link; its target gets the content.
    fs::create_directories(path("links"));
    const std::string link = path("links/to-kept.bin");
    fs::create_symlink("../kept.bin", link);
    QCOMPARE(::chmod(file.c_str(), 0600), 0);
    writeFileAtomically(link, "through the link");
    QVERIFY(fs::is_symlink(link));
    QCOMPARE(slurp(file), std::string("through the link"));
    QCOMPARE(modeOf(file), static_cast<mode_t>(0600));
    for (const auto& e : fs::directory_iterator(path("links"))) {
        QVERIFY2(e.path().string().find(".tmp-") == std::string::npos, e.path().c_str());
    }
    // A model saved through a link loads from both names.
    const std::string modelLink = path("links/model.cattery");
    fs::create_symlink("../a-model.cattery", modelLink);
    QVERIFY_THROWS_EXCEPTION(FileError, test::saveTinyModel(modelLink));  // dangling: refused
    QVERIFY(!fs::exists(path("a-model.cattery")));
    QVERIFY(fs::is_symlink(modelLink));
    try {
        writeFileAtomically(modelLink, "x");
        QFAIL("a dangling link was written through");
    } catch (const FileError& e) {
        const QString message = QString::fromUtf8(e.what());
        QVERIFY2(message.contains(QString::fromStdString(modelLink)) &&
                     message.contains(QStringLiteral("does not exist")),
                 qPrintable(message));
    }
    test::saveTinyModel(path("a-model.cattery"));
    test::saveTinyModel(modelLink);
    QVERIFY(fs::is_symlink(modelLink));
    QVERIFY(loadModel(modelLink).generator);
}

// The rule behind every command's and dialog's refusal to write over what it reads.
void TestModelFile::outputsNeverReplaceInputs() {
    namespace fs = std::filesystem;
    const std::string model = path("in.cattery");
    spit(model, "model");
    fs::create_directories(path("sub"));
    fs::create_directories(path("images/deeper"));
    spit(path("images/deeper/cat.png"), "png");
    fs::create_hard_link(model, path("hard.cattery"));
    fs::create_symlink(model, path("soft.cattery"));
    QVERIFY(sameFile(model, path("sub/../in.cattery")));
    QVERIFY(sameFile(model, path("hard.cattery")));
    QVERIFY(sameFile(model, path("soft.cattery")));
    QVERIFY(!sameFile(model, path("other.cattery")));
    QVERIFY(sameFile(path("new.png"), path("sub/../new.png")));  // neither there yet
    QVERIFY(!sameFile(path("new.png"), path("new2.png")));

    const auto refused = [](const std::vector<NamedPath>& in, const std::vector<NamedPath>& out,
                            const QStringList& named) {
        try {
            checkOutputs(in, out);
        } catch (const ConfigError& e) {
            const QString message = QString::fromUtf8(e.what());
            for (const QString& n : named) {
                if (!message.contains(n)) {
                    qWarning("%s lacks %s", qPrintable(message), qPrintable(n));
                    return false;
                }
            }
            return true;
        }
        return false;
    };
    QVERIFY(refused({{"MODEL", model}}, {{"--out", path("hard.cattery")}},
                    {QStringLiteral("--out"), QStringLiteral("MODEL")}));
    QVERIFY(refused({{"--data", path("images")}}, {{"--out", path("images/deeper/cat.png")}},
                    {QStringLiteral("--out"), QStringLiteral("--data"),
                     QString::fromStdString(path("images/deeper/cat.png"))}));
    QVERIFY(refused({}, {{"--out", path("x.cattery")}, {"--checkpoint", path("sub/../x.cattery")}},
                    {QStringLiteral("--out"), QStringLiteral("--checkpoint")}));
    // Beside an input, a new file in its folder, or something that is not an image there: fine.
    checkOutputs({{"MODEL", model}, {"--data", path("images")}},
                 {{"--out", path("out.png")},
                  {"--checkpoint", path("images/model.cattery")},
                  {"--sheet", ""}});
}

void TestModelFile::hostileHeadersAreClearErrors() {
    {
        // 10,000 records that all name the same megabyte: each would be read into a buffer of
        // its own (10 GB from a 1 MB file). Refused before any is read.
        nlohmann::json records = nlohmann::json::array();
        for (int i = 0; i < 10000; ++i) {
            records.push_back({{"name", "r" + std::to_string(i)},
                               {"dtype", "u8"},
                               {"shape", {1 << 20}},
                               {"offset", 0},
                               {"size", 1 << 20}});
        }
        const std::string header = nlohmann::json{
            {"kind", "model"},
            {"meta", nlohmann::json::object()},
            {"records", records}}.dump();
        spit(path("overlap.cattery"), withHeader(header, std::string(1 << 20, '\x01')));
        const QString error = loadError(path("overlap.cattery"));
        QVERIFY2(error.contains(QStringLiteral("overlap")), qPrintable(error));
    }
    // Sizes, offsets and shapes that are not whole numbers (6e60 would be cast out of range):
    // refused as malformed.
    for (const auto& [field, value] : std::vector<std::pair<std::string, nlohmann::json>>{
             {"size", 6e60}, {"offset", 1.5}, {"shape", {4.5}}, {"shape", 7}, {"size", -4}}) {
        nlohmann::json record = {
            {"name", "r"}, {"dtype", "u8"}, {"shape", {4}}, {"offset", 0}, {"size", 4}};
        record[field] = value;
        const std::string header = nlohmann::json{
            {"kind", "model"},
            {"meta", nlohmann::json::object()},
            {"records", {record}}}.dump();
        spit(path("fields.cattery"), withHeader(header, "abcd"));
        const QString error = loadError(path("fields.cattery"));
        QVERIFY2(error.contains(QStringLiteral("malformed")) ||
                     error.contains(QStringLiteral("impossible shape")),
                 qPrintable(QStringLiteral("%1 %2: %3")
                                .arg(QString::fromStdString(field),
                                     QString::fromStdString(value.dump()), error)));
    }
    // A header nested a million levels deep would overflow the stack: refused before parsing, by
    // the whole reader and by the header-only one that `cattery-cli info` uses.
    const std::string deep = path("deep.cattery");
    spit(deep, withHeader(std::string(1000000, '[') + std::string(1000000, ']')));
    for (const auto& read : std::vector<std::function<void()>>{
             [&] { readContainer(deep); }, [&] { readContainerHeader(deep); }}) {
        try {
            read();
            QFAIL("a deeply nested header was accepted");
        } catch (const ModelFileError& e) {
            const QString message = QString::fromStdString(e.what());
            QVERIFY2(message.contains(QStringLiteral("nested")) &&
                         message.contains(QString::fromStdString(deep)),
                     qPrintable(message));
        }
    }
    const std::string quoted = "{\"a\": [1, {\"b\": \"[[[[\"}], \"c\": \"\\\"{\"}";
    QCOMPARE(jsonNestingDepth(quoted), std::size_t{3});
    // A megabyte-long field in a malformed header is not echoed whole.
    const std::string longField = path("long.cattery");
    spit(longField, withHeader("{\"kind\": \"" + std::string(1 << 20, 'a') + "\" oops}"));
    const QString message = loadError(longField);
    QVERIFY2(message.contains(QStringLiteral("malformed")), qPrintable(message.left(300)));
    QVERIFY2(message.size() < 1000, qPrintable(message.left(300)));
    // Names that are not UTF-8 (a file name from an old archive) are written with U+FFFD in their
    // place instead of failing the write.
    Container c = readContainer(test::saveTinyModel(path("n.cattery")));
    c.meta["provenance"]["name"] = std::string("caf\xe9 \xff");
    writeContainer(path("n.cattery"), c);
    QCOMPARE(readContainer(path("n.cattery")).meta["provenance"]["name"].get<std::string>(),
             std::string("caf\xef\xbf\xbd \xef\xbf\xbd"));
    QVERIFY(loadModel(path("n.cattery")).generator);
}

void TestModelFile::olderFilesRepeatTheZMapCells() {
    // Files written before the smooth z map have no such field: they draw as they always did.
    const ArchConfig arch = test::tinyArch();
    QVERIFY(arch.smoothZMap);
    saveWithout(arch, path("smooth.cattery"), path("older.cattery"), "smooth_z_map");
    Model smooth = loadModel(path("smooth.cattery"));
    Model older = loadModel(path("older.cattery"));
    QVERIFY(smooth.arch.smoothZMap);
    QVERIFY(!older.arch.smoothZMap);
    // Same weights, another way up: the pictures differ.
    const torch::Tensor z = sampleLatents(4, arch.latentDim, 3);
    torch::NoGradGuard noGrad;
    smooth.generator->eval();
    older.generator->eval();
    const double apart =
        (smooth.generator->forward(z) - older.generator->forward(z)).abs().max().item<double>();
    QVERIFY2(apart > 1e-3, qPrintable(QString::number(apart)));
}

void TestModelFile::olderFilesDrawLatentsAsGiven() {
    // Files written before latents were normalised have no such field: they read as drawing each
    // latent at its own length, and a new file keeps whichever way it was trained.
    ArchConfig arch = test::tinyArch();
    QVERIFY(arch.normalizeZ);
    Container c = saveWithout(arch, path("normal.cattery"), path("older.cattery"), "normalize_z");
    QVERIFY(loadModel(path("normal.cattery")).arch.normalizeZ);
    QVERIFY(!loadModel(path("older.cattery")).arch.normalizeZ);
    QVERIFY(!loadModel(path("older.cattery")).arch.normalizeZInTraining);
    // New runs scale only the latents they draw; files written before the two were told apart
    // trained the way they draw.
    QVERIFY(!arch.normalizeZInTraining);
    QVERIFY(!loadModel(path("normal.cattery")).arch.normalizeZInTraining);
    saveWithout(arch, path("drawn.cattery"), path("samebefore.cattery"), "normalize_z_in_training");
    QVERIFY(loadModel(path("samebefore.cattery")).arch.normalizeZInTraining);
    ArchConfig both = arch;
    both.normalizeZInTraining = true;
    saveModel(path("both.cattery"), both, LatentSpace(both.latentDim, 1), Provenance{},
              test::tinyGenerator(both));
    QVERIFY(loadModel(path("both.cattery")).arch == both);
    QVERIFY(!(both == arch));
    arch.normalizeZ = false;
    saveModel(path("asgiven.cattery"), arch, LatentSpace(arch.latentDim, 1), Provenance{},
              test::tinyGenerator(arch));
    QVERIFY(!loadModel(path("asgiven.cattery")).arch.normalizeZ);
    // A value of the wrong type is an error naming the field, not a guess.
    c.meta["arch"]["normalize_z"] = "yes";
    writeContainer(path("wrong.cattery"), c);
    const QString error = loadError(path("wrong.cattery"));
    QVERIFY2(error.contains(QStringLiteral("normalize_z")), qPrintable(error));
    c.meta["arch"]["normalize_z"] = true;
    c.meta["arch"]["normalize_z_in_training"] = 1;
    writeContainer(path("wrong.cattery"), c);
    const QString inTraining = loadError(path("wrong.cattery"));
    QVERIFY2(inTraining.contains(QStringLiteral("normalize_z_in_training")),
             qPrintable(inTraining));
}

void TestModelFile::valueCountsMatchBuiltNetworks() {
    // The counts a file is checked against before anything is built are the built networks' own.
    std::vector<ArchConfig> archs(5, test::tinyArch());
    archs[1].separable = true;
    archs[2].batchNorm = false;
    archs[3].zSkip = false;
    archs[4].imageSize = 48;
    archs[4].repeats = 1;
    archs[4].nf = 3;
    archs[4].ndf = 5;
    for (const ArchConfig& arch : archs) {
        Generator g(arch);
        Discriminator d(arch);
        QCOMPARE(generatorValueCount(arch), valuesOf(*g));
        QCOMPARE(discriminatorValueCount(arch, false), valuesOf(*d));
        d->addHead();
        QCOMPARE(discriminatorValueCount(arch, true), valuesOf(*d));
        d->addPatchHead();
        QCOMPARE(discriminatorValueCount(arch, true, true), valuesOf(*d));
        d->addLatentHead();
        QCOMPARE(discriminatorValueCount(arch, true, true, true), valuesOf(*d));
        Discriminator withoutCells(arch);
        withoutCells->addHead();
        withoutCells->addLatentHead();
        QCOMPARE(discriminatorValueCount(arch, true, false, true), valuesOf(*withoutCells));
        QCOMPARE(encoderValueCount(arch), valuesOf(*Encoder(arch)));
    }
}

void TestModelFile::hostileSizesClaimLittleMemory() {
    // A small file that declares the largest architecture: refused before a generator of about
    // 2 GB is built for weights it does not hold.
    const Container c =
        test::claimingLargestNetworks(readContainer(test::saveTinyModel(path("small.cattery"))));
    writeContainer(path("claims.cattery"), c);
    const std::int64_t before = peakBytes();
    const QString error = loadError(path("claims.cattery"));
    QVERIFY2(error.contains(QStringLiteral("weights are missing")), qPrintable(error));
    // A 1 GiB file (sparse: it takes no disk) whose sizes agree but whose checksum is wrong: read
    // in pieces to find that, never held whole.
    const std::string header = "{\"kind\":\"model\",\"meta\":{},\"records\":[]}";
    std::string head("CATTERY\x1a", 8);
    const auto put = [&head](auto value) {
        char b[sizeof value];
        std::memcpy(b, &value, sizeof value);
        head.append(b, sizeof value);
    };
    constexpr std::uint64_t kLarge = 1ULL << 30;
    put(std::uint32_t{kFormatVersion});
    put(std::uint64_t{header.size()});
    head += header;
    put(std::uint64_t{kLarge - head.size() - 8 - 4});
    spit(path("large.cattery"), head);
    QVERIFY(::truncate(path("large.cattery").c_str(), static_cast<off_t>(kLarge)) == 0);
    const QString large = loadError(path("large.cattery"));
    QVERIFY2(large.contains(QStringLiteral("checksum")), qPrintable(large));
    const std::int64_t grown = peakBytes() - before;
    QVERIFY2(grown < (128LL << 20), qPrintable(QStringLiteral("grew %1 MB").arg(grown >> 20)));
}

void TestModelFile::encodersRoundTrip() {
    const ArchConfig arch = test::tinyArch();
    torch::manual_seed(4);
    Discriminator d(arch);
    d->addHead();
    // A discriminator's records load into an encoder: the same parts under the same names.
    Container weights;
    storeModule(weights, "discriminator", *d);
    Encoder encoder(arch);
    loadModule(weights, "discriminator", *encoder, "memory");
    encoder->eval();
    const torch::Tensor x = torch::rand({2, 3, 32, 32}) * 2 - 1;
    torch::NoGradGuard noGrad;
    const std::vector<torch::Tensor> seen = encoder->features(x);
    QCOMPARE(seen.size(), std::size_t{5});  // four scales and the code
    QVERIFY(torch::allclose(seen.back(), d->encode(x)));
    QCOMPARE(seen[0].size(-1), 32);
    QCOMPARE(seen[3].size(-1), 4);

    // Saved with a model and read back; a model without one reads as having none.
    saveModel(path("enc.cattery"), arch, LatentSpace(arch.latentDim, 3), Provenance{},
              test::tinyGenerator(arch), encoder);
    Model withOne = loadModel(path("enc.cattery"));
    QVERIFY(!withOne.encoder.is_empty());
    QVERIFY(torch::equal(withOne.encoder->features(x).back(), seen.back()));
    QVERIFY(
        QString::fromStdString(describeModel(withOne)).contains(QStringLiteral("by what it sees")));
    QVERIFY(loadModel(test::saveTinyModel(path("none.cattery"))).encoder.is_empty());

    // A header that promises an encoder the records do not hold is refused, naming the part.
    Container c = readContainer(path("enc.cattery"));
    Container noRecords = c;
    auto& records = noRecords.records;
    records.erase(std::remove_if(records.begin(), records.end(),
                                 [](const Record& r) { return r.name.rfind("encoder.", 0) == 0; }),
                  records.end());
    writeContainer(path("promised.cattery"), noRecords);
    const QString missing = loadError(path("promised.cattery"));
    QVERIFY2(missing.contains(QStringLiteral("encoder weights are missing")), qPrintable(missing));
    Container notFlag = c;
    notFlag.meta["encoder"] = "yes";
    writeContainer(path("flag.cattery"), notFlag);
    const QString flag = loadError(path("flag.cattery"));
    QVERIFY2(flag.contains(QStringLiteral("encoder")), qPrintable(flag));

    // With the latent head of a run that trained one: its records load into the encoder's head,
    // which proposes what the discriminator's does, and the model file keeps it.
    d->addLatentHead();
    Container headWeights;
    storeModule(headWeights, "discriminator", *d);
    Encoder proposer(arch);
    proposer->addLatentHead();
    loadModule(headWeights, "discriminator", *proposer, "memory");
    proposer->eval();
    const torch::Tensor proposed = proposer->proposeLatents(proposer->features(x).back());
    QVERIFY(torch::allclose(proposed, d->proposeLatents(d->encode(x))));
    QCOMPARE(parameterCount(*proposer) - parameterCount(*encoder),
             encoderValueCount(arch, true) - encoderValueCount(arch));
    saveModel(path("head.cattery"), arch, LatentSpace(arch.latentDim, 3), Provenance{},
              test::tinyGenerator(arch), proposer);
    Model withHead = loadModel(path("head.cattery"));
    QVERIFY(withHead.encoder->hasLatentHead());
    QVERIFY(torch::equal(withHead.encoder->proposeLatents(withHead.encoder->features(x).back()),
                         proposed));
    QVERIFY(
        QString::fromStdString(describeModel(withHead)).contains(QStringLiteral("latent head")));
    QVERIFY(!withOne.encoder->hasLatentHead());
    // A header and records that disagree about the head are refused, before anything is built.
    Container headless = readContainer(path("head.cattery"));
    headless.meta.erase("encoder_latent_head");
    writeContainer(path("headless.cattery"), headless);
    const QString extra = loadError(path("headless.cattery"));
    QVERIFY2(extra.contains(QStringLiteral("encoder")), qPrintable(extra));
    Container promisedHead = c;
    promisedHead.meta["encoder_latent_head"] = true;
    writeContainer(path("nohead.cattery"), promisedHead);
    const QString short_ = loadError(path("nohead.cattery"));
    QVERIFY2(short_.contains(QStringLiteral("encoder")), qPrintable(short_));
}

QTEST_APPLESS_MAIN(TestModelFile)
#include "test_modelfile.moc"
