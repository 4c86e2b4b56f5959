/**
 * Large market answers on the real agents as processes: a million bars stream through without
 * either agent's memory growing with the answer, and a gateway that dies mid-answer cuts the
 * body so the client cannot mistake what it got for the whole answer.
 */
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { MIB, residentBytes, sampleRss } from "../../scripts/harness/rss.ts";
import { type MarketStack, startMarketStack } from "./market-stack.ts";

setDefaultTimeout(120_000);

const stacks: MarketStack[] = [];
afterEach(async () => {
  for (const stack of stacks.splice(0)) await stack.stop();
});

async function stack(): Promise<MarketStack> {
  const started = await startMarketStack();
  stacks.push(started);
  return started;
}

/** Read a body to its end, counting bytes and lines, keeping only the last line. */
async function drain(response: Response): Promise<{ bytes: number; lines: number; last: string }> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let bytes = 0;
  let lines = 0;
  let tail = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    const text = tail + decoder.decode(value, { stream: true });
    const parts = text.split("\n");
    lines += parts.length - 1;
    tail = parts.at(-1) === "" ? (parts.at(-2) ?? "") : (parts.at(-1) ?? "");
  }
  return { bytes, lines, last: tail };
}

describe("large answers", () => {
  test("a million bars: both agents' memory does not grow with the answer", async () => {
    const s = await stack();
    const pids = [s.gateway.process.pid, s.inference.process.pid];
    // Warm both agents up (JIT, caches, the heap's first growth), then measure the peak of each
    const warm = await drain(await s.get("/v1/rates/EURUSD?timeframe=M1&count=300000"));
    const small = sampleRss(pids);
    const tenth = await drain(await s.get("/v1/rates/EURUSD?timeframe=M1&count=100000"));
    const smallPeaks = small.stop();
    const large = sampleRss(pids);
    const response = await s.get("/v1/rates/EURUSD?timeframe=M1&count=1000000");
    const whole = await drain(response);
    const largePeaks = large.stop();

    const mib = (bytes: number | undefined) => Math.round(((bytes ?? 0) / MIB) * 10) / 10;
    const report = pids.map((pid, i) => ({
      agent: i === 0 ? "agent-gtw" : "agent-inf",
      peak_100k_mib: mib(smallPeaks.get(pid)),
      peak_1m_mib: mib(largePeaks.get(pid)),
    }));
    console.log(
      `market answer: 100k bars ${mib(tenth.bytes)} MiB, 1M bars ${mib(whole.bytes)} MiB;`,
      JSON.stringify(report),
    );

    expect(warm.lines).toBe(300_000 + 2);
    expect(whole.lines).toBe(1_000_000 + 2);
    expect(whole.last).toBe('],"count":1000000}');
    // The answer is ~51 MiB: ten times the rows may not cost anything like ten times the
    // memory. Each agent holds a page or two (a few hundred KiB) plus its garbage collector's
    // slack; one that held the whole answer (its text, or the parsed rows) would grow > 100 MiB.
    // The bound sits below the answer itself (~51 MiB, held as one 8-bit string) and above the
    // slack a loaded machine's GC leaves (up to ~32 MiB seen).
    for (const pid of pids) {
      const growth = (largePeaks.get(pid) ?? 0) - (smallPeaks.get(pid) ?? 0);
      expect(growth).toBeLessThan(48 * MIB);
    }
  });

  test("a gateway that dies mid-answer cuts the body: the client sees an incomplete answer", async () => {
    const s = await stack();
    const response = await s.get("/v1/rates/EURUSD?timeframe=M1&count=1000000");
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    await s.gateway.kill();

    let received = first.value?.byteLength ?? 0;
    let text = new TextDecoder().decode(first.value);
    let failure: unknown;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        received += value.byteLength;
        text = text.slice(-200) + new TextDecoder().decode(value);
      }
    } catch (error) {
      failure = error;
    }

    expect(response.status).toBe(200);
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(50 * MIB);
    // The transfer is cut (no last chunk): the read fails, and the JSON never got its end
    expect(failure).toBeDefined();
    expect(text).not.toContain('"count":');
  });

  test("a client that stops reading holds no gateway work: the rest is asked only as it reads", async () => {
    const s = await stack();
    const pids = [s.gateway.process.pid, s.inference.process.pid];
    await drain(await s.get("/v1/rates/EURUSD?timeframe=M1&count=300000"));
    const before = pids.map((pid) => residentBytes(pid) ?? 0);
    const response = await s.get("/v1/rates/EURUSD?timeframe=M1&count=1000000");
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    // The client pauses: the agents must wait for it, not buffer the million bars meanwhile
    const paused = sampleRss(pids);
    await Bun.sleep(3000);
    const peaks = paused.stop();
    await reader.cancel();

    pids.forEach((pid, i) => {
      expect((peaks.get(pid) ?? 0) - (before[i] as number)).toBeLessThan(24 * MIB);
    });
  });
});
