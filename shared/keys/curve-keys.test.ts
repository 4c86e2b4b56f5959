/**
 * Key files on disk: the exact czmq/pyzmq certificate text, file modes, refusal to overwrite,
 * refusal of readable secrets, and clear messages for broken files. Each test works in its own
 * temporary directory.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateKeyPair } from "../curve/box.ts";
import { CLIENT_KEYS, SERVER_KEYS, TEST_KEYS_Z85 } from "../curve/testing/fixtures.ts";
import { AgentError, FaultCode } from "../errors.ts";
import {
  readPublicKeyFile,
  readPublicKeysDir,
  readSecretKeyFile,
  writeCertificate,
} from "./curve-keys.ts";

let dir = "";
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "curve-keys-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const GENERATED_AT = new Date(2026, 10, 21, 5, 43, 21); // local time, as czmq prints it
const mode = (path: string): number => statSync(path).mode & 0o777;

function caught(action: () => unknown): AgentError {
  try {
    action();
  } catch (error) {
    if (error instanceof AgentError) return error;
    throw error;
  }
  throw new Error("expected an AgentError");
}

/** A secret file with the given curve lines, mode 0600. */
function secretFile(curveLines: string[], name = "broken.key_secret"): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    ["metadata", "curve", ...curveLines.map((line) => `    ${line}`), ""].join("\n"),
    {
      mode: 0o600,
    },
  );
  chmodSync(path, 0o600);
  return path;
}

describe("writeCertificate", () => {
  test("writes exactly the czmq secret and public certificate text", () => {
    const paths = writeCertificate(
      dir,
      "agent-gtw",
      SERVER_KEYS,
      { role: "agent-gtw" },
      { generatedAt: GENERATED_AT },
    );
    expect(paths).toEqual({
      publicPath: join(dir, "agent-gtw.key"),
      secretPath: join(dir, "agent-gtw.key_secret"),
    });
    expect(readFileSync(paths.secretPath, "utf8")).toBe(
      [
        "#   ****  Generated on 2026-11-21 05:43:21 by agent-keygen  ****",
        "#   ZeroMQ CURVE **Secret** Certificate",
        "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.",
        "",
        "metadata",
        '    role = "agent-gtw"',
        "curve",
        `    public-key = "${TEST_KEYS_Z85.serverPublic}"`,
        `    secret-key = "${TEST_KEYS_Z85.serverSecret}"`,
        "",
      ].join("\n"),
    );
    expect(readFileSync(paths.publicPath, "utf8")).toBe(
      [
        "#   ****  Generated on 2026-11-21 05:43:21 by agent-keygen  ****",
        "#   ZeroMQ CURVE Public Certificate",
        "#   Exchange securely, or use a secure mechanism to verify the contents",
        "#   of this file after exchange. Store public certificates in your home",
        "#   directory, in the .curve subdirectory.",
        "",
        "metadata",
        '    role = "agent-gtw"',
        "curve",
        `    public-key = "${TEST_KEYS_Z85.serverPublic}"`,
        "",
      ].join("\n"),
    );
  });

  test("the metadata section is present even when empty; the generator name is configurable", () => {
    const { publicPath } = writeCertificate(
      dir,
      "bare",
      CLIENT_KEYS,
      {},
      { generatedAt: GENERATED_AT, generator: "test" },
    );
    const text = readFileSync(publicPath, "utf8");
    expect(text).toContain("by test  ****\n");
    expect(text).toContain("\n\nmetadata\ncurve\n");
  });

  test("secret is 0600 and public 0644, even under umask 077", () => {
    const previous = process.umask(0o077);
    try {
      const paths = writeCertificate(dir, "masked", generateKeyPair());
      expect(mode(paths.secretPath)).toBe(0o600);
      expect(mode(paths.publicPath)).toBe(0o644);
    } finally {
      process.umask(previous);
    }
  });

  test("round-trips through the readers", () => {
    const keys = generateKeyPair();
    const paths = writeCertificate(dir, "inf-01", keys, { host: "vm", role: "agent-inf" });
    const secret = readSecretKeyFile(paths.secretPath);
    expect(secret.secretKey).toEqual(keys.secretKey);
    expect(secret.publicKey).toEqual(keys.publicKey);
    expect(secret.metadata).toEqual(
      new Map([
        ["host", "vm"],
        ["role", "agent-inf"],
      ]),
    );
    expect(secret.path).toBe(paths.secretPath);
    const publicOnly = readPublicKeyFile(paths.publicPath);
    expect(publicOnly.publicKey).toEqual(keys.publicKey);
    expect("secretKey" in publicOnly).toBe(false);
  });

  test("never overwrites: KEY_FILE_EXISTS names the file and leaves it untouched", () => {
    const paths = writeCertificate(dir, "once", CLIENT_KEYS);
    const before = readFileSync(paths.secretPath, "utf8");
    const error = caught(() => writeCertificate(dir, "once", generateKeyPair()));
    expect(error.code).toBe(FaultCode.KEY_FILE_EXISTS);
    expect(error.message).toContain(paths.secretPath);
    expect(readFileSync(paths.secretPath, "utf8")).toBe(before);
  });

  test("an existing public file alone also blocks, and no secret is left behind", () => {
    const publicPath = join(dir, "half.key");
    writeFileSync(publicPath, "planted");
    const error = caught(() => writeCertificate(dir, "half", CLIENT_KEYS));
    expect(error.code).toBe(FaultCode.KEY_FILE_EXISTS);
    expect(error.message).toContain(publicPath);
    expect(() => statSync(join(dir, "half.key_secret"))).toThrow();
  });

  test.each(["../escape", "a/b", ".hidden", "", "has space"])("refuses the name %p", (name) => {
    expect(caught(() => writeCertificate(dir, name, CLIENT_KEYS)).code).toBe(FaultCode.USAGE);
  });

  test.each([
    [{ 'say "hi"': "x" }, /ZPL name/],
    [{ note: 'say "hi"' }, /double quote/],
    [{ "public-key-backup": "x" }, /read as a key by pyzmq/],
  ])("refuses metadata that cannot be written safely (%p)", (metadata, message) => {
    expect(() => writeCertificate(dir, "meta", CLIENT_KEYS, metadata)).toThrow(message);
    expect(() => statSync(join(dir, "meta.key_secret"))).toThrow();
  });
});

describe("readSecretKeyFile permissions", () => {
  test.each([0o644, 0o640, 0o604, 0o620, 0o660])(
    "refuses mode %o with KEY_FILE_INSECURE and the fix",
    (fileMode) => {
      const { secretPath } = writeCertificate(dir, "loose", CLIENT_KEYS);
      chmodSync(secretPath, fileMode);
      const error = caught(() => readSecretKeyFile(secretPath));
      expect(error.code).toBe(FaultCode.KEY_FILE_INSECURE);
      expect(error.message).toContain(`secret key file ${secretPath}`);
      expect(error.message).toContain(`(mode was 0${fileMode.toString(8)})`);
      expect(error.message).toEndWith(`fix it with: chmod 600 ${secretPath}`);
    },
  );

  test("accepts 0400 (systemd credentials) and skips the check on win32", () => {
    const { secretPath } = writeCertificate(dir, "strict", CLIENT_KEYS);
    chmodSync(secretPath, 0o400);
    expect(readSecretKeyFile(secretPath).publicKey).toEqual(CLIENT_KEYS.publicKey);
    chmodSync(secretPath, 0o644);
    expect(readSecretKeyFile(secretPath, { platform: "win32" }).publicKey).toEqual(
      CLIENT_KEYS.publicKey,
    );
  });
});

describe("a public key file where the secret one belongs (server_secret: agent-gtw.key)", () => {
  test.each([0o644, 0o600])("mode %o: says it is the public half, not chmod", (fileMode) => {
    const { publicPath } = writeCertificate(dir, "agent-gtw", SERVER_KEYS);
    chmodSync(publicPath, fileMode);
    const error = caught(() => readSecretKeyFile(publicPath));
    expect(error.code).toBe(FaultCode.KEY_FILE_INVALID);
    expect(error.message).toContain("is a public key file (the public half of a key pair)");
    expect(error.message).toContain(join(dir, "agent-gtw.key_secret"));
    expect(error.message).not.toContain("chmod");
  });
});

describe("malformed key files", () => {
  const pub = `public-key = "${TEST_KEYS_Z85.clientPublic}"`;
  const sec = `secret-key = "${TEST_KEYS_Z85.clientSecret}"`;

  test.each([
    [
      "a character outside Z85",
      [pub.replace("Y", "~"), sec],
      /curve\/public-key is not valid Z85 \(z85 text has a character outside the alphabet at position 0/,
    ],
    [
      "a 39-character key",
      [pub.replace("Y", ""), sec],
      /line 3: curve\/public-key must be 40 Z85 characters, was 39/,
    ],
    [
      "a public key not derived from the secret",
      [`public-key = "${TEST_KEYS_Z85.serverPublic}"`, sec],
      /public-key does not belong to secret-key \(derived Yne@\$w-v…, file says rq:rM>}U…\)/,
    ],
    ["a missing secret-key", [pub], /expected one curve\/secret-key, found 0/],
    ["two public-keys", [pub, pub, sec], /expected one curve\/public-key, found 2/],
    ["a section instead of a value", ["public-key", sec], /curve\/public-key has no value/],
  ])("%s is refused with KEY_FILE_INVALID and a clear message", (_name, lines, message) => {
    const path = secretFile(lines);
    const error = caught(() => readSecretKeyFile(path));
    expect(error.code).toBe(FaultCode.KEY_FILE_INVALID);
    expect(error.message).toStartWith(`curve: ${path}: `);
    expect(error.message).toMatch(message);
  });

  test("a file without a curve section", () => {
    const path = join(dir, "empty.key");
    writeFileSync(path, "metadata\n");
    expect(() => readPublicKeyFile(path)).toThrow(
      `curve: ${path}: expected one "curve" section, found 0`,
    );
  });

  test("a public file holding a secret-key is refused", () => {
    const { secretPath } = writeCertificate(dir, "leak", CLIENT_KEYS);
    expect(() => readPublicKeyFile(secretPath)).toThrow(/must not contain a secret-key/);
  });

  test("missing, oversized, binary and directory paths", () => {
    expect(caught(() => readPublicKeyFile(join(dir, "nope.key"))).message).toContain(
      "cannot read key file",
    );
    const big = join(dir, "big.key");
    writeFileSync(big, "#".repeat(70_000));
    expect(() => readPublicKeyFile(big)).toThrow(/key file .* is too large \(size was 70000 bytes/);
    const binary = join(dir, "binary.key");
    writeFileSync(binary, Uint8Array.of(0x63, 0xff, 0xfe, 0x0a));
    expect(() => readPublicKeyFile(binary)).toThrow(/is not UTF-8 text/);
    expect(() => readPublicKeyFile(dir)).toThrow(/is not a regular file/);
  });

  test("a ZPL syntax error names the file and line", () => {
    const path = join(dir, "syntax.key");
    writeFileSync(path, `curve\n  ${pub}\n`);
    expect(() => readPublicKeyFile(path)).toThrow(
      `curve: ${path} line 2: indentation must be a multiple of 4 spaces, was 2`,
    );
  });
});

describe("readPublicKeysDir", () => {
  test("loads every *.key, skipping secrets, hidden files, other files and directories", () => {
    const a = generateKeyPair();
    writeCertificate(dir, "b-host", CLIENT_KEYS);
    writeCertificate(dir, "a-host", a);
    writeFileSync(join(dir, "c_secret"), "not a key");
    writeFileSync(join(dir, ".hidden.key"), "not a key");
    writeFileSync(join(dir, "notes.txt"), "not a key");
    mkdirSync(join(dir, "folder.key"));
    const loaded = readPublicKeysDir(dir);
    expect(loaded.map((certificate) => certificate.path)).toEqual([
      join(dir, "a-host.key"),
      join(dir, "b-host.key"),
    ]);
    expect(loaded[0]?.publicKey).toEqual(a.publicKey);
    expect(loaded[1]?.publicKey).toEqual(CLIENT_KEYS.publicKey);
  });

  test("an empty directory gives no keys; a missing one is an error naming it", () => {
    expect(readPublicKeysDir(dir)).toEqual([]);
    expect(() => readPublicKeysDir(join(dir, "missing"))).toThrow(
      `cannot list key directory ${join(dir, "missing")}`,
    );
  });

  test("one broken key file fails the whole load, naming the file", () => {
    writeCertificate(dir, "good", CLIENT_KEYS);
    writeFileSync(join(dir, "bad.key"), 'curve\n    public-key = "short"\n');
    expect(() => readPublicKeysDir(dir)).toThrow(join(dir, "bad.key"));
  });
});
