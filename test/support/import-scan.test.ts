/** The import scanner that test/imports.test.ts relies on: what it counts and what it must not. */
import { describe, expect, test } from "bun:test";
import { findCycles, scanImports, stripComments } from "./import-scan.ts";

const scan = (source: string) => scanImports(stripComments(source));

describe("scanImports", () => {
  test("finds static, type-only, multi-line, side-effect, re-export and dynamic imports", () => {
    const source = [
      'import { a } from "./a.ts";',
      'import type { B } from "../b.ts";',
      "import {",
      "  c,",
      "  type D,",
      '} from "./c.ts";',
      'import "./side-effect.ts";',
      'import * as e from "./e.ts";',
      'export { f } from "./f.ts";',
      'export * from "./g.ts";',
      'import { readFileSync } from "node:fs";',
      'const h = await import("./h.ts");',
    ].join("\n");
    expect(scan(source)).toEqual([
      "./a.ts",
      "../b.ts",
      "./c.ts",
      "./side-effect.ts",
      "./e.ts",
      "./f.ts",
      "./g.ts",
      "node:fs",
      "./h.ts",
    ]);
  });

  test("ignores imports inside comments, and strings that only look like comments", () => {
    const source = [
      "/**",
      ' * import { x } from "./in-doc.ts";',
      " */",
      '// import { y } from "./in-line-comment.ts";',
      'const url = "http://example"; import { z } from "./real.ts";',
      'const text = `import { w } from "./in-template.ts"`;',
    ].join("\n");
    expect(scan(source)).toEqual(["./real.ts"]);
  });
});

describe("findCycles", () => {
  test("reports every cycle once, and nothing for a tree", () => {
    const graph = new Map([
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", ["a", "d"]],
      ["d", []],
      ["e", ["e"]],
      ["f", ["d"]],
    ]);
    expect(findCycles(graph)).toEqual([["a", "b", "c"], ["e"]]);
    expect(
      findCycles(
        new Map([
          ["a", ["b", "c"]],
          ["b", ["c"]],
          ["c", []],
        ]),
      ),
    ).toEqual([]);
  });
});
