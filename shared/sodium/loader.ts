/**
 * The libsodium secretbox backend: sodium-native 5.1.0's prebuilt N-API library, called directly
 * (its JS wrapper only adds argument checks that box.ts already makes). Loading it takes the file
 * system and the clock, so it lives here and not in the pure shared/curve: install.ts hands the
 * loaded backend to box.ts, through which every box still goes.
 *
 * Where the library comes from:
 * - From source (`bun test`, `bun run`): node_modules/sodium-native/prebuilds/<platform>-<arch>.
 * - In a single-file binary: scripts/build.ts defines `globalThis.MLB_SODIUM_PREBUILD` as the
 *   target (linux-x64, linux-arm64 or win32-x64), so exactly one prebuild is embedded (the other
 *   branches are dead code the bundler drops). It is written to a fresh private directory under
 *   the system temp directory and loaded from there. Not Bun's own `require` of an embedded
 *   .node: in Bun 1.4.5 the Windows binary extracts the file but then asks LoadLibrary for the
 *   embedded path (B:/~BUN/...), which fails; and on Linux Bun reuses a predictable file name in
 *   /tmp. Here the directory is made by mkdtemp (0700 on POSIX), the file is created exclusively,
 *   and both are removed right after loading (POSIX), or at a later start once no process has the
 *   library loaded (Windows cannot delete a loaded library).
 *
 * Loading fails on hosts the prebuilds do not cover: the Linux ones need glibc ≥ 2.33 and
 * libstdc++; every failure is returned as a reason, and install.ts falls back to tweetnacl. A library
 * that loads is used only after it produced the same boxes as tweetnacl on known answers.
 */
import {
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  SEAL_BOX_OFFSET,
  SEAL_PLAINTEXT_OFFSET,
  type SecretboxBackend,
} from "../curve/box-backend.ts";
import { tweetnaclBackend } from "../curve/box-tweetnacl.ts";
import { NACL_SECRETBOX } from "../curve/box-vectors.ts";

/** The two functions we call; both take typed arrays and assert their sizes (abort on mismatch). */
interface SodiumBinding {
  crypto_secretbox_easy(c: Uint8Array, m: Uint8Array, nonce: Uint8Array, key: Uint8Array): number;
  crypto_secretbox_open_easy(
    m: Uint8Array,
    c: Uint8Array,
    nonce: Uint8Array,
    key: Uint8Array,
  ): boolean;
}

export type SodiumLoad =
  | { readonly ok: true; readonly backend: SecretboxBackend; readonly source: string }
  | { readonly ok: false; readonly reason: string };

/** Extraction directories start with this, in the system temp directory. */
export const EXTRACT_PREFIX = "mlb-sodium-";
/** An extraction directory this old is left over (a crash, or Windows): removed at load. */
const STALE_AFTER_MS = 60_000;

/** `${platform}-${arch}` as sodium-native names its prebuild folders. */
export function prebuildKey(): string {
  return `${process.platform}-${process.arch}`;
}

/**
 * The embedded prebuild's path for the target scripts/build.ts compiled for, or undefined when
 * running from source. Each branch is a static import so that the bundler embeds only that file.
 */
function embeddedPrebuild(): string | undefined {
  const target = (globalThis as { MLB_SODIUM_PREBUILD?: string }).MLB_SODIUM_PREBUILD;
  if (target === "linux-x64") return require("./prebuilds/linux-x64.ts").default;
  if (target === "linux-arm64") return require("./prebuilds/linux-arm64.ts").default;
  if (target === "win32-x64") return require("./prebuilds/win32-x64.ts").default;
  return undefined;
}

/** Load the addon for this process: the embedded prebuild, or node_modules' from source. */
export function loadSodium(): SodiumLoad {
  let embedded: string | undefined;
  try {
    embedded = embeddedPrebuild();
  } catch (error) {
    return { ok: false, reason: `embedded prebuild missing: ${describe(error)}` };
  }
  if (embedded !== undefined) return loadEmbedded(embedded, tmpdir());
  let path: string;
  try {
    path = Bun.resolveSync(
      `sodium-native/prebuilds/${prebuildKey()}/sodium-native.node`,
      import.meta.dir,
    );
  } catch (error) {
    return {
      ok: false,
      reason: `no sodium-native prebuild for ${prebuildKey()}: ${describe(error)}`,
    };
  }
  return loadFrom(path, path);
}

/**
 * Copy an embedded library to a fresh directory under `tempRoot` and load it from there. Exported
 * for the test that runs it on the real prebuild (a compiled binary is the only real caller).
 */
export function loadEmbedded(embedded: string, tempRoot: string): SodiumLoad {
  sweepStale(tempRoot, Date.now());
  let bytes: Uint8Array;
  let directory: string;
  let file: string;
  try {
    bytes = readFileSync(embedded);
    directory = mkdtempSync(join(tempRoot, EXTRACT_PREFIX));
    file = join(directory, "sodium-native.node");
    // Owner-writable so that Windows can delete it later (a read-only file refuses deletion there)
    writeFileSync(file, bytes, { flag: "wx", mode: 0o700 });
  } catch (error) {
    return { ok: false, reason: `could not extract the embedded library: ${describe(error)}` };
  }
  const loaded = loadFrom(file, `embedded ${prebuildKey()}`);
  try {
    removeCopy(directory);
  } catch {
    // Windows: the loaded library cannot be deleted; a later start's sweep removes it
  }
  return loaded;
}

/** Load the library at `file` with process.dlopen and check it on known answers. */
export function loadFrom(file: string, source: string): SodiumLoad {
  const module = { exports: {} };
  try {
    process.dlopen(module, file);
  } catch (error) {
    return { ok: false, reason: `could not load ${source}: ${describe(error)}` };
  }
  return checkBinding(module.exports, source);
}

/** A loaded library's exports as a backend, if it has our functions and passes the self-test. */
export function checkBinding(exports: unknown, source: string): SodiumLoad {
  const binding = exports as Partial<SodiumBinding>;
  if (
    typeof binding.crypto_secretbox_easy !== "function" ||
    typeof binding.crypto_secretbox_open_easy !== "function"
  ) {
    return { ok: false, reason: `${source} lacks crypto_secretbox_easy/open_easy` };
  }
  const backend = sodiumBackend(binding as SodiumBinding);
  let mismatch: string | undefined;
  try {
    mismatch = selfTest(backend);
  } catch (error) {
    mismatch = describe(error);
  }
  if (mismatch !== undefined) {
    return { ok: false, reason: `${source} failed its self-test: ${mismatch}` };
  }
  return { ok: true, backend, source };
}

function sodiumBackend(binding: SodiumBinding): SecretboxBackend {
  return {
    name: "sodium-native",
    sealInPlace(buffer: Uint8Array, nonce: Uint8Array, key: Uint8Array): void {
      // crypto_secretbox_easy writes MAC ‖ ciphertext at c; with c = buffer[16..] the ciphertext
      // lands on m = buffer[32..] itself, which libsodium encrypts in place (no overlap copy)
      const status = binding.crypto_secretbox_easy(
        buffer.subarray(SEAL_BOX_OFFSET),
        buffer.subarray(SEAL_PLAINTEXT_OFFSET),
        nonce,
        key,
      );
      if (status !== 0) throw new Error(`crypto_secretbox_easy returned ${status}`);
      buffer.fill(0, 0, SEAL_BOX_OFFSET);
    },
    openInPlace(framed: Uint8Array, nonce: Uint8Array, key: Uint8Array): boolean {
      // With m = c + 16 libsodium verifies the MAC, then decrypts in place (m == c + MACBYTES);
      // on failure it writes nothing. Its Poly1305 key lives on its own stack, never in framed.
      return binding.crypto_secretbox_open_easy(
        framed.subarray(SEAL_PLAINTEXT_OFFSET),
        framed.subarray(SEAL_BOX_OFFSET),
        nonce,
        key,
      );
    },
  };
}

/**
 * The loaded library must reproduce NaCl's known answer and tweetnacl's boxes byte for byte, open
 * them, and refuse a tampered one; otherwise it is not used. A few microseconds, once per process.
 */
function selfTest(candidate: SecretboxBackend): string | undefined {
  const { key: naclKey, nonce: naclNonce, message, box } = NACL_SECRETBOX;
  const known = new Uint8Array(SEAL_PLAINTEXT_OFFSET + message.length);
  known.set(message, SEAL_PLAINTEXT_OFFSET);
  candidate.sealInPlace(known, naclNonce, naclKey);
  if (!sameBytes(known.subarray(SEAL_BOX_OFFSET), box)) return "NaCl's known answer differs";
  const key = Uint8Array.from({ length: 32 }, (_, i) => (i * 7 + 1) & 0xff);
  const nonce = Uint8Array.from({ length: 24 }, (_, i) => (i * 13 + 5) & 0xff);
  for (const size of [0, 1, 63, 64, 65, 1000]) {
    const plain = Uint8Array.from({ length: size }, (_, i) => (i * 31 + size) & 0xff);
    const ours = new Uint8Array(SEAL_PLAINTEXT_OFFSET + size);
    const reference = new Uint8Array(SEAL_PLAINTEXT_OFFSET + size);
    ours.set(plain, SEAL_PLAINTEXT_OFFSET);
    reference.set(plain, SEAL_PLAINTEXT_OFFSET);
    candidate.sealInPlace(ours, nonce, key);
    tweetnaclBackend.sealInPlace(reference, nonce, key);
    if (!sameBytes(ours, reference)) return `box of ${size} bytes differs from tweetnacl's`;
    const tampered = reference.slice();
    tampered[SEAL_BOX_OFFSET] = (tampered[SEAL_BOX_OFFSET] as number) ^ 1;
    const before = tampered.slice();
    if (candidate.openInPlace(tampered, nonce, key) || !sameBytes(tampered, before)) {
      return `a tampered box of ${size} bytes opened or was modified`;
    }
    if (
      !candidate.openInPlace(reference, nonce, key) ||
      !sameBytes(reference.subarray(SEAL_PLAINTEXT_OFFSET), plain)
    ) {
      return `tweetnacl's box of ${size} bytes did not open`;
    }
  }
  return undefined;
}

/** Remove extraction directories older than STALE_AFTER_MS; those still in use stay. */
export function sweepStale(tempRoot: string, now: number): void {
  let names: string[];
  try {
    names = readdirSync(tempRoot);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(EXTRACT_PREFIX)) continue;
    const path = join(tempRoot, name);
    try {
      // Only real directories of this user: never follow a link someone else put in /tmp
      const stat = lstatSync(path);
      if (!stat.isDirectory() || now - stat.mtimeMs < STALE_AFTER_MS) continue;
      if (process.getuid !== undefined && stat.uid !== process.getuid()) continue;
      removeCopy(path);
    } catch {
      // Another user's, or loaded by a running process (Windows): not ours to force
    }
  }
}

/**
 * Delete an extraction directory: its files, then itself. Not rmSync's recursive mode: in Bun
 * 1.4.5 on Windows (under Wine) that fails with EFAULT even on a directory nobody uses (found by
 * the Wine smoke test), where unlink and rmdir work.
 */
function removeCopy(directory: string): void {
  for (const name of readdirSync(directory)) unlinkSync(join(directory, name));
  rmdirSync(directory);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
