/**
 * What an order pays at the gateway in fdatasyncs (issue 17 §3): the intent is durable before the
 * broker sees it, concurrent orders share the journal's and the sim's syncs (group commit), a
 * FILLED outcome rides on the next sync, and a power cut that loses it is answered by
 * reconciliation with the same fill.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { brokerOrderKey } from "../../shared/protocol/index.ts";
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

/** The client_order_ids (by their key at the broker) of the intents a power cut would keep. */
function durableIntents(h: Harness, io: RecordingJournalIo): Map<string, string> {
  const onDisk = readFileSync(join(h.dir, "orders.journal")).subarray(0, io.durable).toString();
  const intents = new Map<string, string>();
  for (const line of onDisk.split("\n")) {
    const record = JSON.parse(line.slice(line.indexOf(" ") + 1) || "{}") as {
      k?: string;
      u?: string;
      c?: string;
    };
    if (record.k === "I" && record.c !== undefined)
      intents.set(brokerOrderKey(record.u ?? null, record.c), record.c);
  }
  return intents;
}

/** Fail the test if the broker is asked to open anything whose intent a power cut could lose. */
function requireDurableIntent(h: Harness, io: RecordingJournalIo): { checked: string[] } {
  const checked: string[] = [];
  const open = h.backend.open.bind(h.backend);
  h.backend.open = (order: OpenOrder) => {
    const coid = durableIntents(h, io).get(order.clientOrderId);
    if (coid === undefined)
      throw new Error(`${order.clientOrderId} reached the broker before its intent was durable`);
    checked.push(coid);
    return open(order);
  };
  return { checked };
}

/** A journal line of `kind` (I intent, O outcome) for `coid`. */
const journalLine = (kind: string, coid: string) =>
  new RegExp(`"k":"${kind}",(?:"u":"[^"]*",)?"c":"${coid}"`);

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
    for (let i = 0; i < 4; i++) expect(onDisk).toMatch(journalLine("O", `seq-${i}`));
    expect(onDisk).not.toMatch(journalLine("O", "seq-4"));
    expect(journal).toMatch(journalLine("O", "seq-4"));
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
    expect(readFileSync(path).toString()).toMatch(journalLine("O", "cut-1"));
    // The gateway dies: nothing of it runs again, its journal is never closed (a close would
    // sync). The broker's books stay: they were synced before the fill was reported.
    h.executor.stop();
    await h.backend.stop();
    harnesses.splice(harnesses.indexOf(h), 1);
    // The power cut: only what an fdatasync covered survives
    truncateSync(path, io.durable);
    expect(readFileSync(path).toString()).not.toMatch(journalLine("O", "cut-1"));
    const restarted = await createHarness({ dir: h.dir, clock: h.clock, maxOpenPositions: 1000 });
    harnesses.push(restarted);
    expect(restarted.journal.lookup("inf-1", "cut-1")?.state).toBe("PENDING");
    expect(await restarted.executor.reconcileUnresolved()).toBe(0);
    expect(restarted.journal.lookup("inf-1", "cut-1")?.state).toBe("FILLED");
    const again = await restarted.send(buy("cut-1"));
    expect(again).toMatchObject({ status: "FILLED", duplicate: true, ticket: first.ticket });
    expect(restarted.backend.calls).toBe(0);
    expect(await restarted.backend.positions()).toHaveLength(1);
  });
});
