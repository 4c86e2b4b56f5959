/**
 * systemd's readiness and watchdog protocol (sd_notify) for agent-inf running as a Type=notify
 * unit: READY=1 once serving, STATUS=… lines for `systemctl status`, WATCHDOG=1 pings at half of
 * WatchdogSec, STOPPING=1 at shutdown. A no-op when NOTIFY_SOCKET is unset (console, tests).
 *
 * Bun has no unix datagram sockets (deploy.md §4.4: `dgram` refuses unix_dgram, Bun.udpSocket is
 * IP-only), so the datagram goes out through libc socket()/sendto() over bun:ffi. The unit keeps
 * the JIT on for that reason and for the CURVE crypto (docs/DEPLOY.md, "JIT or
 * MemoryDenyWriteExecute"). Under MemoryDenyWriteExecute=yes bun:ffi throws "requires the JIT"
 * (deploy.md §4.3); we then fall back to spawning `systemd-notify`, which works only with
 * NotifyAccess=all (the unit's `--mdwe` variant sets it).
 */
import { AgentError, FaultCode } from "../errors.ts";
import type { Logger } from "../log.ts";

export interface ServiceNotifier {
  /** True when a notify socket was found and messages are being sent. */
  readonly active: boolean;
  /** How messages are sent: "ffi", "systemd-notify", or "none". */
  readonly transport: "ffi" | "systemd-notify" | "none";
  /** Free-form status shown by `systemctl status` (one line). */
  status(text: string): void;
  /** STOPPING=1: tell systemd the shutdown has begun; also ends the watchdog pings. */
  stopping(text?: string): void;
  /** End the watchdog pings and release the socket. Idempotent. */
  close(): void;
}

/** Sends one notify datagram; returns false when it could not be sent. */
export type NotifySender = (message: string) => boolean;

export interface NotifierOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** STATUS sent with READY=1; defaults to "running". */
  readonly status?: string;
  /** Replaces the ffi/systemd-notify transport (tests). */
  readonly sender?: NotifySender;
  readonly pid?: number;
}

/**
 * Call once the agent is serving: sends READY=1 (with STATUS and MAINPID) and starts WATCHDOG=1
 * pings at half the unit's WatchdogSec. The ping timer runs on the main event loop on purpose: a
 * loop that stops turning stops the pings, and systemd restarts the agent.
 */
export function startServiceNotifier(
  logger: Logger,
  options: NotifierOptions = {},
): ServiceNotifier {
  const env = options.env ?? process.env;
  const socketPath = env["NOTIFY_SOCKET"];
  if (socketPath === undefined || socketPath === "") return inactiveNotifier;
  const pid = options.pid ?? process.pid;

  let transport: ServiceNotifier["transport"] = "ffi";
  let send: NotifySender;
  let closeTransport = () => {};
  if (options.sender !== undefined) {
    send = options.sender;
  } else {
    try {
      const ffi = openFfiSender(socketPath);
      send = ffi.send;
      closeTransport = ffi.close;
    } catch (error) {
      // MemoryDenyWriteExecute=yes leaves JSC without a JIT and bun:ffi refuses to load
      logger.warn("sd_notify over bun:ffi unavailable; falling back to systemd-notify", {
        error: error instanceof Error ? error.message : String(error),
      });
      transport = "systemd-notify";
      send = spawnSystemdNotify;
    }
  }

  const notify = (message: string) => {
    if (!send(message)) logger.warn("sd_notify message not delivered", { message });
  };
  notify(`READY=1\nSTATUS=${oneLine(options.status ?? "running")}\nMAINPID=${pid}`);

  const intervalMs = watchdogIntervalMs(env, pid);
  let timer: ReturnType<typeof setInterval> | undefined;
  if (intervalMs !== undefined) {
    timer = setInterval(() => notify("WATCHDOG=1"), intervalMs);
    timer.unref();
  }
  logger.info("Notified systemd", {
    transport,
    watchdog_ms: intervalMs === undefined ? null : intervalMs * 2,
  });

  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(timer);
    closeTransport();
  };
  return {
    active: true,
    transport,
    status: (text) => {
      if (!closed) notify(`STATUS=${oneLine(text)}`);
    },
    stopping: (text = "stopping") => {
      if (closed) return;
      clearInterval(timer);
      notify(`STOPPING=1\nSTATUS=${oneLine(text)}`);
    },
    close,
  };
}

/**
 * Half of WATCHDOG_USEC in ms (sd_watchdog_enabled's rule), or undefined when the watchdog is
 * off or meant for another process (WATCHDOG_PID names a different pid).
 */
export function watchdogIntervalMs(
  env: Readonly<Record<string, string | undefined>>,
  pid: number,
): number | undefined {
  const usec = Number(env["WATCHDOG_USEC"] ?? "");
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  const watchdogPid = env["WATCHDOG_PID"];
  if (watchdogPid !== undefined && watchdogPid !== "" && Number(watchdogPid) !== pid) {
    return undefined;
  }
  return Math.max(1, Math.floor(usec / 2000));
}

/**
 * struct sockaddr_un for NOTIFY_SOCKET: sa_family AF_UNIX, then the path. A leading "@" names
 * an abstract socket (first path byte NUL, length without a terminator), as sd_notify does.
 */
export function encodeSocketAddress(socketPath: string): Uint8Array {
  const path = Buffer.from(socketPath, "utf8");
  const abstract = socketPath.startsWith("@");
  if (path.length > 107)
    throw new AgentError(
      FaultCode.CONFIG_INVALID,
      `sd_notify: NOTIFY_SOCKET path too long (${path.length})`,
    );
  if (!abstract && !socketPath.startsWith("/")) {
    throw new AgentError(
      FaultCode.CONFIG_INVALID,
      `sd_notify: NOTIFY_SOCKET must be absolute or abstract, was ${socketPath}`,
    );
  }
  const address = new Uint8Array(2 + path.length + (abstract ? 0 : 1));
  new DataView(address.buffer).setUint16(0, AF_UNIX, true);
  address.set(path, 2);
  if (abstract) address[2] = 0;
  return address;
}

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
// Same values on x86_64 and aarch64 Linux, the two agent-inf targets
const SOCK_CLOEXEC = 0o2000000;
const MSG_NOSIGNAL = 0x4000;

function openFfiSender(socketPath: string): { send: NotifySender; close: () => void } {
  // Loaded lazily: a plain `import` would make every agent-inf start depend on bun:ffi
  const { dlopen, ptr } = require("bun:ffi") as typeof import("bun:ffi");
  const libc = dlopen("libc.so.6", {
    socket: { args: ["i32", "i32", "i32"], returns: "i32" },
    sendto: { args: ["i32", "ptr", "u64", "i32", "ptr", "u32"], returns: "i64" },
    close: { args: ["i32"], returns: "i32" },
  });
  const fd = libc.symbols.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    libc.close();
    throw new AgentError(FaultCode.INTERNAL, "sd_notify: socket(AF_UNIX, SOCK_DGRAM) failed");
  }
  const address = encodeSocketAddress(socketPath);
  let open = true;
  return {
    send: (message) => {
      if (!open) return false;
      const bytes = Buffer.from(message, "utf8");
      const sent = libc.symbols.sendto(
        fd,
        ptr(bytes),
        bytes.length,
        MSG_NOSIGNAL,
        ptr(address),
        address.length,
      );
      return Number(sent) === bytes.length;
    },
    close: () => {
      if (!open) return;
      open = false;
      libc.symbols.close(fd);
      libc.close();
    },
  };
}

/** The MDWE fallback; --no-block: systemd-notify 252 otherwise waits for a barrier reply. */
function spawnSystemdNotify(message: string): boolean {
  try {
    const result = Bun.spawnSync(["systemd-notify", "--no-block", ...message.split("\n")], {
      stdin: "ignore",
      stdout: "ignore",
      stderr: "ignore",
    });
    return result.exitCode === 0;
  } catch {
    return false;
  }
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, " ").slice(0, 400);
}

const inactiveNotifier: ServiceNotifier = {
  active: false,
  transport: "none",
  status() {},
  stopping() {},
  close() {},
};
