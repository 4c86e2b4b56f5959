import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { ConfigError } from "../errors.ts";
import { envParse, loadConfigFile, MAX_CONFIG_BYTES, parseConfigText } from "./load.ts";

const schema = z
  .object({
    name: z.string().min(1),
    limits: z
      .object({
        max_lots: z.number().positive(),
        symbols: z.array(z.string()).default([]),
      })
      .strict(),
    port: z.number().int().default(5700),
  })
  .strict();

function issuesOf(text: string, env: Record<string, string> = {}) {
  try {
    parseConfigText(text, "gtw.yaml", schema, {
      env,
      overrides: [{ env: "GTW_PORT", path: ["port"], parse: envParse.integer }],
    });
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("config loader", () => {
  test("accepts a valid file, applies defaults and freezes the result", () => {
    const config = parseConfigText("name: gw1\nlimits:\n  max_lots: 2\n", "gtw.yaml", schema);
    expect(config).toEqual({ name: "gw1", limits: { max_lots: 2, symbols: [] }, port: 5700 });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.limits)).toBe(true);
  });

  test("reports every issue at once with file, key and line", () => {
    const issues = issuesOf("name: gw1\nlimits:\n  max_lots: -1\n  max_notionl: 5\nextra: true\n");
    expect(issues).toHaveLength(3);
    expect(issues).toContainEqual(
      expect.objectContaining({ file: "gtw.yaml", path: "limits.max_lots", line: 3 }),
    );
    expect(issues).toContainEqual({
      file: "gtw.yaml",
      path: "limits.max_notionl",
      line: 4,
      message: "unknown key",
    });
    expect(issues).toContainEqual({
      file: "gtw.yaml",
      path: "extra",
      line: 5,
      message: "unknown key",
    });
  });

  test("a missing key points at its parent's line", () => {
    const issues = issuesOf("name: gw1\nlimits:\n  symbols: [EURUSD]\n");
    expect(issues).toEqual([expect.objectContaining({ path: "limits.max_lots", line: 3 })]);
  });

  test("YAML syntax errors and duplicate keys carry a line", () => {
    const duplicate = issuesOf("name: a\nname: b\nlimits: {max_lots: 1}\n");
    expect(duplicate[0]?.line).toBe(2);
    expect(duplicate[0]?.message).toContain("YAML");
    const broken = issuesOf("name: [unclosed\nlimits: {max_lots: 1}\n");
    expect(broken[0]?.message).toContain("YAML");
    expect(broken[0]?.line).toBeGreaterThan(0);
  });

  test("the top level must be a mapping", () => {
    expect(issuesOf("- a\n- b\n")[0]?.message).toContain("mapping");
  });

  test("env overrides replace a key and are validated like the file", () => {
    const config = parseConfigText("name: gw1\nlimits: {max_lots: 1}\n", "gtw.yaml", schema, {
      env: { GTW_PORT: "6100" },
      overrides: [{ env: "GTW_PORT", path: ["port"], parse: envParse.integer }],
    });
    expect(config.port).toBe(6100);
    expect(issuesOf("name: gw1\nlimits: {max_lots: 1}\n", { GTW_PORT: "sixty" })).toEqual([
      { file: "$GTW_PORT", path: "port", message: 'must be an integer, was "sixty"' },
    ]);
  });

  test("refuses a file that is too large or missing, naming it", () => {
    const dir = mkdtempSync(join(tmpdir(), "cfg-"));
    try {
      const big = join(dir, "big.yaml");
      writeFileSync(big, `name: ${"x".repeat(MAX_CONFIG_BYTES)}\n`);
      expect(() => loadConfigFile(big, schema)).toThrow(/big\.yaml.*limit/);
      expect(() => loadConfigFile(join(dir, "missing.yaml"), schema)).toThrow(
        /missing\.yaml.*cannot read/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a billion-laughs alias bomb is refused, not expanded", () => {
    const bomb = [
      "a: &a [x, x, x, x, x, x, x, x, x, x]",
      "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]",
    ];
    for (const name of "cdefghij")
      bomb.push(
        `${name}: &${name} [${Array(10)
          .fill(`*${String.fromCharCode(name.charCodeAt(0) - 1)}`)
          .join(", ")}]`,
      );
    let caught: unknown;
    try {
      parseConfigText(`${bomb.join("\n")}\n`, "bomb.yaml", schema);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).issues[0]?.message).toMatch(/YAML: .*alias/i);
  });
});
