/**
 * Two pinned inference hosts on one gateway process, one of them hostile (issue 12 §4, §6): it
 * must not read the other's orders, take its client_order_ids, send orders signed with its key,
 * take over its routing identity, hold every connection or subscription slot, nor stay
 * connected once its key is revoked. Each test prints one `[hostile]` line with what it saw.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { copyFileSync, rmSync } from "node:fs";
import { spawnAgent } from "../../scripts/harness/agents.ts";
import { eventually } from "../../scripts/harness/eventually.ts";
import type { TestClient } from "../../scripts/harness/test-client.ts";
import type { OrderReply, TradeReply } from "../../shared/protocol/index.ts";
import { Cleanups } from "../faults/support.ts";
import { twoHosts } from "./support.ts";

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

const open = (extra: Record<string, unknown> = {}) =>
  ({ action: "OPEN", symbol: "EURUSD", side: "BUY", volume: 0.01, ...extra }) as const;

async function positions(client: TestClient): Promise<number> {
  const reply = (await client.send({ action: "GET_POSITIONS" })) as unknown as {
    positions: unknown[];
  };
  return reply.positions.length;
}

describe("isolation between pinned clients (issue 12 §4)", () => {
  test("client_order_ids and GET_ORDER are scoped per client", async () => {
    const hosts = await twoHosts(cleanups);
    const a = hosts.client();
    const b = hosts.client({ keys: hosts.second });
    const first = (await a.send(open({ client_order_id: "order-1" }))) as TradeReply;
    expect(first.status).toBe("FILLED");

    // B cannot read A's order...
    const peek = (await b.send({ action: "GET_ORDER", client_order_id: "order-1" })) as OrderReply;
    expect(peek.order).toBeNull();
    // ...nor take its id: B's order-1 is B's own, executed once
    const own = (await b.send(open({ client_order_id: "order-1", volume: 0.02 }))) as TradeReply;
    expect(own).toMatchObject({ status: "FILLED", volume: 0.02 });
    expect(own.duplicate).toBeUndefined();
    // A's retry still answers A's fill
    const retry = (await a.send(open({ client_order_id: "order-1" }))) as TradeReply;
    expect(retry).toMatchObject({ status: "FILLED", duplicate: true, ticket: first.ticket });
    const mine = (await a.send({ action: "GET_ORDER", client_order_id: "order-1" })) as OrderReply;
    expect(mine.order?.reply).toMatchObject({ volume: 0.01 });
    expect(await positions(a)).toBe(2);
    console.log(
      `[hostile] scoping ${JSON.stringify({ b_reads_a: peek.order, b_same_id: own.status, a_retry_duplicate: retry.duplicate })}`,
    );
  }, 30_000);

  test("a host cannot carry orders signed with another host's key", async () => {
    const hosts = await twoHosts(cleanups);
    // B's CURVE connection, A's signing key (say B stole it)
    const b = hosts.client({ keys: hosts.second, signWith: hosts.deployment.inferenceKeys });
    const reply = await b.send(open());
    expect(reply).toMatchObject({ status: "ERROR", error_code: "UNKNOWN_KEY" });
    expect(reply.error_msg).toContain("key_id inf-1 is not bound to client inf-2");
    expect(await positions(b)).toBe(0);
    console.log(`[hostile] key binding ${JSON.stringify({ code: reply.error_code })}`);
  }, 30_000);

  test("a routing identity is not handed over to a connection with another key", async () => {
    const hosts = await twoHosts(cleanups);
    const a = hosts.client({ identity: "desk" });
    expect((await a.send({ action: "PING" })).status).toBe("OK");
    const b = hosts.client({ keys: hosts.second, identity: "desk" });
    const stolen = await b.send({ action: "PING" }, 1500).catch((error: Error) => error.message);
    expect(stolen).toMatch(/no reply/);
    // A's replies still reach A
    for (let i = 0; i < 5; i++) expect((await a.send({ action: "PING" })).status).toBe("OK");
    expect(hosts.gateway.log()).toContain(
      "its routing id is held by a connection with another key",
    );
    console.log(`[hostile] routing id ${JSON.stringify({ b: stolen, a_pings: 5 })}`);
  }, 30_000);

  test("one client cannot take every subscription slot", async () => {
    const hosts = await twoHosts(cleanups, {
      streaming: { max_subscribers: 4, max_subscribers_per_client: 2 },
    });
    const bs = Array.from({ length: 4 }, () => hosts.client({ keys: hosts.second }));
    const b: string[] = [];
    for (const client of bs) {
      const reply = await client.send({ action: "SUBSCRIBE", symbols: ["EURUSD"] });
      b.push(reply.error_code ?? reply.status);
    }
    expect(b).toEqual(["OK", "OK", "TOO_MANY_SUBSCRIPTIONS", "TOO_MANY_SUBSCRIPTIONS"]);
    const a = hosts.client();
    expect((await a.send({ action: "SUBSCRIBE", symbols: ["EURUSD"] })).status).toBe("OK");
    console.log(`[hostile] subscription share ${JSON.stringify({ b, a: "OK" })}`);
  }, 30_000);

  test("one client cannot take every connection slot: its newest replaces its oldest", async () => {
    const hosts = await twoHosts(cleanups, { transport: { max_connections_per_client: 3 } });
    const bs = Array.from({ length: 6 }, () => hosts.client({ keys: hosts.second }));
    await Promise.all(
      bs.map((client) => client.send({ action: "PING" }, 3000).catch(() => undefined)),
    );
    const a = hosts.client();
    expect((await a.send(open())).status).toBe("FILLED");
    await eventually(() => Number(hosts.status()["clients_connected"]) <= 3 + 1, {
      timeoutMs: 5000,
    });
    expect(hosts.gateway.log()).toContain("inf-2 opened more than 3 connections");
    console.log(
      `[hostile] connection share ${JSON.stringify({ b_opened: 6, connected: hosts.status()["clients_connected"], a: "FILLED" })}`,
    );
  }, 30_000);
});

describe("revoking a client's key (issue 12 §6)", () => {
  test("removing its key file closes its session within seconds; it cannot reconnect; the other keeps trading; reload brings it back", async () => {
    const hosts = await twoHosts(cleanups);
    const a = hosts.client();
    const b = hosts.client({ keys: hosts.second });
    expect((await b.send(open())).status).toBe("FILLED");
    expect((await a.send(open())).status).toBe("FILLED");

    const removedAt = performance.now();
    rmSync(hosts.secondKeyFile);
    await eventually(() => !b.connected, { timeoutMs: 10_000 });
    const closedMs = performance.now() - removedAt;
    // Its reconnect is refused during the handshake (ERROR 400: no retry)
    await eventually(
      () => b.events.some((e) => e.type === "handshake_failed" && e.code === "ERROR_RECEIVED"),
      { timeoutMs: 5000 },
    );
    const refused = await b.send(open(), 1000).catch((error: Error) => error.message);
    expect(refused).toMatch(/no reply/);
    expect((await a.send(open())).status).toBe("FILLED");
    expect(hosts.gateway.log()).toContain("Authorized client keys changed");

    // Put it back and reload explicitly: a new connection of inf-2 gets in
    copyFileSync(hosts.second.curvePublicPath, hosts.secondKeyFile);
    const reload = spawnAgent("agent-gtw", ["reload", "--config", hosts.deployment.gtwConfigPath]);
    expect(await reload.exited()).toBe(0);
    const back = hosts.client({ keys: hosts.second });
    expect((await back.send({ action: "PING" })).status).toBe("OK");
    console.log(
      `[hostile] revocation ${JSON.stringify({ session_closed_ms: Math.round(closedMs), reconnect: "refused (ERROR 400)", other_client: "FILLED", after_reload: "OK" })}`,
    );
    expect(closedMs).toBeLessThan(6000);
  }, 40_000);
});
