import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LogFile } from "./log-file.ts";

const folder = () => mkdtempSync(join(tmpdir(), "log-file-"));

describe("log file rotation", () => {
  test("past max size the file shifts to .1, .1 to .2, and only `keep` files are kept", () => {
    const path = join(folder(), "logs", "agent.log");
    const log = new LogFile(path, { maxBytes: 100, keep: 2 });
    const line = (n: number) => `line ${String(n).padStart(3, "0")} ${"x".repeat(30)}`;
    for (let n = 0; n < 12; n++) log.append(line(n));
    // 40 bytes a line: two per file
    expect(readFileSync(path, "utf8")).toBe(`${line(10)}\n${line(11)}\n`);
    expect(readFileSync(`${path}.1`, "utf8")).toBe(`${line(8)}\n${line(9)}\n`);
    expect(readFileSync(`${path}.2`, "utf8")).toBe(`${line(6)}\n${line(7)}\n`);
    expect(existsSync(`${path}.3`)).toBe(false);
  });

  test("an existing file's size counts, so a restart does not grow it past the limit", () => {
    const path = join(folder(), "agent.log");
    writeFileSync(path, "x".repeat(90));
    const log = new LogFile(path, { maxBytes: 100, keep: 1 });
    log.append("y".repeat(20));
    expect(readFileSync(`${path}.1`, "utf8")).toBe("x".repeat(90));
    expect(readFileSync(path, "utf8")).toBe(`${"y".repeat(20)}\n`);
  });

  test("keep 0 starts over instead of keeping old files", () => {
    const path = join(folder(), "agent.log");
    const log = new LogFile(path, { maxBytes: 30, keep: 0 });
    log.append("a".repeat(20));
    log.append("b".repeat(20));
    expect(readFileSync(path, "utf8")).toBe(`${"b".repeat(20)}\n`);
    expect(existsSync(`${path}.1`)).toBe(false);
  });

  test("a file that cannot be written is reported, never thrown", () => {
    const dir = folder();
    const complaints: string[] = [];
    // The path is a folder: appending fails
    const log = new LogFile(dir, { complain: (message) => complaints.push(message) });
    expect(() => log.append("line")).not.toThrow();
    expect(complaints[0]).toContain("could not append");
  });
});
