/**
 * The README's configuration reference must list exactly the keys the schemas accept, so the
 * documentation cannot drift from the code.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
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
  /** Every Markdown file a user gets: the README, docs/, and each folder's own README. */
  function userDocs(): string[] {
    const root = join(import.meta.dir, "..");
    const found: string[] = [];
    const skip = new Set(["node_modules", ".git", "dist", ".venv", "build"]);
    const walk = (dir: string): void => {
      for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
        const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
        if (entry.isDirectory()) {
          if (!skip.has(entry.name) && !entry.name.startsWith(".")) walk(path);
        } else if (entry.name.endsWith(".md")) {
          found.push(path);
        }
      }
    };
    walk("");
    return found.sort();
  }

  test("finds the docs it checks", () => {
    const docs = userDocs();
    for (const expected of [
      "README.md",
      "docs/DEPLOY.md",
      "docs/TRANSPORT.md",
      "docs/PERFORMANCE.md",
    ]) {
      expect(docs).toContain(expected);
    }
  });

  test("no doc points at the design notes users never get", () => {
    // The design notes and research live beside the repository for its developers only; a doc
    // that cites them ("research §3", "DESIGN §8", ../shared) sends a user to a file they lack.
    const outside =
      /\.\.\/shared|shared\/research|research\/[a-z-]+\.md|research §|DESIGN(\.md)? ?§|deploy\.md §/g;
    const offenders = userDocs().flatMap((file) => {
      const text = readFileSync(join(import.meta.dir, "..", file), "utf8");
      return (text.match(outside) ?? []).map((hit) => `${file}: ${hit}`);
    });
    expect(offenders).toEqual([]);
  });
});
