/**
 * lib/cli/compare_args.ts: m17_compare's options, and the report-file flags taken out before
 * parseArgs (`--html [FILE]`, `--export FORMAT FILE`).
 */
import assert from "node:assert/strict";
import { UsageError } from "../../lib/shared/errors.ts";
import { parseCompareArgs, takeOutputArgs } from "../../lib/cli/compare_args.ts";

Deno.test("takeOutputArgs: --html [FILE], --export FORMAT FILE (twice), the rest untouched", () => {
  assert.deepEqual(takeOutputArgs(["001", "--json"]), {
    args: ["001", "--json"],
    html: null,
    exports: [],
  });
  assert.deepEqual(takeOutputArgs(["--html", "001"]), { args: ["001"], html: true, exports: [] });
  assert.deepEqual(takeOutputArgs(["001", "--html", "r.HTML"]).html, "r.HTML");
  assert.deepEqual(takeOutputArgs(["001", "--html=r"]).html, "r");
  assert.deepEqual(
    takeOutputArgs(["001", "--export", "bmf", "b.json", "--competitive", "--export=gab", "g.json"]),
    {
      args: ["001", "--competitive"],
      html: null,
      exports: [{ format: "bmf", path: "b.json" }, { format: "gab", path: "g.json" }],
    },
  );
  assert.deepEqual(takeOutputArgs(["001", "--", "--html"]).args, ["001", "--", "--html"]);
  const refused: [string[], RegExp][] = [
    [["--export", "csv", "x"], /--export needs a format and a file: .* \(got format 'csv'\)/],
    [["--export"], /--export needs a format and a file/],
    [["--export", "bmf"], /--export bmf needs a file name/],
    [["--export", "bmf", "--json"], /--export bmf needs a file name/],
    [["--export", "bmf", "a", "--export", "bmf", "b"], /--export bmf given twice/],
    [["--export", "bmf", "a", "--export", "gab", "a"], /cannot write the same file a/],
    [["--html", "--html"], /--html given twice/],
    [["--html="], /--html= needs a file name/],
  ];
  for (const [args, message] of refused) {
    assert.throws(
      () => takeOutputArgs(args),
      (e) => e instanceof UsageError && message.test(e.message),
    );
  }
});

Deno.test("parseCompareArgs: defaults, thresholds in percent, and the report files", () => {
  const cmd = parseCompareArgs(["001", "--threshold-p99", "7.5%", "--html", "--json"]);
  assert.equal(cmd.kind, "compare");
  if (cmd.kind !== "compare") return;
  assert.equal(cmd.options.task, "001");
  assert.equal(cmd.options.mode, "internal");
  assert.equal(cmd.options.output, "json");
  assert.equal(cmd.options.thresholds.p99Pct, 7.5);
  assert.equal(cmd.options.thresholds.throughputPct, 5);
  assert.deepEqual(cmd.options.outputs, { html: true, exports: [] });
  assert.equal(cmd.options.dir, "tmp/m17_performance");
  const competitive = parseCompareArgs(["001", "--competitive"]);
  assert.equal(competitive.kind === "compare" && competitive.options.thresholds.p99Pct, 10);
  assert.deepEqual(parseCompareArgs(["--help"]), { kind: "help" });
  assert.deepEqual(parseCompareArgs(["-V"]), { kind: "version" });
});

Deno.test("parseCompareArgs refuses bad input with one UsageError line", () => {
  const refused: [string[], RegExp][] = [
    [[], /^no task given/],
    [["001", "after"], /^unexpected argument 'after'/],
    [["001", "--threshold-p99", "five"], /^--threshold-p99 "five": expected a number of percent/],
    [["001", "--forse"], /^unknown option --forse \(did you mean --force\?\); see --help$/],
    [["001", "--calibrate", "--html"], /do not apply to --calibrate/],
    [["001", "--phase", "after"], /--phase only applies with --calibrate/],
  ];
  for (const [args, message] of refused) {
    assert.throws(
      () => parseCompareArgs(args),
      (e) => e instanceof UsageError && message.test(e.message) && !e.message.includes("\n"),
      args.join(" "),
    );
  }
});
