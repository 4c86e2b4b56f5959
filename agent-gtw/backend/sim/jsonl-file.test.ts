/**
 * The JSONL file format under the state log and deal history: torn tails versus corruption,
 * positional appends, truncation, atomic replacement.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JsonlFile, readJsonl, writeFileDurably } from "./jsonl-file.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "sim-jsonl-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function read(text: string) {
  const path = join(dir, "file.jsonl");
  writeFileSync(path, text);
  return readJsonl(path, "state log");
}

describe("readJsonl", () => {
  test("reads complete lines with their end offsets", () => {
    const content = read('{"a":1}\n{"b":2}\n');
    expect(content.lines.map((line) => line.value)).toEqual([{ a: 1 }, { b: 2 }]);
    expect(content.lines.map((line) => line.end)).toEqual([8, 16]);
    expect(content.tornLine).toBeUndefined();
  });

  test.each([
    ["cut mid-line", '{"a":1}\n{"b":'],
    ["complete JSON without its newline", '{"a":1}\n{"b":2}'],
    ["garbage ending in a newline", '{"a":1}\nxx\n'],
    ["zero bytes left by a crash", '{"a":1}\n\u0000\u0000\u0000'],
  ])("treats a last line %s as torn", (_name, text) => {
    const content = read(text);
    expect(content.lines.map((line) => line.value)).toEqual([{ a: 1 }]);
    expect(content.tornLine).toBe(2);
  });

  test("refuses a bad line that is not the last, naming file and line", () => {
    expect(() => read('{"a":1}\nxx\n{"b":2}\n')).toThrow(
      `sim: state log ${join(dir, "file.jsonl")} line 2 is corrupt`,
    );
  });
});

describe("JsonlFile", () => {
  test("appends whole lines, cuts to a length on open, truncates", () => {
    const path = join(dir, "log.jsonl");
    const file = new JsonlFile(path);
    file.open();
    file.append(['{"a":1}', '{"b":2}']);
    file.close();
    file.open(8);
    file.append(['{"c":3}']);
    expect(readFileSync(path, "utf8")).toBe('{"a":1}\n{"c":3}\n');
    file.truncate(0);
    file.append(['{"d":4}']);
    file.close();
    expect(readFileSync(path, "utf8")).toBe('{"d":4}\n');
  });

  test("writeFileDurably replaces the file and leaves no temporary behind", () => {
    const path = join(dir, "state.json");
    writeFileDurably(path, "one");
    writeFileDurably(path, "two");
    expect(readFileSync(path, "utf8")).toBe("two");
    expect(() => readFileSync(`${path}.tmp`)).toThrow();
  });
});
