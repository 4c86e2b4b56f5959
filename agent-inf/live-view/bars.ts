/**
 * Closed bars for the strategies' streams (docs/API.md §9.7): for each subscribed symbol and
 * timeframe, a BAR event as soon as a bar closes, equal to what GET /v1/rates gives for it.
 *
 * Where bars are built: not here from the quote stream. Quotes reach agent-inf conflated (the
 * gateway and the terminal send the latest price, not every tick), so a bar summed from them
 * would miss highs, lows and tick volume. The quote stream only says *when* a bar closed (the
 * first quote stamped in a later bar, as an MT5 Expert Advisor sees a new bar); the closed bar
 * itself is then read with GET_RATES, so it is the broker's own bar by construction, on the sim
 * and on the terminal alike. A timer closes bars on quiet symbols too (a bar that ended
 * CLOSE_GRACE_MS ago by the gateway's clock), and catching up after a lost connection reads
 * every bar missed meanwhile (at most MAX_CATCH_UP_BARS per pair; older ones are announced by a
 * BAR_GAP event naming the range to read with GET /v1/rates).
 *
 * Events go through the lane's feed, so they carry ids and resume with Last-Event-ID like trade
 * events. A pair keeps being watched LINGER_MS after its last stream closed, so a strategy that
 * reconnects finds the bars it missed; resuming after events of a pair that was not watched all
 * along gets a SNAPSHOT instead (coversSince), never a silent hole.
 */
import type { Clock, TimerHandle } from "../../shared/clock.ts";
import { describeError } from "../../shared/errors.ts";
import type { Logger } from "../../shared/log.ts";
import {
  barOpenTime,
  maxBarMs,
  nextBarOpenTime,
  type RatesReply,
  type Reply,
  type Timeframe,
} from "../../shared/protocol/index.ts";
import type { QueryBody } from "../gateway/gateway-client.ts";
import { API_RATE_FIELDS, rateRows, seconds } from "../gateway/market-units.ts";
import type { LaneFeed } from "./feed.ts";
import type { SymbolRefusal } from "./sync.ts";

/** A bar as the API gives it (GET /v1/rates row by name): `time` in Unix seconds. */
export interface ApiBar {
  readonly time: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly tick_volume: number;
  readonly spread: number;
  readonly real_volume: number;
}

/** "EURUSD:M5": a symbol and a timeframe, as a stream asks for them. */
export type BarPair = string;

export const pairKey = (symbol: string, timeframe: Timeframe): BarPair => `${symbol}:${timeframe}`;

/** A bar closed this long ago by the gateway's clock is read even if no later quote came. */
export const CLOSE_GRACE_MS = 2000;
/** Pairs stay watched this long after their last stream closed (reconnects resume exactly). */
export const LINGER_MS = 10 * 60_000;
/** Bars read per pair when catching up; older missed ones are announced by a BAR_GAP. */
export const MAX_CATCH_UP_BARS = 500;
/** Pairs one lane watches at once (each costs a read per closed bar). */
export const MAX_WATCHED_PAIRS = 256;
/** After a failed read, wait this long before the next attempt for that pair. */
const RETRY_MS = 1000;
/** Pages one read may take (empty pages of a closed market count too). */
const MAX_READ_PAGES = 100;
/** Timers wake at least this often (a W1 or MN1 bar is longer than a timer may wait). */
const MAX_TIMER_MS = 3_600_000;

/** What the watcher needs from the lane (GatewayClient, LaneStream, heartbeat). */
export interface BarWatchOptions {
  readonly feed: LaneFeed;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Bars opening within [from, to] (Unix ms), oldest first: GET_RATES, every page. */
  readonly readBars: (
    symbol: string,
    timeframe: Timeframe,
    from: number,
    to: number,
  ) => Promise<ApiBar[]>;
  /** Gateway clock minus ours (heartbeat), for when a bar ended at the broker. */
  readonly clockOffsetMs: () => number | undefined;
  /**
   * The broker's server time minus UTC (PING's `mt5.server_offset_ms`; undefined: 0). Bar times
   * are server time while quote times and clocks are UTC: a broker at UTC+2 closes its D1 bar at
   * 22:00 UTC, and its bar of 10:00 opens at 08:00 UTC.
   */
  readonly serverOffsetMs?: () => number | undefined;
  readonly connected: () => boolean;
  /** Quotes of the symbol must flow (LaneStream.acquire/release). */
  readonly acquireQuotes: (symbols: readonly string[]) => Promise<SymbolRefusal[]>;
  readonly releaseQuotes: (symbols: readonly string[]) => void;
}

interface Pair {
  readonly key: BarPair;
  readonly symbol: string;
  readonly timeframe: Timeframe;
  users: number;
  /** Monotonic ms after which an unused pair is dropped. */
  lingerUntil: number;
  /** Open time (ms) of the first bar not yet read or known to be empty. */
  next: number;
  /** Feed event number when watching began: resumes after it are exact. */
  readonly since: number;
  last: ApiBar | undefined;
  timer: TimerHandle | undefined;
  /** A read is running; `wanted` is how far the next one should go. */
  reading: boolean;
  wanted: number;
  retryAt: number;
}

export class BarWatcher {
  readonly #o: BarWatchOptions;
  readonly #pairs = new Map<BarPair, Pair>();
  #chain: Promise<unknown> = Promise.resolve();
  #stopped = false;
  /** The server offset the pairs' bar times were worked out with (#followOffset). */
  #anchoredOffset: number | undefined;

  constructor(options: BarWatchOptions) {
    this.#o = options;
  }

  get watched(): number {
    return this.#pairs.size;
  }

  /**
   * A stream wants bars of these pairs. Resolves with the symbols the gateway refused (those
   * pairs are not held); throws when the lane would watch more than MAX_WATCHED_PAIRS.
   */
  async acquire(
    pairs: readonly { symbol: string; timeframe: Timeframe }[],
  ): Promise<SymbolRefusal[]> {
    this.#dropLingering();
    this.#followOffset();
    const added = pairs.filter((p) => !this.#pairs.has(pairKey(p.symbol, p.timeframe)));
    if (this.#pairs.size + added.length > MAX_WATCHED_PAIRS)
      throw new Error(
        `the gateway's bars are watched for ${this.#pairs.size} pairs already; at most ${MAX_WATCHED_PAIRS}`,
      );
    // One quote subscription per watched pair, given back when the pair is dropped
    const refused = await this.#o.acquireQuotes(added.map((p) => p.symbol));
    const bad = new Set(refused.map((r) => r.symbol));
    for (const { symbol, timeframe } of pairs) {
      if (bad.has(symbol)) continue;
      const key = pairKey(symbol, timeframe);
      const pair = this.#pairs.get(key) ?? this.#add(symbol, timeframe);
      pair.users += 1;
    }
    return [...new Map(refused.map((r) => [r.symbol, r])).values()];
  }

  release(pairs: readonly { symbol: string; timeframe: Timeframe }[]): void {
    const now = this.#o.clock.monotonic();
    for (const { symbol, timeframe } of pairs) {
      const pair = this.#pairs.get(pairKey(symbol, timeframe));
      if (pair === undefined || pair.users === 0) continue;
      pair.users -= 1;
      if (pair.users === 0) pair.lingerUntil = now + LINGER_MS;
    }
  }

  /** Whether every pair was watched without a break since feed event `n` (exact resume). */
  coversSince(keys: Iterable<BarPair>, n: number): boolean {
    for (const key of keys) {
      const pair = this.#pairs.get(key);
      if (pair === undefined || pair.since > n) return false;
    }
    return true;
  }

  /** The last bar told for a pair (a SNAPSHOT carries it). */
  lastBar(key: BarPair): ApiBar | undefined {
    return this.#pairs.get(key)?.last;
  }

  /** A quote arrived (`time` UTC): a quote stamped in a later bar closes the bars before it. */
  quote(symbol: string, time: number): void {
    this.#followOffset();
    const serverTime = time + this.#serverOffset();
    for (const pair of this.#pairs.values()) {
      if (pair.symbol !== symbol) continue;
      const closedBefore = barOpenTime(pair.timeframe, serverTime);
      if (closedBefore > pair.next) this.#settle(pair, closedBefore);
    }
  }

  /** The gateway is back: read what closed meanwhile. */
  connected(): void {
    for (const pair of this.#pairs.values()) this.#onTimer(pair);
  }

  stop(): void {
    this.#stopped = true;
    for (const pair of this.#pairs.values()) pair.timer?.cancel();
    this.#pairs.clear();
  }

  // -------------------------------------------------------------------------------------------

  /** Now on the broker's server clock, in which bars open and close. */
  #serverNow(): number {
    return this.#o.clock.now() + (this.#o.clockOffsetMs() ?? 0) + this.#serverOffset();
  }

  #serverOffset(): number {
    return this.#o.serverOffsetMs?.() ?? 0;
  }

  /**
   * The offset changed (first heard after pairs were added while the terminal was away, or a
   * broker's daylight-saving switch): a pair that has told no bar yet starts again at the bar
   * now open, rather than catching up on hours it never watched. Pairs with bars told keep
   * their place; a bar is told once and in order either way.
   */
  #followOffset(): void {
    const offset = this.#serverOffset();
    const before = this.#anchoredOffset;
    this.#anchoredOffset = offset;
    if (before === undefined || before === offset) return;
    const now = this.#serverNow();
    for (const pair of this.#pairs.values()) {
      if (pair.last !== undefined || pair.reading) continue;
      pair.next = barOpenTime(pair.timeframe, now);
      pair.wanted = 0;
    }
  }

  #add(symbol: string, timeframe: Timeframe): Pair {
    const pair: Pair = {
      key: pairKey(symbol, timeframe),
      symbol,
      timeframe,
      users: 0,
      lingerUntil: 0,
      next: barOpenTime(timeframe, this.#serverNow()),
      since: this.#o.feed.lastN,
      last: undefined,
      timer: undefined,
      reading: false,
      wanted: 0,
      retryAt: 0,
    };
    this.#pairs.set(pair.key, pair);
    this.#schedule(pair);
    return pair;
  }

  #dropLingering(): void {
    const now = this.#o.clock.monotonic();
    const dropped: string[] = [];
    for (const pair of this.#pairs.values()) {
      if (pair.users > 0 || now < pair.lingerUntil) continue;
      pair.timer?.cancel();
      this.#pairs.delete(pair.key);
      dropped.push(pair.symbol);
    }
    if (dropped.length > 0) this.#o.releaseQuotes(dropped);
  }

  /** Wake when the bar now being built has ended CLOSE_GRACE_MS ago (or sooner, to retry). */
  #schedule(pair: Pair): void {
    pair.timer?.cancel();
    if (this.#stopped) return;
    const now = this.#serverNow();
    const due = nextBarOpenTime(pair.timeframe, barOpenTime(pair.timeframe, now)) + CLOSE_GRACE_MS;
    const retry =
      pair.retryAt > 0 ? pair.retryAt - this.#o.clock.monotonic() : Number.POSITIVE_INFINITY;
    const delay = Math.max(1, Math.min(due - now, retry, MAX_TIMER_MS));
    pair.timer = this.#o.clock.setTimeout(() => this.#onTimer(pair), delay);
  }

  #onTimer(pair: Pair): void {
    if (this.#stopped || this.#pairs.get(pair.key) !== pair) return;
    this.#followOffset();
    if (pair.users === 0 && this.#o.clock.monotonic() >= pair.lingerUntil) {
      this.#dropLingering();
      return;
    }
    // What a quote already closed (a failed read left it owed), or what the clock closed
    const closedBefore = Math.max(
      pair.wanted,
      barOpenTime(pair.timeframe, this.#serverNow() - CLOSE_GRACE_MS),
    );
    if (closedBefore > pair.next) this.#settle(pair, closedBefore, true);
    this.#schedule(pair);
  }

  /** Read and tell the bars opening in [pair.next, closedBefore), one read at a time. */
  #settle(pair: Pair, closedBefore: number, fromTimer = false): void {
    pair.wanted = Math.max(pair.wanted, closedBefore);
    if (pair.reading || !this.#o.connected()) return;
    if (!fromTimer && this.#o.clock.monotonic() < pair.retryAt) return;
    pair.reading = true;
    this.#chain = this.#chain
      .then(() => this.#read(pair))
      .finally(() => {
        pair.reading = false;
      });
  }

  async #read(pair: Pair): Promise<void> {
    while (!this.#stopped && pair.wanted > pair.next && this.#pairs.get(pair.key) === pair) {
      const until = pair.wanted;
      let from = pair.next;
      // Long outages: the last MAX_CATCH_UP_BARS bars, and the range before them named
      const oldest = until - MAX_CATCH_UP_BARS * maxBarMs(pair.timeframe);
      if (from < oldest) {
        const keep = barOpenTime(pair.timeframe, oldest);
        this.#o.feed.publishEvent(
          "BAR_GAP",
          {
            symbol: pair.symbol,
            timeframe: pair.timeframe,
            from: seconds(from),
            to: seconds(keep - 1),
          },
          pair.key,
        );
        from = keep;
      }
      let bars: ApiBar[];
      try {
        bars = await this.#o.readBars(pair.symbol, pair.timeframe, from, until - 1);
      } catch (error) {
        pair.next = from;
        pair.retryAt = this.#o.clock.monotonic() + RETRY_MS;
        this.#o.logger.warn("Could not read closed bars; retrying", {
          symbol: pair.symbol,
          timeframe: pair.timeframe,
          error: describeError(error),
        });
        this.#schedule(pair);
        return;
      }
      pair.retryAt = 0;
      if (this.#stopped || this.#pairs.get(pair.key) !== pair) return;
      for (const bar of bars) {
        // A bar is told once and in order, whatever a backend repeats
        if (bar.time * 1000 < from || bar.time * 1000 >= until) continue;
        if (pair.last !== undefined && bar.time <= pair.last.time) continue;
        pair.last = bar;
        this.#o.feed.publishEvent(
          "BAR",
          { symbol: pair.symbol, timeframe: pair.timeframe, bar },
          pair.key,
        );
      }
      pair.next = until;
    }
  }
}

/**
 * BarWatchOptions.readBars over the gateway: GET_RATES for the range, every page (a read covers
 * at most MAX_CATCH_UP_BARS bars: one page), rows by their `fields` names.
 */
export function gatewayBars(
  query: (body: QueryBody) => Promise<Reply>,
): BarWatchOptions["readBars"] {
  return async (symbol, timeframe, from, to) => {
    const bars: ApiBar[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_READ_PAGES; page++) {
      const reply = await query({
        action: "GET_RATES",
        symbol,
        timeframe,
        from,
        to,
        ...(cursor === undefined ? {} : { cursor }),
      });
      if (reply.status !== "OK")
        throw new Error(
          `GET_RATES refused: ${reply.error_code ?? reply.status}: ${reply.error_msg ?? ""}`,
        );
      const rates = reply as RatesReply;
      for (const row of rateRows(rates))
        bars.push(
          Object.fromEntries(API_RATE_FIELDS.map((name, i) => [name, row[i]])) as unknown as ApiBar,
        );
      if (!rates.more || rates.next === undefined) return bars;
      cursor = rates.next;
    }
    throw new Error(`GET_RATES did not finish within ${MAX_READ_PAGES} pages`);
  };
}
