/**
 * The selftest's market-data steps (docs/MT5-SETUP.md §8): the server's symbol list, the last
 * tick, one symbol's M1 bars in the three forms (by position, back from a date, as a range; they
 * must agree), the ticks of one bar, and the deals of the last day. Each is asked as a client asks
 * (the gateway's market handler: validation, paging and reply checks included), and each is a
 * step of its own, so the first demo run names what works. History MT5 is still downloading is
 * asked again a few times (each answer already waited inside the EA) before the step fails.
 */
import type { Clock } from "../../../shared/clock.ts";
import type { Logger } from "../../../shared/log.ts";
import type {
  HistoryDeal,
  MarketRequest,
  RateRow,
  Reply,
  SymbolInfo,
  Tick,
  TickRow,
} from "../../../shared/protocol/index.ts";
import { MarketHandler } from "../../market/market-handler.ts";
import type { SelftestBackend, StepRecorder } from "./steps.ts";
import { expectThat } from "./trade.ts";

/** HISTORY_LOADING answers a step takes before it fails (each waited ~2 s in the EA). */
const LOADING_RETRIES = 5;
const BARS = 60;
const DAY_MS = 86_400_000;

type Body = Record<string, unknown> & { readonly action: MarketRequest["action"] };
type Page = Reply & Record<string, unknown>;

class Asker {
  readonly #handler: MarketHandler;
  readonly #clock: Clock;
  #serial = 0;
  /** HISTORY_LOADING answers seen by the step that runs. */
  loading = 0;

  constructor(backend: SelftestBackend, clock: Clock, logger: Logger) {
    this.#handler = new MarketHandler({ reads: backend.market, clock, logger });
    this.#clock = clock;
  }

  /** Every page of a request; a refusal throws with its code. */
  async pages(body: Body): Promise<Page[]> {
    const out: Page[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10_000; page++) {
      const reply = await this.#ask(cursor === undefined ? body : { ...body, cursor });
      out.push(reply);
      if (reply["more"] !== true) return out;
      cursor = reply["next"] as string;
    }
    throw new Error(`${body.action} did not stop paging`);
  }

  async one(body: Body): Promise<Page> {
    return this.#ask(body);
  }

  async #ask(body: Body): Promise<Page> {
    for (let attempt = 0; ; attempt++) {
      this.#serial += 1;
      const request = { v: 1, id: `selftest-${this.#serial}`, ts: this.#clock.now(), ...body };
      const reply = (await this.#handler.handle(request as MarketRequest, "selftest")) as Page;
      if (reply.status === "OK") return reply;
      if (reply["error_code"] === "HISTORY_LOADING" && attempt < LOADING_RETRIES) {
        this.loading += 1;
        continue;
      }
      throw new Error(
        `${body.action}: ${String(reply["error_code"])}: ${String(reply["error_msg"])}`,
      );
    }
  }
}

const rows = <T>(pages: readonly Page[], field: string): T[] =>
  pages.flatMap((page) => page[field] as T[]);

const serverTime = (ms: number) => `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")}`;

/** Bars in time order, one per minute open, each low ≤ open, close ≤ high. */
function checkBars(bars: readonly RateRow[], what: string): void {
  bars.forEach(([time, open, high, low, close], index) => {
    expectThat(time % 60_000 === 0, `${what}: bar ${serverTime(time)} does not open on a minute`);
    expectThat(index === 0 || time > (bars[index - 1] as RateRow)[0], `${what}: bars out of order`);
    expectThat(
      low <= Math.min(open, close) && high >= Math.max(open, close),
      `${what}: bar ${serverTime(time)} has open ${open}, high ${high}, low ${low}, close ${close}`,
    );
  });
}

/** Same open times, and the same bars but the newest (the one being built may have moved on). */
function agree(got: readonly RateRow[], want: readonly RateRow[], what: string): void {
  expectThat(
    got.map((bar) => bar[0]).join() === want.map((bar) => bar[0]).join(),
    `${what} gave ${got.length} bars with other open times than by position (${want.length})`,
  );
  const complete = (bars: readonly RateRow[]) => JSON.stringify(bars.slice(0, -1));
  expectThat(complete(got) === complete(want), `${what}: a complete bar differs from by position`);
}

export async function runMarketChecks(
  backend: SelftestBackend,
  steps: StepRecorder,
  symbol: string,
  info: SymbolInfo | undefined,
  clock: Clock,
  logger: Logger,
): Promise<void> {
  const ask = new Asker(backend, clock, logger);
  const loaded = () => {
    const note =
      ask.loading === 0
        ? ""
        : `; MT5 loaded the history after ${ask.loading} HISTORY_LOADING answers`;
    ask.loading = 0;
    return note;
  };

  await steps.step("symbols", async () => {
    const first = await ask.one({ action: "GET_SYMBOLS" });
    const listed = first["symbols"] as SymbolInfo[];
    const total = first["total"] as number;
    expectThat(total > 0 && listed.length > 0, "the server lists no symbols");
    const [own] = (await ask.one({ action: "GET_SYMBOLS", group: symbol }))[
      "symbols"
    ] as SymbolInfo[];
    expectThat(own?.symbol === symbol, `${symbol} is not in the server's list`);
    const same =
      info === undefined ||
      (own?.digits === info.digits &&
        own?.point === info.point &&
        own?.volume_step === info.volume_step &&
        own?.contract_size === info.contract_size);
    expectThat(same, `${symbol} in GET_SYMBOLS differs from its GET_SYMBOL_INFO`);
    return [
      total,
      `${total} symbols on the server (Market Watch or not), ${listed.length} on the first page; ${symbol} among them as GET_SYMBOL_INFO gives it`,
    ];
  });

  await steps.step(`tick ${symbol}`, async () => {
    const tick = (await ask.one({ action: "GET_TICK", symbol }))["tick"] as Tick;
    expectThat(tick.time_msc > 0, `${symbol} has no tick yet (time_msc 0)`);
    expectThat(tick.bid > 0 && tick.ask >= tick.bid, `bid ${tick.bid}, ask ${tick.ask}`);
    const now = backend.market.serverNow?.();
    const age = now === undefined ? "" : `, ${((now - tick.time_msc) / 1000).toFixed(1)} s old`;
    return [
      tick,
      `bid ${tick.bid} ask ${tick.ask} at ${serverTime(tick.time_msc)} server time${age}, flags ${tick.flags}`,
    ];
  });

  const base = { action: "GET_RATES", symbol, timeframe: "M1" } as const;
  const byPosition = await steps.step(`rates ${symbol} M1 by position`, async () => {
    const bars = rows<RateRow>(await ask.pages({ ...base, start: 0, count: BARS }), "rates");
    expectThat(bars.length > 0, `no M1 bars of ${symbol}`);
    checkBars(bars, "by position");
    const newest = bars[bars.length - 1] as RateRow;
    return [
      bars,
      `${bars.length} bars, ${serverTime((bars[0] as RateRow)[0])} to ${serverTime(newest[0])} server time${loaded()}`,
    ];
  });
  if (byPosition === undefined || byPosition.length === 0) {
    steps.fail(`rates ${symbol} M1 from a date`, "no bars by position to compare with");
    steps.fail(`rates ${symbol} M1 range`, "no bars by position to compare with");
    steps.fail(`ticks ${symbol}`, "no bar to read the ticks of");
  } else {
    const oldest = (byPosition[0] as RateRow)[0];
    const newest = (byPosition[byPosition.length - 1] as RateRow)[0];
    await steps.step(`rates ${symbol} M1 from a date`, async () => {
      const bars = rows<RateRow>(
        await ask.pages({ ...base, from: newest, count: byPosition.length }),
        "rates",
      );
      agree(bars, byPosition, "from a date");
      return [
        undefined,
        `${bars.length} bars up to ${serverTime(newest)}, the same as by position${loaded()}`,
      ];
    });
    await steps.step(`rates ${symbol} M1 range`, async () => {
      const bars = rows<RateRow>(await ask.pages({ ...base, from: oldest, to: newest }), "rates");
      agree(bars, byPosition, "the range");
      return [
        undefined,
        `${bars.length} bars from ${serverTime(oldest)} to ${serverTime(newest)}, the same as by position${loaded()}`,
      ];
    });
    await steps.step(`ticks ${symbol}`, async () => {
      // The ticks of the last complete bar (or of the only one)
      const bar = (
        byPosition.length > 1 ? byPosition[byPosition.length - 2] : byPosition[0]
      ) as RateRow;
      const range = { action: "GET_TICKS", symbol, from: bar[0], to: bar[0] + 59_999 } as const;
      const all = rows<TickRow>(await ask.pages(range), "ticks");
      const info = rows<TickRow>(await ask.pages({ ...range, flags: "INFO" }), "ticks");
      expectThat(
        all.length > 0,
        `no ticks in the M1 bar of ${serverTime(bar[0])} (it has tick volume ${bar[5]})`,
      );
      all.forEach((tick, index) => {
        expectThat(index === 0 || tick[0] >= (all[index - 1] as TickRow)[0], "ticks out of order");
      });
      expectThat(info.length <= all.length, `${info.length} INFO ticks but ${all.length} in all`);
      const first = all[0] as TickRow;
      return [
        undefined,
        `${all.length} ticks (${info.length} INFO) in the bar of ${serverTime(bar[0])}, whose tick volume is ${bar[5]}; its open ${bar[1]} ${first[1] === bar[1] ? "is" : "is not"} the first tick's bid ${first[1]}${loaded()}`,
      ];
    });
  }

  await steps.step("history deals", async () => {
    const now = clock.now();
    const deals = rows<HistoryDeal>(
      await ask.pages({ action: "GET_HISTORY_DEALS", from: now - DAY_MS, to: now + 60_000 }),
      "history_deals",
    );
    deals.forEach((deal, index) => {
      const before = deals[index - 1];
      expectThat(
        before === undefined ||
          before.time < deal.time ||
          (before.time === deal.time && before.ticket < deal.ticket),
        "deals are not in (time, ticket) order",
      );
    });
    const trades = deals.filter((deal) => deal.type === "BUY" || deal.type === "SELL");
    const listed = await backend.deals({ from: now - DAY_MS, to: now + 60_000 });
    expectThat(
      trades.length === listed.length,
      `${trades.length} BUY/SELL deals, but GET_DEALS lists ${listed.length}`,
    );
    return [
      deals,
      `${deals.length} in the last 24 hours (${trades.length} trades, ${deals.length - trades.length} other: balance, commission…), as GET_DEALS`,
    ];
  });
}
