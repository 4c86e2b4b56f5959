/**
 * The generator and the feed: reproducible sequences, restorable state, quotes on the symbol's
 * digits with a plausible spread and daily range, no ticks for closed symbols.
 */
import { describe, expect, test } from "bun:test";
import { Prng } from "./prng.ts";
import { QuoteFeed } from "./quotes.ts";
import { resolveSymbols } from "./symbols.ts";

const NOW = Date.UTC(2026, 10, 18, 12);

describe("Prng", () => {
  test("the same seed gives the same sequence; another seed does not", () => {
    const draw = (seed: number) => {
      const prng = new Prng(seed);
      return Array.from({ length: 5 }, () => prng.next());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(42).every((value) => value >= 0 && value < 1)).toBe(true);
  });

  test("its whole state is one integer: restoring it continues the sequence", () => {
    const prng = new Prng(5);
    prng.next();
    const copy = new Prng(0);
    copy.state = prng.state;
    expect(copy.next()).toBe(prng.next());
  });

  test("normal() has mean 0 and standard deviation 1", () => {
    const prng = new Prng(11);
    const samples = Array.from({ length: 20_000 }, () => prng.normal());
    const mean = samples.reduce((sum, value) => sum + value, 0) / samples.length;
    const variance = samples.reduce((sum, value) => sum + (value - mean) ** 2, 0) / samples.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(Math.sqrt(variance) - 1)).toBeLessThan(0.03);
  });

  test("refuses a seed that is not an integer", () => {
    expect(() => new Prng(1.5)).toThrow("sim: seed must be an integer (was 1.5)");
  });
});

describe("QuoteFeed", () => {
  const specs = resolveSymbols();
  const open = () => true;

  test("bid and ask are on the symbol's digits, ask above bid, spread near typical", () => {
    const feed = new QuoteFeed(specs.values(), 3, NOW, 250);
    for (let tick = 1; tick <= 200; tick++) {
      for (const quote of feed.tick(NOW + tick * 250, open)) {
        const spec = specs.get(quote.symbol)!;
        const scale = 10 ** spec.digits;
        expect(Math.abs(quote.bid * scale - Math.round(quote.bid * scale))).toBeLessThan(1e-6);
        expect(Math.abs(quote.ask * scale - Math.round(quote.ask * scale))).toBeLessThan(1e-6);
        const spread = Math.round((quote.ask - quote.bid) * scale);
        expect(spread).toBeGreaterThanOrEqual(Math.floor(spec.typical_spread * 0.7));
        expect(spread).toBeLessThanOrEqual(Math.ceil(spec.typical_spread * 1.3));
        expect(quote.time).toBe(NOW + tick * 250);
      }
    }
  });

  test("a day of ticks moves EURUSD by a plausible amount", () => {
    const feed = new QuoteFeed(specs.values(), 8, NOW, 250);
    for (let tick = 1; tick <= 345_600; tick++) feed.tick(NOW + tick * 250, open);
    const mid = feed.mid("EURUSD")!;
    expect(Math.abs(mid / 1.1 - 1)).toBeLessThan(0.03);
    expect(mid).not.toBe(1.1);
  });

  test("closed symbols do not tick and keep their quote time", () => {
    const feed = new QuoteFeed(specs.values(), 3, NOW, 250);
    const quotes = feed.tick(NOW + 250, (spec) => spec.symbol === "BTCUSD");
    expect(quotes.map((quote) => quote.symbol)).toEqual(["BTCUSD"]);
    expect(feed.quote("EURUSD")?.time).toBe(NOW);
  });

  test("snapshot and restore reproduce the following ticks exactly", () => {
    const feed = new QuoteFeed(specs.values(), 21, NOW, 250);
    feed.tick(NOW + 250, open);
    const state = JSON.parse(JSON.stringify(feed.snapshot()));
    const expected = feed.tick(NOW + 500, open);
    const copy = new QuoteFeed(specs.values(), 0, NOW, 250);
    copy.restore(state);
    expect(copy.tick(NOW + 500, open)).toEqual(expected);
  });

  test("set pins a quote and shift moves it by points, keeping the spread", () => {
    const feed = new QuoteFeed(specs.values(), 1, NOW, 250);
    expect(feed.set("USDJPY", 150.0004, 150.012, NOW)).toEqual({
      symbol: "USDJPY",
      bid: 150,
      ask: 150.012,
      time: NOW,
    });
    expect(feed.shift("USDJPY", -20, NOW + 1)).toMatchObject({ bid: 149.98, ask: 149.992 });
    expect(() => feed.set("NOPE", 1, 1, NOW)).toThrow("sim: unknown symbol NOPE");
  });
});
