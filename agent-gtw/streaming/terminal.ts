/**
 * The terminal backend sends ticks only for the symbols it was asked for (EA SUBSCRIBE_TICKS,
 * docs/EA-LINK.md §7.8). This keeps that set the union of every subscriber's symbols, scanned at
 * the fastest throttle any of them asked for. One call at a time; changes made during a call are
 * applied right after it. The sim quotes every symbol anyway and has no subscribeQuotes.
 */
import { describeError } from "../../shared/errors.ts";
import type { Logger } from "../../shared/log.ts";
import { MAX_STREAM_SYMBOLS } from "../../shared/protocol/index.ts";
import type { Backend } from "../backend/backend.ts";

/** The EA scans ticks on a 10 ms timer and refuses less; 100 ms is its own default. */
const MIN_THROTTLE_MS = 10;
const DEFAULT_THROTTLE_MS = 100;
const MAX_THROTTLE_MS = 60_000;

export class TerminalTicks {
  readonly #backend: Backend;
  readonly #log: Logger;
  readonly #wanted: () => { symbols: readonly string[]; throttles: readonly number[] };
  #applied = "";
  #running = false;
  #dirty = false;

  constructor(
    backend: Backend,
    logger: Logger,
    wanted: () => { symbols: readonly string[]; throttles: readonly number[] },
  ) {
    this.#backend = backend;
    this.#log = logger;
    this.#wanted = wanted;
  }

  /** The subscriptions changed: bring the terminal's set in line (in the background). */
  sync(): void {
    if (this.#backend.subscribeQuotes === undefined) return;
    this.#dirty = true;
    if (this.#running) return;
    this.#running = true;
    void this.#run().finally(() => {
      this.#running = false;
    });
  }

  async #run(): Promise<void> {
    while (this.#dirty) {
      this.#dirty = false;
      const { symbols: all, throttles } = this.#wanted();
      const symbols = [...all].sort().slice(0, MAX_STREAM_SYMBOLS);
      const fastest = throttles.length === 0 ? DEFAULT_THROTTLE_MS : Math.min(...throttles);
      const throttleMs = Math.min(MAX_THROTTLE_MS, Math.max(MIN_THROTTLE_MS, fastest));
      const wanted = `${symbols.join(",")}@${symbols.length === 0 ? 0 : throttleMs}`;
      if (wanted === this.#applied) continue;
      try {
        await this.#backend.subscribeQuotes?.(
          symbols,
          symbols.length === 0 ? DEFAULT_THROTTLE_MS : throttleMs,
        );
        this.#applied = wanted;
      } catch (error) {
        // The backend renews its last set after the EA reconnects; log and go on
        this.#log.warn("Could not change the terminal's quote subscription", {
          symbols: symbols.join(","),
          error: describeError(error),
        });
      }
    }
  }
}
