/**
 * The gateway's request path on hostile messages (issue 7 §2), in process: the whole gateway
 * (validation, signature check, journal, gate, simulated MT5) fed random and mutated frames the
 * way server.ts hands them over after the CURVE layer. An authenticated client is the attacker
 * here: the transport let it in, so only the decoder and the verifier stand between its bytes
 * and the broker.
 *
 * Inputs: request-shaped objects with random field values, random JSON values, valid signed
 * requests mutated byte- and token-wise (keeping their now wrong signature), valid requests with
 * a mutated signature, and valid requests in wrong frame counts. Invariants: handle() always
 * resolves, with a reply that encodes and parses as a reply; no mutated signed request is ever
 * executed or journaled; every valid one sent alongside is; memory stays bounded.
 *
 * Default 20,000 messages; MLB_LONG=1 200,000. FUZZ_SEED replays another seed.
 */
import { afterEach, expect, test } from "bun:test";
import { createHarness, type Harness } from "../../agent-gtw/testing/harness.ts";
import { encodeReply, parseReply } from "../../shared/protocol/index.ts";
import { mutateBytes, Rng, randomValue, requestLike } from "../../shared/testing/hostile-json.ts";
import { scaled } from "../support/long.ts";

const MESSAGES = scaled(20_000, 200_000);
const SEED = Number(process.env["FUZZ_SEED"] ?? 0xdec0de) >>> 0;
const HEAP_GROWTH_LIMIT = 48 * 1024 * 1024;

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const encoder = new TextEncoder();

test(
  `${MESSAGES.toLocaleString("en-US")} hostile messages through Gateway.handle: always a reply, nothing executed`,
  async () => {
    const h = await createHarness();
    harness = h;
    const rng = new Rng(SEED);
    const templates = [
      { action: "OPEN", symbol: "EURUSD", side: "BUY", volume: 0.1, sl: null, tp: null },
      { action: "CLOSE", ticket: 1 },
      { action: "MODIFY", ticket: 1, sl: 1.05 },
      { action: "PING" },
      { action: "GET_ORDER", client_order_id: "abc" },
      { action: "GET_SYMBOL_INFO", symbol: "EURUSD" },
    ];
    const codes = new Map<string, number>();
    const problems: string[] = [];
    let validSent = 0;
    let slowestMs = 0;
    Bun.gc(true);
    const heapBefore = process.memoryUsage().heapUsed;

    for (let round = 0; round < MESSAGES; round++) {
      let frames: Uint8Array[];
      const kind = round % 6;
      if (kind === 0) {
        frames = [encoder.encode(requestLike(rng, h.clock.now()))];
        if (rng.chance(0.5)) frames.push(new Uint8Array(64).fill(rng.below(256)));
      } else if (kind === 1) {
        frames = [encoder.encode(randomValue(rng, 6))];
      } else if (kind === 2 || kind === 3) {
        // A valid signed request, its bytes changed: the signature no longer covers them
        const built = h.frames(rng.pick(templates.slice(0, 3)));
        frames = [mutateBytes(rng, built.frames[0] as Uint8Array), built.frames[1] as Uint8Array];
      } else if (kind === 4) {
        // A valid request, the signature changed (or cut, or missing)
        const built = h.frames(rng.pick(templates.slice(0, 3)));
        const signature = built.frames[1] as Uint8Array;
        frames = [
          built.frames[0] as Uint8Array,
          ...(rng.chance(0.2) ? [] : [mutateBytes(rng, signature)]),
        ];
      } else {
        // A valid request in a wrong number of frames
        const built = h.frames(rng.pick(templates));
        const extra = 1 + rng.below(4);
        frames = [
          ...built.frames,
          ...Array.from({ length: extra }, () => new Uint8Array(rng.below(80))),
        ];
      }

      const started = performance.now();
      try {
        const reply = await h.gateway.handle(frames, "inf-1");
        const parsed = parseReply(encodeReply(reply));
        if (!parsed.ok)
          problems.push(`round ${round}: reply does not parse: ${parsed.error.message}`);
        const code = reply.error_code ?? reply.status;
        codes.set(code, (codes.get(code) ?? 0) + 1);
        if (reply.status === "FILLED" || reply.status === "REJECTED")
          problems.push(
            `round ${round}: a hostile message reached the gate: ${JSON.stringify(reply)}`,
          );
      } catch (error) {
        problems.push(`seed ${SEED} round ${round}: handle threw ${String(error)}`);
      }
      slowestMs = Math.max(slowestMs, performance.now() - started);
      if (problems.length > 10) break;

      // Now and then a valid order through the same gateway: it still works, exactly once
      if (round % 2000 === 1999) {
        const reply = await h.send({ action: "OPEN", symbol: "EURUSD", side: "BUY", volume: 0.01 });
        if (reply.status !== "FILLED")
          problems.push(`round ${round}: valid OPEN got ${reply.status}`);
        validSent += 1;
      }
    }
    Bun.gc(true);
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;

    expect(problems).toEqual([]);
    // Only the valid orders reached the broker or the journal
    expect(h.backend.calls).toBe(validSent);
    expect(h.journal.size).toBe(validSent);
    expect((await h.backend.positions()).length).toBe(validSent);
    expect(slowestMs).toBeLessThan(500);
    expect(heapGrowth).toBeLessThan(HEAP_GROWTH_LIMIT);
    console.log(
      `[hostile] gateway decoder ${JSON.stringify({
        seed: SEED,
        messages: MESSAGES,
        valid_orders_between: validSent,
        executed_hostile: 0,
        slowest_ms: Math.round(slowestMs * 100) / 100,
        heap_growth_mib: Math.round((heapGrowth / 1024 / 1024) * 10) / 10,
        replies: Object.fromEntries([...codes].sort((a, b) => b[1] - a[1])),
      })}`,
    );
  },
  scaled(60_000, 600_000),
);
