/**
 * Link faults during commands (docs/EA-LINK.md §6.3, §9, §10.5; backend.ts contract): a drop
 * mid-command is BACKEND_TIMEOUT when the command left the gateway (reconciliation then finds
 * the trade if it executed), BACKEND_UNAVAILABLE when provably not sent; a late reply dies with
 * the link; an id in doubt is not sent again until the EA reconnects; the queue is bounded.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { eventually } from "../../../scripts/harness/eventually.ts";
import { FaultCode } from "../../../shared/errors.ts";
import { orderComment, Retcode } from "../../../shared/protocol/index.ts";
import type { JournalEntry } from "../../orders/journal.ts";
import { reconcile } from "../../orders/reconcile.ts";
import {
  COMMAND_TIMEOUT_MS,
  cleanupRigs,
  failure,
  openOrder,
  type Rig,
  reconnected,
  startRig,
} from "./testing/rig.ts";

afterEach(cleanupRigs);

const opens = (rig: Rig) => rig.fake.commands.filter((c) => c.cmd === "OPEN").length;

/** What the gateway's journal holds for an OPEN whose outcome is unknown. */
function unknownOpen(rig: Rig, coid: string): JournalEntry {
  return {
    client: null,
    clientOrderId: coid,
    brokerKey: coid,
    action: "OPEN",
    intentHash: "h",
    receivedAt: rig.clock.now(),
    request: { id: "r-1", action: "OPEN", symbol: "EURUSD", side: "BUY", volume: 0.1, magic: 4242 },
    state: "UNKNOWN",
    reply: null,
    decidedAt: 0,
  };
}

describe("the link drops during a trade", () => {
  test("after the EA executed it: BACKEND_TIMEOUT, and reconciliation through deals() finds it", async () => {
    const rig = await startRig();
    const coid = "dropped-after";
    rig.fake.faults.push({ kind: "drop", cmd: "OPEN", execute: true });
    const error = await failure(
      rig.backend.open(openOrder({ clientOrderId: coid, comment: orderComment(coid) })),
    );
    expect(error.code).toBe(FaultCode.BACKEND_TIMEOUT);
    expect(rig.backend.link().state).toBe("DOWN");
    expect(
      (await reconcile(unknownOpen(rig, coid), rig.backend, rig.clock.now(), 4242)).state,
    ).toBe("UNKNOWN");
    await reconnected(rig, 1);
    const found = await reconcile(unknownOpen(rig, coid), rig.backend, rig.clock.now(), 4242);
    expect(found.state).toBe("FILLED");
    const [position] = await rig.fake.sim.positions();
    expect(found.state === "FILLED" && found.reply).toMatchObject({
      ticket: position?.ticket,
      volume: 0.1,
    });
  });

  test("before the EA ran it: BACKEND_TIMEOUT, and reconciliation says NOT_EXECUTED", async () => {
    const rig = await startRig();
    const coid = "dropped-before";
    rig.fake.faults.push({ kind: "drop", cmd: "OPEN" });
    const error = await failure(
      rig.backend.open(openOrder({ clientOrderId: coid, comment: orderComment(coid) })),
    );
    expect(error.code).toBe(FaultCode.BACKEND_TIMEOUT);
    await reconnected(rig, 1);
    const result = await reconcile(unknownOpen(rig, coid), rig.backend, rig.clock.now(), 4242);
    expect(result.state).toBe("NOT_EXECUTED");
  });

  test("a trade still waiting in the queue when the link drops was provably not sent: UNAVAILABLE", async () => {
    const rig = await startRig();
    rig.fake.faults.push({ kind: "drop", cmd: "GET_ACCOUNT" });
    const account = failure(rig.backend.account());
    const waiting = failure(rig.backend.open(openOrder()));
    expect((await account).code).toBe(FaultCode.BACKEND_UNAVAILABLE);
    const error = await waiting;
    expect(error.code).toBe(FaultCode.BACKEND_UNAVAILABLE);
    expect(error.message).toContain("before OPEN was sent");
    expect(opens(rig)).toBe(0);
  });

  test("with no EA connected a trade fails at once with BACKEND_UNAVAILABLE", async () => {
    const rig = await startRig({ connect: false });
    const error = await failure(rig.backend.open(openOrder()));
    expect(error.code).toBe(FaultCode.BACKEND_UNAVAILABLE);
    expect(error.message).toContain("EA not connected");
  });
});

describe("timeouts and late replies", () => {
  test("no reply within command_timeout_ms: BACKEND_TIMEOUT, the link closes, the late reply is lost", async () => {
    const rig = await startRig();
    rig.fake.faults.push({ kind: "delay", cmd: "OPEN", ms: 2 * COMMAND_TIMEOUT_MS });
    const open = failure(rig.backend.open(openOrder()));
    await eventually(() => opens(rig) === 1);
    rig.clock.advance(COMMAND_TIMEOUT_MS - 1);
    expect(rig.backend.link().state).toBe("UP");
    rig.clock.advance(1);
    const error = await open;
    expect(error.code).toBe(FaultCode.BACKEND_TIMEOUT);
    expect(error.message).toContain(`no REPLY to OPEN id=1 within ${COMMAND_TIMEOUT_MS} ms`);
    expect(rig.backend.link().state).toBe("DOWN");

    // The EA finishes (and executes) while the gateway has given up: the reply goes nowhere,
    // and after the reconnect the next command gets its own reply, not that one
    rig.fakeClock.advance(2 * COMMAND_TIMEOUT_MS);
    await reconnected(rig, 1);
    const account = await rig.backend.account();
    expect(account.margin).toBeGreaterThan(0);
    const ids = rig.fake.commands.map((c) => [c.cmd, c.id]);
    expect(ids).toEqual([
      ["OPEN", 1],
      ["GET_ACCOUNT", 2],
    ]);
  });

  test("an id in doubt is not sent again until the EA reconnects; then its dedup store answers", async () => {
    const rig = await startRig();
    rig.fake.faults.push({ kind: "delay", cmd: "OPEN", ms: 2 * COMMAND_TIMEOUT_MS });
    const first = failure(rig.backend.open(openOrder()));
    await eventually(() => opens(rig) === 1);
    rig.clock.advance(COMMAND_TIMEOUT_MS);
    expect((await first).code).toBe(FaultCode.BACKEND_TIMEOUT);

    const meanwhile = await failure(rig.backend.open(openOrder()));
    expect(meanwhile.code).toBe(FaultCode.BACKEND_TIMEOUT);
    expect(meanwhile.message).toContain(
      "earlier attempt with client_order_id t-open-1 is still unknown",
    );

    rig.fakeClock.advance(2 * COMMAND_TIMEOUT_MS);
    await reconnected(rig, 1);
    const resent = await rig.backend.openDetailed(openOrder());
    expect(resent).toMatchObject({ duplicate: true, result: { retcode: Retcode.DONE } });
    expect(await rig.fake.sim.deals({ from: 0, to: Number.MAX_SAFE_INTEGER })).toHaveLength(1);
    expect(opens(rig)).toBe(2);
  });

  test("a second call for an id already waiting is not sent", async () => {
    const rig = await startRig();
    rig.fake.faults.push({ kind: "delay", cmd: "OPEN", ms: 1000 });
    const first = rig.backend.open(openOrder());
    const second = await failure(rig.backend.open(openOrder()));
    expect(second.code).toBe(FaultCode.BACKEND_TIMEOUT);
    expect(second.message).toContain("already waiting");
    await eventually(() => opens(rig) === 1);
    rig.fakeClock.advance(1000);
    expect((await first).retcode).toBe(Retcode.DONE);
    expect(opens(rig)).toBe(1);
  });

  test("a malformed trade reply closes the link and leaves the outcome unknown", async () => {
    const rig = await startRig();
    rig.fake.faults.push({ kind: "reply", cmd: "OPEN", body: { ok: true, cmd: "OPEN" } });
    const error = await failure(rig.backend.open(openOrder()));
    expect(error.code).toBe(FaultCode.BACKEND_TIMEOUT);
    expect(error.message).toContain("malformed reply");
    expect(rig.backend.link().state).toBe("DOWN");
  });
});

describe("the command queue", () => {
  test("commands run one at a time in order, and a full queue refuses at once", async () => {
    const rig = await startRig({ backend: { maxQueuedCommands: 2 } });
    rig.fake.faults.push({ kind: "delay", cmd: "GET_ACCOUNT", ms: 500 });
    const account = rig.backend.account();
    await eventually(() => rig.fake.commands.length === 1);
    const queued = [rig.backend.symbolInfo("EURUSD"), rig.backend.symbolInfo("GBPUSD")];
    const refused = await failure(rig.backend.symbolInfo("USDJPY"));
    expect(refused.code).toBe(FaultCode.BACKEND_UNAVAILABLE);
    expect(refused.message).toContain("2 commands already wait");
    expect(rig.fake.commands).toHaveLength(1);
    rig.fakeClock.advance(500);
    await account;
    await Promise.all(queued);
    expect(rig.fake.commands.map((c) => c.frame.string("symbol") ?? c.cmd)).toEqual([
      "GET_ACCOUNT",
      "EURUSD",
      "GBPUSD",
    ]);
  });

  test("no PING is sent while a command is in flight", async () => {
    const rig = await startRig();
    rig.fake.faults.push({ kind: "delay", cmd: "OPEN", ms: 3000 });
    const open = rig.backend.open(openOrder());
    await eventually(() => opens(rig) === 1);
    rig.clock.advance(4000);
    rig.fakeClock.advance(3000);
    expect((await open).retcode).toBe(Retcode.DONE);
    expect(rig.fake.commands.map((c) => c.cmd)).toEqual(["OPEN"]);
    expect(rig.backend.link().state).toBe("UP");
  });
});
