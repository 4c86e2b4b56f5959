/**
 * Test-only: the fake EA's dedup store (EA-LINK §11, BridgeDedup.mqh): the last 1,000
 * client_order_ids that reached OrderSend, each with its stored reply body or the in-flight
 * marker. In memory only; `reset()` stands for a deleted dedup file, `failWrites` for a file
 * that cannot be written (DedupPut then returns false and memory stays as it was).
 */
import type { EaRecord } from "./ea-json.ts";

export const DEDUP_CAPACITY = 1000;
/** Written before OrderSend; a repeat of such an id answers OUTCOME_UNKNOWN. */
export const IN_FLIGHT = "P" as const;

export type DedupEntry = EaRecord | typeof IN_FLIGHT;

export class FakeDedup {
  readonly #entries = new Map<string, DedupEntry>();
  /** The next writes fail (disk full, permissions). */
  failWrites = false;

  get size(): number {
    return this.#entries.size;
  }

  lookup(coid: string): DedupEntry | undefined {
    return this.#entries.get(coid);
  }

  /** DedupPut: the file line first, memory only once it is written. */
  put(coid: string, entry: DedupEntry): boolean {
    if (this.failWrites) return false;
    const known = this.#entries.has(coid);
    this.#entries.set(coid, entry);
    // The 1,001st new id evicts the oldest
    if (!known && this.#entries.size > DEDUP_CAPACITY) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    return true;
  }

  has(coid: string): boolean {
    return this.#entries.has(coid);
  }

  /** A forgotten line (DEDUP_FORGOTTEN): false when the write failed and nothing changed. */
  forget(coid: string): boolean {
    if (this.failWrites) return false;
    this.#entries.delete(coid);
    return true;
  }

  reset(): void {
    this.#entries.clear();
  }
}
