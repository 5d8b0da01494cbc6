#pragma once

#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <optional>

#include "core/runtime/precision.h"

namespace cattery {

// Autocast to bfloat16 for the lifetime of the guard, on the thread that makes it: convolutions and
// matrix products run in bf16, reductions and batch norm stay in float32.
class Bf16Autocast {
public:
    explicit Bf16Autocast(const torch::Device& device) : m_type(device.type()) {
        m_wasEnabled = enabled(m_type);
        m_previous = dtype(m_type);
        setDtype(m_type, at::kBFloat16);
        setEnabled(m_type, true);
        at::autocast::increment_nesting();
    }
    ~Bf16Autocast() {
        if (at::autocast::decrement_nesting() == 0) {
            at::autocast::clear_cache();
        }
        setEnabled(m_type, m_wasEnabled);
        setDtype(m_type, m_previous);
    }
    Bf16Autocast(const Bf16Autocast&) = delete;
    Bf16Autocast& operator=(const Bf16Autocast&) = delete;

private:
    // LibTorch 2.4 named autocast's switches per device type; 1.13 has one pair per device.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    static bool enabled(at::DeviceType t) {
        return at::autocast::is_autocast_enabled(t);
    }
    static void setEnabled(at::DeviceType t, bool on) {
        at::autocast::set_autocast_enabled(t, on);
    }
    static at::ScalarType dtype(at::DeviceType t) {
        return at::autocast::get_autocast_dtype(t);
    }
    static void setDtype(at::DeviceType t, at::ScalarType d) {
        at::autocast::set_autocast_dtype(t, d);
    }
#else
    static bool enabled(at::DeviceType t) {
        return t == at::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
    }
    static void setEnabled(at::DeviceType t, bool on) {
        t == at::kCUDA ? at::autocast::set_enabled(on) : at::autocast::set_cpu_enabled(on);
    }
    static at::ScalarType dtype(at::DeviceType t) {
        return t == at::kCUDA ? at::autocast::get_autocast_gpu_dtype()
                              : at::autocast::get_autocast_cpu_dtype();
    }
    static void setDtype(at::DeviceType t, at::ScalarType d) {
        t == at::kCUDA ? at::autocast::set_autocast_gpu_dtype(d)
                       : at::autocast::set_autocast_cpu_dtype(d);
    }
#endif

    at::DeviceType m_type;
    bool m_wasEnabled = false;
    at::ScalarType m_previous = at::kBFloat16;
};

// Runs what happens while it lives in the precision given: a Bf16Autocast for bf16, nothing for
// float32.
class PrecisionScope {
public:
    PrecisionScope(Precision precision, const torch::Device& device) {
        if (precision == Precision::BFloat16) {
            m_autocast.emplace(device);
        }
    }

private:
    std::optional<Bf16Autocast> m_autocast;
};

}  // namespace cattery
