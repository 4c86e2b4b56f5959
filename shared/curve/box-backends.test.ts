/**
 * The two secretbox backends: both reproduce NaCl's known answer and each other's boxes byte for
 * byte; the choice between them (fallback when the addon cannot load, the AGENT_CRYPTO_BACKEND
 * override); and the loader of the embedded addon (extraction, clean-up, refusal of a bad file).
 * The transport over each backend against libzmq: CI runs test/interop once more with
 * AGENT_CRYPTO_BACKEND=tweetnacl (.ci/run).
 */
import { describe, expect, test } from "bun:test";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import nacl from "tweetnacl";
import { FaultCode } from "../errors.ts";
import { CRYPTO_BACKEND_ENV, cryptoBackend, secretboxBackends, selectSecretbox } from "./box.ts";
import { SEAL_BOX_OFFSET, SEAL_PLAINTEXT_OFFSET, type SecretboxBackend } from "./box-backend.ts";
import {
  checkBinding,
  EXTRACT_PREFIX,
  loadEmbedded,
  loadFrom,
  prebuildKey,
  sweepStale,
} from "./box-sodium.ts";
import { NACL_SECRETBOX } from "./box-vectors.ts";
import { hex, range } from "./testing/fixtures.ts";

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
      expect(chosen.ok && chosen.info.detail).toBe("fallback: no prebuild for plan9-mips");
    }
  });

  test("auto takes libsodium when it loads", () => {
    const chosen = selectSecretbox(undefined, () => available.sodium);
    expect(chosen.ok && chosen.info.secretbox).toBe("sodium-native");
  });

  test("tweetnacl never touches the addon; sodium-native insists on it", () => {
    const nacl = selectSecretbox("tweetnacl", neverCalled);
    expect(nacl.ok && nacl.info).toEqual({
      secretbox: "tweetnacl",
      detail: `${CRYPTO_BACKEND_ENV}=tweetnacl`,
    });
    const insisted = selectSecretbox("sodium-native", failing);
    expect(insisted.ok).toBe(false);
    expect(!insisted.ok && insisted.error.message).toMatch(
      /AGENT_CRYPTO_BACKEND=sodium-native but libsodium did not load: no prebuild for plan9-mips/,
    );
  });

  test("an unknown value is a usage error naming the choices", () => {
    const chosen = selectSecretbox("openssl", neverCalled);
    expect(!chosen.ok && chosen.error.code).toBe(FaultCode.USAGE);
    expect(!chosen.ok && chosen.error.message).toMatch(
      /AGENT_CRYPTO_BACKEND must be auto, sodium-native or tweetnacl, was "openssl"/,
    );
  });

  test("this process uses what AGENT_CRYPTO_BACKEND asks for (libsodium by default)", () => {
    const requested = process.env[CRYPTO_BACKEND_ENV];
    expect(cryptoBackend().secretbox).toBe(
      requested === "tweetnacl" ? "tweetnacl" : "sodium-native",
    );
  });

  test("a process started with AGENT_CRYPTO_BACKEND reports and uses that backend", () => {
    const script = `import { cryptoBackend, seal } from ${JSON.stringify(join(import.meta.dir, "box.ts"))};
      seal(new Uint8Array(3), new Uint8Array(24), new Uint8Array(32));
      console.log(JSON.stringify(cryptoBackend()));`;
    for (const [value, expected] of [
      ["tweetnacl", "tweetnacl"],
      ["sodium-native", "sodium-native"],
      ["auto", "sodium-native"],
    ] as const) {
      const child = Bun.spawnSync([process.execPath, "-e", script], {
        env: { ...process.env, [CRYPTO_BACKEND_ENV]: value },
        stdout: "pipe",
        stderr: "pipe",
      });
      expect(child.stderr.toString()).toBe("");
      expect(JSON.parse(child.stdout.toString()).secretbox).toBe(expected);
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

describe("loading the addon", () => {
  const prebuild = Bun.resolveSync(
    `sodium-native/prebuilds/${prebuildKey()}/sodium-native.node`,
    import.meta.dir,
  );

  test("an embedded library is copied to a private directory, loaded, and the copy removed", () => {
    const root = mkdtempSync(join(tmpdir(), "box-load-"));
    try {
      const loaded = loadEmbedded(prebuild, root);
      expect(loaded.ok).toBe(true);
      expect(loaded.ok && loaded.source).toBe(`embedded ${prebuildKey()}`);
      // POSIX: nothing left behind once the library is mapped
      expect(readdirSync(root)).toEqual([]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test("a file that is not a library, or a missing one, is a reason, not a crash", () => {
    const root = mkdtempSync(join(tmpdir(), "box-load-"));
    try {
      const junk = join(root, "junk.node");
      writeFileSync(junk, "not an ELF file");
      const notLibrary = loadFrom(junk, "junk");
      expect(notLibrary.ok).toBe(false);
      expect(!notLibrary.ok && notLibrary.reason).toMatch(/^could not load junk: /);
      const missing = loadEmbedded(join(root, "missing.node"), root);
      expect(!missing.ok && missing.reason).toMatch(/could not extract the embedded library/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test("a library without our functions, or one that boxes wrongly, is refused", () => {
    expect(checkBinding({}, "other")).toEqual({
      ok: false,
      reason: "other lacks crypto_secretbox_easy/open_easy",
    });
    const wrong = checkBinding(
      {
        crypto_secretbox_easy: (c: Uint8Array) => {
          c.fill(7);
          return 0;
        },
        crypto_secretbox_open_easy: () => true,
      },
      "wrong",
    );
    expect(wrong).toEqual({
      ok: false,
      reason: "wrong failed its self-test: NaCl's known answer differs",
    });
    const throwing = checkBinding(
      {
        crypto_secretbox_easy: () => {
          throw new TypeError("bad typed array");
        },
        crypto_secretbox_open_easy: () => true,
      },
      "throwing",
    );
    expect(!throwing.ok && throwing.reason).toBe("throwing failed its self-test: bad typed array");
  });

  test("the sweep removes stale extraction directories only: not fresh ones, links or others", () => {
    const root = mkdtempSync(join(tmpdir(), "box-sweep-"));
    try {
      const old = join(root, `${EXTRACT_PREFIX}old`);
      const fresh = join(root, `${EXTRACT_PREFIX}fresh`);
      const unrelated = join(root, "unrelated-old");
      const target = join(root, "target");
      for (const directory of [old, fresh, unrelated, target]) mkdirSync(directory);
      writeFileSync(join(old, "sodium-native.node"), "x");
      writeFileSync(join(target, "keep"), "x");
      const link = join(root, `${EXTRACT_PREFIX}link`);
      symlinkSync(target, link);
      const now = Date.now();
      const longAgo = new Date(now - 3_600_000);
      for (const path of [old, unrelated, target]) utimesSync(path, longAgo, longAgo);
      sweepStale(root, now);
      expect(existsSync(old)).toBe(false);
      expect(existsSync(fresh)).toBe(true);
      expect(existsSync(unrelated)).toBe(true);
      expect(existsSync(join(target, "keep"))).toBe(true);
      sweepStale(join(root, "no-such-directory"), now);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
