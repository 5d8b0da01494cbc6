#pragma once

#include <cstdint>
#include <string>

#include <torch/torch.h>
#include <nlohmann/json_fwd.hpp>

#include "core/io/container.h"
#include "core/latent/latentspace.h"
#include "core/model/archconfig.h"
#include "core/model/networks.h"

namespace cattery {

// Where a model came from, stored in every model file.
struct Provenance {
    std::string name;             // display name ("Chubby"); empty means the file name
    std::string dataset;          // folder or data set file it was trained on
    std::string datasetHash;      // CRC-32 of the preprocessed images, hex
    std::int64_t imageCount = 0;  // images in the data set
    std::int64_t steps = 0;       // training steps taken
    double wallSeconds = 0.0;     // training time
    std::string device;           // where it trained ("cpu (2 threads)", "cuda: NVIDIA H100")
    std::uint64_t seed = 0;       // the run's seed
    std::string date;             // ISO 8601, UTC
    std::string programVersion;   // Cattery version that wrote it
    // Which of the run's generators the file holds: "best" (the one its scores chose: the
    // latest within kKeepLaterWithin of the run's recent best) or "last" (the last step's);
    // empty in files written before runs were scored.
    std::string kept;
    std::int64_t keptStep = 0;  // the step that generator comes from
    double swd = -1.0;          // its score while training, SWD x 1e3 (negative: not scored)
    double diversity = -1.0;    // and its variety over the held-out images'
    // How it trained: on how many processes together, and the whole batch of each step (the sum
    // of theirs); 0 in files written before runs recorded it.
    int processes = 1;
    std::int64_t batch = 0;
};

// A generator ready to render, with everything the file said about it.
struct Model {
    std::string path;
    ArchConfig arch;
    LatentSpace latent;
    Provenance provenance;
    Generator generator{nullptr};
    // The discriminator's way down, where the file has one (written by runs since it was kept;
    // every checkpoint has one): finding a picture's latent compares what it sees. Null otherwise.
    Encoder encoder{nullptr};
    bool checkpoint = false;  // the file is a training checkpoint (it also holds D and optimisers)
    std::int64_t step = 0;    // training step of a checkpoint
    std::string displayName() const;
};

nlohmann::json toJson(const ArchConfig& arch);
ArchConfig archFromJson(const nlohmann::json& json);  // throws ConfigError
nlohmann::json toJson(const Provenance& provenance);
Provenance provenanceFromJson(const nlohmann::json& json);

std::string utcNow();

// The model part shared by model files and checkpoints, with the encoder when there is one.
Container modelContainer(const std::string& kind, const ArchConfig& arch, const LatentSpace& latent,
                         const Provenance& provenance, const Generator& generator,
                         const Encoder& encoder = Encoder{nullptr});
// Validates and builds the model from a decoded container (kind "model" or "checkpoint").
Model modelFromContainer(const Container& container, const std::string& path,
                         const torch::Device& device);

void saveModel(const std::string& path, const ArchConfig& arch, const LatentSpace& latent,
               const Provenance& provenance, const Generator& generator,
               const Encoder& encoder = Encoder{nullptr});
// Throws ModelFileError naming the file and the problem; never returns a half-loaded model.
Model loadModel(const std::string& path, const torch::Device& device = torch::kCPU);

// A multi-line summary for `cattery-cli info`.
std::string describeModel(const Model& model);

}  // namespace cattery
