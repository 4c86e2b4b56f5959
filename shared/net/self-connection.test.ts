/**
 * isSelfConnection on real loopback sockets: one the kernel connected to itself (simultaneous
 * open, forced here by binding the local port we dial) and an ordinary one to a listener.
 */
import { afterEach, describe, expect, test } from "bun:test";
import net from "node:net";
import { freePort } from "../../scripts/harness/free-port.ts";
import { isSelfConnection } from "./socket-core.ts";

const sockets: net.Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
});

function connected(options: net.NetConnectOpts): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(options);
    sockets.push(socket);
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
  });
}

const addresses = (socket: net.Socket) => ({
  localAddress: socket.localAddress ?? "",
  localPort: socket.localPort ?? 0,
  remoteAddress: socket.remoteAddress ?? "",
  remotePort: socket.remotePort ?? 0,
});

describe("isSelfConnection", () => {
  test("a socket the kernel connected to itself", async () => {
    const port = freePort();
    const socket = await connected({
      host: "127.0.0.1",
      port,
      localAddress: "127.0.0.1",
      localPort: port,
    });
    expect(addresses(socket)).toEqual({
      localAddress: "127.0.0.1",
      localPort: port,
      remoteAddress: "127.0.0.1",
      remotePort: port,
    });
    expect(isSelfConnection(addresses(socket))).toBe(true);
  });

  test("an ordinary connection to a listener", async () => {
    const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const socket = await connected({ host: "127.0.0.1", port: listener.port });
      expect(isSelfConnection(addresses(socket))).toBe(false);
    } finally {
      listener.stop(true);
    }
  });
});
