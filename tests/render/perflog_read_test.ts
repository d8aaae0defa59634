import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { logResults } from "../../lib/render/perflog_read.ts";

const LOG = `# Milestone 17 Performance Log

---

## Task 003: Binding

**Status**: [WARN] REGRESSION

Results:
- Before: P50=1ms, P95=2ms, P99=4.5ms, Throughput=990.00 ops/s
- After: P50=1ms, P95=2ms, P99=≥10000ms, Throughput=400.25 ops/s
- Change: P99 ≥+222122.22% (regression), Throughput -59.57% (regression), Errors 0 -> 12
- Files: \`tmp/m17_performance/003_before_20260101_100000.json\`, \`tmp/m17_performance/003_after_20260101_110000.json\`

---

## Task 003 (Competitive Scenario)

Results:
- Before: P50=1ms, P95=2ms, P99=7ms, Throughput=100.00 ops/s

---

## Task 004: Notes only

Some text.
`;

Deno.test("logResults() reads both sides, errors named in Change (ASCII arrow) and the files", () => {
  const results = logResults(LOG);
  strictEqual(results.length, 1, "the competitive section has no After bullet; task 004 none");
  const [r] = results;
  deepStrictEqual(
    { task: r.task, mode: r.mode, name: r.name },
    { task: "003", mode: "internal", name: "Binding" },
  );
  deepStrictEqual(r.before, { p99Ms: 4.5, throughput: 990, errors: 0 });
  deepStrictEqual(r.after, { p99Ms: 10000, throughput: 400.25, errors: 12 });
  deepStrictEqual(r.files, [
    "tmp/m17_performance/003_before_20260101_100000.json",
    "tmp/m17_performance/003_after_20260101_110000.json",
  ]);
});
