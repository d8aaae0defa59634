/**
 * The version both tools print with `--version` and record in reports and comparisons.
 * @module
 */

/** m17 tool version (semver). */
export const VERSION = "0.1.0";
