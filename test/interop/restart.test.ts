/**
 * A libzmq ROUTER restarted on the same port (research §7.2 "Reconnect"; DESIGN §8: reconnect
 * after a gateway restart ≤ 1 s): our DEALER notices the drop, reconnects with backoff, delivers
 * what was queued while the server was down, and carries on.
 */
import { afterEach, expect, test } from "bun:test";
import { eventually } from "../../scripts/harness/eventually.ts";
import { LibzmqPeer, type LibzmqPeerConfig } from "./libzmq.ts";
import { Cleanup, curveClient, curveKeys, decode, EventLog, newDealer, text } from "./support.ts";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

test("our DEALER reconnects to a restarted libzmq ROUTER and resumes, queued messages included", async () => {
  const serverKeys = curveKeys();
  const clientKeys = curveKeys();
  const config = (bind: string): LibzmqPeerConfig => ({
    type: "router",
    bind,
    echo: true,
    curve: { server: true, publicKey: serverKeys.publicZ85, secretKey: serverKeys.secretZ85 },
  });
  const first = await LibzmqPeer.start(config("tcp://127.0.0.1:0"));
  cleanup.add(first);
  const dealer = newDealer(cleanup, {
    security: curveClient(clientKeys, serverKeys.publicKey),
    reconnectIntervalMs: 50,
    reconnectIntervalMaxMs: 200,
  });
  const log = new EventLog(dealer);
  const replies: string[] = [];
  dealer.onMessage((parts) => replies.push(decode(parts[0])));
  dealer.connect(first.endpoint);
  dealer.send([text("before")]);
  await eventually(() => replies.length === 1);

  await first.close();
  await eventually(() => log.count("disconnected") === 1, { timeoutMs: 3000 });
  expect(dealer.connectedPeers).toBe(0);
  // No ready peer: this waits in the DEALER's queue (research §5.4) until one is back
  expect(dealer.send([text("while down")])).toBe(true);
  // Let a few reconnect attempts fail against the closed port first
  await eventually(() => log.count("connect_failed") >= 2, { timeoutMs: 3000 });

  const second = cleanup.add(await LibzmqPeer.start(config(first.endpoint)));
  expect(second.endpoint).toBe(first.endpoint);
  const restartedAt = performance.now();
  await eventually(() => dealer.connectedPeers === 1, { timeoutMs: 5000 });
  const reconnectMs = performance.now() - restartedAt;
  await eventually(() => replies.length === 2, { timeoutMs: 3000 });
  dealer.send([text("after")]);
  await eventually(() => replies.length === 3, { timeoutMs: 3000 });

  expect(replies).toEqual(["before", "while down", "after"]);
  expect(log.count("handshake_succeeded")).toBe(2);
  // backoff is capped at 200 ms: generous bound, not a benchmark
  expect(reconnectMs).toBeLessThan(2000);
}, 20_000);
