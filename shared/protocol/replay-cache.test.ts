import { describe, expect, test } from "bun:test";
import { ReplayCache } from "./replay-cache.ts";

describe("ReplayCache", () => {
  test("remembers an id through its expiry ms and forgets it after", () => {
    const cache = new ReplayCache(10);
    cache.add("a", 1000);

    cache.prune(1000);
    const atExpiry = cache.has("a");
    cache.prune(1001);

    expect(atExpiry).toBe(true);
    expect(cache.has("a")).toBe(false);
  });

  test("refuses to add when full instead of forgetting a live id", () => {
    const cache = new ReplayCache(2);

    const added = [cache.add("a", 1000), cache.add("b", 1000), cache.add("c", 1000)];

    expect(added).toEqual([true, true, false]);
    expect([cache.has("a"), cache.has("b"), cache.has("c")]).toEqual([true, true, false]);
  });

  test("makes room once the window has passed", () => {
    const cache = new ReplayCache(2);
    cache.add("a", 1000);
    cache.add("b", 1000);

    cache.prune(1001);

    expect(cache.size).toBe(0);
    expect(cache.add("c", 2000)).toBe(true);
  });

  test("stops at the first live entry; an earlier-expiring one behind it lingers safely", () => {
    const cache = new ReplayCache(10);
    cache.add("late", 3000);
    cache.add("early", 1000);

    cache.prune(2000);
    const lingering = cache.has("early");
    cache.prune(3001);

    expect(lingering).toBe(true);
    expect(cache.size).toBe(0);
  });
});
