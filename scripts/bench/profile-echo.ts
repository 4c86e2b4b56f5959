/**
 * CPU profile of our CURVE echo server while a client pipelines messages of one size: where a
 * ROUTER spends its time per message (docs/PERFORMANCE.md, transport). The server is
 * scripts/bench/bun-peer.ts run under `bun --cpu-prof-md`; the client is another bun-peer.
 *
 *   bun scripts/bench/profile-echo.ts [--size 1024] [--messages 200000] [--out DIR]
 *
 * Prints the client's msg/s and the profile's hottest functions; the whole profile (markdown) is
 * left in DIR. Loopback only; both peers exit when done.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateKeyPair } from "../../shared/curve/box.ts";
import { z85Encode } from "../../shared/curve/z85.ts";
import { parseBenchArgs } from "./cli.ts";
import type { ClientConfig, PeerRecord, ServerConfig } from "./peer-protocol.ts";

const { values, integer } = parseBenchArgs(
  Bun.argv.slice(2),
  {
    name: "profile-echo",
    usage: `usage: bun scripts/bench/profile-echo.ts [--size BYTES] [--messages N] [--out DIR]

CPU profile (bun --cpu-prof-md) of our CURVE ROUTER echo server while a DEALER client pipelines
N messages of one size; prints msg/s and the hottest functions.

  --size BYTES     message size (default 1024)
  --messages N     messages to pipeline (default 200000; fewer for large sizes)
  --out DIR        where the profile goes (default: a folder in the system temp directory)
  -h, --help       this text`,
  },
  { size: { type: "string" }, messages: { type: "string" }, out: { type: "string" } },
);
const size = integer(values.size, "--size", 1024, 1, 8 * 1024 * 1024);
const messages = integer(values.messages, "--messages", 200_000, 100, 10_000_000);
const out = values.out ?? join(tmpdir(), "mlb-profile-echo");
mkdirSync(out, { recursive: true });
const profileName = `server-${size}.md`;

const PEER = join(import.meta.dir, "bun-peer.ts");
const server = generateKeyPair();
const client = generateKeyPair();
const keys = {
  serverPublic: z85Encode(server.publicKey),
  serverSecret: z85Encode(server.secretKey),
  clientPublic: z85Encode(client.publicKey),
  clientSecret: z85Encode(client.secretKey),
};

/** The first JSON record a peer prints on stdout. */
async function firstRecord(stream: ReadableStream<Uint8Array>): Promise<PeerRecord> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`peer exited before reporting: ${text}`);
    text += decoder.decode(value, { stream: true });
    const newline = text.indexOf("\n");
    if (newline >= 0) {
      reader.releaseLock();
      return JSON.parse(text.slice(0, newline)) as PeerRecord;
    }
  }
}

const echo = Bun.spawn(
  [
    process.execPath,
    "--cpu-prof-md",
    `--cpu-prof-dir=${out}`,
    `--cpu-prof-name=${profileName}`,
    "--cpu-prof-interval=200",
    PEER,
    "ours",
  ],
  { stdin: "pipe", stdout: "pipe", stderr: "inherit" },
);
try {
  echo.stdin.write(
    `${JSON.stringify({ role: "server", keys, highWaterMark: 100_000 } satisfies ServerConfig)}\n`,
  );
  echo.stdin.flush();
  const ready = await firstRecord(echo.stdout);
  if (ready.ev !== "ready") throw new Error(`echo server: ${JSON.stringify(ready)}`);
  const window = Math.max(16, Math.min(1000, Math.floor((16 * 1024 * 1024) / size)));
  const config: ClientConfig = {
    role: "client",
    endpoint: ready.endpoint,
    keys,
    highWaterMark: 100_000,
    stallMs: 10_000,
    plans: [
      {
        size,
        roundTrips: 10,
        warmUp: 10,
        throughputMessages: messages,
        throughputWarmUp: Math.min(1000, messages),
        window,
      },
    ],
  };
  const driver = Bun.spawn([process.execPath, PEER, "ours"], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  driver.stdin.write(`${JSON.stringify(config)}\n`);
  driver.stdin.flush();
  const result = await firstRecord(driver.stdout);
  await driver.exited;
  if (result.ev !== "result") throw new Error(`client: ${JSON.stringify(result)}`);
  const run = result.throughput[0];
  if (run === undefined) throw new Error("client reported no throughput");
  console.log(
    `${size} B, ${messages} messages with ${window} in flight: ${Math.round(run.messages / (run.nanoseconds / 1e9)).toLocaleString("en-US")} msg/s`,
  );
} finally {
  echo.stdin.end();
  await echo.exited;
}
const profile = readFileSync(join(out, profileName), "utf8");
const hot = profile.slice(profile.indexOf("## Hot Functions"));
console.log(hot.split("\n").slice(0, 18).join("\n"));
console.log(`\nwhole profile: ${join(out, profileName)}`);
