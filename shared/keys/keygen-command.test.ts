import { afterEach, describe, expect, test } from "bun:test";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UsageError } from "../cli.ts";
import { z85Encode } from "../curve/z85.ts";
import { readPublicKeyFile, readSecretKeyFile } from "./curve-keys.ts";
import { runKeygenCommand } from "./keygen-command.ts";
import { readSigningPublicKeyFile, readSigningSecretKeyFile } from "./signing-keys.ts";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "mlb-keygen-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, "keys");
}

async function keygen(agent: "agent-gtw" | "agent-inf", args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runKeygenCommand(agent, args, {
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
  });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

const mode = (path: string) => statSync(path).mode & 0o777;

describe("agent-gtw keygen", () => {
  test("writes the gateway pair and the EA link secret, private modes, and says what goes where", async () => {
    const dir = scratch();
    const result = await keygen("agent-gtw", ["--dir", dir, "--terminal-secret"]);
    expect(result.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual([
      "agent-gtw.key",
      "agent-gtw.key_secret",
      "terminal.secret",
    ]);
    expect(mode(dir)).toBe(0o700);
    expect(mode(join(dir, "agent-gtw.key_secret"))).toBe(0o600);
    expect(mode(join(dir, "terminal.secret"))).toBe(0o600);
    expect(mode(join(dir, "agent-gtw.key"))).toBe(0o644);
    const secret = readSecretKeyFile(join(dir, "agent-gtw.key_secret"));
    const fingerprint = z85Encode(secret.publicKey).slice(0, 8);
    expect(result.stdout).toContain(`fingerprint ${fingerprint}`);
    expect(result.stdout).toContain(`server_secret: ${join(dir, "agent-gtw.key_secret")}`);
    expect(result.stdout).toContain("copy to every inference host");
    expect(result.stdout).toContain(`secret_file: ${join(dir, "terminal.secret")}`);
    expect(result.stdout).toContain("InpSecret");
    const token = readFileSync(join(dir, "terminal.secret"), "utf8").trim();
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    // Secrets are never printed
    expect(result.stdout).not.toContain(token);
    expect(result.stdout).not.toContain(z85Encode(secret.secretKey));
    expect(result.stderr).toBe("");
  });

  test("--name chooses the file names; the token is optional", async () => {
    const dir = scratch();
    expect((await keygen("agent-gtw", ["--dir", dir, "--name", "gtw-east"])).code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(["gtw-east.key", "gtw-east.key_secret"]);
  });

  test("refuses with exit 3 and the file named when any target exists, writing nothing", async () => {
    const dir = scratch();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "terminal.secret"), "existing\n");
    const result = await keygen("agent-gtw", ["--dir", dir, "--terminal-secret"]);
    expect(result.code).toBe(3);
    expect(result.stderr).toBe(
      `agent-gtw keygen: ${join(dir, "terminal.secret")} already exists; refusing to overwrite a key (move it away first)\n`,
    );
    expect(readdirSync(dir)).toEqual(["terminal.secret"]);
    expect(readFileSync(join(dir, "terminal.secret"), "utf8")).toBe("existing\n");
  });

  test("usage errors: arguments, the other agent's token flag, a bad name", async () => {
    await expect(keygen("agent-gtw", ["extra"])).rejects.toBeInstanceOf(UsageError);
    await expect(keygen("agent-gtw", ["--api-token"])).rejects.toThrow(/belongs to agent-inf/);
    await expect(keygen("agent-gtw", ["--name", "../x"])).rejects.toThrow(/--name/);
    await expect(keygen("agent-gtw", ["--force"])).rejects.toBeInstanceOf(UsageError);
  });
});

describe("agent-inf keygen", () => {
  test("writes the CURVE and signing pairs (key id = name) and both API tokens", async () => {
    const dir = scratch();
    const result = await keygen("agent-inf", ["--name", "inf-2", "--dir", dir]);
    expect(result.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual([
      "api.token",
      "inf-2.key",
      "inf-2.key_secret",
      "inf-2.sign",
      "inf-2.sign_secret",
      "operator.token",
    ]);
    for (const secret of ["inf-2.key_secret", "inf-2.sign_secret", "api.token", "operator.token"]) {
      expect(mode(join(dir, secret))).toBe(0o600);
    }
    const signing = readSigningSecretKeyFile(join(dir, "inf-2.sign_secret"));
    expect(signing.keyId).toBe("inf-2");
    expect(readSigningPublicKeyFile(join(dir, "inf-2.sign")).publicKey).toEqual(signing.publicKey);
    expect(readPublicKeyFile(join(dir, "inf-2.key")).publicKey).toEqual(
      readSecretKeyFile(join(dir, "inf-2.key_secret")).publicKey,
    );
    expect(result.stdout).toContain("Copy the two public files to the gateway host");
    expect(result.stdout).toContain(`client_secret: ${join(dir, "inf-2.key_secret")}`);
    expect(result.stdout).toContain(`signing_secret: ${join(dir, "inf-2.sign_secret")}`);
    expect(result.stdout).toContain("key_id: inf-2");
    expect(result.stdout).toContain(`token_file: ${join(dir, "api.token")}`);
    expect(result.stdout).toContain(`operator_token_file: ${join(dir, "operator.token")}`);
    const tokens = ["api.token", "operator.token"].map((file) =>
      readFileSync(join(dir, file), "utf8").trim(),
    );
    expect(tokens[0]).not.toBe(tokens[1]);
    for (const token of tokens) expect(result.stdout).not.toContain(token);
    // --api-token, from before the tokens were the default, is still accepted
    const again = await keygen("agent-inf", ["--name", "inf-3", "--dir", scratch(), "--api-token"]);
    expect(again.code).toBe(0);
  });

  test("needs --name", async () => {
    await expect(keygen("agent-inf", [])).rejects.toThrow(/needs --name/);
    await expect(keygen("agent-inf", ["--name", "inf-1", "--terminal-secret"])).rejects.toThrow(
      /belongs to agent-gtw/,
    );
    await expect(keygen("agent-gtw", ["--terminal-token"])).rejects.toThrow(
      /renamed --terminal-secret/,
    );
  });

  test("refuses to overwrite an existing signing key (exit 3), leaving the CURVE pair unwritten", async () => {
    const dir = scratch();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "inf-1.sign_secret"), "keep me\n", { mode: 0o600 });
    const result = await keygen("agent-inf", ["--name", "inf-1", "--dir", dir]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(join(dir, "inf-1.sign_secret"));
    expect(existsSync(join(dir, "inf-1.key_secret"))).toBe(false);
  });
});

describe("keygen --add: one missing item in an existing key folder", () => {
  test.each<["agent-gtw" | "agent-inf", string, string]>([
    ["agent-inf", "api-token", "api.token"],
    ["agent-inf", "operator-token", "operator.token"],
    ["agent-gtw", "terminal-secret", "terminal.secret"],
  ])("%s --add %s writes %s and touches nothing else", async (agent, item, file) => {
    const dir = scratch();
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    writeFileSync(join(dir, "inf-1.key_secret"), "keep me\n", { mode: 0o600 });
    const before = statSync(join(dir, "inf-1.key_secret"));
    const result = await keygen(agent, ["--add", item, "--dir", dir]);
    expect(result.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual([file, "inf-1.key_secret"].sort());
    expect(mode(join(dir, file))).toBe(0o600);
    expect(readFileSync(join(dir, file), "utf8").trim()).toMatch(/^[0-9a-f]{64}$/);
    // The folder's mode and the other files are as they were
    expect(mode(dir)).toBe(0o750);
    expect(readFileSync(join(dir, "inf-1.key_secret"), "utf8")).toBe("keep me\n");
    expect(statSync(join(dir, "inf-1.key_secret")).mtimeMs).toBe(before.mtimeMs);
    expect(result.stdout).toContain(join(dir, file));
  });

  test("refuses an existing file (exit 3) and a folder that is not there", async () => {
    const dir = scratch();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "api.token"), "old\n", { mode: 0o600 });
    const taken = await keygen("agent-inf", ["--add", "api-token", "--dir", dir]);
    expect(taken.code).toBe(3);
    expect(readFileSync(join(dir, "api.token"), "utf8")).toBe("old\n");
    const nowhere = await keygen("agent-inf", ["--add", "api-token", "--dir", join(dir, "no")]);
    expect([nowhere.code, nowhere.stderr]).toEqual([
      3,
      `agent-inf keygen: no key folder at ${join(dir, "no")}; --add adds to an existing one (check --dir)\n`,
    ]);
  });

  test("usage errors: an item of the other agent, --add with --name", async () => {
    await expect(keygen("agent-inf", ["--add", "terminal-secret"])).rejects.toThrow(
      /api-token or operator-token/,
    );
    await expect(keygen("agent-gtw", ["--add", "api-token"])).rejects.toThrow(/terminal-secret/);
    await expect(keygen("agent-inf", ["--add", "api-token", "--name", "x"])).rejects.toThrow(
      /only --dir/,
    );
  });
});

// pyzmq (Debian's python3-zmq, libzmq underneath) must read what keygen writes (DESIGN §5)
describe("keygen output and pyzmq", () => {
  test("zmq.auth.load_certificate reads both files and finds the same keys", async () => {
    const dir = scratch();
    expect((await keygen("agent-gtw", ["--dir", dir])).code).toBe(0);
    const secret = readSecretKeyFile(join(dir, "agent-gtw.key_secret"));
    const script = [
      "import sys, zmq, zmq.auth",
      "public, none = zmq.auth.load_certificate(sys.argv[1])",
      "public2, secret = zmq.auth.load_certificate(sys.argv[2])",
      "assert none is None and public == public2 and zmq.curve_public(secret) == public",
      "print(public.decode(), secret.decode())",
    ].join("\n");
    const result = Bun.spawnSync(
      [
        "/usr/bin/python3",
        "-c",
        script,
        join(dir, "agent-gtw.key"),
        join(dir, "agent-gtw.key_secret"),
      ],
      { stdout: "pipe", stderr: "pipe", timeout: 20_000 },
    );
    expect(result.stderr.toString()).toBe("");
    expect(result.stdout.toString().trim()).toBe(
      `${z85Encode(secret.publicKey)} ${z85Encode(secret.secretKey)}`,
    );
  });
});
