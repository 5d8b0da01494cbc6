#include "core/io/tensorio.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <memory>
#include <sstream>
#include <type_traits>

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
    if (record.bytes.size() != static_cast<std::size_t>(t.numel()) * t.element_size()) {
        // decodeContainer never gives such a record; one made in memory could.
        throw std::logic_error(fmt::format("record '{}' holds {} bytes for its shape's {}",
                                           record.name, record.bytes.size(),
                                           t.numel() * t.element_size()));
    }
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

std::int64_t heldValueCount(const Container& container, const std::string& prefix) {
    const std::string start = prefix + ".";
    std::int64_t held = 0;
    for (const Record& r : container.records) {
        if (r.name.rfind(start, 0) == 0) {
            held += static_cast<std::int64_t>(r.bytes.size() / elementSize(r.dtype));
        }
    }
    return held;
}

void requireValueCount(const Container& container, const std::string& prefix, std::int64_t values,
                       const std::string& path) {
    const std::int64_t held = heldValueCount(container, prefix);
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

namespace {

// The parameters in the optimiser's order, every group in turn.
std::vector<torch::Tensor> adamParameters(const torch::optim::Adam& adam) {
    std::vector<torch::Tensor> all;
    for (const auto& group : adam.param_groups()) {
        all.insert(all.end(), group.params().begin(), group.params().end());
    }
    return all;
}

// The key under which Adam keeps a parameter's state: the address of its tensor, written out
// (LibTorch 1.x) or as it is (2.x).
template <typename State>
typename State::key_type stateKey(const torch::Tensor& parameter) {
    using Key = typename State::key_type;
    if constexpr (std::is_same_v<Key, std::string>) {
        std::ostringstream key;
        key << static_cast<const void*>(parameter.unsafeGetTensorImpl());
        return key.str();
    } else {
        return static_cast<Key>(parameter.unsafeGetTensorImpl());
    }
}

template <typename State>
const torch::optim::AdamParamState* findState(const State& state, const torch::Tensor& p) {
    const auto found = state.find(stateKey<State>(p));
    return found == state.end()
               ? nullptr
               : static_cast<const torch::optim::AdamParamState*>(found->second.get());
}

// Adam's moments as records: each one's name, whether every state holds it, and how to reach it.
using AdamState = torch::optim::AdamParamState;
struct Moment {
    const char* name;
    bool always;  // max_exp_avg_sq is kept only with AMSGrad
    torch::Tensor (*get)(const AdamState&);
    void (*set)(AdamState&, const torch::Tensor&);
};
constexpr Moment kMoments[] = {
    {"exp_avg", true, [](const AdamState& s) { return s.exp_avg(); },
     [](AdamState& s, const torch::Tensor& t) { s.exp_avg(t); }},
    {"exp_avg_sq", true, [](const AdamState& s) { return s.exp_avg_sq(); },
     [](AdamState& s, const torch::Tensor& t) { s.exp_avg_sq(t); }},
    {"max_exp_avg_sq", false, [](const AdamState& s) { return s.max_exp_avg_sq(); },
     [](AdamState& s, const torch::Tensor& t) { s.max_exp_avg_sq(t); }},
};

}  // namespace

void storeAdamState(Container& container, const std::string& prefix,
                    const torch::optim::Adam& adam) {
    const std::vector<torch::Tensor> parameters = adamParameters(adam);
    for (std::size_t i = 0; i < parameters.size(); ++i) {
        const torch::optim::AdamParamState* s = findState(adam.state(), parameters[i]);
        if (s == nullptr) {
            continue;  // no step has given this parameter a gradient yet
        }
        const std::string at = fmt::format("{}.{}.", prefix, i);
        container.records.push_back(toRecord(at + "step", torch::tensor(s->step())));
        for (const Moment& moment : kMoments) {
            if (const torch::Tensor value = moment.get(*s); value.defined()) {
                container.records.push_back(toRecord(at + moment.name, value));
            }
        }
    }
}

bool hasAdamState(const Container& container, const std::string& prefix) {
    const std::string start = prefix + ".";
    return std::any_of(container.records.begin(), container.records.end(),
                       [&](const Record& r) { return r.name.rfind(start, 0) == 0; });
}

void loadAdamState(const Container& container, const std::string& prefix, torch::optim::Adam& adam,
                   std::int64_t maxStep, const std::string& path) {
    const std::vector<torch::Tensor> parameters = adamParameters(adam);
    // Every record must belong to a parameter: "<prefix>.<i>.<field>" with i in range.
    const std::string start = prefix + ".";
    for (const Record& r : container.records) {
        if (r.name.rfind(start, 0) != 0) {
            continue;
        }
        const std::string rest = r.name.substr(start.size());
        std::size_t index = 0;
        const auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), index);
        const std::string field(end, rest.data() + rest.size());
        const bool known = field == ".step" || field == ".exp_avg" || field == ".exp_avg_sq" ||
                           field == ".max_exp_avg_sq";
        if (error != std::errc() || end == rest.data() || index >= parameters.size() || !known) {
            throw ModelFileError(path, fmt::format("the optimiser state holds '{}', which belongs "
                                                   "to no weight of the network",
                                                   briefly(r.name)));
        }
    }
    // Read and checked whole before the optimiser changes.
    std::vector<std::pair<torch::Tensor, std::unique_ptr<torch::optim::AdamParamState>>> states;
    for (std::size_t i = 0; i < parameters.size(); ++i) {
        const std::string at = fmt::format("{}.{}.", prefix, i);
        const Record* step = container.find(at + "step");
        if (step == nullptr) {
            continue;
        }
        if (step->dtype != DType::Int64 || !step->shape.empty()) {
            throw ModelFileError(path, fmt::format("the optimiser state '{}step' is not a whole "
                                                   "number",
                                                   at));
        }
        const std::int64_t steps = toTensor(*step).item<std::int64_t>();
        if (steps < 0 || steps > maxStep) {
            throw ModelFileError(path, fmt::format("the optimiser state '{}step' is {}, out of "
                                                   "range (0 to {})",
                                                   at, steps, maxStep));
        }
        auto state = std::make_unique<torch::optim::AdamParamState>();
        state->step(steps);
        const torch::Tensor& p = parameters[i];
        for (const Moment& m : kMoments) {
            const char* moment = m.name;
            const Record* r = container.find(at + moment);
            if (r == nullptr) {
                if (!m.always) {
                    continue;
                }
                throw ModelFileError(
                    path, fmt::format("the optimiser state '{}{}' is missing", at, moment));
            }
            const torch::Tensor value = toTensor(*r);
            if (r->dtype != DType::Float32 || value.sizes() != p.sizes()) {
                throw ModelFileError(
                    path, fmt::format("the optimiser state '{}{}' has shape [{}], expected [{}]",
                                      at, moment, fmt::join(value.sizes(), ", "),
                                      fmt::join(p.sizes(), ", ")));
            }
            if (!torch::isfinite(value).all().item<bool>()) {
                throw ModelFileError(path, fmt::format("the optimiser state '{}{}' holds NaN or "
                                                       "infinite values",
                                                       at, moment));
            }
            m.set(*state, value.to(p.device(), p.scalar_type()));
        }
        states.emplace_back(p, std::move(state));
    }
    auto& held = adam.state();
    held.clear();
    for (auto& [p, state] : states) {
        held[stateKey<std::decay_t<decltype(held)>>(p)] = std::move(state);
    }
}

}  // namespace cattery
