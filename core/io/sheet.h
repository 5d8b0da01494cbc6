#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "core/io/sheetlayout.h"
#include "core/runtime/image.h"

namespace cattery {

// Writes a PNG atomically; `metadata` (if not null) is stored inside it as a tEXt chunk.
void writePng(const std::string& path, const RgbImage& image,
              const nlohmann::json& metadata = nullptr);
// Reads a PNG back to RGB; throws FileError naming the file and the problem.
RgbImage readPng(const std::string& path);
// The metadata stored by writePng, or null if the PNG has none. Throws FileError if not a PNG.
nlohmann::json readPngMetadata(const std::string& path);

void writeSheet(const std::string& path, const std::vector<RgbImage>& images,
                const SheetOptions& options, const nlohmann::json& metadata = nullptr);

// Sheet metadata that lets a sheet be reopened: what view made it, from which model, and the
// exact latents of every cell (row-major).
nlohmann::json sheetMetadata(const std::string& view, const std::string& model,
                             const torch::Tensor& latents, int columns);
// The most latents a sheet may hold when read back (a 100 x 100 sheet).
inline constexpr std::size_t kMaxSheetLatents = 10000;
// The latents stored by sheetMetadata; throws FileError naming `path` if they are malformed: not a
// list of lists of numbers of one length within the latent dimensions a model may have, more
// than kMaxSheetLatents, or not finite.
torch::Tensor sheetLatents(const nlohmann::json& metadata, const std::string& path);

// What a sheet holds, checked: its latents, the view that made it ("" when unknown or not a
// string) and its columns (0 when unknown or out of range).
struct SheetContents {
    torch::Tensor latents;
    std::string view;
    int columns = 0;
};
SheetContents readSheet(const std::string& path);

}  // namespace cattery
