/**
 * The Wine smoke test's checks (issue 6 §4), run by scripts/wine/smoke.sh once Wine, the stub
 * bcryptprimitives.dll and the binaries are in place:
 *
 *   the Windows agent-gtw.exe under Wine ⇄ the Linux dist/agent-inf, over CURVE on 127.0.0.1
 *   (ping; run + open + close through agent-inf's local API), then agent-gtw.exe installed,
 *   stopped, restarted and removed as a service through Wine's service control manager.
 *
 *   The crypto backend in the Windows build: scripts/crypto-probe.ts compiled for Windows with
 *   the agents' flags must find the embedded libsodium and pass NaCl's known answer, and so must
 *   its tweetnacl fallback; the foreground gateway runs with AGENT_CRYPTO_BACKEND=sodium-native
 *   (a libsodium that does not load fails its handshakes), and one ping comes from an agent-inf
 *   forced onto tweetnacl, so the two backends meet over the wire.
 *
 * Prints one line per check and finally "N passed, N failed". Every wait is bounded; every process
 * started here is stopped here. Wine's output always goes to files, never to a pipe (deploy.md
 * §2.4: wineserver and services.exe inherit it and the pipe never closes).
 *
 *   bun scripts/wine/smoke.ts --work DIR      (WINEPREFIX etc. set by smoke.sh)
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { parseCommandLine, printedHelp } from "../../shared/cli.ts";
import { readPublicKeyFile, readSecretKeyFile } from "../../shared/keys/curve-keys.ts";
import { CRYPTO_BACKEND_ENV } from "../../shared/sodium/install.ts";
import { EXTRACT_PREFIX } from "../../shared/sodium/loader.ts";
import { compileExecutable, TARGETS } from "../build.ts";
import { type RunningAgent, spawnAgent } from "../harness/agents.ts";
import { createDeployment, type Deployment } from "../harness/deployment.ts";
import { eventually } from "../harness/eventually.ts";
import { freePort } from "../harness/free-port.ts";
import {
  type InferenceSetup,
  readHealth,
  runCli,
  writeInferenceConfig,
} from "../harness/inference.ts";
import { startWineGateway, waitListening, windowsPath } from "./wine-process.ts";

const ROOT = resolve(import.meta.dir, "..", "..");
const SERVICE = "mlb-smoke-gtw";

interface WineResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

if (
  printedHelp(
    process.argv.slice(2),
    "Usage: bun scripts/wine/smoke.ts --work DIR\n\nThe Wine smoke test's checks; run scripts/wine/smoke.sh instead, which sets up Wine, the\nprefix and the binaries first. Prints one line per check and then N passed, N failed.\n",
  )
)
  process.exit(0);
const { values } = parseCommandLine(process.argv.slice(2), { work: { type: "string" } });
if (values.work === undefined) throw new Error("smoke: --work DIR is required");
const work = resolve(values.work);
mkdirSync(work, { recursive: true });
// agent-inf runs as the compiled Linux binary (scripts/harness/agents.ts)
process.env["AGENT_BINARIES"] = "dist";

let passed = 0;
let failed = 0;
let wineCalls = 0;
const started = performance.now();

/** Run a Windows program under Wine to completion; output via files, killed after the timeout. */
async function wine(
  args: readonly string[],
  timeoutMs = 30_000,
  env: Record<string, string> = {},
): Promise<WineResult> {
  const id = ++wineCalls;
  const out = join(work, `wine-${id}.out`);
  const err = join(work, `wine-${id}.err`);
  const child = Bun.spawn(["wine", ...args], {
    env: { ...process.env, ...env },
    stdin: "ignore",
    stdout: Bun.file(out),
    stderr: Bun.file(err),
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const code = await child.exited;
  clearTimeout(timer);
  const read = (path: string) =>
    existsSync(path) ? readFileSync(path, "utf8").replace(/\r/g, "") : "";
  return { code, stdout: read(out), stderr: read(err) };
}

async function check(name: string, body: () => Promise<string | undefined>): Promise<boolean> {
  const began = performance.now();
  try {
    const detail = await body();
    passed += 1;
    console.log(
      `ok    ${name} (${Math.round(performance.now() - began)} ms)${detail ? `: ${detail}` : ""}`,
    );
    return true;
  } catch (error) {
    failed += 1;
    console.log(`FAIL  ${name}: ${error instanceof Error ? error.message : String(error)}`);
    return false;
  }
}

function expectOk(
  result: WineResult | { code: number; stdout: string; stderr: string },
  what: string,
): void {
  if (result.code !== 0) {
    throw new Error(
      `${what} exited with ${result.code}: ${(result.stderr || result.stdout).trim().slice(-800)}`,
    );
  }
}

/** The exe under test; a CLI without `service` is a failure, not something to work around. */
async function gatewayExe(): Promise<{ path: string }> {
  const dist = join(ROOT, "dist", "agent-gtw.exe");
  const probe = await wine([dist, "service", "--help"]);
  expectOk(probe, "agent-gtw.exe service --help");
  return { path: dist };
}

/** A gateway started under Wine in the foreground, its output in files. */
function startSmokeGateway(exe: string, configPath: string, name: string): Subprocess {
  // libsodium or nothing: a Windows build whose addon does not load must fail this smoke test
  return startWineGateway({
    exe,
    configPath,
    logBase: join(work, name),
    env: { [CRYPTO_BACKEND_ENV]: "sodium-native" },
  });
}

async function scState(name: string): Promise<string | undefined> {
  const result = await wine(["sc", "query", name]);
  if (result.code !== 0) return undefined;
  return /STATE\s*:\s*\d+\s+(\w+)/.exec(result.stdout)?.[1];
}

async function ping(setup: InferenceSetup, count: number): Promise<string> {
  const result = await runCli(setup.configPath, ["ping", "--count", String(count)], 30_000);
  expectOk(result, "agent-inf ping");
  const summary = new RegExp(`${count} sent, ${count} received, 0 lost`);
  if (!summary.test(result.stdout)) throw new Error(`unexpected ping output: ${result.stdout}`);
  return /rtt min .*$/m.exec(result.stdout)?.[0] ?? "";
}

const CRYPTO_PROBE = join(work, "crypto-probe.exe");

/** The crypto probe built for Windows with the agents' flags, run under Wine per backend. */
async function probeWindowsCrypto(): Promise<string> {
  const windows = TARGETS.find((target) => target.os === "windows");
  if (windows === undefined) throw new Error("no Windows build target");
  const probe = CRYPTO_PROBE;
  await compileExecutable(windows, "smoke", probe, join(ROOT, "scripts", "crypto-probe.ts"));
  const found: string[] = [];
  for (const backend of ["sodium-native", "tweetnacl"] as const) {
    const env = { [CRYPTO_BACKEND_ENV]: backend === "tweetnacl" ? backend : "" };
    const result = await wine([probe, "--expect", backend], 60_000, env);
    expectOk(result, `crypto-probe.exe --expect ${backend}`);
    found.push(result.stdout.trim());
  }
  return found.join("; ");
}

/**
 * Windows cannot delete a loaded library, so each run leaves its libsodium copy in the temp
 * directory until a later start removes it (shared/sodium/loader.ts). Age the copies there,
 * run the probe once more, and expect only its own fresh copy to remain.
 */
async function sweepsStaleCopies(): Promise<string> {
  // The Windows temp directory as Wine sees it, then as a Linux path
  const windowsTemp = (await wine(["cmd", "/c", "echo", "%TEMP%"])).stdout.trim();
  const mapped = await wine(["winepath", "-u", windowsTemp]);
  expectOk(mapped, `winepath -u ${windowsTemp}`);
  const temp = mapped.stdout.trim();
  const copies = () => readdirSync(temp).filter((name) => name.startsWith(EXTRACT_PREFIX));
  const before = copies();
  if (before.length === 0) throw new Error(`no ${EXTRACT_PREFIX}* copy in ${temp} after the probe`);
  const old = new Date(Date.now() - 10 * 60_000);
  for (const name of before) utimesSync(join(temp, name), old, old);
  expectOk(await wine([CRYPTO_PROBE, "--expect", "sodium-native"]), "crypto-probe.exe");
  const after = copies();
  const left = after.filter((name) => before.includes(name));
  if (left.length > 0) throw new Error(`stale copies not removed: ${left.join(", ")}`);
  if (after.length !== 1)
    throw new Error(`expected the probe's own copy only, found ${after.join(", ")}`);
  return `${before.length} stale removed, 1 left by the last run`;
}

async function main(): Promise<void> {
  const cleanups: Array<() => Promise<unknown>> = [];
  let deployment: Deployment | undefined;
  try {
    // A service left behind by an interrupted run would make install take the update path
    await wine(["sc", "stop", SERVICE]);
    await wine(["sc", "delete", SERVICE]);

    const exe = await gatewayExe();

    await check("agent-gtw.exe --version under Wine", async () => {
      const result = await wine([exe.path, "--version"]);
      expectOk(result, "--version");
      const linux = Bun.spawnSync([join(ROOT, "dist", "agent-inf"), "--version"])
        .stdout.toString()
        .trim();
      const version = result.stdout.trim();
      if (version !== linux) throw new Error(`version ${version}, dist/agent-inf says ${linux}`);
      return version;
    });

    const probed = await check(
      "crypto probe .exe under Wine: embedded libsodium chosen, tweetnacl fallback, NaCl known answer",
      probeWindowsCrypto,
    );
    if (probed) {
      await check(
        "libsodium copies left in the Windows temp directory are removed at a later start",
        sweepsStaleCopies,
      );
    }

    const keysDir = join(work, "wine-keys");
    await check(
      "agent-gtw.exe keygen under Wine writes a zcert key pair and the EA link secret; a rerun refuses (exit 3)",
      async () => {
        const args = [exe.path, "keygen", "--dir", windowsPath(keysDir), "--terminal-secret"];
        expectOk(await wine(args), "keygen");
        const secret = readSecretKeyFile(join(keysDir, "agent-gtw.key_secret"), {
          platform: "win32",
        });
        const pub = readPublicKeyFile(join(keysDir, "agent-gtw.key"));
        if (Buffer.compare(secret.publicKey, pub.publicKey) !== 0)
          throw new Error("public keys differ");
        if (!existsSync(join(keysDir, "terminal.secret"))) throw new Error("no terminal.secret");
        const again = await wine(args);
        if (again.code !== 3) throw new Error(`rerun exited with ${again.code}, expected 3`);
        return undefined;
      },
    );

    const gatewayPort = freePort();
    deployment = createDeployment({
      dir: join(work, "deployment"),
      gateway: {
        endpoint: `tcp://127.0.0.1:${gatewayPort}`,
        log: { level: "info", file: "logs/foreground.log" },
      },
    });
    // The logger appends but does not create folders (service install creates the service's)
    mkdirSync(join(deployment.dir, "gtw", "logs"), { recursive: true });
    const risk = { require_stop_loss: false, max_risk_percent: null };
    let setup = writeInferenceConfig(deployment, `tcp://127.0.0.1:${gatewayPort}`, { risk });

    // The gateway in the foreground, as an operator would first try it
    const since = Date.now();
    const gateway = startSmokeGateway(exe.path, deployment.gtwConfigPath, "foreground");
    cleanups.push(async () => {
      gateway.kill("SIGKILL");
      await gateway.exited;
    });
    const listening = await check("agent-gtw.exe run under Wine listens on loopback", async () =>
      waitListening(deployment!.gtwStateDir, since, 30_000),
    );

    if (listening) {
      await check("agent-gtw.exe status under Wine names its embedded libsodium", async () => {
        const result = await wine([
          exe.path,
          "status",
          "--config",
          windowsPath(deployment!.gtwConfigPath),
        ]);
        expectOk(result, "status");
        const crypto = /^crypto +(.*)$/m.exec(result.stdout)?.[1];
        if (crypto !== "sodium-native (embedded win32-x64)")
          throw new Error(`status printed crypto ${JSON.stringify(crypto)}: ${result.stdout}`);
        return crypto;
      });
      await check("Linux agent-inf ping --count 3 over CURVE (agent-gtw.exe on libsodium)", () =>
        ping(setup, 3),
      );
      await check("Linux agent-inf on tweetnacl pings agent-gtw.exe on libsodium", async () => {
        process.env[CRYPTO_BACKEND_ENV] = "tweetnacl";
        try {
          return await ping(setup, 3);
        } finally {
          delete process.env[CRYPTO_BACKEND_ENV];
        }
      });

      await check("Linux agent-inf run, then open and close through its local API", async () => {
        const agent: RunningAgent = spawnAgent("agent-inf", ["run", "--config", setup.configPath]);
        cleanups.push(() => agent.kill());
        await eventually(
          async () =>
            (await readHealth(setup.apiUrl, setup.token)).gateways.every(
              (lane) => lane.connected && lane.heartbeat === "HEALTHY",
            ),
          { timeoutMs: 20_000, intervalMs: 100, message: "agent-inf connected and healthy" },
        );
        const opened = await runCli(setup.configPath, ["open", "BUY", "EURUSD", "0.01"]);
        expectOk(opened, "agent-inf open");
        const ticket = /^FILLED {2}ticket (\d+)/.exec(opened.stdout)?.[1];
        if (ticket === undefined) throw new Error(`open printed ${opened.stdout}`);
        const closed = await runCli(setup.configPath, ["close", ticket]);
        expectOk(closed, "agent-inf close");
        if (!closed.stdout.startsWith("FILLED")) throw new Error(`close printed ${closed.stdout}`);
        const code = await agent.stop(15_000);
        if (code !== 0) throw new Error(`agent-inf exited with ${code} after SIGTERM`);
        return `ticket ${ticket} opened and closed`;
      });
    }
    gateway.kill("SIGTERM");
    await Promise.race([gateway.exited, Bun.sleep(10_000)]);
    gateway.kill("SIGKILL");
    await gateway.exited;

    // The same gateway as a service through Wine's SCM
    const servicePort = freePort();
    deployment.updateGatewayConfig({
      endpoint: `tcp://127.0.0.1:${servicePort}`,
      log: { level: "info", file: "logs/service.log" },
    });
    setup = writeInferenceConfig(deployment, `tcp://127.0.0.1:${servicePort}`, { risk });
    const serviceLog = join(deployment.dir, "gtw", "logs", "service.log");
    const config = windowsPath(deployment.gtwConfigPath);
    cleanups.push(async () => {
      await wine(["sc", "stop", SERVICE]);
      await wine(["sc", "delete", SERVICE]);
    });

    const installed = await check(
      "service install registers, starts and waits for RUNNING",
      async () => {
        const result = await wine(
          [exe.path, "service", "install", "--config", config, "--name", SERVICE],
          60_000,
        );
        expectOk(result, "service install");
        const state = await scState(SERVICE);
        if (state !== "RUNNING") throw new Error(`sc query says ${state}`);
        return result.stdout.split("\n")[0];
      },
    );
    if (installed) {
      await check("service status reports RUNNING", async () => {
        const result = await wine([exe.path, "service", "status", "--name", SERVICE]);
        expectOk(result, "service status");
        return result.stdout.split("\n")[0];
      });
      await check("the service answers agent-inf ping over CURVE", () => ping(setup, 3));
      await check("sc stop: STOP_PENDING, graceful gateway stop, STOPPED", async () => {
        await wine(["sc", "stop", SERVICE]);
        await eventually(async () => (await scState(SERVICE)) === "STOPPED", {
          timeoutMs: 20_000,
          intervalMs: 200,
          message: "service STOPPED",
        });
        const log = readFileSync(serviceLog, "utf8");
        for (const line of ["Service stopping", "Gateway stopped"]) {
          if (!log.includes(line)) throw new Error(`${serviceLog} lacks "${line}"`);
        }
        return undefined;
      });
      await check("sc start brings it back, and it answers again", async () => {
        const result = await wine(["sc", "start", SERVICE]);
        expectOk(result, "sc start");
        await eventually(async () => (await scState(SERVICE)) === "RUNNING", {
          timeoutMs: 20_000,
          intervalMs: 200,
          message: "service RUNNING",
        });
        return ping(setup, 1);
      });
      await check("service install again is an update, still RUNNING", async () => {
        const result = await wine(
          [exe.path, "service", "install", "--config", config, "--name", SERVICE],
          60_000,
        );
        expectOk(result, "second service install");
        if (!result.stdout.includes("updated")) throw new Error(`install printed ${result.stdout}`);
        if ((await scState(SERVICE)) !== "RUNNING") throw new Error("not RUNNING after update");
        return undefined;
      });
      await check(
        "a config error fails the start: exit code 3 in sc query, the reason in the log",
        async () => {
          const badDir = join(work, "bad-config");
          mkdirSync(badDir, { recursive: true });
          await Bun.write(join(badDir, "agent-gtw.yaml"), "gateway:\n  name: bad\nnot_a_key: 1\n");
          const bad = `${SERVICE}-bad`;
          cleanups.push(async () => {
            await wine(["sc", "delete", bad]);
          });
          const args = [
            "service",
            "install",
            "--config",
            windowsPath(join(badDir, "agent-gtw.yaml")),
          ];
          const result = await wine([exe.path, ...args, "--name", bad], 60_000);
          if (result.code !== 1 || !result.stderr.includes("stopped while starting")) {
            throw new Error(`install exited with ${result.code}: ${result.stderr.trim()}`);
          }
          const query = await wine(["sc", "query", bad]);
          if (!/SERVICE_EXIT_CODE\s*:\s*3\b/.test(query.stdout)) throw new Error(query.stdout);
          const log = readFileSync(join(badDir, "logs", "agent-gtw.log"), "utf8");
          if (!log.includes("not_a_key: unknown key")) throw new Error(`log: ${log}`);
          expectOk(await wine([exe.path, "service", "uninstall", "--name", bad]), "uninstall");
          return undefined;
        },
      );
      await check("service uninstall stops and removes it, keeps the data", async () => {
        const result = await wine([exe.path, "service", "uninstall", "--name", SERVICE], 60_000);
        expectOk(result, "service uninstall");
        if ((await scState(SERVICE)) !== undefined) throw new Error("sc query still finds it");
        if (!existsSync(deployment!.gtwConfigPath)) throw new Error("config removed");
        return undefined;
      });
    }
  } catch (error) {
    failed += 1;
    console.log(
      `FAIL  smoke setup: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  }
  console.log(
    `wine smoke: ${((performance.now() - started) / 1000).toFixed(1)} s; files in ${work}`,
  );
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

await main();
