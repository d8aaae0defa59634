/**
 * `deno task bench <name|all> [--quick]`: benchmarks of the tool itself (BENCHMARKS.md).
 * Prints each result as a table and writes tmp/bench/<name>_<timestamp>.json.
 *
 *   deno task bench list            the benchmarks and their goals
 *   deno task bench pacing          one benchmark
 *   deno task bench all --quick     every benchmark, short versions (development)
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { type Benchmark, renderTable, type Row, writeResult } from "./harness.ts";
import { formatLoad, loadAverage, machineInfo } from "./machine.ts";
import { ROOT } from "./procs.ts";
import { stopAll } from "../lib/target/process.ts";
import { capacity } from "./capacity.ts";
import { compareSpeed } from "./compare_speed.ts";
import { intervals } from "./intervals.ts";
import { engine } from "./engine.ts";
import { memory } from "./memory.ts";
import { overhead } from "./overhead.ts";
import { pacing } from "./pacing.ts";
import { reference } from "./reference.ts";
import { sequential } from "./sequential.ts";
import { stalls } from "./stalls.ts";
import { workloadGen } from "./workload_gen.ts";

/** Every benchmark, in the order `all` runs them (the CPU-sensitive ones first, memory last). */
export const BENCHMARKS: Benchmark[] = [
  workloadGen,
  engine,
  overhead,
  pacing,
  capacity,
  stalls,
  compareSpeed,
  intervals,
  sequential,
  reference,
  memory,
];

const PERMS = [
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env",
  "--allow-run",
  "--allow-sys",
  "--allow-ffi",
];

/**
 * `all`: each benchmark in its own process (a fresh heap and JIT state for each), one after the
 * other; the summary is read back from the result files they write.
 */
async function runAll(quick: boolean): Promise<number> {
  const summary: Row[] = [];
  let failed = false;
  for (const b of BENCHMARKS) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", ...PERMS, fromFileUrl(import.meta.url), b.name, ...(quick ? ["--quick"] : [])],
      stdout: "piped",
      stderr: "inherit",
      stdin: "null",
    }).spawn();
    let out = "";
    const dec = new TextDecoder();
    for await (const chunk of child.stdout) {
      const text = dec.decode(chunk, { stream: true });
      out += text;
      await Deno.stdout.write(chunk);
    }
    const status = await child.status;
    const path = out.match(/results: (\S+\.json)/)?.[1];
    if (!status.success || !path) {
      failed = true;
      summary.push({ benchmark: b.name, verdict: "error", result: `exit ${status.code}` });
      continue;
    }
    const r = JSON.parse(await Deno.readTextFile(path));
    summary.push({ benchmark: b.name, verdict: r.verdict, result: r.summary });
  }
  console.log("\n== summary ==");
  console.log(renderTable(summary));
  return failed ? 1 : 0;
}

const USAGE = `Usage: deno task bench <name|all|list> [--quick]

Benchmarks of m17 itself; see BENCHMARKS.md. Results: a table on stdout and
tmp/bench/<name>_<timestamp>.json. --quick runs short versions (development only).
Benchmarks: ${BENCHMARKS.map((b) => b.name).join(", ")}`;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { quick: { type: "boolean" }, help: { type: "boolean", short: "h" } },
    });
  } catch (e) {
    console.error(`bench: ${(e as Error).message.split("\n")[0]}\n${USAGE}`);
    return 3;
  }
  const [name] = parsed.positionals;
  if (parsed.values.help || !name) {
    console.log(USAGE);
    return name ? 0 : 3;
  }
  if (name === "list") {
    for (const b of BENCHMARKS) console.log(`${b.name.padEnd(14)} ${b.title}: ${b.goal}`);
    return 0;
  }
  const quick = parsed.values.quick ?? false;
  if (name === "all") return await runAll(quick);
  const b = BENCHMARKS.find((b) => b.name === name);
  if (!b) {
    console.error(`bench: no benchmark '${name}'\n${USAGE}`);
    return 3;
  }
  const m = await machineInfo();
  console.log(
    `machine: ${m.nproc} cpus, ${m.cpuModel}, ${m.ramGiB} GiB RAM, ${m.os} (${m.kernel}), deno ${m.deno}`,
  );
  const startedAt = new Date();
  const loadStart = loadAverage();
  console.log(`\n== ${b.name}: ${b.title}${quick ? " (quick)" : ""} ==`);
  console.log(`goal: ${b.goal}`);
  console.log(`load average at start: ${formatLoad(loadStart)}`);
  const workDir = join(ROOT, "tmp", "bench", b.name);
  await Deno.mkdir(workDir, { recursive: true });
  try {
    const result = await b.run({ quick, workDir, log: (t) => console.error(`  ${t}`) });
    const loadEnd = loadAverage();
    console.log(renderTable(result.rows));
    console.log(`verdict: ${result.verdict} — ${result.summary}`);
    const path = await writeResult(b, result, { quick, startedAt, loadStart, loadEnd });
    console.log(`load average at end: ${formatLoad(loadEnd)}; results: ${path}`);
    return 0;
  } catch (e) {
    console.error(`bench ${b.name} failed: ${(e as Error).stack ?? e}`);
    return 1;
  }
}

if (import.meta.main) {
  const stop = () => stopAll(1000).then(() => Deno.exit(130));
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  const code = await main(Deno.args);
  await stopAll(1000);
  Deno.exit(code);
}
