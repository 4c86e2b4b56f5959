/**
 * Helpers shared by the interop and robustness suites: fresh CURVE key pairs (raw and Z85), our
 * sockets configured as the agents configure them, an event recorder, and one cleanup list that
 * every test empties in afterEach so no socket, subprocess or raw connection outlives its test.
 */
import { generateKeyPair } from "../../shared/curve/box.ts";
import { z85Encode } from "../../shared/curve/z85.ts";
import {
  DealerSocket,
  RouterSocket,
  type Security,
  type SocketEvent,
  type SocketOptions,
} from "../../shared/net/index.ts";
import type { AuthResult } from "../../shared/zmtp/mechanism.ts";

export interface CurveKeys {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
  readonly publicZ85: string;
  readonly secretZ85: string;
}

/** A fresh long-term key pair per test (house style §6). */
export function curveKeys(): CurveKeys {
  const pair = generateKeyPair();
  return {
    publicKey: pair.publicKey,
    secretKey: pair.secretKey,
    publicZ85: z85Encode(pair.publicKey),
    secretZ85: z85Encode(pair.secretKey),
  };
}

/**
 * Server-side CURVE security with an allow-list, as agent-gtw configures it: a listed key gets
 * 200, anything else `refusal` (400 by default, so a libzmq client receives ERROR "400").
 */
export function curveServer(
  server: CurveKeys,
  allowed: readonly CurveKeys[],
  refusal: 300 | 400 | 500 = 400,
): Security {
  const allow = new Set(allowed.map((keys) => keys.publicZ85));
  return {
    mechanism: "CURVE",
    role: "server",
    publicKey: server.publicKey,
    secretKey: server.secretKey,
    authorize: (request): AuthResult =>
      allow.has(z85Encode(request.publicKey))
        ? { status: 200, userId: "allowed" }
        : { status: refusal, reason: "key not on the allow-list" },
  };
}

export function curveClient(client: CurveKeys, serverPublicKey: Uint8Array): Security {
  return {
    mechanism: "CURVE",
    role: "client",
    publicKey: client.publicKey,
    secretKey: client.secretKey,
    serverKey: serverPublicKey,
  };
}

export const text = (value: string): Uint8Array => new TextEncoder().encode(value);
export const decode = (bytes: Uint8Array | undefined): string =>
  bytes === undefined ? "<missing>" : new TextDecoder().decode(bytes);

/** Deterministic, non-repeating filler so a corrupted or shifted byte is detected. */
export function pattern(length: number, seed = 7): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Port of a `tcp://host:port` endpoint. */
export function portOf(endpoint: string): number {
  return Number(endpoint.slice(endpoint.lastIndexOf(":") + 1));
}

export interface Closeable {
  close(): unknown;
}

/** Everything a test opened, closed in reverse order by afterEach (failures do not stop it). */
export class Cleanup {
  readonly #items: Closeable[] = [];

  add<T extends Closeable>(item: T): T {
    this.#items.push(item);
    return item;
  }

  async run(): Promise<void> {
    for (const item of this.#items.splice(0).reverse()) {
      try {
        await item.close();
      } catch {
        // best effort: the next item must still be closed
      }
    }
  }
}

/** Records a socket's events; `of(type)` narrows them. */
export class EventLog {
  readonly events: SocketEvent[] = [];

  constructor(socket: { on(listener: (event: SocketEvent) => void): unknown }) {
    socket.on((event) => this.events.push(event));
  }

  of<T extends SocketEvent["type"]>(type: T): Extract<SocketEvent, { type: T }>[] {
    return this.events.filter(
      (event): event is Extract<SocketEvent, { type: T }> => event.type === type,
    );
  }

  count(type: SocketEvent["type"]): number {
    return this.of(type).length;
  }
}

export function newRouter(cleanup: Cleanup, options: SocketOptions): RouterSocket {
  return cleanup.add(new RouterSocket(options));
}

export function newDealer(cleanup: Cleanup, options: SocketOptions): DealerSocket {
  return cleanup.add(new DealerSocket(options));
}
