/**
 * Reconnect delays. libzmq waits `ivl + rand() % ivl` and resets its backoff whenever a TCP
 * connection was accepted, so a client holding the wrong server key hammers the server every
 * 100–200 ms forever (research §5.5). We keep exponential backoff with jitter across handshake
 * failures and reset it only after a handshake succeeds.
 */

export interface BackoffOptions {
  /** First delay, ms (libzmq ZMQ_RECONNECT_IVL default: 100). */
  readonly initialMs: number;
  /** Cap, ms. */
  readonly maxMs: number;
  /** Uniform random in [0, 1); injectable so tests are deterministic. */
  readonly random?: () => number;
}

export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions) {
    this.#initialMs = Math.max(1, options.initialMs);
    this.#maxMs = Math.max(this.#initialMs, options.maxMs);
    this.#random = options.random ?? Math.random;
  }

  get attempt(): number {
    return this.#attempt;
  }

  /**
   * The next delay: the exponential step, capped, then "equal jitter" (half fixed, half random)
   * so that many clients restarting together spread out but none waits beyond the cap.
   */
  next(): number {
    const exponent = Math.min(this.#attempt, 30);
    const step = Math.min(this.#maxMs, this.#initialMs * 2 ** exponent);
    this.#attempt += 1;
    return Math.round(step / 2 + this.#random() * (step / 2));
  }

  reset(): void {
    this.#attempt = 0;
  }
}
