#!/usr/bin/env bash
# Builds the libFuzzer targets (the "fuzz" preset: clang with AddressSanitizer and
# UndefinedBehaviorSanitizer) and runs each for the given number of seconds (default 60), one after
# another. Each target seeds its own corpus; the corpora grow in build-fuzz/corpus between runs,
# and anything found is kept in build-fuzz/findings/<target>/. Exits 1 if any target found
# something.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${1:-60}
targets=(container imageheader threetext)
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz

status=0
for t in "${targets[@]}"; do
  corpus=build-fuzz/corpus/$t
  findings=build-fuzz/findings/$t
  mkdir -p "$corpus" "$findings"
  echo "fuzz_$t: ${seconds} s"
  if ! CATTERY_FUZZ_SEEDS=$corpus "build-fuzz/tests/fuzz/fuzz_$t" -max_total_time="$seconds" \
      -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$findings/" "$corpus" > "build-fuzz/fuzz_$t.log" 2>&1; then
    status=1
    echo "fuzz_$t found something; see build-fuzz/fuzz_$t.log and $findings/" >&2
  fi
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+.*DONE" "build-fuzz/fuzz_$t.log" || true
done
exit $status
