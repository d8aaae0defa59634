/**
 * Request recording: each request as `METHOD PATH\nBODY\n` with the exact bytes received, the
 * same framing as `serializeOp` in lib/workload/ops.ts, so a recording of a run can be compared
 * byte for byte with the generator's stream or with another run's recording.
 * @module
 */

/** One request as it arrived. */
export interface RecordedRequest {
  method: string;
  /** Path and query string exactly as sent. */
  path: string;
  /** Body bytes exactly as sent (empty for none). */
  body: Uint8Array;
}

const encoder = new TextEncoder();
const NEWLINE = 10;

/** The recorded framing of one request. */
export function serializeRequest(r: RecordedRequest): Uint8Array {
  const head = encoder.encode(`${r.method} ${r.path}\n`);
  const out = new Uint8Array(head.length + r.body.length + 1);
  out.set(head);
  out.set(r.body, head.length);
  out[out.length - 1] = NEWLINE;
  return out;
}

/** Appends recorded requests to a file, synchronously, so the file order is arrival order. */
export class FileRecorder {
  readonly path: string;
  readonly #file: Deno.FsFile;

  /** Opens (creating if needed) `path` for appending; needs --allow-write. */
  constructor(path: string) {
    this.path = path;
    this.#file = Deno.openSync(path, { append: true, create: true });
  }

  /** Appends one request. */
  write(r: RecordedRequest): void {
    const bytes = serializeRequest(r);
    let done = 0;
    while (done < bytes.length) done += this.#file.writeSync(bytes.subarray(done));
  }

  /** Closes the file. */
  close(): void {
    this.#file.close();
  }
}
