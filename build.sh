#!/usr/bin/env bash
# The two everyday commands: `./build.sh run` sets up, builds and opens Cattery on the shipped default
# model; `./build.sh test` sets up, builds and runs every test. Both install missing Debian packages.
set -euo pipefail
cd "$(dirname "$0")"

build_dir=${CATTERY_BUILD_DIR:-build}
jobs=${CATTERY_JOBS:-$(nproc)}

setup_and_build() {
  ./packaging/install-deps.sh
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
  cmake --build "$build_dir" --parallel "$jobs"
}

case "${1:-}" in
  run)
    setup_and_build -DCATTERY_BUILD_TESTS=OFF
    if [[ -n "${DISPLAY:-}" || -n "${WAYLAND_DISPLAY:-}" ]]; then
      exec "$build_dir/app/cattery"
    fi
    # No display (a server, a container): show the default model's work as a sheet instead.
    out=${CATTERY_OUT:-$PWD/cattery-sample.png}
    "$build_dir/app/cattery-cli" info
    "$build_dir/app/cattery-cli" sample --count 25 --seed 1 --scale 2 --out "$out"
    echo "No display found, so the window was not opened."
    echo "A sheet of 25 random samples from the default model is at: $out"
    ;;
  test)
    export CATTERY_WITH_SANITIZERS=1 CATTERY_WITH_TESTS=1
    setup_and_build -DCATTERY_BUILD_TESTS=ON
    (cd "$build_dir" && ctest --output-on-failure --timeout 1800)
    # The same suite built with AddressSanitizer and UndefinedBehaviorSanitizer (clang), then each
    # fuzz target for a minute (tests/fuzz/run.sh takes longer runs).
    cmake --preset sanitize
    cmake --build --preset sanitize --parallel "$jobs"
    ctest --preset sanitize
    tests/fuzz/run.sh "${CATTERY_FUZZ_SECONDS:-60}"
    ;;
  *)
    echo "usage: $0 run|test" >&2
    echo "  run   install what is missing, build, and open the window on the default model" >&2
    echo "  test  install what is missing, build, run every test (also under the sanitizers)," >&2
    echo "        and fuzz each reader for a minute" >&2
    exit 2
    ;;
esac
