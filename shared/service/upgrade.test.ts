/**
 * The upgrade procedure under Windows' file rules (a running executable can be renamed but not
 * overwritten or deleted), with a fake service manager: the order of the steps (nothing is
 * stopped before the new binary is checked and staged, nothing swapped before the drain and the
 * stop), automatic rollback when the new binary does not start or verify, `--rollback`, and
 * refusals that leave everything as it was. The real binaries run in test/e2e/upgrade.test.ts.
 */
import { describe, expect, test } from "bun:test";
import type { CommandRunner } from "./command-runner.ts";
import {
  type HealthReport,
  rollback,
  type ServiceControl,
  type UpgradeHooks,
  type UpgradeOptions,
  UpgradeOutcome,
  upgrade,
} from "./upgrade.ts";
import type { UpgradeFiles } from "./upgrade-files.ts";

const DIR = "C:\\Program Files\\agent-gtw";
const INSTALLED = `${DIR}\\agent-gtw.exe`;
const PREVIOUS = `${DIR}\\agent-gtw.previous.exe`;
const FAILED = `${DIR}\\agent-gtw.failed.exe`;
const NEW = "D:\\download\\agent-gtw-2.exe";

/** A file's content is how it behaves: "1.0.0", or "2.0.0 unhealthy", "3.0.0 crash", "broken". */
interface FakeFile {
  readonly content: string;
}

/** Files with Windows' rules: an open (running) executable may be renamed, never removed. */
class WindowsFiles implements UpgradeFiles {
  readonly byPath = new Map<string, FakeFile>();
  readonly running = new Set<FakeFile>();

  put(path: string, content: string): FakeFile {
    const file = { content };
    this.byPath.set(path, file);
    return file;
  }

  content(path: string): string | undefined {
    return this.byPath.get(path)?.content;
  }

  exists(path: string): boolean {
    return this.byPath.has(path);
  }

  copy(from: string, to: string): void {
    const file = this.#get(from);
    if (this.byPath.has(to)) throw new Error(`EEXIST ${to}`);
    this.byPath.set(to, { content: file.content });
  }

  rename(from: string, to: string): void {
    const file = this.#get(from);
    if (this.byPath.has(to)) throw new Error(`EEXIST ${to}`);
    this.byPath.delete(from);
    this.byPath.set(to, file);
  }

  remove(path: string): void {
    const file = this.#get(path);
    if (this.running.has(file)) throw new Error(`EBUSY ${path} is running`);
    this.byPath.delete(path);
  }

  lock(path: string, text: string): void {
    if (this.byPath.has(path)) throw new Error(`EEXIST ${path}`);
    this.put(path, text);
  }

  #get(path: string): FakeFile {
    const file = this.byPath.get(path);
    if (file === undefined) throw new Error(`ENOENT ${path}`);
    return file;
  }
}

interface Rig {
  readonly files: WindowsFiles;
  readonly steps: string[];
  readonly options: UpgradeOptions;
  service: FakeFile | undefined;
  drainFails?: boolean;
  stopFails?: boolean;
}

function rig(installed = "1.0.0"): Rig {
  const files = new WindowsFiles();
  const steps: string[] = [];
  const clock = { ms: 0 };
  // The service runs the installed file, and so does this upgrade command
  const own = files.put(INSTALLED, installed);
  files.running.add(own);
  const state: Rig = { files, steps, service: own } as Rig;
  files.put(NEW, "2.0.0");
  const run: CommandRunner = async ([binary]) => {
    const content = files.content(binary as string);
    steps.push(`version ${binary}`);
    if (content === undefined) return { exitCode: 127, stdout: "", stderr: "not found" };
    if (content === "broken") return { exitCode: 1, stdout: "", stderr: "segfault" };
    return { exitCode: 0, stdout: `${content.split(" ")[0]}\n`, stderr: "" };
  };
  const service: ServiceControl = {
    description: "Windows service agent-gtw",
    async stop() {
      steps.push("stop");
      if (state.stopFails) throw new Error("access denied");
      if (state.service !== undefined && state.service !== own) files.running.delete(state.service);
      state.service = undefined;
    },
    async start() {
      const file = files.byPath.get(INSTALLED);
      steps.push(`start ${file?.content}`);
      if (file === undefined || file.content.endsWith("crash"))
        throw new Error("stopped while starting");
      state.service = file;
      files.running.add(file);
    },
  };
  const hooks: UpgradeHooks = {
    async drain() {
      steps.push("drain");
      if (state.drainFails) throw new Error("1 order still in flight");
      return "drained";
    },
    async resume() {
      steps.push("resume");
    },
    async probe(): Promise<HealthReport | undefined> {
      const file = state.service;
      if (file === undefined) return undefined;
      const [version, health] = file.content.split(" ");
      return { version: version as string, ok: health !== "unhealthy", detail: health ?? "ok" };
    },
  };
  const options: UpgradeOptions = {
    program: "agent-gtw",
    installed: INSTALLED,
    service,
    hooks,
    run,
    files,
    out: () => undefined,
    verifyTimeoutMs: 1000,
    // Time passes only while the procedure waits
    now: () => clock.ms,
    sleep: async (ms) => {
      clock.ms += ms;
    },
  };
  return Object.assign(state, { options });
}

const serviceSteps = (r: Rig) => r.steps.filter((step) => !step.startsWith("version"));

describe("upgrade (Windows file rules, fake service manager)", () => {
  test("drain, stop, swap by renames while the old exe runs, start, verify; previous kept", async () => {
    const r = rig();
    const result = await upgrade(r.options, NEW);
    expect(result.outcome).toBe(UpgradeOutcome.UPGRADED);
    expect(serviceSteps(r)).toEqual(["drain", "stop", "start 2.0.0"]);
    expect(r.files.content(INSTALLED)).toBe("2.0.0");
    expect(r.files.content(PREVIOUS)).toBe("1.0.0");
    // Nothing left behind but the two binaries and the download
    expect([...r.files.byPath.keys()].sort()).toEqual([NEW, INSTALLED, PREVIOUS].sort());
  });

  test("a new binary that does not verify is rolled back and the old one runs again", async () => {
    const r = rig();
    r.files.put(NEW, "2.0.0 unhealthy");
    const result = await upgrade(r.options, NEW);
    expect(result.outcome).toBe(UpgradeOutcome.ROLLED_BACK);
    expect(result.message).toContain("it is not ok: unhealthy");
    expect(serviceSteps(r)).toEqual([
      "drain",
      "stop",
      "start 2.0.0 unhealthy",
      "stop",
      "start 1.0.0",
    ]);
    expect(r.files.content(INSTALLED)).toBe("1.0.0");
    expect(r.files.content(FAILED)).toBe("2.0.0 unhealthy");
    expect(r.service?.content).toBe("1.0.0");
  });

  test("a new binary whose service does not start is rolled back too", async () => {
    const r = rig();
    r.files.put(NEW, "2.0.0 crash");
    const result = await upgrade(r.options, NEW);
    expect(result.outcome).toBe(UpgradeOutcome.ROLLED_BACK);
    expect(result.message).toContain("did not start");
    expect(r.files.content(INSTALLED)).toBe("1.0.0");
  });

  test("an agent that was not ok before need only answer with the new version", async () => {
    const r = rig("1.0.0 unhealthy");
    r.files.put(NEW, "2.0.0 unhealthy");
    expect((await upgrade(r.options, NEW)).outcome).toBe(UpgradeOutcome.UPGRADED);
  });

  test("refusals before the service is touched change nothing", async () => {
    const broken = rig();
    broken.files.put(NEW, "broken");
    const result = await upgrade(broken.options, NEW);
    expect(result).toMatchObject({ outcome: UpgradeOutcome.ABORTED });
    expect(result.message).toContain("--version exited with 1: segfault");
    expect(serviceSteps(broken)).toEqual([]);
    expect([...broken.files.byPath.keys()].sort()).toEqual([NEW, INSTALLED].sort());

    const missing = rig();
    expect((await upgrade(missing.options, "D:\\nothing.exe")).message).toContain("does not exist");

    const busy = rig();
    busy.drainFails = true;
    const drained = await upgrade(busy.options, NEW);
    expect(drained.message).toContain("drain failed: 1 order still in flight");
    expect(serviceSteps(busy)).toEqual(["drain", "resume"]);
    expect(busy.files.exists(`${DIR}\\agent-gtw.new.exe`)).toBe(false);

    const denied = rig();
    denied.stopFails = true;
    const stopped = await upgrade(denied.options, NEW);
    expect(stopped.message).toContain("cannot stop Windows service agent-gtw: access denied");
    expect(serviceSteps(denied)).toEqual(["drain", "stop", "resume"]);
    expect(denied.files.content(INSTALLED)).toBe("1.0.0");
  });

  test("another upgrade at the same time is refused", async () => {
    const r = rig();
    r.files.put(`${INSTALLED}.upgrade-lock`, "pid 1");
    const result = await upgrade(r.options, NEW);
    expect(result.message).toContain("another upgrade is running");
    expect(serviceSteps(r)).toEqual([]);
  });

  test("a previous binary still running (the command runs from it) is moved aside, not deleted", async () => {
    const r = rig();
    const old = r.files.put(PREVIOUS, "0.9.0");
    r.files.running.add(old);
    expect((await upgrade(r.options, NEW)).outcome).toBe(UpgradeOutcome.UPGRADED);
    expect(r.files.content(PREVIOUS)).toBe("1.0.0");
    const aside = [...r.files.byPath.keys()].find((path) => path.includes(".previous.old-"));
    expect(aside === undefined ? undefined : r.files.content(aside)).toBe("0.9.0");
  });

  test("--rollback puts the previous binary back and keeps the newer one as previous", async () => {
    const r = rig();
    await upgrade(r.options, NEW);
    r.steps.length = 0;
    const result = await rollback(r.options);
    expect(result.outcome).toBe(UpgradeOutcome.RESTORED);
    expect(serviceSteps(r)).toEqual(["drain", "stop", "start 1.0.0"]);
    expect(r.files.content(INSTALLED)).toBe("1.0.0");
    expect(r.files.content(PREVIOUS)).toBe("2.0.0");

    const none = rig();
    expect((await rollback(none.options)).message).toContain("there is no previous binary");
  });
});
