#!/usr/bin/env bash
# Spread of identical runs on real Engram: m17 and Engram's old Rust generator alternated, a fresh
# Engram (fresh data dir) per run, N rounds. Engram must already be built (this script builds
# nothing): <engram>/target/release/engram and <engram>/target/release/loadtest.
#
#   bash bench/experiments/engram_spread.sh ENGRAM_DIR OUT_DIR [ROUNDS=8] [SECONDS=60] [-- m17 check flags]
#
# Per run it records the tool's P99 (m17: response time from the due instant; old: its own, the
# largest per-operation P99), the per-second P99 of the last 15 s against the first 45 s (m17), the
# tool's CPU (user+sys), Engram's CPU over its whole life (start-up and preload included) and peak RSS and its memory count at the end (health API),
# and the host's load. A summary (median, CV of P99 per tool) is printed at the end and written to
# OUT_DIR/summary.tsv. Every process it starts is stopped; every loop is bounded by ROUNDS.
set -uo pipefail
ENGRAM=$(cd "$1" && pwd); OUT=$2; ROUNDS=${3:-8}; SECS=${4:-60}
shift $(( $# < 4 ? $# : 4 )); [ "${1:-}" = "--" ] && shift
EXTRA=("$@")
TOOL=$(cd "$(dirname "$0")/../.." && pwd)
PORT=7432
mkdir -p "$OUT"
SCEN="$ENGRAM/scenarios/m17_baseline.toml"
# M17_SCENARIO: m17's scenario file (default the same); e.g. a copy with `preload = 0` under
# [data], to give m17 the old generator's workload (it stores nothing before its clock starts).
M17_SCEN=${M17_SCENARIO:-$SCEN}
ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
hz=$(getconf CLK_TCK)
memories() { curl -s "http://127.0.0.1:$PORT/api/v1/system/health" |
  python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(s.get("memories",0) for s in d.get("spaces",[])))' 2>/dev/null || echo "?"; }
wait_health() { for _ in $(seq 1 240); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && return 0; sleep 0.25; done; return 1; }
# Engram's CPU ticks and peak RSS until it exits (at most 10 minutes): "ticks rss_mb". It looks
# for the pid with pgrep only until it has one (pgrep reads every process's cmdline, which takes
# each process's mmap lock: polling it beside a measured Engram is not free), then only reads
# /proc/<pid>/stat and status, once a second.
monitor() {
  local out=$1 pid="" stat
  for _ in $(seq 1 1200); do
    pid=$(pgrep -f "engram start --port $PORT" | head -1)
    [ -n "$pid" ] && break
    sleep 0.5
  done
  [ -n "$pid" ] || { echo "0 0" >"$out"; return; }
  for _ in $(seq 1 600); do
    stat=$(ticks "$pid")
    [ -e "/proc/$pid" ] || break
    echo "$stat $(awk '/VmHWM/ {print int($2/1024)}' /proc/$pid/status 2>/dev/null || echo 0)" >"$out"
    sleep 1
  done
}
printf 'run\ttool\tp99_ms\tlast15_p99_ms\tfirst45_p99_ms\ttool_cpu_s\tengram_cpu_s\tengram_rss_mb\tmemories\tload1\n' >"$OUT/summary.tsv"

old_run() {
  local i=$1 data; data=$(mktemp -d)
  ENGRAM_DATA_DIR=$data "$ENGRAM/target/release/engram" start --port $PORT >"$OUT/old$i.server.log" 2>&1 &
  local pid=$!
  wait_health || { echo "engram did not start"; kill -TERM $pid; wait $pid; rm -rf "$data"; return 1; }
  local t0; t0=$(ticks $pid)
  local start; start=$(date +%s.%N)
  /usr/bin/time -f '%U %S' -o "$OUT/old$i.time" "$ENGRAM/target/release/loadtest" run --scenario "$SCEN" \
    --duration "$SECS" --seed 3735928559 --endpoint "http://127.0.0.1:$PORT" --output "$OUT/old$i.json" >"$OUT/old$i.log" 2>&1
  local t1; t1=$(ticks $pid)
  local rss; rss=$(awk '/VmHWM/ {print int($2/1024)}' /proc/$pid/status)
  local mem; mem=$(memories)
  kill -TERM $pid; wait $pid 2>/dev/null; rm -rf "$data"
  # The old generator's own P99 (its top-level field: the largest per-operation P99).
  local p99; p99=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["p99_latency_ms"])' "$OUT/old$i.json" 2>/dev/null || echo "?")
  printf '%s\told\t%s\t-\t-\t%s\t%s\t%s\t%s\t%s\n' "$i" "$p99" "$(awk '{print $1+$2}' "$OUT/old$i.time")" \
    "$(echo "$t1/$hz" | bc -l | xargs printf '%.2f')" "$rss" "$mem" "$(cut -d' ' -f1 /proc/loadavg)" >>"$OUT/summary.tsv"
}

m17_run() {
  local i=$1
  monitor "$OUT/m17_$i.engram" & local mon=$!
  /usr/bin/time -f '%U %S' -o "$OUT/m17_$i.time" deno run --no-prompt -A "$TOOL/m17_check.ts" "spread$i" before \
    --engram-dir "$ENGRAM" --no-build --scenario "$M17_SCEN" --duration "$SECS" --out-dir "$OUT/m17" --quiet \
    "${EXTRA[@]}" >"$OUT/m17_$i.log" 2>&1
  wait $mon
  local rep; rep=$(ls -t "$OUT"/m17/spread${i}_before_2*.json | head -1)
  read -r eticks erss <"$OUT/m17_$i.engram"
  python3 - "$rep" "$i" "$(awk '{print $1+$2}' "$OUT/m17_$i.time")" "$(cut -d' ' -f1 /proc/loadavg)" \
    "$(echo "$eticks/$hz" | bc -l | xargs printf '%.2f')" "$erss" >>"$OUT/summary.tsv" <<'PY'
import json, sys
rep, i, cpu, load, ecpu, erss = sys.argv[1:7]
d = json.load(open(rep))
iv = d.get("intervals", [])
n = len(iv)
tail = [x["p99_ms"] for x in iv[max(0, n - 15):]]
head = [x["p99_ms"] for x in iv[:max(0, n - 15)]]
med = lambda v: sorted(v)[len(v) // 2] if v else float("nan")
st = d.get("target_state") or {}
# The tool reaps Engram, so /usr/bin/time counts Engram's CPU too: the tool's own is the rest
# (its snapshot copies included).
own = float(cpu) - float(ecpu)
print(f"{i}\tm17\t{d['p99_latency_ms']}\t{med(tail):.3f}\t{med(head):.3f}\t{own:.2f}\t{ecpu}\t{erss}\t{st.get('memories_at_end', '?')}\t{load}")
PY
}

for i in $(seq 1 "$ROUNDS"); do
  if (( i % 2 )); then old_run "$i"; m17_run "$i"; else m17_run "$i"; old_run "$i"; fi
  tail -2 "$OUT/summary.tsv"
done
python3 - "$OUT/summary.tsv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
for tool in ("m17", "old"):
    v = [float(r["p99_ms"]) for r in rows if r["tool"] == tool and r["p99_ms"] not in ("?", "")]
    if len(v) >= 2:
        m = statistics.mean(v)
        print(f"{tool}: n={len(v)} P99 median {statistics.median(v):.3f} ms, CV {100*statistics.stdev(v)/m:.1f}% ({min(v):.3f}-{max(v):.3f})")
PY
