#pragma once

#include <string>

#include <torch/torch.h>

#include "core/io/container.h"

namespace cattery {

// Copies a CPU copy of the tensor into a record.
Record toRecord(const std::string& name, const torch::Tensor& tensor);
// A new CPU tensor holding the record's values.
torch::Tensor toTensor(const Record& record);

// Every parameter and buffer of the module, under "prefix.name".
void storeModule(Container& container, const std::string& prefix, const torch::nn::Module& module);
// Copies stored values into the module's parameters and buffers (on whatever device they live).
// Throws ModelFileError naming `path` for a missing record, a wrong shape or non-finite weights.
void loadModule(const Container& container, const std::string& prefix, torch::nn::Module& module,
                const std::string& path);

// A record that must exist, with the given type and shape rank; throws ModelFileError otherwise.
// Throws ModelFileError as loadModule would, without changing `module`: the records are checked
// against its weights' shapes and types (a module of the same architecture serves as the pattern).
void checkModuleRecords(const Container& container, const std::string& prefix,
                        const torch::nn::Module& module, const std::string& path);

// How many values the records named "<prefix>.<...>" hold in all.
std::int64_t heldValueCount(const Container& container, const std::string& prefix);
// Throws ModelFileError unless the records named "<prefix>.<...>" hold `values` values in all: a
// file is checked against the network its header describes before that network is built, so a
// small file cannot make Cattery allocate a large network for weights it does not have.
void requireValueCount(const Container& container, const std::string& prefix, std::int64_t values,
                       const std::string& path);

const Record& requireRecord(const Container& container, const std::string& name, DType dtype,
                            const std::string& path);

// An Adam optimiser's state as plain numbers: for the i-th parameter (in the optimiser's order)
// that has a state, "<prefix>.<i>.step" (a whole number) and "<prefix>.<i>.exp_avg",
// "<prefix>.<i>.exp_avg_sq" (the parameter's shape). Its settings (learning rate, betas) are the
// run's configuration and are not stored here. Read back without LibTorch's archive loader, which
// would parse and run TorchScript from the file.
void storeAdamState(Container& container, const std::string& prefix,
                    const torch::optim::Adam& adam);
// Whether the container holds a state stored that way under `prefix`.
bool hasAdamState(const Container& container, const std::string& prefix);
// Replaces the optimiser's state with the stored one, every value checked against its parameter
// (shape, finite, a step from 0 to `maxStep`) before anything changes. Throws ModelFileError naming
// `path`.
void loadAdamState(const Container& container, const std::string& prefix, torch::optim::Adam& adam,
                   std::int64_t maxStep, const std::string& path);

}  // namespace cattery
