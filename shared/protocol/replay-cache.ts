/**
 * The request ids a gateway accepted within the signature validity window, so a captured signed
 * request cannot be played again while it is still fresh. After the window the freshness check
 * refuses the request on its own, so an id need not be remembered any longer than that.
 *
 * Bounded: when full it says so, and the verifier refuses the request (RATE_LIMITED) rather than
 * forget an id that is still inside its window; forgetting would reopen the replay.
 */

export class ReplayCache {
  /** id → last wall-clock ms at which its request could still pass freshness. Insertion order. */
  readonly #expiries = new Map<string, number>();
  readonly #maxEntries: number;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#expiries.size;
  }

  get maxEntries(): number {
    return this.#maxEntries;
  }

  /**
   * Forget ids whose window has passed (expiry strictly before now: at the expiry ms itself the
   * request is still fresh). Expiries arrive nearly in insertion order (they are ts +
   * window, and ts is close to arrival time), so walking from the oldest and stopping at the first
   * live entry removes each id once: amortised O(1). An entry behind a later-expiring one lingers
   * at most one window longer; that only costs capacity, never safety.
   */
  prune(nowMs: number): void {
    for (const [id, expiresAt] of this.#expiries) {
      if (expiresAt >= nowMs) return;
      this.#expiries.delete(id);
    }
  }

  has(id: string): boolean {
    return this.#expiries.has(id);
  }

  /** Remember `id` through `expiresAt`; false (nothing stored) when the cache is full. */
  add(id: string, expiresAt: number): boolean {
    if (this.#expiries.size >= this.#maxEntries) return false;
    this.#expiries.set(id, expiresAt);
    return true;
  }
}
