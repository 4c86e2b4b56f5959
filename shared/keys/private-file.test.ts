import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import {
  lstatSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSecretKeyFile } from "./curve-keys.ts";
import { readPrivateText, readStateText, writeStateFile } from "./private-file.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "private-file-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const posix = process.platform !== "win32";

describe.if(posix)("files the agents read and write (issue 12 §6)", () => {
  test("a FIFO given as a key file is refused at once instead of hanging the start", () => {
    const fifo = join(dir, "agent-gtw.key_secret");
    expect(spawnSync("mkfifo", ["-m", "600", fifo]).status).toBe(0);
    const started = performance.now();
    expect(() => readSecretKeyFile(fifo)).toThrow(/is not a regular file \(a FIFO\)/);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  test("a state file behind a symbolic link is refused; a key file may be a link", () => {
    const target = join(dir, "elsewhere.json");
    writeFileSync(target, "{}", { mode: 0o600 });
    const link = join(dir, "status.json");
    symlinkSync(target, link);
    expect(() => readStateText(link, "status file", 1024)).toThrow(/is a symbolic link/);
    expect(readPrivateText(link, { what: "key file", maxBytes: 1024 })).toBe("{}");
    expect(readStateText(join(dir, "missing.json"), "status file", 1024)).toBeUndefined();
  });

  test("writing never goes through a link planted at the temporary or at the file", () => {
    const victim = join(dir, "victim.txt");
    writeFileSync(victim, "keep me");
    const path = join(dir, "status.json");
    symlinkSync(victim, `${path}.tmp`);
    writeStateFile(path, "status 1");
    expect(readFileSync(victim, "utf8")).toBe("keep me");
    expect(readFileSync(path, "utf8")).toBe("status 1");

    rmSync(path);
    symlinkSync(victim, path);
    writeStateFile(path, "status 2", { durable: true });
    expect(readFileSync(victim, "utf8")).toBe("keep me");
    expect(lstatSync(path).isSymbolicLink()).toBe(false);
    expect(readFileSync(path, "utf8")).toBe("status 2");
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});
