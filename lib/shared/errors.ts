/**
 * Errors as values with a message a user can act on. Only the entrypoints turn them into exit
 * codes: a `UsageError` exits 3, a `RunError` exits 1, anything else is a crash and exits 70.
 * @module
 */

/** Bad input: arguments, scenario files, report files. Exit code 3. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The run itself failed (target down, server died, cannot write). Exit code 1. */
export class RunError extends Error {
  override name = "RunError";
}

/** Exit codes shared by both tools (compatible with the old scripts). */
export const EXIT = {
  ok: 0,
  regression: 1,
  runFailed: 1,
  competitiveRegression: 2,
  usage: 3,
  inconclusive: 4,
  /** A crash (a bug, not bad input): EX_SOFTWARE from sysexits.h. */
  internalError: 70,
  /** Interrupted by SIGHUP (a dropped SSH session): 128 + 1. */
  sighup: 129,
  sigint: 130,
  sigterm: 143,
} as const;

/** The one-line message of any thrown value. */
export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message.split("\n")[0];
  return String(e);
}

/**
 * The one-line reason of a failed file operation, without the path Deno appends
 * (`No space left on device (os error 28)`, `it already exists`).
 */
export function ioReason(e: unknown): string {
  if (e instanceof Deno.errors.AlreadyExists) return "it already exists";
  return messageOf(e).replace(/: [a-z]+ '.*'$/, "");
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** The nearest candidate to `word`, if it is close enough to be a plausible typo. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3))
    ? best
    : undefined;
}
