import { afterEach, describe, expect, test } from "bun:test";
import {
  createSigner,
  encodeRequest,
  generateSigningKeyPair,
} from "../../shared/protocol/index.ts";
import { createHarness, type Harness } from "../testing/harness.ts";

const harnesses: Harness[] = [];
afterEach(async () => {
  for (const harness of harnesses.splice(0)) await harness.close();
});

async function harness(): Promise<Harness> {
  const built = await createHarness();
  harnesses.push(built);
  return built;
}

const buy = { action: "OPEN", symbol: "EURUSD", side: "BUY", volume: 0.1 };
const text = (value: string) => new TextEncoder().encode(value);

describe("gateway queries", () => {
  test("PING reports the gateway, its clock, the trading state and the MT5 link", async () => {
    const h = await harness();
    const reply = await h.send({ action: "PING" });
    expect(reply).toMatchObject({
      status: "OK",
      gateway: "gtw-test",
      server_time: h.clock.now(),
      trading_state: "ACTIVE",
      mt5: { link: "UP", backend: "sim", server_offset_ms: 0 },
    });
  });

  test("PING states the signature window the gateway checks orders against", async () => {
    const h = await harness();
    const reply = await h.send({ action: "PING" });
    // The harness's verifier runs on the protocol's defaults; the app passes its `signatures`
    expect(reply).toMatchObject({ signature_window: { ttl_ms: 2000, max_skew_ms: 500 } });
    // …and the name it knows this client by, which scopes the client's broker tags
    expect(reply).toMatchObject({ client: "inf-1" });
  });

  test("GET_ACCOUNT, GET_POSITIONS, GET_SYMBOL_INFO answer from the broker", async () => {
    const h = await harness();
    await h.send(buy);
    const account = await h.send({ action: "GET_ACCOUNT" });
    expect(account).toMatchObject({ status: "OK", account: { currency: "USD", leverage: 100 } });
    const positions = await h.send({ action: "GET_POSITIONS", symbol: "EURUSD" });
    expect((positions as unknown as { positions: unknown[] }).positions).toHaveLength(1);
    expect(await h.send({ action: "GET_POSITIONS", symbol: "GBPUSD" })).toMatchObject({
      positions: [],
    });
    const info = await h.send({ action: "GET_SYMBOL_INFO", symbol: "EURUSD" });
    expect(info).toMatchObject({ status: "OK", symbol_info: { symbol: "EURUSD", digits: 5 } });
    expect(await h.send({ action: "GET_SYMBOL_INFO", symbol: "NOPE" })).toMatchObject({
      error_code: "UNKNOWN_SYMBOL",
    });
  });

  test("GET_ORDER says null for an id never seen", async () => {
    const h = await harness();
    expect(await h.send({ action: "GET_ORDER", client_order_id: "never" })).toMatchObject({
      status: "OK",
      order: null,
    });
  });
});

describe("gateway refusals before anything is journaled", () => {
  test("malformed bytes get INVALID_REQUEST naming the problem, echoing the id when readable", async () => {
    const h = await harness();
    const garbage = await h.gateway.handle([text("{not json")], "inf-1");
    expect(garbage).toMatchObject({ status: "ERROR", error_code: "INVALID_REQUEST", id: "" });
    const bad = await h.gateway.handle(
      [text('{"v":1,"id":"abc","action":"PING","ts":1,"extra":2}')],
      "inf-1",
    );
    expect(bad).toMatchObject({ error_code: "INVALID_REQUEST", id: "abc" });
    expect(bad.error_msg).toContain("extra");
    const unknown = await h.gateway.handle(
      [text('{"v":1,"id":"abc","action":"FLY","ts":1}')],
      "inf-1",
    );
    expect(unknown.error_code).toBe("UNKNOWN_ACTION");
  });

  test.each([
    [
      "without a signature frame",
      (h: Harness) => h.gateway.handle(h.frames(buy).frames.slice(0, 1), "x"),
      "MISSING_SIGNATURE",
    ],
    [
      "with a flipped signature byte",
      (h: Harness) => {
        const { frames } = h.frames(buy);
        const signature = new Uint8Array(frames[1] as Uint8Array);
        signature[10] = (signature[10] as number) ^ 1;
        return h.gateway.handle([frames[0] as Uint8Array, signature], "x");
      },
      "BAD_SIGNATURE",
    ],
    [
      "signed by a key the gateway does not trust",
      (h: Harness) =>
        h.send(
          { ...buy },
          {
            signer: createSigner({ keyId: "inf-1", secretKey: generateSigningKeyPair().secretKey }),
          },
        ),
      "BAD_SIGNATURE",
    ],
    [
      "with an unknown key id",
      (h: Harness) =>
        h.send(
          { ...buy },
          {
            signer: createSigner({
              keyId: "stranger",
              secretKey: generateSigningKeyPair().secretKey,
            }),
          },
        ),
      "UNKNOWN_KEY",
    ],
    [
      "for another gateway",
      (h: Harness) => h.send({ ...buy, gateway: "gtw-other" }),
      "WRONG_GATEWAY",
    ],
    [
      "older than the TTL",
      (h: Harness) => h.send({ ...buy, ts: h.clock.now() - 10_000 }),
      "EXPIRED",
    ],
  ])("a signed order %s is refused", async (_, send, code) => {
    const h = await harness();
    const reply = await send(h);
    expect(reply).toMatchObject({ status: "ERROR", error_code: code });
    expect(h.backend.calls).toBe(0);
    expect(h.journal.size).toBe(0);
  });

  test("the exact same signed bytes sent twice are REPLAYED the second time", async () => {
    const h = await harness();
    const { frames } = h.frames(buy);
    expect((await h.gateway.handle(frames, "x")).status).toBe("FILLED");
    expect(await h.gateway.handle(frames, "x")).toMatchObject({ error_code: "REPLAYED" });
    expect(h.backend.calls).toBe(1);
  });

  test("bytes changed after signing are refused even when they still parse", async () => {
    const h = await harness();
    const { frames, request } = h.frames(buy);
    const tampered = encodeRequest({ ...request, volume: 5 } as typeof request);
    expect(await h.gateway.handle([tampered, frames[1] as Uint8Array], "x")).toMatchObject({
      error_code: "BAD_SIGNATURE",
    });
  });

  test("while draining for shutdown, signed actions get SHUTTING_DOWN and queries still work", async () => {
    const h = await harness();
    h.gateway.drain();
    expect(await h.send(buy)).toMatchObject({ status: "ERROR", error_code: "SHUTTING_DOWN" });
    expect((await h.send({ action: "PING" })).status).toBe("OK");
  });
});
