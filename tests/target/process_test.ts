/**
 * ServerProcess.stop() stops the whole process group whatever happened to its leader (issue 25,
 * class 4): a server that forks and exits leaves a child holding the port in its group, and that
 * child is stopped too, by `stop()` and by `stopAll()` (the signal handlers' path).
 */
import assert from "node:assert/strict";
import { ServerProcess, stopAll } from "../../lib/target/process.ts";
import { isAlive } from "../../lib/target/system.ts";

/** Polls `cond` every 20 ms for at most `ms`. */
async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

/** A leader that starts `sleep 30` in its group, prints its pid and exits 1. */
function forkAndExit(childKeepsOutput: boolean): ServerProcess {
  const redirect = childKeepsOutput ? "" : " >/dev/null 2>&1 </dev/null";
  return new ServerProcess(
    "forker",
    "sh",
    ["-c", `sleep 30${redirect} & echo "child $!"; exit 1`],
    {},
  );
}

for (const keeps of [false, true]) {
  const how = keeps ? "keeps the leader's output pipes" : "closed its output";
  Deno.test(`stop(): a leader that forked and exited (the child ${how}): the child is stopped too`, async () => {
    const proc = forkAndExit(keeps);
    const child = Number((await proc.waitForLine(/^child (\d+)$/, 5000))[1]);
    try {
      assert.ok(await until(() => proc.status !== null, 5000), "the leader exited");
      assert.equal(await isAlive(child), true, "the child outlived its leader");
      const status = await proc.stop(1000);
      assert.equal(status.code, 1);
      assert.equal(await isAlive(child), false, "the child was stopped with its group");
    } finally {
      try {
        Deno.kill(child, "SIGKILL");
      } catch { /* gone */ }
    }
  });
}

Deno.test("stopAll(): a group whose leader already exited is still stopped (the signal handlers' path)", async () => {
  const proc = forkAndExit(false);
  const child = Number((await proc.waitForLine(/^child (\d+)$/, 5000))[1]);
  try {
    assert.ok(await until(() => proc.status !== null, 5000), "the leader exited");
    await stopAll(1000);
    assert.equal(await isAlive(child), false, "the child was stopped with its group");
  } finally {
    try {
      Deno.kill(child, "SIGKILL");
    } catch { /* gone */ }
  }
});

Deno.test('output "file": the process writes its log itself (no pipe through the tool); tail() reads the file', async () => {
  const dir = await Deno.makeTempDir();
  const log = `${dir}/server.log`;
  try {
    await Deno.writeTextFile(log, "m17: header\n");
    const proc = new ServerProcess(
      "chatty",
      "sh",
      [
        "-c",
        'i=0; while [ $i -lt 3000 ]; do echo "line $i"; i=$((i+1)); done; echo "to stderr" >&2',
      ],
      { logPath: log, output: "file" },
    );
    // The output never passes through this process: there is no pipe to read.
    assert.throws(() => proc.child.stdout, TypeError);
    const status = await proc.exited;
    assert.equal(status.code, 0);
    const text = await Deno.readTextFile(log);
    assert.ok(text.startsWith("m17: header\nline 0\n"), "appended after what was there");
    assert.ok(text.includes("line 2999\n"), "every line reached the file");
    const tail = proc.tail();
    assert.equal(tail.length, 20);
    assert.deepEqual(tail.slice(-2), ["line 2999", "to stderr"]);
    assert.throws(() => proc.waitForLine(/x/, 10), /goes to a file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("output \"file\": a relative log path is this process's, not the child's cwd", async () => {
  const dir = await Deno.makeTempDir();
  const childCwd = await Deno.makeTempDir();
  const rel = `${dir.slice(Deno.cwd().length + 1)}`;
  try {
    // A path relative to the tool's cwd (made relative only when the temp dir is below it).
    const logPath = dir.startsWith(Deno.cwd() + "/") ? `${rel}/server.log` : `${dir}/server.log`;
    const proc = new ServerProcess("rel", "sh", ["-c", "echo hello"], {
      cwd: childCwd,
      logPath,
      output: "file",
    });
    assert.equal((await proc.exited).code, 0);
    assert.equal(await Deno.readTextFile(`${dir}/server.log`), "hello\n");
    assert.deepEqual(proc.tail(), ["hello"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(childCwd, { recursive: true });
  }
});
