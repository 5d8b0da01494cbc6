#!/usr/bin/env bash
# The small-folder quality benchmark: for each folder, the recipe of earlier releases (BEGAN, no
# variety term, no DiffAugment, the last step kept, no collapse guard, no weight average, the rate
# halved after a 2,000-step stall) against today's defaults, side by side in one
# run: same seed, same steps, one CPU thread each, both started together.
#
#   tests/bench/quality.sh [cats300|cats2000|twemoji|all] [--steps N] [--out DIR] [--build DIR]
#                          [--resume]
#
# Both recipes are scored the same way while they train (every 500 steps, against the same tenth of
# the folder held out of training), so both train on the same images. For each it writes the log,
# the kept model, a sheet of 25 samples from it, and a row of DIR/summary.md: the best score among
# the varied ones (diversity at least 0.5) and its step, the model file's score, the last step's
# score, the diversity at the end, when (if ever) diversity fell below 0.6 of the data's from step
# 1,000 on, the share of time spent scoring, and the wall time. Run it on a
# quiet machine: another busy process slows both recipes and the times say nothing then.
#
# With --resume, a recipe whose checkpoint is already in DIR goes on from it (a run stopped with
# Ctrl-C or killed writes one every 1,000 steps) and appends to its log; the summary's wall time
# then adds up every part of the run, and its scoring share is the trainer's, which a checkpoint
# carries on.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
which=all
steps=10000
out="$PWD/quality-bench"
build="$root/build"
resume=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        cats300 | cats2000 | twemoji | all) which="$1" ;;
        --steps) steps="$2"; shift ;;
        --out) out="$2"; shift ;;
        --build) build="$2"; shift ;;
        --resume) resume=1 ;;
        *) echo "usage: $0 [cats300|cats2000|twemoji|all] [--steps N] [--out DIR] [--build DIR] [--resume]" >&2
           exit 2 ;;
    esac
    shift
done
cli="$build/app/cattery-cli"
[[ -x "$cli" ]] || { echo "no $cli: build first (./build.sh)" >&2; exit 1; }
shared="${CATTERY_SHARED_DIR:-$root/../shared}"
mkdir -p "$out"
summary="$out/summary.md"
if [[ ! -f "$summary" ]]; then
    {
        echo "| folder | recipe | best varied SWD (step) | model file | last SWD | diversity at the end | diversity below 0.6 from step 1,000 | scoring | wall |"
        echo "|---|---|---|---|---|---|---|---|---|"
    } > "$summary"
fi

# train NAME SIZE IMAGES... -- RECIPE...: one recipe's run, timed; its log gets the wall time as
# its last line. A resumed run takes the size and the recipe from its checkpoint instead.
train() {
    local name="$1" size="$2"; shift 2
    local images=()
    while [[ "$1" != -- ]]; do images+=("$1"); shift; done
    shift
    local start=$SECONDS checkpoint="$out/$name.checkpoint.cattery"
    local common=(--steps "$steps" --seed 1 --threads 1 --sample-every 0 --out "$out/$name.cattery")
    if [[ $resume == 1 && -f "$checkpoint" ]]; then
        echo "resumed from $checkpoint ($(date -u +%H:%M) UTC)" >> "$out/$name.log"
        "$cli" train --resume "$checkpoint" "${images[@]}" "${common[@]}" >> "$out/$name.log" 2>&1
    else
        "$cli" train "${images[@]}" --size "$size" --score-every 500 "$@" "${common[@]}" \
            > "$out/$name.log" 2>&1
    fi
    echo "wall seconds: $((SECONDS - start))" >> "$out/$name.log"
}

# A summary row from a log's score lines and its last lines.
row() {
    local folder="$1" recipe="$2" log="$out/$3.log"
    awk -v folder="$folder" -v recipe="$recipe" '
        /^score at step/ {
            n++; steps[n] = $4; sub(":", "", steps[n]); swds[n] = $6; sub(",", "", swds[n]); divs[n] = $8
        }
        # A resumed run scores again from its checkpoint: what the stopped part scored after it goes.
        /^resuming .* at step / {
            for (i = 1; i <= NF; i++) if ($i == "step") from = $(i + 1)
            while (n > 0 && steps[n] + 0 > from + 0) n--
        }
        /^(finished|stopped)/ {
            kept = $0; sub(/.*\(the /, "", kept); sub(/\) and .*/, "", kept)
            if (kept ~ /^best/) { split(kept, f, ", "); kept = f[3] " (" f[2] ")" }
            else if (kept ~ /^generator of step/) { split(kept, f, ", "); sub(/generator of /, "", f[1]); kept = f[2] " (" f[1] ", later)" }
            else { kept = "last step" }
            if ($0 ~ /^stopped by the collapse guard/) { s = $8; sub(":", "", s); ended = " (guard stopped it at step " s ")" }
        }
        # "scored N times in S s, P % of the training time": a resumed run counts from its start
        /^scored .* in / { scoring = $(NF - 5) " %" }
        /^wall seconds:/ { seconds += $3 }
        END {
            for (i = 1; i <= n; i++) {
                # The best among the varied scores, as the trainer keeps it.
                if (divs[i] + 0 >= 0.5 && (best == "" || swds[i] + 0 < best + 0)) { best = swds[i]; bestStep = steps[i] }
                if (steps[i] + 0 >= 1000 && divs[i] + 0 < 0.6 && collapsed == "") { collapsed = "at step " steps[i] }
            }
            last = swds[n]; lastDiv = divs[n]
            printf "| %s | %s | %s | %s | %s | %s | %s%s | %s | %s |\n", folder, recipe,
                best == "" ? "none varied" : best " (" bestStep ")", kept, last, lastDiv,
                collapsed == "" ? "no" : collapsed, ended,
                scoring,
                sprintf("%d min", seconds / 60 + 0.5)
        }' "$log" >> "$summary"
}

# bench FOLDER SIZE IMAGES...: both recipes of one folder, side by side.
bench() {
    local folder="$1" size="$2"; shift 2
    echo "$folder: $steps steps, both recipes at once ($(date -u +%H:%M) UTC)"
    train "$folder-earlier" "$size" "$@" -- --objective began --variety 0 --diffaug none --keep last \
        --no-collapse-guard --average 0 --lr-stall 2000 &
    train "$folder-today" "$size" "$@" -- &
    wait
    for recipe in earlier today; do
        "$cli" sample "$out/$folder-$recipe.cattery" -n 25 --seed 7 --scale 2 \
            --out "$out/$folder-$recipe-samples.png" > /dev/null
    done
    row "$folder" "earlier releases" "$folder-earlier"
    row "$folder" "today's defaults" "$folder-today"
}

case "$which" in
    cats300 | all) bench cats300 64 --cats 300 ;;&
    cats2000 | all) bench cats2000 32 --cats 2000 ;;&
    twemoji | all) bench twemoji 32 --data "$shared/datasets/twemoji64/images" ;;
esac
cat "$summary"
