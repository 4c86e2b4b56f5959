// libzmq side of the transport benchmark: zeromq.js (bundled libzmq) under Node, because the
// addon crashes under Bun (oven-sh/bun#18546). Run as a separate process by
// scripts/bench-transport.ts:
//
//   node scripts/bench/libzmq-peer.mjs
//
// Same protocol and the same measurements as bun-peer.ts (shapes in peer-protocol.ts): one JSON
// config line on stdin; a server (ROUTER, CURVE server) echoes until stdin closes; a client
// (DEALER, CURVE client) measures round trips and pipelined throughput and prints one `result`
// line. Each step uses the binding the way an application would: await send, await receive.
// Loopback only; every wait is bounded.
import { createRequire } from "node:module";
import { createInterface } from "node:readline";

const require = createRequire(import.meta.url);
const zmq = require("zeromq");

const MAX_LIFETIME_MS = 10 * 60_000;
const LOOPBACK = "127.0.0.1";

const report = (record) => process.stdout.write(`${JSON.stringify(record)}\n`);
const now = () => process.hrtime.bigint();

/** Reject when `promise` has not settled within `ms`. */
function withDeadline(promise, ms, what) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Reject when `progress()` has not moved for `stallMs`; a lost message must not hang the run. */
function watchProgress(finished, progress, stallMs, what) {
  let last = progress();
  let lastChangeAt = performance.now();
  let timer;
  const stalled = new Promise((_, reject) => {
    timer = setInterval(() => {
      const current = progress();
      if (current !== last) {
        last = current;
        lastChangeAt = performance.now();
      } else if (performance.now() - lastChangeAt >= stallMs) {
        reject(new Error(`${what} stalled: no reply for ${stallMs} ms`));
      }
    }, stallMs / 10);
  });
  return Promise.race([finished, stalled]).finally(() => clearInterval(timer));
}

function payloadOf(size) {
  const payload = Buffer.alloc(size);
  crypto.getRandomValues(payload);
  return payload;
}

async function runServer(config) {
  const router = new zmq.Router({
    linger: 0,
    curveServer: true,
    curvePublicKey: config.keys.serverPublic,
    curveSecretKey: config.keys.serverSecret,
    sendHighWaterMark: config.highWaterMark,
    receiveHighWaterMark: config.highWaterMark,
  });
  await router.bind(`tcp://${LOOPBACK}:0`);
  report({
    ev: "ready",
    endpoint: router.lastEndpoint,
    runtime: `node ${process.version}`,
    libzmq: zmq.version,
  });
  const echo = (async () => {
    for await (const [routingId, body] of router) await router.send([routingId, body]);
  })();
  return { echo, stop: () => router.close() };
}

async function measureLatency(dealer, plan, config) {
  const { size } = plan;
  const payload = payloadOf(size);
  const samples = [];
  let done = -plan.warmUp;
  const run = (async () => {
    for (; done < plan.roundTrips; done++) {
      const start = now();
      await dealer.send(payload);
      await dealer.receive();
      if (done >= 0) samples.push(Math.round(Number(now() - start) / 10) / 100);
    }
  })();
  await watchProgress(run, () => done, config.stallMs, `${size} B round trips`);
  return samples;
}

async function measureThroughput(dealer, plan, total, config) {
  const { size } = plan;
  const payload = payloadOf(size);
  const window = Math.min(plan.window, total);
  let sent = 0;
  let received = 0;
  let wake;
  const start = now();
  const receiving = (async () => {
    while (received < total) {
      await dealer.receive();
      received += 1;
      if (wake !== undefined) {
        const resume = wake;
        wake = undefined;
        resume();
      }
    }
  })();
  const sending = (async () => {
    while (sent < total) {
      while (sent - received >= window) await new Promise((resolve) => (wake = resolve));
      sent += 1;
      await dealer.send(payload);
    }
  })();
  await watchProgress(
    Promise.all([receiving, sending]),
    () => received,
    config.stallMs,
    `${size} B throughput`,
  );
  return Number(now() - start);
}

async function runClient(config) {
  const dealer = new zmq.Dealer({
    linger: 0,
    curveServerKey: config.keys.serverPublic,
    curvePublicKey: config.keys.clientPublic,
    curveSecretKey: config.keys.clientSecret,
    sendHighWaterMark: config.highWaterMark,
    receiveHighWaterMark: config.highWaterMark,
  });
  const handshake = new Promise((resolve) => dealer.events.on("handshake", resolve));
  dealer.connect(config.endpoint);
  await withDeadline(handshake, config.stallMs, "CURVE handshake");
  try {
    const latency = [];
    const throughput = [];
    for (const plan of config.plans) {
      latency.push({ size: plan.size, samples: await measureLatency(dealer, plan, config) });
    }
    for (const plan of config.plans) {
      await measureThroughput(dealer, plan, plan.throughputWarmUp, config);
      const messages = plan.throughputMessages;
      const nanoseconds = await measureThroughput(dealer, plan, messages, config);
      throughput.push({ size: plan.size, messages, nanoseconds });
    }
    report({ ev: "result", latency, throughput });
  } finally {
    dealer.close();
  }
}

const USAGE = `usage: node scripts/bench/libzmq-peer.mjs

The libzmq side of bench:transport (scripts/bench-transport.ts starts it): reads one JSON config
line on stdin (scripts/bench/peer-protocol.ts), then serves or measures and reports JSON lines.`;

async function main() {
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    console.log(USAGE);
    return;
  }
  const lines = createInterface({ input: process.stdin });
  const iterator = lines[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) throw new Error("stdin closed before the config line");
  const config = JSON.parse(first.value);
  if (config.role === "client") {
    await runClient(config);
    return;
  }
  const server = await runServer(config);
  // Run until the orchestrator closes our stdin (or dies, which closes it too)
  for (;;) {
    const next = await iterator.next();
    if (next.done) break;
  }
  server.stop();
}

setTimeout(() => {
  console.error("libzmq-peer: lifetime limit reached");
  process.exit(3);
}, MAX_LIFETIME_MS).unref();

main().then(
  () => process.exit(0),
  (error) => {
    report({ ev: "error", message: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  },
);
