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
// The latents stored by sheetMetadata; throws FileError naming `path` if they are malformed.
torch::Tensor sheetLatents(const nlohmann::json& metadata, const std::string& path);

}  // namespace cattery
