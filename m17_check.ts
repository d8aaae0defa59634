/**
 * m17_check: runs the deterministic open-loop load test of a task's before/after phase and
 * writes the report and its sibling files to tmp/m17_performance/.
 *
 *   m17_check <task> [before|after] [--competitive] [options]
 *
 * Drop-in for the old `scripts/m17_performance_check.sh`. Exit codes: 0 a valid report was
 * written; 1 the run failed or is invalid; 3 usage or configuration error; 130/143 interrupted.
 * @module
 */
import { restoreCallerCwd } from "./lib/cli/cwd.ts";
import { parseArgs } from "node:util";
import {
  type CheckOptions,
  dryRunText,
  prepareScenario,
  runCheck,
  RunLog,
} from "./lib/run/check.ts";
import { validateTaskId } from "./lib/verdict/discovery.ts";
import { DEFAULT_ENGRAM_PORT, diagCommand } from "./lib/target/engram.ts";
import { EXIT, messageOf, RunError, UsageError } from "./lib/shared/errors.ts";
import { parseSeed } from "./lib/workload/prng.ts";
import { stopAll } from "./lib/target/process.ts";
import { releaseOpenClaimsSync } from "./lib/report/files.ts";
import { parseTargetUrl } from "./lib/target/target.ts";
import { versionLine } from "./lib/shared/build_info.ts";
import { installCommand } from "./lib/target/engram_shims.ts";

const USAGE = `Usage: m17_check <task> [before|after] [--competitive] [options]
       m17_check serve [reference server options]     (the built-in reference server)
       m17_check diag [--port N] [--kill-leaked [--yes]]  (engram processes, port, load, memory)
       m17_check install-scripts <engram-dir> [--force]  (make the Engram checkout's
                 scripts/m17_performance_check.sh and compare_m17_performance.sh run m17)

Runs a deterministic, seeded, open-loop load test and writes
  tmp/m17_performance/[competitive_]<task>_<phase>_<YYYYmmdd_HHMMSS>{.json,_loadtest.log,_sys.txt,_diag.txt,.hlog}

Target (first that applies): --url URL; an Engram checkout (--engram-dir D, or the current
directory), built with cargo build --release and started on --port with a fresh data dir;
otherwise the built-in reference server (also forced with --reference).

Options:
  --competitive          competitive scenario (scenarios/competitive/hybrid_production_100k.toml)
  --scenario F|NAME      scenario file, or a shipped scenario name (m17_baseline)
  --seed N|0xHEX         override the scenario seed
  --rate N               override the target rate (ops/s)
  --duration S           override the measured duration (seconds)
  --warmup S             override the warm-up (seconds, not recorded)
  --url URL              measure an already running server (nothing is started or stopped)
  --reference            force the built-in reference server
  --engram-dir D         the Engram checkout to build and measure (default: the current directory)
  --no-build             skip cargo build --release; use the existing target/release/engram
  --port N               Engram's HTTP port (default ${DEFAULT_ENGRAM_PORT}); a taken port is refused
  --keep-data            keep Engram's fresh data dir (<out-dir>/<run>_data) after the run
  --startup-timeout-s S  how long Engram may take to answer /health (default 60)
  --out-dir D            results directory (default tmp/m17_performance)
  --timeout-ms N         per-request timeout (default 10000)
  --max-in-flight N      cap on concurrent requests; waiting requests keep their due time (default 64)
  --runs N               N independent runs (fresh server and state each), grouped for compare
  --dry-run              print the resolved scenario, op mix, fingerprint and first ops; contact nothing
  --quiet                only warnings and errors on the terminal
  --html                 also write <stem>.html: a self-contained page of the run (plots, definitions)
  --help, --version

Reference server knobs (with the reference target):
  --ref-latency-ms X  --ref-jitter-ms Y  --ref-error-rate P
  --ref-stall-every-s S --ref-stall-ms M  --ref-no-spreading  --ref-record FILE

Exit codes: 0 valid report written, 1 run failed or invalid, 3 usage/config error,
130 interrupted (SIGINT), 143 terminated (SIGTERM).`;

function num(
  name: string,
  v: string | undefined,
  opts: { int?: boolean; min?: number; max?: number } = {},
): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (
    v.trim() === "" || !Number.isFinite(n) || (opts.int && !Number.isInteger(n)) ||
    (opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)
  ) {
    const range = [
      opts.min !== undefined ? `≥ ${opts.min}` : "",
      opts.max !== undefined ? `≤ ${opts.max}` : "",
    ].filter(Boolean).join(" and ");
    throw new UsageError(
      `--${name} ${JSON.stringify(v)}: expected ${opts.int ? "an integer" : "a number"}${
        range ? " " + range : ""
      }`,
    );
  }
  return n;
}

/** Parses the command line into options (throws UsageError). */
export function parseCheckArgs(
  argv: string[],
): { kind: "help" } | { kind: "version" } | { kind: "dry-run"; options: CheckOptions } | {
  kind: "run";
  options: CheckOptions;
} {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        competitive: { type: "boolean" },
        scenario: { type: "string" },
        seed: { type: "string" },
        rate: { type: "string" },
        duration: { type: "string" },
        warmup: { type: "string" },
        url: { type: "string" },
        reference: { type: "boolean" },
        "engram-dir": { type: "string" },
        "no-build": { type: "boolean" },
        port: { type: "string" },
        "keep-data": { type: "boolean" },
        "startup-timeout-s": { type: "string" },
        "out-dir": { type: "string" },
        "timeout-ms": { type: "string" },
        "max-in-flight": { type: "string" },
        "preload-concurrency": { type: "string" },
        runs: { type: "string" },
        "dry-run": { type: "boolean" },
        quiet: { type: "boolean" },
        html: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean" },
        "ref-latency-ms": { type: "string" },
        "ref-jitter-ms": { type: "string" },
        "ref-error-rate": { type: "string" },
        "ref-stall-every-s": { type: "string" },
        "ref-stall-ms": { type: "string" },
        "ref-no-spreading": { type: "boolean" },
        "ref-record": { type: "string" },
      },
    });
  } catch (e) {
    // "--rate -5" reads as a missing value followed by an option named -5.
    const dash = /^Option '(--[\w-]+)' argument is ambiguous/.exec(messageOf(e));
    throw new UsageError(
      dash
        ? `${dash[1]}: missing value (a value starting with '-' is written ${dash[1]}=-…)`
        : messageOf(e).replace(/\. To specify a positional argument.*$/, ""),
    );
  }
  const v = parsed.values;
  if (v.help) return { kind: "help" };
  if (v.version) return { kind: "version" };

  const pos = [...parsed.positionals];
  let competitive = v.competitive ?? false;
  // The old script accepted --competitive as a positional in 2nd or 3rd place.
  const ci = pos.indexOf("--competitive");
  if (ci >= 0) {
    pos.splice(ci, 1);
    competitive = true;
  }
  if (pos.length > 2) throw new UsageError(`unexpected argument ${JSON.stringify(pos[2])}`);
  const task = validateTaskId(pos[0] ?? "unknown");
  const phase = pos[1] ?? "before";
  if (phase !== "before" && phase !== "after") {
    throw new UsageError(`Phase must be 'before' or 'after' (got ${JSON.stringify(phase)})`);
  }
  if (v.url !== undefined) parseTargetUrl(v.url); // a bad URL is refused before anything runs
  if (v.url !== undefined && v.reference) {
    throw new UsageError("--url and --reference conflict: choose one target");
  }
  const refFlags = Object.keys(v).filter((k) => k.startsWith("ref-"));
  if (v.url !== undefined && refFlags.length > 0) {
    throw new UsageError(`--${refFlags[0]} only applies to the reference server, not to --url`);
  }
  const engramFlags = ["engram-dir", "no-build", "port", "keep-data", "startup-timeout-s"]
    .filter((k) => v[k as keyof typeof v] !== undefined);
  if (engramFlags.length > 0 && (v.url !== undefined || v.reference)) {
    throw new UsageError(
      `--${engramFlags[0]} only applies to an Engram checkout, not to ${
        v.url !== undefined ? "--url" : "--reference"
      }`,
    );
  }
  let seed: bigint | undefined;
  if (v.seed !== undefined) {
    seed = parseSeed(v.seed);
    if (seed === undefined) {
      throw new UsageError(
        `--seed ${JSON.stringify(v.seed)}: expected an unsigned 64-bit integer, decimal or 0xHEX`,
      );
    }
  }
  if ((v["ref-stall-every-s"] === undefined) !== (v["ref-stall-ms"] === undefined)) {
    throw new UsageError("--ref-stall-every-s and --ref-stall-ms go together");
  }
  const options: CheckOptions = {
    task,
    phase,
    competitive,
    scenario: v.scenario,
    seed,
    rate: num("rate", v.rate, { min: Number.MIN_VALUE }),
    durationSeconds: num("duration", v.duration, { min: Number.MIN_VALUE }),
    warmupSeconds: num("warmup", v.warmup, { min: 0 }),
    url: v.url,
    reference: v.reference ?? false,
    engramDir: v["engram-dir"],
    build: !v["no-build"],
    port: num("port", v.port, { int: true, min: 1, max: 65535 }) ?? DEFAULT_ENGRAM_PORT,
    keepData: v["keep-data"] ?? false,
    startupTimeoutMs:
      (num("startup-timeout-s", v["startup-timeout-s"], { min: 1, max: 3600 }) ?? 60) * 1000,
    knobs: {
      latencyMs: num("ref-latency-ms", v["ref-latency-ms"], { min: 0, max: 60_000 }),
      jitterMs: num("ref-jitter-ms", v["ref-jitter-ms"], { min: 0, max: 60_000 }),
      errorRate: num("ref-error-rate", v["ref-error-rate"], { min: 0, max: 1 }),
      stallEverySeconds: num("ref-stall-every-s", v["ref-stall-every-s"], {
        min: Number.MIN_VALUE,
        max: 3600,
      }),
      stallMs: num("ref-stall-ms", v["ref-stall-ms"], { min: 0, max: 3_600_000 }),
      noSpreading: v["ref-no-spreading"] ?? false,
      seed: seed !== undefined ? String(seed) : undefined,
      record: v["ref-record"],
    },
    outDir: v["out-dir"] ?? "tmp/m17_performance",
    timeoutMs: num("timeout-ms", v["timeout-ms"], { int: true, min: 1, max: 600_000 }) ?? 10_000,
    maxInFlight: num("max-in-flight", v["max-in-flight"], { int: true, min: 1, max: 100_000 }) ??
      64,
    preloadConcurrency:
      num("preload-concurrency", v["preload-concurrency"], { int: true, min: 1, max: 1024 }) ?? 32,
    quiet: v.quiet ?? false,
    html: v.html ?? false,
    runIndex: 1,
    runCount: num("runs", v.runs, { int: true, min: 1, max: 100 }) ?? 1,
    runGroup: crypto.randomUUID(),
  };
  // Drop undefined knobs so reports stay tidy.
  for (const k of Object.keys(options.knobs) as (keyof typeof options.knobs)[]) {
    if (options.knobs[k] === undefined || options.knobs[k] === false) delete options.knobs[k];
  }
  return v["dry-run"] ? { kind: "dry-run", options } : { kind: "run", options };
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === "diag") return await diagCommand(argv.slice(1));
  if (argv[0] === "install-scripts") return await installCommand(argv.slice(1));
  if (argv[0] === "serve") {
    const { main: serve } = await import("./lib/reference/main.ts");
    return await serve(argv.slice(1));
  }
  const cmd = parseCheckArgs(argv);
  if (cmd.kind === "help") {
    console.log(USAGE);
    return EXIT.ok;
  }
  if (cmd.kind === "version") {
    console.log(await versionLine("m17_check"));
    return EXIT.ok;
  }
  const o = cmd.options;
  if (cmd.kind === "dry-run") {
    const { scenario, path, sha256 } = await prepareScenario(o);
    console.log(dryRunText(scenario, path, sha256));
    return EXIT.ok;
  }

  const controller = new AbortController();
  let received: "SIGINT" | "SIGTERM" | null = null;
  const onSignal = (sig: "SIGINT" | "SIGTERM") => () => {
    if (received) {
      // Second signal: kill the servers now (SIGKILL after 0.5 s); the run then winds up at
      // once, and if it does not within a second, leave without it.
      console.error(`\nm17_check: second ${sig}: killing the target and leaving`);
      stopAll(500).finally(() =>
        setTimeout(() => {
          releaseOpenClaimsSync();
          Deno.exit(received === "SIGINT" ? EXIT.sigint : EXIT.sigterm);
        }, 1000)
      );
      return;
    }
    received = sig;
    console.error(
      `\nm17_check: ${sig} received: stopping the run, the target and writing what was measured`,
    );
    controller.abort(sig); // the reason names the signal in the report
  };
  const handlers = { SIGINT: onSignal("SIGINT"), SIGTERM: onSignal("SIGTERM") };
  Deno.addSignalListener("SIGINT", handlers.SIGINT);
  Deno.addSignalListener("SIGTERM", handlers.SIGTERM);
  try {
    let exitCode: number = EXIT.ok;
    for (let i = 1; i <= o.runCount && !received; i++) {
      const outcome = await runCheck({ ...o, runIndex: i }, new RunLog(o.quiet), controller.signal);
      if (outcome.exitCode !== EXIT.ok) exitCode = outcome.exitCode;
    }
    if (received) return received === "SIGINT" ? EXIT.sigint : EXIT.sigterm;
    return exitCode;
  } catch (e) {
    await stopAll(2000);
    if (received) {
      console.error(`m17_check: interrupted (${received})`);
      return received === "SIGINT" ? EXIT.sigint : EXIT.sigterm;
    }
    throw e;
  } finally {
    Deno.removeSignalListener("SIGINT", handlers.SIGINT);
    Deno.removeSignalListener("SIGTERM", handlers.SIGTERM);
  }
}

if (import.meta.main) {
  restoreCallerCwd(new URL("./", import.meta.url));
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`m17_check: ${e.message}`);
      code = EXIT.usage;
    } else if (e instanceof RunError) {
      console.error(`m17_check: run failed: ${e.message}`);
      code = EXIT.runFailed;
    } else {
      console.error(`m17_check: unexpected error: ${(e as Error)?.stack ?? e}`);
      code = EXIT.runFailed;
    }
  }
  Deno.exit(code);
}
