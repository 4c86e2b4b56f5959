/**
 * The gateway client above a fake port, on a TestClock: query retries, the session wait, and the
 * no-blind-resend rule for signed actions (DESIGN §6, PROTOCOL.md §8): after a timeout only
 * GET_ORDER decides whether the same intent may go again, and then at most three times.
 */
import { beforeEach, describe, expect, test } from "bun:test";
import { silentLogger } from "../../shared/log.ts";
import {
  createSigner,
  generateSigningKeyPair,
  type OrderRecord,
  type Reply,
  type Request,
  SignatureVerifier,
  type SignedRequest,
} from "../../shared/protocol/index.ts";
import { settle } from "../../shared/testing/drive.ts";
import { TestClock } from "../../shared/testing/test-clock.ts";
import { GatewayClient, type SignedBody } from "./gateway-client.ts";
import { GatewayRefused, RequestTimeout } from "./port.ts";
import { BUSY, type FakeCall, FakePort, ok, TIMEOUT } from "./testing/fake-port.ts";

const REQUEST_TIMEOUT_MS = 100;
const ORDER_TIMEOUT_MS = 200;
const RECONCILE_DEADLINE_MS = 2000;
const OPEN: SignedBody = { action: "OPEN", symbol: "EURUSD", side: "BUY", volume: 0.1 };

const keys = generateSigningKeyPair();
const signer = createSigner({ keyId: "inf-1", secretKey: keys.secretKey });

let clock: TestClock;
let port: FakePort;
let client: GatewayClient;

beforeEach(() => {
  clock = new TestClock();
  port = new FakePort(clock);
  client = new GatewayClient({
    port,
    signer,
    clock,
    logger: silentLogger,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    queryRetries: 2,
    orderTimeoutMs: ORDER_TIMEOUT_MS,
    reconcileDeadlineMs: RECONCILE_DEADLINE_MS,
  });
});

function filled(request: Request): Reply {
  return { ...ok(request), status: "FILLED", ticket: 7, price: 1.1, volume: 0.1 } as Reply;
}

function record(state: OrderRecord["state"], reply: Reply | null = null): OrderRecord {
  return { client_order_id: "coid-1", action: "OPEN", state, received_at: 0, reply };
}

/** Answer GET_ORDER with `order` (null: never seen); everything else by `signed`. */
function script(order: (n: number) => OrderRecord | null, signed: (call: FakeCall) => unknown) {
  let lookups = 0;
  port.answer = (call) => {
    if (call.request.action === "GET_ORDER") return ok(call.request, { order: order(lookups++) });
    return signed(call) as ReturnType<FakePort["answer"]>;
  };
}

describe("query", () => {
  test("retries a timed-out query with a fresh id, then throws the timeout", async () => {
    port.answer = () => TIMEOUT;
    const failure = await settle(clock, client.query({ action: "GET_ACCOUNT" })).catch((e) => e);
    expect(failure).toBeInstanceOf(RequestTimeout);
    const asked = port.requests("GET_ACCOUNT");
    expect(asked).toHaveLength(3);
    expect(new Set(asked.map((request) => request.id)).size).toBe(3);
    expect(port.calls.every((call) => call.timeoutMs === REQUEST_TIMEOUT_MS)).toBe(true);
  });

  test("a reply after one timeout is returned; the request carries v, id and the clock's ts", async () => {
    let calls = 0;
    port.answer = (call) => (calls++ === 0 ? TIMEOUT : ok(call.request, { server_time: 5 }));
    const reply = await settle(clock, client.query({ action: "PING" }));
    expect(reply.status).toBe("OK");
    const [first] = port.requests("PING");
    expect(first).toMatchObject({ v: 1, action: "PING", ts: clock.now() - REQUEST_TIMEOUT_MS });
  });

  test("orderRecord turns an error reply into GatewayRefused with the gateway's code", async () => {
    port.answer = (call) =>
      ({ ...ok(call.request), status: "ERROR", error_code: "RATE_LIMITED" }) as Reply;
    const failure = await settle(clock, client.orderRecord("coid-1")).catch((e) => e);
    expect(failure).toBeInstanceOf(GatewayRefused);
    expect((failure as GatewayRefused).errorCode).toBe("RATE_LIMITED");
  });
});

describe("round trips (metrics)", () => {
  test("each answered request reports its round trip by action; a timed-out one does not", async () => {
    const trips: [string, number][] = [];
    const measured = new GatewayClient({
      port,
      signer,
      clock,
      logger: silentLogger,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      queryRetries: 1,
      orderTimeoutMs: ORDER_TIMEOUT_MS,
      onRoundTrip: (action, seconds) => trips.push([action, seconds]),
    });
    let calls = 0;
    port.answer = (call) =>
      call.request.action === "GET_ACCOUNT" && calls++ === 0
        ? TIMEOUT
        : { kind: "reply", reply: filled(call.request), afterMs: 30 };
    await settle(clock, measured.query({ action: "GET_ACCOUNT" }));
    await settle(clock, measured.submit({ ...OPEN, client_order_id: "coid-1" }));
    expect(trips).toEqual([
      ["GET_ACCOUNT", 0.03],
      ["OPEN", 0.03],
    ]);
  });
});

describe("waitConnected", () => {
  test("resolves true when the session comes up, false when it does not in time", async () => {
    const up = client.waitConnected(1000);
    clock.advance(400);
    port.up();
    expect(await up).toBe(true);
    port.down();
    const down = settle(clock, client.waitConnected(1000));
    expect(await down).toBe(false);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe("submit: no blind resend", () => {
  test("an answered order is sent once, signed over exactly the bytes sent", async () => {
    port.answer = (call) => filled(call.request);
    const outcome = await settle(clock, client.submit({ ...OPEN, client_order_id: "coid-1" }));
    expect(outcome).toMatchObject({ kind: "answered", clientOrderId: "coid-1", attempts: 1 });
    expect(port.submitted).toHaveLength(1);
    const [sent] = port.submitted;
    if (sent === undefined) throw new Error("nothing sent");
    const decoded = JSON.parse(new TextDecoder().decode(sent.bytes)) as SignedRequest;
    expect(decoded).toMatchObject({
      action: "OPEN",
      client_order_id: "coid-1",
      gateway: "gtw-1",
      key_id: "inf-1",
      id: sent.request.id,
    });
    const verifier = new SignatureVerifier({
      gatewayName: "gtw-1",
      trustedKeys: new Map([["inf-1", signer.publicKey]]),
      clock,
    });
    expect(verifier.verify(sent.bytes, sent.signature, decoded)).toEqual({ ok: true });
  });

  test("a timed-out order that the gateway filled is not sent again", async () => {
    const fill = { ...filled({ id: "first" } as Request) };
    script(
      () => record("FILLED", fill),
      () => TIMEOUT,
    );
    const outcome = await settle(clock, client.submit({ ...OPEN, client_order_id: "coid-1" }));
    expect(outcome).toEqual({
      kind: "answered",
      clientOrderId: "coid-1",
      reply: fill,
      attempts: 1,
    });
    expect(port.submitted).toHaveLength(1);
    expect(port.requests("GET_ORDER")[0]).toMatchObject({ client_order_id: "coid-1" });
  });

  test("an order the gateway never saw goes again: same client_order_id, new id and signature", async () => {
    let sends = 0;
    script(
      () => null,
      (call) => (sends++ === 0 ? TIMEOUT : filled(call.request)),
    );
    const outcome = await settle(clock, client.submit({ ...OPEN, client_order_id: "coid-1" }));
    expect(outcome).toMatchObject({ kind: "answered", attempts: 2 });
    const [first, second] = port.submitted;
    if (first === undefined || second === undefined) throw new Error("expected two sends");
    expect(second.request).toMatchObject({ client_order_id: "coid-1" });
    expect(second.request.id).not.toBe(first.request.id);
    expect(Buffer.from(second.signature).equals(Buffer.from(first.signature))).toBe(false);
  });

  test("a gateway that stays silent makes the outcome UNKNOWN after one send", async () => {
    port.answer = () => TIMEOUT;
    const outcome = await settle(clock, client.submit(OPEN));
    expect(outcome.kind).toBe("unknown");
    expect(port.submitted).toHaveLength(1);
    expect(port.requests("GET_ORDER").length).toBeGreaterThan(1);
    // The reconcile deadline bounds the whole of it
    expect(clock.monotonic()).toBeLessThanOrEqual(RECONCILE_DEADLINE_MS + 400);
  });

  test("an order proved NOT_EXECUTED each time is sent at most three times", async () => {
    script(
      () => record("NOT_EXECUTED"),
      () => TIMEOUT,
    );
    const outcome = await settle(clock, client.submit({ ...OPEN, client_order_id: "coid-x" }));
    expect(outcome).toMatchObject({ kind: "unknown", attempts: 3 });
    expect(outcome.kind === "unknown" && outcome.reason).toBe("not accepted after 3 attempts");
    expect(port.submitted).toHaveLength(3);
    for (const sent of port.submitted)
      expect(sent.request).toMatchObject({ client_order_id: "coid-x" });
  });

  test("ORDER_IN_PROGRESS is settled by GET_ORDER, not by sending again", async () => {
    const fill = filled({ id: "first" } as Request);
    script(
      (n) => (n < 2 ? record("PENDING") : record("FILLED", fill)),
      (call) =>
        ({
          ...ok(call.request),
          status: "ERROR",
          error_code: "ORDER_IN_PROGRESS",
        }) as Reply,
    );
    const outcome = await settle(clock, client.submit(OPEN));
    expect(outcome).toMatchObject({ kind: "answered", reply: fill, attempts: 1 });
    expect(port.submitted).toHaveLength(1);
    expect(port.requests("GET_ORDER")).toHaveLength(3);
  });

  test("a send that could not be queued is checked with GET_ORDER before it goes again", async () => {
    let sends = 0;
    script(
      () => null,
      (call) => (sends++ === 0 ? BUSY : filled(call.request)),
    );
    const outcome = await settle(clock, client.submit(OPEN));
    expect(outcome).toMatchObject({ kind: "answered", attempts: 2 });
    expect(port.requests("GET_ORDER")).toHaveLength(1);
  });

  test("close() ends a reconciliation in progress as UNKNOWN", async () => {
    port.answer = () => TIMEOUT;
    const pending = client.submit(OPEN);
    await settle(clock, new Promise((resolve) => clock.setTimeout(() => resolve(null), 500)));
    await client.close();
    const outcome = await settle(clock, pending);
    expect(outcome.kind).toBe("unknown");
    expect(port.closed).toBe(true);
    expect(clock.monotonic()).toBeLessThan(RECONCILE_DEADLINE_MS);
  });

  test("a client without a signer refuses to send a signed action", async () => {
    const unsigned = new GatewayClient({ port, clock, logger: silentLogger });
    await expect(unsigned.submit(OPEN)).rejects.toThrow(/no signing key/);
    expect(port.calls).toHaveLength(0);
  });
});
