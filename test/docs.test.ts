/**
 * The README's configuration reference must list exactly the keys the schemas accept, so the
 * documentation cannot drift from the code.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gatewayConfigSchema } from "../agent-gtw/config.ts";
import { inferenceConfigSchema } from "../agent-inf/config.ts";
import { schemaKeyPaths } from "../shared/config/schema-keys.ts";

const README = readFileSync(join(import.meta.dir, "..", "README.md"), "utf8");

/** Leaf keys only: a section key (`keys`, `backend.sim`) has children listed instead. */
function leaves(paths: readonly string[]): string[] {
  return paths
    .filter(
      (path) =>
        !paths.some((other) => other.startsWith(`${path}.`) || other.startsWith(`${path}[]`)),
    )
    .sort();
}

/** The backticked first column of the table under `heading`, up to the next heading. */
function documentedKeys(heading: string): string[] {
  const start = README.indexOf(heading);
  expect(start).toBeGreaterThan(-1);
  const rest = README.slice(start + heading.length);
  const section = rest.slice(0, rest.search(/\n#{2,3} /));
  return [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((match) => match[1] as string).sort();
}

describe("README configuration reference", () => {
  test("lists every agent-gtw key and nothing else", () => {
    expect(documentedKeys("### agent-gtw (`agent-gtw.yaml`)")).toEqual(
      leaves(schemaKeyPaths(gatewayConfigSchema)),
    );
  });

  test("lists every agent-inf key and nothing else", () => {
    expect(documentedKeys("### agent-inf (`agent-inf.yaml`)")).toEqual(
      leaves(schemaKeyPaths(inferenceConfigSchema)),
    );
  });
});

describe("the repository's docs stand alone", () => {
  test("README and docs/DEPLOY.md point at no file outside the repository", () => {
    for (const file of ["README.md", "docs/DEPLOY.md"]) {
      const text = readFileSync(join(import.meta.dir, "..", file), "utf8");
      expect({
        file,
        outside: text.match(/\.\.\/shared|research\/deploy\.md|deploy\.md §/g),
      }).toEqual({
        file,
        outside: null,
      });
    }
  });
});
