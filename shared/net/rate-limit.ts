/**
 * Token bucket used to bound how many handshakes a server starts per second. Each CURVE HELLO
 * costs the server two X25519 operations before it knows who is asking, so an unbounded flood
 * of HELLOs would starve established connections of CPU (research §6, CPU DoS).
 */
import type { Clock } from "../clock.ts";

export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #updatedAt: number;

  constructor(ratePerSecond: number, burst: number, clock: Clock) {
    this.#ratePerMs = ratePerSecond / 1000;
    this.#burst = Math.max(1, burst);
    this.#clock = clock;
    this.#tokens = this.#burst;
    this.#updatedAt = clock.monotonic();
  }

  /** Whether the bucket has refilled to its burst (it holds nothing a new one would not). */
  get full(): boolean {
    this.#refill();
    return this.#tokens >= this.#burst;
  }

  /** Take one token if there is one. */
  tryTake(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  #refill(): void {
    const now = this.#clock.monotonic();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#updatedAt) * this.#ratePerMs);
    this.#updatedAt = now;
  }
}
