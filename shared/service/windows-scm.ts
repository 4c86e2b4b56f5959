/**
 * Run as a real Windows service with no third-party wrapper: the service control protocol through
 * bun:ffi on advapi32 (deploy.md §3.4). Windows only; the decisions live in service-lifecycle.ts.
 *
 * How the pieces fit:
 * - StartServiceCtrlDispatcherW blocks its calling thread until the service has stopped, so a
 *   Worker makes that call and the main event loop stays free for the gateway.
 * - ServiceMain and HandlerEx are threadsafe JSCallbacks created on the main thread: the SCM calls
 *   them on its own threads and Bun queues each call onto the main JS thread. The native caller
 *   does not wait for the JS function, so HandlerEx's DWORD result is always 0 (NO_ERROR) and
 *   ServiceMain returns at once, which the SCM allows (the service lives on in our other threads).
 *   For the same reason no pointer argument may be dereferenced: it can be gone by then.
 * - SetServiceStatus may be called from any thread of the service, so the main thread reports.
 * - The process must be started with an explicit `--service` (never auto-detected): Windows fails
 *   the dispatcher at once with 1063 in a console, but Wine blocks forever (deploy.md §3.4).
 *
 * Verified under Wine's SCM (scripts/wine/smoke.sh); real Windows is still to be verified.
 */
import type { Pointer } from "bun:ffi";
import { AgentError, FaultCode } from "../errors.ts";
import type { Logger } from "../log.ts";
import { silentLogger } from "../log.ts";
import {
  encodeServiceStatus,
  ServiceLifecycle,
  ServiceState,
  type ServiceStatus,
  type WindowsServiceControl,
} from "./service-lifecycle.ts";

export type { WindowsServiceControl } from "./service-lifecycle.ts";

/** StartServiceCtrlDispatcherW's error when the process was not started by the SCM. */
export const ERROR_FAILED_SERVICE_CONTROLLER_CONNECT = 1063;

export interface WindowsServiceOptions {
  readonly logger?: Logger;
  /** The service-specific exit code for an error thrown by start() (e.g. 3 for config errors). */
  readonly exitCodeFor?: (error: unknown) => number;
}

/**
 * Hand the process to the SCM: report START_PENDING, await start(), report RUNNING; on STOP,
 * SHUTDOWN or control.fail(), report STOP_PENDING, await stop() (the journal is flushed there),
 * report STOPPED. Resolves with the process exit code after STOPPED was reported; rejects when
 * the SCM cannot be reached (not started as a service, or not on Windows).
 */
export async function runAsWindowsService(
  name: string,
  start: (control: WindowsServiceControl) => Promise<void>,
  stop: () => Promise<void>,
  options: WindowsServiceOptions = {},
): Promise<number> {
  if (process.platform !== "win32") {
    throw new AgentError(
      FaultCode.USAGE,
      "service: --service is only meaningful on Windows (use systemd on Linux)",
    );
  }
  const logger = options.logger ?? silentLogger;
  const { dlopen, JSCallback, ptr } = await import("bun:ffi");
  const advapi = dlopen("advapi32.dll", {
    RegisterServiceCtrlHandlerExW: { args: ["ptr", "ptr", "ptr"], returns: "ptr" },
    SetServiceStatus: { args: ["ptr", "ptr"], returns: "i32" },
  });
  const kernel = dlopen("kernel32.dll", { GetLastError: { args: [], returns: "u32" } });

  // Every buffer handed to Windows stays referenced until the dispatcher has returned
  const nameBuffer = wideString(name);
  const statusBuffer = new Uint8Array(28);
  let statusHandle: Pointer | null = null;

  const lifecycle = new ServiceLifecycle({
    name,
    start,
    stop,
    logger,
    ...(options.exitCodeFor === undefined ? {} : { exitCodeFor: options.exitCodeFor }),
    report: (status: ServiceStatus) => {
      if (statusHandle === null)
        throw new AgentError(FaultCode.INTERNAL, "no service status handle");
      statusBuffer.set(encodeServiceStatus(status));
      if (advapi.symbols.SetServiceStatus(statusHandle, ptr(statusBuffer)) === 0) {
        throw new AgentError(
          FaultCode.INTERNAL,
          `SetServiceStatus error ${kernel.symbols.GetLastError()}`,
        );
      }
    },
  });

  // HandlerEx(dwControl, dwEventType, lpEventData, lpContext) -> DWORD
  const handler = new JSCallback((control: number) => lifecycle.control(control), {
    args: ["u32", "u32", "ptr", "ptr"],
    returns: "u32",
    threadsafe: true,
  });
  // ServiceMain(dwNumServicesArgs, lpServiceArgVectors) -> void
  // Its arguments are not read: the queued call runs after the SCM's thread has returned, so
  // lpServiceArgVectors may already be freed (tried: the service name came back as garbage)
  const serviceMain = new JSCallback(
    () => {
      const handle = advapi.symbols.RegisterServiceCtrlHandlerExW(
        ptr(nameBuffer),
        handler.ptr,
        null,
      );
      statusHandle = typeof handle === "number" && handle !== 0 ? (handle as Pointer) : null;
      if (statusHandle === null) {
        logger.error("RegisterServiceCtrlHandlerExW failed", {
          error: kernel.symbols.GetLastError(),
        });
        return;
      }
      logger.info("Service main called", { service: name });
      lifecycle.serviceMain();
    },
    { args: ["u32", "ptr"], returns: "void", threadsafe: true },
  );

  // SERVICE_TABLE_ENTRYW[2]: {lpServiceName, lpServiceProc} then the all-null terminator
  const table = new Uint8Array(32);
  const tableView = new DataView(table.buffer);
  tableView.setBigUint64(0, BigInt(ptr(nameBuffer)), true);
  tableView.setBigUint64(8, BigInt(serviceMain.ptr ?? 0), true);

  try {
    const dispatcher = await runDispatcher(ptr(table));
    if (!dispatcher.ok) {
      throw new AgentError(
        FaultCode.INTERNAL,
        dispatcher.error === ERROR_FAILED_SERVICE_CONTROLLER_CONNECT
          ? "service: not started by the service control manager (error 1063); run without --service in a console"
          : `service: StartServiceCtrlDispatcherW failed with error ${dispatcher.error}`,
      );
    }
    // The dispatcher returns once STOPPED is reported, so done has settled by now; anything
    // else means the SCM gave up on us (handler registration failed)
    if (lifecycle.state !== ServiceState.STOPPED) {
      logger.error("Service dispatcher returned before the service stopped");
      return 1;
    }
    return await lifecycle.done;
  } finally {
    serviceMain.close();
    handler.close();
    advapi.close();
    kernel.close();
    void nameBuffer.length;
    void table.length;
  }
}

/** A NUL-terminated UTF-16LE string, as the W APIs take. */
function wideString(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(`${text}\0`, "utf16le"));
}

// Runs in the Worker: plain JavaScript (no TypeScript to strip in a Blob), its own dlopen, and one
// call that blocks that thread until the service has stopped
const DISPATCHER_WORKER = `
import { dlopen } from "bun:ffi";
self.onmessage = (event) => {
  const advapi = dlopen("advapi32.dll", {
    StartServiceCtrlDispatcherW: { args: ["ptr"], returns: "i32" },
  });
  const kernel = dlopen("kernel32.dll", { GetLastError: { args: [], returns: "u32" } });
  const ok = advapi.symbols.StartServiceCtrlDispatcherW(event.data.table) !== 0;
  const error = ok ? 0 : kernel.symbols.GetLastError();
  postMessage({ ok, error });
};
`;

function runDispatcher(table: number): Promise<{ ok: boolean; error: number }> {
  const url = URL.createObjectURL(new Blob([DISPATCHER_WORKER], { type: "text/javascript" }));
  const worker = new Worker(url);
  return new Promise((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<{ ok: boolean; error: number }>) => {
      resolve(event.data);
      worker.terminate();
      URL.revokeObjectURL(url);
    };
    worker.onerror = (event) => {
      reject(
        new AgentError(FaultCode.INTERNAL, `service: dispatcher worker failed: ${event.message}`),
      );
      worker.terminate();
      URL.revokeObjectURL(url);
    };
    worker.postMessage({ table });
  });
}
