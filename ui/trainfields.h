#pragma once

#include <functional>
#include <vector>

#include "core/model/archconfig.h"
#include "core/train/trainconfig.h"

namespace cattery::ui {

// One number or switch of the Train view's form. The form is built from the table of them,
// trainFields(): each range lies within what validate() accepts, from the same constants, so the
// form cannot hold a value a run refuses.
struct TrainField {
    enum class Kind { Integer, Real, Switch };
    const char* key = "";  // the widget's object name: scripts and tests find it by this
    const char* label = "";
    const char* tip = "";
    Kind kind = Kind::Integer;
    double lo = 0;  // the range (a switch: 0 and 1)
    double hi = 1;
    int decimals = 0;
    double step = 1;
    bool advanced = true;           // folded under Advanced until asked for
    bool checkpoint = true;         // the checkpoint's own when resuming: shown and locked
    const char* special = nullptr;  // a number's text for its lowest value ("Automatic")
    // Where the value lives in a run's settings.
    std::function<double(const ArchConfig&, const TrainConfig&)> get;
    std::function<void(ArchConfig&, TrainConfig&, double)> set;
};

const std::vector<TrainField>& trainFields();

}  // namespace cattery::ui
