/**
 * Loopback ports for agents that tests and scripts start with a port written into their config
 * before they bind it (a restarted gateway must come back on the same one, agent-inf's API URL
 * is known in advance).
 *
 * Asking the kernel for port 0 and closing it is not enough: the port goes back into the
 * ephemeral range (ip_local_port_range), where the next bind to port 0 or connect() in any
 * process may take it before the agent binds it, and the kernel hands the same port out again
 * soon (measured: a repeat in 29 of 5,000 batches of ten). So the port is drawn below the
 * ephemeral range, where the kernel never assigns ports by itself, checked free by binding it,
 * and never handed out twice by this process. A port from here that nobody binds stays closed:
 * it also serves as a dead endpoint.
 */
import { readFileSync } from "node:fs";

/** The lowest port drawn: clear of the well-known services below it. */
const LOWEST = 10_000;
/** Where the kernel's own range starts where /proc cannot say (IANA dynamic ports; macOS). */
const EPHEMERAL_FALLBACK = 49_152;
const ATTEMPTS = 200;

const handedOut = new Set<number>();

function ephemeralStart(): number {
  try {
    const first = Number(
      readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").split(/\s+/)[0],
    );
    return Number.isInteger(first) && first > LOWEST ? first : EPHEMERAL_FALLBACK;
  } catch {
    return EPHEMERAL_FALLBACK;
  }
}

function canBind(port: number): boolean {
  try {
    Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } }).stop(true);
    return true;
  } catch {
    return false;
  }
}

/** A loopback port free now, outside the kernel's ephemeral range, new to this process. */
export function freePort(): number {
  const span = ephemeralStart() - LOWEST;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * span);
    if (handedOut.has(port) || !canBind(port)) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(
    `no free loopback port from ${LOWEST} to ${LOWEST + span - 1} after ${ATTEMPTS} tries`,
  );
}
