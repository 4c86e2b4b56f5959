/**
 * The long variants of the fault, fuzz and load suites (docs/RELIABILITY.md): `MLB_LONG=1 bun
 * test ...` runs each with its full counts; the default counts keep the CI run short.
 */

export const LONG = process.env["MLB_LONG"] === "1";

/** `normal` in the default run, `long` with MLB_LONG=1. */
export function scaled<T>(normal: T, long: T): T {
  return LONG ? long : normal;
}
