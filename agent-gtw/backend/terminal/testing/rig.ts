/**
 * A TerminalBackend and a fake terminal (the EA side, on the simulated broker) connected over
 * real loopback TCP. Each side has its own TestClock, so heartbeats, timeouts, backoff and the
 * fake's delays happen only when a test advances them; socket I/O is real and waited for with
 * bounded eventually() polls. Everything is stopped by cleanupRigs() (afterEach).
 */

import { expect } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createDeployment, type Deployment } from "../../../../scripts/harness/deployment.ts";
import { eventually } from "../../../../scripts/harness/eventually.ts";
import { freePort } from "../../../../scripts/harness/free-port.ts";
import { TestClock } from "../../../../shared/testing/test-clock.ts";
import { BackendError, type BackendEvent, type OpenOrder } from "../../backend.ts";
import type { SimBackendOptions } from "../../sim/options.ts";
import { type RecordedLine, recordingLogger, WEDNESDAY_NOON } from "../../sim/testing/support.ts";
import type { TerminalBackendOptions } from "../terminal-backend.ts";
import { TerminalBackend } from "../terminal-backend.ts";
import {
  createFakeTerminal,
  type FakeTerminal,
  type FakeTerminalOptions,
} from "./fake-terminal.ts";

/** The EA link secret both sides hold (64 hex characters, as keygen writes it). */
export const SECRET = "5f2c9a81d04e7b36c1e0a9d27b4f83e65d1a0c9e8b7f6a5d4c3b2a1908f7e6d5";
export const HEARTBEAT_MS = 1000;
export const COMMAND_TIMEOUT_MS = 5000;

export type DisposableFake = FakeTerminal & { dispose(): Promise<void> };

export interface Rig {
  readonly backend: TerminalBackend;
  readonly fake: DisposableFake;
  /** The backend's clock: heartbeats, command and HELLO timeouts. */
  readonly clock: TestClock;
  /** The fake's clock (and its sim's): backoff, delays, silence, quotes. */
  readonly fakeClock: TestClock;
  readonly events: BackendEvent[];
  readonly logs: RecordedLine[];
  readonly port: number;
}

export interface RigOptions {
  readonly backend?: Partial<TerminalBackendOptions>;
  readonly fake?: Partial<Omit<FakeTerminalOptions, "sim" | "port">>;
  readonly simOptions?: Partial<Omit<SimBackendOptions, "clock" | "stateDir">>;
  /** Start the fake and wait for its session (default true). */
  readonly connect?: boolean;
}

const cleanups: Array<() => Promise<unknown> | unknown> = [];

export async function cleanupRigs(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

export function onCleanup(cleanup: () => Promise<unknown> | unknown): void {
  cleanups.push(cleanup);
}

export async function startRig(options: RigOptions = {}): Promise<Rig> {
  const clock = new TestClock(WEDNESDAY_NOON);
  const fakeClock = new TestClock(WEDNESDAY_NOON);
  const logs: RecordedLine[] = [];
  const backend = new TerminalBackend({
    port: 0,
    secret: SECRET,
    heartbeatMs: HEARTBEAT_MS,
    commandTimeoutMs: COMMAND_TIMEOUT_MS,
    clock,
    logger: recordingLogger(logs),
    ...options.backend,
  });
  await backend.start();
  onCleanup(() => backend.stop());
  const events: BackendEvent[] = [];
  backend.subscribe((event) => events.push(event));
  const port = backend.port as number;
  const fake = await startFake(port, fakeClock, options);
  const rig = { backend, fake, clock, fakeClock, events, logs, port };
  if (options.connect !== false) {
    fake.start();
    await connected(rig);
  }
  return rig;
}

/** Another fake terminal dialling the same backend (a second EA). */
export async function startFake(
  port: number,
  fakeClock: TestClock,
  options: RigOptions = {},
): Promise<DisposableFake> {
  const fake = await createFakeTerminal({
    port,
    secret: SECRET,
    clock: fakeClock,
    ...options.fake,
    ...(options.simOptions === undefined ? {} : { simOptions: options.simOptions }),
  });
  onCleanup(() => fake.dispose());
  return fake;
}

/** Wait until the fake has a session the backend sees as current. */
export async function connected(rig: Rig, fake: FakeTerminal = rig.fake): Promise<void> {
  await eventually(
    () =>
      fake.state === "READY" &&
      rig.backend.hello() !== undefined &&
      rig.backend.link().state !== "DOWN",
    { timeoutMs: 5000, message: "fake terminal session" },
  );
}

/**
 * Let the fake redial after a drop: its backoff runs on its own clock, so move that clock in
 * small steps until a new session is up.
 */
export async function reconnected(rig: Rig, sessionsBefore: number): Promise<void> {
  await eventually(
    () => {
      if (rig.fake.state !== "READY") rig.fakeClock.advance(50);
      return (
        rig.fake.sessions > sessionsBefore &&
        rig.fake.state === "READY" &&
        rig.backend.hello() !== undefined
      );
    },
    { timeoutMs: 5000, intervalMs: 5, message: "fake terminal reconnect" },
  );
}

export function openOrder(overrides: Partial<OpenOrder> = {}): OpenOrder {
  return {
    clientOrderId: "t-open-1",
    symbol: "EURUSD",
    side: "BUY",
    volume: 0.1,
    sl: null,
    tp: null,
    deviation: 10,
    magic: 4242,
    comment: "terminal test",
    ...overrides,
  };
}

/** The EA-style trade reply body for scripted answers. */
export { tradeBody } from "./fake-trades.ts";

/**
 * A deployment whose gateway uses the terminal backend on a free loopback port, its secret file
 * (0600) written, and the fake EA started against that port. For the process-level tests.
 */
export async function terminalDeployment(
  terminal: Record<string, unknown> = {},
  eaSecret: string = SECRET,
): Promise<{ deployment: Deployment; fake: DisposableFake; port: number }> {
  const port = freePort();
  const deployment = createDeployment({
    gateway: {
      backend: {
        type: "terminal",
        terminal: { port, secret_file: "keys/terminal.secret", ...terminal },
      },
    },
  });
  onCleanup(() => deployment.remove());
  const secretFile = join(deployment.dir, "gtw", "keys", "terminal.secret");
  writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
  chmodSync(secretFile, 0o600);
  const fake = await createFakeTerminal({ port, secret: eaSecret });
  onCleanup(() => fake.dispose());
  fake.start();
  return { deployment, fake, port };
}

/** Every whole frame in `bytes` (EA-LINK §3), parsed. */
export function framesIn(bytes: Uint8Array): Record<string, unknown>[] {
  const frames: Record<string, unknown>[] = [];
  let offset = 0;
  while (bytes.length - offset >= 4) {
    const length = new DataView(bytes.buffer, bytes.byteOffset + offset).getUint32(0);
    if (bytes.length - offset - 4 < length) break;
    const text = new TextDecoder().decode(bytes.subarray(offset + 4, offset + 4 + length));
    frames.push(JSON.parse(text) as Record<string, unknown>);
    offset += 4 + length;
  }
  return frames;
}

/** The BackendError a backend call rejects with (fails the test when it resolves). */
export async function failure(promise: Promise<unknown>): Promise<BackendError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BackendError);
  return error as BackendError;
}

let checked: Rig | undefined;

/** startRig, kept so `expectNoReaderViolations` can look at it after the test. */
export async function startCheckedRig(options: RigOptions = {}): Promise<Rig> {
  checked = await startRig(options);
  return checked;
}

/** startCheckedRig with EURUSD pinned at 1.09990 / 1.10000 (stops level 10 points, freeze 5). */
export async function startPendingRig(options: RigOptions = {}): Promise<Rig> {
  const rig = await startCheckedRig(options);
  await rig.fake.sim.setQuote("EURUSD", 1.0999, 1.1);
  return rig;
}

/** Whatever the test did, the gateway never sent a frame the EA's reader refuses (§4). */
export function expectNoReaderViolations(): void {
  expect(checked?.fake.violations ?? []).toEqual([]);
  checked = undefined;
}
