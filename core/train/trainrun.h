#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/model/archconfig.h"
#include "core/train/distributed.h"
#include "core/train/resume.h"
#include "core/train/trainconfig.h"
#include "core/train/trainer.h"

// Starting a training run, new or continued from a checkpoint: the one way both front ends do it.
namespace cattery {

struct RunRequest {
    // A new run's architecture and settings (a resumed run takes both from its checkpoint). The
    // batch is each process's: with N processes the run's batch is N times config.batchSize.
    ArchConfig arch;
    TrainConfig config;
    std::string precision = "auto";  // "auto", "fp32" or "bf16"; a resumed run keeps its own
                                     // unless `changes.precision` is set
    std::string device = "auto";     // "auto", "cpu" or "cuda"
    std::string resumeFrom;          // a checkpoint to continue ("": a new run)
    ResumeChanges changes;           // what a resumed run changes
    std::string name;                // the model's display name ("": the file name)
    // The files the run will write (model, checkpoint): each is checked to be writable before
    // anything is loaded, so a wrong folder is an error at once and not after the first hour.
    std::vector<std::string> outputs;
    // Where the images are read from (a folder or a data set file; "" for procedural cats):
    // neither output may replace it, nor the model file the checkpoint resumed.
    std::string imagesFrom;
    // The processes training the run together (worldFromEnvironment()); one alone by default.
    WorldSettings world;
    // How long a process waits for the others at any one point before it names who is missing.
    std::chrono::seconds worldTimeout{300};
};

struct StartedRun {
    // Declared before the trainer, which uses it: the trainer goes first.
    std::unique_ptr<World> world;  // null for a run in one process
    std::unique_ptr<Trainer> trainer;
    torch::Device device = torch::kCPU;
    std::string description;            // one line: what is trained on what, where, how
    std::vector<std::string> warnings;  // other images than the checkpoint's, emulated bf16, ...
};

// The images to train on, at the given size (a resumed run's size comes from its checkpoint).
using ImageLoader = std::function<Dataset(int imageSize)>;

// Checks the settings before anything is loaded (ConfigError), joins the other processes when
// there are any, reads a checkpoint's header before its images (ModelFileError), loads the
// images, and builds the trainer with the resume changes applied all at once. Throws DataError
// when no image is usable, WorldError when the processes cannot meet.
StartedRun startRun(const RunRequest& request, const ImageLoader& loadImages);

// The request as a file, with the folder or data set file the images come from: what the window
// hands the processes it starts (`cattery-cli train --run FILE`), so that each trains the very
// run rank 0 does. The world's settings are not in it: each process reads its own.
void writeRunRequest(const std::string& path, const RunRequest& request, const std::string& images);
// Reads one back, every setting checked as a new run's; ConfigError or FileError naming `path`.
RunRequest readRunRequest(const std::string& path, std::string& images);

// Which generator the model file of the run holds, in plain words: "the best-scoring generator,
// step 2500, SWD 110.2", "the generator of step 9500, SWD 118.0 ...: within 15 % of the recent
// best" (describeKeptScore) or "the last step's generator".
std::string describeKept(const Trainer& trainer);
// "score at step 500: SWD 183.2, diversity 0.84 (the best so far)": a scored step's line.
std::string describeScore(const StepStats& scored);
// "scored 20 times in 12 s, 3.1 % of the training time": what scoring cost the run.
std::string describeScoring(const Trainer& trainer);

}  // namespace cattery
