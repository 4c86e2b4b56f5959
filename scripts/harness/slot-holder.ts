/**
 * The keyless attacker of issue 12 §3: holds a server's pre-authentication slots from several
 * loopback addresses (127.0.0.2, 127.0.0.3, ...: Linux routes all of 127/8 to lo), a fixed number
 * of connections per address, each sending the ZMTP greeting and nothing more, and opening a new
 * one the moment one is closed (by the server's deadline, an eviction or a refusal), so it runs
 * at whatever rate the server lets it. It needs no key. Used by test/robustness/starvation.test.ts
 * in-process, and as a process by test/hostile/preauth.test.ts (scripts/bench-e2e/slot-holder.ts).
 * Loopback only; stop() ends every connection and no timer outlives it.
 */
import * as net from "node:net";
import { encodeGreeting } from "../../shared/zmtp/greeting.ts";

export interface SlotHolderOptions {
  readonly port: number;
  /** Source addresses to connect from (each must be on lo). */
  readonly fromAddresses: readonly string[];
  readonly perAddress: number;
  /** Send the CURVE greeting (default) or nothing at all. */
  readonly send?: "greeting" | "nothing";
}

export interface SlotHolderStats {
  /** Connections the kernel completed. */
  opened: number;
  /** ... and the server then closed (deadline, eviction, refusal). */
  closedByServer: number;
  /** Connect attempts that failed. */
  failed: number;
  /** Open right now. */
  open: number;
}

export interface SlotHolder {
  readonly stats: SlotHolderStats;
  stop(): void;
}

export function startSlotHolder(options: SlotHolderOptions): SlotHolder {
  const stats: SlotHolderStats = { opened: 0, closedByServer: 0, failed: 0, open: 0 };
  const sockets = new Set<net.Socket>();
  const greeting = encodeGreeting("CURVE", false);
  let stopped = false;

  const open = (from: string) => {
    if (stopped) return;
    const socket = net.connect({ host: "127.0.0.1", port: options.port, localAddress: from });
    sockets.add(socket);
    let connected = false;
    socket.on("connect", () => {
      connected = true;
      stats.opened += 1;
      stats.open += 1;
      if (options.send !== "nothing") socket.write(greeting);
    });
    socket.on("data", () => {
      // The server's greeting: read and ignored, the slot is what matters
    });
    socket.on("error", () => {
      // Reported through close
    });
    socket.on("close", () => {
      sockets.delete(socket);
      if (connected) {
        stats.open -= 1;
        if (!stopped) stats.closedByServer += 1;
      } else stats.failed += 1;
      // Full rate: take the slot again at once (a failed connect waits a little, it is not a slot)
      if (!stopped) setTimeout(() => open(from), connected ? 0 : 5);
    });
  };

  for (const from of options.fromAddresses) for (let i = 0; i < options.perAddress; i++) open(from);

  return {
    stats,
    stop() {
      stopped = true;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
  };
}

/** `count` loopback source addresses from 127.0.0.2 on (127.0.0.1 stays for the real client). */
export function attackerAddresses(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `127.0.0.${i + 2}`);
}
