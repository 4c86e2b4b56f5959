/**
 * The Windows service control protocol as a pure state machine: what to report to the service
 * control manager (SCM) when it starts us, when a control arrives, and when the app fails on its
 * own. No FFI and no Windows here, so every transition is unit-tested on Linux; windows-scm.ts
 * feeds it the SCM's callbacks and writes the statuses with SetServiceStatus (deploy.md §3.4).
 *
 * Transitions (SERVICE_STATUS.dwCurrentState):
 *   ServiceMain → START_PENDING → start() → RUNNING (accepts STOP, SHUTDOWN, PRESHUTDOWN)
 *   STOP / SHUTDOWN / PRESHUTDOWN / fail() → STOP_PENDING → stop() → STOPPED
 *   start() throws → STOP_PENDING → stop() → STOPPED with a service-specific exit code
 * While pending, the status is re-sent with an increasing checkpoint so the SCM sees progress
 * and does not declare the service hung (it allows dwWaitHint ms between checkpoints).
 */
import type { Logger } from "../log.ts";

/** SERVICE_STATUS.dwCurrentState values (winsvc.h). */
export const ServiceState = {
  STOPPED: 1,
  START_PENDING: 2,
  STOP_PENDING: 3,
  RUNNING: 4,
} as const;
export type ServiceState = (typeof ServiceState)[keyof typeof ServiceState];

/** The HandlerEx dwControl codes we act on (winsvc.h). */
export const ServiceControlCode = {
  STOP: 0x01,
  INTERROGATE: 0x04,
  SHUTDOWN: 0x05,
  PRESHUTDOWN: 0x0f,
} as const;

/** SERVICE_ACCEPT_* bits for dwControlsAccepted. */
const ACCEPT_STOP = 0x01;
const ACCEPT_SHUTDOWN = 0x04;
const ACCEPT_PRESHUTDOWN = 0x100;
const SERVICE_WIN32_OWN_PROCESS = 0x10;
/** dwWin32ExitCode meaning "see dwServiceSpecificExitCode". */
export const ERROR_SERVICE_SPECIFIC_ERROR = 1066;
/** HandlerEx return for controls we do not implement. */
export const ERROR_CALL_NOT_IMPLEMENTED = 120;
export const NO_ERROR = 0;

/** Between two checkpoints the SCM waits this long before it considers us hung. */
export const DEFAULT_WAIT_HINT_MS = 10_000;
/** How often a pending state is re-reported with the next checkpoint. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 2_000;
/** A stop() that takes longer than this is abandoned and STOPPED reported anyway. */
export const DEFAULT_STOP_TIMEOUT_MS = 60_000;

export interface ServiceStatus {
  readonly state: ServiceState;
  readonly controlsAccepted: number;
  readonly win32ExitCode: number;
  readonly serviceSpecificExitCode: number;
  readonly checkPoint: number;
  readonly waitHintMs: number;
}

/** SERVICE_STATUS: seven little-endian DWORDs, 28 bytes (winsvc.h). */
export function encodeServiceStatus(status: ServiceStatus): Uint8Array {
  const bytes = new Uint8Array(28);
  const view = new DataView(bytes.buffer);
  const fields = [
    SERVICE_WIN32_OWN_PROCESS,
    status.state,
    status.controlsAccepted,
    status.win32ExitCode,
    status.serviceSpecificExitCode,
    status.checkPoint,
    status.waitHintMs,
  ];
  fields.forEach((value, index) => {
    view.setUint32(index * 4, value >>> 0, true);
  });
  return bytes;
}

/** Passed to start(): lets the app end the service itself, e.g. after a fatal error. */
export interface WindowsServiceControl {
  /** The service name given to runAsWindowsService. */
  readonly serviceName: string;
  /** Stop the service and report a non-zero exit code, so the SCM's recovery actions apply. */
  fail(exitCode: number, reason: string): void;
}

export interface ServiceLifecycleOptions {
  /** The service name, for logs (the SCM ignores it for an own-process service). */
  readonly name: string;
  readonly start: (control: WindowsServiceControl) => Promise<void>;
  readonly stop: () => Promise<void>;
  /** Sends one status to the SCM (SetServiceStatus); throwing is logged, not fatal. */
  readonly report: (status: ServiceStatus) => void;
  readonly logger: Logger;
  /** The service-specific exit code for an error thrown by start(); default 1. */
  readonly exitCodeFor?: (error: unknown) => number;
  readonly checkpointIntervalMs?: number;
  readonly waitHintMs?: number;
  readonly stopTimeoutMs?: number;
}

export class ServiceLifecycle {
  readonly #options: ServiceLifecycleOptions;
  readonly serviceName: string;
  #state: ServiceState = ServiceState.STOPPED;
  #checkPoint = 0;
  #exitCode = 0;
  #started = false;
  #stopRequested: { exitCode: number; reason: string } | undefined;
  #ticker: ReturnType<typeof setInterval> | undefined;
  readonly #done: Promise<number>;
  #resolveDone: (exitCode: number) => void = () => {};

  constructor(options: ServiceLifecycleOptions) {
    this.#options = options;
    this.serviceName = options.name;
    this.#done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
  }

  /** Resolves with the process exit code once STOPPED has been reported. */
  get done(): Promise<number> {
    return this.#done;
  }

  get state(): ServiceState {
    return this.#state;
  }

  /** The SCM called ServiceMain (the handler is registered by the caller first). */
  serviceMain(): void {
    if (this.#started) return;
    this.#started = true;
    this.#enter(ServiceState.START_PENDING);
    const control: WindowsServiceControl = {
      serviceName: this.serviceName,
      fail: (exitCode, reason) => this.#requestStop(exitCode === 0 ? 1 : exitCode, reason),
    };
    this.#options.start(control).then(
      () => {
        if (this.#stopRequested !== undefined) {
          void this.#stop();
          return;
        }
        this.#enter(ServiceState.RUNNING);
        this.#options.logger.info("Service running");
      },
      (error: unknown) => {
        const exitCode = this.#options.exitCodeFor?.(error) ?? 1;
        this.#options.logger.error("Service failed to start", {
          error: error instanceof Error ? error.message : String(error),
          exit_code: exitCode,
        });
        this.#stopRequested = { exitCode: exitCode === 0 ? 1 : exitCode, reason: "start failed" };
        void this.#stop();
      },
    );
  }

  /** A HandlerEx control; returns the DWORD HandlerEx should return. */
  control(code: number): number {
    switch (code) {
      case ServiceControlCode.STOP:
      case ServiceControlCode.SHUTDOWN:
      case ServiceControlCode.PRESHUTDOWN:
        this.#requestStop(0, controlName(code));
        return NO_ERROR;
      case ServiceControlCode.INTERROGATE:
        // The SCM asks for the current status; answering means re-sending it
        this.#send();
        return NO_ERROR;
      default:
        return ERROR_CALL_NOT_IMPLEMENTED;
    }
  }

  #requestStop(exitCode: number, reason: string): void {
    if (this.#stopRequested !== undefined) return;
    this.#stopRequested = { exitCode, reason };
    this.#options.logger.info("Service stopping", { reason });
    // During START_PENDING the stop waits for start() to settle (serviceMain's continuation)
    if (this.#state === ServiceState.RUNNING) void this.#stop();
  }

  async #stop(): Promise<void> {
    if (this.#state === ServiceState.STOP_PENDING || this.#state === ServiceState.STOPPED) return;
    this.#enter(ServiceState.STOP_PENDING);
    const timeoutMs = this.#options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    let exitCode = this.#stopRequested?.exitCode ?? 0;
    try {
      const outcome = await Promise.race([this.#options.stop().then(() => "stopped"), timedOut]);
      if (outcome === "timeout") {
        this.#options.logger.error("Service stop timed out; reporting stopped anyway", {
          timeout_ms: timeoutMs,
        });
        exitCode = exitCode === 0 ? 1 : exitCode;
      }
    } catch (error) {
      this.#options.logger.error("Service stop failed", {
        error: error instanceof Error ? error.message : String(error),
      });
      exitCode = exitCode === 0 ? 1 : exitCode;
    } finally {
      clearTimeout(timer);
    }
    this.#exitCode = exitCode;
    this.#enter(ServiceState.STOPPED);
    this.#resolveDone(exitCode);
  }

  #enter(state: ServiceState): void {
    this.#state = state;
    this.#checkPoint = 0;
    clearInterval(this.#ticker);
    this.#ticker = undefined;
    this.#send();
    if (state === ServiceState.START_PENDING || state === ServiceState.STOP_PENDING) {
      this.#ticker = setInterval(() => {
        this.#checkPoint += 1;
        this.#send();
      }, this.#options.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS);
    }
  }

  #send(): void {
    const pending =
      this.#state === ServiceState.START_PENDING || this.#state === ServiceState.STOP_PENDING;
    const failed = this.#state === ServiceState.STOPPED && this.#exitCode !== 0;
    const status: ServiceStatus = {
      state: this.#state,
      controlsAccepted:
        this.#state === ServiceState.RUNNING
          ? ACCEPT_STOP | ACCEPT_SHUTDOWN | ACCEPT_PRESHUTDOWN
          : 0,
      // A non-zero exit code with `sc failureflag <name> 1` makes the SCM run its recovery actions
      win32ExitCode: failed ? ERROR_SERVICE_SPECIFIC_ERROR : NO_ERROR,
      serviceSpecificExitCode: failed ? this.#exitCode : 0,
      checkPoint: pending ? this.#checkPoint + 1 : 0,
      waitHintMs: pending ? (this.#options.waitHintMs ?? DEFAULT_WAIT_HINT_MS) : 0,
    };
    try {
      this.#options.report(status);
    } catch (error) {
      this.#options.logger.error("SetServiceStatus failed", {
        state: status.state,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}

function controlName(code: number): string {
  switch (code) {
    case ServiceControlCode.STOP:
      return "SERVICE_CONTROL_STOP";
    case ServiceControlCode.SHUTDOWN:
      return "SERVICE_CONTROL_SHUTDOWN";
    case ServiceControlCode.PRESHUTDOWN:
      return "SERVICE_CONTROL_PRESHUTDOWN";
    default:
      return `control ${code}`;
  }
}
