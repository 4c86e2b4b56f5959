/**
 * The terminal backend's conformance suite (docs/MT5-SETUP.md §8): read-only checks that the EA
 * link works and MT5's answers make sense, and, only on a DEMO account, a minimum-lot round trip
 * OPEN → repeat (dedup) → MODIFY → CLOSE. `agent-gtw selftest` runs it against a real terminal;
 * the tests run it against the fake terminal. One line per step on `out`: PASS/FAIL + detail.
 */
import { type Clock, systemClock } from "../../../shared/clock.ts";
import { type Logger, silentLogger } from "../../../shared/log.ts";
import { PERMISSION_FLAGS } from "../../backend/terminal/hello.ts";
import { type SelftestBackend, type SelftestResult, StepRecorder } from "./steps.ts";
import { expectThat, runTradeRoundTrip } from "./trade.ts";

export interface SelftestOptions {
  readonly backend: SelftestBackend;
  /** Also run the trading round trip (refused unless the account is DEMO). */
  readonly trade: boolean;
  readonly symbol: string;
  readonly out: (line: string) => void;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Magic number of the round trip's orders. */
  readonly magic?: number;
  /** How long to wait for each trade event; default 10 s. */
  readonly eventTimeoutMs?: number;
}

export interface SelftestReport {
  readonly passed: number;
  readonly failed: number;
  readonly results: readonly SelftestResult[];
}

/** Broker and PC clocks further apart than this fail the server-time check. */
const MAX_CLOCK_GAP_MS = 5 * 60_000;
const DEFAULT_SELFTEST_MAGIC = 20_261_121;

export async function runSelftest(options: SelftestOptions): Promise<SelftestReport> {
  const { backend, symbol } = options;
  const clock = options.clock ?? systemClock;
  const steps = new StepRecorder(options.out, options.logger ?? silentLogger);
  const report = (): SelftestReport => {
    const passed = steps.results.filter((result) => result.ok).length;
    return { passed, failed: steps.results.length - passed, results: steps.results };
  };

  const link = backend.link();
  if (link.state === "DOWN") {
    steps.fail("link", `DOWN (${link.detail ?? "no EA session"}); nothing else can be checked`);
    return report();
  }
  await steps.step("link", async () => {
    expectThat(link.state === "UP", `${link.state}: ${link.detail ?? ""}`);
    return [undefined, "UP"];
  });

  const hello = await steps.step("hello", async () => {
    const h = backend.hello();
    if (h === undefined) throw new Error("no HELLO from the EA");
    return [
      h,
      `login ${h.login} on ${h.server}, ${h.account_trade_mode}, ${h.margin_mode}, terminal build ${h.terminal_build}, EA ${h.ea_version}, dedup_entries ${h.dedup_entries}`,
    ];
  });

  await steps.step("ping", async () => {
    const ping = await backend.ping();
    const off = PERMISSION_FLAGS.filter((flag) => !ping[flag]);
    const flags = PERMISSION_FLAGS.map((flag) => `${flag}=${ping[flag]}`).join(" ");
    expectThat(off.length === 0, `${off.join(", ")} false (${flags})`);
    return [ping, `${flags}, ping_last_us ${ping.ping_last_us}, gmt_offset_s ${ping.gmt_offset_s}`];
  });

  await steps.step("server time", async () => {
    const serverTime = backend.link().serverTime;
    if (serverTime === undefined) throw new Error("no server_time from the EA");
    const gap = serverTime - clock.now();
    expectThat(
      Math.abs(gap) <= MAX_CLOCK_GAP_MS,
      `broker clock (UTC) is ${(gap / 1000).toFixed(1)} s from this PC's; check the PC clock`,
    );
    return [
      undefined,
      `${new Date(serverTime).toISOString()} UTC, ${(gap / 1000).toFixed(1)} s from this PC`,
    ];
  });

  await steps.step("account", async () => {
    const a = await backend.account();
    expectThat(hello === undefined || a.login === hello.login, `login ${a.login} ≠ HELLO login`);
    expectThat(/^[A-Z]{3}$/.test(a.currency), `currency was ${JSON.stringify(a.currency)}`);
    expectThat(
      a.balance >= 0 && Number.isFinite(a.equity),
      `balance ${a.balance}, equity ${a.equity}`,
    );
    expectThat(a.leverage >= 1 && a.margin >= 0, `leverage ${a.leverage}, margin ${a.margin}`);
    return [
      a,
      `login ${a.login}, ${a.currency} balance ${a.balance} equity ${a.equity} free margin ${a.margin_free}, 1:${a.leverage}, ${a.margin_mode}, trade_allowed ${a.trade_allowed}`,
    ];
  });

  await steps.step("positions", async () => {
    const positions = await backend.positions();
    for (const p of positions) {
      expectThat(Number.isSafeInteger(p.ticket) && p.ticket > 0, `ticket ${p.ticket}`);
      expectThat(p.volume > 0, `position ${p.ticket} volume ${p.volume}`);
    }
    return [positions, `${positions.length} open`];
  });

  const info = await steps.step(`symbol ${symbol}`, async () => {
    const s = await backend.symbolInfo(symbol);
    if (s === undefined) throw new Error(`the broker does not know ${symbol}`);
    const steps = s.volume_min / s.volume_step;
    expectThat(s.digits >= 0 && s.digits <= 10, `digits ${s.digits}`);
    expectThat(
      Math.abs(s.point - 10 ** -s.digits) < 1e-12,
      `point ${s.point} for ${s.digits} digits`,
    );
    expectThat(
      s.volume_min > 0 && s.volume_step > 0,
      `volume_min ${s.volume_min}, step ${s.volume_step}`,
    );
    expectThat(
      s.volume_min <= s.volume_max,
      `volume_min ${s.volume_min} > volume_max ${s.volume_max}`,
    );
    expectThat(
      Math.abs(steps - Math.round(steps)) < 1e-6,
      "volume_min is not on the volume_step grid",
    );
    expectThat(s.filling_modes.length > 0, "no filling mode for market orders (expect 10030)");
    expectThat(s.bid > 0 && s.ask >= s.bid, `no valid quote (bid ${s.bid}, ask ${s.ask})`);
    const age = ((clock.now() - s.quote_time) / 1000).toFixed(1);
    return [
      s,
      `digits ${s.digits}, volume ${s.volume_min}–${s.volume_max} step ${s.volume_step}, stops ${s.stops_level} / freeze ${s.freeze_level} points, filling ${s.filling_modes.join(",")}, ${s.execution_mode} execution, trade mode ${s.trade_mode}, session ${s.session_open ? "open" : "closed"}, quote ${age} s old`,
    ];
  });

  await steps.step("unknown symbol", async () => {
    const unknown = await backend.symbolInfo("NO_SUCH_SYMBOL.X");
    expectThat(unknown === undefined, "a made-up symbol was not reported as UNKNOWN_SYMBOL");
    return [undefined, "UNKNOWN_SYMBOL as expected"];
  });

  await steps.step("deals", async () => {
    const now = clock.now();
    const deals = await backend.deals({ from: now - 24 * 3600_000, to: now + 60_000 });
    return [deals, `${deals.length} in the last 24 hours`];
  });

  if (options.trade) {
    await runTradeRoundTrip({
      backend,
      steps,
      hello,
      info,
      clock,
      magic: options.magic ?? DEFAULT_SELFTEST_MAGIC,
      eventTimeoutMs: options.eventTimeoutMs ?? 10_000,
    });
  }
  return report();
}
