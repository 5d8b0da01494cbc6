#!/usr/bin/env bash
# Builds the libFuzzer targets (in the "sanitize" preset: clang with AddressSanitizer and
# UndefinedBehaviorSanitizer) and runs each for the given number of seconds (default 60), one after
# another: `tests/fuzz/run.sh [SECONDS [TARGET...]]`, every target when none is named. Each target
# seeds its own corpus; the corpora grow in build-sanitize/fuzz/corpus between runs, and anything
# found is kept in build-sanitize/fuzz/findings/<target>/. Exits 1 if any target found something.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${1:-60}
shift || true
targets=("$@")
cmake --preset sanitize >/dev/null
if [[ ${#targets[@]} -eq 0 ]]; then
  # Every target tests/fuzz/CMakeLists.txt defines.
  cmake --build --preset sanitize --target fuzz_targets
  for exe in build-sanitize/tests/fuzz/fuzz_*; do
    [[ -f $exe && -x $exe ]] && targets+=("${exe##*/fuzz_}")
  done
else
  cmake --build --preset sanitize --target "${targets[@]/#/fuzz_}"
fi

work=build-sanitize/fuzz
status=0
for t in "${targets[@]}"; do
  corpus=$work/corpus/$t
  findings=$work/findings/$t
  mkdir -p "$corpus" "$findings"
  # A checkpoint of the smallest networks takes about 46 KB: room for it to grow.
  max_len=65536
  [[ $t == checkpoint ]] && max_len=262144
  echo "fuzz_$t: ${seconds} s"
  # A small quarantine: sheets and images decode tens of megabytes, and freed memory held back
  # for AddressSanitizer's checks would otherwise count against the memory limit.
  if ! CATTERY_FUZZ_SEEDS=$corpus ASAN_OPTIONS=detect_stack_use_after_return=0:quarantine_size_mb=64 \
      LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0 \
      UBSAN_OPTIONS=print_stacktrace=1 \
      "build-sanitize/tests/fuzz/fuzz_$t" -max_total_time="$seconds" \
      -max_len=$max_len -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$findings/" "$corpus" > "$work/fuzz_$t.log" 2>&1; then
    status=1
    echo "fuzz_$t found something; see $work/fuzz_$t.log and $findings/" >&2
  fi
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+.*DONE" "$work/fuzz_$t.log" || true
done
exit $status
