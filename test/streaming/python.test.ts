/**
 * The Python side of the stream (examples/python, standard library only): stream_strategy.py
 * enters on a streamed quote and learns of a take-profit and a stop-loss hit from
 * POSITION_CLOSED events, asking the API for nothing but one symbol specification; and
 * MlbClient.stream() resumes after a dropped stream with Last-Event-ID without losing an event.
 */
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { createDeployment } from "../../scripts/harness/deployment.ts";
import { eventually } from "../../scripts/harness/eventually.ts";
import type { Position } from "../../shared/protocol/index.ts";
import {
  StreamTestClient,
  startInferenceStack,
  startInProcessGateway,
  streamLive,
} from "./support.ts";

const PYTHON = "/usr/bin/python3";
const EXAMPLES = join(import.meta.dir, "..", "..", "examples", "python");

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

test("stream_strategy.py trades on streamed quotes and reacts to TP and SL hits", async () => {
  const deployment = createDeployment();
  cleanups.push(() => deployment.remove());
  const gateway = await startInProcessGateway(deployment, { tickIntervalMs: 60_000 });
  cleanups.push(() => gateway.stop());
  const inf = await startInferenceStack(deployment, gateway.endpoint);
  cleanups.push(() => inf.stop());
  const direct = new StreamTestClient(gateway.endpoint, deployment);
  cleanups.push(() => direct.close());
  await streamLive(inf.app);
  await gateway.sim.setQuote("EURUSD", 1.1, 1.1001);

  const child = Bun.spawn(
    [
      PYTHON,
      "stream_strategy.py",
      "--api",
      inf.api.url,
      "--trades",
      "2",
      "--sl-points",
      "50",
      "--tp-points",
      "50",
    ],
    {
      cwd: EXAMPLES,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: { PATH: process.env["PATH"] ?? "", PYTHONDONTWRITEBYTECODE: "1" },
    },
  );
  cleanups.push(() => child.kill("SIGKILL"));
  const stdout = new Response(child.stdout).text();
  const stderr = new Response(child.stderr).text();
  const open = async () =>
    ((await direct.send({ action: "GET_POSITIONS" })) as unknown as { positions: Position[] })
      .positions[0];

  const buy = await eventually(open, { timeoutMs: 15_000, message: "the first entry" });
  await gateway.sim.setQuote("EURUSD", (buy.tp as number) + 0.0001, (buy.tp as number) + 0.0002);
  await eventually(async () => (await open()) === undefined, { message: "the TP hit" });
  await gateway.sim.setQuote("EURUSD", 1.1, 1.1001);
  const sell = await eventually(open, { timeoutMs: 15_000, message: "the second entry" });
  await gateway.sim.setQuote("EURUSD", (sell.sl as number) - 0.0002, (sell.sl as number) + 0.0001);
  const code = await Promise.race([child.exited, Bun.sleep(15_000).then(() => "timeout")]);
  const output = await stdout;

  expect([code, await stderr]).toEqual([0, ""]);
  expect(buy.side).toBe("BUY");
  expect(sell.side).toBe("SELL");
  expect(output).toContain(`closed by take-profit (TP): ticket ${buy.ticket}`);
  expect(output).toContain(`closed by stop-loss (SL): ticket ${sell.ticket}`);
  expect(output).toContain("done: 2 round trip(s)");
  // No polling: one symbol specification, no position or quote queries
  const requests = inf.app.metrics.httpRequests;
  expect(requests.get({ route: "/v1/symbols/{symbol}", method: "GET", status: "200" })).toBe(1);
  expect(requests.get({ route: "/v1/positions", method: "GET", status: "200" })).toBe(0);
  expect(requests.get({ route: "/v1/stream", method: "GET", status: "200" })).toBe(1);
});

test("MlbClient.stream() reconnects with Last-Event-ID and misses nothing", async () => {
  const deployment = createDeployment();
  cleanups.push(() => deployment.remove());
  const gateway = await startInProcessGateway(deployment, { tickIntervalMs: 60_000 });
  cleanups.push(() => gateway.stop());
  const inf = await startInferenceStack(deployment, gateway.endpoint);
  cleanups.push(() => inf.stop());
  await streamLive(inf.app);
  const feed = inf.app.lane().stream?.feed;
  if (feed === undefined) throw new Error("no stream");
  const script = [
    "import json, sys",
    "from mlb_client import MlbClient",
    "deals = 0",
    "for m in MlbClient(sys.argv[1]).stream(events=True, reconnect_delay=0.2):",
    "    print(json.dumps([m.event, m.id]), flush=True)",
    "    deals += m.event == 'DEAL'",
    "    if deals == 4: break",
  ].join("\n");
  const child = Bun.spawn([PYTHON, "-c", script, inf.api.url], {
    cwd: EXAMPLES,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env["PATH"] ?? "", PYTHONDONTWRITEBYTECODE: "1" },
  });
  cleanups.push(() => child.kill("SIGKILL"));
  const stdout = new Response(child.stdout).text();
  const deal = (ticket: number) => ({
    deal: { ticket, position: ticket, symbol: "EURUSD", entry: "IN", time: ticket },
  });
  await eventually(() => inf.api.streams.size === 1, { message: "python connected" });
  feed.publishEvent("DEAL", deal(1));
  feed.publishEvent("DEAL", deal(2));
  await Bun.sleep(100);
  inf.api.streams.closeAll();
  await eventually(() => inf.api.streams.size === 0, { message: "stream ended" });
  feed.publishEvent("DEAL", deal(3));
  feed.publishEvent("DEAL", deal(4));
  const code = await Promise.race([child.exited, Bun.sleep(15_000).then(() => "timeout")]);
  const lines = (await stdout)
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as [string, string | null]);

  expect(code).toBe(0);
  expect(lines.map(([event]) => event)).toEqual([
    "SNAPSHOT",
    "DEAL",
    "DEAL",
    "SHUTDOWN",
    "DEAL",
    "DEAL",
  ]);
  const ids = lines
    .filter(([event]) => event === "DEAL")
    .map(([, id]) => Number(id?.split("-")[1]));
  expect(ids).toEqual([
    ids[0] as number,
    (ids[0] as number) + 1,
    (ids[0] as number) + 2,
    (ids[0] as number) + 3,
  ]);
});
