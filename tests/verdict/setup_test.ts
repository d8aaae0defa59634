/**
 * How the runs were measured (issue 25, class 17): a different I/O engine, worker count or host
 * CPU count is refused (shown above the table when forced), a Deno upgrade is shown; `localhost`
 * and `127.0.0.1` on one port are one server; a report without settings or host says so; a
 * missing host never reads "vm vs undefined".
 */
import assert from "node:assert/strict";
import type { LoadedReport } from "../../lib/report/read.ts";
import type { RunReport } from "../../lib/report/schema.ts";
import { comparability } from "../../lib/verdict/compare.ts";
import { expectedDifferences } from "../../lib/verdict/differences.ts";
import { makeReport, shapedSamples } from "../fixtures/make_report.ts";

const SAMPLES = { Store: shapedSamples({ p50: 1, p95: 2, p99: 3, p999: 4 }) };
const ASKED = { task: "001", mode: "internal" } as const;
const GENERATOR: NonNullable<RunReport["generator"]> = {
  workers: 1,
  http_client: "http1-keepalive",
  io: "epoll",
  pacer: "epoll-wait",
};

function pair(edit: (b: RunReport, a: RunReport) => void): [LoadedReport, LoadedReport] {
  const b = makeReport({ phase: "before", samplesMs: SAMPLES });
  const a = makeReport({ phase: "after", samplesMs: SAMPLES });
  b.generator = { ...GENERATOR };
  a.generator = { ...GENERATOR };
  edit(b, a);
  return [{ kind: "current", path: "b.json", report: b }, {
    kind: "current",
    path: "a.json",
    report: a,
  }];
}

Deno.test("setup: engine, workers and CPU count refuse and show; Deno shows only", () => {
  const cases: [string, (b: RunReport, a: RunReport) => void, string | null, string][] = [
    [
      "I/O engine",
      (_, a) => a.generator!.io = "deno-sockets",
      "before and after drove their sockets with different I/O engines (epoll vs deno-sockets)",
      "I/O engine: epoll → deno-sockets",
    ],
    [
      "workers",
      (_, a) => a.generator!.workers = 2,
      "before and after ran different numbers of load workers (1 vs 2)",
      "Load workers: 1 → 2",
    ],
    [
      "CPUs",
      (_, a) => a.host.cpus = 8,
      "before and after ran on hosts with different CPU counts (2 vs 8)",
      "Host CPUs: 2 → 8",
    ],
    ["Deno", (_, a) => a.host.deno = "2.10.0", null, "Deno: 2.9.6 → 2.10.0"],
  ];
  for (const [what, edit, problem, shown] of cases) {
    const [b, a] = pair(edit);
    assert.deepEqual(comparability(b, a, ASKED).problems, problem ? [problem] : [], what);
    const lines = expectedDifferences(b, a).map((d) => `${d.what}: ${d.before} → ${d.after}`);
    assert.deepEqual(lines, [shown], what);
  }
  const [b, a] = pair(() => {});
  assert.deepEqual(comparability(b, a, ASKED), { problems: [], warnings: [] });
  assert.deepEqual(expectedDifferences(b, a), []);
});

Deno.test("setup: localhost and 127.0.0.1 on one port are one server; another port is not", () => {
  const url = (x: string, y: string) =>
    pair((b, a) => {
      b.target = { ...b.target, kind: "url", url: x };
      a.target = { ...a.target, kind: "url", url: y };
    });
  assert.deepEqual(
    comparability(...url("http://localhost:7432", "http://127.0.0.1:7432"), ASKED).problems,
    [],
  );
  assert.deepEqual(
    comparability(...url("http://localhost:7432", "http://127.0.0.1:7433"), ASKED).problems,
    [
      "before and after measured different servers (http://localhost:7432 vs http://127.0.0.1:7433)",
    ],
  );
});

Deno.test("setup: a report without settings or host says what was not checked", () => {
  const [b, a] = pair((b, a) => {
    delete b.settings;
    delete (a as Partial<RunReport>).host;
  });
  const { problems, warnings } = comparability(b, a, ASKED);
  assert.deepEqual(problems, []);
  assert.deepEqual(warnings, [
    "the before report records no settings (request timeout, in-flight cap): whether both runs " +
    "used the same timeout and in-flight cap is not checked",
    "the after report records no host: whether both ran on one host is not checked",
  ]);
  assert.doesNotMatch(warnings.join(" "), /undefined/);
});
