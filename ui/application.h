#pragma once

// The application's name, version, organisation (where settings are kept), desktop file and icon:
// set once at start-up by the window's main() and by the development tools that open the window.
namespace cattery::ui {

void describeApplication();

}  // namespace cattery::ui
