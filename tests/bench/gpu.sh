#!/usr/bin/env bash
# Run on a GPU machine that has PyTorch (with its LibTorch), CMake and ninja but no Qt or OpenCV:
# builds the torch-only core and cattery-gpu-check against that LibTorch, checks rendering and
# training on CUDA against the CPU, times them against the Python reference (eager and
# torch.compile) on the same card, and with STEPS=N trains a model there. Results: $OUT.
# Prepare here first with tests/bench/gpu-prepare.sh and carry build-vendor along.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-$PWD/gpu-results}
mkdir -p "$out"
prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
extra=()
if [[ -d build-vendor/include ]]; then
  extra+=(-DCATTERY_VENDOR_DIR="$PWD/build-vendor/include")
fi
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCATTERY_TORCH_ONLY=ON \
  -DCATTERY_BUILD_BENCHMARKS=ON -DCATTERY_USE_CCACHE=OFF -DCMAKE_PREFIX_PATH="$prefix" "${extra[@]}" \
  > "$out/cmake.log" 2>&1 || { tail -40 "$out/cmake.log"; exit 1; }
cmake --build build-gpu --target cattery-gpu-check > "$out/build.log" 2>&1 || { tail -40 "$out/build.log"; exit 1; }
data=${DATA:-}
if [[ -z $data && -f build-vendor/data.tensor ]]; then
  data=build-vendor/data.tensor
fi
args=(--out "$out" --size "${SIZE:-64}")
[[ -n $data ]] && args+=(--data "$data")
[[ -n ${STEPS:-} ]] && args+=(--train-steps "$STEPS")
build-gpu/tests/bench/cattery-gpu-check "${args[@]}" 2>&1 | tee "$out/gpu-check.txt"
