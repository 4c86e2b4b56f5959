/**
 * Closed-bar events on the sim (docs/API.md §9.7): every BAR a stream tells equals the bar
 * GET /v1/rates returns for that minute afterwards, bars come in order without gaps, and a
 * stream that reconnects with Last-Event-ID gets exactly the bars that closed while it was away.
 *
 * The whole gateway (sim and all) runs on a clock the test moves forward, so minutes pass in
 * milliseconds; agent-inf learns the gateway's time from its PINGs as it would on any host.
 */
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { eventually } from "../../scripts/harness/eventually.ts";
import {
  type InferenceStack,
  type InProcessGateway,
  type ShiftedClock,
  type SseMessage,
  SseReader,
  startShiftedStack,
} from "./support.ts";

setDefaultTimeout(60_000);

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Setup {
  readonly clock: ShiftedClock;
  readonly gateway: InProcessGateway;
  readonly inf: InferenceStack;
}

const setup = (): Promise<Setup> => startShiftedStack(cleanups);

async function sse(s: Setup, query: string, headers: Record<string, string> = {}) {
  const reader = await SseReader.open(`${s.inf.api.url}/v1/stream?${query}`, headers);
  cleanups.push(() => reader.close());
  return reader;
}

/** Move the gateway's time on in 10 s steps until `done` holds (bounded). */
async function passTime(s: Setup, done: () => boolean, maxMinutes = 15): Promise<void> {
  for (let step = 0; step < maxMinutes * 6 && !done(); step++) {
    s.clock.shift += 10_000;
    await Bun.sleep(40);
  }
  await eventually(done, { timeoutMs: 10_000, message: "bars told" });
}

type Bar = Record<string, number>;

const bars = (messages: readonly SseMessage[], timeframe = "M1") =>
  messages
    .filter((m) => m.event === "BAR" && m.data["timeframe"] === timeframe)
    .map((m) => m.data["bar"] as Bar);

async function ratesAt(s: Setup, timeframe: string, time: number): Promise<number[][]> {
  const response = await fetch(
    `${s.inf.api.url}/v1/rates/EURUSD?timeframe=${timeframe}&from=${time}&to=${time}`,
  );
  return ((await response.json()) as { rates: number[][] }).rates;
}

const FIELDS = ["time", "open", "high", "low", "close", "tick_volume", "spread", "real_volume"];

describe("closed bars", () => {
  test("each BAR equals the bar GET /v1/rates gives afterwards, in order and without gaps", async () => {
    const s = await setup();
    const reader = await sse(s, "bars=EURUSD:M1,EURUSD:M5");
    await eventually(() => reader.messages.length >= 1);

    await passTime(s, () => bars(reader.messages, "M5").length >= 2);

    const snapshot = reader.messages[0];
    expect(snapshot?.event).toBe("SNAPSHOT");
    expect(snapshot?.data["bars"]).toEqual([]);
    const m1 = bars(reader.messages);
    const m5 = bars(reader.messages, "M5");
    expect(m1.length).toBeGreaterThanOrEqual(5);
    const times = m1.map((bar) => bar["time"] as number);
    expect(times.every((t, i) => i === 0 || t === (times[i - 1] as number) + 60)).toBe(true);
    for (const [timeframe, list] of [
      ["M1", m1],
      ["M5", m5],
    ] as const) {
      for (const bar of list) {
        const rows = await ratesAt(s, timeframe, bar["time"] as number);
        expect(rows).toEqual([FIELDS.map((name) => bar[name] as number)]);
      }
    }
    const ids = reader.messages.filter((m) => m.event === "BAR").map((m) => m.id);
    expect(ids.every((id) => id !== undefined)).toBe(true);
  });

  test("Last-Event-ID resumes with exactly the bars that closed meanwhile", async () => {
    const s = await setup();
    const first = await sse(s, "bars=EURUSD:M1");
    await passTime(s, () => bars(first.messages).length >= 2);
    const seen = first.messages.filter((m) => m.event === "BAR");
    const last = seen.at(-1) as SseMessage;
    await first.close();

    // Three minutes pass at the gateway while nobody listens
    s.clock.shift += 3 * 60_000;
    await Bun.sleep(300);
    const resumed = await sse(s, "bars=EURUSD:M1", { "last-event-id": last.id as string });
    await passTime(s, () => bars(resumed.messages).length >= 4);
    const elsewhere = await sse(s, "bars=GBPUSD:M1", { "last-event-id": last.id as string });
    await eventually(() => elsewhere.messages.length >= 1);

    expect(resumed.messages[0]?.event).toBe("BAR");
    const times = bars(resumed.messages).map((bar) => bar["time"] as number);
    expect(times[0]).toBe(((last.data["bar"] as Bar)["time"] as number) + 60);
    expect(times.every((t, i) => i === 0 || t === (times[i - 1] as number) + 60)).toBe(true);
    for (const bar of bars(resumed.messages)) {
      expect(await ratesAt(s, "M1", bar["time"] as number)).toEqual([
        FIELDS.map((name) => bar[name] as number),
      ]);
    }
    // A pair nobody watched then cannot be resumed: a SNAPSHOT starts over
    expect(elsewhere.messages[0]?.event).toBe("SNAPSHOT");
  });

  test("bars= is checked: pairs, timeframes, unknown symbols", async () => {
    const s = await setup();
    const status = async (query: string) => {
      const response = await fetch(`${s.inf.api.url}/v1/stream?${query}`);
      const body = (await response.json()) as { error: { code: string; field?: string } };
      return [response.status, body.error.code, body.error.field];
    };

    expect(await status("bars=EURUSD")).toEqual([400, "INVALID_REQUEST", "bars"]);
    expect(await status("bars=EURUSD:M7")).toEqual([400, "INVALID_REQUEST", "bars"]);
    expect(await status("bars=EUR%20USD:M1")).toEqual([400, "INVALID_REQUEST", "bars"]);
    expect(await status("bars=NOPE:M1")).toEqual([404, "UNKNOWN_SYMBOL", "bars"]);
    const many = Array.from({ length: 65 }, (_, i) => `S${i}:M1`).join(",");
    expect(await status(`bars=${many}`)).toEqual([400, "INVALID_REQUEST", "bars"]);
  });
});
