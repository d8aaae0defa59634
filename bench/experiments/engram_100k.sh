#!/usr/bin/env bash
# Issue 24's acceptance on real Engram: competitive runs at Engram's own 100,000-memory scenario
# through the shims of an Engram checkout (installed with `m17_check install-scripts`), each
# starting on the preload snapshot, and `--find-rate` before and after. The snapshot must exist
# (the first competitive run of the checkout makes it: ~1.5 h on 2 cores), or the first step here
# makes it. The after runs use AFTER_BIN (another build: it restores the snapshot the before
# build wrote); the script swaps ENGRAM_DIR/target/release/engram and always puts the original back.
#
#   bash bench/experiments/engram_100k.sh ENGRAM_DIR AFTER_BIN TASK RATE SLO_MS [-- extra check flags]
#   bash bench/experiments/engram_100k.sh /work/engram /work/engram_bins/engram_slow k100 10 1000
#
# Prints one line per step (step, exit code, seconds, preload action, memories held, Engram CPU
# mean %, RSS max MB) and writes them to ENGRAM_DIR/tmp/m17_performance/<TASK>_steps.tsv.
set -uo pipefail
ENGRAM=$(cd "$1" && pwd); AFTER_BIN=$2; TASK=$3; RATE=$4; SLO=$5
shift $(( $# < 5 ? $# : 5 )); [ "${1:-}" = "--" ] && shift
EXTRA=("$@")
BIN="$ENGRAM/target/release/engram"
OUT="$ENGRAM/tmp/m17_performance"
ORIG=$(mktemp); cp "$BIN" "$ORIG"
restore() { cp "$ORIG" "$BIN"; rm -f "$ORIG"; }
trap restore EXIT
cd "$ENGRAM" || exit 3
mkdir -p "$OUT"
TSV="$OUT/${TASK}_steps.tsv"
printf 'step\texit\tseconds\tpreload\tmemories_held\tengram_cpu_mean\tengram_rss_max_mb\tp99_ms\tsustained\n' >"$TSV"

# The newest report of a task and phase (competitive), and one field of it.
newest() { ls -t "$OUT"/competitive_"$1"_"$2"_2*.json 2>/dev/null | head -1; }
field() { python3 -c "import json,sys;r=json.load(open(sys.argv[1]));print(eval(sys.argv[2]))" "$1" "$2" 2>/dev/null || echo "?"; }
sysmean() { local s="${1%.json}_sys.txt"; awk '/^  proc_cpu%/ {print $4}' "$s" 2>/dev/null | tail -1; }
sysrss() { local s="${1%.json}_sys.txt"; awk '/^  proc_rss_mb/ {print $6}' "$s" 2>/dev/null | tail -1; }

step() { # name, task, phase, binary, check flags…
  local name=$1 task=$2 phase=$3 bin=$4; shift 4
  cp "$bin" "$BIN"
  local t0; t0=$(date +%s.%N)
  scripts/m17_performance_check.sh "$task" "$phase" --competitive --no-build "$@" "${EXTRA[@]}" \
    >"$OUT/${task}_${phase}.out" 2>&1
  local code=$?
  local secs; secs=$(echo "$(date +%s.%N) - $t0" | bc | xargs printf '%.0f')
  cp "$ORIG" "$BIN"
  local r; r=$(newest "$task" "$phase")
  local action held p99 sus
  action=$(field "$r" "(r['preload'].get('snapshot') or {}).get('action','none')")
  held=$(field "$r" "(r['preload'].get('snapshot') or {}).get('memories','?')")
  p99=$(field "$r" "r['p99_latency_ms']")
  sus=$(field "$r" "(r.get('capacity') or {}).get('sustained_rate','-')")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$code" "$secs" "$action" "$held" \
    "$(sysmean "$r")" "$(sysrss "$r")" "$p99" "$sus" | tee -a "$TSV"
}

compare_step() { # name, task
  local t0; t0=$(date +%s.%N)
  scripts/compare_m17_performance.sh "$2" --competitive >"$OUT/${2}_compare.out" 2>&1
  local code=$?
  local secs; secs=$(echo "$(date +%s.%N) - $t0" | bc | xargs printf '%.0f')
  printf '%s\t%s\t%s\t-\t-\t-\t-\t-\t-\n' "$1" "$code" "$secs" | tee -a "$TSV"
}

step before "$TASK" before "$ORIG" --rate "$RATE"
step after "$TASK" after "$AFTER_BIN" --rate "$RATE"
compare_step compare "$TASK"
step find-rate-before "${TASK}fr" before "$ORIG" --find-rate --slo-p99-ms "$SLO" --find-rate-from 2 --find-rate-step-s 10
step find-rate-after "${TASK}fr" after "$AFTER_BIN" --find-rate --slo-p99-ms "$SLO" --find-rate-from 2 --find-rate-step-s 10
compare_step find-rate-compare "${TASK}fr"
echo "ACCEPTANCE_DONE $TSV"
