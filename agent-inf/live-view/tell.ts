/**
 * Telling the strategies' streams what happened, exactly once (sync.ts decides when):
 * every fill and every closed position is remembered by ticket, so a RESYNC that brings them
 * again, or an event that repeats what a RESYNC already told, is not told twice. The last fill
 * told is the cursor the next RESYNC starts from.
 *
 * Also here: reading the account again after a fill, in the background, so the next order finds
 * it fresh in the live view instead of asking for it.
 */
import type { AccountInfo, Reply } from "../../shared/protocol/index.ts";
import type { QueryBody } from "../gateway/gateway-client.ts";
import type { FeedEventType, LaneFeed } from "./feed.ts";
import type { LiveView } from "./live-view.ts";
import type { Emission } from "./merge.ts";

/** Deal and position tickets remembered as told. */
const REMEMBERED = 10_000;

export interface DealCursor {
  readonly time: number;
  readonly ticket: number;
}

export class Teller {
  readonly #feed: LaneFeed;
  readonly #fill: () => void;
  readonly #deals = new BoundedSet(REMEMBERED);
  readonly #closes = new BoundedSet(REMEMBERED);
  #cursor: DealCursor | undefined;

  /** `fill` runs after each fill told (the account changed). */
  constructor(feed: LaneFeed, fill: () => void) {
    this.#feed = feed;
    this.#fill = fill;
  }

  /** The last fill told, by (time, ticket); undefined before the first subscription. */
  get cursor(): DealCursor | undefined {
    return this.#cursor;
  }

  /** Where catching up starts when nothing was told yet (the first subscription's time). */
  startAt(time: number): void {
    this.#cursor ??= { time, ticket: 0 };
  }

  dealTold(ticket: number): boolean {
    return this.#deals.has(ticket);
  }

  closeTold(ticket: number): boolean {
    return this.#closes.has(ticket);
  }

  tell(emission: Emission): void {
    if (emission.type === "DEAL") {
      const { deal } = emission;
      if (this.#deals.has(deal.ticket)) return;
      this.#deals.add(deal.ticket);
      const cursor = this.#cursor;
      if (
        cursor === undefined ||
        deal.time > cursor.time ||
        (deal.time === cursor.time && deal.ticket > cursor.ticket)
      ) {
        this.#cursor = { time: deal.time, ticket: deal.ticket };
      }
      this.#fill();
      this.emit("DEAL", { deal });
      return;
    }
    if (emission.type === "POSITION_CLOSED") {
      if (this.#closes.has(emission.ticket)) return;
      this.#closes.add(emission.ticket);
      const { ticket, symbol, reason, deal } = emission;
      this.emit("POSITION_CLOSED", { ticket, symbol, reason, deal });
      return;
    }
    this.emit("POSITION_MODIFIED", { position: emission.position });
  }

  emit(type: FeedEventType, fields: Readonly<Record<string, unknown>>): void {
    this.#feed.publishEvent(type, fields);
  }
}

/**
 * GET_ACCOUNT in the background, one at a time, when the view's account is past half its age
 * limit (after a fill, or when an order used it): a steady flow of orders never waits for one,
 * and never pays one per fill. The answer is kept when it comes; a fill meanwhile moved only the
 * margin and the balance, not the equity the risk checks read.
 */
export class AccountRefresher {
  readonly #query: (body: QueryBody, options: { retries: number }) => Promise<Reply>;
  readonly #view: LiveView;
  readonly #active: () => boolean;
  #running = false;

  constructor(
    query: (body: QueryBody, options: { retries: number }) => Promise<Reply>,
    view: LiveView,
    active: () => boolean,
  ) {
    this.#query = query;
    this.#view = view;
    this.#active = active;
  }

  /** Read the account again unless a read is already out. */
  request(): void {
    if (this.#running || !this.#active()) return;
    this.#running = true;
    void (async () => {
      try {
        const reply = await this.#query({ action: "GET_ACCOUNT" }, { retries: 0 });
        const account = (reply as { account?: AccountInfo }).account;
        if (account !== undefined && this.#active()) this.#view.remember({ account });
      } catch {
        // The next order asks for it itself once it is too old
      } finally {
        this.#running = false;
      }
    })();
  }
}

/** A set that forgets its oldest entries past `limit`. */
class BoundedSet {
  readonly #limit: number;
  readonly #set = new Set<number>();

  constructor(limit: number) {
    this.#limit = limit;
  }

  has(value: number): boolean {
    return this.#set.has(value);
  }

  add(value: number): void {
    this.#set.add(value);
    if (this.#set.size > this.#limit) {
      const oldest = this.#set.values().next().value as number;
      this.#set.delete(oldest);
    }
  }
}
