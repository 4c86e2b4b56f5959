/**
 * The terminal backend's conformance suite (docs/MT5-SETUP.md §8): read-only checks that the EA
 * link works and MT5's answers make sense (pending orders and the pre-trade calculations too:
 * orders.ts; market data and the deal history: market.ts), each EA behaviour that only a real
 * terminal can show named in its own
 * step, and, only on a DEMO account, a minimum-lot round trip OPEN → repeat (dedup) → MODIFY
 * (stops off the tick grid) → CLOSE, then a far-away pending order placed → repeated → modified →
 * cancelled (pending.ts). `agent-gtw selftest` runs it against a real terminal; the
 * tests run it against the fake terminal. One line per step on `out`.
 */
import { type Clock, systemClock } from "../../../shared/clock.ts";
import { type Logger, silentLogger } from "../../../shared/log.ts";
import { EA_PROTOCOL_VERSION, PERMISSION_FLAGS } from "../../backend/terminal/hello.ts";
import { OrderModeFlag } from "../../backend/terminal/mapping.ts";
import { runMarketChecks } from "./market.ts";
import { runOrderChecks } from "./orders.ts";
import { runPendingTrip } from "./pending.ts";
import { type SelftestBackend, type SelftestResult, StepRecorder } from "./steps.ts";
import { expectThat, runId, runTradeRoundTrip, tradingRefusal } from "./trade.ts";

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
    // An EA dials only once the terminal is logged in; login 0 would mean it did not wait
    expectThat(h.login > 0, `HELLO came before the terminal logged in (login ${h.login})`);
    return [
      h,
      `login ${h.login} on ${h.server}, ${h.account_trade_mode}, ${h.margin_mode}, terminal build ${h.terminal_build}, EA ${h.ea_version}, dedup_entries ${h.dedup_entries}`,
    ];
  });

  await steps.step("link authentication", async () => {
    const proto = hello?.proto;
    expectThat(proto === EA_PROTOCOL_VERSION, `EA link protocol ${proto}`);
    return [
      undefined,
      `protocol ${proto}: the gateway proved the shared secret first, the EA proved it in HELLO (HMAC-SHA256, nothing of the secret sent)`,
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

  const details = await steps.step("account", async () => {
    const d = await backend.accountDetails();
    const a = d.account;
    expectThat(hello === undefined || a.login === hello.login, `login ${a.login} ≠ HELLO login`);
    // The trade mode --trade relies on, read now from MT5, not only from the HELLO
    expectThat(
      hello === undefined || d.account_trade_mode === hello.account_trade_mode,
      `GET_ACCOUNT says ${d.account_trade_mode}, HELLO said ${hello?.account_trade_mode}`,
    );
    expectThat(/^[A-Z]{3}$/.test(a.currency), `currency was ${JSON.stringify(a.currency)}`);
    expectThat(
      a.balance >= 0 && Number.isFinite(a.equity),
      `balance ${a.balance}, equity ${a.equity}`,
    );
    expectThat(a.leverage >= 1 && a.margin >= 0, `leverage ${a.leverage}, margin ${a.margin}`);
    return [
      d,
      `login ${a.login}, ${d.account_trade_mode} (GET_ACCOUNT), ${a.currency} balance ${a.balance} equity ${a.equity} free margin ${a.margin_free}, 1:${a.leverage}, ${a.margin_mode}, trade_allowed ${a.trade_allowed}`,
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

  const symbolDetails = await steps.step(`symbol ${symbol}`, async () => {
    const found = await backend.symbolDetails(symbol);
    if (found === undefined) throw new Error(`the broker does not know ${symbol}`);
    const s = found.info;
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
    expectThat(s.tick_size > 0, `tick_size ${s.tick_size}`);
    const age = ((clock.now() - s.quote_time) / 1000).toFixed(1);
    return [
      found,
      `digits ${s.digits}, tick size ${s.tick_size}, volume ${s.volume_min}–${s.volume_max} step ${s.volume_step}, stops ${s.stops_level} / freeze ${s.freeze_level} points, filling ${s.filling_modes.join(",")}, ${s.execution_mode} execution, trade mode ${s.trade_mode}, session ${s.session_open ? "open" : "closed"}, quote ${age} s old`,
    ];
  });
  const info = symbolDetails?.info;

  await steps.step(`order mode ${symbol}`, async () => {
    if (symbolDetails === undefined) throw new Error("no symbol info");
    const mode = symbolDetails.extras.order_mode;
    const allowed = (flag: number) => (mode & flag) !== 0;
    expectThat(
      allowed(OrderModeFlag.MARKET),
      `SYMBOL_ORDER_MODE ${mode} allows no market orders: the EA refuses OPEN and CLOSE with 10035`,
    );
    const levels = [
      allowed(OrderModeFlag.SL)
        ? "SL allowed"
        : "no SL (an OPEN or MODIFY with an SL is refused 10016)",
      allowed(OrderModeFlag.TP)
        ? "TP allowed"
        : "no TP (an OPEN or MODIFY with a TP is refused 10016)",
    ];
    return [undefined, `SYMBOL_ORDER_MODE ${mode}: market orders allowed, ${levels.join(", ")}`];
  });

  await steps.step(`filling ${symbol}`, async () => {
    if (symbolDetails === undefined) throw new Error("no symbol info");
    const { info: s, extras } = symbolDetails;
    const note =
      extras.filling === "RETURN" && s.execution_mode === "MARKET"
        ? "; RETURN on Market execution follows the MQL5 reference, the terminal help says Exchange only: a 10030 on OPEN settles it (docs/MT5-SETUP.md §10)"
        : "";
    return [
      undefined,
      `the EA sends ORDER_FILLING_${extras.filling} on OPEN and CLOSE (${s.execution_mode} execution, modes ${s.filling_modes.join(",") || "none"})${note}`,
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

  await runOrderChecks(backend, steps, info, details?.account);
  await runMarketChecks(backend, steps, symbol, info, clock, options.logger ?? silentLogger);

  if (options.trade) {
    const trip = {
      backend,
      steps,
      hello,
      accountTradeMode: details?.account_trade_mode,
      info,
      filling: symbolDetails?.extras.filling,
      clock,
      magic: options.magic ?? DEFAULT_SELFTEST_MAGIC,
      eventTimeoutMs: options.eventTimeoutMs ?? 10_000,
    };
    const refusal = tradingRefusal(trip);
    if (refusal !== undefined || info === undefined) {
      steps.fail("trade", refusal ?? "refusing to trade: no usable symbol info");
    } else {
      await runTradeRoundTrip({ ...trip, info });
      await runPendingTrip({ ...trip, info, base: runId(clock) });
    }
  }
  return report();
}
