/**
 * The dashboard's refresh loops (static/every.mjs) on fake timers: the period, pokes, and the
 * promise that one task never starts twice within a second however pokes and periods fall (the
 * issue's "no polling faster than 1 s"), nor overlaps itself, nor loses a poke.
 */
import { describe, expect, test } from "bun:test";

interface Loop {
  poke(): void;
}
type Every = (
  everyMs: number,
  task: () => Promise<void>,
  options: { onError?: (error: unknown) => void; timers: FakeTimers },
) => Loop;

// The browser module, loaded as code (the *.mjs type declaration is for its text, assets.ts)
const MODULE: string = new URL("./static/every.mjs", import.meta.url).href;
const { every, MIN_GAP_MS } = (await import(MODULE)) as { every: Every; MIN_GAP_MS: number };

const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

class FakeTimers {
  time = 0;
  #nextId = 1;
  readonly #queue = new Map<number, { at: number; fn: () => void }>();

  now = (): number => this.time;
  setTimeout = (fn: () => void, ms: number): number => {
    const id = this.#nextId++;
    this.#queue.set(id, { at: this.time + ms, fn });
    return id;
  };
  clearTimeout = (id: number | undefined): void => {
    if (id !== undefined) this.#queue.delete(id);
  };

  /** Move the time to `until`, firing what falls due in order and letting promises settle. */
  async advance(until: number): Promise<void> {
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.#queue)
        if (entry[1].at <= until && (next === undefined || entry[1].at < next[1].at)) next = entry;
      if (next === undefined) break;
      this.#queue.delete(next[0]);
      this.time = next[1].at;
      next[1].fn();
      await settle();
    }
    this.time = until;
    await settle();
  }
}

/** A loop whose task takes `duration(i)` ms on the fake timers; `starts` records each start. */
function loop(everyMs: number, duration: (run: number) => number = () => 10) {
  const timers = new FakeTimers();
  const starts: number[] = [];
  let running = false;
  let overlapped = false;
  const task = () => {
    if (running) overlapped = true;
    running = true;
    starts.push(timers.now());
    return new Promise<void>((resolve) =>
      timers.setTimeout(
        () => {
          running = false;
          resolve();
        },
        duration(starts.length - 1),
      ),
    );
  };
  const handle = every(everyMs, task, { timers });
  return { timers, starts, handle, overlapped: () => overlapped };
}

describe("dashboard refresh loops", () => {
  test("run at once, then everyMs after each run ends", async () => {
    const { timers, starts } = loop(2000, () => 100);
    await timers.advance(5000);
    expect(starts).toEqual([0, 2100, 4200]);
  });

  test("a period under a second is a second", async () => {
    const { timers, starts } = loop(200, () => 0);
    await timers.advance(3500);
    expect(starts).toEqual([0, 1000, 2000, 3000]);
  });

  test("a poke runs it 150 ms later; a burst of pokes costs one run", async () => {
    const { timers, starts, handle } = loop(5000);
    await timers.advance(1500);
    handle.poke();
    await timers.advance(3000);
    for (let i = 0; i < 3; i++) {
      handle.poke();
      await timers.advance(timers.now() + 10);
    }
    await timers.advance(4000);
    expect(starts).toEqual([0, 1650, 3150]);
  });

  test("a poke within a second of the last start waits for the second", async () => {
    const { timers, starts, handle } = loop(5000);
    await timers.advance(200);
    handle.poke();
    await timers.advance(2000);
    expect(starts).toEqual([0, 1000]);
  });

  test("a poke just before the regular run adds no second run", async () => {
    const { timers, starts, handle } = loop(2000);
    // The regular run is due at 2010 (10 ms task + 2000)
    await timers.advance(2005);
    handle.poke();
    await timers.advance(3500);
    expect(starts).toEqual([0, 2010]);
  });

  test("a poke during a run runs it again a second after that run started", async () => {
    const { timers, starts, handle } = loop(5000, () => 600);
    await timers.advance(300);
    handle.poke();
    await timers.advance(2500);
    expect(starts).toEqual([0, 1000]);
  });

  test("a failing task is reported and the loop goes on", async () => {
    const timers = new FakeTimers();
    const errors: unknown[] = [];
    every(1000, () => Promise.reject(new Error("agent unreachable")), {
      timers,
      onError: (error) => errors.push(error),
    });
    await timers.advance(2500);
    expect(errors.map((error) => (error as Error).message)).toEqual([
      "agent unreachable",
      "agent unreachable",
      "agent unreachable",
    ]);
  });

  test("random pokes and durations: never two starts within a second, no overlap, no poke lost", async () => {
    let seed = 19;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (const everyMs of [1000, 2000, 5000]) {
      const { timers, starts, handle, overlapped } = loop(everyMs, () =>
        Math.floor(random() * 1500),
      );
      const pokes: number[] = [];
      while (timers.now() < 120_000) {
        // Events come alone or in bursts, sometimes many a second
        const burst = random() < 0.3 ? 1 + Math.floor(random() * 5) : 1;
        for (let i = 0; i < burst; i++) {
          pokes.push(timers.now());
          handle.poke();
          await timers.advance(timers.now() + Math.floor(random() * 40));
        }
        await timers.advance(timers.now() + Math.floor(random() * 1300));
      }
      await timers.advance(timers.now() + 5000);
      expect(starts.length).toBeGreaterThan(100);
      for (let i = 1; i < starts.length; i++)
        expect((starts[i] as number) - (starts[i - 1] as number)).toBeGreaterThanOrEqual(
          MIN_GAP_MS,
        );
      expect(overlapped()).toBe(false);
      // Each poke is followed by a start within a second plus the longest task
      for (const poke of pokes)
        expect(starts.some((start) => start > poke && start <= poke + MIN_GAP_MS + 1500)).toBe(
          true,
        );
    }
  });
});
