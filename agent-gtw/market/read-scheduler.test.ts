import { describe, expect, test } from "bun:test";
import { ReadScheduler } from "./read-scheduler.ts";

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("ReadScheduler", () => {
  test("runs one read at a time, clients taking turns", async () => {
    const scheduler = new ReadScheduler(10);
    const order: string[] = [];
    let running = 0;
    let most = 0;
    const task = (name: string) => async () => {
      running += 1;
      most = Math.max(most, running);
      await tick();
      order.push(name);
      running -= 1;
      return name;
    };
    const all = [
      scheduler.run("a", task("a1")),
      scheduler.run("a", task("a2")),
      scheduler.run("a", task("a3")),
      scheduler.run("b", task("b1")),
      scheduler.run("c", task("c1")),
    ];
    expect(await Promise.all(all)).toEqual(["a1", "a2", "a3", "b1", "c1"]);
    expect(order).toEqual(["a1", "b1", "c1", "a2", "a3"]);
    expect(most).toBe(1);
    expect(scheduler.pending).toBe(0);
  });

  test("lets the event loop run between two reads", async () => {
    const scheduler = new ReadScheduler(10);
    const events: string[] = [];
    const first = scheduler.run("a", async () => {
      events.push("read 1");
      setImmediate(() => events.push("an order's socket read"));
    });
    const second = scheduler.run("a", async () => {
      events.push("read 2");
    });
    await Promise.all([first, second]);
    expect(events).toEqual(["read 1", "an order's socket read", "read 2"]);
  });

  test("refuses a client past its share while others still get in; a failing read fails alone", async () => {
    const scheduler = new ReadScheduler(2);
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const held = scheduler.run("a", () => gate);
    const failing = scheduler.run("a", async () => {
      throw new Error("backend fault");
    });
    expect(scheduler.run("a", async () => 3)).toBeUndefined();
    const other = scheduler.run("b", async () => "b");
    expect(other).toBeDefined();
    release();
    await held;
    await expect(failing!).rejects.toThrow("backend fault");
    expect(await other).toBe("b");
    expect(await scheduler.run("a", async () => "again")).toBe("again");
  });
});
