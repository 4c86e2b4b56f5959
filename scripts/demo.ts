/**
 * The whole bridge on one machine, on the simulated MT5: throwaway keys, both agents started as
 * real processes on 127.0.0.1, then the agent-inf command line a trader would use: ping the
 * gateway, read a quote, open a position with SL/TP, list positions, close it, show the account
 * and the status. Everything it creates lives in .demo/ (recreated on every run).
 *
 *   bun scripts/demo.ts [--binaries] [--keep]
 *
 * --binaries runs dist/agent-gtw and dist/agent-inf (bun run build) instead of the sources;
 * --keep leaves the agents running (and .demo/ in place) for you to try commands against.
 */

import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { stringify } from "yaml";
import { parseCommandLine, printedHelp, reportError } from "../shared/cli.ts";
import { readTokenFile } from "../shared/http-access.ts";
import { generateGatewayKeys, generateInferenceKeys } from "../shared/keys/keygen.ts";
import {
  API_TOKEN_FILE,
  OPERATOR_TOKEN_FILE,
  writeTokenFile,
} from "../shared/keys/keygen-command.ts";
import { freePort } from "./harness/free-port.ts";

const ROOT = resolve(import.meta.dir, "..");
const DEMO = join(ROOT, ".demo");
const USAGE = `Usage: bun run demo [-- --keep] [--binaries]

Runs the whole bridge on 127.0.0.1 with throwaway keys in .demo/: agent-gtw on the simulated
MT5, agent-inf, then the agent-inf command line like a trader (ping, quote, open with SL/TP,
positions, close, account, status), and stops both agents.

  --keep        leave both agents running until Ctrl-C
  --binaries    run the compiled dist/ executables instead of the sources
`;
if (printedHelp(Bun.argv.slice(2), USAGE)) process.exit(0);
let parsed: ReturnType<typeof parseDemoArgs>;
try {
  parsed = parseDemoArgs();
} catch (error) {
  process.exit(reportError("demo", error));
}
const values = parsed.values;

function parseDemoArgs() {
  return parseCommandLine(Bun.argv.slice(2), {
    binaries: { type: "boolean" },
    keep: { type: "boolean" },
  });
}

const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const step = (text: string) => console.log(`\n${bold(`== ${text}`)}`);

function command(agent: "agent-gtw" | "agent-inf"): string[] {
  if (values.binaries === true) {
    const binary = join(ROOT, "dist", agent);
    if (!existsSync(binary)) throw new Error(`${binary} is missing: run \`bun run build\` first`);
    return [binary];
  }
  return [process.execPath, join(ROOT, agent, "main.ts")];
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  log: () => string,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (performance.now() > deadline)
      throw new Error(`${what} not ready within ${timeoutMs} ms; its log:\n${log().slice(-2000)}`);
    await Bun.sleep(50);
  }
}

const children: { name: string; process: Subprocess<"ignore", "ignore", "pipe">; log: string }[] =
  [];

function start(agent: "agent-gtw" | "agent-inf", config: string) {
  const child = Bun.spawn([...command(agent), "run", "--config", config], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
    env: { ...process.env, AGENT_LOG_LEVEL: "info" },
  });
  const entry = { name: agent, process: child, log: "" };
  children.push(entry);
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      const text = decoder.decode(chunk, { stream: true });
      entry.log += text;
      writeFileSync(join(DEMO, `${agent}.log`), text, { flag: "a" });
    }
  })();
  return entry;
}

/** Run `agent-inf <args>` like a trader would, print the command and what it printed. */
async function cli(
  args: readonly string[],
  options: { quiet?: boolean } = {},
): Promise<{ code: number; stdout: string }> {
  if (options.quiet !== true) console.log(`$ agent-inf ${args.join(" ")}`);
  const child = Bun.spawn(
    [...command("agent-inf"), ...args, "--config", join(DEMO, "inf", "agent-inf.yaml")],
    {
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (options.quiet !== true) process.stdout.write(stdout + stderr);
  if (code !== 0 && code !== undefined)
    throw new Error(`agent-inf ${args.join(" ")} exited with ${code}`);
  return { code, stdout };
}

async function stopAll(): Promise<void> {
  for (const child of children.reverse()) {
    if (child.process.exitCode !== null) continue;
    child.process.kill("SIGTERM");
    // A timer that is cleared, not Bun.sleep: a pending sleep would hold the prompt for 15 s
    // after the agents have long exited (issue 18)
    let timer: ReturnType<typeof setTimeout> | undefined;
    const code = await Promise.race([
      child.process.exited,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), 15_000);
      }),
    ]);
    clearTimeout(timer);
    if (code === undefined) child.process.kill("SIGKILL");
    console.log(`${child.name} stopped (exit ${code ?? "killed"})`);
  }
}

async function main(): Promise<void> {
  console.log(
    bold(
      "MT5 Live Bridge demo: agent-inf -> CurveZMQ -> agent-gtw -> simulated MT5, all on 127.0.0.1",
    ),
  );
  rmSync(DEMO, { recursive: true, force: true });
  mkdirSync(DEMO, { recursive: true });

  step("1. Throwaway keys (CURVE pairs for both hosts, Ed25519 order-signing pair)");
  const gtwKeys = generateGatewayKeys(join(DEMO, "gtw", "keys"), "agent-gtw");
  const infKeys = generateInferenceKeys(join(DEMO, "inf", "keys"), "inf-1");
  mkdirSync(join(DEMO, "gtw", "keys", "clients"), { recursive: true });
  // What an operator copies between hosts: only public files.
  copyFileSync(infKeys.curvePublicPath, join(DEMO, "gtw", "keys", "clients", "inf-1.key"));
  copyFileSync(infKeys.signPublicPath, join(DEMO, "gtw", "keys", "inf-1.sign"));
  copyFileSync(gtwKeys.publicPath, join(DEMO, "inf", "keys", "agent-gtw.key"));
  // The local API's tokens, as `agent-inf keygen` writes them: the strategy's and the operator's
  const strategyToken = writeTokenFile(join(DEMO, "inf", "keys", API_TOKEN_FILE));
  writeTokenFile(join(DEMO, "inf", "keys", OPERATOR_TOKEN_FILE));
  console.log(
    `gateway key ${gtwKeys.publicKey.slice(0, 8)}…, inference key ${infKeys.curvePublicKey.slice(0, 8)}…, signing key ${infKeys.signPublicKey.slice(0, 8)}…`,
  );
  console.log(
    `API tokens: .demo/inf/keys/${API_TOKEN_FILE} (strategy: trade and read), .demo/inf/keys/${OPERATOR_TOKEN_FILE} (operator: also halt, resume, breaker)`,
  );

  const gatewayPort = freePort();
  const apiPort = freePort();
  const metricsPort = freePort();
  writeFileSync(
    join(DEMO, "gtw", "agent-gtw.yaml"),
    stringify({
      gateway: { name: "gtw-demo" },
      endpoint: `tcp://127.0.0.1:${gatewayPort}`,
      keys: {
        server_secret: "keys/agent-gtw.key_secret",
        authorized_clients_dir: "keys/clients",
        signing_keys: [{ key_id: "inf-1", file: "keys/inf-1.sign" }],
      },
      // "always": the simulated market never closes, so the demo also works on a weekend.
      backend: { type: "sim", sim: { seed: 42, sessions: "always" } },
      limits: {
        symbols: ["EURUSD", "GBPUSD", "USDJPY", "XAUUSD", "US500"],
        max_volume: 5,
        max_open_positions: 50,
      },
      metrics: { listen: `127.0.0.1:${metricsPort}` },
    }),
  );
  writeFileSync(
    join(DEMO, "inf", "agent-inf.yaml"),
    stringify({
      agent: { name: "inf-1" },
      keys: { client_secret: "keys/inf-1.key_secret", signing_secret: "keys/inf-1.sign_secret" },
      gateways: [
        {
          name: "gtw-demo",
          endpoint: `tcp://127.0.0.1:${gatewayPort}`,
          server_key_file: "keys/agent-gtw.key",
        },
      ],
      heartbeat: { interval_ms: 1000 },
      risk: { allowed_symbols: ["EURUSD", "GBPUSD", "USDJPY"], max_lots: 1 },
      api: {
        listen: `127.0.0.1:${apiPort}`,
        token_file: `keys/${API_TOKEN_FILE}`,
        operator_token_file: `keys/${OPERATOR_TOKEN_FILE}`,
      },
    }),
  );
  console.log(
    `configs: .demo/gtw/agent-gtw.yaml (gateway on ${gatewayPort}), .demo/inf/agent-inf.yaml (strategy API on ${apiPort})`,
  );

  step("2. Start agent-gtw (simulated MT5) and agent-inf");
  const gateway = start("agent-gtw", join(DEMO, "gtw", "agent-gtw.yaml"));
  await waitFor(
    "agent-gtw",
    async () => {
      const status = JSON.parse(
        readFileSync(join(DEMO, "gtw", "state", "status.json"), "utf8"),
      ) as { pid?: number };
      return status.pid === gateway.process.pid ? true : undefined;
    },
    20_000,
    () => gateway.log,
  );
  const inference = start("agent-inf", join(DEMO, "inf", "agent-inf.yaml"));
  await waitFor(
    "agent-inf",
    async () => {
      const health = (await (
        await fetch(`http://127.0.0.1:${apiPort}/v1/health`, {
          headers: { authorization: `Bearer ${readTokenFile(strategyToken, "api.token_file")}` },
        })
      ).json()) as {
        gateways: { connected: boolean; heartbeat: string }[];
      };
      return health.gateways.every((lane) => lane.connected && lane.heartbeat === "HEALTHY")
        ? true
        : undefined;
    },
    20_000,
    () => inference.log,
  );
  console.log("both agents up; logs in .demo/agent-gtw.log and .demo/agent-inf.log");
  console.log(
    `metrics: http://127.0.0.1:${metricsPort}/metrics (agent-gtw), http://127.0.0.1:${apiPort}/metrics (agent-inf)`,
  );

  step("3. PING the gateway over CurveZMQ (round trip, like a latency test)");
  await cli(["ping", "--count", "200"]);

  step(
    "4. A quote, then a BUY with stop-loss and take-profit (risk-checked, signed, journaled, filled)",
  );
  const symbol = JSON.parse(
    (await cli(["symbol", "EURUSD", "--json"], { quiet: true })).stdout,
  ) as {
    symbol_info: { bid: number; ask: number; point: number; digits: number };
  };
  const { bid, ask, point, digits } = symbol.symbol_info;
  console.log(`EURUSD bid ${bid} ask ${ask}`);
  const sl = (bid - 300 * point).toFixed(digits);
  const tp = (ask + 600 * point).toFixed(digits);
  const opened = Date.now();
  const open = await cli(
    ["open", "BUY", "EURUSD", "0.10", "--sl", sl, "--tp", tp, "--comment", "demo", "--json"],
    { quiet: true },
  );
  const order = JSON.parse(open.stdout) as {
    client_order_id: string;
    reply: { ticket: number; price: number; volume: number };
  };
  console.log(`$ agent-inf open BUY EURUSD 0.10 --sl ${sl} --tp ${tp} --comment demo`);
  console.log(
    `FILLED ${order.reply.volume} lots at ${order.reply.price}, position ${order.reply.ticket}, client_order_id ${order.client_order_id} (${Date.now() - opened} ms including the CLI process start)`,
  );

  step("5. Positions");
  await cli(["positions"]);

  step(
    "6. The same client_order_id again: answered from the gateway's journal, nothing executed twice",
  );
  await cli(["order", order.client_order_id]);

  step("7. Close the position");
  await cli(["close", String(order.reply.ticket)]);
  await cli(["positions"]);

  step("8. Account and status");
  await cli(["account"]);
  await cli(["status"]);

  if (values.keep === true) {
    console.log(
      `\nThe agents keep running. Try: bun agent-inf/main.ts status --config .demo/inf/agent-inf.yaml`,
    );
    console.log("Stop them with Ctrl-C.");
    await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
  }
  step("9. Stop both agents (graceful: in-flight orders finish, the journal is flushed)");
  await stopAll();
  console.log(bold("\nDemo finished: keys, configs, journals and logs are in .demo/"));
}

try {
  await main();
} catch (error) {
  console.error(`\ndemo failed: ${(error as Error).message}`);
  await stopAll();
  process.exitCode = 1;
}
