import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSigner, generateSigningKeyPair } from "../protocol/signing.ts";
import {
  readSigningPublicKeyFile,
  readSigningSecretKeyFile,
  writeSigningKeyFiles,
} from "./signing-keys.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "signing-keys-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("signing key files", () => {
  test("round-trip: the secret file signs what the public file's key verifies", () => {
    const pair = generateSigningKeyPair();
    const { publicPath, secretPath } = writeSigningKeyFiles(dir, "inf-1", "inf-1", pair);
    const secret = readSigningSecretKeyFile(secretPath);
    const published = readSigningPublicKeyFile(publicPath);
    expect(secret.keyId).toBe("inf-1");
    expect(published.publicKey).toEqual(pair.publicKey);
    const signer = createSigner({ keyId: secret.keyId, secretKey: secret.secretKey });
    expect(signer.publicKey).toEqual(published.publicKey);
    expect(readFileSync(publicPath, "utf8")).not.toContain("secret-key");
  });

  test("never overwrites an existing key", () => {
    writeSigningKeyFiles(dir, "k", "k", generateSigningKeyPair());
    expect(() => writeSigningKeyFiles(dir, "k", "k", generateSigningKeyPair())).toThrow(/exists/);
  });

  test("refuses a secret others can read, naming the file and the fix", () => {
    const { secretPath } = writeSigningKeyFiles(dir, "k", "k", generateSigningKeyPair());
    chmodSync(secretPath, 0o644);
    expect(() => readSigningSecretKeyFile(secretPath)).toThrow(`chmod 600 ${secretPath}`);
  });

  test("refuses a secret whose public key does not match", () => {
    const { secretPath } = writeSigningKeyFiles(dir, "k", "k", generateSigningKeyPair());
    const other = writeSigningKeyFiles(dir, "o", "o", generateSigningKeyPair());
    const otherPublic = /public-key = "([^"]+)"/.exec(
      readFileSync(other.publicPath, "utf8"),
    )?.[1] as string;
    // A function, not a string: Z85 keys may hold "$&" or "$$", which a replacement string expands
    const text = readFileSync(secretPath, "utf8").replace(
      /public-key = "[^"]+"/,
      () => `public-key = "${otherPublic}"`,
    );
    writeFileSync(secretPath, text, { mode: 0o600 });
    expect(() => readSigningSecretKeyFile(secretPath)).toThrow(/does not belong/);
  });

  test("refuses a bad key id", () => {
    expect(() => writeSigningKeyFiles(dir, "k", "bad id", generateSigningKeyPair())).toThrow(
      /key id/,
    );
  });
});
