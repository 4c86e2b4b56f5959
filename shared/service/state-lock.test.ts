import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { acquireStateLock, lockPathFor, type ProcessProbe, systemProbe } from "./state-lock.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "state-lock-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const program = "agent-gtw";

function holderFile(pid: number, extra: Record<string, unknown> = {}) {
  writeFileSync(
    lockPathFor(dir, program),
    JSON.stringify({ pid, host: hostname(), program, since: 1, nonce: "n", ...extra }),
  );
}

describe("state folder lock", () => {
  test("a second holder is refused with a message naming the first; release frees it", () => {
    const first = acquireStateLock(dir, { program });
    const record = JSON.parse(readFileSync(first.path, "utf8"));
    expect(record.pid).toBe(process.pid);
    // The same process asking again is refused too (two gateways built in one process)
    expect(() => acquireStateLock(dir, { program })).toThrow(
      new RegExp(`in use by agent-gtw pid ${process.pid} on .*stop the other one first.*delete`),
    );
    expect(first.check()).toBe(true);
    first.release();
    const second = acquireStateLock(dir, { program });
    second.release();
  });

  test("a lock left by a process that is gone is taken over", () => {
    const gone: ProcessProbe = { alive: () => false, startTime: () => undefined };
    holderFile(4_000_000);
    const lock = acquireStateLock(dir, { program, probe: gone });
    expect(JSON.parse(readFileSync(lock.path, "utf8")).pid).toBe(process.pid);
    lock.release();
  });

  test("a live pid with another start time is a reused pid, not the holder", () => {
    const reused: ProcessProbe = {
      alive: () => true,
      startTime: (pid) => (pid === 42 ? "999" : "1"),
    };
    holderFile(42, { procStart: "123" });
    acquireStateLock(dir, { program, probe: reused }).release();
    holderFile(42, { procStart: "999" });
    expect(() => acquireStateLock(dir, { program, probe: reused })).toThrow(/pid 42/);
  });

  test("a lock from another host is never broken", () => {
    holderFile(1, { host: "other-host" });
    expect(() => acquireStateLock(dir, { program, probe: systemProbe })).toThrow(
      /made on host other-host/,
    );
  });

  test("check() sees the lock deleted or replaced under its holder", () => {
    const lock = acquireStateLock(dir, { program });
    rmSync(lock.path);
    expect(lock.check()).toBe(false);
    holderFile(process.pid, { nonce: "someone else" });
    expect(lock.check()).toBe(false);
    lock.release();
    // Not ours: release leaves it
    expect(readFileSync(lockPathFor(dir, program), "utf8")).toContain("someone else");
  });

  test("the real probe knows this process and a pid that does not exist", () => {
    expect(systemProbe.alive(process.pid)).toBe(true);
    expect(systemProbe.alive(2 ** 22 + 12345)).toBe(false);
    if (process.platform === "linux") expect(systemProbe.startTime(process.pid)).toMatch(/^\d+$/);
  });
});
