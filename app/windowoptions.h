#pragma once

// The window's command line: `cattery` reads it, and cattery-cli writes it into the window's
// manual page, so the two never differ.
namespace cattery::app {

inline constexpr const char* kWindowSummary =
    "Explore and train small generative models of cartoon cats.";
inline constexpr const char* kWindowPathName = "path";
inline constexpr const char* kWindowPathHelp =
    "A model file (.cattery) to open, a Cattery sheet (.png) to open with its cats, or a folder "
    "of images to train on (the Train view opens on it). Without it, the last model used, or "
    "the shipped default model.";

}  // namespace cattery::app
