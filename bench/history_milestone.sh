#!/usr/bin/env bash
# A short milestone against the reference server for `compare --history` (BENCHMARKS.md, issue 26):
# four tasks <P>1..<P>4, each a before and an after check; the "code change" is a reference-server
# knob: task <P>3's after runs and both of task <P>4's add LATENCY_MS per request. A check whose
# runs come out invalid (a loaded host) is repeated, at most ATTEMPTS times.
#
#   bash bench/history_milestone.sh OUT_DIR PREFIX LATENCY_MS RUNS ATTEMPTS
#   bash bench/history_milestone.sh tmp/history_ref 10 10 2 3
set -uo pipefail
cd "$(dirname "$0")/.."
out=$1 prefix=$2 latency=$3 runs=$4 attempts=$5
common=(--duration 5 --warmup 1 --rate 50 --runs "$runs" --client-cpus 0 --server-cpus 1 --out-dir "$out")
run() {
  for ((attempt = 1; attempt <= attempts; attempt++)); do
    if deno task check "$@" "${common[@]}" > /dev/null 2>&1; then
      echo "check $* ok (attempt $attempt)"
      return
    fi
    echo "check $* attempt $attempt: invalid or failed"
  done
}
run "${prefix}1" before
run "${prefix}1" after
run "${prefix}2" before
run "${prefix}2" after
run "${prefix}3" before
run "${prefix}3" after --ref-latency-ms "$latency"
run "${prefix}4" before --ref-latency-ms "$latency"
run "${prefix}4" after --ref-latency-ms "$latency"
echo MILESTONE_DONE
