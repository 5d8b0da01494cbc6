#include <torch/torch.h>
#include <QtTest/QtTest>

#include <fstream>
#include <functional>

#include "core/errors.h"
#include "core/io/container.h"
#include "core/io/sheet.h"
#include "core/io/video.h"

#include <opencv2/videoio.hpp>
#include "core/latent/latentspace.h"

using namespace cattery;

namespace {

RgbImage solid(int w, int h, std::uint8_t r, std::uint8_t g, std::uint8_t b) {
    RgbImage img;
    img.width = w;
    img.height = h;
    for (int i = 0; i < w * h; ++i) {
        img.pixels.insert(img.pixels.end(), {r, g, b});
    }
    return img;
}

}  // namespace

class TestSheet : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void layoutAndScale_data();
    void layoutAndScale();
    void pixelsLandInTheirCells();
    void latentsRoundTripThroughThePng();
    void badSheetsAreClearErrors();
    void hostileSheetsAreClearErrors();
    void trainingAnimationIsAVideo();
    void aCancelledAnimationLeavesNothing();
    void labelAndCaptionBands();

private:
    QTemporaryDir m_dir;
};

void TestSheet::layoutAndScale_data() {
    QTest::addColumn<int>("count");
    QTest::addColumn<int>("columns");
    QTest::addColumn<int>("padding");
    QTest::addColumn<int>("scale");
    QTest::addColumn<int>("width");
    QTest::addColumn<int>("height");
    QTest::newRow("25 auto") << 25 << 0 << 2 << 1 << 5 * 8 + 6 * 2 << 5 * 8 + 6 * 2;
    QTest::newRow("25 x2") << 25 << 0 << 2 << 2 << 5 * 16 + 6 * 4 << 5 * 16 + 6 * 4;
    QTest::newRow("4 in a row") << 4 << 4 << 0 << 1 << 32 << 8;
    QTest::newRow("7 auto") << 7 << 0 << 1 << 8 << 3 * 64 + 4 * 8 << 3 * 64 + 4 * 8;
    QTest::newRow("1") << 1 << 0 << 3 << 1 << 8 + 6 << 8 + 6;
}

void TestSheet::layoutAndScale() {
    QFETCH(int, count);
    QFETCH(int, columns);
    QFETCH(int, padding);
    QFETCH(int, scale);
    QFETCH(int, width);
    QFETCH(int, height);
    std::vector<RgbImage> images(static_cast<size_t>(count), solid(8, 8, 10, 20, 30));
    SheetOptions o;
    o.columns = columns;
    o.padding = padding;
    o.scale = scale;
    const RgbImage sheet = composeSheet(images, o);
    QCOMPARE(sheet.width, width);
    QCOMPARE(sheet.height, height);
}

void TestSheet::pixelsLandInTheirCells() {
    std::vector<RgbImage> images{solid(4, 4, 255, 0, 0), solid(4, 4, 0, 255, 0),
                                 solid(4, 4, 0, 0, 255)};
    images[1].pixels[0] = 7;  // top-left pixel of the second image
    SheetOptions o;
    o.columns = 2;
    o.padding = 1;
    o.scale = 2;
    o.background = {9, 9, 9};
    const RgbImage s = composeSheet(images, o);
    auto at = [&](int x, int y) { return &s.pixels[size_t(y * s.width + x) * 3]; };
    QCOMPARE(int(at(0, 0)[0]), 9);    // padding
    QCOMPARE(int(at(2, 2)[0]), 255);  // first image
    const int x1 = 2 + 8 + 2;         // second column starts after pad, image, pad
    QCOMPARE(int(at(x1, 2)[0]), 7);   // its top-left pixel, scaled to 2x2
    QCOMPARE(int(at(x1 + 1, 3)[0]), 7);
    QCOMPARE(int(at(x1 + 2, 2)[1]), 255);
    QCOMPARE(int(at(2, 2 + 8 + 2)[2]), 255);  // third image on the second row
    QCOMPARE(int(at(x1, 2 + 8 + 2)[0]), 9);   // the empty cell is background
}

void TestSheet::latentsRoundTripThroughThePng() {
    const std::string path = m_dir.filePath(QStringLiteral("sheet.png")).toStdString();
    const torch::Tensor z = sampleLatents(6, 100, 3);
    std::vector<RgbImage> images(6, solid(8, 8, 1, 2, 3));
    nlohmann::json meta = sheetMetadata("batch", "Chubby \u00e9", z, 3);
    meta["seed"] = 3;
    writeSheet(path, images, SheetOptions{3, 2, 1, {255, 255, 255}}, meta);
    const RgbImage back = readPng(path);
    QCOMPARE(back.width, 3 * 8 + 4 * 2);
    QCOMPARE(back.height, 2 * 8 + 3 * 2);
    const nlohmann::json read = readPngMetadata(path);
    QCOMPARE(read.at("view").get<std::string>(), std::string("batch"));
    QCOMPARE(read.at("model").get<std::string>(), std::string("Chubby \u00e9"));
    QCOMPARE(read.at("seed").get<int>(), 3);
    QVERIFY(torch::equal(sheetLatents(read, path), z));
    // The PNG stays a valid image for every other program: OpenCV decodes it.
    QCOMPARE(int(back.pixels[size_t(2 * back.width + 2) * 3]), 1);
}

void TestSheet::badSheetsAreClearErrors() {
    const std::string plain = m_dir.filePath(QStringLiteral("plain.png")).toStdString();
    writePng(plain, solid(4, 4, 0, 0, 0));
    QVERIFY(readPngMetadata(plain).is_null());
    QVERIFY_THROWS_EXCEPTION(FileError, sheetLatents(readPngMetadata(plain), plain));
    const std::string text = m_dir.filePath(QStringLiteral("text.png")).toStdString();
    std::ofstream(text) << "not a png at all";
    QVERIFY_THROWS_EXCEPTION(FileError, readPngMetadata(text));
    QVERIFY_THROWS_EXCEPTION(FileError, readPng(text));
    QVERIFY_THROWS_EXCEPTION(ConfigError, composeSheet({}, SheetOptions{}));
    QVERIFY_THROWS_EXCEPTION(
        ConfigError, composeSheet({solid(4, 4, 0, 0, 0), solid(5, 4, 0, 0, 0)}, SheetOptions{}));
    SheetOptions big;
    big.scale = 9;
    QVERIFY_THROWS_EXCEPTION(ConfigError, composeSheet({solid(4, 4, 0, 0, 0)}, big));
}

void TestSheet::hostileSheetsAreClearErrors() {
    const std::string path = m_dir.filePath(QStringLiteral("hostile.png")).toStdString();
    const RgbImage image = solid(4, 4, 9, 9, 9);
    const nlohmann::json three = nlohmann::json::array({0.5, -1.0, 2.0});
    // Wrongly typed fields that only say how to show the sheet are ignored, not thrown.
    writePng(path, image,
             {{"format", "cattery-sheet"}, {"view", 5}, {"columns", "x"}, {"latents", {three}}});
    const SheetContents typed = readSheet(path);
    QCOMPARE(typed.latents.size(0), 1);
    QCOMPARE(typed.view, std::string());
    QCOMPARE(typed.columns, 0);
    // Latents that are not numbers, too many of them, or of a length no model has: FileError.
    const auto expectError = [&](const nlohmann::json& latents, const char* expected) {
        writePng(path, image, {{"format", "cattery-sheet"}, {"latents", latents}});
        try {
            readSheet(path);
            QFAIL(qPrintable(QStringLiteral("accepted: %1").arg(QLatin1String(expected))));
        } catch (const FileError& e) {
            const QString message = QString::fromStdString(e.what());
            QVERIFY2(message.contains(QLatin1String(expected)) &&
                         message.contains(QString::fromStdString(path)),
                     qPrintable(message));
        }
    };
    expectError(nlohmann::json::array({nlohmann::json::array({0.5, nullptr, 2.0})}), "malformed");
    expectError(nlohmann::json::array({nlohmann::json::array({0.5, "x", 2.0})}), "malformed");
    expectError(nlohmann::json::array({three, nlohmann::json::array({1.0})}), "differing");
    expectError(nlohmann::json::array({nlohmann::json::array({1.0, 2.0})}), "numbers");
    expectError(nlohmann::json(kMaxSheetLatents + 1, three), "at most");
    expectError(nlohmann::json::object(), "empty");
    // A number too large for a float, written by hand into the text chunk: not finite, refused.
    // So is metadata nested a million levels deep (it would overflow the stack), and the message
    // says so.
    const auto withText = [&](const std::string& text) {
        writePng(path, image, {{"format", "cattery-sheet"}});
        std::string bytes = readWholeFile(path, 1 << 20);
        const std::size_t at = bytes.find("tEXtcattery");
        QVERIFY(at != std::string::npos);
        const std::size_t start = at - 4;
        const auto byte = [&](std::size_t i) { return std::uint32_t(std::uint8_t(bytes[i])); };
        const std::uint32_t length =
            byte(start) << 24 | byte(start + 1) << 16 | byte(start + 2) << 8 | byte(start + 3);
        const std::string body = std::string("tEXtcattery", 11) + '\0' + text;
        std::string chunk;
        const auto be32 = [&chunk](std::uint32_t v) {
            for (const int shift : {24, 16, 8, 0}) {
                chunk += static_cast<char>(v >> shift);
            }
        };
        be32(static_cast<std::uint32_t>(body.size() - 4));
        chunk += body;
        be32(crc32(body.data(), body.size()));
        bytes.replace(start, 12 + length, chunk);
        std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    };
    withText("{\"format\": \"cattery-sheet\", \"latents\": [[1e999, 0, 0]]}");
    QVERIFY_THROWS_EXCEPTION(FileError, readSheet(path));
    withText(std::string(1000000, '[') + std::string(1000000, ']'));
    try {
        readSheet(path);
        QFAIL("deeply nested metadata was accepted");
    } catch (const FileError& e) {
        QVERIFY2(QString::fromStdString(e.what()).contains(QStringLiteral("nested")), e.what());
    }
    // 1,024 cats at scale 8 with padding 64 once asked for 3.8 GB: refused, with the limit named.
    SheetOptions huge;
    huge.scale = 8;
    huge.padding = 64;
    try {
        sheetGeometry(1024, 64, 64, huge);
        QFAIL("a sheet far over the pixel limit was laid out");
    } catch (const ConfigError& e) {
        QVERIFY2(QString::fromStdString(e.what()).contains(QStringLiteral("megapixels")), e.what());
    }
    // So many images that an int would wrap: refused, not wrapped into a small sheet.
    QVERIFY_THROWS_EXCEPTION(ConfigError, sheetGeometry(2'000'000'000, 4096, 4096, SheetOptions{}));
    // A PNG whose header claims 30,000 x 30,000 pixels is refused before it is decoded.
    std::string png = readWholeFile(path, 1 << 24);
    for (int i = 0; i < 8; ++i) {
        png[16 + i] = "\x00\x00\x75\x30\x00\x00\x75\x30"[i];
    }
    const std::string claims = m_dir.filePath(QStringLiteral("claims.png")).toStdString();
    std::ofstream(claims, std::ios::binary)
        .write(png.data(), static_cast<std::streamsize>(png.size()));
    try {
        readPng(claims);
        QFAIL("a PNG over the pixel limit was decoded");
    } catch (const FileError& e) {
        QVERIFY2(QString::fromStdString(e.what()).contains(QStringLiteral("too large")), e.what());
    }
    // A chunk that claims 1.6 GB in a file of a few hundred bytes (the PNG decoder would allocate
    // what it claims): refused as truncated before anything is decoded.
    std::string lying = readWholeFile(path, 1 << 24);
    lying.insert(8 + 25, std::string("\x60\x60\x00\x00zTXtcattery\0\0", 17));
    std::ofstream(claims, std::ios::binary | std::ios::trunc)
        .write(lying.data(), static_cast<std::streamsize>(lying.size()));
    for (const auto& read : {std::function<void()>([&] { readPng(claims); }),
                             std::function<void()>([&] { readSheet(claims); })}) {
        try {
            read();
            QFAIL("a PNG chunk longer than its file was read");
        } catch (const FileError& e) {
            QVERIFY2(QString::fromStdString(e.what()).contains(QStringLiteral("truncated")) &&
                         QString::fromStdString(e.what()).contains(QString::fromStdString(claims)),
                     e.what());
        }
    }
    // Bytes after the end of a PNG are no reason to refuse it.
    std::string trailing = readWholeFile(path, 1 << 24) + "trailing bytes";
    std::ofstream(claims, std::ios::binary | std::ios::trunc)
        .write(trailing.data(), static_cast<std::streamsize>(trailing.size()));
    QCOMPARE(readPng(claims).width, 4);
}

void TestSheet::trainingAnimationIsAVideo() {
    std::vector<RgbImage> frames;
    for (int i = 0; i < 6; ++i) {
        frames.push_back(solid(33, 20, static_cast<std::uint8_t>(40 * i), 0, 200));
    }
    const std::string path = m_dir.filePath(QStringLiteral("training.mp4")).toStdString();
    writeVideo(path, frames, 4.0, 3);
    cv::VideoCapture video(path);
    QVERIFY(video.isOpened());
    QCOMPARE(static_cast<int>(video.get(cv::CAP_PROP_FRAME_WIDTH)), 100);  // 99, made even
    QCOMPARE(static_cast<int>(video.get(cv::CAP_PROP_FRAME_HEIGHT)), 60);
    int count = 0;
    cv::Mat frame;
    while (video.read(frame)) {
        ++count;
    }
    QCOMPARE(count, 6);
    QVERIFY(!QFile::exists(QString::fromStdString(path + ".part.mp4")));

    QVERIFY_THROWS_EXCEPTION(FileError, writeVideo(path, {}, 4.0));
    frames.push_back(solid(8, 8, 0, 0, 0));
    QVERIFY_THROWS_EXCEPTION(FileError, writeVideo(path, frames, 4.0));
    frames.pop_back();
    QVERIFY_THROWS_EXCEPTION(FileError, writeVideo("/no/such/dir/x.mp4", frames, 4.0));
}

void TestSheet::aCancelledAnimationLeavesNothing() {
    const std::vector<RgbImage> frames(5, solid(16, 16, 10, 20, 30));
    const std::string path = m_dir.filePath(QStringLiteral("kept.mp4")).toStdString();
    { std::ofstream(path) << "what was here"; }
    std::vector<std::size_t> heard;
    const bool written = writeVideo(path, frames, 4.0, 1, [&heard](std::size_t done, std::size_t) {
        heard.push_back(done);
        return done < 2;
    });
    QVERIFY(!written);
    QCOMPARE(heard, (std::vector<std::size_t>{0, 1, 2}));
    QVERIFY(!QFile::exists(QString::fromStdString(path + ".part.mp4")));
    std::ifstream in(path);
    std::string kept;
    std::getline(in, kept);
    QCOMPARE(kept, std::string("what was here"));

    heard.clear();
    QVERIFY(writeVideo(path, frames, 4.0, 1, [&heard](std::size_t done, std::size_t total) {
        heard.push_back(done);
        return total == 5;
    }));
    QCOMPARE(heard.back(), std::size_t{5});
}

void TestSheet::labelAndCaptionBands() {
    SheetOptions o;
    o.columns = 2;
    o.padding = 1;
    o.scale = 2;
    o.labelHeight = 5;
    o.captionHeight = 7;
    const SheetGeometry g = sheetGeometry(3, 4, 4, o);
    QCOMPARE(g.columns, 2);
    QCOMPARE(g.rows, 2);
    QCOMPARE(g.width, 2 + 2 * (8 + 2));
    QCOMPARE(g.height, 2 + 2 * (8 + 5 + 2) + 7);
    QCOMPARE(g.cells[2].y, 2 + 8 + 5 + 2);  // the second row starts below the first's labels
    QCOMPARE(g.labels[1].x, g.cells[1].x);
    QCOMPARE(g.labels[1].y, g.cells[1].y + 8);
    QCOMPARE(g.caption.y, g.height - 7);
    o.background = {1, 2, 3};
    const RgbImage s = composeSheet(std::vector<RgbImage>(3, solid(4, 4, 200, 0, 0)), o);
    QCOMPARE(s.width, g.width);
    QCOMPARE(s.height, g.height);
    const auto at = [&s](int x, int y) { return int(s.pixels[size_t(y * s.width + x) * 3]); };
    QCOMPARE(at(g.cells[0].x, g.cells[0].y), 200);
    QCOMPARE(at(g.labels[0].x, g.labels[0].y), 1);  // the band is left for the label
    QCOMPARE(at(0, g.caption.y + 3), 1);

    SheetOptions tall;
    tall.labelHeight = 65;
    QVERIFY_THROWS_EXCEPTION(ConfigError, sheetGeometry(1, 4, 4, tall));
    QVERIFY_THROWS_EXCEPTION(ConfigError, sheetGeometry(0, 4, 4, SheetOptions{}));
    QVERIFY_THROWS_EXCEPTION(ConfigError, sheetGeometry(1, 0, 4, SheetOptions{}));
}

QTEST_APPLESS_MAIN(TestSheet)
#include "test_sheet.moc"
