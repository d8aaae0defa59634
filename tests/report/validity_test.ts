/**
 * The invalid-run rules, one by one: which facts trigger each, which do not, and the exact text
 * a report stores for it.
 */
import assert from "node:assert/strict";
import {
  describeNote,
  describeReason,
  GENERATOR_LAG_P99_LIMIT_MS,
  type InvalidReason,
  preloadReason,
  RATE_TOLERANCE,
  saturationNote,
  UNANSWERED_LIMIT,
  unansweredReason,
  type WindowFacts,
  windowValidity,
} from "../../lib/report/validity.ts";

const PUNCTUAL: WindowFacts = {
  interrupted: false,
  due: 60_000,
  sent: 60_000,
  achievedRate: 1000,
  targetRate: 1000,
  arrival: "constant",
  cappedSends: 0,
  generatorLagP99Ms: 0.5,
};

Deno.test("the limits", () => {
  assert.equal(GENERATOR_LAG_P99_LIMIT_MS, 10);
  assert.equal(RATE_TOLERANCE, 0.01);
  assert.equal(UNANSWERED_LIMIT, 0.01);
});

Deno.test("windowValidity(): a punctual window is valid and has no notes", () => {
  assert.deepEqual(windowValidity(PUNCTUAL), { reasons: [], notes: [] });
});

Deno.test("windowValidity(): an interrupted window is invalid; its send rate is not judged", () => {
  const { reasons } = windowValidity({
    ...PUNCTUAL,
    interrupted: true,
    sent: 10,
    achievedRate: 10,
  });
  assert.deepEqual(reasons, [{ kind: "window_interrupted" }]);
  assert.equal(describeReason(reasons[0]), "run interrupted before the measured window ended");
});

Deno.test("windowValidity(): more than 1% of due requests unsent (each waited a whole timeout for a slot) is a note, never invalid (issue 25)", () => {
  assert.deepEqual(windowValidity({ ...PUNCTUAL, sent: 59_400 }), { reasons: [], notes: [] });
  const { reasons, notes } = windowValidity({ ...PUNCTUAL, sent: 59_399 });
  assert.deepEqual(reasons, []);
  assert.deepEqual(notes, [{ kind: "unsent", sent: 59_399, due: 60_000 }]);
  assert.equal(
    describeNote(notes[0]),
    "sent 59399 of 60000 due requests: the other 601 waited a whole timeout for one of the --max-in-flight slots (the server held them all) and count as timeouts",
  );
  // A stopped server: most requests expire in the queue, the rest are sent late: notes only.
  const stopped = windowValidity({ ...PUNCTUAL, sent: 640, achievedRate: 162.7, cappedSends: 576 });
  assert.deepEqual(stopped.reasons, []);
  assert.deepEqual(stopped.notes.map((n) => n.kind), ["unsent", "capped_sends"]);
  assert.deepEqual(windowValidity({ ...PUNCTUAL, due: 0, sent: 0 }).reasons, []);
});

Deno.test("windowValidity(): a constant rate missed by the generator is invalid", () => {
  const { reasons, notes } = windowValidity({ ...PUNCTUAL, achievedRate: 950.04 });
  assert.deepEqual(notes, []);
  assert.deepEqual(reasons, [{ kind: "off_schedule", achievedRate: 950.04, targetRate: 1000 }]);
  assert.equal(
    describeReason(reasons[0]),
    "achieved send rate 950.0 ops/s is more than 1% off the target 1000 ops/s: the load generator did not send on schedule",
  );
  assert.deepEqual(windowValidity({ ...PUNCTUAL, achievedRate: 1010 }).reasons, []);
  assert.deepEqual(windowValidity({ ...PUNCTUAL, achievedRate: 500, arrival: "poisson" }), {
    reasons: [],
    notes: [],
  });
});

Deno.test("windowValidity(): a rate missed because the in-flight cap held sends is a note", () => {
  const { reasons, notes } = windowValidity({
    ...PUNCTUAL,
    achievedRate: 900,
    cappedSends: 601,
  });
  assert.deepEqual(reasons, []);
  assert.deepEqual(notes, [
    { kind: "capped_sends", achievedRate: 900, targetRate: 1000, cappedSends: 601 },
  ]);
  assert.equal(
    describeNote(notes[0]),
    "achieved send rate 900.0 ops/s is more than 1% off the target 1000 ops/s: 601 requests waited for one of the --max-in-flight slots; their response times include that wait",
  );
  // Capped sends within the tolerance do not explain the miss.
  assert.equal(
    windowValidity({ ...PUNCTUAL, achievedRate: 900, cappedSends: 600 }).reasons[0].kind,
    "off_schedule",
  );
});

Deno.test("windowValidity(): generator lag P99 over 10 ms is invalid", () => {
  assert.deepEqual(windowValidity({ ...PUNCTUAL, generatorLagP99Ms: 10 }).reasons, []);
  const { reasons } = windowValidity({ ...PUNCTUAL, generatorLagP99Ms: 12.34 });
  assert.deepEqual(reasons, [{ kind: "generator_lag", lagP99Ms: 12.34 }]);
  assert.equal(
    describeReason(reasons[0]),
    "the load generator fell behind: schedule lag P99 12.3 ms > 10 ms (host overloaded?)",
  );
});

Deno.test("windowValidity(): reasons come in report order", () => {
  const { reasons } = windowValidity({
    ...PUNCTUAL,
    interrupted: true,
    sent: 50_000,
    achievedRate: 800,
    generatorLagP99Ms: 50,
  });
  assert.deepEqual(reasons.map((r) => r.kind), ["window_interrupted", "generator_lag"]);
});

Deno.test("unansweredReason(): more than 1% refused connections is invalid; timeouts never are", () => {
  const facts = (timeout: number, connect_failed: number, http_500 = 0) => ({
    errorsByKind: { timeout, connect_failed, http_500 },
    sent: 1000,
    completed: 990,
  });
  assert.equal(unansweredReason(facts(5, 5), 2000), null);
  // HTTP errors are answers.
  assert.equal(unansweredReason(facts(0, 0, 500), 2000), null);
  // A saturated server is a measurement, not an instrument failure (issue 16).
  assert.equal(unansweredReason(facts(860, 4), 2000), null);
  const reason = unansweredReason(facts(8, 12), 2000);
  assert.deepEqual(reason, {
    kind: "unanswered",
    timeouts: 0,
    refused: 12,
    requests: 1000,
    timeoutMs: 2000,
  });
  assert.equal(
    describeReason(reason!),
    "12 of 1000 requests (1.2%) got no answer (0 timed out after 2000 ms, 12 could not connect): over 1%, the percentiles are not response times",
  );
  assert.equal(
    unansweredReason({ errorsByKind: {}, sent: 0, completed: 0 }, 2000),
    null,
  );
});

Deno.test("unansweredReason(): a wrong answer is a measured error of the server, never 'could not connect' (issue 25)", () => {
  for (const kind of ["malformed_response", "connection_closed", "bad_response", "http_502"]) {
    assert.equal(
      unansweredReason({ errorsByKind: { [kind]: 1000 }, sent: 1000, completed: 1000 }, 2000),
      null,
      kind,
    );
  }
  const refused = unansweredReason(
    { errorsByKind: { connect_failed: 20, malformed_response: 500 }, sent: 1000, completed: 1000 },
    2000,
  );
  assert.deepEqual(refused && "refused" in refused ? refused.refused : null, 20);
});

Deno.test("saturationNote(): more than 1% timeouts is a saturated server, said in one line", () => {
  const facts = (timeout: number) => ({
    errorsByKind: { timeout },
    sent: 900,
    completed: 1000,
    due: 1000,
  });
  assert.equal(saturationNote(facts(10), 10_000), null);
  const note = saturationNote(facts(860), 10_000);
  assert.deepEqual(note, { kind: "saturated", timeouts: 860, requests: 1000, timeoutMs: 10_000 });
  assert.equal(
    describeNote(note!),
    "server saturated, 86% of requests timed out after 10 s; percentiles are censored at the timeout",
  );
});

Deno.test("preloadReason(): any preload error is invalid", () => {
  assert.equal(preloadReason(0, null), null);
  const reason = preloadReason(3, "http_500");
  assert.deepEqual(reason, { kind: "preload_errors", errors: 3, firstError: "http_500" });
  assert.equal(describeReason(reason!), "preload had 3 errors (first: http_500)");
});

Deno.test("describeReason(): interruptions, dead targets and skipped windows", () => {
  const cases: [InvalidReason, string][] = [
    [
      { kind: "interrupted", signal: "SIGINT", stage: "the measured window" },
      "interrupted by SIGINT during the measured window",
    ],
    [
      { kind: "interrupted", signal: null, stage: "warm-up" },
      "interrupted by a signal during warm-up",
    ],
    [
      { kind: "target_died", death: "engram exited (code 1)", during: "the run" },
      "engram exited (code 1) during the run",
    ],
    [
      {
        kind: "no_measured_window",
        cause: {
          kind: "target_died",
          death: "reference server exited (signal SIGKILL)",
          during: "preload",
        },
      },
      "reference server exited (signal SIGKILL) during preload: no measured window",
    ],
    [
      {
        kind: "no_measured_window",
        cause: { kind: "interrupted", signal: "SIGTERM", stage: "preload" },
      },
      "interrupted by SIGTERM during preload: no measured window",
    ],
  ];
  for (const [reason, text] of cases) assert.equal(describeReason(reason), text);
});

Deno.test("windowValidity(): lag while the host's CPU is saturated says so and names the remedies", () => {
  // Below the threshold (or unknown): the reason and its text are unchanged.
  for (const hostCpuPct of [89.9, null, undefined]) {
    assert.deepEqual(
      windowValidity({ ...PUNCTUAL, generatorLagP99Ms: 12.34, hostCpuPct }).reasons,
      [{ kind: "generator_lag", lagP99Ms: 12.34 }],
    );
  }
  // Saturation alone, without lag, is no reason.
  assert.deepEqual(windowValidity({ ...PUNCTUAL, hostCpuPct: 100 }).reasons, []);
  const { reasons } = windowValidity({ ...PUNCTUAL, generatorLagP99Ms: 96, hostCpuPct: 97.4 });
  assert.deepEqual(reasons, [{ kind: "generator_lag", lagP99Ms: 96, hostCpuPct: 97.4 }]);
  assert.equal(
    describeReason(reasons[0]),
    "the load generator fell behind while the host's CPU was saturated (97% busy on average): " +
      "schedule lag P99 96.0 ms > 10 ms; pin the generator and the server to disjoint CPUs " +
      "(--client-cpus/--server-cpus), run the generator on another host with --url, or lower the rate",
  );
});
