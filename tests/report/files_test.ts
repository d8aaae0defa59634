/**
 * File names: every name `check` makes is found again by the parser compare uses, sibling files
 * never pass for reports, and task ids can never name a path.
 */
import assert from "node:assert/strict";
import { basename, join } from "node:path";
import {
  checkCommand,
  claimRunFiles,
  compareHtmlPath,
  DENO_TASK_COMMANDS,
  filesFor,
  filesOfReport,
  parseReportName,
  readClaimOwner,
  releaseClaim,
  reportPattern,
  reportPrefix,
  timestamp,
  validateTaskId,
} from "../../lib/report/files.ts";
import type { Mode, Phase } from "../../lib/report/schema.ts";
import { UsageError } from "../../lib/shared/errors.ts";

const MODES: Mode[] = ["internal", "competitive"];
const PHASES: Phase[] = ["before", "after"];

Deno.test("timestamp() is local YYYYmmdd_HHMMSS", () => {
  assert.equal(timestamp(new Date(2025, 0, 2, 3, 4, 5)), "20250102_030405");
  assert.equal(timestamp(new Date(2025, 11, 31, 23, 59, 59)), "20251231_235959");
});

Deno.test("claimRunFiles(): the names it makes parse back to their timestamp and suffix, for every mode and phase", async () => {
  const dir = await Deno.makeTempDir({ prefix: "m17_files_" });
  try {
    const now = new Date(2025, 4, 6, 7, 8, 9);
    for (const mode of MODES) {
      for (const phase of PHASES) {
        const first = await claimRunFiles(dir, "t-1.2", phase, mode, now);
        const second = await claimRunFiles(dir, "t-1.2", phase, mode, now);
        for (const [files, suffix] of [[first, 1], [second, 2]] as const) {
          assert.equal(
            files.stem,
            join(
              dir,
              `${reportPrefix("t-1.2", phase, mode)}_20250506_070809${suffix === 1 ? "" : "_2"}`,
            ),
          );
          assert.deepEqual(parseReportName(basename(files.report), "t-1.2", phase, mode), {
            timestamp: "20250506_070809",
            suffix,
          });
          // The other mode's and phase's parsers do not claim it.
          for (const other of MODES.filter((m) => m !== mode)) {
            assert.equal(parseReportName(basename(files.report), "t-1.2", phase, other), null);
          }
          for (const other of PHASES.filter((p) => p !== phase)) {
            assert.equal(parseReportName(basename(files.report), "t-1.2", other, mode), null);
          }
          await releaseClaim(files);
        }
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("filesFor(): a run's sibling files are never taken for reports", () => {
  const files = filesFor("001_after_20250101_120000_3");
  assert.deepEqual(files, {
    stem: "001_after_20250101_120000_3",
    report: "001_after_20250101_120000_3.json",
    log: "001_after_20250101_120000_3_loadtest.log",
    sys: "001_after_20250101_120000_3_sys.txt",
    diag: "001_after_20250101_120000_3_diag.txt",
    hlog: "001_after_20250101_120000_3.hlog",
    serverLog: "001_after_20250101_120000_3_server.log",
    html: "001_after_20250101_120000_3.html",
    claim: "001_after_20250101_120000_3.claim",
    profileFolded: "001_after_20250101_120000_3_profile.folded",
    profileSvg: "001_after_20250101_120000_3_profile.svg",
  });
  assert.deepEqual(parseReportName(files.report, "001", "after", "internal"), {
    timestamp: "20250101_120000",
    suffix: 3,
  });
  for (const [key, name] of Object.entries(files)) {
    if (key === "report") continue;
    assert.equal(parseReportName(name, "001", "after", "internal"), null, key);
  }
  assert.equal(parseReportName(files.report + ".tmp", "001", "after", "internal"), null);
});

Deno.test("filesOfReport(): the siblings of a report path", () => {
  assert.deepEqual(
    filesOfReport("d/001_before_20250101_000000.json"),
    filesFor("d/001_before_20250101_000000"),
  );
  assert.equal(filesOfReport("d/x.json").diag, "d/x_diag.txt");
});

Deno.test("parseReportName(): other tasks, modes and malformed timestamps do not match", () => {
  assert.deepEqual(parseReportName("001_after_20250101_120000.json", "001", "after", "internal"), {
    timestamp: "20250101_120000",
    suffix: 1,
  });
  assert.equal(
    parseReportName("competitive_001_after_20250101_120000.json", "001", "after", "internal"),
    null,
  );
  assert.deepEqual(
    parseReportName("competitive_001_after_20250101_120000.json", "001", "after", "competitive"),
    { timestamp: "20250101_120000", suffix: 1 },
  );
  assert.equal(parseReportName("1x0_after_20250101_120000.json", "1.0", "after", "internal"), null);
  assert.equal(
    parseReportName("0010_after_20250101_120000.json", "001", "after", "internal"),
    null,
  );
  assert.equal(parseReportName("001_after_20250101_1200.json", "001", "after", "internal"), null);
  assert.equal(parseReportName("001_after_latest.json", "001", "after", "internal"), null);
});

Deno.test("validateTaskId(): 1-64 of A-Z a-z 0-9 . _ -, never a path", () => {
  assert.equal(validateTaskId("task-1.2_b"), "task-1.2_b");
  assert.equal(validateTaskId("a".repeat(64)), "a".repeat(64));
  for (const bad of ["", "..", ".", "a/b", "a\\b", "a..b", "a".repeat(65)]) {
    assert.throws(() => validateTaskId(bad), UsageError, bad);
  }
});

Deno.test("checkCommand(), reportPattern() and compareHtmlPath() name the mode", () => {
  const via = DENO_TASK_COMMANDS;
  assert.equal(checkCommand("001", "before", "internal", via), "deno task check 001 before");
  assert.equal(
    checkCommand("001", "after", "competitive", via),
    "deno task check 001 after --competitive",
  );
  const shims = { check: "scripts/m17_performance_check.sh", compare: "x" };
  assert.equal(
    checkCommand("7", "after", "internal", shims),
    "scripts/m17_performance_check.sh 7 after",
  );
  assert.equal(reportPattern("001", "before", "internal"), "001_before_*.json");
  assert.equal(reportPattern("001", "after", "competitive"), "competitive_001_after_*.json");
  assert.equal(compareHtmlPath("out", "001", "internal"), join("out", "001_compare.html"));
  assert.equal(
    compareHtmlPath("out", "001", "competitive"),
    join("out", "competitive_001_compare.html"),
  );
});

Deno.test("claimRunFiles(): the claim names its owner (pid, host, start); readClaimOwner() takes an empty, old or damaged claim for an unknown owner", async () => {
  const dir = await Deno.makeTempDir({ prefix: "m17_files_claim_" });
  try {
    const now = new Date(2025, 4, 6, 7, 8, 9);
    const files = await claimRunFiles(dir, "t", "before", "internal", now);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(files.claim)), {
      pid: Deno.pid,
      host: Deno.hostname(),
      started_at: now.toISOString(),
      keeps_data: false,
    });
    assert.deepEqual(await readClaimOwner(files.claim), {
      kind: "known",
      pid: Deno.pid,
      host: Deno.hostname(),
      startedAt: now.toISOString(),
      keepsData: false,
    });
    await releaseClaim(files);
    const kept = await claimRunFiles(dir, "t", "before", "internal", now, true);
    const owner = await readClaimOwner(kept.claim);
    assert.equal(owner.kind === "known" && owner.keepsData, true, "--keep-data is in the claim");
    await releaseClaim(kept);
    const claim = join(dir, "old.claim");
    for (const text of ["", "{}", '{"pid":0,"host":"h","started_at":"x"}', '{"pid":']) {
      await Deno.writeTextFile(claim, text);
      assert.deepEqual(await readClaimOwner(claim), { kind: "unknown" }, JSON.stringify(text));
    }
    assert.deepEqual(await readClaimOwner(join(dir, "missing.claim")), { kind: "unknown" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
