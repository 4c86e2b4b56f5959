/**
 * The selftest's building blocks, shared by the read-only checks (selftest.ts, orders.ts) and the
 * trading round trips (trade.ts, pending.ts): what the suite needs from the backend, and the step
 * recorder.
 */
import { describeError } from "../../../shared/errors.ts";
import type { Logger } from "../../../shared/log.ts";
import type { SymbolInfo } from "../../../shared/protocol/index.ts";
import type { Backend } from "../../backend/backend.ts";
import type { CancelPendingOrder, ModifyPendingOrder, PlaceOrder } from "../../backend/pending.ts";
import type { EaHello, EaPing } from "../../backend/terminal/hello.ts";
import type { AccountDetails, EaSymbolExtras } from "../../backend/terminal/mapping.ts";
import type { TradeOutcome } from "../../backend/terminal/trades.ts";

/** What the suite needs beyond Backend; TerminalBackend provides it. */
export interface SelftestBackend extends Backend {
  hello(): EaHello | undefined;
  ping(): Promise<EaPing>;
  accountDetails(): Promise<AccountDetails>;
  symbolDetails(symbol: string): Promise<{ info: SymbolInfo; extras: EaSymbolExtras } | undefined>;
  openDetailed: (order: Parameters<Backend["open"]>[0]) => Promise<TradeOutcome>;
  closeDetailed: (order: Parameters<Backend["close"]>[0]) => Promise<TradeOutcome>;
  modifyDetailed: (order: Parameters<Backend["modify"]>[0]) => Promise<TradeOutcome>;
  placeOrderDetailed: (order: PlaceOrder) => Promise<TradeOutcome>;
  modifyOrderDetailed: (order: ModifyPendingOrder) => Promise<TradeOutcome>;
  cancelOrderDetailed: (order: CancelPendingOrder) => Promise<TradeOutcome>;
}

export interface SelftestResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** Records steps and prints them as they finish. */
export class StepRecorder {
  readonly results: SelftestResult[] = [];
  readonly #out: (line: string) => void;
  readonly #logger: Logger;

  constructor(out: (line: string) => void, logger: Logger) {
    this.#out = out;
    this.#logger = logger;
  }

  /** Run one step; its return value is the PASS detail, a throw is the FAIL detail. */
  async step<T>(name: string, run: () => Promise<[T, string]>): Promise<T | undefined> {
    try {
      const [value, detail] = await run();
      this.#record(name, true, detail);
      return value;
    } catch (error) {
      this.#record(name, false, describeError(error));
      return undefined;
    }
  }

  fail(name: string, detail: string): void {
    this.#record(name, false, detail);
  }

  note(line: string): void {
    this.#out(`INFO ${line}`);
  }

  #record(name: string, ok: boolean, detail: string): void {
    this.results.push({ name, ok, detail });
    this.#out(`${ok ? "PASS" : "FAIL"} ${name}: ${detail}`);
    if (ok) this.#logger.info("Selftest step passed", { step: name });
    else this.#logger.warn("Selftest step failed", { step: name, detail });
  }
}
