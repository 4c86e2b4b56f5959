/**
 * One market-data answer, streamed: agent-inf pages through the gateway itself (the protocol's
 * stateless cursor, docs/PROTOCOL.md §14.1) and writes each page to the HTTP client as it
 * arrives, so a strategy gets one response for a year of bars while neither agent holds more
 * than a page or two of it.
 *
 * - Backpressure: the body is a pull stream; the next page is asked for only once the client
 *   has taken the previous one (one page is fetched ahead, so the gateway works while the
 *   client reads).
 * - Errors before the first row (unknown symbol, a gateway that does not answer) are normal
 *   HTTP errors. After the headers are sent an error can only cut the body: the chunked
 *   transfer ends without its last chunk, which every HTTP client reports as an incomplete
 *   answer, and a JSON answer lacks its closing `],"count":N}` line (docs/API.md §10.6).
 * - Concurrency: at most MAX_MARKET_READS answers per gateway at once (the gateway itself lets
 *   one connection have 32 reads waiting); more get 429.
 */
import { describeError } from "../../shared/errors.ts";
import type { Logger } from "../../shared/log.ts";
import type { MarketRequest, Reply } from "../../shared/protocol/index.ts";
import type { QueryBody } from "../gateway/gateway-client.ts";
import type { Lane } from "../lane/lane.ts";
import { ask, expectOk } from "./gateway-answers.ts";
import { ApiError, ApiErrorCode } from "./input.ts";
import type { MarketFormat } from "./market-input.ts";
import { CONTENT_TYPES, type MarketKind, MarketWriter, pageRows } from "./market-rows.ts";

/** Market answers streaming from one gateway at once; more are refused with 429. */
export const MAX_MARKET_READS = 16;
/** A page refused with RATE_LIMITED (the gateway's queue is full) is asked again this often. */
const RATE_LIMIT_RETRIES = 5;
const RATE_LIMIT_PAUSE_MS = 100;
/** A page refused with HISTORY_LOADING is asked again this often (the EA waits 2 s itself). */
const HISTORY_RETRIES = 3;
const HISTORY_PAUSE_MS = 2000;
/** Bun cuts a connection idle this long (a client that stopped reading, a very slow page). */
const IDLE_TIMEOUT_S = 60;

type MarketBody = Omit<MarketRequest, "v" | "id" | "ts" | "cursor">;

/** In-flight answers per lane, counted from the first page to the last byte. */
const inFlight = new WeakMap<Lane, number>();

function acquire(lane: Lane): () => void {
  const now = inFlight.get(lane) ?? 0;
  if (now >= MAX_MARKET_READS)
    throw new ApiError(
      429,
      ApiErrorCode.TOO_MANY_REQUESTS,
      `already ${MAX_MARKET_READS} market-data answers streaming from gateway ${lane.name}; wait for one to finish`,
      { headers: { "retry-after": "1" }, details: { gateway: lane.name } },
    );
  inFlight.set(lane, now + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    inFlight.set(lane, (inFlight.get(lane) ?? 1) - 1);
  };
}

/** One page: the request with the cursor of the previous one; refusals as ApiErrors. */
export async function fetchPage(lane: Lane, body: MarketBody, cursor?: string): Promise<Reply> {
  const request = { ...body, ...(cursor === undefined ? {} : { cursor }) } as QueryBody;
  for (let attempt = 0; ; attempt++) {
    const reply = await ask(lane, request);
    // The gateway's queue for this connection is full (other pagers): its replies free it soon
    if (reply.error_code === "RATE_LIMITED" && attempt < RATE_LIMIT_RETRIES) {
      await Bun.sleep(RATE_LIMIT_PAUSE_MS * (attempt + 1));
      continue;
    }
    // MT5 is downloading the history this page needs (terminal backend): it comes in seconds
    if (reply.error_code === "HISTORY_LOADING" && attempt < HISTORY_RETRIES) {
      await Bun.sleep(HISTORY_PAUSE_MS);
      continue;
    }
    return expectOk(lane, reply);
  }
}

/**
 * Pages in order, the next one asked for as soon as the current one is handed out (one ahead:
 * the gateway works while the client reads). Stateless cursors make an abandoned prefetch free.
 */
export class PageReader {
  readonly #fetch: (cursor?: string) => Promise<Reply>;
  #ahead: Promise<Reply> | undefined;
  #started = false;
  #cancelled = false;

  constructor(fetch: (cursor?: string) => Promise<Reply>) {
    this.#fetch = fetch;
  }

  /** The next page, or undefined after the last one (`more: false`). */
  async next(): Promise<Reply | undefined> {
    if (this.#cancelled) return undefined;
    let page: Promise<Reply>;
    if (!this.#started) {
      this.#started = true;
      page = this.#fetch();
    } else if (this.#ahead !== undefined) {
      page = this.#ahead;
    } else {
      return undefined;
    }
    this.#ahead = undefined;
    const reply = await page;
    const paged = reply as Reply & { more?: boolean; next?: string };
    if (paged.more === true && typeof paged.next === "string" && !this.#cancelled) {
      const ahead = this.#fetch(paged.next);
      // Observed here so a prefetch nobody awaits (cancelled) is not an unhandled rejection
      ahead.catch(() => {});
      this.#ahead = ahead;
    }
    return reply;
  }

  cancel(): void {
    this.#cancelled = true;
    this.#ahead = undefined;
  }
}

export interface MarketAnswer {
  readonly lane: Lane;
  readonly kind: MarketKind;
  readonly format: MarketFormat;
  readonly request: MarketBody;
  /** Fields of the JSON head before the rows (gateway, symbol, timeframe, …). */
  readonly meta: (first: Reply) => Readonly<Record<string, unknown>>;
  readonly log: Logger;
  /** Bun's per-request idle timeout (a slow reader is cut after this much silence). */
  readonly setIdleTimeout?: (seconds: number) => void;
  /** The client went away: stop asking the gateway. */
  readonly signal?: AbortSignal;
}

/**
 * Ask the first page, then answer 200 with a body that pulls the rest. Throws an ApiError when
 * the first page fails, before anything is written.
 */
export async function streamMarket(answer: MarketAnswer): Promise<Response> {
  const { lane, kind, format, request, log } = answer;
  const release = acquire(lane);
  const pages = new PageReader((cursor) => fetchPage(lane, request, cursor));
  let first: Reply;
  try {
    first = (await pages.next()) as Reply;
  } catch (error) {
    pages.cancel();
    release();
    throw error;
  }
  const writer = new MarketWriter(kind, format);
  const encoder = new TextEncoder();
  let pending: Reply | undefined = first;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    pages.cancel();
    release();
  };
  answer.signal?.addEventListener("abort", finish);
  answer.setIdleTimeout?.(IDLE_TIMEOUT_S);
  const body = new ReadableStream<Uint8Array>(
    {
      start: (controller) => {
        controller.enqueue(encoder.encode(writer.head(answer.meta(first))));
      },
      pull: async (controller) => {
        try {
          // Empty pages (a closed market, a page bounded by work) are skipped, not written
          for (;;) {
            const reply = pending ?? (await pages.next());
            pending = undefined;
            if (finished) return;
            if (reply === undefined) {
              const end = writer.end();
              if (end !== "") controller.enqueue(encoder.encode(end));
              controller.close();
              finish();
              return;
            }
            const text = writer.rows(pageRows(kind, reply));
            if (text !== "") {
              controller.enqueue(encoder.encode(text));
              return;
            }
          }
        } catch (error) {
          log.warn("Market answer cut short: the gateway failed mid-answer", {
            gateway: lane.name,
            action: request.action,
            rows_sent: writer.count,
            error: describeError(error),
          });
          finish();
          // No Error object: Bun would print it to stderr; the log line above says why
          controller.error(undefined);
        }
      },
      cancel: () => finish(),
    },
    { highWaterMark: 0 },
  );
  return new Response(body, {
    status: 200,
    headers: { "content-type": CONTENT_TYPES[format], "cache-control": "no-store" },
  });
}
