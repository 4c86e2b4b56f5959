/**
 * Seeded mutations of valid ZMTP/CURVE byte streams for the bounded fuzz (research §7.3): the
 * classic operators (truncate, flip bits, overwrite, insert, delete, repeat, rewrite a frame
 * length) plus pure random streams. Deterministic for a seed, so a failure names the seed and
 * case that reproduce it.
 */

/** mulberry32: small, fast, good enough to drive mutations; not for anything secret. */
export class Prng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)] as T;
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.below(256);
    return out;
  }
}

function concat(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Where frame headers start in the stream, so the length operator can aim at them. */
export interface Stream {
  readonly bytes: Uint8Array;
  readonly frameOffsets: readonly number[];
}

export const MUTATIONS = [
  "truncate",
  "flip",
  "overwrite",
  "insert",
  "delete",
  "repeat",
  "length",
  "random",
] as const;
export type Mutation = (typeof MUTATIONS)[number];

/** A mutated copy of `stream`; which operator was applied is returned for the failure report. */
export function mutate(
  stream: Stream,
  rng: Prng,
  only?: Mutation,
): { bytes: Uint8Array; mutation: Mutation } {
  const source = stream.bytes;
  const mutation = only ?? rng.pick(MUTATIONS);
  const at = rng.below(source.length);
  switch (mutation) {
    case "truncate":
      return { mutation, bytes: source.slice(0, at) };
    case "flip": {
      const out = source.slice();
      const flips = 1 + rng.below(4);
      for (let i = 0; i < flips; i++) {
        const index = rng.below(out.length);
        out[index] = (out[index] as number) ^ (1 << rng.below(8));
      }
      return { mutation, bytes: out };
    }
    case "overwrite": {
      const out = source.slice();
      const count = 1 + rng.below(8);
      out.set(rng.bytes(Math.min(count, out.length - at)), at);
      return { mutation, bytes: out };
    }
    case "insert":
      return {
        mutation,
        bytes: concat(source.subarray(0, at), rng.bytes(1 + rng.below(300)), source.subarray(at)),
      };
    case "delete":
      return {
        mutation,
        bytes: concat(source.subarray(0, at), source.subarray(at + 1 + rng.below(64))),
      };
    case "repeat": {
      const end = Math.min(source.length, at + 1 + rng.below(256));
      const piece = source.subarray(at, end);
      const times = 1 + rng.below(3);
      return {
        mutation,
        bytes: concat(
          source.subarray(0, end),
          ...Array.from({ length: times }, () => piece),
          source.subarray(end),
        ),
      };
    }
    case "length":
      return { mutation, bytes: rewriteLength(stream, rng) };
    case "random":
      return { mutation, bytes: rng.bytes(rng.below(700)) };
  }
}

/** Give one frame a different size: small, large, huge, or the long form with any 8 bytes. */
function rewriteLength(stream: Stream, rng: Prng): Uint8Array {
  const offset = stream.frameOffsets.length > 0 ? rng.pick(stream.frameOffsets) : 0;
  const out = stream.bytes.slice();
  if (offset + 1 >= out.length) return out;
  const flags = out[offset] as number;
  if ((flags & 0x02) === 0 && rng.next() < 0.5) {
    out[offset + 1] = rng.below(256);
    return out;
  }
  // Switch to (or stay in) the long form and write an 8-byte size
  const size = new Uint8Array(8);
  const choice = rng.below(4);
  const view = new DataView(size.buffer);
  if (choice === 0) view.setBigUint64(0, 2n ** 64n - 1n);
  else if (choice === 1) view.setBigUint64(0, 2n ** 63n + BigInt(rng.below(1000)));
  else if (choice === 2) view.setBigUint64(0, BigInt(rng.below(200_000)));
  else size.set(rng.bytes(8));
  const header = concat(Uint8Array.from([(flags | 0x02) & 0xff]), size);
  const bodyStart = offset + ((flags & 0x02) === 0 ? 2 : 9);
  return concat(out.subarray(0, offset), header, out.subarray(bodyStart));
}
