/**
 * `upgrade` with real compiled binaries of both agents under a fake service manager (a process
 * supervisor standing in for systemd or the SCM: start spawns the installed file, stop sends
 * SIGTERM and waits): an order in flight when the gateway drains is completed and journaled,
 * one sent during the drain is refused untouched, and the new binary serves the journal; a new
 * binary that does not verify is rolled back and the old one runs again; `--rollback` restores
 * the previous binary; agent-inf is verified through its health endpoint.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import {
  cleanupRigs,
  onCleanup,
  terminalDeployment,
} from "../../agent-gtw/backend/terminal/testing/rig.ts";
import { gatewayUpgradeHooks, runGatewayUpgrade } from "../../agent-gtw/cli/upgrade.ts";
import { runInferenceUpgrade } from "../../agent-inf/cli/upgrade.ts";
import { compileExecutable, TARGETS } from "../../scripts/build.ts";
import { startGateway } from "../../scripts/harness/agents.ts";
import { createDeployment } from "../../scripts/harness/deployment.ts";
import { eventually } from "../../scripts/harness/eventually.ts";
import { bearer, writeInferenceConfig } from "../../scripts/harness/inference.ts";
import { TestClient } from "../../scripts/harness/test-client.ts";
import type { OrderReply } from "../../shared/protocol/index.ts";
import { spawnCommand } from "../../shared/service/command-runner.ts";
import { type ServiceControl, UpgradeOutcome, upgrade } from "../../shared/service/upgrade.ts";

const V1 = "1.0.0-upgrade-test";
const V2 = "2.0.0-upgrade-test";
const V3 = "3.0.0-upgrade-test";
let work = "";
const built: Record<string, string> = {};

/** A Linux x64 binary with the shipped build flags (scripts/build.ts), a version baked in. */
async function compile(
  agent: "agent-gtw" | "agent-inf",
  version: string,
  name: string,
  entry?: string,
) {
  const target = TARGETS.find(
    (candidate) =>
      candidate.agent === agent && candidate.os === "linux" && candidate.arch === "x64",
  );
  if (target === undefined) throw new Error(`no linux x64 target for ${agent}`);
  const out = join(work, "downloads", name);
  await compileExecutable(target, version, out, entry);
  return out;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "mlb-upgrade-"));
  built["gtw1"] = await compile("agent-gtw", V1, "agent-gtw-1");
  built["gtw2"] = await compile("agent-gtw", V2, "agent-gtw-2");
  built["inf1"] = await compile("agent-inf", V1, "agent-inf-1");
  built["inf2"] = await compile("agent-inf", V2, "agent-inf-2");
  // A new release that answers --version but dies at start
  const broken = join(work, "broken.ts");
  await Bun.write(
    broken,
    `if (process.argv[2] === "--version") console.log(${JSON.stringify(V3)});\nelse { console.error("fatal: cannot start"); process.exit(1); }\n`,
  );
  built["broken"] = await compile("agent-gtw", V3, "broken", broken);
}, 120_000);

afterAll(() => {
  if (work !== "") rmSync(work, { recursive: true, force: true });
});
afterEach(cleanupRigs);

/** A process supervisor with systemd's Type=simple semantics. */
class FakeService implements ServiceControl {
  readonly description = "fake service";
  child: Subprocess<"ignore", "ignore", "pipe"> | undefined;
  log = "";
  readonly #argv: string[];

  constructor(argv: string[]) {
    this.#argv = argv;
    onCleanup(() => this.stop().catch(() => this.child?.kill("SIGKILL")));
  }

  async start(): Promise<void> {
    const child = Bun.spawn(this.#argv, { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    this.child = child;
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of child.stderr) this.log += decoder.decode(chunk, { stream: true });
    })();
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null) return;
    child.kill("SIGTERM");
    const code = await Promise.race([child.exited, Bun.sleep(20_000).then(() => undefined)]);
    if (code === undefined) {
      child.kill("SIGKILL");
      throw new Error("did not stop within 20 s");
    }
  }
}

/** Install `binary` as `<dir>/bin/<name>`, executable. */
function install(dir: string, binary: string, name: string): string {
  const installed = join(dir, "bin", name);
  Bun.spawnSync(["mkdir", "-p", join(dir, "bin")]);
  copyFileSync(binary, installed);
  chmodSync(installed, 0o755);
  return installed;
}

const versionOf = (binary: string) => Bun.spawnSync([binary, "--version"]).stdout.toString().trim();

const statusOf = (stateDir: string) =>
  JSON.parse(readFileSync(join(stateDir, "status.json"), "utf8")) as Record<string, unknown>;

describe("agent-gtw upgrade", () => {
  test("an order in flight during the drain is completed and journaled; the new binary serves it", async () => {
    const { deployment, fake } = await terminalDeployment({ command_timeout_ms: 10_000 });
    const installed = install(deployment.dir, built["gtw1"] as string, "agent-gtw");
    const service = new FakeService([installed, "run", "--config", deployment.gtwConfigPath]);
    await service.start();
    const hooks = gatewayUpgradeHooks(deployment.gtwStateDir, 15_000);
    await eventually(async () => (await hooks.probe())?.ok === true, {
      timeoutMs: 15_000,
      message: "v1 running with the EA link up",
    });
    const client = new TestClient(String(statusOf(deployment.gtwStateDir)["endpoint"]), deployment);
    onCleanup(() => client.close());

    fake.faults.push({ kind: "delay", cmd: "OPEN", ms: 2500 });
    const inFlight = client.send({
      action: "OPEN",
      symbol: "EURUSD",
      side: "BUY",
      volume: 0.1,
      client_order_id: "upg-in-flight",
    });
    await eventually(() => fake.commands.some((command) => command.cmd === "OPEN"), {
      timeoutMs: 5000,
    });
    const lines: string[] = [];
    const upgrading = upgrade(
      {
        program: "agent-gtw",
        installed,
        service,
        hooks,
        run: spawnCommand,
        out: (line) => lines.push(line),
        verifyTimeoutMs: 30_000,
      },
      built["gtw2"] as string,
    );
    await eventually(() => service.log.includes("Draining"), { timeoutMs: 5000 });
    // The gateway is draining: a new order is refused and nothing executes
    const refused = await client.send({
      action: "OPEN",
      symbol: "EURUSD",
      side: "BUY",
      volume: 0.1,
      client_order_id: "upg-during-drain",
    });
    expect(refused).toMatchObject({ status: "ERROR", error_code: "SHUTTING_DOWN" });
    expect(await inFlight).toMatchObject({ status: "FILLED", volume: 0.1 });

    const result = await upgrading;
    expect({ result, log: service.log.slice(-2000) }).toMatchObject({
      result: { outcome: UpgradeOutcome.UPGRADED },
    });
    expect(lines.join("\n")).toContain("drained: new orders refused, 1 in flight finished");
    expect(versionOf(installed)).toBe(V2);
    expect(versionOf(`${installed}.previous`)).toBe(V1);
    expect(statusOf(deployment.gtwStateDir)).toMatchObject({ version: V2 });

    const after = new TestClient(String(statusOf(deployment.gtwStateDir)["endpoint"]), deployment);
    onCleanup(() => after.close());
    const order = (await after.send({
      action: "GET_ORDER",
      client_order_id: "upg-in-flight",
    })) as OrderReply;
    expect(order.order).toMatchObject({ state: "FILLED" });
    expect(
      (
        (await after.send({
          action: "GET_ORDER",
          client_order_id: "upg-during-drain",
        })) as OrderReply
      ).order,
    ).toBeNull();
    expect(await fake.sim.positions()).toHaveLength(1);
  }, 90_000);

  test("a new binary that does not verify is rolled back; --rollback restores the previous one", async () => {
    const deployment = createDeployment();
    onCleanup(() => deployment.remove());
    const installed = install(deployment.dir, built["gtw1"] as string, "agent-gtw");
    const service = new FakeService([installed, "run", "--config", deployment.gtwConfigPath]);
    await service.start();
    const hooks = gatewayUpgradeHooks(deployment.gtwStateDir, 10_000);
    await eventually(async () => (await hooks.probe())?.version === V1, { timeoutMs: 15_000 });
    let output = "";
    const seams = {
      service: () => service,
      out: (text: string) => {
        output += text;
      },
      err: (text: string) => {
        output += text;
      },
    };
    const common = ["--installed", installed, "--config", deployment.gtwConfigPath];

    const code = await runGatewayUpgrade(
      ["--binary", built["broken"] as string, "--verify-timeout", "4", ...common],
      seams,
    );
    expect({ code, output }).toMatchObject({ code: 1 });
    expect(output).toContain("ROLLED_BACK: upgrade rolled back: not verified within 4 s");
    expect(versionOf(installed)).toBe(V1);
    expect(versionOf(`${installed}.failed`)).toBe(V3);
    await eventually(async () => (await hooks.probe())?.version === V1, { timeoutMs: 15_000 });

    output = "";
    expect(await runGatewayUpgrade(["--binary", built["gtw2"] as string, ...common], seams)).toBe(
      0,
    );
    expect(versionOf(installed)).toBe(V2);
    expect(await runGatewayUpgrade(["--rollback", ...common], seams)).toBe(0);
    expect(output).toContain(`agent-gtw ${V1} runs again`);
    expect(versionOf(installed)).toBe(V1);
    expect(versionOf(`${installed}.previous`)).toBe(V2);
    expect(existsSync(`${installed}.new`)).toBe(false);
    expect(statusOf(deployment.gtwStateDir)).toMatchObject({ version: V1 });
  }, 90_000);
});

describe("agent-inf upgrade", () => {
  test("verified through /v1/health: the new version runs and is ok again", async () => {
    const deployment = createDeployment();
    onCleanup(() => deployment.remove());
    const gtw = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
    onCleanup(() => gtw.kill());
    const setup = writeInferenceConfig(deployment, gtw.endpoint);
    const installed = install(deployment.dir, built["inf1"] as string, "agent-inf");
    const service = new FakeService([installed, "run", "--config", setup.configPath]);
    await service.start();
    const health = async () =>
      (await fetch(`${setup.apiUrl}/v1/health`, { headers: bearer(setup.token) })
        .then((r) => r.json())
        .catch(() => undefined)) as { status?: string; version?: string } | undefined;
    await eventually(async () => (await health())?.status === "ok", { timeoutMs: 15_000 });
    let output = "";
    const code = await runInferenceUpgrade(
      ["--binary", built["inf2"] as string, "--installed", installed, "--config", setup.configPath],
      {
        service: () => service,
        out: (text) => {
          output += text;
        },
        err: (text) => {
          output += text;
        },
      },
    );
    expect({ code, output }).toMatchObject({ code: 0 });
    expect(output).toContain(`verified: ${V2} runs and is ok`);
    expect(await health()).toMatchObject({ status: "ok", version: V2 });
    expect(versionOf(`${installed}.previous`)).toBe(V1);
  }, 90_000);
});
