/**
 * close() must leave nothing behind (house style §6, research §8 "no leaks"): no live timer
 * (handshake, heartbeat, reconnect, connect timeout) and no listening port, whatever state the
 * connections were in, and a closed ROUTER's port can be bound again straight away.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { eventually } from "../../scripts/harness/eventually.ts";
import { RawZmtp } from "../../scripts/harness/raw-zmtp.ts";
import { DealerSocket, RouterSocket } from "../../shared/net/index.ts";
import { TrackingClock } from "../../shared/testing/tracking-clock.ts";
import { encodeGreeting } from "../../shared/zmtp/greeting.ts";
import {
  Cleanup,
  curveClient,
  curveKeys,
  curveServer,
  decode,
  EventLog,
  portOf,
  text,
} from "../interop/support.ts";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

async function portRefuses(port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    socket.terminate();
    return false;
  } catch {
    return true;
  }
}

describe("close() and restart", () => {
  test("three close/restart cycles on one port leave no live timer and no listener", async () => {
    const serverKeys = curveKeys();
    const clientKeys = curveKeys();
    const clock = new TrackingClock();
    let endpoint = "tcp://127.0.0.1:0";

    for (let cycle = 0; cycle < 3; cycle++) {
      const router = new RouterSocket({
        security: curveServer(serverKeys, [clientKeys]),
        clock,
        heartbeatIntervalMs: 50,
        handshakeTimeoutMs: 5000,
      });
      router.onMessage((message) => router.send(message.routingId, message.parts));
      endpoint = await router.bind(endpoint);
      const port = portOf(endpoint);

      const dealer = new DealerSocket({
        security: curveClient(clientKeys, serverKeys.publicKey),
        clock,
        heartbeatIntervalMs: 50,
        reconnectIntervalMs: 20,
        reconnectIntervalMaxMs: 40,
      });
      const replies: string[] = [];
      dealer.onMessage((parts) => replies.push(decode(parts[0])));
      dealer.connect(endpoint);
      // a second target that refuses: its reconnect timer is live at close()
      const dead = new RouterSocket({ security: { mechanism: "NULL" } });
      const deadEndpoint = await dead.bind("tcp://127.0.0.1:0");
      await dead.close();
      dealer.connect(deadEndpoint);
      dealer.send([text(`cycle ${cycle}`)]);
      await eventually(() => replies.length === 1);

      // a raw connection parked mid-handshake: its handshake timer is live at close()
      const raw = cleanup.add(await RawZmtp.connect(port));
      raw.write(encodeGreeting("CURVE", false));
      await raw.greeting();
      expect(clock.liveTimers).toBeGreaterThan(0);

      await dealer.close();
      await router.close();

      expect(replies).toEqual([`cycle ${cycle}`]);
      expect(clock.liveTimers).toBe(0);
      expect(await raw.waitClosed(1000)).toBe(true);
      expect(await portRefuses(port)).toBe(true);
    }
  });

  test("close() straight after connect() leaves no connect timer behind", async () => {
    const clock = new TrackingClock();
    const router = cleanup.add(new RouterSocket({ security: { mechanism: "NULL" } }));
    const endpoint = await router.bind("tcp://127.0.0.1:0");
    const dealer = new DealerSocket({ security: { mechanism: "NULL" }, clock });
    const log = new EventLog(dealer);
    dealer.connect(endpoint);
    await dealer.close();

    expect(clock.liveTimers).toBe(0);
    // and the connection that was in flight never comes to life
    await Bun.sleep(100);
    expect(log.of("connected")).toHaveLength(0);
    expect(router.connectedPeers).toBe(0);
  });
});
