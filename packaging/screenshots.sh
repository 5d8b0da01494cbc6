#!/usr/bin/env bash
# Starts the window under Xvfb on the default model and saves a screenshot of each view into
# resources/readme/ (or the folder given), as shown in the README. The Train view is pictured 400
# steps into a Quick run on the Twemoji images beside the project (CATTERY_SHARED, default ../shared).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-resources/readme}
build_dir=${CATTERY_BUILD_DIR:-build}
probe=$build_dir/tools/cattery-window-probe
if [[ ! -x $probe ]]; then
  echo "build the development tools first:" >&2
  echo "  cmake -S . -B $build_dir -DCATTERY_BUILD_BENCHMARKS=ON && cmake --build $build_dir" >&2
  exit 1
fi
# Fresh settings and data folders, so the shots show the defaults rather than whatever was last
# used here (the Directions panel's names among them), and nothing the user keeps is touched.
export XDG_CONFIG_HOME XDG_DATA_HOME
XDG_CONFIG_HOME=$(mktemp -d)
XDG_DATA_HOME=$(mktemp -d)
trap 'rm -rf "$XDG_CONFIG_HOME" "$XDG_DATA_HOME"' EXIT
training=()
images=${CATTERY_SHARED:-../shared}/datasets/twemoji64/images
[[ -d $images ]] && training=(--screenshot-training "$images")
# A procedural cat the default model never saw, whose cat the window finds (found.png).
"$build_dir/app/cattery-cli" cats --count 1 --size 128 --seed 99 --out "$XDG_DATA_HOME/find" > /dev/null
find=(--screenshot-find "$XDG_DATA_HOME/find/cat-000000.png")
xvfb-run -a -s "-screen 0 1400x900x24" "$probe" --screenshots "$out" "${find[@]}" "${training[@]}"
echo "screenshots in $out: morph.png generate.png arithmetic.png found.png train.png"
