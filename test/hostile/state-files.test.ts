/**
 * Files the gateway reads and writes, planted by someone with write access to its folders (issue
 * 12 §6): a symbolic link where the status file's temporary goes must not make the gateway write
 * through it, and a FIFO given as its key file must not hang the start. The real process.
 */
import { afterEach, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import {
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { spawnAgent, startGateway } from "../../scripts/harness/agents.ts";
import { createDeployment } from "../../scripts/harness/deployment.ts";
import { Cleanups } from "../faults/support.ts";

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

test.if(process.platform !== "win32")(
  "a link planted at status.json.tmp is replaced, never written through",
  async () => {
    const deployment = createDeployment();
    cleanups.add(() => deployment.remove());
    const victim = join(deployment.dir, "victim.txt");
    writeFileSync(victim, "precious");
    mkdirSync(deployment.gtwStateDir, { recursive: true });
    symlinkSync(victim, join(deployment.gtwStateDir, "status.json.tmp"));
    const gateway = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
    cleanups.add(() => gateway.kill());
    await Bun.sleep(1500);
    expect(readFileSync(victim, "utf8")).toBe("precious");
    expect(lstatSync(join(deployment.gtwStateDir, "status.json")).isFile()).toBe(true);
    console.log(`[hostile] status.json.tmp link ${JSON.stringify({ victim: "unchanged" })}`);
  },
  30_000,
);

test.if(process.platform !== "win32")(
  "a FIFO given as the gateway's secret key is refused at once (exit 3), not waited on",
  async () => {
    const deployment = createDeployment();
    cleanups.add(() => deployment.remove());
    const secret = join(deployment.dir, "gtw", "keys", "agent-gtw.key_secret");
    renameSync(secret, `${secret}.real`);
    expect(spawnSync("mkfifo", ["-m", "600", secret]).status).toBe(0);
    const started = performance.now();
    const gateway = spawnAgent("agent-gtw", ["run", "--config", deployment.gtwConfigPath]);
    cleanups.add(() => gateway.kill());
    const code = await Promise.race([gateway.exited(), Bun.sleep(10_000).then(() => -1)]);
    expect(code).toBe(3);
    expect(gateway.log()).toContain("is not a regular file (a FIFO)");
    console.log(
      `[hostile] FIFO key file ${JSON.stringify({ exit: code, ms: Math.round(performance.now() - started) })}`,
    );
  },
  30_000,
);
