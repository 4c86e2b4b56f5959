/**
 * The live feed: quotes on the symbol's digits with a plausible spread, fresh ticks every few
 * seconds in an open session and none when closed, a calibrated start at the anchor price,
 * pins that the market continues from, and a state that restores the same market.
 */
import { describe, expect, test } from "bun:test";
import { QuoteFeed } from "./quotes.ts";
import { resolveSymbols } from "./symbols.ts";

const NOW = Date.UTC(2026, 10, 18, 12);
const SATURDAY = Date.UTC(2026, 10, 21, 12);
const specs = resolveSymbols();
const open = () => true;

describe("QuoteFeed", () => {
  test("bid and ask are on the symbol's digits, ask above bid, spread near typical", () => {
    const feed = new QuoteFeed(specs.values(), 3, NOW, "forex");
    let quotes = 0;
    for (let step = 1; step <= 2000; step++) {
      for (const quote of feed.tick(NOW + step * 250, open)) {
        quotes += 1;
        const spec = specs.get(quote.symbol)!;
        const scale = 10 ** spec.digits;
        expect(Math.abs(quote.bid * scale - Math.round(quote.bid * scale))).toBeLessThan(1e-6);
        expect(Math.abs(quote.ask * scale - Math.round(quote.ask * scale))).toBeLessThan(1e-6);
        const spread = Math.round((quote.ask - quote.bid) * scale);
        expect(spread).toBeGreaterThanOrEqual(Math.floor(spec.typical_spread * 0.8));
        expect(spread).toBeLessThanOrEqual(Math.ceil(spec.typical_spread * 3));
        // A quote is a tick at or before now, never more than a few seconds old
        expect(quote.time).toBeLessThanOrEqual(NOW + step * 250);
        expect(quote.time).toBeGreaterThan(NOW + step * 250 - 6000);
      }
    }
    expect(quotes).toBeGreaterThan(2000);
  });

  test("a fresh feed starts at each symbol's anchor price", () => {
    const feed = new QuoteFeed(specs.values(), 11, NOW, "forex");
    for (const spec of specs.values()) {
      const mid = feed.mid(spec.symbol)!;
      expect(Math.abs(mid / spec.anchor_price - 1)).toBeLessThan(0.002);
    }
  });

  test("a day of ticks moves EURUSD by a plausible amount", () => {
    const feed = new QuoteFeed(specs.values(), 8, NOW, "forex");
    for (let step = 1; step <= 86_400; step++) feed.tick(NOW + step * 1000, open);
    const mid = feed.mid("EURUSD")!;
    expect(Math.abs(mid / 1.1 - 1)).toBeLessThan(0.03);
    expect(mid).not.toBe(1.1);
  });

  test("closed symbols do not tick and keep their quote", () => {
    const feed = new QuoteFeed(specs.values(), 3, SATURDAY, "forex");
    const before = feed.quote("EURUSD");
    // Over the weekend the last quote is Friday's last tick before 22:00
    expect(before!.time).toBeLessThan(Date.UTC(2026, 10, 20, 22));
    expect(before!.time).toBeGreaterThan(Date.UTC(2026, 10, 20, 21, 59, 50));
    const quotes = feed.tick(SATURDAY + 60_000, open);
    expect(quotes.map((quote) => quote.symbol)).toEqual(["BTCUSD"]);
    expect(feed.quote("EURUSD")).toEqual(before!);
  });

  test("a restored state gives the same market, whatever this run's seed and clock", () => {
    const feed = new QuoteFeed(specs.values(), 21, NOW, "forex");
    feed.tick(NOW + 60_000, open);
    feed.set("EURUSD", 1.2, 1.2001, NOW + 60_000);
    const state = JSON.parse(JSON.stringify(feed.snapshot()));
    const copy = new QuoteFeed(specs.values(), 99, NOW + 3_600_000, "forex");
    copy.tick(NOW + 60_000, open);
    copy.restore(state);
    for (let step = 1; step <= 100; step++) {
      const time = NOW + 60_000 + step * 700;
      expect(copy.tick(time, open)).toEqual(feed.tick(time, open));
    }
    expect(copy.snapshot()).toEqual(feed.snapshot());
  });

  test("a damaged history state is refused", () => {
    const feed = new QuoteFeed(specs.values(), 1, NOW, "forex");
    const state = feed.snapshot();
    expect(() =>
      feed.restore({ ...state, path: { seed: 1, base: { EURUSD: -1 }, pins: {} } }),
    ).toThrow("sim: market history state in the sim's state is corrupt");
  });

  test("set pins a quote, shift moves it by points keeping the spread, the market continues", () => {
    const feed = new QuoteFeed(specs.values(), 1, NOW, "forex");
    expect(feed.set("USDJPY", 150.0004, 150.012, NOW)).toEqual({
      symbol: "USDJPY",
      bid: 150,
      ask: 150.012,
      time: NOW,
    });
    expect(feed.shift("USDJPY", -20, NOW + 1)).toMatchObject({ bid: 149.98, ask: 149.992 });
    // The next ticks continue from the pinned price, not from where the path would have been
    feed.tick(NOW + 5_000, open);
    expect(Math.abs(feed.quote("USDJPY")!.bid - 149.98)).toBeLessThan(0.05);
    expect(() => feed.set("NOPE", 1, 1, NOW)).toThrow("sim: unknown symbol NOPE");
  });

  test("refuses a seed that is not an integer", () => {
    expect(() => new QuoteFeed(specs.values(), 1.5, NOW, "forex")).toThrow(
      "sim: seed must be an integer (was 1.5)",
    );
  });
});
