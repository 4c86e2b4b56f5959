/**
 * `agent-inf ping` before its first PING: the session wait reports why a gateway could not be
 * reached from the session's status events (a refused key), never from log text.
 */
import { describe, expect, test } from "bun:test";
import { silentLogger } from "../../shared/log.ts";
import { settle } from "../../shared/testing/drive.ts";
import { TestClock } from "../../shared/testing/test-clock.ts";
import { GatewayClient } from "../gateway/gateway-client.ts";
import { FakePort } from "../gateway/testing/fake-port.ts";
import { reachGateway } from "./ping.ts";

function rig() {
  const clock = new TestClock();
  const port = new FakePort(clock, "gtw-1");
  const client = new GatewayClient({ port, clock, logger: silentLogger });
  return { clock, port, client };
}

describe("reachGateway", () => {
  test("connects, and answers nothing once the session is up", async () => {
    const { clock, port, client } = rig();
    const waiting = reachGateway(client, 1000);
    expect(port.connects).toBe(1);
    clock.advance(50);
    port.up();
    expect(await waiting).toBeUndefined();
  });

  test("names the handshake failure the session reported, with its code", async () => {
    const { clock, port, client } = rig();
    const waiting = reachGateway(client, 1000);
    clock.advance(100);
    port.status({
      type: "handshake_failed",
      code: "AUTH_REFUSED",
      reason: "curve: server refused the client key",
    });
    expect(await settle(clock, waiting)).toBe(
      "cannot reach gateway gtw-1 at tcp://127.0.0.1:1 within 1000 ms: handshake failed (AUTH_REFUSED): curve: server refused the client key",
    );
  });

  test("without a status event, says only that the gateway could not be reached", async () => {
    const { clock, port, client } = rig();
    const waiting = reachGateway(client, 500);
    port.down("connection refused");
    expect(await settle(clock, waiting)).toBe(
      "cannot reach gateway gtw-1 at tcp://127.0.0.1:1 within 500 ms",
    );
    expect(clock.pendingTimers).toBe(0);
  });
});
