/**
 * Crash consistency (issue 7 §1a): a stream of OPEN/CLOSE intents from a strategy through
 * agent-inf's local API while the gateway process is killed with SIGKILL at random points and
 * restarted on the same port and state. Afterwards every client_order_id has exactly one outcome
 * (GET_ORDER through agent-inf agrees with what the strategy was told), the simulated broker
 * holds exactly one deal per executed intent and no duplicate position, and no intent that was
 * answered FILLED is missing from the books.
 *
 * The strategy side does what docs/API.md §5 asks: it re-sends the same client_order_id and body
 * until it gets FILLED or REJECTED, so agent-inf's lookups and the gateway's journal are what
 * keep a retry from executing twice.
 *
 * Default: 20 kills over 200 intents. MLB_LONG=1: 100 kills over 1,000. FAULT_SEED picks other
 * kill points (the seed is printed with the figures).
 */
import { afterEach, expect, test } from "bun:test";
import { scaled } from "../support/long.ts";
import {
  auditBooks,
  Cleanups,
  type Intent,
  type IntentLog,
  seededRandom,
  startStack,
  submitUntilFinal,
} from "./support.ts";

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

const KILLS = scaled(20, 100);
const INTENTS = scaled(200, 1000);
const WORKERS = 6;
const SEED = Number(process.env["FAULT_SEED"] ?? 0x7a11) >>> 0;
const SYMBOLS = ["EURUSD", "GBPUSD", "USDJPY"] as const;

test(
  `${INTENTS} intents through agent-inf while the gateway is SIGKILLed ${KILLS} times: one outcome each, no duplicate`,
  async () => {
    const started = performance.now();
    const stack = await startStack(cleanups, {
      heartbeatMs: 500,
      gateway: { request_timeout_ms: 500, order_timeout_ms: 1000, reconcile_deadline_ms: 3000 },
    });
    const rng = seededRandom(SEED);
    const logs: IntentLog[] = [];
    const inFlight = new Set<string>();
    const closable: number[] = [];
    let issued = 0;

    const nextIntent = (): Intent => {
      const coid = `crash-${SEED.toString(36)}-${issued++}`;
      if (closable.length > 0 && rng() < 0.45) {
        const ticket = closable.splice(Math.floor(rng() * closable.length), 1)[0] as number;
        return { action: "CLOSE", coid, ticket, body: { client_order_id: coid } };
      }
      return {
        action: "OPEN",
        coid,
        body: {
          client_order_id: coid,
          symbol: SYMBOLS[Math.floor(rng() * SYMBOLS.length)],
          side: rng() < 0.5 ? "BUY" : "SELL",
          volume: 0.01,
        },
      };
    };

    const worker = async (): Promise<void> => {
      while (issued < INTENTS) {
        const intent = nextIntent();
        inFlight.add(intent.coid);
        const log = await submitUntilFinal(stack.api, intent, {
          deadlineMs: 60_000,
          retryPauseMs: () => 40 + rng() * 80,
        });
        inFlight.delete(intent.coid);
        logs.push(log);
        if (intent.action === "OPEN" && log.outcome === "FILLED" && log.ticket !== undefined)
          closable.push(log.ticket);
        await Bun.sleep(rng() * 15);
      }
    };

    // Kill k lands at a random point of the k-th slice of the stream, a few ms after that
    // intent was issued, so kills hit every phase: snapshot, signing, journal, fill, reply.
    const kills: { inFlight: number; downMs: number }[] = [];
    const killer = async (): Promise<void> => {
      for (let k = 0; k < KILLS; k++) {
        const at = Math.floor((k + rng()) * (INTENTS / KILLS));
        while (issued < at) await Bun.sleep(2);
        await Bun.sleep(rng() * 25);
        const inFlightAtKill = inFlight.size;
        const killedAt = performance.now();
        await stack.gateway.kill();
        await Bun.sleep(rng() * 200);
        await stack.restartGateway();
        kills.push({ inFlight: inFlightAtKill, downMs: performance.now() - killedAt });
      }
    };

    await Promise.all([killer(), ...Array.from({ length: WORKERS }, worker)]);
    const streamSeconds = (performance.now() - started) / 1000;

    // Every intent got a final answer, and the gateway's journal (asked through agent-inf)
    // says the same thing about it.
    expect(kills).toHaveLength(KILLS);
    expect(
      logs.filter((log) => log.outcome === "UNFINISHED").map((log) => log.intent.coid),
    ).toEqual([]);
    expect(logs).toHaveLength(issued);
    const mismatches: string[] = [];
    for (const log of logs) {
      const record = await stack.api.order(log.intent.coid);
      const ticket = (record?.reply as { ticket?: number } | null | undefined)?.ticket;
      if (record?.state !== log.outcome || (log.outcome === "FILLED" && ticket !== log.ticket))
        mismatches.push(`${log.intent.coid}: told ${log.outcome}, journal ${record?.state}`);
    }
    expect(mismatches).toEqual([]);

    // The broker's books: one deal per FILLED intent, none for a REJECTED one, no stranger,
    // and the open positions are exactly the OPENs not closed since.
    expect(await stack.gateway.stop()).toBe(0);
    const audit = await auditBooks(
      stack.deployment,
      logs.map((log) => log.intent.coid),
    );
    const wrongDeals: string[] = [];
    const closedTickets = new Set<number>();
    const expectedOpen = new Set<number>();
    for (const log of logs) {
      const deals = audit.dealsByCoid.get(log.intent.coid) ?? [];
      const want = log.outcome === "FILLED" ? 1 : 0;
      const entry = log.intent.action === "OPEN" ? "IN" : "OUT";
      if (deals.length !== want || deals.some((deal) => deal.entry !== entry))
        wrongDeals.push(
          `${log.intent.coid} (${log.intent.action} ${log.outcome}): ${deals.length} deals`,
        );
      if (log.outcome !== "FILLED") continue;
      if (log.intent.action === "OPEN") expectedOpen.add(log.ticket as number);
      else closedTickets.add(log.intent.ticket);
    }
    for (const ticket of closedTickets) expectedOpen.delete(ticket);
    expect(wrongDeals).toEqual([]);
    expect(audit.strangers).toEqual([]);
    expect([...audit.positionsByCoid.values()].filter((list) => list.length > 1)).toEqual([]);
    expect(audit.positions.map((p) => p.ticket).sort()).toEqual([...expectedOpen].sort());

    const gatewayLog = stack.gateways.map((gateway) => gateway.log()).join("");
    const inferenceLog = stack.inference?.log() ?? "";
    const count = (text: string, pattern: RegExp) => text.match(pattern)?.length ?? 0;
    const figures = {
      seed: SEED,
      intents: logs.length,
      opens: logs.filter((log) => log.intent.action === "OPEN").length,
      closes: logs.filter((log) => log.intent.action === "CLOSE").length,
      filled: logs.filter((log) => log.outcome === "FILLED").length,
      rejected: logs.filter((log) => log.outcome === "REJECTED").length,
      kills: kills.length,
      kills_with_orders_in_flight: kills.filter((kill) => kill.inFlight > 0).length,
      max_down_ms: Math.round(Math.max(...kills.map((kill) => kill.downMs))),
      strategy_retries: logs.reduce((sum, log) => sum + log.attempts - 1, 0),
      intents_retried: logs.filter((log) => log.attempts > 1).length,
      gateway_reconciled: count(gatewayLog, /Reconciled order/g),
      gateway_torn_journal_tails: count(gatewayLog, /Journal ends with a torn line/g),
      gateway_duplicates_answered: count(gatewayLog, /Duplicate answered from the journal/g),
      inf_orders_unanswered: count(inferenceLog, /Order not answered/g),
      inf_same_intent_resent: count(inferenceLog, /sending the same intent again/g),
      duplicate_executions: 0,
      seconds: Math.round(streamSeconds * 10) / 10,
    };
    console.log(`[faults] crash consistency ${JSON.stringify(figures)}`);
  },
  scaled(120_000, 600_000),
);
