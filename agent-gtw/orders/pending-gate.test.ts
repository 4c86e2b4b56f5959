/**
 * The gateway's last-line gate with pending orders: they count as potential positions against
 * max_open_positions (in flight too), their volume against max_volume; REDUCING lets CANCEL and
 * CLOSE_BY through but no PLACE or MODIFY_ORDER; HALTED refuses all but the operator's cancels.
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { silentLogger } from "../../shared/log.ts";
import type { PendingTradeReply, Reply } from "../../shared/protocol/index.ts";
import { type CancelResult, cancelHandler } from "../operator/cancels.ts";
import {
  OPERATOR_DIR,
  type OperatorRequestsOptions,
  readOperatorResult,
  runOperatorRequests,
  writeOperatorRequest,
} from "../operator/requests.ts";
import { orderOf, pendingHarnesses, placeRequest } from "../testing/pending-harness.ts";
import { OPERATOR_SCOPE } from "./executor.ts";

const { harness } = pendingHarnesses();
const place = placeRequest;
const open = { action: "OPEN", symbol: "EURUSD", side: "BUY", volume: 0.1 };
const ticketOf = (reply: Reply) => (reply as PendingTradeReply).ticket as number;

/** The operator channel of a harness's gateway, with the cancel handler only. */
function requestOptions(h: Awaited<ReturnType<typeof harness>>): OperatorRequestsOptions {
  const logger = silentLogger;
  return {
    stateDir: h.dir,
    clock: h.clock,
    logger,
    handlers: {
      cancel: cancelHandler({
        gatewayName: "gtw-test",
        executor: h.executor,
        backend: h.backend,
        clock: h.clock,
        logger,
      }),
    },
  };
}

describe("limits", () => {
  test("pending orders count against max_open_positions for OPEN and PLACE alike", async () => {
    const h = await harness({ maxOpenPositions: 2 });
    expect((await h.send(open)).status).toBe("FILLED");
    const ticket = orderOf(await h.send(place()));
    expect(await h.send(place())).toMatchObject({
      status: "REJECTED",
      error_code: "MAX_POSITIONS",
    });
    expect(await h.send(open)).toMatchObject({ error_code: "MAX_POSITIONS" });
    // A cancelled order frees its slot
    await h.send({ action: "CANCEL", ticket });
    expect((await h.send(place())).status).toBe("FILLED");
  });

  test("a triggered order is counted once, as the position it became", async () => {
    const h = await harness({ maxOpenPositions: 2 });
    await h.send(place({ type: "BUY_STOP", price: 1.1005 }));
    await h.backend.sim.setQuote("EURUSD", 1.1004, 1.1005);
    expect(await h.backend.positions()).toHaveLength(1);
    expect((await h.send(place())).status).toBe("FILLED");
    expect((await h.send(place())).error_code).toBe("MAX_POSITIONS");
  });

  test("PLACEs still executing count, so concurrent ones cannot pass the limit together", async () => {
    const h = await harness({ maxOpenPositions: 1 });
    let release = () => {};
    h.backend.faults.push({
      kind: "hang",
      release: new Promise<void>((resolve) => (release = resolve)),
    });
    const first = h.send(place());
    await Bun.sleep(5);
    const second = await h.send(place());
    expect(second).toMatchObject({ error_code: "MAX_POSITIONS" });
    release();
    expect((await first).status).toBe("FILLED");
    expect(await h.backend.orders()).toHaveLength(1);
  });

  test("max_volume and the symbol allow-list apply to PLACE", async () => {
    const h = await harness({ maxVolume: 1 });
    expect(await h.send(place({ volume: 1.5 }))).toMatchObject({
      status: "REJECTED",
      error_code: "VOLUME_ABOVE_MAX",
    });
    expect(await h.send(place({ symbol: "XAUUSD", price: 2300 }))).toMatchObject({
      error_code: "SYMBOL_NOT_ALLOWED",
    });
    expect(h.backend.calls).toBe(0);
  });
});

describe("trading states", () => {
  test("REDUCING refuses PLACE and MODIFY_ORDER, lets CANCEL and CLOSE_BY through", async () => {
    const h = await harness();
    const ticket = orderOf(await h.send(place()));
    const buy = ticketOf(await h.send(open));
    const sell = ticketOf(await h.send({ ...open, side: "SELL" }));
    h.tradingState.set("REDUCING", "test");
    expect(await h.send(place())).toMatchObject({
      status: "REJECTED",
      error_code: "REDUCING_ONLY",
    });
    expect(await h.send({ action: "MODIFY_ORDER", ticket, price: 1.0985 })).toMatchObject({
      error_code: "REDUCING_ONLY",
    });
    expect((await h.send({ action: "CANCEL", ticket })).status).toBe("FILLED");
    expect((await h.send({ action: "CLOSE_BY", ticket: buy, ticket_by: sell })).status).toBe(
      "FILLED",
    );
  });

  test("HALTED refuses a client's CANCEL, but not the operator's", async () => {
    const h = await harness();
    const ticket = orderOf(await h.send(place()));
    h.tradingState.set("HALTED", "test");
    expect(await h.send({ action: "CANCEL", ticket })).toMatchObject({
      status: "REJECTED",
      error_code: "TRADING_HALTED",
    });
    const reply = await h.executor.executeOperatorCancel({
      v: 1,
      id: "operator-1",
      ts: h.clock.now(),
      action: "CANCEL",
      client_order_id: "op-1",
      gateway: "gtw-test",
      key_id: "operator",
      ticket,
    });
    expect(reply).toMatchObject({ status: "FILLED", order: ticket });
    expect(h.journal.lookup(OPERATOR_SCOPE, "op-1")?.state).toBe("FILLED");
    expect(await h.backend.orders()).toEqual([]);
  });

  test("the operator's privilege is CANCEL only, and the link must be up", async () => {
    const h = await harness();
    const ticket = orderOf(await h.send(place()));
    h.backend.linkState = { state: "DOWN", detail: "test" };
    const down = await h.executor.executeOperatorCancel({
      v: 1,
      id: "operator-1",
      ts: h.clock.now(),
      action: "CANCEL",
      client_order_id: "op-1",
      gateway: "gtw-test",
      key_id: "operator",
      ticket,
    });
    expect(down).toMatchObject({ status: "REJECTED", error_code: "MT5_LINK_DOWN" });
    expect(await h.backend.sim.orders()).toHaveLength(1);
  });
});

describe("agent-gtw cancel (operator request files)", () => {
  test("cancels the listed orders while HALTED and answers per order", async () => {
    const h = await harness();
    const a = orderOf(await h.send(place()));
    const b = orderOf(await h.send(place({ price: 1.0985 })));
    h.tradingState.set("HALTED", "test");
    const id = writeOperatorRequest(h.dir, "cancel", {
      tickets: [a, 999],
      reason: "test",
      at: h.clock.now(),
    });
    const options = requestOptions(h);
    expect(await runOperatorRequests(options)).toBe(1);
    const result = readOperatorResult<CancelResult>(h.dir, "cancel", id);
    expect(result?.results).toEqual([
      { ticket: a, status: "FILLED", retcode: 10009 },
      expect.objectContaining({ ticket: 999, status: "REJECTED", retcode: 10013 }),
    ]);
    expect((await h.backend.orders()).map((order) => order.ticket)).toEqual([b]);
    // The result is read once; the request is gone
    expect(readOperatorResult(h.dir, "cancel", id)).toBeUndefined();
    expect(await runOperatorRequests(options)).toBe(0);
  });

  test("--all cancels every order (on one symbol when asked); a stale request is ignored", async () => {
    const h = await harness();
    await h.backend.sim.setQuote("GBPUSD", 1.2699, 1.27);
    await h.send(place());
    await h.send(place({ price: 1.0985 }));
    const gbp = orderOf(await h.send(place({ symbol: "GBPUSD", price: 1.26 })));
    const options = requestOptions(h);
    const stale = writeOperatorRequest(h.dir, "cancel", {
      tickets: "all",
      reason: "t",
      at: h.clock.now() - 61_000,
    });
    await runOperatorRequests(options);
    expect(readOperatorResult(h.dir, "cancel", stale)?.error).toContain("older than a minute");
    expect(await h.backend.orders()).toHaveLength(3);

    const id = writeOperatorRequest(h.dir, "cancel", {
      tickets: "all",
      symbol: "EURUSD",
      reason: "t",
      at: h.clock.now(),
    });
    await runOperatorRequests(options);
    expect(readOperatorResult<CancelResult>(h.dir, "cancel", id)?.results).toHaveLength(2);
    expect((await h.backend.orders()).map((order) => order.ticket)).toEqual([gbp]);
  });

  test("a request file that is not ours is refused with a reason, never half-read", async () => {
    const h = await harness();
    mkdirSync(join(h.dir, OPERATOR_DIR), { recursive: true });
    const file = (name: string) => join(h.dir, OPERATOR_DIR, name);
    await Bun.write(file("cancel-aaaaaaaaaaaa.json"), `{"tickets":[0],"at":${h.clock.now()}}`);
    await Bun.write(file("cancel-bbbbbbbbbbbb.json"), "[1,2]");
    await Bun.write(file("cancel-cccccccccccc.json"), '{"tickets":"all"}');
    await Bun.write(file("cancel-dddddddddddd.json"), "{not json");
    expect(await runOperatorRequests(requestOptions(h))).toBe(4);
    const error = (id: string) => readOperatorResult(h.dir, "cancel", id)?.error;
    expect(error("aaaaaaaaaaaa")).toContain("tickets must be");
    expect(error("bbbbbbbbbbbb")).toBe("the request is not an object");
    expect(error("cccccccccccc")).toBe("at must be a Unix time in ms");
    expect(error("dddddddddddd")).toContain("not valid JSON");
  });
});
