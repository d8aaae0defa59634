/**
 * Reliability, wording (issue 25, classes 8 and 12): `serve --record FIFO` is refused instead of
 * blocking; a device for `--ref-record`, a dangling or looping symlink or /dev/null as the out
 * dir, an unresolvable host and a rate too low for any allowed duration are each named for what
 * they are; without a terminal no progress line says nothing (`measured 0/…`).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT } from "../fixtures/reliability.ts";
import { runCli } from "./cli.ts";
import { makeReport, shapedSamples, writeReport } from "../fixtures/make_report.ts";
import { inTempDir } from "../fixtures/temp_dir.ts";

/** `m17_check` refusing `args` at once: exit 3, one line matching `what`. */
async function refused(args: string[], what: RegExp, not?: RegExp): Promise<string> {
  const r = await runCli("m17_check", args, { timeoutMs: 30_000 });
  assert.equal(r.code, 3, r.stderr);
  const line = r.stderr.trim();
  assert.equal(line.split("\n").length, 1, r.stderr);
  assert.match(line, what);
  if (not) assert.doesNotMatch(line, not);
  return line;
}

Deno.test("serve --record FIFO: refused at once (exit 3, one line), never blocks", async () => {
  await inTempDir("m17_rel_serve_fifo_", async (dir) => {
    const fifo = join(dir, "rec.fifo");
    await new Deno.Command("mkfifo", { args: [fifo] }).output();
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--allow-env",
        "--allow-read",
        "--allow-write",
        join(ROOT, "lib/reference/main.ts"),
        "--port",
        "0",
        "--record",
        fifo,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    const out = await child.output();
    clearTimeout(timer);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 3, stderr);
    assert.match(stderr, /--record .*rec\.fifo: is a FIFO \(named pipe\), not a regular file/);
    assert.equal(new TextDecoder().decode(out.stdout), "", "never listened");
  });
});

Deno.test("check --ref-record /dev/full: a device, not a request for --allow-all", async () => {
  await refused(
    ["t1", "--ref-record", "/dev/full"],
    /--ref-record \/dev\/full: is a device or kernel file, not a regular file/,
    /allow-all/,
  );
});

Deno.test("check --out-dir a dangling symlink, a symlink loop or /dev/null: named, not 'File exists'", async () => {
  await inTempDir("m17_rel_outdir_kind_", async (dir) => {
    await Deno.symlink(join(dir, "nowhere"), join(dir, "dangling"));
    await Deno.symlink(join(dir, "loop"), join(dir, "loop"));
    const cases: [string, string][] = [
      [join(dir, "dangling"), "a dangling symlink"],
      [join(dir, "loop"), "a symlink loop"],
      ["/dev/null", "a character device"],
    ];
    for (const [out, what] of cases) {
      await refused(
        ["t1", "--out-dir", out],
        new RegExp(`out dir .*: cannot create \\(it is ${what}, not a directory\\)`),
        /File exists|os error/,
      );
    }
  });
});

Deno.test("check --rate 0.0001: the advice never names a duration above the 86,400-s cap", async () => {
  const line = await refused(["t1", "--rate", "0.0001", "--duration", "60"], /use a rate ≥/);
  for (const m of line.matchAll(/duration ≥ ([\d.]+) s/g)) assert.ok(Number(m[1]) <= 86_400, line);
});

Deno.test("check --url with a host name that does not resolve: said so, not 'connection refused'", async () => {
  await inTempDir("m17_rel_dns_", async (dir) => {
    const r = await runCli(
      "m17_check",
      ["t1", "--url", "http://no-such-host.invalid:7432", "--out-dir", dir],
      { timeoutMs: 30_000 },
    );
    assert.equal(r.code, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /connection refused/);
    if (/\(last: timeout\)/.test(r.stderr)) {
      console.warn("the resolver answered after every probe's timeout (a loaded host)");
    } else assert.match(r.stderr, /the host name does not resolve/);
  });
});

Deno.test("check without a terminal: no progress line at 0 s of the window", async () => {
  await inTempDir("m17_rel_progress_", async (dir) => {
    const r = await runCli(
      "m17_check",
      ["t1", "--rate", "200", "--warmup", "0", "--duration", "3", "--out-dir", dir],
      { timeoutMs: 60_000 },
    );
    assert.ok(r.code === 0 || r.code === 1, r.stderr);
    assert.match(r.stdout, /measured window started/);
    assert.doesNotMatch(r.stdout, /^measured 0\//m, "a line that carries no information");
  });
});

Deno.test("compare with a report that records no host: a warning, never 'undefined', --html works", async () => {
  await inTempDir("m17_rel_nohost_", async (dir) => {
    const samples = { Store: shapedSamples({ p50: 0.4, p95: 0.5, p99: 0.6, p999: 0.9 }) };
    const after = makeReport({ phase: "after", samplesMs: samples, throughput: 999 });
    delete (after as Partial<typeof after>).host;
    await writeReport(dir, "001_before_20250101_120000.json", makeReport({ samplesMs: samples }));
    await writeReport(dir, "001_after_20250101_130000.json", after);
    const html = join(dir, "c.html");
    const r = await runCli("m17_compare", ["001", "--dir", dir, "--html", html]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /the after report records no host: whether both ran on one host is not checked/,
    );
    assert.doesNotMatch(r.stdout + r.stderr, /undefined/);
    assert.match(await Deno.readTextFile(html), /not recorded/);
  });
});
