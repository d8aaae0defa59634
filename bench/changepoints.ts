/**
 * m17's change points (lib/verdict/changepoint.ts, E-Divisive means with a permutation test and
 * a 5% minimum shift) next to Apache Otava's (`compute_change_points`, via
 * bench/otava_changepoints.py; `pip install apache-otava`) on the same series.
 *
 *   deno run -A bench/changepoints.ts                      synthetic series, precision/recall
 *   deno run -A bench/changepoints.ts --history FILE.json  the series of `compare --history --json`
 *
 * Synthetic: 216 seeded series (3 lengths × 3 noise levels × 4 step counts × 2 outlier settings ×
 * 3 repeats) with known steps of ±6-25%, Gaussian noise of 1-4% and, in half of them, 3% of the
 * values spiked ×1.5-3. A detection within ±2 values of a true step is a true positive (each step
 * matched once); precision = TP / detections, recall = TP / steps.
 * @module
 */
import { join } from "node:path";
import { changePoints } from "../lib/verdict/changepoint.ts";
import { Prng } from "../lib/workload/prng.ts";

const TOLERANCE = 2;
const DRIVER = join(import.meta.dirname!, "otava_changepoints.py");

/** Otava's settings compared: its defaults, and m17's significance level and minimum shift. */
const OTAVA_CONFIGS = [
  { name: "otava default (p≤0.001, t-test)", max_pvalue: 0.001, min_magnitude: 0 },
  { name: "otava p≤0.05, ≥5%", max_pvalue: 0.05, min_magnitude: 0.05 },
];

interface Case {
  series: number[];
  steps: number[];
  noisePct: number;
  outliers: boolean;
}

function synthetic(): Case[] {
  const rng = new Prng(0x0CA7n);
  const cases: Case[] = [];
  for (const length of [40, 80, 120]) {
    for (const noisePct of [1, 2, 4]) {
      for (const count of [0, 1, 2, 3]) {
        for (const outliers of [false, true]) {
          for (let repeat = 0; repeat < 3; repeat++) {
            cases.push(makeCase(rng, length, noisePct, count, outliers));
          }
        }
      }
    }
  }
  return cases;
}

function makeCase(
  rng: Prng,
  length: number,
  noisePct: number,
  count: number,
  outliers: boolean,
): Case {
  // Steps at least 10 values apart and from the ends.
  let steps: number[] = [];
  for (let tries = 0; steps.length < count; tries++) {
    // Positions drawn so far can leave no room for the rest: start over.
    if (tries % 50 === 49) steps = [];
    const at = 10 + rng.nextInt(length - 19);
    if (steps.every((s) => Math.abs(s - at) >= 10)) steps.push(at);
  }
  steps.sort((a, b) => a - b);
  const sizes = [6, 10, 15, 25];
  let level = 100;
  const series: number[] = [];
  for (let i = 0; i < length; i++) {
    if (steps.includes(i)) {
      const pct = sizes[rng.nextInt(sizes.length)] * (rng.nextInt(2) === 0 ? 1 : -1);
      level *= 1 + pct / 100;
    }
    let v = level * (1 + rng.nextGaussian() * noisePct / 100);
    if (outliers && rng.nextFloat() < 0.03) v *= 1.5 + rng.nextFloat() * 1.5;
    series.push(v);
  }
  return { series, steps, noisePct, outliers };
}

/** True positives: detections matched one-to-one to steps within ±TOLERANCE. */
function truePositives(found: number[], steps: number[]): number {
  const left = [...steps];
  let tp = 0;
  for (const f of found) {
    const i = left.findIndex((s) => Math.abs(s - f) <= TOLERANCE);
    if (i >= 0) {
      left.splice(i, 1);
      tp++;
    }
  }
  return tp;
}

async function otava(series: number[][]): Promise<
  { version: string; results: Record<string, number[][]>; seconds: Record<string, number> }
> {
  const child = new Deno.Command("python3", {
    args: [DRIVER],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify({ series, configs: OTAVA_CONFIGS })));
  await writer.close();
  const out = await child.output();
  if (!out.success) throw new Error("the Otava driver failed (pip install apache-otava)");
  const parsed = JSON.parse(new TextDecoder().decode(out.stdout));
  return { version: parsed.otava, results: parsed.results, seconds: parsed.seconds };
}

function m17(series: number[][]): { results: number[][]; seconds: number } {
  const started = performance.now();
  const results = series.map((s) => changePoints(s).map((c) => c.index));
  return { results, seconds: (performance.now() - started) / 1000 };
}

function pct(n: number, d: number): string {
  return d === 0 ? "–" : `${(n / d * 100).toFixed(0)}%`;
}

async function benchSynthetic(): Promise<void> {
  const cases = synthetic();
  const series = cases.map((c) => c.series);
  const ours = m17(series);
  const theirs = await otava(series);
  const methods: [string, number[][], number][] = [
    ["m17 (E-Divisive, p≤0.05, ≥5%)", ours.results, ours.seconds],
    ...OTAVA_CONFIGS.map((c) =>
      [c.name, theirs.results[c.name], theirs.seconds[c.name]] as [string, number[][], number]
    ),
  ];
  console.log(
    `${cases.length} synthetic series, ${
      cases.reduce((n, c) => n + c.steps.length, 0)
    } steps; Otava ${theirs.version}; match within ±${TOLERANCE} values\n`,
  );
  const groups: [string, (c: Case) => boolean][] = [
    ["all", () => true],
    ["noise 1%", (c) => c.noisePct === 1],
    ["noise 2%", (c) => c.noisePct === 2],
    ["noise 4%", (c) => c.noisePct === 4],
    ["no outliers", (c) => !c.outliers],
    ["3% outliers ×1.5-3", (c) => c.outliers],
    ["no step (false alarms)", (c) => c.steps.length === 0],
  ];
  console.log("| series | method | precision | recall | detections | steps | seconds |");
  console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
  for (const [label, keep] of groups) {
    for (const [name, results, seconds] of methods) {
      let tp = 0, found = 0, steps = 0;
      cases.forEach((c, i) => {
        if (!keep(c)) return;
        tp += truePositives(results[i], c.steps);
        found += results[i].length;
        steps += c.steps.length;
      });
      console.log(
        `| ${label} | ${name} | ${pct(tp, found)} | ${pct(tp, steps)} | ${found} | ${steps} | ${
          label === "all" ? seconds.toFixed(2) : ""
        } |`,
      );
    }
  }
}

/** Both implementations on each series of a `compare --history --json` output. */
async function benchHistory(path: string): Promise<void> {
  const json = JSON.parse(await Deno.readTextFile(path));
  for (const h of json.histories) {
    for (const metric of ["p99", "throughput", "errors"]) {
      const points: { task: string; phase: string; value: number }[] = h.series[metric];
      const values = points.map((p) => p.value);
      const ours = changePoints(values).map((c) => c.index);
      const theirs = await otava([values]);
      const at = (i: number) => `${i} (task ${points[i].task} ${points[i].phase})`;
      console.log(`${h.mode} ${metric}, ${values.length} runs:`);
      console.log(`  m17: ${ours.map(at).join(", ") || "none"}`);
      for (const c of OTAVA_CONFIGS) {
        console.log(`  ${c.name}: ${theirs.results[c.name][0].map(at).join(", ") || "none"}`);
      }
    }
  }
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--history");
  if (i >= 0) await benchHistory(Deno.args[i + 1]);
  else await benchSynthetic();
}
