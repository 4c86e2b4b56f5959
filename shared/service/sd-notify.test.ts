import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually } from "../../scripts/harness/eventually.ts";
import { silentLogger } from "../log.ts";
import { encodeSocketAddress, startServiceNotifier, watchdogIntervalMs } from "./sd-notify.ts";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

describe("encodeSocketAddress", () => {
  test("a filesystem socket is AF_UNIX, the path and a terminating NUL", () => {
    const address = encodeSocketAddress("/run/systemd/notify");
    expect(Array.from(address.subarray(0, 2))).toEqual([1, 0]);
    expect(Buffer.from(address.subarray(2)).toString("latin1")).toBe("/run/systemd/notify\0");
  });

  test("an abstract socket (@name) starts with NUL and has no terminator", () => {
    const address = encodeSocketAddress("@/org/freedesktop/systemd1/notify/123");
    expect(address.length).toBe(2 + 37);
    expect(address[2]).toBe(0);
    expect(Buffer.from(address.subarray(3)).toString("latin1")).toBe(
      "/org/freedesktop/systemd1/notify/123",
    );
  });

  test("refuses relative and overlong paths", () => {
    expect(() => encodeSocketAddress("notify")).toThrow(/absolute or abstract/);
    expect(() => encodeSocketAddress(`/${"x".repeat(120)}`)).toThrow(/too long/);
  });
});

describe("watchdogIntervalMs", () => {
  test("is half of WATCHDOG_USEC, in ms", () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "20000000" }, 42)).toBe(10_000);
  });

  test("is off without WATCHDOG_USEC, or when WATCHDOG_PID names another process", () => {
    expect(watchdogIntervalMs({}, 42)).toBeUndefined();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "0" }, 42)).toBeUndefined();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "1000000", WATCHDOG_PID: "7" }, 42)).toBeUndefined();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "1000000", WATCHDOG_PID: "42" }, 42)).toBe(500);
  });
});

describe("startServiceNotifier", () => {
  test("does nothing without NOTIFY_SOCKET", () => {
    const sent: string[] = [];
    const notifier = startServiceNotifier(silentLogger, {
      env: {},
      sender: (message) => sent.push(message) > 0,
    });
    notifier.status("x");
    notifier.stopping();
    notifier.close();
    expect(notifier.active).toBe(false);
    expect(sent).toEqual([]);
  });

  test("sends READY with status and MAINPID, watchdog pings, STOPPING, then nothing", async () => {
    const sent: string[] = [];
    const notifier = startServiceNotifier(silentLogger, {
      env: { NOTIFY_SOCKET: "/run/notify", WATCHDOG_USEC: "20000" },
      status: "listening on 127.0.0.1:8765\nsecond line",
      pid: 42,
      sender: (message) => sent.push(message) > 0,
    });
    cleanups.push(() => notifier.close());
    expect(sent[0]).toBe("READY=1\nSTATUS=listening on 127.0.0.1:8765 second line\nMAINPID=42");
    await eventually(() => sent.filter((message) => message === "WATCHDOG=1").length >= 2, {
      timeoutMs: 2000,
    });
    notifier.status("2 gateways connected");
    notifier.stopping("stopping: SIGTERM");
    const count = sent.length;
    await Bun.sleep(40);
    notifier.close();
    notifier.status("ignored after close");
    expect(sent.slice(count - 2, count)).toEqual([
      "STATUS=2 gateways connected",
      "STOPPING=1\nSTATUS=stopping: SIGTERM",
    ]);
    expect(sent.length).toBe(count);
  });

  // Variant (B) of docs/DEPLOY.md: MemoryDenyWriteExecute=yes leaves JavaScriptCore without a JIT
  // (BUN_JSC_useJIT=0 is the same, deploy.md §4.3), bun:ffi refuses, systemd-notify takes over
  test.skipIf(!Bun.which("systemd-notify"))(
    "falls back to systemd-notify when bun:ffi is unavailable (no JIT)",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "mlb-notify-"));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const socketPath = join(dir, "notify");
      const received = join(dir, "received.txt");
      const receiver = Bun.spawn(
        [
          "/usr/bin/python3",
          "-c",
          `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(10)
open(sys.argv[3], "w").close()
messages = [s.recv(4096).decode() for _ in range(2)]
open(sys.argv[2], "w").write("\\n---\\n".join(messages))
`,
          socketPath,
          received,
          join(dir, "ready"),
        ],
        { stdout: "ignore", stderr: "pipe" },
      );
      cleanups.push(() => receiver.kill());
      await eventually(() => Bun.file(join(dir, "ready")).exists(), { timeoutMs: 5000 });
      const script = join(dir, "notify.ts");
      await Bun.write(
        script,
        `import { startServiceNotifier } from ${JSON.stringify(join(import.meta.dir, "sd-notify.ts"))};
import { silentLogger } from ${JSON.stringify(join(import.meta.dir, "..", "log.ts"))};
const notifier = startServiceNotifier(silentLogger, { status: "no jit", pid: 7 });
notifier.stopping();
notifier.close();
process.stdout.write(notifier.transport);
`,
      );
      const child = Bun.spawnSync([process.execPath, script], {
        env: { ...process.env, NOTIFY_SOCKET: socketPath, BUN_JSC_useJIT: "0" },
        stdout: "pipe",
        stderr: "pipe",
        timeout: 20_000,
      });
      expect(child.stdout.toString()).toBe("systemd-notify");
      expect(await receiver.exited).toBe(0);
      expect(readFileSync(received, "utf8").split("\n---\n")).toEqual([
        "READY=1\nSTATUS=no jit\nMAINPID=7",
        "STOPPING=1\nSTATUS=stopping",
      ]);
    },
  );

  // The real datagram path (bun:ffi → libc sendto) against a receiver that reads what systemd
  // would: one datagram per message, on a filesystem and on an abstract socket.
  test.each(["filesystem", "abstract"])(
    "delivers datagrams over bun:ffi to a %s socket",
    async (kind) => {
      const dir = mkdtempSync(join(tmpdir(), "mlb-notify-"));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const socketPath =
        kind === "abstract" ? `@mlb-notify-test-${process.pid}-${Date.now()}` : join(dir, "notify");
      const received = join(dir, "received.txt");
      const receiver = Bun.spawn(
        [
          "/usr/bin/python3",
          "-c",
          `
import socket, sys
path, out, ready = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\\0" + path[1:] if path.startswith("@") else path)
s.settimeout(10)
open(ready, "w").close()
messages = []
while len(messages) < 3:
    messages.append(s.recv(4096).decode())
open(out, "w").write("\\n---\\n".join(messages))
`,
          socketPath,
          received,
          join(dir, "ready"),
        ],
        { stdout: "ignore", stderr: "pipe" },
      );
      cleanups.push(() => receiver.kill());
      await eventually(() => Bun.file(join(dir, "ready")).exists(), { timeoutMs: 5000 });
      const notifier = startServiceNotifier(silentLogger, {
        env: { NOTIFY_SOCKET: socketPath },
        status: "running",
        pid: 4242,
      });
      notifier.status("still running");
      notifier.stopping();
      notifier.close();
      expect(await receiver.exited).toBe(0);
      expect(notifier.transport).toBe("ffi");
      expect(readFileSync(received, "utf8").split("\n---\n")).toEqual([
        "READY=1\nSTATUS=running\nMAINPID=4242",
        "STATUS=still running",
        "STOPPING=1\nSTATUS=stopping",
      ]);
    },
  );
});
