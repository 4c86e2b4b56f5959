/**
 * The loader of the libsodium addon: an embedded library is extracted to a private directory,
 * loaded and its copy removed; a bad file, a missing one or a library that boxes wrongly is a
 * reason, never a crash; the sweep removes stale copies only.
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
import {
  checkBinding,
  EXTRACT_PREFIX,
  loadEmbedded,
  loadFrom,
  prebuildKey,
  sweepStale,
} from "./loader.ts";

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
