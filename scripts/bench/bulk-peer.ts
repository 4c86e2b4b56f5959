/**
 * The far end of the bare-transport reference in scripts/bench-market.ts, run as its own
 * process as agent-gtw is: a ROUTER over our CURVE that answers every request with one frame of
 * `pageBytes` bytes (what a market page is to the gateway, minus the market), and a raw TCP
 * listener that writes as many bytes as a client asks for (the floor under any protocol).
 *
 * Config arrives as one JSON line on stdin: {"keys": BenchKeys, "pageBytes": N}. It prints
 * {"ev":"ready","ours":"tcp://…","tcp":"tcp://…"} and serves until stdin closes. Loopback only.
 */
import type { Socket } from "bun";
import { z85Decode } from "../../shared/curve/z85.ts";
import { RouterSocket } from "../../shared/net/index.ts";
import type { BenchKeys } from "./peer-protocol.ts";

const LOOPBACK = "127.0.0.1";
/** A peer the benchmark forgot still goes away. */
const MAX_LIFETIME_MS = 10 * 60_000;

if (Bun.argv.includes("--help") || Bun.argv.includes("-h")) {
  process.stdout.write(
    "usage: bun scripts/bench/bulk-peer.ts   (started by scripts/bench-market.ts; config on stdin)\n",
  );
  process.exit(0);
}

interface BulkConfig {
  readonly keys: BenchKeys;
  readonly pageBytes: number;
}

/** The first stdin line, and a promise that settles when stdin closes (one reader for both). */
function readStdin(): { first: Promise<string>; closed: Promise<void> } {
  const line = Promise.withResolvers<string>();
  const closed = (async () => {
    const decoder = new TextDecoder();
    let text = "";
    for await (const chunk of Bun.stdin.stream()) {
      text += decoder.decode(chunk, { stream: true });
      const newline = text.indexOf("\n");
      if (newline >= 0) line.resolve(text.slice(0, newline));
    }
    line.reject(new Error("stdin closed before the config line"));
  })();
  return { first: line.promise, closed };
}

async function startRouter(config: BulkConfig): Promise<{ endpoint: string; close(): void }> {
  const clientPublic = z85Decode(config.keys.clientPublic);
  const router = new RouterSocket({
    security: {
      mechanism: "CURVE",
      role: "server",
      publicKey: z85Decode(config.keys.serverPublic),
      secretKey: z85Decode(config.keys.serverSecret),
      authorize: (request) =>
        Buffer.from(request.publicKey).equals(clientPublic) ? { status: 200 } : { status: 400 },
    },
    maxMessageSize: 4 * 1024 * 1024,
  });
  // Filled once: the reference measures moving bytes, not making them
  const page = new Uint8Array(config.pageBytes).fill(0x31);
  router.onMessage((message) => {
    router.send(message.routingId, [page]);
  });
  const endpoint = await router.bind(`tcp://${LOOPBACK}:0`);
  return { endpoint, close: () => void router.close() };
}

/** Writes `remaining` bytes as the socket takes them (Bun's write may take part of a buffer). */
function startTcp(pageBytes: number): { endpoint: string; close(): void } {
  const chunk = new Uint8Array(pageBytes).fill(0x31);
  const remaining = new WeakMap<Socket<undefined>, number>();
  const pump = (socket: Socket<undefined>) => {
    let left = remaining.get(socket) ?? 0;
    while (left > 0) {
      const written = socket.write(chunk.subarray(0, Math.min(left, chunk.length)));
      if (written <= 0) break;
      left -= written;
    }
    remaining.set(socket, left);
  };
  const listener = Bun.listen<undefined>({
    hostname: LOOPBACK,
    port: 0,
    socket: {
      data(socket, data) {
        remaining.set(socket, Number(new TextDecoder().decode(data).trim()));
        pump(socket);
      },
      drain: pump,
    },
  });
  return { endpoint: `tcp://${LOOPBACK}:${listener.port}`, close: () => listener.stop(true) };
}

async function main(): Promise<void> {
  const stdin = readStdin();
  const config = JSON.parse(await stdin.first) as BulkConfig;
  const router = await startRouter(config);
  const tcp = startTcp(config.pageBytes);
  process.stdout.write(
    `${JSON.stringify({ ev: "ready", ours: router.endpoint, tcp: tcp.endpoint })}\n`,
  );
  await stdin.closed;
  router.close();
  tcp.close();
}

setTimeout(() => process.exit(3), MAX_LIFETIME_MS).unref();
main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bulk-peer: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
