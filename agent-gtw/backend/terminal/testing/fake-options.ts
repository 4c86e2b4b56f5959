/**
 * Test-only: the fake terminal's options and scriptable faults (see fake-terminal.ts).
 */
import type { Clock } from "../../../../shared/clock.ts";
import type { SimBackend } from "../../sim/sim-backend.ts";
import type { EaRecord, FlatObject } from "./ea-json.ts";
import type { FakeStatus } from "./fake-reads.ts";

/** What the fake does to the next command matching `cmd` (any command when absent). */
export type FakeFault =
  /** Close the link on receiving it; with `execute`, after running it (the reply is lost). */
  | { readonly kind: "drop"; readonly cmd?: string; readonly execute?: boolean }
  /** Run it, but send the reply only after `ms` (the EA is busy meanwhile). */
  | { readonly kind: "delay"; readonly cmd?: string; readonly ms: number }
  /** Answer with these reply fields (or the fields made from the CMD) instead of running it. */
  | {
      readonly kind: "reply";
      readonly cmd?: string;
      readonly body: EaRecord | ((frame: FlatObject) => EaRecord);
    }
  /** Answer it normally but with this id instead of the command's. */
  | { readonly kind: "wrong_id"; readonly cmd?: string; readonly id: number }
  /** Die inside OrderSend: the dedup marker stays, the link drops, nothing executes. */
  | { readonly kind: "crash"; readonly cmd?: string }
  /** Run an OPEN whose deal reaches the terminal's history too late for OpenedPosition. */
  | { readonly kind: "deal_late"; readonly cmd?: string };

export interface FakeTerminalOptions {
  readonly port: number;
  /** InpSecret: proved, never sent. */
  readonly secret: string;
  readonly sim: SimBackend;
  readonly clock?: Clock;
  /** The broker's real offset from UTC (§5); default 7200 (UTC+2). */
  readonly gmtOffsetS?: number;
  /** What the EA reports; default the real one (a PC clock a few seconds off reports jitter). */
  readonly reportedOffsetS?: number;
  readonly accountTradeMode?: "DEMO" | "CONTEST" | "REAL";
  /** ACCOUNT_LOGIN; createFakeTerminal passes the sim account's. 0 = not logged in yet. */
  readonly login?: number;
  /** ACCOUNT_SERVER. */
  readonly server?: string;
  /** Cap on items per GET_POSITIONS/GET_DEALS page, to exercise paging with few items. */
  readonly pageSize?: number;
  /** PAGE_BUDGET_CHARS, to exercise a page cut by size. */
  readonly pageBudgetChars?: number;
  readonly magic?: number;
  readonly deviation?: number;
  readonly maxLots?: number;
  readonly status?: Partial<FakeStatus>;
  /** EA_VERSION in the HELLO; default that of this release's EA. */
  readonly eaVersion?: string;
  /** Redial after the link drops (the EA always does); tests may turn it off. */
  readonly reconnect?: boolean;
}

export interface ReceivedCommand {
  readonly id: number | undefined;
  readonly cmd: string;
  readonly frame: FlatObject;
}
