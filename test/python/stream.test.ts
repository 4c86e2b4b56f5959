/**
 * mt5bridge's streams on a sim the test steers (a gateway in this process, agent-inf with its API):
 * stream_strategy.py enters on a streamed quote and learns of a take-profit and a stop-loss hit
 * from POSITION_CLOSED events, asking the API for nothing but one symbol specification; and
 * Client.stream() and AsyncClient.stream() resume after a dropped stream with Last-Event-ID
 * without losing an event; both tell closed bars (`bars=`), and a watch keeps the last of each.
 */
import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { createDeployment } from "../../scripts/harness/deployment.ts";
import { eventually } from "../../scripts/harness/eventually.ts";
import type { Position } from "../../shared/protocol/index.ts";
import {
  StreamTestClient,
  startInferenceStack,
  startInProcessGateway,
  startShiftedStack,
  streamLive,
} from "../streaming/support.ts";
import { EXAMPLES, PACKAGE_SRC, PYTHON, TEST_TIMEOUT_MS } from "./support.ts";

setDefaultTimeout(TEST_TIMEOUT_MS);

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function stack() {
  const deployment = createDeployment();
  cleanups.push(() => deployment.remove());
  const gateway = await startInProcessGateway(deployment, { tickIntervalMs: 60_000 });
  cleanups.push(() => gateway.stop());
  const inf = await startInferenceStack(deployment, gateway.endpoint);
  cleanups.push(() => inf.stop());
  await streamLive(inf.app);
  return { deployment, gateway, inf };
}

/** python with the package importable, left running; its output read when it exits. */
function spawnPython(args: readonly string[]) {
  const child = Bun.spawn([PYTHON, ...args], {
    cwd: EXAMPLES,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env["PATH"] ?? "", PYTHONDONTWRITEBYTECODE: "1", PYTHONPATH: PACKAGE_SRC },
  });
  cleanups.push(() => child.kill("SIGKILL"));
  const stdout = new Response(child.stdout).text();
  const stderr = new Response(child.stderr).text();
  return {
    async finished() {
      const code = await Promise.race([child.exited, Bun.sleep(15_000).then(() => "timeout")]);
      return { code, stdout: await stdout, stderr: await stderr };
    },
  };
}

test("stream_strategy.py trades on streamed quotes and reacts to TP and SL hits", async () => {
  const { deployment, gateway, inf } = await stack();
  const direct = new StreamTestClient(gateway.endpoint, deployment);
  cleanups.push(() => direct.close());
  await gateway.sim.setQuote("EURUSD", 1.1, 1.1001);

  const child = spawnPython([
    "stream_strategy.py",
    ...["--url", inf.api.url, "--trades", "2", "--sl-points", "50", "--tp-points", "50"],
  ]);
  const open = async () =>
    ((await direct.send({ action: "GET_POSITIONS" })) as unknown as { positions: Position[] })
      .positions[0];

  const buy = await eventually(open, { timeoutMs: 15_000, message: "the first entry" });
  await gateway.sim.setQuote("EURUSD", (buy.tp as number) + 0.0001, (buy.tp as number) + 0.0002);
  await eventually(async () => (await open()) === undefined, { message: "the TP hit" });
  await gateway.sim.setQuote("EURUSD", 1.1, 1.1001);
  const sell = await eventually(open, { timeoutMs: 15_000, message: "the second entry" });
  await gateway.sim.setQuote("EURUSD", (sell.sl as number) - 0.0002, (sell.sl as number) + 0.0001);
  const run = await child.finished();

  expect([run.code, run.stderr]).toEqual([0, ""]);
  expect(buy.side).toBe("BUY");
  expect(sell.side).toBe("SELL");
  expect(run.stdout).toContain(`closed by take-profit (TP): ticket ${buy.ticket}`);
  expect(run.stdout).toContain(`closed by stop-loss (SL): ticket ${sell.ticket}`);
  expect(run.stdout).toContain("done: 2 round trip(s)");
  // No polling: one symbol specification, no position or quote queries
  const requests = inf.app.metrics.httpRequests;
  expect(requests.get({ route: "/v1/symbols/{symbol}", method: "GET", status: "200" })).toBe(1);
  expect(requests.get({ route: "/v1/positions", method: "GET", status: "200" })).toBe(0);
  expect(requests.get({ route: "/v1/stream", method: "GET", status: "200" })).toBe(1);
});

const RESUME = {
  blocking: [
    "import json, sys",
    "from mt5bridge import Client",
    "deals = 0",
    "for m in Client(sys.argv[1]).stream(events=True, reconnect_delay=0.2):",
    "    print(json.dumps([m.event, m.id]), flush=True)",
    "    deals += m.event == 'DEAL'",
    "    if deals == 4: break",
  ],
  asyncio: [
    "import asyncio, json, sys",
    "from mt5bridge import AsyncClient",
    "async def main():",
    "    deals = 0",
    "    async for m in AsyncClient(sys.argv[1]).stream(events=True, reconnect_delay=0.2):",
    "        print(json.dumps([m.event, m.id]), flush=True)",
    "        deals += m.event == 'DEAL'",
    "        if deals == 4: break",
    "asyncio.run(main())",
  ],
};

test.each(Object.entries(RESUME))(
  "%s stream() reconnects with Last-Event-ID and misses nothing",
  async (_kind, script) => {
    const { inf } = await stack();
    const feed = inf.app.lane().stream?.feed;
    if (feed === undefined) throw new Error("no stream");
    const child = spawnPython(["-c", script.join("\n"), inf.api.url]);
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
    const run = await child.finished();
    const lines = run.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as [string, string | null]);

    expect([run.code, run.stderr]).toEqual([0, ""]);
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
    const first = ids[0] as number;
    expect(ids).toEqual([first, first + 1, first + 2, first + 3]);
  },
);

const BARS = {
  blocking: [
    "import json, sys",
    "from mt5bridge import Client",
    "for m in Client(sys.argv[1]).stream(events=False, bars=['EURUSD:M1']):",
    "    print(json.dumps([m.event, m.data.get('bar')]), flush=True)",
    "    if m.event == 'BAR' and m.data['bar']['time'] >= int(sys.argv[2]): break",
  ],
  asyncio: [
    "import asyncio, json, sys",
    "from mt5bridge import AsyncClient",
    "async def main():",
    "    watch = AsyncClient(sys.argv[1]).watch(events=False, bars=['EURUSD:M1'])",
    "    while watch.bars.get('EURUSD:M1', {}).get('time', 0) < int(sys.argv[2]):",
    "        assert watch.running, watch.error",
    "        await asyncio.sleep(0.02)",
    "    watch.stop()",
    "    told = [m.data['bar'] for m in watch.events if m.event == 'BAR']",
    "    for bar in told: print(json.dumps(['BAR', bar]))",
    "    print(json.dumps(['LAST', watch.bars['EURUSD:M1']]))",
    "asyncio.run(main())",
  ],
};

test.each(Object.entries(BARS))(
  "%s: closed bars as BAR events, each the row GET /v1/rates gives",
  async (kind, script) => {
    // The gateway runs on a clock the test moves: minutes pass in a few hundred ms
    const { clock, inf } = await startShiftedStack(cleanups);
    // Stop once the bar opening 3 minutes on has been told: 3 bars at least
    const until = Math.floor(clock.now() / 60_000) * 60 + 180;
    const child = spawnPython(["-c", script.join("\n"), inf.api.url, String(until)]);
    await eventually(() => inf.api.streams.size === 1, { message: "python connected" });
    let done = false;
    const finished = child.finished().finally(() => {
      done = true;
    });
    for (let step = 0; step < 60 && !done; step++) {
      clock.shift += 10_000;
      await Bun.sleep(60);
    }
    const run = await finished;
    const lines = run.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as [string, Record<string, number> | null]);
    const told = lines.filter(([event]) => event === "BAR").map(([, bar]) => bar ?? {});

    expect([run.code, run.stderr]).toEqual([0, ""]);
    expect(told.length).toBeGreaterThanOrEqual(3);
    const times = told.map((bar) => bar["time"] as number);
    expect(times.every((t, i) => i === 0 || t === (times[i - 1] as number) + 60)).toBe(true);
    for (const bar of told) {
      const rates = (await (
        await fetch(
          `${inf.api.url}/v1/rates/EURUSD?timeframe=M1&from=${bar["time"]}&to=${bar["time"]}`,
        )
      ).json()) as { fields: string[]; rates: number[][] };
      expect(rates.rates).toEqual([rates.fields.map((name) => bar[name] as number)]);
    }
    if (kind === "asyncio") expect(lines.at(-1)).toEqual(["LAST", told.at(-1) ?? null]);
  },
);
