#include <torch/torch.h>
#include <QtTest/QtTest>

#include <filesystem>
#include <fstream>

#include <sys/resource.h>

#include <fmt/format.h>
#include <opencv2/imgcodecs.hpp>

#include "core/data/dataset.h"
#include "core/data/imagefolder.h"
#include "core/errors.h"
#include "core/io/container.h"
#include "testutil.h"

using namespace cattery;
namespace fs = std::filesystem;

namespace {

void spit(const fs::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string be32(std::uint32_t v) {
    return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
            static_cast<char>(v)};
}

// A PNG whose header claims a huge image; it has no pixel data worth decoding.
std::string hugePngHeader(std::uint32_t w, std::uint32_t h) {
    std::string ihdr = "IHDR" + be32(w) + be32(h) + std::string("\x08\x02\x00\x00\x00", 5);
    std::string png = "\x89PNG\r\n\x1a\n";
    png += be32(13) + ihdr + be32(crc32(ihdr.data(), ihdr.size()));
    const std::string iend = "IEND";
    png += be32(0) + iend + be32(crc32(iend.data(), 4));
    return png;
}

// The most memory this process has held so far, in bytes.
std::int64_t peakBytes() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return std::int64_t{usage.ru_maxrss} * 1024;
}

const SkippedFile* skipped(const Dataset& d, const std::string& name) {
    for (const auto& s : d.report.skipped) {
        if (fs::path(s.path).filename() == name) {
            return &s;
        }
    }
    return nullptr;
}

}  // namespace

class TestImageFolder : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void everyTwemojiLoads();
    void badFilesAreReportedAndGoodOnesLoad();
    void formatsAndDepths();
    void emptyAndMissingFolders();
    void recursiveAndFit();
    void datasetFileRoundTrips();
    void augmentationKeepsRangeAndWhiteBackground();
    void hostileFoldersAreClearErrors();
    void hostileImagesClaimLittleMemory();
    void alphaIsCompositedOnWhite();

private:
    fs::path dir(const char* name) const { return fs::path(m_tmp.path().toStdString()) / name; }
    QString m_twemoji;
    QTemporaryDir m_tmp;
};

void TestImageFolder::initTestCase() {
    m_twemoji = test::sharedDir() + QStringLiteral("/datasets/twemoji64/images");
    if (!QDir(m_twemoji).exists()) {
        QSKIP(qPrintable(QStringLiteral("the shared emoji data set is not at %1").arg(m_twemoji)));
    }
}

void TestImageFolder::everyTwemojiLoads() {
    FolderOptions o;
    o.size = 64;
    std::size_t calls = 0;
    const Dataset d =
        readImageFolder(m_twemoji.toStdString(), o, [&](std::size_t, std::size_t) { ++calls; });
    const auto files = QDir(m_twemoji).entryList(QDir::Files).size();
    QCOMPARE(d.count(), files);
    QCOMPARE(int(calls), files);
    QVERIFY2(d.report.skipped.empty(),
             d.report.skipped.empty() ? "" : d.report.skipped[0].reason.c_str());
    QCOMPARE(d.images.sizes(), (std::vector<int64_t>{files, 3, 64, 64}));
    // Emoji sit on transparent backgrounds: composited on white, most corners are white.
    const torch::Tensor corner = d.images.select(2, 0).select(2, 0);  // N x 3
    const double whiteCorners = (corner.amin(1) == 255).to(torch::kFloat32).mean().item<double>();
    QVERIFY2(whiteCorners > 0.9, qPrintable(QString::number(whiteCorners)));
    // And they are not blank: there is colour in the middle.
    QVERIFY(d.images.to(torch::kFloat32).mean().item<double>() < 220.0);
}

void TestImageFolder::badFilesAreReportedAndGoodOnesLoad() {
    const fs::path d = dir("bad");
    fs::create_directories(d / "subfolder");
    const fs::path emoji(m_twemoji.toStdString());
    fs::copy_file(emoji / "1f431.png", d / "cat.png");
    fs::copy_file(emoji / "1f408.png", d / "cat2.png");
    spit(d / "zero.png", "");
    spit(d / "notes.png", "this is a text file wearing a .png name\n");
    spit(d / "readme.txt", "just text\n");
    const std::string real =
        test::sharedDir().toStdString() + "/datasets/twemoji64/images/1f431.png";
    const std::string bytes = readWholeFile(real, 1 << 20);
    spit(d / "truncated.png", bytes.substr(0, bytes.size() / 2));
    // A chunk claiming 1.6 GB in a small file: the decoder would allocate what it claims.
    spit(d / "lying.png",
         std::string(bytes).insert(8 + 25, std::string("\x60\x60\x00\x00zTXtcattery\0\0", 17)));
    spit(d / "huge.png", hugePngHeader(30000, 30000));
    cv::imwrite((d / "tiny.png").string(), cv::Mat(1, 1, CV_8UC3, cv::Scalar(1, 2, 3)));
    spit(d / "anim.gif", std::string("GIF89a\x20\x00\x20\x00\x00\x00\x00;", 14));
    std::string flipped = bytes;
    flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0xff);
    flipped[flipped.size() / 2 + 1] = static_cast<char>(flipped[flipped.size() / 2 + 1] ^ 0xff);
    spit(d / "corrupt.png", flipped);

    FolderOptions o;
    o.size = 32;
    const Dataset data = readImageFolder(d.string(), o);
    QVERIFY(data.count() == 2 || data.count() == 3);  // a damaged deflate stream may still decode
    QCOMPARE(data.images.size(2), 32);
    struct Expect {
        const char* file;
        const char* reason;
    };
    for (const Expect& e : {Expect{"zero.png", "empty"}, Expect{"notes.png", "not a PNG"},
                            Expect{"readme.txt", "not an image"},
                            Expect{"truncated.png", "truncated"}, Expect{"lying.png", "truncated"},
                            Expect{"huge.png", "too large"}, Expect{"tiny.png", "too small"},
                            Expect{"anim.gif", "GIF"}, Expect{"subfolder", "subfolder"}}) {
        const SkippedFile* s = skipped(data, e.file);
        QVERIFY2(s != nullptr, e.file);
        QVERIFY2(QString::fromStdString(s->reason).contains(QString::fromLatin1(e.reason)),
                 qPrintable(QStringLiteral("%1: %2").arg(QString::fromLatin1(e.file),
                                                         QString::fromStdString(s->reason))));
    }
    QVERIFY(skipped(data, "cat.png") == nullptr);
    QVERIFY(skipped(data, "cat2.png") == nullptr);
    // requireImages is content with a folder that has some good images.
    requireImages(data);
}

void TestImageFolder::formatsAndDepths() {
    const fs::path d = dir("formats");
    fs::create_directories(d);
    cv::Mat bgr(40, 40, CV_8UC3, cv::Scalar(255, 0, 0));  // pure blue in OpenCV's BGR order
    cv::imwrite((d / "blue.jpg").string(), bgr);
    cv::imwrite((d / "blue.bmp").string(), bgr);
    cv::imwrite((d / "blue.tiff").string(), bgr);
    cv::Mat grey16(40, 40, CV_16UC1, cv::Scalar(65535));
    cv::imwrite((d / "white16.png").string(), grey16);
    cv::Mat transparent(40, 40, CV_8UC4, cv::Scalar(0, 0, 0, 0));
    cv::imwrite((d / "clear.png").string(), transparent);
    cv::Mat wide(20, 60, CV_8UC3, cv::Scalar(0, 0, 0));
    cv::imwrite((d / "wide.png").string(), wide);

    FolderOptions o;
    o.size = 16;
    const Dataset data = readImageFolder(d.string(), o);
    QVERIFY2(data.report.skipped.empty(),
             data.report.skipped.empty() ? "" : data.report.skipped[0].reason.c_str());
    QCOMPARE(data.count(), 6);
    auto index = [&](const char* name) {
        for (size_t i = 0; i < data.report.used.size(); ++i) {
            if (fs::path(data.report.used[i]).filename() == name)
                return int64_t(i);
        }
        return int64_t(-1);
    };
    for (const char* name : {"blue.jpg", "blue.bmp", "blue.tiff"}) {
        const torch::Tensor img = data.images[index(name)].to(torch::kInt32);
        QVERIFY2(img[2].min().item<int>() > 240 && img[0].max().item<int>() < 15,
                 name);  // RGB order
    }
    QCOMPARE(data.images[index("white16.png")].min().item<int>(), 255);
    QCOMPARE(data.images[index("clear.png")].min().item<int>(), 255);  // transparent -> white
    // A wide image is padded with white above and below, black in the middle.
    const torch::Tensor wideImg = data.images[index("wide.png")];
    QCOMPARE(wideImg[0][0][0].item<int>(), 255);
    QCOMPARE(wideImg[0][8][8].item<int>(), 0);
}

void TestImageFolder::emptyAndMissingFolders() {
    fs::create_directories(dir("empty"));
    const Dataset empty = readImageFolder(dir("empty").string(), FolderOptions{});
    QCOMPARE(empty.count(), 0);
    try {
        requireImages(empty);
        QFAIL("an empty folder was accepted");
    } catch (const DataError& e) {
        QVERIFY(QString::fromStdString(e.what()).contains(QStringLiteral("empty")));
    }
    QVERIFY_THROWS_EXCEPTION(DataError, readImageFolder(dir("missing").string(), FolderOptions{}));
    spit(dir("afile"), "x");
    QVERIFY_THROWS_EXCEPTION(DataError, readImageFolder(dir("afile").string(), FolderOptions{}));
    fs::create_directories(dir("allbad"));
    spit(dir("allbad") / "a.png", "");
    spit(dir("allbad") / "b.jpg", "nope");
    const Dataset bad = readImageFolder(dir("allbad").string(), FolderOptions{});
    try {
        requireImages(bad);
        QFAIL("a folder of bad files was accepted");
    } catch (const DataError& e) {
        QVERIFY(QString::fromStdString(e.what()).contains(QStringLiteral("no usable images")));
    }
}

void TestImageFolder::recursiveAndFit() {
    const fs::path d = dir("nested");
    fs::create_directories(d / "inner");
    cv::Mat tall(60, 20, CV_8UC3, cv::Scalar(0, 0, 0));
    cv::imwrite((d / "top.png").string(), tall);
    cv::imwrite((d / "inner" / "deep.png").string(), tall);
    FolderOptions o;
    o.size = 16;
    QCOMPARE(readImageFolder(d.string(), o).count(), 1);
    o.recursive = true;
    QCOMPARE(readImageFolder(d.string(), o).count(), 2);
    o.fit = Fit::Crop;
    const Dataset cropped = readImageFolder(d.string(), o);
    QCOMPARE(cropped.images.max().item<int>(), 0);  // cropped to the black middle
}

void TestImageFolder::datasetFileRoundTrips() {
    Dataset d = test::blobDataset(10, 32);
    d.report.skipped.push_back({"x.png", "empty file (0 bytes)"});
    const std::string path = (dir("") / "blobs.data").string();
    saveDataset(path, d);
    const Dataset back = loadDataset(path);
    QVERIFY(torch::equal(back.images, d.images));
    QCOMPARE(back.hash, d.hash);
    QCOMPARE(back.report.skipped.size(), size_t(1));
    QCOMPARE(back.report.skipped[0].reason, std::string("empty file (0 bytes)"));
    const Dataset smaller = resizedDataset(back, 16);
    QCOMPARE(smaller.imageSize(), 16);
    QVERIFY(smaller.hash != d.hash);
    QVERIFY_THROWS_EXCEPTION(ModelFileError,
                             loadDataset(test::saveTinyModel((dir("") / "m.cattery").string())));
}

void TestImageFolder::augmentationKeepsRangeAndWhiteBackground() {
    const Dataset d = test::blobDataset(16, 32);
    Rng rng(3);
    AugmentConfig flipOnly;
    flipOnly.rotateDegrees = flipOnly.scaleJitter = flipOnly.shift = 0;
    const torch::Tensor x = toUnitRange(d.images);
    const torch::Tensor flipped = augment(x, flipOnly, rng);
    for (int i = 0; i < 16; ++i) {
        QVERIFY(torch::equal(flipped[i], x[i]) || torch::equal(flipped[i], x[i].flip({2})));
    }
    AugmentConfig strong;
    strong.rotateDegrees = 30;
    strong.shift = 0.2;
    const torch::Tensor a = augment(torch::full({4, 3, 32, 32}, -1.0), strong, rng);
    QVERIFY(a.min().item<float>() >= -1.0001f);
    QVERIFY(a.max().item<float>() <= 1.0001f);
    QVERIFY(a.max().item<float>() > 0.99f);  // uncovered corners became white
    Rng r1(9), r2(9);
    QVERIFY(torch::equal(augmentedBatch(d.images, 8, AugmentConfig{}, r1),
                         augmentedBatch(d.images, 8, AugmentConfig{}, r2)));
}

void TestImageFolder::hostileFoldersAreClearErrors() {
    // 20,000 empty files at 1024x1024: nothing is claimed for files that never decode (space
    // for all of them would be 63 GB).
    const fs::path empties = dir("empties");
    fs::create_directories(empties);
    for (int i = 0; i < 20000; ++i) {
        spit(empties / fmt::format("{:05}.png", i), "");
    }
    FolderOptions big;
    big.size = 1024;
    const Dataset none = readImageFolder(empties.string(), big);
    QCOMPARE(none.count(), 0);
    QCOMPARE(none.report.skipped.size(), size_t(20000));
    // More images than a data set can hold at the size asked: a clear error before the memory is
    // taken. (A data set file resized past the limit likewise.)
    Dataset many = test::blobDataset(1, 16);
    many.images = many.images.expand({1500, 3, 16, 16});
    try {
        resizedDataset(many, 1024);
        QFAIL("a data set larger than a data set file can hold was made");
    } catch (const DataError& e) {
        QVERIFY2(QString::fromStdString(e.what()).contains(QStringLiteral("smaller size")),
                 e.what());
    }
    // A file and a folder whose names are not UTF-8 (an old archive's) are read and saved.
    const fs::path odd = dir("caf\xe9");
    fs::create_directories(odd);
    cv::imwrite((odd / "\xff\xfe.png").string(), cv::Mat(20, 20, CV_8UC3, cv::Scalar(0, 0, 255)));
    spit(odd / "\xfe.png", "broken");
    FolderOptions small;
    small.size = 16;
    const Dataset read = readImageFolder(odd.string(), small);
    QCOMPARE(read.count(), 1);
    QCOMPARE(read.report.skipped.size(), size_t(1));
    const std::string file = (dir("") / "odd.data").string();
    saveDataset(file, read);
    const Dataset back = loadDataset(file);
    QVERIFY(torch::equal(back.images, read.images));
    QVERIFY(QString::fromStdString(back.source).contains(QChar(0xfffd)));
}

void TestImageFolder::hostileImagesClaimLittleMemory() {
    // Elongated images shrink before they are padded (or are cropped before they shrink): an
    // 8 x 60,000 PNG of a few kilobytes once made a 60,000 x 60,000 canvas (10 GB).
    const fs::path d = dir("elongated");
    fs::create_directories(d);
    cv::imwrite((d / "tall.png").string(), cv::Mat(60000, 8, CV_8UC3, cv::Scalar(0, 0, 0)));
    cv::imwrite((d / "wide.png").string(), cv::Mat(8, 40000, CV_8UC4, cv::Scalar(0, 0, 0, 255)));
    // Headers that claim what would cost gigabytes decoded, refused before decoding: a Radiance
    // HDR (once unchecked: 6.3 GB), and an HDR and a float TIFF under the pixel limit.
    spit(d / "bomb.hdr",
         "#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 16384 +X 16384\n" + std::string(64, '\x02'));
    spit(d / "bomb2.hdr", "#?RGBE\n\n-Y 6000 +X 6000\n" + std::string(64, '\x02'));
    const std::string tiffEntries =
        std::string("\x00\x01\x03\x00\x01\x00\x00\x00\x70\x17\x00\x00", 12) +  // width 6000
        std::string("\x01\x01\x03\x00\x01\x00\x00\x00\x70\x17\x00\x00", 12) +  // height 6000
        std::string("\x02\x01\x03\x00\x01\x00\x00\x00\x20\x00\x00\x00", 12) +  // 32 bits
        std::string("\x15\x01\x03\x00\x01\x00\x00\x00\x04\x00\x00\x00", 12);   // 4 samples
    spit(d / "float.tiff",
         std::string("II*\x00\x08\x00\x00\x00\x04\x00", 10) + tiffEntries + std::string(16, '\0'));
    spit(d / "picture.jp2",
         std::string("\x00\x00\x00\x0cjP  \r\n\x87\n", 12) + std::string(64, '\0'));

    const std::int64_t before = peakBytes();
    FolderOptions o;
    o.size = 64;
    const Dataset padded = readImageFolder(d.string(), o);
    o.fit = Fit::Crop;
    const Dataset cropped = readImageFolder(d.string(), o);
    const std::int64_t grown = peakBytes() - before;
    QVERIFY2(grown < (200LL << 20), qPrintable(QStringLiteral("grew %1 MB").arg(grown >> 20)));

    QCOMPARE(padded.count(), 2);
    QCOMPARE(cropped.count(), 2);
    const torch::Tensor tall = padded.images[0];  // "tall.png" sorts after "picture.jp2" et al.
    QCOMPARE(fs::path(padded.report.used[0]).filename().string(), std::string("tall.png"));
    QCOMPARE(tall[0][0][0].item<int>(), 255);       // white beside the thin black column
    QCOMPARE(tall[0][32][31].item<int>(), 0);       // the column itself, one pixel wide
    QCOMPARE(cropped.images.max().item<int>(), 0);  // cropped to the black middle
    for (const auto& [file, reason] :
         {std::pair{"bomb.hdr", "too large"}, std::pair{"bomb2.hdr", "too large to decode"},
          std::pair{"float.tiff", "too large to decode"},
          std::pair{"picture.jp2", "not an image"}}) {
        const SkippedFile* s = skipped(padded, file);
        QVERIFY2(s != nullptr, file);
        QVERIFY2(s->reason.find(reason) != std::string::npos, s->reason.c_str());
    }
}

void TestImageFolder::alphaIsCompositedOnWhite() {
    // Partly transparent pixels are blended with white after resizing, as they would be before it:
    // the result is the blend of the colour and white, weighted by alpha (within rounding).
    const fs::path d = dir("alpha");
    fs::create_directories(d);
    cv::Mat bgra(40, 40, CV_8UC4, cv::Scalar(255, 0, 0, 128));  // half-transparent blue
    cv::imwrite((d / "half.png").string(), bgra);
    cv::Mat deep(40, 40, CV_16UC4, cv::Scalar(0, 0, 0, 16383));  // quarter-opaque black, 16-bit
    cv::imwrite((d / "grey.png").string(), deep);
    cv::Mat hdr(40, 40, CV_32FC3, cv::Scalar(0.0f, 1.0f, 0.5f));
    cv::imwrite((d / "light.hdr").string(), hdr);
    FolderOptions o;
    o.size = 16;
    const Dataset data = readImageFolder(d.string(), o);
    QVERIFY2(data.report.skipped.empty(),
             data.report.skipped.empty() ? "" : data.report.skipped[0].reason.c_str());
    QCOMPARE(data.count(), 3);
    auto near = [](const torch::Tensor& channel, int expected) {
        return (channel.to(torch::kInt32) - expected).abs().max().item<int>() <= 2;
    };
    const torch::Tensor grey = data.images[0];   // grey.png
    const torch::Tensor half = data.images[1];   // half.png
    const torch::Tensor light = data.images[2];  // light.hdr (RGB 0.5, 1, 0)
    const int blended = static_cast<int>(std::lround(255.0 * (1.0 - 128.0 / 255.0)));
    QVERIFY(near(half[0], blended) && near(half[1], blended) && near(half[2], 255));
    QVERIFY(near(grey[0], 191) && near(grey[1], 191) && near(grey[2], 191));
    QVERIFY(near(light[1], 255) && near(light[2], 0));
    QVERIFY(light[0].to(torch::kInt32).min().item<int>() > 100);  // HDR is stored as RGBE
}

QTEST_APPLESS_MAIN(TestImageFolder)
#include "test_imagefolder.moc"
