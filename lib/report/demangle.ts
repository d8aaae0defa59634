/**
 * Rust symbol demangling for profiles: legacy (`_ZN…17h<hash>E`) and v0 (`_R…`, RFC 2603)
 * names become the paths a Rust programmer reads, printed as `rustc-demangle`'s alternate form
 * (no hashes, no crate disambiguators) — the form `perf script` prints when it demangles. Any
 * other name (C, C++, JavaScript, already demangled) is returned unchanged, as is a malformed one.
 * @module
 */

/**
 * Demangles a Rust symbol (legacy or v0); returns any other name unchanged.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * import { demangle } from "./demangle.ts";
 * strictEqual(demangle("_ZN4burn10activation5Graph6spread17h25cd5bb7dd6a65e7E"), "burn::activation::Graph::spread");
 * strictEqual(demangle("_RNvMNtCsbNnquXZbwGE_4burn10activationNtB2_5Graph6spread"), "<burn::activation::Graph>::spread");
 * strictEqual(demangle("malloc"), "malloc");
 * ```
 */
export function demangle(symbol: string): string {
  const mac = symbol.startsWith("__Z") || symbol.startsWith("__R") ? symbol.slice(1) : symbol;
  if (mac.startsWith("_R")) return demangleV0(mac) ?? symbol;
  if (mac.startsWith("_ZN")) return demangleLegacy(mac) ?? symbol;
  return symbol;
}

// ---- legacy ------------------------------------------------------------------------------------

const LEGACY_ESCAPES: Record<string, string> = {
  SP: "@",
  BP: "*",
  RF: "&",
  LT: "<",
  GT: ">",
  LP: "(",
  RP: ")",
  C: ",",
};

/** `_ZN<len><ident>…17h<16 hex>E` (a C++ name without the hash is not Rust: null). */
function demangleLegacy(symbol: string): string | null {
  const end = symbol.indexOf("E", 3);
  const parts: string[] = [];
  let i = 3;
  for (let guard = 0; guard < symbol.length && symbol[i] !== "E"; guard++) {
    const m = /^[0-9]+/.exec(symbol.slice(i));
    if (!m) return null;
    const len = Number(m[0]);
    i += m[0].length;
    if (len === 0 || i + len > symbol.length) return null;
    parts.push(symbol.slice(i, i + len));
    i += len;
  }
  if (end < 0 || symbol[i] !== "E" || parts.length < 2) return null;
  const suffix = symbol.slice(i + 1);
  if (suffix !== "" && !suffix.startsWith(".")) return null;
  const hash = parts[parts.length - 1];
  if (!/^h[0-9a-f]{16}$/.test(hash)) return null;
  const names = parts.slice(0, -1).map(unescapeLegacy);
  return names.includes(null) ? null : names.join("::");
}

function unescapeLegacy(part: string): string | null {
  let s = part.startsWith("_$") ? part.slice(1) : part;
  let out = "";
  for (let guard = 0; s.length > 0 && guard <= part.length; guard++) {
    if (s.startsWith("..")) {
      out += "::";
      s = s.slice(2);
    } else if (s[0] === "$") {
      const close = s.indexOf("$", 1);
      if (close < 0) return null;
      const code = s.slice(1, close);
      const known = LEGACY_ESCAPES[code];
      if (known !== undefined) out += known;
      else if (/^u[0-9a-f]+$/.test(code)) out += String.fromCodePoint(parseInt(code.slice(1), 16));
      else return null;
      s = s.slice(close + 1);
    } else {
      out += s[0];
      s = s.slice(1);
    }
  }
  return out;
}

// ---- v0 ----------------------------------------------------------------------------------------

const BASIC_TYPES: Record<string, string> = {
  a: "i8",
  b: "bool",
  c: "char",
  d: "f64",
  e: "str",
  f: "f32",
  h: "u8",
  i: "isize",
  j: "usize",
  l: "i32",
  m: "u32",
  n: "i128",
  o: "u128",
  s: "i16",
  t: "u16",
  u: "()",
  v: "...",
  x: "i64",
  y: "u64",
  z: "!",
  p: "_",
};

class Malformed extends Error {}

/** Bounds recursion (backrefs can nest) so a hostile symbol cannot blow the stack. */
const MAX_DEPTH = 200;

/** A v0 printer over the symbol after `_R`; backrefs are offsets into that same text. */
class V0 {
  pos = 0;
  depth = 0;
  boundLifetimes = 0;
  constructor(readonly sym: string) {}

  peek(): string {
    return this.sym[this.pos] ?? "";
  }
  eat(c: string): boolean {
    if (this.sym[this.pos] !== c) return false;
    this.pos++;
    return true;
  }
  next(): string {
    const c = this.sym[this.pos++];
    if (c === undefined) throw new Malformed();
    return c;
  }

  /** `_` = 0, else base-62 digits then `_`, plus one. */
  base62(): number {
    if (this.eat("_")) return 0;
    let x = 0;
    for (let guard = 0; guard < 16; guard++) {
      const c = this.next();
      if (c === "_") return x + 1;
      const d = c >= "0" && c <= "9"
        ? c.charCodeAt(0) - 48
        : c >= "a" && c <= "z"
        ? c.charCodeAt(0) - 87
        : c >= "A" && c <= "Z"
        ? c.charCodeAt(0) - 29
        : -1;
      if (d < 0) throw new Malformed();
      x = x * 62 + d;
    }
    throw new Malformed();
  }
  optBase62(tag: string): number {
    return this.eat(tag) ? this.base62() + 1 : 0;
  }
  decimal(): number {
    const m = /^(0|[1-9][0-9]*)/.exec(this.sym.slice(this.pos));
    if (!m) throw new Malformed();
    this.pos += m[0].length;
    return Number(m[0]);
  }
  ident(): { name: string; punycode: boolean } {
    const punycode = this.eat("u");
    const len = this.decimal();
    this.eat("_");
    if (this.pos + len > this.sym.length) throw new Malformed();
    const raw = this.sym.slice(this.pos, this.pos + len);
    this.pos += len;
    return { name: punycode ? `punycode{${raw}}` : raw, punycode };
  }

  /** Runs `f` at a backref target, then returns to where the backref ended. */
  backref(f: () => string): string {
    const start = this.pos - 1;
    const target = this.base62();
    if (target >= start) throw new Malformed();
    const resume = this.pos;
    this.pos = target;
    if (++this.depth > MAX_DEPTH) throw new Malformed();
    try {
      return f();
    } finally {
      this.depth--;
      this.pos = resume;
    }
  }

  path(inValue: boolean): string {
    if (++this.depth > MAX_DEPTH) throw new Malformed();
    try {
      return this.pathInner(inValue);
    } finally {
      this.depth--;
    }
  }

  pathInner(inValue: boolean): string {
    const tag = this.next();
    switch (tag) {
      case "C": {
        this.optBase62("s");
        return this.ident().name;
      }
      case "M": {
        this.optBase62("s");
        this.path(false);
        return `<${this.type()}>`;
      }
      case "X": {
        this.optBase62("s");
        this.path(false);
        const self = this.type();
        return `<${self} as ${this.path(false)}>`;
      }
      case "Y": {
        const self = this.type();
        return `<${self} as ${this.path(false)}>`;
      }
      case "N": {
        const ns = this.next();
        const prefix = this.path(inValue);
        const dis = this.optBase62("s");
        const { name } = this.ident();
        if (ns >= "A" && ns <= "Z") {
          const kind = ns === "C" ? "closure" : ns === "S" ? "shim" : ns;
          return `${prefix}::{${kind}${name ? ":" + name : ""}#${dis}}`;
        }
        if (ns < "a" || ns > "z") throw new Malformed();
        return name ? `${prefix}::${name}` : prefix;
      }
      case "I": {
        const base = this.path(inValue);
        return `${base}${inValue ? "::" : ""}<${this.genericArgs()}>`;
      }
      case "B":
        return this.backref(() => this.path(inValue));
      default:
        throw new Malformed();
    }
  }

  genericArgs(): string {
    const args: string[] = [];
    for (let guard = 0; !this.eat("E"); guard++) {
      if (guard > this.sym.length) throw new Malformed();
      args.push(this.genericArg());
    }
    return args.join(", ");
  }

  genericArg(): string {
    if (this.eat("L")) return this.lifetime(this.base62());
    if (this.eat("K")) return this.constant();
    return this.type();
  }

  lifetime(index: number): string {
    if (index === 0) return "'_";
    const depth = this.boundLifetimes - index;
    if (depth < 0) throw new Malformed();
    return depth < 26 ? `'${String.fromCharCode(97 + depth)}` : `'_${depth}`;
  }

  /** `for<'a, 'b> ` for a binder, run around `f` (lifetimes bound for its extent). */
  binder(f: () => string): string {
    const count = this.optBase62("G");
    if (count === 0) return f();
    const names: string[] = [];
    for (let i = 0; i < count; i++) {
      this.boundLifetimes++;
      names.push(this.lifetime(1));
    }
    try {
      return `for<${names.join(", ")}> ${f()}`;
    } finally {
      this.boundLifetimes -= count;
    }
  }

  type(): string {
    if (++this.depth > MAX_DEPTH) throw new Malformed();
    try {
      return this.typeInner();
    } finally {
      this.depth--;
    }
  }

  typeInner(): string {
    const tag = this.next();
    const basic = BASIC_TYPES[tag];
    if (basic !== undefined) return basic;
    switch (tag) {
      case "R":
      case "Q": {
        const lt = this.eat("L") ? this.base62() : 0;
        const life = lt === 0 ? "" : `${this.lifetime(lt)} `;
        return `&${life}${tag === "Q" ? "mut " : ""}${this.type()}`;
      }
      case "P":
        return `*const ${this.type()}`;
      case "O":
        return `*mut ${this.type()}`;
      case "A": {
        const inner = this.type();
        return `[${inner}; ${this.constant()}]`;
      }
      case "S":
        return `[${this.type()}]`;
      case "T": {
        const items: string[] = [];
        for (let guard = 0; !this.eat("E"); guard++) {
          if (guard > this.sym.length) throw new Malformed();
          items.push(this.type());
        }
        return items.length === 1 ? `(${items[0]},)` : `(${items.join(", ")})`;
      }
      case "F":
        return this.binder(() => this.fnSig());
      case "D": {
        const bounds = this.binder(() => this.dynBounds());
        const lt = this.eat("L") ? this.base62() : 0;
        return lt === 0 ? bounds : `${bounds} + ${this.lifetime(lt)}`;
      }
      case "B":
        return this.backref(() => this.type());
      default:
        this.pos--;
        return this.path(false);
    }
  }

  fnSig(): string {
    let out = this.eat("U") ? "unsafe " : "";
    if (this.eat("K")) {
      const abi = this.eat("C") ? "C" : this.ident().name.replaceAll("_", "-");
      out += `extern "${abi}" `;
    }
    const params: string[] = [];
    for (let guard = 0; !this.eat("E"); guard++) {
      if (guard > this.sym.length) throw new Malformed();
      params.push(this.type());
    }
    const ret = this.type();
    return `${out}fn(${params.join(", ")})${ret === "()" ? "" : ` -> ${ret}`}`;
  }

  dynBounds(): string {
    const traits: string[] = [];
    for (let guard = 0; !this.eat("E"); guard++) {
      if (guard > this.sym.length) throw new Malformed();
      traits.push(this.dynTrait());
    }
    return `dyn ${traits.join(" + ")}`;
  }

  /** A trait path whose generic list stays open for `Assoc = T` bindings. */
  dynTrait(): string {
    let { text, open } = this.pathMaybeOpenGenerics();
    for (let guard = 0; this.eat("p"); guard++) {
      if (guard > this.sym.length) throw new Malformed();
      const { name } = this.ident();
      text += `${open ? ", " : "<"}${name} = ${this.type()}`;
      open = true;
    }
    return open ? `${text}>` : text;
  }

  pathMaybeOpenGenerics(): { text: string; open: boolean } {
    if (this.eat("B")) {
      let result = { text: "", open: false };
      this.backref(() => {
        result = this.pathMaybeOpenGenerics();
        return "";
      });
      return result;
    }
    if (this.eat("I")) {
      const base = this.path(false);
      return { text: `${base}<${this.genericArgs()}`, open: true };
    }
    return { text: this.path(false), open: false };
  }

  constant(): string {
    if (this.eat("B")) return this.backref(() => this.constant());
    if (this.eat("p")) return "_";
    const ty = this.next();
    const m = /^(n?)([0-9a-f]*)_/.exec(this.sym.slice(this.pos));
    if (!m) throw new Malformed();
    this.pos += m[0].length;
    const value = m[2] === "" ? 0n : BigInt(`0x${m[2]}`);
    if (ty === "b") return value === 0n ? "false" : "true";
    if (ty === "c") {
      return JSON.stringify(String.fromCodePoint(Number(value))).replace(/^"|"$/g, "'");
    }
    if (!BASIC_TYPES[ty] || "bcdefuvzp".includes(ty)) throw new Malformed();
    return `${m[1] ? "-" : ""}${value}`;
  }
}

/** `_R[decimal]<path>[<instantiating-crate>][.suffix]`; null when malformed. */
function demangleV0(symbol: string): string | null {
  const dot = symbol.indexOf(".");
  const body = symbol.slice(2, dot < 0 ? symbol.length : dot);
  if (!/^[0-9A-Z]/.test(body)) return null;
  const p = new V0(body);
  try {
    if (/[0-9]/.test(p.peek())) p.decimal();
    const text = p.path(true);
    // The instantiating crate, when present, is a path too; it is not printed.
    if (p.pos < body.length) p.path(false);
    if (p.pos !== body.length) return null;
    return text;
  } catch (e) {
    if (e instanceof Malformed || e instanceof RangeError) return null;
    throw e;
  }
}
