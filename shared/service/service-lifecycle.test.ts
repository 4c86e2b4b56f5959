import { describe, expect, test } from "bun:test";
import { eventually } from "../../scripts/harness/eventually.ts";
import { silentLogger } from "../log.ts";
import {
  ERROR_CALL_NOT_IMPLEMENTED,
  ERROR_SERVICE_SPECIFIC_ERROR,
  encodeServiceStatus,
  NO_ERROR,
  ServiceControlCode,
  ServiceLifecycle,
  type ServiceLifecycleOptions,
  ServiceState,
  type ServiceStatus,
  type WindowsServiceControl,
} from "./service-lifecycle.ts";

interface Harness {
  readonly lifecycle: ServiceLifecycle;
  readonly reports: ServiceStatus[];
  readonly calls: string[];
  control(): WindowsServiceControl;
  finishStart(error?: Error): void;
  finishStop(error?: Error): void;
}

function harness(overrides: Partial<ServiceLifecycleOptions> = {}): Harness {
  const reports: ServiceStatus[] = [];
  const calls: string[] = [];
  let control: WindowsServiceControl | undefined;
  let startDone: ((error?: Error) => void) | undefined;
  let stopDone: ((error?: Error) => void) | undefined;
  const settle = (resolve: () => void, reject: (error: Error) => void) => (error?: Error) =>
    error === undefined ? resolve() : reject(error);
  const lifecycle = new ServiceLifecycle({
    name: "agent-gtw",
    logger: silentLogger,
    report: (status) => reports.push(status),
    start: (given) => {
      calls.push("start");
      control = given;
      return new Promise((resolve, reject) => {
        startDone = settle(resolve, reject);
      });
    },
    stop: () => {
      calls.push("stop");
      return new Promise((resolve, reject) => {
        stopDone = settle(resolve, reject);
      });
    },
    ...overrides,
  });
  return {
    lifecycle,
    reports,
    calls,
    control: () => control as WindowsServiceControl,
    finishStart: (error) => startDone?.(error),
    finishStop: (error) => stopDone?.(error),
  };
}

const states = (reports: readonly ServiceStatus[]) => reports.map((report) => report.state);

describe("encodeServiceStatus", () => {
  test("writes SERVICE_STATUS as seven little-endian DWORDs", () => {
    const bytes = encodeServiceStatus({
      state: ServiceState.RUNNING,
      controlsAccepted: 0x105,
      win32ExitCode: ERROR_SERVICE_SPECIFIC_ERROR,
      serviceSpecificExitCode: 3,
      checkPoint: 7,
      waitHintMs: 10_000,
    });
    const view = new DataView(bytes.buffer);
    expect(bytes.length).toBe(28);
    expect([0, 4, 8, 12, 16, 20, 24].map((offset) => view.getUint32(offset, true))).toEqual([
      0x10, 4, 0x105, 1066, 3, 7, 10_000,
    ]);
  });
});

describe("ServiceLifecycle", () => {
  test("reports START_PENDING, then RUNNING accepting stop and shutdown once start resolves", async () => {
    const h = harness();
    h.lifecycle.serviceMain();
    expect(states(h.reports)).toEqual([ServiceState.START_PENDING]);
    expect(h.reports[0]).toMatchObject({ controlsAccepted: 0, checkPoint: 1, waitHintMs: 10_000 });
    h.finishStart();
    await eventually(() => h.lifecycle.state === ServiceState.RUNNING);
    expect(h.reports.at(-1)).toEqual({
      state: ServiceState.RUNNING,
      controlsAccepted: 0x01 | 0x04 | 0x100,
      win32ExitCode: 0,
      serviceSpecificExitCode: 0,
      checkPoint: 0,
      waitHintMs: 0,
    });
    expect(h.control().serviceName).toBe("agent-gtw");
  });

  test("STOP goes through STOP_PENDING to STOPPED only after stop() resolves, exit code 0", async () => {
    const h = harness();
    h.lifecycle.serviceMain();
    h.finishStart();
    await eventually(() => h.lifecycle.state === ServiceState.RUNNING);
    expect(h.lifecycle.control(ServiceControlCode.STOP)).toBe(NO_ERROR);
    expect(h.lifecycle.state).toBe(ServiceState.STOP_PENDING);
    expect(h.calls).toEqual(["start", "stop"]);
    h.finishStop();
    expect(await h.lifecycle.done).toBe(0);
    expect(states(h.reports)).toEqual([
      ServiceState.START_PENDING,
      ServiceState.RUNNING,
      ServiceState.STOP_PENDING,
      ServiceState.STOPPED,
    ]);
    expect(h.reports.at(-1)).toMatchObject({ win32ExitCode: 0, serviceSpecificExitCode: 0 });
  });

  test.each([ServiceControlCode.SHUTDOWN, ServiceControlCode.PRESHUTDOWN])(
    "control %d stops like STOP, and a repeated control does not stop twice",
    async (code) => {
      const h = harness();
      h.lifecycle.serviceMain();
      h.finishStart();
      await eventually(() => h.lifecycle.state === ServiceState.RUNNING);
      h.lifecycle.control(code);
      h.lifecycle.control(ServiceControlCode.STOP);
      h.finishStop();
      expect(await h.lifecycle.done).toBe(0);
      expect(h.calls).toEqual(["start", "stop"]);
    },
  );

  test("a start that throws is reported as STOPPED with a service-specific exit code", async () => {
    const h = harness({ exitCodeFor: () => 3 });
    h.lifecycle.serviceMain();
    h.finishStart(new Error("config: 1 problem"));
    await eventually(() => h.calls.includes("stop"));
    h.finishStop();
    expect(await h.lifecycle.done).toBe(3);
    expect(h.reports.at(-1)).toMatchObject({
      state: ServiceState.STOPPED,
      win32ExitCode: ERROR_SERVICE_SPECIFIC_ERROR,
      serviceSpecificExitCode: 3,
    });
    expect(states(h.reports)).not.toContain(ServiceState.RUNNING);
  });

  test("fail() from the app stops it and reports the failure so recovery actions run", async () => {
    const h = harness();
    h.lifecycle.serviceMain();
    h.finishStart();
    await eventually(() => h.lifecycle.state === ServiceState.RUNNING);
    h.control().fail(0, "uncaught exception");
    h.finishStop();
    expect(await h.lifecycle.done).toBe(1);
    expect(h.reports.at(-1)).toMatchObject({ win32ExitCode: 1066, serviceSpecificExitCode: 1 });
  });

  test("a stop requested while starting waits for the start, then stops without RUNNING", async () => {
    const h = harness();
    h.lifecycle.serviceMain();
    h.control().fail(2, "fatal during start");
    expect(h.calls).toEqual(["start"]);
    h.finishStart();
    await eventually(() => h.calls.includes("stop"));
    h.finishStop();
    expect(await h.lifecycle.done).toBe(2);
    expect(states(h.reports)).not.toContain(ServiceState.RUNNING);
  });

  test("a stop() that hangs is abandoned after the stop timeout and reported as a failure", async () => {
    const h = harness({ stopTimeoutMs: 30 });
    h.lifecycle.serviceMain();
    h.finishStart();
    await eventually(() => h.lifecycle.state === ServiceState.RUNNING);
    h.lifecycle.control(ServiceControlCode.STOP);
    expect(await h.lifecycle.done).toBe(1);
    expect(h.lifecycle.state).toBe(ServiceState.STOPPED);
  });

  test("pending states are re-reported with increasing checkpoints", async () => {
    const h = harness({ checkpointIntervalMs: 5 });
    h.lifecycle.serviceMain();
    await eventually(() => h.reports.length >= 4, { timeoutMs: 2000 });
    const checkpoints = h.reports.map((report) => report.checkPoint);
    expect(checkpoints.slice(0, 4)).toEqual([1, 2, 3, 4]);
    h.finishStart();
    await eventually(() => h.lifecycle.state === ServiceState.RUNNING);
    const count = h.reports.length;
    await Bun.sleep(30);
    expect(h.reports.length).toBe(count);
  });

  test("INTERROGATE re-sends the status; unknown controls are not implemented", async () => {
    const h = harness();
    h.lifecycle.serviceMain();
    h.finishStart();
    await eventually(() => h.lifecycle.state === ServiceState.RUNNING);
    const before = h.reports.length;
    expect(h.lifecycle.control(ServiceControlCode.INTERROGATE)).toBe(NO_ERROR);
    expect(h.reports.length).toBe(before + 1);
    expect(h.lifecycle.control(0x02)).toBe(ERROR_CALL_NOT_IMPLEMENTED);
    h.lifecycle.control(ServiceControlCode.STOP);
    h.finishStop();
    await h.lifecycle.done;
  });

  test("a failing SetServiceStatus is logged, not thrown into the SCM's callback", async () => {
    const h = harness({
      report: () => {
        throw new Error("SetServiceStatus error 6");
      },
    });
    expect(() => h.lifecycle.serviceMain()).not.toThrow();
    h.finishStart();
    await eventually(() => h.lifecycle.state === ServiceState.RUNNING);
    h.lifecycle.control(ServiceControlCode.STOP);
    h.finishStop();
    expect(await h.lifecycle.done).toBe(0);
  });
});
