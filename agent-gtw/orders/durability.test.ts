/**
 * What an order pays at the gateway in fdatasyncs (issue 17 §3): the intent is durable before the
 * broker sees it, concurrent orders share the journal's and the sim's syncs (group commit), a
 * FILLED outcome rides on the next sync, and a power cut that loses it is answered by
 * reconciliation with the same fill.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync, truncateSync } from "node:fs";
import { join } from "node:path";
import type { OpenOrder } from "../backend/backend.ts";
import { createHarness, type Harness } from "../testing/harness.ts";
import { type RecordingJournalIo, recordingJournalIo } from "../testing/journal-io.ts";

const harnesses: Harness[] = [];
afterEach(async () => {
  for (const harness of harnesses.splice(0)) await harness.close();
});

async function harness(io: RecordingJournalIo): Promise<Harness> {
  const built = await createHarness({ journalIo: io, maxOpenPositions: 1000 });
  harnesses.push(built);
  return built;
}

const buy = (coid: string) => ({
  action: "OPEN",
  symbol: "EURUSD",
  side: "BUY",
  volume: 0.01,
  client_order_id: coid,
});

/** Fail the test if the broker is asked to open anything whose intent a power cut could lose. */
function requireDurableIntent(h: Harness, io: RecordingJournalIo): { checked: string[] } {
  const checked: string[] = [];
  const open = h.backend.open.bind(h.backend);
  h.backend.open = (order: OpenOrder) => {
    const onDisk = readFileSync(join(h.dir, "orders.journal")).subarray(0, io.durable).toString();
    if (!onDisk.includes(`"k":"I","c":"${order.clientOrderId}"`))
      throw new Error(`${order.clientOrderId} reached the broker before its intent was durable`);
    checked.push(order.clientOrderId);
    return open(order);
  };
  return { checked };
}

describe("the gateway's fdatasyncs", () => {
  test("one order costs one journal sync and one sim sync; its outcome rides on the next intent's", async () => {
    const io = recordingJournalIo();
    const h = await harness(io);
    const guard = requireDurableIntent(h, io);
    const simBefore = h.backend.sim.stats().syncs;
    for (let i = 0; i < 5; i++) expect((await h.send(buy(`seq-${i}`))).status).toBe("FILLED");
    expect(guard.checked).toHaveLength(5);
    expect(io.syncs).toBe(5);
    expect(h.backend.sim.stats().syncs - simBefore).toBe(5);
    // The first four outcomes are durable (the next intents' syncs covered them), the last one
    // is written and waits for the next sync
    const journal = readFileSync(join(h.dir, "orders.journal")).toString();
    const onDisk = journal.slice(0, io.durable);
    for (let i = 0; i < 4; i++) expect(onDisk).toContain(`"k":"O","c":"seq-${i}"`);
    expect(journal).toContain(`"k":"O","c":"seq-4"`);
  });

  test("concurrent orders share syncs, and none reaches the broker before its own intent is durable", async () => {
    const io = recordingJournalIo();
    const h = await harness(io);
    const guard = requireDurableIntent(h, io);
    const simBefore = h.backend.sim.stats().syncs;
    // Eight waves of 25, each started while the previous ones are still in their syncs
    const replies: Promise<{ status: string }>[] = [];
    for (let wave = 0; wave < 8; wave++) {
      for (let i = 0; i < 25; i++) replies.push(h.send(buy(`w${wave}-${i}`)));
      await Bun.sleep(0);
    }
    const settled = await Promise.all(replies);
    expect(settled.every((reply) => reply.status === "FILLED")).toBe(true);
    expect(guard.checked).toHaveLength(200);
    // 200 orders; one sync each would be 200 of each kind
    const simSyncs = h.backend.sim.stats().syncs - simBefore;
    console.log(
      `[durability] 200 concurrent orders: ${io.syncs} journal syncs, ${simSyncs} sim syncs`,
    );
    expect(io.syncs).toBeLessThanOrEqual(20);
    expect(simSyncs).toBeLessThanOrEqual(20);
    expect(await h.backend.positions()).toHaveLength(200);
  });

  test("a power cut after the reply loses the unsynced outcome; the restart reconciles the same fill", async () => {
    const io = recordingJournalIo();
    const h = await harness(io);
    const first = (await h.send(buy("cut-1"))) as { status: string; ticket: number };
    expect(first.status).toBe("FILLED");
    const path = join(h.dir, "orders.journal");
    expect(readFileSync(path).toString()).toContain('"k":"O","c":"cut-1"');
    // What the disk keeps after a power cut: only what was synced (the sim's books are the
    // broker's, synced before the fill was reported)
    await h.backend.sim.settle();
    h.executor.stop();
    truncateSync(path, io.durable);
    expect(readFileSync(path).toString()).not.toContain('"k":"O","c":"cut-1"');
    harnesses.splice(harnesses.indexOf(h), 1);
    const restarted = await h.restart();
    harnesses.push(restarted);
    expect(restarted.journal.lookup("cut-1")?.state).toBe("PENDING");
    expect(await restarted.executor.reconcileUnresolved()).toBe(0);
    expect(restarted.journal.lookup("cut-1")?.state).toBe("FILLED");
    const again = await restarted.send(buy("cut-1"));
    expect(again).toMatchObject({ status: "FILLED", duplicate: true, ticket: first.ticket });
    expect(restarted.backend.calls).toBe(0);
    expect(await restarted.backend.positions()).toHaveLength(1);
  });
});
