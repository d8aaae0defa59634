import assert from "node:assert/strict";
import { startReference } from "../../lib/target/reference.ts";
import { pinnedCommand, pinningUnavailable, pinSelf, planPinning } from "../../lib/target/pin.ts";

Deno.test("planPinning(): the flags as given; a default only on 4+ cores with a server the tool starts", () => {
  assert.deepEqual(planPinning({ cores: 2, startsServer: true }), { kind: "none" });
  assert.deepEqual(planPinning({ cores: 3, startsServer: true }), { kind: "none" });
  assert.deepEqual(planPinning({ cores: 16, startsServer: false }), { kind: "none" });
  assert.deepEqual(planPinning({ cores: 4, startsServer: true }), {
    kind: "pin",
    client: "3",
    server: "0-2",
    source: "default",
  });
  assert.deepEqual(planPinning({ cores: 2, startsServer: true, clientCpus: "0" }), {
    kind: "pin",
    client: "0",
    server: null,
    source: "flags",
  });
  assert.deepEqual(
    planPinning({ cores: 2, startsServer: false, clientCpus: "0", serverCpus: "1" }),
    { kind: "pin", client: "0", server: null, source: "flags" },
  );
});

const linux = Deno.build.os === "linux" && (await pinningUnavailable()) === null;

/** `Cpus_allowed_list` of a process, from /proc. */
async function allowed(pid: number | "self"): Promise<string> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return status.match(/Cpus_allowed_list:\s*(\S+)/)![1];
}

Deno.test({
  name: "pinnedCommand() starts a process on the CPUs asked, with the same pid",
  ignore: !linux,
  async fn() {
    const { cmd, args } = pinnedCommand("0", "sleep", ["5"]);
    const child = new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).spawn();
    try {
      let list = "";
      for (let i = 0; i < 50; i++) { // taskset execs sleep: wait until it has
        await new Promise((r) => setTimeout(r, 20));
        if ((await Deno.readTextFile(`/proc/${child.pid}/comm`)).trim() === "sleep") {
          list = await allowed(child.pid);
          break;
        }
      }
      assert.equal(list, "0");
    } finally {
      child.kill("SIGKILL");
      await child.status;
    }
  },
});

Deno.test({
  name: "pinSelf() pins every thread of this process; a CPU the host lacks is one line",
  ignore: !linux,
  async fn() {
    const mine = await allowed("self");
    assert.equal(await pinSelf(mine), null); // the same set: harmless to the other tests
    assert.equal(await allowed("self"), mine);
    const failed = await pinSelf("1023");
    assert.match(failed ?? "", /^taskset -a -p -c 1023 failed: /);
    assert.ok(!failed!.includes("\n"));
  },
});

Deno.test({
  name: "a server the tool starts with cpus runs on them (--server-cpus), health JSON accepted",
  ignore: !linux,
  async fn() {
    const t = await startReference({}, { dim: 4, cpus: "0" });
    try {
      assert.equal(await allowed(t.process.pid), "0");
      assert.equal(t.details.pid, t.process.pid);
    } finally {
      await t.stop();
    }
  },
});

Deno.test({
  name: "pinningUnavailable(): without taskset on PATH, one line saying so",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const path = Deno.env.get("PATH") ?? "";
    Deno.env.set("PATH", "/nonexistent");
    try {
      assert.equal(
        await pinningUnavailable(),
        "CPU pinning is unavailable: taskset is not installed (util-linux)",
      );
    } finally {
      Deno.env.set("PATH", path);
    }
    assert.equal(await pinningUnavailable(), null);
  },
});
