/**
 * Child process for the CPU-per-request comparison: runs the real `runLoad` open loop with
 * `GET /` against the trivial endpoint, then prints one JSON line with its counts.
 *
 *   deno run --allow-net --allow-read --allow-env --allow-sys bench/gen_child.ts URL RATE SECONDS
 * @module
 */
import { runLoad } from "../lib/run/driver.ts";
import { constantSchedule } from "../lib/workload/schedule.ts";
import { constantStream } from "./load.ts";

const [url, rateText, secondsText] = Deno.args;
const rate = Number(rateText), seconds = Number(secondsText);
if (!url || !(rate > 0) || !(seconds > 0 && seconds <= 600)) {
  console.error("usage: gen_child.ts URL RATE SECONDS (SECONDS ≤ 600)");
  Deno.exit(3);
}
const ops = constantStream({ kind: "Recall", method: "GET", path: "/", body: null });
const r = await runLoad({
  warmup: { stream: ops, seconds: 0 },
  measured: { stream: ops, seconds },
  schedule: () => constantSchedule(rate),
  baseUrl: url,
  timeoutMs: 10_000,
  maxInFlight: 64,
});
console.log(JSON.stringify({
  sent: r.sent,
  completed: r.completed,
  errors: r.errors,
  genLagP99Ms: r.generatorLag.percentileUs(99) / 1000,
}));
