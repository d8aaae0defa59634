/**
 * `check --profile`'s step when perf cannot start: the one line it prints (and records in the
 * report) quotes perf's last words without their escape sequences or control characters. A
 * fake `perf` on PATH plays a perf that fails with a hostile message.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startProfile } from "../../lib/run/profile_step.ts";

Deno.test({
  name: "startProfile(): perf's failure is said on one line without escape sequences",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "m17_profile_step_" });
    const path = Deno.env.get("PATH") ?? "";
    try {
      const bin = join(dir, "bin");
      await Deno.mkdir(bin);
      await Deno.writeTextFile(
        join(bin, "perf"),
        "#!/bin/sh\nprintf 'Error: \\033[31mno\\033[2J such\\007 event\\r\\n' >&2\nexit 1\n",
      );
      await Deno.chmod(join(bin, "perf"), 0o755);
      Deno.env.set("PATH", `${bin}:${path}`);
      const said: string[] = [];
      const started = await startProfile(
        Deno.pid,
        {
          folded: join(dir, "x_profile.folded"),
          svg: join(dir, "x_profile.svg"),
          perfLog: join(dir, "x_server.log"),
        },
        () => "",
        (line) => said.push(line),
        { frequencyHz: 99 },
      );
      assert.ok(!("finish" in started), "no session without a working perf");
      assert.equal(said.length, 1);
      assert.equal(said[0], "no profile: perf record did not start: Error: no such  event");
      // deno-lint-ignore no-control-regex
      assert.doesNotMatch(said[0], /[\x00-\x1f\x7f]/);
      assert.deepEqual(started, { kind: "none", reason: said[0] });
    } finally {
      Deno.env.set("PATH", path);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
