/**
 * Bun side of the transport benchmark, run as a separate process by scripts/bench-transport.ts:
 *
 *   bun scripts/bench/bun-peer.ts ours   DEALER/ROUTER over our CURVE (shared/net)
 *   bun scripts/bench/bun-peer.ts tcp    raw Bun TCP echo, the floor under any protocol
 *
 * Config arrives as one JSON line on stdin (peer-protocol.ts). A server echoes until stdin
 * closes; a client measures round trips and pipelined throughput, prints one `result` line and
 * exits. Loopback only; every wait is bounded by the config's stallMs or MAX_LIFETIME_MS.
 */
import type { Socket, TCPSocketListener } from "bun";
import { z85Decode } from "../../shared/curve/z85.ts";
import { DealerSocket, RouterSocket, type SocketOptions } from "../../shared/net/index.ts";
import { installCryptoBackend } from "../../shared/sodium/install.ts";
import type {
  BenchKeys,
  ClientConfig,
  LatencyReport,
  PeerConfig,
  PeerRecord,
  ServerConfig,
  SizePlan,
  ThroughputReport,
} from "./peer-protocol.ts";

/** A peer the orchestrator forgot (it crashed past its own cleanup) still goes away. */
const MAX_LIFETIME_MS = 10 * 60_000;
const LOOPBACK = "127.0.0.1";

function report(record: PeerRecord): void {
  process.stdout.write(`${JSON.stringify(record)}\n`);
}

/** The first stdin line, and a promise that settles when stdin closes. */
function readStdin(): { firstLine: Promise<string>; closed: Promise<void> } {
  const line = Promise.withResolvers<string>();
  const closed = (async () => {
    const decoder = new TextDecoder();
    let text = "";
    let delivered = false;
    for await (const chunk of Bun.stdin.stream()) {
      if (delivered) continue;
      text += decoder.decode(chunk, { stream: true });
      const newline = text.indexOf("\n");
      if (newline >= 0) {
        delivered = true;
        line.resolve(text.slice(0, newline));
      }
    }
    if (!delivered) line.reject(new Error("stdin closed before the config line"));
  })();
  return { firstLine: line.promise, closed };
}

// ----- the two transports, behind one small interface --------------------------------------------

/** A connected echo client: `send` queues `count` copies of `payload`; replies are counted. */
interface EchoClient {
  send(payload: Uint8Array, count: number): void;
  onReplies: (count: number) => void;
  close(): Promise<void>;
}

function curveSecurity(keys: BenchKeys, role: "server" | "client"): SocketOptions["security"] {
  const serverPublic = z85Decode(keys.serverPublic);
  const clientPublic = z85Decode(keys.clientPublic);
  if (role === "server") {
    return {
      mechanism: "CURVE",
      role,
      publicKey: serverPublic,
      secretKey: z85Decode(keys.serverSecret),
      // An allow-list of one, as the gateway's; it runs once per handshake, not per message
      authorize: (request) =>
        Buffer.from(request.publicKey).equals(clientPublic) ? { status: 200 } : { status: 400 },
    };
  }
  return {
    mechanism: "CURVE",
    role,
    publicKey: clientPublic,
    secretKey: z85Decode(keys.clientSecret),
    serverKey: serverPublic,
  };
}

async function startOursServer(config: ServerConfig): Promise<{ endpoint: string; stop(): void }> {
  const router = new RouterSocket({
    security: curveSecurity(config.keys, "server"),
    sendHighWaterMark: config.highWaterMark,
  });
  let dropped = 0;
  router.on((event) => {
    if (event.type === "dropped") dropped += 1;
  });
  router.onMessage((message) => {
    router.send(message.routingId, message.parts);
  });
  const endpoint = await router.bind(`tcp://${LOOPBACK}:0`);
  return {
    endpoint,
    stop() {
      if (dropped > 0) console.error(`bun-peer: the server dropped ${dropped} echoes`);
      void router.close();
    },
  };
}

async function connectOurs(config: ClientConfig): Promise<EchoClient> {
  const dealer = new DealerSocket({
    security: curveSecurity(config.keys, "client"),
    sendHighWaterMark: config.highWaterMark,
  });
  const ready = Promise.withResolvers<void>();
  dealer.on((event) => {
    if (event.type === "handshake_succeeded") ready.resolve();
    if (event.type === "handshake_failed" && event.fatal) ready.reject(new Error(event.message));
  });
  dealer.connect(config.endpoint);
  await withDeadline(ready.promise, config.stallMs, "CURVE handshake");
  const client: EchoClient = {
    send(payload, count) {
      for (let i = 0; i < count; i++) {
        if (!dealer.send([payload])) throw new Error("DEALER refused a message (high-water mark)");
      }
    },
    onReplies: () => {},
    close: () => dealer.close(),
  };
  dealer.onMessage(() => client.onReplies(1));
  return client;
}

/**
 * Bun's socket.write is unbuffered (it may take part of a buffer): keep the rest and write it
 * on drain, or a throughput run would lose bytes and stall.
 */
class QueuedWriter {
  readonly #socket: Socket<undefined>;
  #queue: Uint8Array[] = [];

  constructor(socket: Socket<undefined>) {
    this.#socket = socket;
  }

  write(bytes: Uint8Array): void {
    if (this.#queue.length > 0) {
      this.#queue.push(bytes.slice());
      return;
    }
    const written = this.#socket.write(bytes);
    if (written >= 0 && written < bytes.length) this.#queue.push(bytes.slice(written));
  }

  drain(): void {
    while (this.#queue.length > 0) {
      const head = this.#queue[0] as Uint8Array;
      const written = this.#socket.write(head);
      if (written < 0) {
        this.#queue = [];
        return;
      }
      if (written < head.length) {
        this.#queue[0] = head.subarray(written);
        return;
      }
      this.#queue.shift();
    }
  }
}

function startTcpServer(): { endpoint: string; stop(): void } {
  const writers = new WeakMap<Socket<undefined>, QueuedWriter>();
  const listener: TCPSocketListener<undefined> = Bun.listen({
    hostname: LOOPBACK,
    port: 0,
    socket: {
      binaryType: "uint8array",
      open(socket) {
        socket.setNoDelay(true);
        writers.set(socket, new QueuedWriter(socket));
      },
      data(socket, chunk) {
        writers.get(socket)?.write(chunk);
      },
      drain(socket) {
        writers.get(socket)?.drain();
      },
    },
  });
  return { endpoint: `tcp://${LOOPBACK}:${listener.port}`, stop: () => listener.stop(true) };
}

async function connectTcp(config: ClientConfig): Promise<EchoClient> {
  const port = Number(config.endpoint.slice(config.endpoint.lastIndexOf(":") + 1));
  // One buffer holds a whole window, so a batch of sends is one write like our batched flush
  const batch = new Uint8Array(Math.max(...config.plans.map((plan) => plan.window * plan.size)));
  let size = 1;
  let pending = 0;
  let writer: QueuedWriter | undefined;
  const client: EchoClient = {
    send(payload, count) {
      size = payload.length;
      for (let i = 0; i < count; i++) batch.set(payload, i * size);
      writer?.write(batch.subarray(0, count * size));
    },
    onReplies: () => {},
    close: async () => {
      socket.end();
    },
  };
  const socket: Socket<undefined> = await Bun.connect({
    hostname: LOOPBACK,
    port,
    socket: {
      binaryType: "uint8array",
      data(_socket, chunk) {
        // TCP has no message boundaries: a reply is `size` echoed bytes, however they arrive
        pending += chunk.length;
        const replies = Math.floor(pending / size);
        if (replies > 0) {
          pending -= replies * size;
          client.onReplies(replies);
        }
      },
      drain() {
        writer?.drain();
      },
    },
  });
  socket.setNoDelay(true);
  writer = new QueuedWriter(socket);
  return client;
}

// ----- measurements ----------------------------------------------------------------------------

async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs until `finished` settles; rejects when no reply arrived for `stallMs` (a lost message),
 * so a broken transport fails the run instead of hanging it.
 */
async function watchProgress(
  finished: Promise<void>,
  progress: () => number,
  stallMs: number,
  what: string,
): Promise<void> {
  let last = progress();
  let lastChangeAt = performance.now();
  let timer: ReturnType<typeof setInterval> | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      const now = progress();
      if (now !== last) {
        last = now;
        lastChangeAt = performance.now();
      } else if (performance.now() - lastChangeAt >= stallMs) {
        reject(new Error(`${what} stalled: no reply for ${stallMs} ms`));
      }
    }, stallMs / 10);
  });
  try {
    await Promise.race([finished, stalled]);
  } finally {
    clearInterval(timer);
  }
}

function payloadOf(size: number): Uint8Array {
  const payload = new Uint8Array(size);
  crypto.getRandomValues(payload);
  return payload;
}

/** One message in flight: send, wait for the echo, repeat. Returns µs per round trip. */
async function measureLatency(
  client: EchoClient,
  plan: SizePlan,
  config: ClientConfig,
): Promise<number[]> {
  const { size, roundTrips } = plan;
  const payload = payloadOf(size);
  const samples = new Float64Array(roundTrips);
  let index = -plan.warmUp;
  let sentAt = 0;
  const done = Promise.withResolvers<void>();
  client.onReplies = () => {
    const now = Bun.nanoseconds();
    if (index >= 0) samples[index] = (now - sentAt) / 1000;
    index += 1;
    if (index >= roundTrips) {
      done.resolve();
      return;
    }
    sentAt = Bun.nanoseconds();
    client.send(payload, 1);
  };
  sentAt = Bun.nanoseconds();
  client.send(payload, 1);
  await watchProgress(done.promise, () => index, config.stallMs, `${size} B round trips`);
  return Array.from(samples, (value) => Math.round(value * 100) / 100);
}

/** `window` messages in flight; each echo releases the next send. Returns elapsed ns. */
async function measureThroughput(
  client: EchoClient,
  plan: SizePlan,
  total: number,
  config: ClientConfig,
): Promise<number> {
  const { size } = plan;
  const payload = payloadOf(size);
  const window = Math.min(plan.window, total);
  let sent = 0;
  let received = 0;
  const done = Promise.withResolvers<void>();
  client.onReplies = (count) => {
    received += count;
    if (received >= total) {
      done.resolve();
      return;
    }
    const room = Math.min(total - sent, window - (sent - received));
    if (room > 0) {
      sent += room;
      client.send(payload, room);
    }
  };
  const start = Bun.nanoseconds();
  sent = window;
  client.send(payload, window);
  await watchProgress(done.promise, () => received, config.stallMs, `${size} B throughput`);
  return Bun.nanoseconds() - start;
}

async function runClient(config: ClientConfig, transport: "tcp" | "ours"): Promise<void> {
  const client = transport === "ours" ? await connectOurs(config) : await connectTcp(config);
  try {
    const latency: LatencyReport[] = [];
    const throughput: ThroughputReport[] = [];
    for (const plan of config.plans) {
      latency.push({ size: plan.size, samples: await measureLatency(client, plan, config) });
    }
    for (const plan of config.plans) {
      await measureThroughput(client, plan, plan.throughputWarmUp, config);
      const messages = plan.throughputMessages;
      const nanoseconds = await measureThroughput(client, plan, messages, config);
      throughput.push({ size: plan.size, messages, nanoseconds });
    }
    report({ ev: "result", latency, throughput });
  } finally {
    await client.close();
  }
}

const USAGE = `usage: bun scripts/bench/bun-peer.ts ours|tcp

One side of bench:transport (scripts/bench-transport.ts starts it): reads one JSON config line on
stdin (scripts/bench/peer-protocol.ts), then serves or measures and reports JSON lines on stdout.`;

async function main(): Promise<void> {
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    console.log(USAGE);
    return;
  }
  const transport = process.argv[2];
  if (transport !== "ours" && transport !== "tcp") {
    throw new Error(`usage: bun scripts/bench/bun-peer.ts ours|tcp (was ${String(transport)})`);
  }
  // As an agent does at startup: AGENT_CRYPTO_BACKEND from the orchestrator picks the backend
  installCryptoBackend();
  const stdin = readStdin();
  const config = JSON.parse(await stdin.firstLine) as PeerConfig;
  if (config.role === "client") {
    await runClient(config, transport);
    return;
  }
  const server = transport === "ours" ? await startOursServer(config) : startTcpServer();
  report({ ev: "ready", endpoint: server.endpoint, runtime: `bun ${Bun.version}` });
  await stdin.closed;
  server.stop();
}

setTimeout(() => {
  console.error("bun-peer: lifetime limit reached");
  process.exit(3);
}, MAX_LIFETIME_MS).unref();

main().then(
  () => process.exit(0),
  (error: unknown) => {
    report({ ev: "error", message: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  },
);
