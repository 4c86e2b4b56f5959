/**
 * Test-only: the gateway as a process (the same app `agent-gtw run` builds, on the real file
 * system) that kills itself with SIGKILL at one step of one order, for journal-crash.test.ts:
 *
 *   bun test/faults/crash-gateway.ts --config <agent-gtw.yaml> --step <step> --coid <id> --out <file>
 *
 * Steps, in the order an order passes them:
 * - `intent-syncing`: the intent's fdatasync is slow (300 ms) and the process dies before it
 *   completes. An executor that did not wait for it would have filled the order by then.
 * - `intent-durable`: the intent's fdatasync completed; dies before the broker is called.
 * - `executed`: the broker filled it (and synced its books); dies before the outcome is written.
 * - `outcome-written`: the outcome line was written (not synced); dies before the reply.
 * - `replied`: the reply went out; dies at the next journal write (another order's intent).
 *
 * Before dying it writes `{"durable": <bytes>}` to --out: how much of the journal a power cut
 * would keep (the file's size when the last completed fdatasync started).
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { createGatewayApp } from "../../agent-gtw/app.ts";
import type { Backend } from "../../agent-gtw/backend/backend.ts";
import { createBackend } from "../../agent-gtw/backend/create-backend.ts";
import { loadGatewayConfig } from "../../agent-gtw/config.ts";
import { recordingJournalIo } from "../../agent-gtw/testing/journal-io.ts";
import { systemClock } from "../../shared/clock.ts";
import { createLogger } from "../../shared/log.ts";
import { brokerOrderKey } from "../../shared/protocol/index.ts";

export const CRASH_STEPS = [
  "intent-syncing",
  "intent-durable",
  "executed",
  "outcome-written",
  "replied",
] as const;
export type CrashStep = (typeof CRASH_STEPS)[number];

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    config: { type: "string" },
    step: { type: "string" },
    coid: { type: "string" },
    out: { type: "string" },
  },
});
const step = values.step as CrashStep;
if (!CRASH_STEPS.includes(step) || !values.config || !values.coid || !values.out)
  throw new Error(`usage: --config FILE --step ${CRASH_STEPS.join("|")} --coid ID --out FILE`);
const { coid, out } = values as { coid: string; out: string };

const io = recordingJournalIo();
const die = (): never => {
  writeFileSync(out, JSON.stringify({ durable: io.durable, step }));
  process.kill(process.pid, "SIGKILL");
  throw new Error("unreachable");
};

// The test's client is the deployment's inf-1: the broker knows the order by its scoped key
const brokerKey = brokerOrderKey("inf-1", coid);
const line = (kind: string) => new RegExp(`"k":"${kind}",(?:"u":"[^"]*",)?"c":"${coid}"`);
const intentLine = line("I");
const outcomeLine = line("O");
let intentWritten = false;
let replied = false;
const write = io.writeSync;
io.writeSync = (fd, buffer) => {
  if (replied) die();
  const text = Buffer.from(buffer).toString();
  const written = write(fd, buffer);
  if (intentLine.test(text)) intentWritten = true;
  if (outcomeLine.test(text)) {
    if (step === "outcome-written") die();
    // The executor sends the reply right after this write resolves
    if (step === "replied") replied = true;
  }
  return written;
};
const sync = io.fdatasync;
io.fdatasync = (fd, callback) => {
  if (intentWritten && step === "intent-syncing") {
    setTimeout(die, 300);
    return;
  }
  sync(fd, (error) => {
    if (error === null && intentWritten && step === "intent-durable") die();
    callback(error);
  });
};

const config = loadGatewayConfig(values.config);
const logger = createLogger("gtw", { level: "warn" });
const real = createBackend(config, systemClock, logger);
const trade = async (order: { clientOrderId: string }, run: () => Promise<unknown>) => {
  const result = await run();
  if (step === "executed" && order.clientOrderId === brokerKey) die();
  return result;
};
// Every call goes to the real backend; OPEN and CLOSE can die after the broker answered
const backend = new Proxy(real, {
  get(target, property) {
    if (property === "open" || property === "close") {
      return (order: Parameters<Backend["open"]>[0] & Parameters<Backend["close"]>[0]) =>
        trade(order, () => target[property](order));
    }
    const value = Reflect.get(target, property, target);
    return typeof value === "function" ? value.bind(target) : value;
  },
});
const app = createGatewayApp(config, logger, { backend, journalIo: io });
process.on("SIGTERM", () => {
  void app.stop().finally(() => process.exit(0));
});
await app.start();
