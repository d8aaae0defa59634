#!/usr/bin/env bash
# Confirm sessions on real Engram (issue 23's acceptance): an A/A task (the same binary measured
# before and after) and an A/B task (the after binary slowed on purpose), each followed by
# SESSIONS confirm sessions. Engram must already be built: this script builds nothing. It swaps
# binaries in ENGRAM_DIR/target/release/engram for the after check and always puts the original
# back (the kept builds under OUT/builds are what confirm runs).
#
#   bash bench/experiments/engram_confirm.sh ENGRAM_DIR ORIGINAL_BIN SLOWED_BIN OUT \
#        [SESSIONS=3] [AA_BUDGET_MIN=8] [AB_BUDGET_MIN=20] [-- extra check flags, e.g. --duration 20]
#
# Prints one line per session (task, session, exit code, verdict line, pairs, minutes) and writes
# them to OUT/sessions.tsv; each session's full output is OUT/<task>_confirm<N>.out.
set -uo pipefail
ENGRAM=$(cd "$1" && pwd); ORIG=$2; SLOW=$3; OUT=$4; SESSIONS=${5:-3}; AA_BUDGET=${6:-8}; AB_BUDGET=${7:-20}
shift $(( $# < 7 ? $# : 7 )); [ "${1:-}" = "--" ] && shift
EXTRA=("$@")
TOOL=$(cd "$(dirname "$0")/../.." && pwd)
BIN="$ENGRAM/target/release/engram"
mkdir -p "$OUT"
check() { deno run --no-prompt -A "$TOOL/m17_check.ts" "$@" --out-dir "$OUT"; }
restore() { cp "$ORIG" "$BIN"; }
trap restore EXIT
printf 'task\tsession\texit\tpairs\tminutes\tload1_start\tverdict\n' >"$OUT/sessions.tsv"

measure_pair() { # task, after binary
  local task=$1 after=$2
  restore
  check "$task" before --engram-dir "$ENGRAM" --no-build --quiet "${EXTRA[@]}" >"$OUT/${task}_before.out" 2>&1 ||
    { echo "$task before failed"; tail -5 "$OUT/${task}_before.out"; return 1; }
  cp "$after" "$BIN"
  check "$task" after --engram-dir "$ENGRAM" --no-build --quiet "${EXTRA[@]}" >"$OUT/${task}_after.out" 2>&1 ||
    { echo "$task after failed"; tail -5 "$OUT/${task}_after.out"; restore; return 1; }
  restore
}

sessions() { # task, budget
  local task=$1 budget=$2 s
  for s in $(seq 1 "$SESSIONS"); do
    local load; load=$(cut -d' ' -f1 /proc/loadavg)
    local t0; t0=$(date +%s)
    local n0; n0=$(ls "$OUT"/${task}_before_2*.json 2>/dev/null | wc -l)
    local new=(); [ "$s" -gt 1 ] && new=(--new-session)
    check "$task" confirm --budget "$budget" "${new[@]}" >"$OUT/${task}_confirm$s.out" 2>&1
    local code=$?
    local mins; mins=$(echo "($(date +%s)-$t0)/60" | bc -l | xargs printf '%.1f')
    # Each pair writes one before report (an unfinished pair's run counts too).
    local pairs; pairs=$(( $(ls "$OUT"/${task}_before_2*.json 2>/dev/null | wc -l) - n0 ))
    local verdict; verdict=$(grep -E 'REGRESSION|PASS|INCONCLUSIVE|ruled out' "$OUT/${task}_confirm$s.out" | head -2 | tr '\n' ' ')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$task" "$s" "$code" "$pairs" "$mins" "$load" "$verdict" | tee -a "$OUT/sessions.tsv"
  done
}

# A/A first, then A/B: in this order the out dir is also a two-task milestone (aa: no change,
# ab: the slowdown) for `compare --history` and `m17_check milestone confirm`.
measure_pair aa "$ORIG" && sessions aa "$AA_BUDGET"
measure_pair ab "$SLOW" && sessions ab "$AB_BUDGET"
