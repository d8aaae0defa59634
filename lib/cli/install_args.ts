/**
 * `m17_check install-scripts <engram-dir> [--force]` and `m17_check uninstall-scripts
 * <engram-dir>`: their flags and help; the work is `installScripts` / `uninstallScripts`
 * (lib/target/engram_shims.ts).
 * @module
 */
import { EXIT, UsageError } from "../shared/errors.ts";
import {
  actionLines,
  installReport,
  installScripts,
  ORIGINALS_DIR,
  uninstallScripts,
} from "../target/engram_shims.ts";
import { parseFlags } from "./flags.ts";

/** `m17_check install-scripts --help`. */
export const INSTALL_USAGE = "Usage: m17_check install-scripts <engram-dir> [--force]\n\n" +
  "Writes scripts/m17_performance_check.sh and scripts/compare_m17_performance.sh into the\n" +
  "Engram checkout as shims running m17_check/m17_compare with the same arguments (no absolute\n" +
  "paths: they can be committed), adds `check` and `compare` tasks to its deno.json, and copies\n" +
  "missing scenarios (never overwriting). --force replaces scripts and tasks that are not m17's;\n" +
  `the originals are kept under ${ORIGINALS_DIR}/. Installing twice changes nothing.`;

/** `m17_check uninstall-scripts --help`. */
export const UNINSTALL_USAGE = "Usage: m17_check uninstall-scripts <engram-dir>\n\n" +
  "Undoes install-scripts: restores the files it replaced byte for byte and removes what it\n" +
  "added; a file changed since the install is left as it is (and said so).";

const INSTALL_FLAGS = {
  force: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const UNINSTALL_FLAGS = { help: { type: "boolean", short: "h" } } as const;

/** What `install-scripts` was asked to do. */
export type InstallCommand = { kind: "help" } | {
  kind: "install";
  engramDir: string;
  force: boolean;
};

/** Parses `install-scripts`' command line (throws UsageError). */
export function parseInstallArgs(argv: string[]): InstallCommand {
  let parsed;
  try {
    parsed = parseFlags(argv, INSTALL_FLAGS);
  } catch (e) {
    throw e instanceof UsageError ? new UsageError(`install-scripts: ${e.message}`) : e;
  }
  if (parsed.values.help) return { kind: "help" };
  if (parsed.positionals.length !== 1) {
    throw new UsageError("usage: m17_check install-scripts <engram-dir> [--force]");
  }
  return { kind: "install", engramDir: parsed.positionals[0], force: parsed.values.force ?? false };
}

/** The `install-scripts` verb; returns the exit code. */
export async function installCommand(argv: string[]): Promise<number> {
  const cmd = parseInstallArgs(argv);
  if (cmd.kind === "help") {
    console.log(INSTALL_USAGE);
    return EXIT.ok;
  }
  const result = await installScripts({ engramDir: cmd.engramDir, force: cmd.force });
  if (!result.isEngramCheckout) {
    console.error(
      `m17_check install-scripts: warning: ${result.engramDir} does not look like an Engram checkout (no Cargo.toml workspace with engram-cli); installed anyway`,
    );
  }
  console.log(installReport(result));
  return EXIT.ok;
}

/** The `uninstall-scripts` verb; returns the exit code. */
export async function uninstallCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseFlags(argv, UNINSTALL_FLAGS);
  } catch (e) {
    throw e instanceof UsageError ? new UsageError(`uninstall-scripts: ${e.message}`) : e;
  }
  if (parsed.values.help) {
    console.log(UNINSTALL_USAGE);
    return EXIT.ok;
  }
  if (parsed.positionals.length !== 1) {
    throw new UsageError("usage: m17_check uninstall-scripts <engram-dir>");
  }
  const dir = parsed.positionals[0];
  console.log(actionLines("uninstall-scripts", dir, await uninstallScripts(dir)).join("\n"));
  return EXIT.ok;
}
