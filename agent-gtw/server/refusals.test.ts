import { afterEach, describe, expect, test } from "bun:test";
import { eventually } from "../../scripts/harness/eventually.ts";
import { generateKeyPair } from "../../shared/curve/box.ts";
import { z85Encode } from "../../shared/curve/z85.ts";
import { createLogger } from "../../shared/log.ts";
import { DealerSocket } from "../../shared/net/index.ts";
import { okReply, type Reply } from "../../shared/protocol/index.ts";
import type { Gateway } from "./gateway.ts";
import { REFUSAL_REASONS, Refusals, refusalStage } from "./refusals.ts";
import { GatewayServer } from "./server.ts";

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function capture() {
  const lines: string[] = [];
  return {
    lines,
    logger: createLogger("gtw", { level: "info", sink: (line) => lines.push(line) }),
  };
}

describe("refusals (issue 12 §3)", () => {
  test("every reason is counted; each group logs its first lines and reports the rest by reason", () => {
    const { lines, logger } = capture();
    const refusals = new Refusals({ logger, perWindow: 2, windowMs: 60_000 });
    for (let i = 0; i < 5; i++) refusals.record("refused_key", () => logger.warn("refused key"));
    for (let i = 0; i < 3; i++)
      refusals.record("malformed_request", () => logger.warn("malformed"));
    refusals.record("reply_undeliverable", () => logger.warn("undeliverable"));
    expect(refusals.counts()).toMatchObject({
      refused_key: 5,
      malformed_request: 3,
      reply_undeliverable: 1,
      not_allowed_network: 0,
    });
    expect(Object.keys(refusals.counts()).sort()).toEqual([...REFUSAL_REASONS].sort());
    refusals.stop();
    expect(lines.filter((line) => line.includes("refused key"))).toHaveLength(2);
    expect(
      lines.filter((line) => line.includes("malformed") && !line.includes("by_reason")),
    ).toHaveLength(2);
    expect(lines.join("\n")).toMatch(
      /Handshake failures and refusals not logged one by one count=3 .*refused_key=3/,
    );
    expect(lines.join("\n")).toMatch(
      /Refusals of authenticated clients not logged one by one count=2 .*malformed_request=1 reply_undeliverable=1/,
    );
  });

  test("each reason belongs to one stage: before authentication or of a client", () => {
    expect(refusalStage("refused_key")).toBe("pre_auth");
    expect(refusalStage("preauth_evicted")).toBe("pre_auth");
    expect(refusalStage("malformed_request")).toBe("client");
    expect(refusalStage("revoked_session")).toBe("client");
  });

  test("replies to a client that hung up are counted as undeliverable, in a bounded number of lines", async () => {
    const { lines, logger } = capture();
    const server = generateKeyPair();
    const client = generateKeyPair();
    // A gateway slower than the hang-up: every answer finds the client gone
    const slow = {
      handle: async (frames: readonly Uint8Array[]): Promise<Reply> => {
        await Bun.sleep(100);
        return okReply(JSON.parse(new TextDecoder().decode(frames[0])).id, {});
      },
    } as unknown as Gateway;
    const gateway = new GatewayServer({
      endpoint: "tcp://127.0.0.1:0",
      publicKey: server.publicKey,
      secretKey: server.secretKey,
      clients: () => new Map([[z85Encode(client.publicKey), "inf-1"]]),
      gateway: slow,
      logger,
      handshakeTimeoutMs: 5000,
      heartbeatIntervalMs: 0,
      maxRequestBytes: 65_536,
      maxInFlightPerClient: 1000,
    });
    closers.push(() => gateway.stop());
    const endpoint = await gateway.start();
    const dealer = new DealerSocket({
      security: { mechanism: "CURVE", role: "client", ...client, serverKey: server.publicKey },
    });
    closers.push(() => dealer.close());
    let up = false;
    dealer.on((event) => {
      if (event.type === "handshake_succeeded") up = true;
    });
    dealer.connect(endpoint);
    await eventually(() => up);
    for (let i = 0; i < 50; i++)
      dealer.send([new TextEncoder().encode(JSON.stringify({ v: 1, id: `r${i}` }))]);
    await Bun.sleep(20);
    await dealer.close();
    await eventually(() => gateway.refusals.counts().reply_undeliverable === 50, {
      timeoutMs: 3000,
    });
    expect(lines.filter((line) => line.includes("Reply not delivered"))).toHaveLength(20);
  });
});
