/**
 * agent-gtw as a real process on the simulated MT5, driven over CURVE on loopback: by our own
 * client code, and by real libzmq (zeromq.js under Node) as any third-party binding would.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { type RunningGateway, spawnAgent, startGateway } from "../../scripts/harness/agents.ts";
import { createDeployment, type Deployment } from "../../scripts/harness/deployment.ts";
import { eventually } from "../../scripts/harness/eventually.ts";
import { type RequestBody, TestClient } from "../../scripts/harness/test-client.ts";
import { generateKeyPair } from "../../shared/curve/box.ts";
import { z85Encode } from "../../shared/curve/z85.ts";
import {
  encodeRequest,
  newRequestId,
  type OrderRecord,
  type PingReply,
  parseReply,
  type Reply,
  type TradeReply,
} from "../../shared/protocol/index.ts";
import { LibzmqPeer } from "../interop/libzmq.ts";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function gateway(
  options: Parameters<typeof createDeployment>[0] = {},
): Promise<{ deployment: Deployment; gtw: RunningGateway }> {
  const deployment = createDeployment(options);
  cleanups.push(() => deployment.remove());
  const gtw = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
  cleanups.push(() => gtw.kill());
  return { deployment, gtw };
}

function client(endpoint: string, deployment: Deployment): TestClient {
  const built = new TestClient(endpoint, deployment);
  cleanups.push(() => built.close());
  return built;
}

describe("agent-gtw over CURVE", () => {
  test("every action works end to end", async () => {
    const { deployment, gtw } = await gateway();
    const c = client(gtw.endpoint, deployment);
    expect(await c.send({ action: "PING" })).toMatchObject({
      status: "OK",
      gateway: deployment.gatewayName,
      mt5: { link: "UP" },
    });
    expect(await c.send({ action: "GET_ACCOUNT" })).toMatchObject({
      status: "OK",
      account: { currency: "USD" },
    });
    expect(await c.send({ action: "GET_SYMBOL_INFO", symbol: "USDJPY" })).toMatchObject({
      symbol_info: { digits: 3 },
    });

    const open = (await c.send({
      action: "OPEN",
      symbol: "EURUSD",
      side: "SELL",
      volume: 0.2,
      comment: "e2e",
    })) as TradeReply;
    expect(open).toMatchObject({ status: "FILLED", volume: 0.2 });
    const ticket = open.ticket as number;
    expect(await c.send({ action: "GET_POSITIONS" })).toMatchObject({
      positions: [{ ticket, side: "SELL", volume: 0.2 }],
    });

    const modify = await c.send({ action: "MODIFY", ticket, sl: 1.2, tp: null });
    expect(modify).toMatchObject({ status: "FILLED", ticket, sl: 1.2, tp: null });
    const partial = await c.send({ action: "CLOSE", ticket, volume: 0.05 });
    expect(partial).toMatchObject({
      status: "FILLED",
      volume: 0.05,
      remaining_volume: 0.15,
      ticket,
    });
    const full = await c.send({ action: "CLOSE", ticket });
    expect(full).toMatchObject({ status: "FILLED", remaining_volume: 0 });
    expect(await c.send({ action: "GET_POSITIONS" })).toMatchObject({ positions: [] });
    expect(
      await c.send({ action: "GET_ORDER", client_order_id: open.client_order_id }),
    ).toMatchObject({
      order: { state: "FILLED", reply: { ticket } },
    });
    expect(await gtw.stop()).toBe(0);
  });

  test("a libzmq DEALER with a pinned key gets a well-formed PING reply", async () => {
    const { deployment, gtw } = await gateway();
    const keys = readFileSync(deployment.inferenceKeys.curveSecretPath, "utf8");
    const publicKey = /public-key = "([^"]+)"/.exec(keys)?.[1] as string;
    const secretKey = /secret-key = "([^"]+)"/.exec(keys)?.[1] as string;
    const peer = await LibzmqPeer.start({
      type: "dealer",
      connect: gtw.endpoint,
      curve: { publicKey, secretKey, serverKey: deployment.gatewayKeys.publicKey },
    });
    cleanups.push(() => peer.close());
    const id = newRequestId();
    peer.send([encodeRequest({ v: 1, id, action: "PING", ts: Date.now() })]);
    const [message] = await peer.waitForMessages(1, 10_000);
    expect(message).toHaveLength(1);
    const parsed = parseReply(message?.[0] as Uint8Array, "PING");
    expect(parsed.ok).toBe(true);
    expect((parsed as { reply: Reply }).reply).toMatchObject({
      id,
      status: "OK",
      gateway: deployment.gatewayName,
    });
  });

  test("a libzmq client with an unlisted key is refused with ERROR 400, stops retrying, and is logged", async () => {
    const { deployment, gtw } = await gateway();
    const stranger = generateKeyPair();
    const peer = await LibzmqPeer.start({
      type: "dealer",
      connect: gtw.endpoint,
      reconnectInterval: 100,
      curve: {
        publicKey: z85Encode(stranger.publicKey),
        secretKey: z85Encode(stranger.secretKey),
        serverKey: deployment.gatewayKeys.publicKey,
      },
    });
    cleanups.push(() => peer.close());
    const refusal = await peer.waitFor(
      (record) => record["type"] === "handshake:error:auth",
      10_000,
    );
    expect((refusal["error"] as { status: number }).status).toBe(400);
    await Bun.sleep(800);
    expect(peer.socketEvents("handshake:error:auth")).toHaveLength(1);
    expect(peer.socketEvents("connect:retry")).toHaveLength(0);
    await eventually(() =>
      gtw.log().includes(`Refused client key key=${z85Encode(stranger.publicKey)}`),
    );
  });

  test("the operator halts a running gateway with `agent-gtw state HALTED`, and it survives a restart", async () => {
    const { deployment, gtw } = await gateway();
    const c = client(gtw.endpoint, deployment);
    const halt = spawnAgent("agent-gtw", [
      "state",
      "HALTED",
      "--reason",
      "news",
      "--config",
      deployment.gtwConfigPath,
    ]);
    expect(await halt.exited()).toBe(0);
    await eventually(
      async () => ((await c.send({ action: "PING" })) as PingReply).trading_state === "HALTED",
      {
        timeoutMs: 5000,
      },
    );
    expect(
      await c.send({ action: "OPEN", symbol: "EURUSD", side: "BUY", volume: 0.1 }),
    ).toMatchObject({
      error_code: "TRADING_HALTED",
    });
    await gtw.stop();
    const again = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
    cleanups.push(() => again.kill());
    const c2 = client(again.endpoint, deployment);
    expect(((await c2.send({ action: "PING" })) as PingReply).trading_state).toBe("HALTED");
  });

  test("killed with SIGKILL mid-stream and restarted, no order is lost or executed twice", async () => {
    // One gateway on this state at a time (the state folder is locked)
    const deployment = createDeployment();
    cleanups.push(() => deployment.remove());
    let gtw = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
    cleanups.push(() => gtw.kill());
    const sent = new Map<string, RequestBody & { client_order_id: string }>();
    const answered = new Map<string, Reply>();
    let c = new TestClient(gtw.endpoint, deployment);
    // Fire orders without waiting, kill the gateway while they are in flight.
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < 60; i++) {
      const coid = `crash-${i}`;
      const body = {
        action: "OPEN",
        symbol: "EURUSD",
        side: "BUY",
        volume: 0.01,
        client_order_id: coid,
      } as const;
      sent.set(coid, body);
      inFlight.push(
        c.send(body, 3000).then(
          (reply) => void answered.set(coid, reply),
          () => undefined,
        ),
      );
      if (i === 30) await gtw.kill();
    }
    await Promise.all(inFlight);
    await c.close();
    gtw = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
    c = client(gtw.endpoint, deployment);
    // What a careful client does after losing replies: ask, and re-send only what was never seen.
    for (const [coid, body] of sent) {
      if (answered.has(coid)) continue;
      const order = (
        (await c.send({ action: "GET_ORDER", client_order_id: coid })) as {
          order: OrderRecord | null;
        }
      ).order;
      if (
        order !== null &&
        order.reply !== null &&
        (order.state === "FILLED" || order.state === "REJECTED")
      ) {
        answered.set(coid, order.reply);
      } else {
        // Never seen, or proved not executed: the same intent with the same id, freshly signed.
        expect(order === null || order.state === "NOT_EXECUTED").toBe(true);
        answered.set(coid, await c.send(body));
      }
    }
    const filled = [...answered.values()].filter((reply) => reply.status === "FILLED").length;
    expect(answered.size).toBe(60);
    const positions = (await c.send({ action: "GET_POSITIONS" })) as unknown as {
      positions: { comment: string }[];
    };
    expect(positions.positions).toHaveLength(filled);
    expect(new Set(positions.positions.map((p) => p.comment)).size).toBe(filled);
    expect(filled).toBe(60);
  });
});
