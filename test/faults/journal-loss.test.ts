/**
 * A journal that lost lines must not let a signed intent execute again (issue 12 §5): the
 * gateway process on the simulated MT5, an OPEN filled, the gateway stopped, the journal damaged
 * the ways an operator or a disk can (lines of the filled order deleted, the file cut in the
 * middle, emptied, deleted with its checkpoint), then started again and the same intent sent
 * again. And two gateways on one state folder. Each case prints one `[faults]` line.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { agentCommand, spawnAgent, startGateway } from "../../scripts/harness/agents.ts";
import { createDeployment, type Deployment } from "../../scripts/harness/deployment.ts";
import { TestClient } from "../../scripts/harness/test-client.ts";
import type { TradeReply } from "../../shared/protocol/index.ts";
import { Cleanups } from "./support.ts";

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

const open = { action: "OPEN", symbol: "EURUSD", side: "BUY", volume: 0.01 } as const;

interface Filled {
  readonly deployment: Deployment;
  readonly journal: string;
  readonly reply: TradeReply;
}

/** A gateway that filled `coid` (and a few others around it), then stopped cleanly. */
async function filledThenStopped(coid: string): Promise<Filled> {
  const deployment = createDeployment();
  cleanups.add(() => deployment.remove());
  const gateway = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
  cleanups.add(() => gateway.kill());
  const client = new TestClient(gateway.endpoint, deployment);
  await client.send({ ...open, client_order_id: "before" });
  const reply = (await client.send({ ...open, client_order_id: coid })) as TradeReply;
  expect(reply.status).toBe("FILLED");
  await client.send({ ...open, client_order_id: "after" });
  await client.close();
  expect(await gateway.stop()).toBe(0);
  return { deployment, journal: join(deployment.gtwStateDir, "orders.journal"), reply };
}

/** Start the gateway; resolves with its exit code and log if it does not come up. */
async function startRefused(deployment: Deployment): Promise<{ code: number; log: string }> {
  const agent = spawnAgent("agent-gtw", ["run", "--config", deployment.gtwConfigPath]);
  cleanups.add(() => agent.kill());
  const code = await Promise.race([agent.exited(), Bun.sleep(15_000).then(() => -1)]);
  return { code, log: agent.log() };
}

/** Run an agent-gtw command to its end: exit code and stdout. */
async function cli(deployment: Deployment, ...args: string[]) {
  const child = Bun.spawn(
    [...agentCommand("agent-gtw"), ...args, "--config", deployment.gtwConfigPath],
    { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
  );
  cleanups.add(() => child.kill("SIGKILL"));
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { code, out, log: err };
}

/** Start again and send the same intent: it must answer the first fill, not fill again. */
async function resend(deployment: Deployment, coid: string) {
  const gateway = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
  cleanups.add(() => gateway.kill());
  const client = new TestClient(gateway.endpoint, deployment);
  cleanups.add(() => client.close());
  const reply = (await client.send({ ...open, client_order_id: coid })) as TradeReply;
  const positions = (
    (await client.send({ action: "GET_POSITIONS" })) as unknown as { positions: unknown[] }
  ).positions.length;
  return { reply, positions, log: gateway.log() };
}

describe("the journal does not forget silently (issue 12 §5)", () => {
  test("a filled order's lines deleted: refused; verify names the gap; repair rebuilds from the broker; the intent does not execute again", async () => {
    const { deployment, journal, reply } = await filledThenStopped("lost-1");
    const lines = readFileSync(journal, "utf8").split("\n");
    const kept = lines.filter((line) => !line.includes('"c":"lost-1"'));
    expect(kept.length).toBe(lines.length - 2);
    writeFileSync(journal, kept.join("\n"));

    const refused = await startRefused(deployment);
    expect(refused.code).toBe(1);
    expect(refused.log).toContain("2 record(s) are missing");
    expect(refused.log).toContain("agent-gtw journal repair");
    const verify = await cli(deployment, "journal", "verify");
    expect(verify.code).toBe(1);
    expect(verify.out).toContain("record(s) are missing");
    const repair = await cli(deployment, "journal", "repair");
    expect(repair.code).toBe(0);
    expect(repair.out).toMatch(/1 unknown to the journal, recorded so they cannot execute again/);
    expect((await cli(deployment, "journal", "verify")).code).toBe(0);

    const again = await resend(deployment, "lost-1");
    expect(again.reply).toMatchObject({ status: "FILLED", duplicate: true, ticket: reply.ticket });
    expect(again.positions).toBe(3);
    console.log(
      `[faults] journal lines deleted ${JSON.stringify({ start: "refused", verify_exit: verify.code, repair_exit: repair.code, resend: "duplicate", positions: again.positions })}`,
    );
  }, 60_000);

  test.each([
    [
      "cut in the middle",
      (text: string) => text.slice(0, Math.floor(text.length / 2)),
      /checkpoint says records up to/,
    ],
    ["emptied", () => "", /the journal is empty, but its checkpoint says/],
  ] as const)(
    "a journal %s is refused",
    async (name, damage, message) => {
      const { deployment, journal } = await filledThenStopped("lost-2");
      writeFileSync(journal, damage(readFileSync(journal, "utf8")));
      const refused = await startRefused(deployment);
      expect(refused.code).toBe(1);
      expect(refused.log).toMatch(message);
      console.log(`[faults] journal ${name} ${JSON.stringify({ exit: refused.code })}`);
    },
    60_000,
  );

  test("journal and checkpoint deleted: the broker cross-check at start keeps the intent from executing again", async () => {
    const { deployment, journal, reply } = await filledThenStopped("lost-3");
    rmSync(journal);
    rmSync(`${journal}.checkpoint`);
    const again = await resend(deployment, "lost-3");
    expect(again.reply).toMatchObject({ status: "FILLED", duplicate: true, ticket: reply.ticket });
    expect(again.positions).toBe(3);
    expect(again.log).toContain("The broker holds tagged trades the journal does not know");
    console.log(
      `[faults] journal deleted ${JSON.stringify({ resend: "duplicate from the broker", positions: again.positions })}`,
    );
  }, 60_000);
});

describe("one gateway per state folder (issue 12 §5)", () => {
  test("a second gateway on the same state folder refuses to start, naming the first", async () => {
    const deployment = createDeployment();
    cleanups.add(() => deployment.remove());
    const first = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
    cleanups.add(() => first.kill());
    const second = await startRefused(deployment);
    expect(second.code).toBe(1);
    expect(second.log).toContain(`is in use by agent-gtw pid ${first.process.pid}`);
    // The first one is unharmed
    const client = new TestClient(first.endpoint, deployment);
    cleanups.add(() => client.close());
    expect((await client.send({ ...open })).status).toBe("FILLED");
    // A crashed holder does not lock the folder forever
    await first.kill();
    const third = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
    cleanups.add(() => third.kill());
    console.log(
      `[faults] second gateway ${JSON.stringify({ exit: second.code, message: second.log.trim().slice(0, 160), after_sigkill: "started" })}`,
    );
  }, 60_000);
});
