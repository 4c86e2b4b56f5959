/**
 * Certificate interop with pyzmq (Debian python3-zmq, libzmq 4.3.4, run as /usr/bin/python3):
 * pyzmq's `zmq.auth` loads the files writeCertificate produces, and our readers load the files
 * pyzmq's `create_certificates` produces.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateKeyPair } from "../curve/box.ts";
import { z85Encode } from "../curve/z85.ts";
import {
  readPublicKeyFile,
  readPublicKeysDir,
  readSecretKeyFile,
  writeCertificate,
} from "./curve-keys.ts";

const PYTHON = "/usr/bin/python3";

let dir = "";
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "curve-pyzmq-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function python(script: string, ...args: string[]): unknown {
  const result = Bun.spawnSync([PYTHON, "-c", script, ...args], { stdout: "pipe", stderr: "pipe" });
  const stderr = result.stderr.toString();
  if (result.exitCode !== 0) throw new Error(`python exited ${result.exitCode}: ${stderr}`);
  return JSON.parse(result.stdout.toString());
}

const LOAD_SCRIPT = `
import json, sys, zmq, zmq.auth
secret_file, public_file, directory = sys.argv[1:4]
public, secret = zmq.auth.load_certificate(secret_file)
public_only, none = zmq.auth.load_certificate(public_file)
print(json.dumps({
    "public": public.decode(),
    "secret": secret.decode(),
    "public_only": public_only.decode(),
    "public_file_secret": none,
    "derived": zmq.curve_public(secret).decode(),
    "directory": sorted(key.decode() for key in zmq.auth.load_certificates(directory)),
}))
`;

const CREATE_SCRIPT = `
import json, sys, zmq.auth
public_file, secret_file = zmq.auth.create_certificates(sys.argv[1], "py-host", {"role": "strategy"})
print(json.dumps({"public_file": public_file, "secret_file": secret_file}))
`;

describe("pyzmq interop", () => {
  test("zmq.auth loads our certificates with the same keys", () => {
    const keys = generateKeyPair();
    const { publicPath, secretPath } = writeCertificate(dir, "agent-inf", keys, {
      role: "agent-inf",
    });
    writeCertificate(dir, "other", generateKeyPair());
    const loaded = python(LOAD_SCRIPT, secretPath, publicPath, dir) as Record<string, unknown>;
    expect(loaded["public"]).toBe(z85Encode(keys.publicKey));
    expect(loaded["secret"]).toBe(z85Encode(keys.secretKey));
    expect(loaded["public_only"]).toBe(z85Encode(keys.publicKey));
    expect(loaded["public_file_secret"]).toBeNull();
    expect(loaded["derived"]).toBe(z85Encode(keys.publicKey));
    expect(loaded["directory"]).toContain(z85Encode(keys.publicKey));
    expect(loaded["directory"]).toHaveLength(2);
  });

  test("our readers load certificates created by pyzmq", () => {
    const created = python(CREATE_SCRIPT, dir) as { public_file: string; secret_file: string };
    // pyzmq does not restrict the secret's mode; ours refuses it until it is fixed
    chmodSync(created.secret_file, 0o600);
    const secret = readSecretKeyFile(created.secret_file);
    const publicOnly = readPublicKeyFile(created.public_file);
    expect(publicOnly.publicKey).toEqual(secret.publicKey);
    expect(secret.metadata.get("role")).toBe("strategy");
    expect(readPublicKeysDir(dir).map((certificate) => certificate.path)).toEqual([
      created.public_file,
    ]);
  });
});
