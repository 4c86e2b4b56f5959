/**
 * Counter-based randomness for the sim's market: every random number is a pure function of
 * (seed, stream, index, sub-index), so any minute of any day can be generated on its own, in any
 * order, and comes out the same every time. Not cryptographic; it only has to look like a market.
 *
 * The mixer is MurmurHash3's 32-bit finaliser (fmix32), applied once per input word.
 */

/** Streams keep the draws of different purposes independent. */
export const Stream = {
  DAY: 1,
  MINUTE_PATH: 2,
  BAR: 3,
  EXCURSION: 4,
  TICK: 5,
  REGIME: 6,
} as const;

const TWO_POW_32 = 4294967296;
/** Standard deviation of the sum of four uniform bytes: sqrt(4 × (256² − 1) / 12). */
const BYTE_SUM_SD = 147.80138;

function fmix(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The key of one stream under a seed; draws from it cost two mixing rounds each. Seed and
 * stream are taken modulo 2^32.
 */
export function streamKey(seed: number, stream: number): number {
  return fmix(fmix(seed ^ Math.imul(stream, 0x9e3779b9)) ^ 0x5bd1e995);
}

/** A 32-bit hash of (stream key, index, sub-index); indices are taken modulo 2^32. */
export function draw(key: number, index: number, sub: number): number {
  return fmix(fmix(key ^ index) ^ Math.imul(sub, 0x27d4eb2f));
}

/** A 32-bit hash of four integers: draw(streamKey(seed, stream), index, sub). */
export function hash(seed: number, stream: number, index: number, sub: number): number {
  return draw(streamKey(seed, stream), index, sub);
}

/** Uniform in [0, 1) from a hash. */
export function unit(h: number): number {
  return h / TWO_POW_32;
}

/**
 * An approximately standard normal value from one hash: the sum of its four bytes, centred and
 * scaled (Irwin–Hall with n = 4). Cheap, which matters at a million draws per query; its tails
 * stop at ±3.5 σ, which the volatility regimes make up for.
 */
export function quickNormal(h: number): number {
  const sum = (h & 255) + ((h >>> 8) & 255) + ((h >>> 16) & 255) + (h >>> 24);
  return (sum - 510) / BYTE_SUM_SD;
}

/** A standard normal value by Box–Muller from two hashes, for the few day-level draws. */
export function normal(h1: number, h2: number): number {
  const u1 = 1 - unit(h1);
  const u2 = unit(h2);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** A 32-bit key for a symbol name, so each symbol has its own market under one seed. */
export function nameKey(name: string): number {
  let h = 0x811c9dc5;
  for (let index = 0; index < name.length; index++) {
    h ^= name.charCodeAt(index);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
