/**
 * Reading and validating request input the way Engram does: every refusal is an `ApiError` with
 * Engram's code and a message naming the field. Embedding parsing is on the hot path, so it is
 * one `JSON.parse` plus one typed loop, with no intermediate copies.
 * @module
 */
import { invalid } from "./api_error.ts";
import { normalize } from "./vector_index.ts";

/** Largest `content` Engram accepts, in UTF-8 bytes. */
export const MAX_CONTENT_BYTES = 100_000;
/** The space used when a request names none. */
export const DEFAULT_SPACE = "default";
/** Header that names the memory space; it wins over `?space=` and the body. */
export const SPACE_HEADER = "x-engram-memory-space";
const SPACE_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** A JSON object body. */
export type JsonObject = Record<string, unknown>;

/** Splits a raw query string (without `?`) into decoded parameters; the first value wins. */
export function parseQueryString(qs: string): Map<string, string> {
  const params = new Map<string, string>();
  if (qs === "") return params;
  for (const part of qs.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const key = decode(eq < 0 ? part : part.slice(0, eq));
    if (!params.has(key)) params.set(key, eq < 0 ? "" : decode(part.slice(eq + 1)));
  }
  return params;
}

function decode(s: string): string {
  if (s.indexOf("%") < 0 && s.indexOf("+") < 0) return s;
  try {
    return decodeURIComponent(s.replaceAll("+", " "));
  } catch {
    throw invalid(`Malformed percent-encoding in query string near '${s.slice(0, 40)}'`);
  }
}

/** Parses a request body that must be a JSON object. */
export function parseJsonObject(text: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw invalid(`Request body is not valid JSON: ${e instanceof Error ? e.message : e}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw invalid("Request body must be a JSON object");
  }
  return value as JsonObject;
}

/** The memory space of a request: header > `?space=` > body `memory_space_id` > default. */
export function resolveSpace(
  header: string | null,
  query: string | undefined,
  body: JsonObject | null,
): string {
  const fromBody = body?.memory_space_id;
  const [source, id] = header !== null
    ? ["X-Engram-Memory-Space header", header]
    : query !== undefined
    ? ["space parameter", query]
    : fromBody !== undefined && fromBody !== null
    ? ["memory_space_id", fromBody]
    : ["default", DEFAULT_SPACE];
  if (typeof id !== "string" || !SPACE_ID.test(id)) {
    throw invalid(
      `Invalid memory space id in ${source}: expected 1-64 letters, digits, '_', '-' or '.', got ${
        JSON.stringify(id)
      }`,
    );
  }
  return id;
}

/** An embedding field: exactly `dim` finite numbers, returned normalised to unit length. */
export function readEmbedding(value: unknown, dim: number, field: string): Float32Array {
  if (!Array.isArray(value)) throw invalid(`${field} must be an array of ${dim} numbers`);
  if (value.length !== dim) {
    throw invalid(`Embedding must be exactly ${dim} dimensions, got ${value.length}`);
  }
  const v = new Float32Array(dim);
  for (let j = 0; j < dim; j++) {
    const x = value[j];
    if (typeof x !== "number" || !Number.isFinite(x)) {
      throw invalid(`${field}[${j}] must be a finite number, got ${JSON.stringify(x)}`);
    }
    v[j] = x;
  }
  return normalize(v);
}

/** The `embedding` query parameter: JSON array text of exactly `dim` numbers. */
export function readEmbeddingParam(text: string, dim: number): Float32Array {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid("Invalid embedding format. Expected JSON array of floats.");
  }
  return readEmbedding(value, dim, "embedding");
}

/** A partial cue: known components (others 0) and the positions that are known. */
export interface PartialEmbedding {
  values: Float32Array;
  known: Int32Array;
}

/** `partial_embedding`: `dim` entries, each a number or null; absent or empty means all unknown. */
export function readPartialEmbedding(value: unknown, dim: number): PartialEmbedding {
  if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) {
    return { values: new Float32Array(dim), known: new Int32Array(0) };
  }
  if (!Array.isArray(value)) {
    throw invalid("partial_embedding must be an array of numbers or nulls");
  }
  if (value.length !== dim) {
    throw invalid(`Invalid embedding dimension: expected ${dim}, got ${value.length}`);
  }
  const values = new Float32Array(dim);
  const known = new Int32Array(dim);
  let k = 0;
  for (let j = 0; j < dim; j++) {
    const x = value[j];
    if (x === null) continue;
    if (typeof x !== "number" || !Number.isFinite(x)) {
      throw invalid(`partial_embedding[${j}] must be a number or null, got ${JSON.stringify(x)}`);
    }
    values[j] = x;
    known[k++] = j;
  }
  return { values, known: known.slice(0, k) };
}

/** An optional number field within [min, max]. */
export function readNumber(
  value: unknown,
  field: string,
  fallback: number,
  min = -Infinity,
  max = Infinity,
): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw invalid(`${field} must be a number in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return value;
}

/** A numeric query parameter within [min, max]; integers only when `integer`. */
export function readNumberParam(
  text: string | undefined,
  field: string,
  fallback: number,
  min: number,
  max: number,
  integer = false,
): number {
  if (text === undefined || text === "") return fallback;
  const x = Number(text);
  if (!Number.isFinite(x) || x < min || x > max || (integer && !Number.isInteger(x))) {
    throw invalid(
      `${field} must be ${integer ? "an integer" : "a number"} in [${min}, ${max}], got '${text}'`,
    );
  }
  return x;
}

/** An optional string field. */
export function readString(value: unknown, field: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") throw invalid(`${field} must be a string`);
  return value;
}

/** A required, non-blank string field of at most `MAX_CONTENT_BYTES` UTF-8 bytes. */
export function readContent(value: unknown, field: string): string {
  if (value === undefined || value === null) throw invalid(`${field} is required`);
  if (typeof value !== "string") throw invalid(`${field} must be a string`);
  if (value.trim() === "") {
    throw invalid(`Memory ${field} cannot be empty: the memory system needs meaningful content`);
  }
  if (value.length > MAX_CONTENT_BYTES / 3 && utf8Length(value) > MAX_CONTENT_BYTES) {
    throw invalid(
      `Memory ${field} too large (>100KB): break it into smaller, more focused memories`,
    );
  }
  return value;
}

/** An optional array-of-strings field. */
export function readStringArray(value: unknown, field: string): string[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value) || !value.every((x) => typeof x === "string")) {
    throw invalid(`${field} must be an array of strings`);
  }
  return value as string[];
}

/** An optional boolean field. */
export function readBoolean(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "boolean") throw invalid(`${field} must be true or false`);
  return value;
}

/** An optional object field. */
export function readObject(value: unknown, field: string): JsonObject | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw invalid(`${field} must be a JSON object`);
  }
  return value as JsonObject;
}

/** A required RFC 3339 timestamp field, returned as given. */
export function readTimestamp(value: unknown, field: string): string {
  if (typeof value !== "string" || !RFC3339.test(value) || Number.isNaN(Date.parse(value))) {
    throw invalid(`${field} must be an RFC 3339 timestamp such as 2024-01-31T12:00:00Z`);
  }
  return value;
}
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** UTF-8 byte length without allocating. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xD800 && c <= 0xDBFF) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
