/**
 * Observes "closed without allocating" directly (research §7.4, CVE-2019-6250 / CVE-2019-13132):
 * while hostile bytes are processed, the global Uint8Array constructor is wrapped to record every
 * request for at least the handshake frame cap (64 KiB). JSC's heap statistics do not count large
 * typed arrays reliably, and pages never touched never reach RSS, so neither can show it.
 */
import { expect } from "bun:test";
import type { RawZmtp } from "../../scripts/harness/raw-zmtp.ts";
import { MAX_HANDSHAKE_FRAME_BYTES } from "../../shared/net/options.ts";

/** Records Uint8Array allocations of `thresholdBytes` or more until restore() is called. */
export function watchLargeAllocations(thresholdBytes: number): {
  readonly requested: number[];
  restore(): void;
} {
  const original = globalThis.Uint8Array;
  const requested: number[] = [];
  const watched: Uint8ArrayConstructor = new Proxy(original, {
    construct(target, args, newTarget): object {
      const [first] = args as unknown[];
      if (typeof first === "number" && first >= thresholdBytes) requested.push(first);
      return Reflect.construct(target, args, newTarget === watched ? target : newTarget);
    },
  });
  globalThis.Uint8Array = watched;
  return {
    requested,
    restore: () => {
      globalThis.Uint8Array = original;
    },
  };
}

/**
 * Feed `bytes` to the server and wait for `raw` to be closed; returns the sizes of the large
 * allocations requested meanwhile (expected: none).
 */
export async function closedWithoutAllocating(
  raw: RawZmtp,
  bytes: Uint8Array,
  timeoutMs = 2000,
): Promise<number[]> {
  const watch = watchLargeAllocations(MAX_HANDSHAKE_FRAME_BYTES);
  try {
    raw.write(bytes);
    expect(await raw.waitClosed(timeoutMs)).toBe(true);
  } finally {
    watch.restore();
  }
  return watch.requested;
}
