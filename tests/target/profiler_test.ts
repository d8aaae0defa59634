/**
 * The perf recorder: one-line reasons where perf cannot be used, and a real recording of a
 * child that burns CPU in one named JavaScript function before the window and in another
 * during it — only the second may appear. Reported as ignored, with the reason, where perf
 * cannot record (not installed, not permitted, not Linux).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  findPerf,
  PerfRecording,
  PROFILE_FREQUENCY_HZ,
  startFailureReason,
} from "../../lib/target/profiler.ts";
import { foldPerfScript, functionSamples } from "../../lib/report/profile.ts";

/** Why perf cannot record here, or null when it can (a `perf stat` of `true` as the probe). */
async function perfUnusable(): Promise<string | null> {
  const perf = findPerf();
  if (typeof perf !== "string") return perf.reason;
  const probe = await new Deno.Command(perf, {
    args: ["stat", "-e", "cpu-clock", "--", "true"],
    stdout: "null",
    stderr: "piped",
  }).output();
  return probe.success
    ? null
    : startFailureReason(new TextDecoder().decode(probe.stderr).split("\n"), null);
}

const UNUSABLE = await perfUnusable();
if (UNUSABLE) console.log(`profiler recording test ignored: ${UNUSABLE}`);

Deno.test("findPerf(): one line for macOS and for a missing perf", () => {
  const mac = findPerf("darwin", "/usr/bin");
  assert.equal(
    typeof mac === "string" ? mac : mac.reason,
    "no profile: --profile records with Linux perf, which macOS does not have",
  );
  const missing = findPerf("linux", "/nonexistent-dir");
  assert.equal(
    typeof missing === "string" ? missing : missing.reason,
    "no profile: `perf` is not installed (Debian: apt-get install linux-perf)",
  );
});

Deno.test("startFailureReason(): names perf_event_paranoid on a permission error", () => {
  const lines = [
    "Error:",
    "Access to performance monitoring and observability operations is limited.",
    "perf_event_paranoid setting is 3:",
  ];
  assert.match(
    startFailureReason(lines, 3),
    /^no profile: perf may not record here \(kernel\.perf_event_paranoid = 3;/,
  );
  assert.equal(
    startFailureReason(["Error: event syntax error: 'cpu-clok'"], 1),
    "no profile: perf record did not start: Error: event syntax error: 'cpu-clok'",
  );
});

Deno.test("PerfRecording.start(): a process that does not exist gives one line, no throw", {
  ignore: UNUSABLE !== null,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "m17_prof_" });
  try {
    const r = await PerfRecording.start({
      pid: 2 ** 22 + 7,
      workDir: dir,
      logPath: join(dir, "perf.log"),
    });
    assert.ok(!(r instanceof PerfRecording));
    if (!(r instanceof PerfRecording)) assert.match(r.reason, /^no profile: /);
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name),
      ["perf.log"],
      "nothing left but the log",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const CHILD = `
function warmupBurn(ms) { const end = performance.now() + ms; let x = 0; while (performance.now() < end) x += Math.sqrt(x + 1); return x; }
function measuredBurn(ms) { const end = performance.now() + ms; let x = 0; while (performance.now() < end) x += Math.sqrt(x + 2); return x; }
let measured = false;
Deno.addSignalListener("SIGUSR1", () => { measured = true; console.log("switched"); });
console.log("ready");
for (let i = 0; i < 4000; i++) {
  if (measured) measuredBurn(5); else warmupBurn(5);
  await new Promise((r) => setTimeout(r, 0));
}
`;

Deno.test("PerfRecording: samples only between enable() and stop(), JS frames named", {
  ignore: UNUSABLE !== null,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "m17_prof_" });
  const script = join(dir, "child.js");
  await Deno.writeTextFile(script, CHILD);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--v8-flags=--perf-basic-prof", script],
    cwd: dir, // V8 writes an isolate-*-v8.log into its working directory under a perf flag
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const nextLine = async () => (await lines.read()).value ?? "";
  try {
    assert.match(await nextLine(), /ready/);
    const rec = await PerfRecording.start({
      pid: child.pid,
      workDir: dir,
      logPath: join(dir, "perf.log"),
    });
    assert.ok(rec instanceof PerfRecording, "reason" in rec ? rec.reason : "");
    if (!(rec instanceof PerfRecording)) return;
    await new Promise((r) => setTimeout(r, 800)); // attached but disabled while warmupBurn runs
    Deno.kill(child.pid, "SIGUSR1");
    assert.match(await nextLine(), /switched/);
    await rec.enable();
    await new Promise((r) => setTimeout(r, 1500));
    const result = await rec.stop();
    assert.equal(result.kind, "recorded", "reason" in result ? result.reason : "");
    if (result.kind !== "recorded") return;
    assert.equal(result.frequencyHz, PROFILE_FREQUENCY_HZ);
    assert.ok(result.windowMs >= 1400 && result.windowMs < 10_000, `window ${result.windowMs} ms`);
    const fns = functionSamples(foldPerfScript(result.scriptText));
    const measured = [...fns.values()].find((f) => f.name.startsWith("measuredBurn "));
    const warmup = [...fns.values()].find((f) => f.name.startsWith("warmupBurn "));
    assert.ok(measured && measured.total >= 20, `measuredBurn: ${JSON.stringify(measured)}`);
    assert.equal(warmup, undefined, "nothing from before enable()");
    assert.deepEqual(
      // The child's own V8 log (its working directory is `dir`) is not the recorder's.
      [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => !/^isolate-.*-v8\.log$/.test(n))
        .sort(),
      ["child.js", "perf.log"],
      "perf's data and FIFO removed",
    );
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await lines.cancel().catch(() => {});
    await child.status;
    await Deno.remove(`/tmp/perf-${child.pid}.map`).catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});
