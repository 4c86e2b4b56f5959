/**
 * Market data through agent-inf on the terminal backend, as a strategy meets it: agent-inf
 * (process) → agent-gtw (process, backend terminal) → EA link → the fake terminal, a broker at
 * UTC+2. Bars and ticks arrive in the broker's server time through every page of the EA link;
 * history MT5 is still downloading is asked again, then named 503 HISTORY_LOADING; and a closed
 * bar streamed as a BAR event is the bar that just closed on the server clock, the one
 * GET /v1/rates gives for it, not one from two hours before.
 */
import { afterEach, expect, test } from "bun:test";
import {
  cleanupRigs,
  onCleanup,
  terminalDeployment,
} from "../../agent-gtw/backend/terminal/testing/rig.ts";
import { startGateway } from "../../scripts/harness/agents.ts";
import { eventually } from "../../scripts/harness/eventually.ts";
import {
  bearer,
  readHealth,
  startInference,
  writeInferenceConfig,
} from "../../scripts/harness/inference.ts";
import { SseReader } from "../streaming/support.ts";

afterEach(cleanupRigs);

const SERVER_OFFSET_S = 7200;
const MINUTE_S = 60;

interface RatesAnswer {
  readonly fields: string[];
  readonly rates: number[][];
  readonly count: number;
}

test("bars, ticks and closed-bar events in server time; history still loading", async () => {
  const { deployment, fake } = await terminalDeployment({
    heartbeat_ms: 500, // no silence tested here: room for a stall of the fake EA's process
    command_timeout_ms: 5000,
  });
  const gtw = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
  onCleanup(() => gtw.stop().catch(() => gtw.kill()));
  const setup = writeInferenceConfig(deployment, gtw.endpoint, { heartbeatMs: 300 });
  const inf = await startInference(setup);
  onCleanup(() => inf.stop().catch(() => inf.kill()));
  await eventually(
    async () => (await readHealth(setup.apiUrl, setup.token)).gateways[0]?.mt5_link === "UP",
    { timeoutMs: 10_000 },
  );
  const auth = bearer(setup.token);
  const get = (path: string) => fetch(`${setup.apiUrl}${path}`, { headers: auth });

  // The stream first: its first BAR comes when the current minute closes (within ~62 s)
  const stream = await SseReader.open(`${setup.apiUrl}/v1/stream?bars=EURUSD:M1`, auth);
  onCleanup(() => stream.close());
  expect(stream.status).toBe(200);

  // 12,000 M1 bars: three pages of the EA link, oldest first, the newest the server's minute
  const latest = (await (
    await get("/v1/rates/EURUSD?timeframe=M1&count=12000")
  ).json()) as RatesAnswer;
  const serverNow = () => Date.now() / 1000 + SERVER_OFFSET_S;
  const times = latest.rates.map((row) => row[0] as number);
  expect(latest.count).toBe(12_000);
  expect(times.every((t, i) => i === 0 || t > (times[i - 1] as number))).toBe(true);
  expect(Math.abs((times.at(-1) as number) - serverNow())).toBeLessThan(2 * MINUTE_S);

  const last = (await (await get("/v1/ticks/EURUSD/last")).json()) as {
    tick: Record<string, number>;
  };
  expect(Math.abs((last.tick["time"] as number) - serverNow())).toBeLessThan(30);

  // MT5 still downloading GBPUSD: the EA gives up once, agent-inf asks again and gets the bars
  fake.historyLoading.set("GBPUSD", 30);
  const loaded = await get("/v1/rates/GBPUSD?timeframe=H1&count=24");
  expect(loaded.status).toBe(200);
  expect(((await loaded.json()) as RatesAnswer).count).toBe(24);
  // Still downloading after agent-inf's retries: a named 503 to ask again later
  fake.historyLoading.set("GBPUSD", 1_000_000);
  const loading = await get("/v1/rates/GBPUSD?timeframe=H1&count=24");
  expect(loading.status).toBe(503);
  expect(loading.headers.get("retry-after")).toBe("5");
  expect(((await loading.json()) as { error: { code: string } }).error.code).toBe(
    "HISTORY_LOADING",
  );
  fake.historyLoading.delete("GBPUSD");

  const bar = await eventually(
    () => stream.of("BAR")[0]?.data["bar"] as Record<string, number> | undefined,
    { timeoutMs: 75_000, message: "the first closed M1 bar" },
  );
  // The minute that just closed on the server clock, not one from two hours before
  const closedAt = Math.floor(serverNow() / MINUTE_S) * MINUTE_S;
  expect(closedAt - (bar["time"] as number)).toBeGreaterThanOrEqual(MINUTE_S);
  expect(closedAt - (bar["time"] as number)).toBeLessThanOrEqual(2 * MINUTE_S);
  const same = (await (
    await get(`/v1/rates/EURUSD?timeframe=M1&from=${bar["time"]}&to=${bar["time"]}`)
  ).json()) as RatesAnswer;
  expect(same.rates).toEqual([latest.fields.map((name) => bar[name] as number)]);
}, 150_000);
