/**
 * Test-only: the gateway's request handler (server/gateway.ts, what agent-gtw runs) in front of a
 * rig's terminal backend, so market requests go through the gateway's parsing, validation and
 * market handler to the fake EA, as a client's would; and the same handler in front of the fake's
 * simulated broker, for what the answer must be. Closed by cleanupRigs().
 */
import { expect } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Clock } from "../../../../shared/clock.ts";
import { silentLogger } from "../../../../shared/log.ts";
import {
  encodeReply,
  generateSigningKeyPair,
  newRequestId,
  parseReply,
  type Reply,
  SignatureVerifier,
} from "../../../../shared/protocol/index.ts";
import { TradingStateHolder } from "../../../../shared/trading-state.ts";
import { OrderExecutor } from "../../../orders/executor.ts";
import { Journal } from "../../../orders/journal.ts";
import { Gateway } from "../../../server/gateway.ts";
import type { Backend } from "../../backend.ts";
import { onCleanup, type Rig } from "./rig.ts";

export type Page = Reply & Record<string, unknown>;

export interface MarketGateway {
  readonly gateway: Gateway;
  /** One request; the reply is put through agent-inf's reply validator. */
  ask(body: Record<string, unknown>): Promise<Page>;
  /** Follow `next` until `more` is false (every page OK); the pages in order. */
  pages(body: Record<string, unknown>): Promise<Page[]>;
}

/** A gateway over `backend` on `clock` (its journal in a temp folder). */
export function gatewayOver(backend: Backend, clock: Clock): MarketGateway {
  const dir = mkdtempSync(join(tmpdir(), "market-gateway-"));
  const journal = Journal.open({ path: join(dir, "orders.journal"), clock, logger: silentLogger });
  const verifier = new SignatureVerifier({
    gatewayName: "gtw-test",
    trustedKeys: new Map([["inf-1", generateSigningKeyPair().publicKey]]),
    clock,
  });
  const executor = new OrderExecutor({
    backend,
    journal,
    verifier,
    limits: { symbols: new Set(["EURUSD"]), maxVolume: 1, maxOpenPositions: 10 },
    tradingState: () => "ACTIVE",
    clock,
    logger: silentLogger,
    defaultMagic: 777,
    defaultDeviation: 20,
  });
  const gateway = new Gateway({
    name: "gtw-test",
    version: "test",
    backend,
    executor,
    journal,
    tradingState: new TradingStateHolder({ clock }),
    clock,
    logger: silentLogger,
  });
  onCleanup(() => {
    executor.stop();
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const ask = async (body: Record<string, unknown>): Promise<Page> => {
    // Raw bytes, not encodeRequest: bad input must reach the gateway's own validation
    const request = { v: 1, id: newRequestId(), ts: clock.now(), ...body };
    const reply = await gateway.handle([encoder.encode(JSON.stringify(request))], "inf-1");
    const checked = parseReply(encodeReply(reply), body["action"] as never);
    expect(checked.ok ? "valid" : checked.error.message).toBe("valid");
    return reply as Page;
  };
  return {
    gateway,
    ask,
    async pages(body) {
      const out: Page[] = [];
      let cursor: string | undefined;
      for (let guard = 0; guard < 2000; guard++) {
        const page = await ask(cursor === undefined ? body : { ...body, cursor });
        expect(page).toMatchObject({ status: "OK" });
        out.push(page);
        if (page["more"] !== true) return out;
        cursor = page["next"] as string;
      }
      throw new Error("paging did not end");
    },
  };
}

const encoder = new TextEncoder();

/** The gateway in front of the rig's terminal backend, and one in front of the fake's sim. */
export function marketGateways(rig: Rig): { terminal: MarketGateway; sim: MarketGateway } {
  return {
    terminal: gatewayOver(rig.backend, rig.clock),
    sim: gatewayOver(rig.fake.sim, rig.fakeClock),
  };
}

/** Every row of a paged answer (`rates`, `ticks`, `symbols`, `history_deals`…), in order. */
export function rowsOf<T = unknown>(pages: readonly Page[], field: string): T[] {
  return pages.flatMap((page) => page[field] as T[]);
}
