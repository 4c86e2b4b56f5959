/**
 * The layout's import rules (README "Layout"), checked on every TypeScript file git tracks or
 * would track (new files count before they are committed):
 * - production code (agent-*, shared; not *.test.ts, not testing/) and everything under
 *   scripts/ import nothing from test/ or a testing/ folder;
 * - shared/ never imports an agent, and neither agent imports the other;
 * - agents, scripts and cross-agent tests reach the protocol through shared/protocol/index.ts;
 * - no import cycle inside an agent (type-only imports count: they are still a tangle);
 * - the pure folders (shared/zmtp, shared/curve, shared/protocol) use no file system, no timers
 *   and no clock: they are codecs and state machines driven by their callers.
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { findCycles, scanImports, stripComments } from "./support/import-scan.ts";

const ROOT = join(import.meta.dir, "..");

interface SourceFile {
  readonly path: string;
  readonly code: string;
  /** Relative imports resolved to repository paths; bare ones (node:fs, yaml) as written. */
  readonly imports: readonly { readonly target: string; readonly relative: boolean }[];
}

const files: SourceFile[] = spawnSync(
  "git",
  ["ls-files", "--cached", "--others", "--exclude-standard", "*.ts", "*.mjs"],
  {
    cwd: ROOT,
    encoding: "utf8",
  },
)
  .stdout.split("\n")
  // The scanner's own test holds imports as string data
  .filter((path) => path !== "" && path !== "test/support/import-scan.test.ts")
  .filter((path) => existsSync(join(ROOT, path)))
  .map((path) => {
    const code = stripComments(readFileSync(join(ROOT, path), "utf8"));
    const imports = scanImports(code).map((specifier) =>
      specifier.startsWith(".")
        ? { target: normalize(join(dirname(path), specifier)), relative: true }
        : { target: specifier, relative: false },
    );
    return { path, code, imports };
  });

const isTest = (path: string) => path.endsWith(".test.ts");
const inTesting = (path: string) => path.split("/").includes("testing");
const isProduction = (path: string) =>
  /^(agent-inf|agent-gtw|shared)\//.test(path) && !isTest(path) && !inTesting(path);
const agentOf = (path: string) => /^(agent-inf|agent-gtw)\//.exec(path)?.[1];

function violations(
  select: (file: SourceFile) => boolean,
  bad: (target: string, file: SourceFile) => boolean,
): string[] {
  const found: string[] = [];
  for (const file of files.filter(select)) {
    for (const { target, relative } of file.imports) {
      if (relative && bad(target, file)) found.push(`${file.path} imports ${target}`);
    }
  }
  return found;
}

describe("import rules", () => {
  test("the scan sees the tree: every relative import names a tracked file", () => {
    const missing = violations(
      () => true,
      (target) => !existsSync(join(ROOT, target)),
    );
    expect(missing).toEqual([]);
    expect(files.length).toBeGreaterThan(300);
    expect(files.find((file) => file.path === "agent-inf/app.ts")?.imports.length).toBeGreaterThan(
      5,
    );
  });

  test("production code and scripts import nothing from test/ or a testing/ folder", () => {
    expect(
      violations(
        (file) =>
          isProduction(file.path) || (file.path.startsWith("scripts/") && !isTest(file.path)),
        (target) => target.startsWith("test/") || inTesting(target),
      ),
    ).toEqual([]);
  });

  test("shared/ never imports an agent; an agent never imports the other", () => {
    expect(
      violations(
        (file) => file.path.startsWith("shared/"),
        (target) => agentOf(target) !== undefined,
      ),
    ).toEqual([]);
    expect(
      violations(
        (file) => agentOf(file.path) !== undefined,
        (target, file) => agentOf(target) !== undefined && agentOf(target) !== agentOf(file.path),
      ),
    ).toEqual([]);
  });

  test("outside shared/, the protocol is imported through shared/protocol/index.ts", () => {
    expect(
      violations(
        (file) => !file.path.startsWith("shared/"),
        (target) =>
          target.startsWith("shared/protocol/") &&
          target !== "shared/protocol/index.ts" &&
          !inTesting(target),
      ),
    ).toEqual([]);
  });

  test.each(["agent-inf", "agent-gtw"])("no import cycle inside %s", (agent) => {
    const graph = new Map<string, string[]>();
    for (const file of files) {
      if (agentOf(file.path) !== agent || isTest(file.path)) continue;
      graph.set(
        file.path,
        file.imports
          .filter(({ relative, target }) => relative && agentOf(target) === agent)
          .map(({ target }) => target),
      );
    }
    expect(graph.size).toBeGreaterThan(20);
    expect(findCycles(graph)).toEqual([]);
  });

  test("shared/zmtp, shared/curve and shared/protocol use no file system, timers or clock", () => {
    const forbidden = [
      /\bsetTimeout\s*\(/,
      /\bsetInterval\s*\(/,
      /\bsetImmediate\s*\(/,
      /\bDate\.now\s*\(/,
      /\bperformance\.now\s*\(/,
      /\bnew Date\s*\(\s*\)/,
      /\bBun\.(file|write|sleep)\b/,
    ];
    const found: string[] = [];
    for (const file of files) {
      if (!/^shared\/(zmtp|curve|protocol)\//.test(file.path) || !isProduction(file.path)) continue;
      for (const { target, relative } of file.imports) {
        if (!relative && /^(node:)?(fs|fs\/promises|timers|timers\/promises)$/.test(target))
          found.push(`${file.path} imports ${target}`);
      }
      for (const pattern of forbidden) {
        if (pattern.test(file.code)) found.push(`${file.path} uses ${pattern.source}`);
      }
    }
    expect(found).toEqual([]);
  });
});
