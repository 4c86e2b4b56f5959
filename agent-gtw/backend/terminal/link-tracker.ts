/**
 * The terminal link's state (docs/EA-LINK.md §7.1): DOWN without a session, TRADE_DISABLED when
 * a permission flag from the last HELLO/PING is false, UP otherwise. Also keeps the broker clock
 * from that status (§5) for time conversions and LinkStatus.serverTime. Reports each change once.
 */
import type { Clock } from "../../../shared/clock.ts";
import type { LinkState } from "../../../shared/protocol/index.ts";
import type { LinkStatus } from "../backend.ts";
import { type EaStatus, stateFromStatus } from "./hello.ts";
import { ServerTime } from "./mapping.ts";

export const NOT_CONNECTED = "EA not connected";

export class LinkTracker {
  readonly #clock: Clock;
  readonly #changed: (link: LinkStatus) => void;
  #state: LinkState = "DOWN";
  #detail: string | undefined = NOT_CONNECTED;
  #status: EaStatus | undefined;
  #time: ServerTime | undefined;
  /** clock.monotonic() when #status arrived, to carry the server clock forward. */
  #receivedAt = 0;

  constructor(clock: Clock, changed: (link: LinkStatus) => void) {
    this.#clock = clock;
    this.#changed = changed;
  }

  get state(): LinkState {
    return this.#state;
  }

  /** The last HELLO/PING status of the current session. */
  get status(): EaStatus | undefined {
    return this.#status;
  }

  /** Server ↔ Unix conversion with the latest offset (§5); undefined without a session. */
  get time(): ServerTime | undefined {
    return this.#time;
  }

  link(): LinkStatus {
    const serverTime = this.#serverTimeUnix();
    return {
      state: this.#state,
      ...(this.#detail === undefined ? {} : { detail: this.#detail }),
      ...(serverTime === undefined ? {} : { serverTime }),
      ...(this.#time === undefined ? {} : { serverOffsetMs: this.#time.offsetMs }),
    };
  }

  /** A HELLO or PING reply arrived. */
  report(status: EaStatus): void {
    this.#status = status;
    this.#time = new ServerTime(status.gmt_offset_s);
    this.#receivedAt = this.#clock.monotonic();
    const next = stateFromStatus(status);
    this.#set(next.state, next.detail);
  }

  disconnected(detail: string): void {
    this.#status = undefined;
    this.#time = undefined;
    this.#set("DOWN", detail);
  }

  /** The broker clock in Unix ms, carried forward from the last status. */
  #serverTimeUnix(): number | undefined {
    if (this.#status === undefined || this.#time === undefined) return undefined;
    const elapsed = this.#clock.monotonic() - this.#receivedAt;
    return Math.round(this.#time.toUnix(this.#status.server_time) + elapsed);
  }

  #set(state: LinkState, detail: string | undefined): void {
    if (state === this.#state && detail === this.#detail) return;
    this.#state = state;
    this.#detail = detail;
    this.#changed(this.link());
  }
}
