#include "core/io/tensorio.h"

#include <cstring>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/errors.h"

namespace cattery {
namespace {

DType dtypeOf(const torch::Tensor& t) {
    switch (t.scalar_type()) {
        case torch::kFloat32:
            return DType::Float32;
        case torch::kInt64:
            return DType::Int64;
        case torch::kUInt8:
            return DType::UInt8;
        case torch::kFloat64:
            return DType::Float64;
        default:
            throw Error(
                fmt::format("cannot store a tensor of type {}", c10::toString(t.scalar_type())));
    }
}

torch::ScalarType scalarTypeOf(DType t) {
    switch (t) {
        case DType::Float32:
            return torch::kFloat32;
        case DType::Int64:
            return torch::kInt64;
        case DType::UInt8:
            return torch::kUInt8;
        case DType::Float64:
            return torch::kFloat64;
    }
    return torch::kUInt8;
}

}  // namespace

Record toRecord(const std::string& name, const torch::Tensor& tensor) {
    const torch::Tensor t = tensor.detach().cpu().contiguous();
    Record r;
    r.name = name;
    r.dtype = dtypeOf(t);
    r.shape.assign(t.sizes().begin(), t.sizes().end());
    r.bytes.assign(static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size());
    return r;
}

torch::Tensor toTensor(const Record& record) {
    torch::Tensor t =
        torch::empty(record.shape, torch::TensorOptions().dtype(scalarTypeOf(record.dtype)));
    if (!record.bytes.empty()) {
        std::memcpy(t.data_ptr(), record.bytes.data(), record.bytes.size());
    }
    return t;
}

void storeModule(Container& container, const std::string& prefix, const torch::nn::Module& module) {
    for (const auto& item : module.named_parameters(true)) {
        container.records.push_back(toRecord(prefix + "." + item.key(), item.value()));
    }
    for (const auto& item : module.named_buffers(true)) {
        container.records.push_back(toRecord(prefix + "." + item.key(), item.value()));
    }
}

namespace {

// The value of the record "<prefix>.<key>", checked to fit `target` (shape and type) and, for
// floating-point weights, to be finite. Throws ModelFileError naming `path`.
torch::Tensor checkedValue(const Container& container, const std::string& prefix,
                           const std::string& key, const torch::Tensor& target,
                           const std::string& path) {
    const std::string name = prefix + "." + key;
    const Record* r = container.find(name);
    if (r == nullptr) {
        throw ModelFileError(path, fmt::format("weights '{}' are missing: the file does not "
                                               "match its own architecture",
                                               name));
    }
    torch::Tensor value = toTensor(*r);
    if (value.sizes() != target.sizes() || value.scalar_type() != target.scalar_type()) {
        throw ModelFileError(
            path, fmt::format("weights '{}' have shape [{}], expected [{}]", name,
                              fmt::join(value.sizes(), ", "), fmt::join(target.sizes(), ", ")));
    }
    if (value.is_floating_point() && !torch::isfinite(value).all().item<bool>()) {
        throw ModelFileError(path, fmt::format("weights '{}' hold NaN or infinite values", name));
    }
    return value;
}

}  // namespace

void loadModule(const Container& container, const std::string& prefix, torch::nn::Module& module,
                const std::string& path) {
    torch::NoGradGuard noGrad;
    for (auto& item : module.named_parameters(true)) {
        item.value().copy_(checkedValue(container, prefix, item.key(), item.value(), path));
    }
    for (auto& item : module.named_buffers(true)) {
        item.value().copy_(checkedValue(container, prefix, item.key(), item.value(), path));
    }
}

void checkModuleRecords(const Container& container, const std::string& prefix,
                        const torch::nn::Module& module, const std::string& path) {
    for (const auto& item : module.named_parameters(true)) {
        checkedValue(container, prefix, item.key(), item.value(), path);
    }
    for (const auto& item : module.named_buffers(true)) {
        checkedValue(container, prefix, item.key(), item.value(), path);
    }
}

void requireValueCount(const Container& container, const std::string& prefix, std::int64_t values,
                       const std::string& path) {
    const std::string start = prefix + ".";
    std::int64_t held = 0;
    for (const Record& r : container.records) {
        if (r.name.rfind(start, 0) == 0) {
            held += static_cast<std::int64_t>(r.bytes.size() / elementSize(r.dtype));
        }
    }
    if (held < values) {
        throw ModelFileError(path, fmt::format("its {} weights are missing or cut short ({} values "
                                               "where its architecture needs {})",
                                               prefix, held, values));
    }
    if (held > values) {
        throw ModelFileError(path, fmt::format("its {} weights hold {} values where its "
                                               "architecture needs {}: the file does not match "
                                               "its own description",
                                               prefix, held, values));
    }
}

const Record& requireRecord(const Container& container, const std::string& name, DType dtype,
                            const std::string& path) {
    const Record* r = container.find(name);
    if (r == nullptr) {
        throw ModelFileError(path, fmt::format("'{}' is missing", name));
    }
    if (r->dtype != dtype) {
        throw ModelFileError(path, fmt::format("'{}' has the wrong element type", name));
    }
    return *r;
}

std::string archiveBytes(const torch::optim::Optimizer& optimizer) {
    torch::serialize::OutputArchive archive;
    optimizer.save(archive);
    std::ostringstream out;
    archive.save_to(out);
    return out.str();
}

void loadArchiveBytes(torch::optim::Optimizer& optimizer, const std::string& bytes,
                      const torch::Device& device, const std::string& path) {
    try {
        std::istringstream in(bytes);
        torch::serialize::InputArchive archive;
        archive.load_from(in, device);
        optimizer.load(archive);
    } catch (const c10::Error& e) {
        throw ModelFileError(path, fmt::format("the optimiser state cannot be read ({})",
                                               e.what_without_backtrace()));
    }
}

}  // namespace cattery
