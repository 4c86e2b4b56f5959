/**
 * Brute-force throttling of the dashboard's login (docs/DASHBOARD.md §2). Tokens are 256-bit
 * random strings, so guessing one is hopeless anyway; this keeps a guesser from burning CPU,
 * filling the log, or trying a leaked list of candidates at speed.
 *
 * Failed logins are counted in a sliding window, per client address and in total. Past either
 * limit every login is refused (429, Retry-After) until the window has moved on, including one
 * with the right token: otherwise the throttle would still answer which guess was right.
 * Behind an SSH tunnel every browser is 127.0.0.1, so the total limit is the one that bites.
 */
import type { Clock } from "../../../shared/clock.ts";

export interface ThrottleLimits {
  readonly windowMs: number;
  /** Failures per client address within the window. */
  readonly perAddress: number;
  /** Failures from all addresses within the window. */
  readonly total: number;
}

export const DEFAULT_LOGIN_LIMITS: ThrottleLimits = { windowMs: 60_000, perAddress: 5, total: 20 };

/** Addresses remembered at once; past this the oldest are forgotten (their failures still count in total). */
const MAX_ADDRESSES = 1024;

export class LoginThrottle {
  readonly #clock: Clock;
  readonly #limits: ThrottleLimits;
  readonly #byAddress = new Map<string, number[]>();
  readonly #all: number[] = [];

  constructor(clock: Clock, limits: ThrottleLimits = DEFAULT_LOGIN_LIMITS) {
    this.#clock = clock;
    this.#limits = limits;
  }

  /** Ms until `address` may try again; 0 when it may now. */
  retryAfterMs(address: string): number {
    const now = this.#clock.monotonic();
    const since = now - this.#limits.windowMs;
    prune(this.#all, since);
    const own = this.#byAddress.get(address);
    if (own !== undefined) {
      prune(own, since);
      if (own.length === 0) this.#byAddress.delete(address);
    }
    const wait = (failures: readonly number[] | undefined, limit: number) =>
      failures === undefined || failures.length < limit
        ? 0
        : (failures[failures.length - limit] as number) + this.#limits.windowMs - now;
    return Math.max(0, wait(own, this.#limits.perAddress), wait(this.#all, this.#limits.total));
  }

  /** A login from `address` presented a token no role has. */
  failed(address: string): void {
    const now = this.#clock.monotonic();
    this.#all.push(now);
    let own = this.#byAddress.get(address);
    if (own === undefined) {
      if (this.#byAddress.size >= MAX_ADDRESSES) {
        const oldest = this.#byAddress.keys().next().value as string;
        this.#byAddress.delete(oldest);
      }
      own = [];
      this.#byAddress.set(address, own);
    }
    own.push(now);
    // The windows never need more than their limit's worth of entries
    if (own.length > this.#limits.perAddress) own.shift();
    if (this.#all.length > this.#limits.total) this.#all.shift();
  }
}

function prune(times: number[], since: number): void {
  while (times.length > 0 && (times[0] as number) <= since) times.shift();
}
