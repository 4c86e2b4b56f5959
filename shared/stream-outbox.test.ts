import { describe, expect, test } from "bun:test";
import { StreamOutbox } from "./stream-outbox.ts";

function drain(outbox: StreamOutbox<string, string>): string[] {
  const out: string[] = [];
  for (;;) {
    const next = outbox.shiftEvent() ?? outbox.shiftQuote();
    if (next === undefined) return out;
    out.push(next);
  }
}

describe("StreamOutbox", () => {
  test("events keep their order and go before quotes", () => {
    const outbox = new StreamOutbox<string, string>(10);
    outbox.putQuote("EURUSD", "q1");
    outbox.pushEvent("e1");
    outbox.putQuote("GBPUSD", "q2");
    outbox.pushEvent("e2");

    expect(drain(outbox)).toEqual(["e1", "e2", "q1", "q2"]);
    expect(outbox.empty).toBe(true);
  });

  test("quotes conflate to the latest per key, and a replaced key waits its turn again", () => {
    const outbox = new StreamOutbox<string, string>(10);
    outbox.putQuote("EURUSD", "eur-1");
    outbox.putQuote("GBPUSD", "gbp-1");
    outbox.putQuote("EURUSD", "eur-2");
    outbox.putQuote("EURUSD", "eur-3");

    expect(outbox.quoteCount).toBe(2);
    expect(outbox.conflated).toBe(2);
    expect(drain(outbox)).toEqual(["gbp-1", "eur-3"]);
  });

  test("past the cap it overflows: everything queued is dropped and nothing more accepted", () => {
    const outbox = new StreamOutbox<string, string>(3);
    expect([1, 2, 3].map((n) => outbox.pushEvent(`e${n}`))).toEqual([true, true, true]);
    outbox.putQuote("EURUSD", "q");

    expect(outbox.pushEvent("e4")).toBe(false);
    expect(outbox.overflowed).toBe(true);
    expect(outbox.empty).toBe(true);
    outbox.putQuote("EURUSD", "q2");
    expect(outbox.pushEvent("e5")).toBe(false);
    expect(drain(outbox)).toEqual([]);
  });

  test("a long backlog drains in order across compactions", () => {
    const outbox = new StreamOutbox<number, string>(100_000);
    for (let n = 0; n < 5000; n++) outbox.pushEvent(n);
    const first = Array.from({ length: 3000 }, () => outbox.shiftEvent());
    for (let n = 5000; n < 6000; n++) outbox.pushEvent(n);
    const rest: number[] = [];
    for (let next = outbox.shiftEvent(); next !== undefined; next = outbox.shiftEvent())
      rest.push(next);

    expect([...first, ...rest]).toEqual(Array.from({ length: 6000 }, (_, n) => n));
    expect(outbox.eventCount).toBe(0);
  });

  test("dropQuote forgets one key; clear forgets everything", () => {
    const outbox = new StreamOutbox<string, string>(10);
    outbox.putQuote("A", "a");
    outbox.putQuote("B", "b");
    outbox.dropQuote("A");
    expect(drain(outbox)).toEqual(["b"]);
    outbox.pushEvent("e");
    outbox.putQuote("C", "c");
    outbox.clear();
    expect(outbox.empty).toBe(true);
    expect(() => new StreamOutbox(0)).toThrow(RangeError);
  });
});
