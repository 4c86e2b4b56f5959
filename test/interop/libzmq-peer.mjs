// A real libzmq peer for interop tests: zeromq.js (libzmq 4.3.5) run under Node, because the
// addon crashes under Bun (oven-sh/bun#18546). Driven by JSON lines on stdin, reports JSON lines
// on stdout. Only ever binds or connects to what the test gives it (127.0.0.1).
//
// argv[2]: JSON config
//   { type: "dealer"|"router"|"req"|"rep", bind?: "tcp://127.0.0.1:0", connect?: endpoint,
//     curve?: { server?: true, publicKey, secretKey, serverKey? }   (Z85 strings)
//     zap?: { allow: [Z85 client keys], deny: 300|400|500 },
//     routingId?, heartbeat?: { interval, ttl, timeout }, handshakeInterval?, reconnectInterval?,
//     maxMessageSize?, echo?: true, options?: { <any zeromq.js socket option> } }
// stdin : {"op":"send","parts":[base64...]} | {"op":"burst","count","prefix","head"?:[base64...]}
//         | {"op":"close"}
// stdout: {"ev":"ready","endpoint","pid"} | {"ev":"socket","type",...}
//         | {"ev":"message","parts":[base64...]} | {"ev":"sent"} | {"ev":"burst-done","count"}
//         | {"ev":"zap","key","status"} | {"ev":"error","message"}
import { createRequire } from "node:module";
import { createInterface } from "node:readline";

const require = createRequire(import.meta.url);
const zmq = require("zeromq");

const config = JSON.parse(process.argv[2] ?? "{}");
const out = (record) => process.stdout.write(`${JSON.stringify(record)}\n`);
const b64 = (buf) => Buffer.from(buf).toString("base64");

const constructors = { dealer: zmq.Dealer, router: zmq.Router, req: zmq.Request, rep: zmq.Reply };
const Ctor = constructors[config.type];
if (!Ctor) {
  out({ ev: "error", message: `unknown socket type ${config.type}` });
  process.exit(2);
}

const options = { linger: 0 };
if (config.curve) {
  options.curvePublicKey = config.curve.publicKey;
  options.curveSecretKey = config.curve.secretKey;
  if (config.curve.server) options.curveServer = true;
  if (config.curve.serverKey) options.curveServerKey = config.curve.serverKey;
}
if (config.zap) options.zapDomain = "interop";
if (config.routingId) options.routingId = config.routingId;
if (config.heartbeat) {
  if (config.heartbeat.interval) options.heartbeatInterval = config.heartbeat.interval;
  if (config.heartbeat.ttl) options.heartbeatTimeToLive = config.heartbeat.ttl;
  if (config.heartbeat.timeout) options.heartbeatTimeout = config.heartbeat.timeout;
}
if (config.handshakeInterval) options.handshakeInterval = config.handshakeInterval;
if (config.reconnectInterval) options.reconnectInterval = config.reconnectInterval;
if (config.maxMessageSize) options.maxMessageSize = config.maxMessageSize;
// Anything else a test needs (e.g. reconnectIntervalMax), passed through unchanged.
Object.assign(options, config.options ?? {});

// ZAP handler (RFC 27) in the same context: libzmq asks it for every CURVE client.
let zap;
if (config.zap) {
  zap = new zmq.Router();
  await zap.bind("inproc://zeromq.zap.01");
  (async () => {
    for await (const frames of zap) {
      const [routing, , version, requestId, , , , , key] = frames;
      const keyText = encodeZ85(key);
      const status = config.zap.allow.includes(keyText) ? "200" : String(config.zap.deny ?? 400);
      out({ ev: "zap", key: keyText, status: Number(status) });
      await zap.send([routing, "", version, requestId, status, status === "200" ? "OK" : "denied", "", ""]);
    }
  })().catch((error) => out({ ev: "error", message: `zap: ${error.message}` }));
}

const socket = new Ctor(options);

// Every monitor event, flattened, so tests can assert what libzmq saw.
const eventTypes = [
  "accept",
  "bind",
  "connect",
  "connect:delay",
  "connect:retry",
  "close",
  "disconnect",
  "handshake",
  "handshake:error:protocol",
  "handshake:error:auth",
  "handshake:error:other",
];
for (const type of eventTypes) {
  socket.events.on(type, (event) => {
    const record = { ev: "socket", type, address: event.address };
    if (event.interval !== undefined) record.interval = event.interval;
    if (event.error) {
      record.error = { code: event.error.code, status: event.error.status, message: event.error.message };
    }
    out(record);
  });
}

if (config.bind) {
  await socket.bind(config.bind);
  out({ ev: "ready", endpoint: socket.lastEndpoint, pid: process.pid });
} else if (config.connect) {
  socket.connect(config.connect);
  out({ ev: "ready", endpoint: config.connect, pid: process.pid });
}

// zeromq.js allows one send in flight per socket (EBUSY otherwise): echo replies, stdin sends and
// bursts all go through this chain, in arrival order.
let sendChain = Promise.resolve();
function enqueue(task) {
  const next = sendChain.then(task);
  sendChain = next.catch(() => {});
  return next;
}

(async () => {
  for await (const frames of socket) {
    out({ ev: "message", parts: frames.map(b64) });
    if (config.echo) enqueue(() => socket.send(frames));
  }
})().catch((error) => out({ ev: "error", message: `receive: ${error.message}` }));

const input = createInterface({ input: process.stdin });
input.on("line", async (line) => {
  let command;
  try {
    command = JSON.parse(line);
  } catch {
    out({ ev: "error", message: "bad command line" });
    return;
  }
  try {
    if (command.op === "send") {
      await enqueue(() => socket.send(command.parts.map((part) => Buffer.from(part, "base64"))));
      out({ ev: "sent" });
    } else if (command.op === "burst") {
      // Many numbered messages without one stdin line each (ordering tests); `head` frames
      // (a ROUTER's routing id) go before each numbered body.
      const head = (command.head ?? []).map((part) => Buffer.from(part, "base64"));
      await enqueue(async () => {
        for (let i = 0; i < command.count; i++) {
          await socket.send([...head, `${command.prefix}${i}`]);
        }
      });
      out({ ev: "burst-done", count: command.count });
    } else if (command.op === "close") {
      shutdown();
    }
  } catch (error) {
    out({ ev: "error", message: `${command.op}: ${error.message}` });
  }
});
input.on("close", shutdown);

let stopping = false;
function shutdown() {
  if (stopping) return;
  stopping = true;
  socket.close();
  zap?.close();
  setTimeout(() => process.exit(0), 20);
}

// Z85 (RFC 32) for the ZAP log: zeromq.js exposes no encoder.
function encodeZ85(bytes) {
  const alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
  let text = "";
  for (let i = 0; i < bytes.length; i += 4) {
    let value = ((bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3]) >>> 0;
    let chunk = "";
    for (let j = 0; j < 5; j++) {
      chunk = alphabet[value % 85] + chunk;
      value = Math.floor(value / 85);
    }
    text += chunk;
  }
  return text;
}
