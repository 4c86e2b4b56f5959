/**
 * The two secretbox backends: both reproduce NaCl's known answer and each other's boxes byte for
 * byte; the choice between them (fallback when the addon cannot load, the AGENT_CRYPTO_BACKEND
 * override, refusal of an unknown value) and its installation in box.ts. The loader itself:
 * loader.test.ts. The transport over each backend against libzmq: CI runs test/interop once more
 * with AGENT_CRYPTO_BACKEND=tweetnacl (.ci/run).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import nacl from "tweetnacl";
import { cryptoBackend, installedSecretbox, open, seal, useSecretbox } from "../curve/box.ts";
import {
  SEAL_BOX_OFFSET,
  SEAL_PLAINTEXT_OFFSET,
  type SecretboxBackend,
} from "../curve/box-backend.ts";
import { NACL_SECRETBOX } from "../curve/box-vectors.ts";
import { hex, range } from "../curve/testing/fixtures.ts";
import { FaultCode } from "../errors.ts";
import type { Logger } from "../log.ts";
import {
  CRYPTO_BACKEND_ENV,
  installCryptoBackend,
  secretboxBackends,
  selectSecretbox,
} from "./install.ts";

const available = secretboxBackends();

/** libsodium must load on every host the project builds and tests on (Linux x64 here). */
function sodium(): SecretboxBackend {
  if (!available.sodium.ok)
    throw new Error(`sodium-native did not load: ${available.sodium.reason}`);
  return available.sodium.backend;
}

function sealWith(
  backend: SecretboxBackend,
  message: Uint8Array,
  nonce: Uint8Array,
  key: Uint8Array,
) {
  const buffer = new Uint8Array(SEAL_PLAINTEXT_OFFSET + message.length).fill(0xa5);
  buffer.set(message, SEAL_PLAINTEXT_OFFSET);
  backend.sealInPlace(buffer, nonce, key);
  return buffer;
}

describe("both backends", () => {
  test("libsodium loads from node_modules on this host", () => {
    expect(available.sodium.ok).toBe(true);
  });

  for (const name of ["tweetnacl", "sodium-native"] as const) {
    const backend = () => (name === "tweetnacl" ? available.tweetnacl : sodium());

    test(`${name}: NaCl's known answer, sealed and opened`, () => {
      const { key, nonce, message, box } = NACL_SECRETBOX;
      const sealed = sealWith(backend(), message, nonce, key);
      expect(hex(sealed.subarray(0, SEAL_BOX_OFFSET))).toBe("00".repeat(16));
      expect(hex(sealed.subarray(SEAL_BOX_OFFSET))).toBe(hex(box));
      const framed = new Uint8Array(SEAL_BOX_OFFSET + box.length).fill(0x77, 0, SEAL_BOX_OFFSET);
      framed.set(box, SEAL_BOX_OFFSET);
      expect(backend().openInPlace(framed, nonce, key)).toBe(true);
      expect(hex(framed.subarray(SEAL_PLAINTEXT_OFFSET))).toBe(hex(message));
      // No keystream left in front of the plaintext: the header and MAC as they were
      expect(hex(framed.subarray(0, SEAL_PLAINTEXT_OFFSET))).toBe(
        `${"77".repeat(16)}${hex(box.subarray(0, 16))}`,
      );
    });

    test(`${name}: refuses every flipped bit of the known answer, keeps its input, exposes nothing`, () => {
      const { key, nonce, box } = NACL_SECRETBOX;
      for (let i = 0; i < box.length; i++) {
        const framed = new Uint8Array(SEAL_BOX_OFFSET + box.length);
        framed.set(box, SEAL_BOX_OFFSET);
        framed[SEAL_BOX_OFFSET + i] = (framed[SEAL_BOX_OFFSET + i] as number) ^ (1 << (i % 8));
        const before = hex(framed);
        expect(backend().openInPlace(framed, nonce, key)).toBe(false);
        expect(hex(framed)).toBe(before);
      }
    });
  }

  test("byte-identical boxes for every size 0..300, then up to 1 MiB; each opens the other's", () => {
    const key = range(0x41, 32);
    const nonce = range(0x01, 24);
    const sizes = [
      ...Array.from({ length: 301 }, (_, i) => i),
      1023,
      1024,
      1025,
      4097,
      65_536,
      1 << 20,
    ];
    for (const size of sizes) {
      const message = Uint8Array.from({ length: size }, (_, i) => (i * 131 + size) & 0xff);
      const ours = sealWith(sodium(), message, nonce, key);
      const theirs = sealWith(available.tweetnacl, message, nonce, key);
      expect(hex(ours)).toBe(hex(theirs));
      if (size <= 4097) {
        expect(hex(ours.subarray(SEAL_BOX_OFFSET))).toBe(hex(nacl.secretbox(message, nonce, key)));
      }
      // Each side's header bytes are arbitrary: the box starts at 16 whatever comes before
      ours.fill(0x5a, 0, SEAL_BOX_OFFSET);
      expect(sodium().openInPlace(theirs, nonce, key)).toBe(true);
      expect(available.tweetnacl.openInPlace(ours, nonce, key)).toBe(true);
      expect(hex(theirs.subarray(SEAL_PLAINTEXT_OFFSET))).toBe(hex(message));
      expect(hex(ours.subarray(SEAL_PLAINTEXT_OFFSET))).toBe(hex(message));
    }
  });
});

describe("choosing the backend", () => {
  const failing = () => ({ ok: false as const, reason: "no prebuild for plan9-mips" });
  const neverCalled = () => {
    throw new Error("the addon must not be loaded");
  };

  test("auto falls back to tweetnacl and says why", () => {
    for (const requested of [undefined, "", "auto"]) {
      const chosen = selectSecretbox(requested, failing);
      expect(chosen.ok && chosen.backend.name).toBe("tweetnacl");
      expect(chosen.ok && chosen.detail).toBe("fallback: no prebuild for plan9-mips");
      expect(chosen.ok && chosen.fallback).toBe(true);
    }
  });

  test("auto takes libsodium when it loads", () => {
    const chosen = selectSecretbox(undefined, () => available.sodium);
    expect(chosen.ok && chosen.backend.name).toBe("sodium-native");
    expect(chosen.ok && chosen.fallback).toBe(false);
  });

  test("tweetnacl never touches the addon; sodium-native insists on it", () => {
    const nacl = selectSecretbox("tweetnacl", neverCalled);
    expect(nacl.ok && [nacl.backend.name, nacl.detail, nacl.fallback]).toEqual([
      "tweetnacl",
      `${CRYPTO_BACKEND_ENV}=tweetnacl`,
      false,
    ]);
    const insisted = selectSecretbox("sodium-native", failing);
    expect(insisted.ok).toBe(false);
    expect(!insisted.ok && insisted.error.message).toMatch(
      /AGENT_CRYPTO_BACKEND=sodium-native but libsodium did not load: no prebuild for plan9-mips/,
    );
  });

  test("an unknown value is a usage error naming the choices, and nothing is loaded", () => {
    for (const requested of ["openssl", "Auto", " tweetnacl", "sodium"]) {
      const chosen = selectSecretbox(requested, neverCalled);
      expect(!chosen.ok && chosen.error.code).toBe(FaultCode.USAGE);
      expect(!chosen.ok && chosen.error.message).toBe(
        `AGENT_CRYPTO_BACKEND must be auto, sodium-native or tweetnacl, was ${JSON.stringify(requested)}`,
      );
    }
  });

  test("this test process runs what AGENT_CRYPTO_BACKEND asks for (the preload installs it)", () => {
    const requested = process.env[CRYPTO_BACKEND_ENV];
    expect(cryptoBackend().secretbox).toBe(
      requested === "tweetnacl" ? "tweetnacl" : "sodium-native",
    );
  });
});

describe("installing the choice in box.ts", () => {
  const before = installedSecretbox();
  afterEach(() => {
    useSecretbox(before.backend, before.info.detail, before.info.fallback);
  });

  test("box.ts then seals with the installed backend and reports it; a fallback warns", () => {
    const logged: [string, unknown][] = [];
    const logger: Logger = {
      level: "debug",
      error: () => undefined,
      warn: (_message, fields) => logged.push(["warn", fields?.["secretbox"]]),
      info: (_message, fields) => logged.push(["info", fields?.["secretbox"]]),
      debug: () => undefined,
      child: () => logger,
    };
    expect(installCryptoBackend({ logger, requested: "tweetnacl" })).toEqual({
      secretbox: "tweetnacl",
      detail: `${CRYPTO_BACKEND_ENV}=tweetnacl`,
      fallback: false,
    });
    expect(cryptoBackend().secretbox).toBe("tweetnacl");
    expect(installCryptoBackend({ logger, requested: "sodium-native" }).secretbox).toBe(
      "sodium-native",
    );
    expect(cryptoBackend().secretbox).toBe("sodium-native");
    const { key, nonce, message, box } = NACL_SECRETBOX;
    expect(hex(seal(message, nonce, key))).toBe(hex(box));
    expect(hex(open(box, nonce, key) as Uint8Array)).toBe(hex(message));
    const fellBack = installCryptoBackend({
      logger,
      requested: "auto",
      load: () => ({ ok: false, reason: "glibc too old" }),
    });
    expect(fellBack).toEqual({
      secretbox: "tweetnacl",
      detail: "fallback: glibc too old",
      fallback: true,
    });
    expect(logged).toEqual([
      ["info", "tweetnacl"],
      ["info", "sodium-native"],
      ["warn", "tweetnacl"],
    ]);
  });

  test("a refused value throws and leaves the running backend as it was", () => {
    useSecretbox(available.tweetnacl, "before");
    expect(() => installCryptoBackend({ requested: "fast" })).toThrow(
      /AGENT_CRYPTO_BACKEND must be auto, sodium-native or tweetnacl, was "fast"/,
    );
    expect(cryptoBackend()).toEqual({ secretbox: "tweetnacl", detail: "before", fallback: false });
  });

  test("a process started with AGENT_CRYPTO_BACKEND installs, reports and uses that backend", () => {
    const script = `import { cryptoBackend, open, seal } from ${JSON.stringify(join(import.meta.dir, "..", "curve", "box.ts"))};
      import { installCryptoBackend } from ${JSON.stringify(join(import.meta.dir, "install.ts"))};
      const before = cryptoBackend().secretbox;
      installCryptoBackend();
      const nonce = new Uint8Array(24), key = new Uint8Array(32).fill(1);
      const opened = open(seal(new Uint8Array([1, 2, 3]), nonce, key), nonce, key);
      console.log(JSON.stringify({ before, ...cryptoBackend(), opened: Array.from(opened) }));`;
    for (const [value, expected] of [
      ["tweetnacl", "tweetnacl"],
      ["sodium-native", "sodium-native"],
      ["auto", "sodium-native"],
      ["", "sodium-native"],
    ] as const) {
      const child = Bun.spawnSync([process.execPath, "-e", script], {
        env: { ...process.env, [CRYPTO_BACKEND_ENV]: value },
        stdout: "pipe",
        stderr: "pipe",
      });
      expect(child.stderr.toString()).toBe("");
      const reported = JSON.parse(child.stdout.toString());
      // Nothing installed yet: the pure-JS default, no addon loaded by importing box.ts
      expect(reported.before).toBe("tweetnacl");
      expect(reported.secretbox).toBe(expected);
      expect(reported.opened).toEqual([1, 2, 3]);
    }
    const bad = Bun.spawnSync([process.execPath, "-e", script], {
      env: { ...process.env, [CRYPTO_BACKEND_ENV]: "fast" },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr.toString()).toMatch(/AGENT_CRYPTO_BACKEND must be auto/);
  });
});
