/**
 * A raw TCP client for tests that must speak below the ZMTP layer: send exact bytes, see what
 * comes back, and learn when the server closes. Loopback only.
 */
import type { Socket } from "bun";

export class RawClient {
  readonly received: Uint8Array[] = [];
  closed = false;
  #socket: Socket<undefined> | undefined;
  #closedWaiters: Array<() => void> = [];

  static async connect(port: number, host = "127.0.0.1"): Promise<RawClient> {
    const client = new RawClient();
    client.#socket = await Bun.connect({
      hostname: host,
      port,
      socket: {
        binaryType: "uint8array",
        data: (_socket, chunk) => {
          client.received.push(chunk);
        },
        close: () => client.#markClosed(),
        error: () => client.#markClosed(),
      },
    });
    return client;
  }

  get bytes(): Uint8Array {
    return Buffer.concat(this.received);
  }

  write(bytes: Uint8Array): void {
    this.#socket?.write(bytes);
  }

  end(): void {
    this.#socket?.end();
  }

  /** Resolves true when the server closes the connection within `timeoutMs`, false otherwise. */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    if (this.closed) return true;
    return Promise.race([
      new Promise<boolean>((resolve) => this.#closedWaiters.push(() => resolve(true))),
      Bun.sleep(timeoutMs).then(() => this.closed),
    ]);
  }

  destroy(): void {
    this.#socket?.terminate();
  }

  #markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    for (const wake of this.#closedWaiters) wake();
    this.#closedWaiters = [];
  }
}
