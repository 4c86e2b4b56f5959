/**
 * Test-only: a LiveMarket whose contents the test sets, recording what the order path hands it
 * (remember) and which fills it was told of (expectPosition). Production code never imports it.
 */
import type { AccountInfo, SymbolInfo } from "../../../shared/protocol/index.ts";
import type { LiveMarket } from "../../live-view/live-view.ts";

export class FakeLive implements LiveMarket {
  account_: AccountInfo | undefined;
  positions_: ReturnType<LiveMarket["positions"]>;
  readonly symbols = new Map<string, SymbolInfo>();
  readonly remembered: Parameters<LiveMarket["remember"]>[0][] = [];
  readonly expected: number[] = [];
  positions() {
    return this.positions_;
  }
  account() {
    return this.account_;
  }
  symbol(name: string) {
    return this.symbols.get(name);
  }
  remember(data: Parameters<LiveMarket["remember"]>[0]) {
    this.remembered.push(data);
  }
  expectPosition(ticket: number) {
    this.expected.push(ticket);
  }
}
