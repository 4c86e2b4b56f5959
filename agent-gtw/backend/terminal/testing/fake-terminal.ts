/**
 * Test-only: a TypeScript stand-in for GatewayBridge.mq5 in a terminal, backed by the simulated
 * broker; the executable model of the EA. It dials like BridgeLink.mqh (only once logged in,
 * backoff, AUTH, the gateway's proof checked before HELLO, 5 s to HELLO_ACK, silence after 3
 * heartbeats, a redial when the account changes), reads frames with the EA's limits, handles
 * one frame at a time (a slow command holds up the next, as the EA's single thread does),
 * answers from the sim, and pushes the sim's trade events as EA events. Faults are scripted per
 * command (see FakeFault). Every byte both ways is kept (bytesSent, bytesReceived).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Socket } from "bun";
import { type Clock, systemClock, type TimerHandle } from "../../../../shared/clock.ts";
import type { BackendEvent } from "../../backend.ts";
import { DEFAULT_LOGIN, SIM_SERVER_NAME, type SimBackendOptions } from "../../sim/options.ts";
import { SimBackend } from "../../sim/sim-backend.ts";
import { type EaRecord, eaFrame, type FlatObject, parseFlat, takeFrames } from "./ea-json.ts";
import { FakeDedup } from "./fake-dedup.ts";
import { dispatch } from "./fake-dispatch.ts";
import { EaEventPump } from "./fake-events.ts";
import {
  BACKOFF_MAX_MS,
  BACKOFF_MIN_MS,
  FakeLinkAuth,
  HANDSHAKE_TIMEOUT_MS,
  type LinkState,
  MAX_IN_FRAME,
} from "./fake-link.ts";
import type { FakeFault, FakeTerminalOptions, ReceivedCommand } from "./fake-options.ts";
import {
  type FakeEaState,
  type FakeIdentity,
  type FakeStatus,
  PAGE_BUDGET_CHARS,
} from "./fake-reads.ts";
import { CrashInsideOrderSend } from "./fake-trades.ts";
import { BrokerClock } from "./fake-translate.ts";

export type { FakeFault, FakeTerminalOptions, ReceivedCommand } from "./fake-options.ts";

/** EA_VERSION of GatewayBridge.mq5 (ea-source.test.ts checks the two agree). */
export const EA_VERSION = "2.2.0";

export class FakeTerminal {
  readonly sim: SimBackend;
  readonly dedup = new FakeDedup();
  readonly status: FakeStatus;
  readonly identity: FakeIdentity;
  /** Every CMD the gateway sent, in order. */
  readonly commands: ReceivedCommand[] = [];
  /** HELLO_ACK refusal reasons, and frames from the gateway the EA's reader refused. */
  readonly refusals: string[] = [];
  readonly violations: string[] = [];
  /** Why the link dropped, each time. */
  readonly drops: string[] = [];
  /** The EA's LogOnce lines (Experts journal). */
  readonly log: string[] = [];
  /** Every byte sent and received, for "the secret never crosses the wire". */
  readonly bytesSent: Uint8Array[] = [];
  readonly bytesReceived: Uint8Array[] = [];
  /** Every frame type sent, in order (AUTH, HELLO, REPLY, EVENT). */
  readonly sentTypes: string[] = [];
  readonly faults: FakeFault[] = [];
  /** SYMBOL_ORDER_MODE per symbol (all flags when absent). */
  readonly orderModes = new Map<string, number>();
  /**
   * History the terminal is still downloading: per symbol, how many more copies find it
   * unsynchronized (the EA gives up after 21, answering HISTORY_LOADING; fake-market.ts).
   */
  readonly historyLoading = new Map<string, number>();
  /** Runs before each command is handled (after faults are picked), e.g. to change the sim. */
  beforeCommand: ((cmd: string, frame: FlatObject) => Promise<void> | void) | undefined;
  state: LinkState = "IDLE";
  sessions = 0;
  heartbeatMs = 1000;
  /** InpSecret; a test may change it to model a mistyped input. */
  secret: string;
  readonly #options: FakeTerminalOptions;
  readonly #clock: Clock;
  readonly #ea: FakeEaState;
  readonly #events: EaEventPump;
  readonly #link: FakeLinkAuth;
  readonly #tickets = new Map<number, number>();
  #logged = new Set<string>();
  #socket: Socket<undefined> | undefined;
  #rx: Uint8Array = new Uint8Array(0);
  #inbox: Uint8Array[] = [];
  #working = false;
  #frozen = false;
  #stopped = true;
  #backoff = BACKOFF_MIN_MS;
  #dialTimer: TimerHandle | undefined;
  #ackTimer: TimerHandle | undefined;
  #silenceTimer: TimerHandle | undefined;
  #requestIds = 0;
  #dialWhenIdle = false;
  #waitingForAccount = false;

  constructor(options: FakeTerminalOptions) {
    this.#options = options;
    this.sim = options.sim;
    this.secret = options.secret;
    this.#clock = options.clock ?? systemClock;
    this.status = {
      terminal_connected: true,
      terminal_trade_allowed: true,
      ea_trade_allowed: true,
      account_trade_allowed: true,
      account_trade_expert: true,
      ...options.status,
    };
    this.identity = {
      login: options.login ?? DEFAULT_LOGIN,
      server: options.server ?? SIM_SERVER_NAME,
      accountTradeMode: options.accountTradeMode ?? "DEMO",
    };
    const offset = options.gmtOffsetS ?? 7200;
    this.#ea = {
      sim: options.sim,
      clock: this.#clock,
      broker: new BrokerClock(offset),
      dedup: this.dedup,
      status: this.status,
      reportedOffsetS: options.reportedOffsetS ?? offset,
      identity: this.identity,
      company: "Sim Broker Ltd.",
      magic: options.magic ?? 570_100,
      deviation: options.deviation ?? 10,
      maxLots: options.maxLots ?? 1,
      pageSize: options.pageSize ?? 1000,
      pageBudgetChars: options.pageBudgetChars ?? PAGE_BUDGET_CHARS,
      startedAt: this.#clock.monotonic(),
      orderModes: this.orderModes,
      tickets: this.#tickets,
      historyLoading: this.historyLoading,
      eaVersion: options.eaVersion ?? EA_VERSION,
    };
    this.#link = new FakeLinkAuth(
      this.#ea,
      () => this.secret,
      (key, text) => this.#logOnce(key, text),
    );
    this.#events = new EaEventPump(this.#ea, this.#clock, (event, fields) =>
      this.sendEvent(event, fields),
    );
    options.sim.subscribe((event: BackendEvent) => this.#events.simEvent(event));
  }

  get broker(): BrokerClock {
    return this.#ea.broker;
  }

  start(): void {
    this.#stopped = false;
    this.#dial();
  }

  /** Close the link and stay offline. */
  stop(): void {
    this.#stopped = true;
    this.#dialTimer?.cancel();
    this.#drop("fake terminal stopped");
  }

  /** A frozen terminal: reads nothing, answers nothing, does not redial; the socket stays open. */
  freeze(): void {
    this.#frozen = true;
    this.#silenceTimer?.cancel();
  }

  thaw(): void {
    this.#frozen = false;
    if (this.#socket === undefined && !this.#stopped) this.#dial();
    else void this.#work();
  }

  /** The terminal's switches changed (a dial waits for terminal_connected). */
  setStatus(flags: Partial<FakeStatus>): void {
    Object.assign(this.status, flags);
    this.#accountWatch();
  }

  /** Log in, switch accounts or log out (login 0), as LinkPoll sees it on its next tick. */
  setAccount(change: Partial<FakeIdentity>): void {
    Object.assign(this.identity, change);
    this.#accountWatch();
  }

  /** The broker re-opens the position (swap rollover): it shows `ticket` from now on. */
  reticket(simTicket: number, ticket: number): void {
    this.#tickets.set(simTicket, ticket);
  }

  /** SendEvent(): only while READY, never buffered (§12). */
  sendEvent(event: string, fields: EaRecord): void {
    if (this.state !== "READY") return;
    this.sendFrame({ type: "EVENT", seq: this.#events.nextSeq(), event, ...fields });
  }

  sendFrame(record: EaRecord): void {
    this.sentTypes.push(String(record["type"]));
    this.sendBytes(eaFrame(record));
  }

  sendBytes(bytes: Uint8Array): void {
    this.bytesSent.push(bytes);
    let rest = bytes;
    while (rest.length > 0 && this.#socket !== undefined) {
      const written = this.#socket.write(rest);
      if (written <= 0) return;
      rest = rest.subarray(written);
    }
  }

  // -------------------------------------------------------------------------------------------

  /** LogOnce: each key once per link cycle (reset when the link is UP). */
  #logOnce(key: string, text: string): void {
    if (this.#logged.has(key)) return;
    this.#logged.add(key);
    this.log.push(text);
  }

  /** LinkPoll's account checks, run when the account or the switches change. */
  #accountWatch(): void {
    if (this.state === "READY") {
      const changed = this.#link.identityChange();
      if (changed !== "") this.#drop(`${changed}; redialing with a fresh HELLO`);
    } else if (this.state === "IDLE" && this.#waitingForAccount && this.#dialTimer === undefined) {
      this.#dial();
    }
  }

  #dial(): void {
    this.#dialTimer = undefined;
    if (this.#stopped || this.#frozen || this.#socket !== undefined) return;
    // The EA dials from OnTimer, so not while it is still inside a command
    if (this.#working) {
      this.#dialWhenIdle = true;
      return;
    }
    this.#waitingForAccount = !this.#link.accountReady();
    if (this.#waitingForAccount) return;
    Bun.connect({
      hostname: "127.0.0.1",
      port: this.#options.port,
      socket: {
        binaryType: "uint8array",
        open: (socket) => {
          if (this.#stopped) {
            socket.terminate();
            return;
          }
          this.#socket = socket;
          this.#rx = new Uint8Array(0);
          this.state = "WAIT_CHALLENGE";
          this.#ackTimer = this.#clock.setTimeout(
            () => this.#drop("no HELLO_ACK within 5 s"),
            HANDSHAKE_TIMEOUT_MS,
          );
          this.#logOnce("connected", "connected to 127.0.0.1, authenticating");
          this.sendFrame(this.#link.auth());
        },
        data: (socket, chunk) => {
          if (socket === this.#socket) this.#receive(chunk);
        },
        close: (socket) => {
          if (socket === this.#socket) this.#lost("closed by the gateway");
        },
        error: (socket, error) => {
          if (socket === this.#socket) this.#lost(error.message);
        },
      },
    }).catch((error: Error) => {
      // LinkRetryLater
      this.#logOnce("dial", `SocketConnect failed: ${error.message}`);
      this.#retry();
    });
  }

  /** LinkNextFrame(): 4-byte length, 1..64 KiB; a bad length drops the link. */
  #receive(chunk: Uint8Array): void {
    this.bytesReceived.push(chunk);
    const taken = takeFrames(this.#rx, chunk, MAX_IN_FRAME);
    if ("violation" in taken) {
      this.violations.push(taken.violation);
      this.#drop("bad frame length or content");
      return;
    }
    this.#inbox.push(...taken.frames);
    this.#rx = taken.rest;
    void this.#work();
  }

  /** One frame at a time, like the EA's OnTimer; a slow command holds up the rest. */
  async #work(): Promise<void> {
    if (this.#working) return;
    this.#working = true;
    try {
      while (!this.#frozen && this.#inbox.length > 0 && this.#socket !== undefined) {
        const payload = this.#inbox.shift() as Uint8Array;
        this.#silenceTimer?.cancel();
        await this.#handle(payload);
        this.#armSilence();
      }
    } finally {
      this.#working = false;
    }
    if (this.#dialWhenIdle) {
      this.#dialWhenIdle = false;
      this.#dial();
    }
  }

  /** LinkHandleFrame. */
  async #handle(payload: Uint8Array): Promise<void> {
    let frame: FlatObject;
    try {
      if (payload.includes(0)) throw new Error("0 byte in payload");
      frame = parseFlat(new TextDecoder("utf-8", { fatal: true }).decode(payload));
    } catch (error) {
      this.violations.push((error as Error).message);
      this.#drop(`unparsable frame: ${(error as Error).message}`);
      return;
    }
    const type = frame.string("type");
    if (this.state !== "READY") {
      this.#handshake(type, frame);
      return;
    }
    const id = frame.integer("id");
    const cmd = frame.string("cmd");
    this.commands.push({ id, cmd: cmd ?? "", frame });
    if (type !== "CMD" || id === undefined || cmd === undefined) {
      this.violations.push(`expected CMD with id and cmd, got ${type}`);
      this.#drop(`expected CMD with id and cmd, got ${type}`);
      return;
    }
    await this.#command(id, cmd, frame);
  }

  #handshake(type: string | undefined, frame: FlatObject): void {
    const step = this.#link.handshakeFrame(type, frame, this.state);
    if (step.kind === "send") {
      this.state = step.state;
      this.sendFrame(step.record);
      return;
    }
    if (step.kind === "drop") {
      if (step.reason.startsWith("handshake refused: ")) {
        this.refusals.push(step.reason.slice("handshake refused: ".length));
      } else if (step.reason !== "gateway proof did not verify") {
        this.violations.push(step.reason);
      }
      if (step.backoffMax) this.#backoff = BACKOFF_MAX_MS;
      this.#drop(step.reason);
      return;
    }
    this.#ackTimer?.cancel();
    this.heartbeatMs = step.heartbeatMs;
    this.state = "READY";
    this.sessions += 1;
    this.#events.newSession();
    this.#backoff = BACKOFF_MIN_MS;
    this.#logged.clear();
  }

  async #command(id: number, cmd: string, frame: FlatObject): Promise<void> {
    const index = this.faults.findIndex((fault) => fault.cmd === undefined || fault.cmd === cmd);
    const fault = index < 0 ? undefined : this.faults.splice(index, 1)[0];
    const socket = this.#socket;
    if (fault?.kind === "drop" && fault.execute !== true) {
      this.#drop(`fault: dropped on ${cmd}`);
      return;
    }
    let body: EaRecord;
    this.#events.hold();
    await this.beforeCommand?.(cmd, frame);
    try {
      if (fault?.kind === "reply") {
        body = typeof fault.body === "function" ? fault.body(frame) : fault.body;
      } else {
        body = await dispatch(this.#ea, cmd, frame, {
          crash: fault?.kind === "crash",
          dealLate: fault?.kind === "deal_late",
          modifying: (active) => this.#events.modifying(active),
          requestId: () => ++this.#requestIds,
          subscribe: (symbols, throttleMs) => this.#events.subscribe(symbols, throttleMs),
        });
      }
    } catch (error) {
      if (!(error instanceof CrashInsideOrderSend)) throw error;
      this.#events.release();
      this.#drop(`fault: crashed inside OrderSend on ${cmd}`);
      return;
    }
    if (fault?.kind === "drop") {
      this.#events.release();
      this.#drop(`fault: dropped after running ${cmd}`);
      return;
    }
    if (fault?.kind === "delay") await sleep(this.#clock, fault.ms);
    if (this.#socket !== socket) {
      // The link died while the EA was busy: LinkSend fails, the reply is lost
      this.#events.release();
      return;
    }
    const replyId = fault?.kind === "wrong_id" ? fault.id : id;
    this.sendFrame({ type: "REPLY", id: replyId, ...body });
    // Trade events reach the gateway after the REPLY that caused them (§6.3)
    this.#events.release();
  }

  /** §8: the EA closes the link after 3 heartbeats without any frame (not counting its own work). */
  #armSilence(): void {
    this.#silenceTimer?.cancel();
    if (this.state !== "READY" || this.#frozen) return;
    this.#silenceTimer = this.#clock.setTimeout(
      () => this.#drop("gateway silent for 3 heartbeats"),
      3 * this.heartbeatMs,
    );
  }

  /** LinkDrop(): close, forget the session's subscriptions, redial after the backoff. */
  #drop(reason: string): void {
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.terminate();
    if (socket !== undefined) this.#lost(reason);
  }

  #lost(reason: string): void {
    this.#socket = undefined;
    this.drops.push(reason);
    this.#logOnce(`drop:${reason}`, `link closed: ${reason}`);
    this.state = "IDLE";
    this.#inbox = [];
    this.#ackTimer?.cancel();
    this.#silenceTimer?.cancel();
    this.#events.linkDown();
    this.#retry();
  }

  #retry(): void {
    if (this.#stopped || this.#frozen || this.#options.reconnect === false) return;
    this.#dialTimer?.cancel();
    this.#dialTimer = this.#clock.setTimeout(() => this.#dial(), this.#backoff);
    this.#backoff = Math.min(this.#backoff * 2, BACKOFF_MAX_MS);
  }
}

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

/** A started sim in a temp directory plus a fake terminal on it; `dispose()` removes both. */
export async function createFakeTerminal(
  options: Omit<FakeTerminalOptions, "sim"> & {
    readonly simOptions?: Partial<Omit<SimBackendOptions, "clock" | "stateDir">>;
  },
): Promise<FakeTerminal & { dispose(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "fake-terminal-"));
  const sim = new SimBackend({
    seed: 11,
    sessions: "always",
    ...options.simOptions,
    clock: options.clock ?? systemClock,
    stateDir: dir,
  });
  await sim.start();
  const login = options.login ?? (await sim.account()).login;
  const fake = new FakeTerminal({ ...options, login, sim }) as FakeTerminal & {
    dispose(): Promise<void>;
  };
  fake.dispose = async () => {
    fake.stop();
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  return fake;
}
