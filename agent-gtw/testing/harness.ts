/**
 * Test-only: a whole gateway in one process (real simulated broker, real journal, real verifier)
 * on a TestClock, plus a backend wrapper that injects the faults a real MT5 link has: calls that
 * hang, time out after executing, or never reach MT5.
 */
import { afterEach } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FaultCode } from "../../shared/errors.ts";
import { silentLogger } from "../../shared/log.ts";
import {
  brokerOrderKey,
  createSigner,
  encodeRequest,
  generateSigningKeyPair,
  isSignedAction,
  newClientOrderId,
  newRequestId,
  orderComment,
  type Reply,
  type Request,
  SignatureVerifier,
  type Signer,
  type TradeResult,
} from "../../shared/protocol/index.ts";
import { TestClock } from "../../shared/testing/test-clock.ts";
import { TradingStateHolder } from "../../shared/trading-state.ts";
import {
  type Backend,
  BackendError,
  type BackendEvent,
  type CloseOrder,
  type LinkStatus,
  type ModifyOrder,
  type OpenOrder,
} from "../backend/backend.ts";
import type {
  CancelPendingOrder,
  CheckOrder,
  CloseByOrder,
  MarginQuery,
  ModifyPendingOrder,
  OrderFilter,
  PlaceOrder,
  ProfitQuery,
} from "../backend/pending.ts";
import { SimBackend } from "../backend/sim/sim-backend.ts";
import { OrderExecutor } from "../orders/executor.ts";
import { Journal, type JournalIo } from "../orders/journal.ts";
import { Gateway } from "../server/gateway.ts";

export type Fault =
  /** The call never returns until released. */
  | { kind: "hang"; release: Promise<void> }
  /** The trade executes at the broker, then the caller sees a timeout (the reply was lost). */
  | { kind: "timeout_after_execution" }
  /** The caller sees a timeout and nothing executed. */
  | { kind: "timeout_before_execution" }
  /** Nothing reached MT5 (link down). */
  | { kind: "unavailable" }
  /** The backend cannot do this call at all (BACKEND_UNSUPPORTED: nothing was sent). */
  | { kind: "unsupported" };

/** Wraps the sim; each trade call takes the next queued fault, if any. */
export class FaultyBackend implements Backend {
  readonly kind = "sim" as const;
  readonly faults: Fault[] = [];
  linkState: LinkStatus = { state: "UP" };
  /** The broker's deal history cannot be read (the journal's cross-check fails while set). */
  dealsFailing = false;
  /** While set, reading the deal history waits for it (a cross-check that takes its time). */
  dealsHeld: Promise<void> | undefined;
  /** The open positions cannot be read. */
  positionsFailing = false;
  readonly sim: SimBackend;
  calls = 0;

  constructor(sim: SimBackend) {
    this.sim = sim;
  }

  start() {
    return this.sim.start();
  }
  stop() {
    return this.sim.stop();
  }
  link(): LinkStatus {
    return this.linkState.state === "UP" ? this.sim.link() : this.linkState;
  }
  account() {
    return this.sim.account();
  }
  positions(symbol?: string) {
    if (this.positionsFailing)
      return Promise.reject(
        new BackendError(FaultCode.BACKEND_TIMEOUT, "backend: positions timed out"),
      );
    return this.sim.positions(symbol);
  }
  symbolInfo(symbol: string) {
    return this.sim.symbolInfo(symbol);
  }
  async deals(query: Parameters<Backend["deals"]>[0]) {
    await this.dealsHeld;
    if (this.dealsFailing)
      return Promise.reject(
        new BackendError(FaultCode.BACKEND_TIMEOUT, "backend: deals timed out"),
      );
    return this.sim.deals(query);
  }
  subscribe(listener: (event: BackendEvent) => void) {
    return this.sim.subscribe(listener);
  }
  get market() {
    return this.sim.market;
  }
  open(order: OpenOrder) {
    return this.#trade(() => this.sim.open(order));
  }
  close(order: CloseOrder) {
    return this.#trade(() => this.sim.close(order));
  }
  modify(order: ModifyOrder) {
    return this.#trade(() => this.sim.modify(order));
  }
  placeOrder(order: PlaceOrder) {
    return this.#trade(() => this.sim.placeOrder(order));
  }
  modifyOrder(order: ModifyPendingOrder) {
    return this.#trade(() => this.sim.modifyOrder(order));
  }
  cancelOrder(order: CancelPendingOrder) {
    return this.#trade(() => this.sim.cancelOrder(order));
  }
  closeBy(order: CloseByOrder) {
    return this.#trade(() => this.sim.closeBy(order));
  }
  orders(filter?: OrderFilter) {
    return this.sim.orders(filter);
  }
  orderCheck(order: CheckOrder) {
    return this.sim.orderCheck(order);
  }
  calcMargin(query: MarginQuery) {
    return this.sim.calcMargin(query);
  }
  calcProfit(query: ProfitQuery) {
    return this.sim.calcProfit(query);
  }

  async #trade(run: () => Promise<TradeResult>): Promise<TradeResult> {
    this.calls += 1;
    const fault = this.faults.shift();
    if (fault === undefined) return run();
    switch (fault.kind) {
      case "hang":
        await fault.release;
        return run();
      case "timeout_after_execution":
        await run();
        throw new BackendError(FaultCode.BACKEND_TIMEOUT, "backend: no answer within 10000 ms");
      case "timeout_before_execution":
        throw new BackendError(FaultCode.BACKEND_TIMEOUT, "backend: no answer within 10000 ms");
      case "unavailable":
        throw new BackendError(FaultCode.BACKEND_UNAVAILABLE, "backend: EA not connected");
      case "unsupported":
        throw new BackendError(FaultCode.BACKEND_UNSUPPORTED, "backend: not supported");
    }
  }
}

export interface Harness {
  readonly dir: string;
  readonly clock: TestClock;
  readonly backend: FaultyBackend;
  readonly journal: Journal;
  readonly executor: OrderExecutor;
  readonly gateway: Gateway;
  readonly tradingState: TradingStateHolder;
  readonly signer: Signer;
  /** Build, sign and send a request through Gateway.handle. */
  send(
    body: Record<string, unknown>,
    options?: { sign?: boolean; signer?: Signer },
  ): Promise<Reply>;
  /** The frames send() would use, for tampering tests. */
  frames(body: Record<string, unknown>): { frames: Uint8Array[]; request: Request };
  /**
   * A BUY the broker executes with this client's tag for `clientOrderId`, behind the gateway's
   * back (an order that ran after its timeout, or whose journal lines were lost).
   */
  brokerBuy(clientOrderId: string, volume: number): Promise<TradeResult>;
  /** A second harness over the same folders: what a restarted gateway sees. */
  restart(options?: Pick<HarnessOptions, "dealsFailing">): Promise<Harness>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly dir?: string;
  readonly clock?: TestClock;
  readonly signingKey?: ReturnType<typeof generateSigningKeyPair>;
  readonly journalIo?: JournalIo;
  readonly maxVolume?: number;
  readonly maxOpenPositions?: number;
  /** The deal history fails from the start (FaultyBackend.dealsFailing). */
  readonly dealsFailing?: boolean;
}

export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "gtw-harness-"));
  const clock = options.clock ?? new TestClock(Date.UTC(2026, 10, 18, 12, 0, 0));
  const signingKey = options.signingKey ?? generateSigningKeyPair();
  const signer = createSigner({ keyId: "inf-1", secretKey: signingKey.secretKey });
  const sim = new SimBackend({
    clock,
    seed: 3,
    stateDir: join(dir, "sim"),
    sessions: "always",
    logger: silentLogger,
  });
  const backend = new FaultyBackend(sim);
  backend.dealsFailing = options.dealsFailing ?? false;
  const journal = Journal.open({
    path: join(dir, "orders.journal"),
    clock,
    logger: silentLogger,
    ...(options.journalIo === undefined ? {} : { io: options.journalIo }),
  });
  const tradingState = new TradingStateHolder({ clock });
  const verifier = new SignatureVerifier({
    gatewayName: "gtw-test",
    trustedKeys: new Map([["inf-1", signingKey.publicKey]]),
    clock,
  });
  let gateway: Gateway | undefined;
  const executor = new OrderExecutor({
    backend,
    journal,
    verifier,
    limits: {
      symbols: new Set(["EURUSD", "GBPUSD", "USDJPY"]),
      maxVolume: options.maxVolume ?? 5,
      maxOpenPositions: options.maxOpenPositions ?? 100,
    },
    tradingState: () => gateway?.effectiveTradingState() ?? "HALTED",
    clock,
    logger: silentLogger,
    defaultMagic: 777,
    defaultDeviation: 20,
    reconcileIntervalMs: 1000,
  });
  gateway = new Gateway({
    name: "gtw-test",
    version: "test",
    backend,
    executor,
    journal,
    tradingState,
    clock,
    logger: silentLogger,
    signatureWindow: verifier.window,
  });
  await backend.start();
  backend.subscribe((event) => executor.onBackendEvent(event));
  await executor.checkBroker();
  const built = gateway;

  const frames = (body: Record<string, unknown>, signer2: Signer = signer) => {
    const action = String(body["action"]);
    const signed = isSignedAction(action);
    const request = {
      v: 1,
      id: newRequestId(),
      ts: clock.now(),
      ...(signed
        ? {
            client_order_id: newClientOrderId(clock.now()),
            gateway: "gtw-test",
            key_id: signer2.keyId,
          }
        : {}),
      ...body,
    } as unknown as Request;
    const bytes = encodeRequest(request);
    return { frames: signed ? [bytes, signer2.sign(bytes)] : [bytes], request };
  };

  return {
    dir,
    clock,
    backend,
    journal,
    executor,
    gateway: built,
    tradingState,
    signer,
    frames: (body) => frames(body),
    send(body, sendOptions = {}) {
      const built2 = frames(body, sendOptions.signer ?? signer);
      const sent = sendOptions.sign === false ? built2.frames.slice(0, 1) : built2.frames;
      return built.handle(sent, "inf-1");
    },
    brokerBuy(clientOrderId, volume) {
      const key = brokerOrderKey("inf-1", clientOrderId);
      return sim.open({
        clientOrderId: key,
        symbol: "EURUSD",
        side: "BUY",
        volume,
        sl: null,
        tp: null,
        deviation: 20,
        magic: 777,
        comment: orderComment(key),
      });
    },
    async restart(restartOptions = {}) {
      executor.stop();
      await backend.stop();
      journal.close();
      return createHarness({ ...options, ...restartOptions, dir, clock, signingKey });
    },
    async close() {
      executor.stop();
      await backend.stop();
      journal.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Harnesses {
  harness(options?: HarnessOptions): Promise<Harness>;
  /** The same gateway restarted over its folders (journal and sim state kept). */
  restart(harness: Harness, options?: Parameters<Harness["restart"]>[0]): Promise<Harness>;
}

/**
 * Call at the top of a test file: harnesses closed after each test. `prepare` runs on each new
 * one (not on a restart, which keeps the sim's state).
 */
export function openHarnesses(prepare?: (harness: Harness) => Promise<void>): Harnesses {
  const open: Harness[] = [];
  afterEach(async () => {
    for (const harness of open.splice(0)) await harness.close();
  });
  return {
    async harness(options = {}) {
      const built = await createHarness(options);
      open.push(built);
      await prepare?.(built);
      return built;
    },
    async restart(harness, options) {
      open.splice(open.indexOf(harness), 1);
      const restarted = await harness.restart(options);
      open.push(restarted);
      return restarted;
    },
  };
}
