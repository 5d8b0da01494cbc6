#!/usr/bin/env bash
# Run here, before a GPU run: puts what the GPU machine lacks under build-vendor/ (fmt and
# nlohmann_json headers, and a preprocessed data set), to be carried along with the working tree.
set -euo pipefail
cd "$(dirname "$0")/../.."
cli=${CATTERY_CLI:-build/app/cattery-cli}
mkdir -p build-vendor/include
cp -r /usr/include/fmt /usr/include/nlohmann build-vendor/include/
"$cli" prepare --cats "${CATS:-3000}" --size "${SIZE:-64}" --out build-vendor/data.tensor
du -sh build-vendor
