#!/usr/bin/env bash
# Installs the Debian 12 packages Cattery needs to build, test and run; only what is missing.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config ccache
  qt6-base-dev qt6-charts-dev libqt6opengl6-dev libxkbcommon-dev libgl-dev
  libtorch-dev libgloo-dev libopenblas0-pthread
  libopencv-dev libfmt-dev nlohmann-json3-dev libcli11-dev
  xvfb xauth
)
# The test command also builds the suite and the fuzz targets with clang and its sanitizers.
if [[ ${CATTERY_WITH_TESTS:-0} == 1 ]]; then
  # The package test builds the .deb (CPack asks dpkg-shlibdeps and file for its dependencies),
  # reads its manual pages and the JSON that cattery-cli writes.
  packages+=(dpkg-dev file man-db python3)
fi
if [[ ${CATTERY_WITH_SANITIZERS:-0} == 1 ]]; then
  packages+=(clang libclang-rt-14-dev)
fi
if [[ ${CATTERY_WITH_PYTHON_REFERENCE:-0} == 1 ]]; then
  packages+=(python3-torch)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "cattery: all build dependencies are installed."
  exit 0
fi

echo "cattery: installing missing packages: ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "cattery: these packages are missing and this script is not running as root." >&2
    echo "Run as root:  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
else
  SUDO=()
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "cattery: dependencies installed."
