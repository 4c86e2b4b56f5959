/**
 * Refusals that used to cost one log line each (issue 12 §3: 1,950 lines in 11 s): handshakes
 * with keys the gateway does not know (anyone holding its public key can make them) and
 * malformed requests from a pinned but hostile client (replies to a client that hung up are
 * tested in process, agent-gtw/server/refusals.test.ts: the simulated MT5 answers before the
 * hang-up is seen). The gateway
 * process logs to a file, as its Windows service does; the lines it writes are counted, and the
 * refusals must show up by reason in its status and in its /metrics.
 */
import { afterEach, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { eventually } from "../../scripts/harness/eventually.ts";
import { generateKeyPair } from "../../shared/curve/box.ts";
import { readPublicKeyFile, readSecretKeyFile } from "../../shared/keys/curve-keys.ts";
import { DealerSocket } from "../../shared/net/index.ts";
import { Cleanups } from "../faults/support.ts";
import { twoHosts } from "./support.ts";

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

const REFUSED_KEYS = 60;
const MALFORMED = 2000;

test("refused keys and malformed requests cost a bounded number of log lines, and are counted by reason", async () => {
  const hosts = await twoHosts(cleanups, { log: { level: "info", file: "state/gtw.log" } });
  const { deployment, gateway } = hosts;
  const serverKey = readPublicKeyFile(deployment.gatewayKeys.publicPath).publicKey;
  const logPath = `${deployment.gtwStateDir}/gtw.log`;
  const linesBefore = readFileSync(logPath, "utf8").split("\n").length;
  const dealer = (publicKey: Uint8Array, secretKey: Uint8Array) => {
    const socket = new DealerSocket({
      security: { mechanism: "CURVE", role: "client", publicKey, secretKey, serverKey },
    });
    cleanups.add(() => socket.close());
    return socket;
  };

  // Keys nobody authorized: each gets ERROR 400 and gives up (the per-address accept rate
  // spreads them over a few seconds)
  const strangers = Array.from({ length: REFUSED_KEYS }, () => {
    const pair = generateKeyPair();
    const socket = dealer(pair.publicKey, pair.secretKey);
    const seen = { refused: false };
    socket.on((event) => {
      if (event.type === "handshake_failed" && event.code === "ERROR_RECEIVED") seen.refused = true;
    });
    socket.connect(gateway.endpoint);
    return seen;
  });

  // A pinned client sending garbage: every message gets an INVALID_REQUEST reply
  const mine = readSecretKeyFile(deployment.inferenceKeys.curveSecretPath);
  const hostile = dealer(mine.publicKey, mine.secretKey);
  let replies = 0;
  hostile.onMessage(() => {
    replies += 1;
  });
  hostile.connect(gateway.endpoint);
  // In batches under the socket's high-water mark
  for (let sent = 0; sent < MALFORMED; ) {
    const batch = Math.min(200, MALFORMED - sent);
    for (let i = 0; i < batch; i++)
      hostile.send([new TextEncoder().encode(`{"v":1,"id":"x${sent + i}"`)]);
    sent += batch;
    await eventually(() => replies === sent, { timeoutMs: 10_000, message: `${sent} replies` });
  }

  await eventually(() => strangers.every((s) => s.refused), {
    timeoutMs: 20_000,
    message: "every stranger refused",
  });
  await eventually(
    () => {
      const refusals = hosts.status()["refusals"] as Record<string, number>;
      return (refusals["refused_key"] ?? 0) >= REFUSED_KEYS;
    },
    {
      timeoutMs: 5000,
      message: `refusals in the status file: ${JSON.stringify(hosts.status()["refusals"])}`,
    },
  );
  const refusals = hosts.status()["refusals"] as Record<string, number>;
  const during = readFileSync(logPath, "utf8").split("\n").length - linesBefore;
  // The same counters in Prometheus form, by stage and reason
  const scraped = await (await fetch(hosts.status()["metrics"] as string)).text();
  const series = (stage: string, reason: string) =>
    Number(
      new RegExp(
        `^agent_gtw_refusals_total\\{stage="${stage}",reason="${reason}"\\} (\\d+)$`,
        "m",
      ).exec(scraped)?.[1],
    );
  expect(series("client", "malformed_request")).toBe(MALFORMED);
  expect(series("pre_auth", "refused_key")).toBeGreaterThanOrEqual(REFUSED_KEYS);
  expect(series("pre_auth", "not_allowed_network")).toBe(0);

  expect(refusals["refused_key"]).toBeGreaterThanOrEqual(REFUSED_KEYS);
  expect(refusals["malformed_request"]).toBe(MALFORMED);
  // One line each was REFUSED_KEYS + MALFORMED: now each group logs at most 20
  // per 10 s window and counts the rest
  expect(during).toBeLessThan(120);
  expect(await gateway.stop()).toBe(0);
  const log = readFileSync(logPath, "utf8");
  expect(log).toMatch(
    /Refusals of authenticated clients not logged one by one .*malformed_request=/,
  );
  console.log(
    `[hostile] refusals ${JSON.stringify({
      refused_keys: REFUSED_KEYS,
      malformed: MALFORMED,
      counted: refusals,
      log_lines_during: during,
    })}`,
  );
}, 60_000);
