/**
 * The sim's only source of randomness: a 32-bit counter-based generator (the mulberry32 mixing
 * function) whose whole state is one uint32, so it can be written to the state log and restored
 * exactly. Not cryptographic; it only has to make quotes look like a market and repeat under a seed.
 */

const TWO_POW_32 = 4294967296;

export class Prng {
  #state: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) {
      throw new RangeError(`sim: seed must be an integer (was ${seed})`);
    }
    this.#state = seed >>> 0;
  }

  /** The full generator state; `new Prng(state)` continues the same sequence. */
  get state(): number {
    return this.#state;
  }

  set state(value: number) {
    this.#state = value >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let mixed = this.#state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / TWO_POW_32;
  }

  /**
   * Standard normal by Box-Muller. The second variate is thrown away on purpose: caching it would
   * make the state more than one integer.
   */
  normal(): number {
    const u1 = 1 - this.next();
    const u2 = this.next();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}
