/**
 * Folding and demangling on real `perf script` recordings (tests/fixtures/perf/README.md): our
 * demangler must print what perf's own demangler prints for the same samples, legacy and v0;
 * JavaScript frames from V8's perf map are named without tier marker and line.
 */
import assert from "node:assert/strict";
import { demangle } from "../../lib/report/demangle.ts";
import {
  foldPerfScript,
  formatFolded,
  frameName,
  frameTree,
  functionSamples,
  mergeProfiles,
  parseFolded,
  topFunctions,
} from "../../lib/report/profile.ts";

const FIXTURES = new URL("../fixtures/perf/", import.meta.url);
const read = (name: string) => Deno.readTextFileSync(new URL(name, FIXTURES));

for (const name of ["rust_legacy_fp", "rust_v0_fp", "rust_v0_dwarf"]) {
  Deno.test(`foldPerfScript() on ${name}: demangled exactly as perf demangles the same samples`, () => {
    const ours = foldPerfScript(read(`${name}.perf_script.txt`));
    const perfs = foldPerfScript(read(`${name}.perf_demangled.txt`));
    assert.ok(ours.samples >= 8, `${ours.samples} samples`);
    assert.equal(formatFolded(ours), formatFolded(perfs));
    const folded = formatFolded(ours);
    assert.doesNotMatch(folded, /_ZN|_R[A-Z]/, "no mangled Rust name left");
  });
}

Deno.test("legacy names lose their hash; v0 names print impls and generics as rustc-demangle does", () => {
  const legacy = formatFolded(foldPerfScript(read("rust_legacy_fp.perf_script.txt")));
  assert.match(legacy, /;burn::main;burn::activation::Graph::spread \d+\n/);
  assert.match(legacy, /;std::rt::lang_start::\{\{closure\}\};/);
  const v0 = formatFolded(foldPerfScript(read("rust_v0_fp.perf_script.txt")));
  assert.match(v0, /;burn::main;<burn::activation::Graph>::spread \d+\n/);
  assert.match(v0, /;std::rt::lang_start::<\(\)>::\{closure#0\};/);
  const dwarf = formatFolded(foldPerfScript(read("rust_v0_dwarf.perf_script.txt")));
  assert.match(dwarf, /<&dyn core::ops::function::Fn<\(\), Output = i32> \+ core::marker::Sync/);
  assert.match(dwarf, /;push<usize, alloc::alloc::Global>;/, "inlined frames are kept");
});

Deno.test("demangle() covers v0 forms not in the recordings, and leaves others alone", () => {
  const cases: Array<[string, string]> = [
    // Examples from the v0 RFC (rust-lang/rfcs 2603) and rustc-demangle's tests.
    ["_RNvCs15kBYyAo9fc_7mycrate7example", "mycrate::example"],
    [
      "_RNvMsr_NtCs3ssYzQotkvD_3std4pathNtB5_7PathBuf3newCs15kBYyAo9fc_7mycrate",
      "<std::path::PathBuf>::new",
    ],
    [
      "_RNvXCs15kBYyAo9fc_7mycrateNtB2_7ExampleNtNtCs3ssYzQotkvD_3std5clone5Clone5clone",
      "<mycrate::Example as std::clone::Clone>::clone",
    ],
    ["_RINvCs7qp2U7fqm6G_7mycrate7exampleAtj8_EB2_", "mycrate::example::<[u16; 8]>"],
    ["_RINvNtC3std3mem8align_ofjE", "std::mem::align_of::<usize>"],
    [
      "_RINvNtC3std3mem8align_ofFG_UKCRL0_mEuE",
      `std::mem::align_of::<for<'a> unsafe extern "C" fn(&'a u32)>`,
    ],
    ["_RINvC1a1fINtC1b1SKb1_EE", "a::f::<b::S<true>>"],
    ["_RNvNvC1a1f4main", "a::f::main"],
    ["_RNCNvC1a1f0", "a::f::{closure#0}"],
    ["_RNCNvC1a1fs_0", "a::f::{closure#1}"],
    ["_RINvC1a1fTlmEE", "a::f::<(i32, u32)>"],
    ["_RINvC1a1fTlEE", "a::f::<(i32,)>"],
    ["_RINvC1a1fQRShE", "a::f::<&mut &[u8]>"],
    ["_RINvC1a1fPOeE", "a::f::<*const *mut str>"],
    ["_RINvC1a1fKanb_E", "a::f::<-11>"],
  ];
  for (const [mangled, want] of cases) assert.equal(demangle(mangled), want, mangled);
  for (const other of ["_ZN3foo3barEv", "main", "_RZZZ", "_R", "_ZN3fooE", "[deno]", "_RB_"]) {
    assert.equal(demangle(other), other, `${other} unchanged`);
  }
  assert.equal(
    demangle("_ZN4core3ptr13drop_in_place17h0123456789abcdefE.llvm.123"),
    "core::ptr::drop_in_place",
  );
  assert.equal(
    demangle("_ZN37$LT$T$u20$as$u20$core..fmt..Debug$GT$3fmt17h0123456789abcdefE"),
    "<T as core::fmt::Debug>::fmt",
  );
});

Deno.test("demangle() survives hostile input: deep backrefs and nesting stop, never throw", () => {
  assert.equal(demangle("_R" + "I".repeat(5000) + "C1aE"), "_R" + "I".repeat(5000) + "C1aE");
  assert.equal(demangle("_RNvB0_1a"), "_RNvB0_1a", "a backref to itself");
});

Deno.test("JavaScript frames from V8's perf map are one function per name and script", () => {
  const p = foldPerfScript(read("deno_js.perf_script.txt"));
  const fns = functionSamples(p);
  const handle = fns.get("handle file:///tmp/i20/js_burn.ts");
  assert.ok(handle && handle.total > 0, [...fns.keys()].join("\n"));
  for (const name of fns.keys()) assert.doesNotMatch(name, /^JS:|:\d+:\d+$/, name);
  assert.ok(fns.has("[deno]"), "stripped binary frames are named after the binary");
  assert.doesNotMatch(formatFolded(p), /\[deno\];\[deno\]/, "repeats of an unnamed frame merge");
  assert.equal(frameName("LazyCompile:~spread file:///a.js:4:2"), "spread file:///a.js");
  assert.equal(frameName("JS:*'burn file:///srv/x.ts:10:3"), "burn file:///srv/x.ts");
});

Deno.test("foldPerfScript() roots stacks at the thread name, keeps frameless samples, skips non-frames", () => {
  const text = [
    "tokio-runtime-w 41/42 [001] 10.5: 10101010 cpu-clock:",
    "\t1a spread+0x1a (/bin/engram)",
    "\t2b [unknown] ([unknown])",
    "",
    "engram 41 11.0: 10101010 cpu-clock:",
    "V8 DefaultWorke 41/43 12.0: 10101010 cpu-clock:",
    "\t3c memcpy+0x3c (/usr/lib/x86_64-linux-gnu/libc.so.6)",
    "\tnot a frame line",
    "",
  ].join("\n");
  const folded = formatFolded(foldPerfScript(text));
  assert.equal(
    folded,
    "V8 DefaultWorke;memcpy 1\nengram 1\ntokio-runtime-w;[unknown];spread 1\n",
  );
});

Deno.test("parseFolded() round-trips, reports a bad line, and merge adds counts", () => {
  const p = parseFolded("t;a;b 2\nt;a 1\n\n");
  assert.ok(typeof p !== "string");
  assert.equal(formatFolded(p), "t;a 1\nt;a;b 2\n");
  assert.equal(
    parseFolded("t;a;b 2\nno count here\n"),
    'line 2 is not "frame;frame count": no count here',
  );
  const m = mergeProfiles([p, p]);
  assert.equal(m.samples, 6);
  assert.equal(formatFolded(m), "t;a 2\nt;a;b 4\n");
});

Deno.test("functionSamples() counts self on top and total once per sample, recursion included", () => {
  const p = parseFolded("t;main;walk;walk;leaf 4\nt;main;walk 2\nt;main 1\n");
  assert.ok(typeof p !== "string");
  const f = functionSamples(p);
  assert.deepEqual(f.get("walk"), { name: "walk", self: 2, total: 6 });
  assert.deepEqual(f.get("leaf"), { name: "leaf", self: 4, total: 4 });
  assert.equal(f.has("t"), false, "the thread name is not a function");
  assert.deepEqual(topFunctions(p, 2).map((x) => x.name), ["leaf", "walk"]);
  const tree = frameTree(p);
  assert.equal(tree.total, 7);
  assert.equal(tree.children.get("t")?.children.get("main")?.self, 1);
});
