#!/usr/bin/env bash
# Side by side, alternated, same instant server: the FFI/epoll experiment client, m17's engine
# (bench/gen_child.ts: runLoad, one thread, GET /) and vegeta (GET /), at 1,000 and 5,000 ops/s.
# CPU = user + system seconds of each generator's whole process (/usr/bin/time), start-up included.
#   bash bench/experiments/ffi_side_by_side.sh [SECONDS] [REPS]     (vegeta on PATH)
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-10}; reps=${2:-2}
port=18556
srv=$(mktemp); cat > "$srv" <<'TS'
const s = Deno.serve({ hostname: "127.0.0.1", port: Number(Deno.args[0]), onListen() {} }, async (req) => {
  if (req.body) await req.arrayBuffer();
  return new Response('{"ok":true}', { headers: { "content-type": "application/json" } });
});
await s.finished;
TS
deno run --allow-net "$srv" "$port" & spid=$!
trap 'kill $spid 2>/dev/null; rm -f "$srv"' EXIT
sleep 2
cpu() { # command... → prints "CPU_SECONDS<TAB>last stdout line"
  local t; t=$(mktemp)
  local out; out=$(/usr/bin/time -f "%U %S" -o "$t" "$@" 2>/dev/null | tail -1)
  printf '%s\t%s\n' "$(awk '{print $1+$2}' "$t")" "$out"; rm -f "$t"
}
printf 'tool\trate\trep\tcpu_s\tus_per_req\tresult\n'
for rate in 1000 5000; do
  n=$((rate * secs))
  for rep in $(seq 1 "$reps"); do
    r=$(cpu deno run --allow-ffi --allow-sys bench/experiments/ffi_epoll_client.ts "$port" "$rate" "$secs")
    printf 'ffi-epoll\t%s\t%s\t%s\t%s\t%s\n' "$rate" "$rep" "${r%%$'\t'*}" "$(awk -v c="${r%%$'\t'*}" -v n="$n" 'BEGIN{printf "%.1f", c*1e6/n}')" "${r#*$'\t'}"
    r=$(cpu deno run -A bench/gen_child.ts "http://127.0.0.1:$port" "$rate" "$secs")
    printf 'm17\t%s\t%s\t%s\t%s\t%s\n' "$rate" "$rep" "${r%%$'\t'*}" "$(awk -v c="${r%%$'\t'*}" -v n="$n" 'BEGIN{printf "%.1f", c*1e6/n}')" "${r#*$'\t'}"
    r=$(cpu bash -c "echo 'GET http://127.0.0.1:$port/' | vegeta attack -rate=$rate/s -duration=${secs}s -timeout=10s > /tmp/ffi_sbs_vegeta.bin")
    rep_txt=$(vegeta report -type=json /tmp/ffi_sbs_vegeta.bin | python3 -c 'import json,sys; d=json.load(sys.stdin); l=d["latencies"]; print(json.dumps({"requests":d["requests"],"success":d["success"],"p50_ms":round(l["50th"]/1e6,3),"p99_ms":round(l["99th"]/1e6,3)}))')
    printf 'vegeta\t%s\t%s\t%s\t%s\t%s\n' "$rate" "$rep" "${r%%$'\t'*}" "$(awk -v c="${r%%$'\t'*}" -v n="$n" 'BEGIN{printf "%.1f", c*1e6/n}')" "$rep_txt"
  done
done
rm -f /tmp/ffi_sbs_vegeta.bin
