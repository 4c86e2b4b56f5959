import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSecretFile } from "../agent-gtw/backend/terminal/secret.ts";
import { readTokenFile } from "../shared/http-access.ts";
import { readPublicKeyFile } from "../shared/keys/curve-keys.ts";
import { devKeyFiles, generateDevKeySet } from "./keygen.ts";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "mlb-devkeys-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, "keys");
}

describe("bun run keygen", () => {
  test("writes the whole development set the example configs expect", () => {
    const dir = scratch();
    const result = generateDevKeySet(dir);
    if ("exists" in result) throw new Error(`unexpected: ${result.exists}`);
    expect(readdirSync(dir).sort()).toEqual([
      "agent-gtw.key",
      "agent-gtw.key_secret",
      "api.token",
      "clients",
      "inf-1.key",
      "inf-1.key_secret",
      "inf-1.sign",
      "inf-1.sign_secret",
      "operator.token",
      "terminal.secret",
    ]);
    // The agent reads both API tokens as written, and they differ
    const tokens = [
      readTokenFile(join(dir, "api.token"), "api.token_file"),
      readTokenFile(join(dir, "operator.token"), "api.operator_token_file"),
    ];
    expect(tokens[0]).not.toBe(tokens[1]);
    expect(readFileSync(join(dir, "clients", "inf-1.key"), "utf8")).toBe(
      readFileSync(join(dir, "inf-1.key"), "utf8"),
    );
    expect(readPublicKeyFile(join(dir, "clients", "inf-1.key")).publicKey.length).toBe(32);
    // The gateway's terminal backend accepts the secret as written
    expect(readSecretFile(join(dir, "terminal.secret"))).toMatch(/^[0-9a-f]{64}$/);
    expect(result.files).toEqual(devKeyFiles(dir));
  });

  test("refuses when any file of the set exists, and writes nothing", () => {
    const dir = scratch();
    mkdirSync(join(dir, "clients"), { recursive: true });
    writeFileSync(join(dir, "clients", "inf-1.key"), "old\n");
    expect(generateDevKeySet(dir)).toEqual({ exists: join(dir, "clients", "inf-1.key") });
    expect(readdirSync(dir)).toEqual(["clients"]);
  });

  test("the command exits 3 on an existing set", () => {
    const dir = scratch();
    const run = () =>
      Bun.spawnSync([process.execPath, join(import.meta.dir, "keygen.ts"), "--dir", dir], {
        stdout: "pipe",
        stderr: "pipe",
      });
    const first = run();
    expect(first.exitCode).toBe(0);
    expect(first.stdout.toString()).toContain("Development key set written to");
    const second = run();
    expect(second.exitCode).toBe(3);
    expect(second.stderr.toString()).toContain("already exists");
  });
});
