/**
 * The strategies' streams (docs/API.md §9): `GET /v1/stream` as Server-Sent Events and
 * `GET /v1/ws` as a WebSocket, both fed by a lane's feed (live-view/feed.ts) through one
 * StreamConnection each. Same query, same messages; SSE frames them as `event:`/`id:`/`data:`,
 * the WebSocket sends the JSON alone (its `event` and `id` fields say the same).
 *
 * Both write only as fast as the reader reads: SSE through a pull stream (Bun asks for the next
 * chunk when the socket can take it), the WebSocket up to a buffered-amount budget and again on
 * `drain`. Meanwhile the connection's outbox conflates quotes and keeps events.
 *
 * Auth and the Host and Origin guards are server.ts's (auth.ts, guards.ts) and run before any of
 * this: the Origin guard matters most here, since a WebSocket needs no CORS preflight.
 */
import type { Server, ServerWebSocket } from "bun";
import { AgentError, describeError, FaultCode } from "../../shared/errors.ts";
import {
  checkSymbol,
  checkSymbolList,
  describeKey,
  describeValue,
  isTimeframe,
  TIMEFRAMES,
  type Timeframe,
} from "../../shared/protocol/index.ts";
import type { InferenceApp } from "../app.ts";
import type { Lane } from "../lane/lane.ts";
import { pairKey } from "../live-view/bars.ts";
import { ApiError, ApiErrorCode, invalid, QUERY_GATEWAY } from "./input.ts";
import { StreamConnection, type StreamMessage } from "./stream-connection.ts";

export interface StreamLimits {
  readonly maxConnections: number;
  readonly maxQueuedEvents: number;
}

/** What a WebSocket carries from the upgrade to its handlers. */
export interface WsData {
  readonly kind: "stream";
  connection: StreamConnection | undefined;
  readonly open: (ws: ServerWebSocket<WsData>) => void;
}

const SSE_CHUNK_BYTES = 64 * 1024;
const SSE_KEEPALIVE_MS = 15_000;
/** A reader that does not take its last message (stuck, or gone silently) is cut this much later. */
const FINAL_GRACE_MS = 5000;
/** Bytes Bun may buffer for one WebSocket before we let the outbox hold (and conflate). */
const WS_BUFFER_BUDGET = 256 * 1024;
const encoder = new TextEncoder();

/** Every open stream of one API server, so stop() can end them instead of waiting on them. */
export class StreamRegistry {
  readonly #app: InferenceApp;
  readonly #limits: StreamLimits;
  readonly #open = new Set<StreamConnection>();
  #connecting = 0;

  constructor(app: InferenceApp, limits: StreamLimits) {
    this.#app = app;
    this.#limits = limits;
  }

  get size(): number {
    return this.#open.size;
  }

  /**
   * Open streams, the quotes conflated for slow readers, and how many streams have messages
   * waiting (a reader that keeps up has none for long).
   */
  stats(): {
    readonly connections: number;
    readonly conflated: number;
    readonly backlogged: number;
  } {
    let conflated = 0;
    let backlogged = 0;
    for (const connection of this.#open) {
      conflated += connection.conflated;
      if (connection.pending) backlogged += 1;
    }
    return { connections: this.#open.size, conflated, backlogged };
  }

  /** End every stream with a SHUTDOWN message (the agent is stopping). */
  closeAll(): void {
    for (const connection of this.#open) connection.end("SHUTDOWN", "agent-inf is stopping");
  }

  /** GET /v1/stream: a text/event-stream response. */
  async sse(request: Request, query: URLSearchParams, server: Server<WsData>): Promise<Response> {
    let wake = () => {};
    let abort = () => {};
    const { connection, release } = await this.#connect(
      request,
      query,
      "sse",
      () => wake(),
      () => abort(),
    );
    // Bun ends idle connections after its idleTimeout; a quiet stream is not idle
    server.timeout(request, 0);
    let closed = false;
    const finish = () => {
      if (closed) return;
      closed = true;
      connection.dispose();
      release();
    };
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          abort = () => {
            const timer = setTimeout(() => {
              if (closed) return;
              finish();
              controller.error(new AgentError(FaultCode.TIMEOUT, "stream reader stuck"));
            }, FINAL_GRACE_MS);
            timer.unref?.();
          };
          connection.start();
        },
        pull: async (controller) => {
          if (!connection.pending) {
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, SSE_KEEPALIVE_MS);
              wake = () => {
                clearTimeout(timer);
                wake = () => {};
                resolve();
              };
            });
          }
          if (closed) return;
          let chunk = connection.pending ? "" : ": keepalive\n\n";
          while (chunk.length < SSE_CHUNK_BYTES) {
            const message = connection.next();
            if (message === undefined) break;
            chunk += sseFrame(message);
          }
          controller.enqueue(encoder.encode(chunk));
          if (connection.finished) {
            controller.close();
            finish();
          }
        },
        cancel: () => finish(),
      },
      { highWaterMark: 0 },
    );
    request.signal.addEventListener("abort", () => {
      finish();
      wake();
    });
    return new Response(stream, {
      status: 200,
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      },
    });
  }

  /** GET /v1/ws: upgrade; the socket handlers below take over. */
  async ws(
    request: Request,
    query: URLSearchParams,
    server: Server<WsData>,
  ): Promise<Response | undefined> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket")
      throw invalid(undefined, "this route is a WebSocket: send an Upgrade: websocket request");
    let socket: ServerWebSocket<WsData> | undefined;
    const pump = () => {
      if (socket !== undefined) pumpWs(socket);
    };
    const { connection, release } = await this.#connect(request, query, "ws", pump, () => {
      // The last message goes out even past the budget (Bun buffers it); then the socket closes
      const timer = setTimeout(() => {
        if (socket !== undefined && socket.readyState === 1) socket.terminate();
      }, FINAL_GRACE_MS);
      timer.unref?.();
    });
    const data: WsData = {
      kind: "stream",
      connection,
      open: (ws) => {
        socket = ws;
        connection.start();
      },
    };
    const upgraded = server.upgrade(request, { data });
    if (!upgraded) {
      connection.dispose();
      release();
      throw invalid(undefined, "WebSocket upgrade failed");
    }
    this.#onClose.set(connection, release);
    return undefined;
  }

  readonly #onClose = new WeakMap<StreamConnection, () => void>();

  /** Bun's websocket handlers for the stream sockets. */
  readonly websocket = {
    // Strategies only read; anything they send is small and ignored
    maxPayloadLength: 4096,
    backpressureLimit: 16 * 1024 * 1024,
    open: (ws: ServerWebSocket<WsData>) => ws.data.open(ws),
    message: () => {},
    drain: (ws: ServerWebSocket<WsData>) => pumpWs(ws),
    close: (ws: ServerWebSocket<WsData>) => {
      const connection = ws.data.connection;
      if (connection === undefined) return;
      ws.data.connection = undefined;
      connection.dispose();
      this.#onClose.get(connection)?.();
    },
  };

  /** Shared by both transports: check the query, take the symbols, make the connection. */
  async #connect(
    request: Request,
    query: URLSearchParams,
    kind: "sse" | "ws",
    wake: () => void,
    ending: () => void,
  ): Promise<{ connection: StreamConnection; release: () => void }> {
    const { gateway, quotes, events, bars, lastEventId: fromQuery } = parseStreamQuery(query);
    // EventSource sends the header by itself when it reconnects
    const lastEventId = request.headers.get("last-event-id") ?? fromQuery;
    const lane = this.#lane(gateway);
    const stream = lane.stream;
    if (stream === undefined)
      throw new ApiError(503, ApiErrorCode.STREAM_UNAVAILABLE, "streaming is off (stream.enabled)");
    if (this.#open.size + this.#connecting >= this.#limits.maxConnections)
      throw new ApiError(
        503,
        ApiErrorCode.STREAM_UNAVAILABLE,
        `already ${this.#limits.maxConnections} stream connections; close one first`,
      );
    // Counted while the gateway is asked for the symbols, so a burst cannot pass the limit
    this.#connecting += 1;
    let refused: Awaited<ReturnType<typeof stream.sync.acquire>>;
    try {
      refused = quotes.length === 0 ? [] : await stream.sync.acquire(quotes);
    } finally {
      this.#connecting -= 1;
    }
    if (refused.length === 0 && bars.length > 0) {
      // Bars after quotes, counted as connecting too; a refusal gives back what was taken
      this.#connecting += 1;
      try {
        refused = await stream.bars.acquire(bars);
      } catch (error) {
        stream.sync.release(quotes);
        throw new ApiError(503, ApiErrorCode.STREAM_UNAVAILABLE, describeError(error), {
          field: "bars",
        });
      } finally {
        this.#connecting -= 1;
      }
      if (refused.length > 0) {
        stream.sync.release(quotes);
        stream.bars.release(bars.filter((pair) => !refused.some((r) => r.symbol === pair.symbol)));
      }
    }
    if (refused.length > 0) {
      const taken = quotes.filter((symbol) => !refused.some((r) => r.symbol === symbol));
      stream.sync.release(taken);
      const first = refused[0] as { symbol: string; code: string };
      const unknown = first.code === "UNKNOWN_SYMBOL";
      throw new ApiError(
        unknown ? 404 : 502,
        unknown ? ApiErrorCode.UNKNOWN_SYMBOL : ApiErrorCode.GATEWAY_ERROR,
        `gateway ${lane.name} will not stream ${refused.map((r) => `${r.symbol} (${r.code})`).join(", ")}`,
        {
          field: quotes.includes(first.symbol) ? "quotes" : "bars",
          details: { gateway: lane.name, gateway_error_code: first.code },
        },
      );
    }
    const metrics = this.#app.metrics;
    const connection = new StreamConnection({
      feed: stream.feed,
      view: stream.view,
      sync: stream.sync,
      quotes: new Set(quotes),
      events,
      bars: new Set(bars.map(({ symbol, timeframe }) => pairKey(symbol, timeframe))),
      watcher: stream.bars,
      maxQueuedEvents: this.#limits.maxQueuedEvents,
      ...(lastEventId === undefined ? {} : { lastEventId }),
      wake,
      ending,
      overflowed: () => {
        metrics.streamOverflows.inc({ gateway: lane.name });
        this.#app.logger.warn("Stream reader too slow; disconnected with RESYNC_REQUIRED", {
          gateway: lane.name,
          kind,
        });
      },
    });
    this.#open.add(connection);
    metrics.streamConnections.set(this.#open.size);
    let released = false;
    return {
      connection,
      release: () => {
        if (released) return;
        released = true;
        this.#open.delete(connection);
        metrics.streamConnections.set(this.#open.size);
        stream.sync.release(quotes);
        stream.bars.release(bars);
      },
    };
  }

  #lane(name: string | undefined): Lane {
    const lane = this.#app.lanes.get(name ?? this.#app.defaultGateway);
    if (lane === undefined)
      throw new ApiError(
        404,
        ApiErrorCode.UNKNOWN_GATEWAY,
        `unknown gateway ${JSON.stringify(name)}; configured: ${[...this.#app.lanes.keys()].join(", ")}`,
        { field: "gateway" },
      );
    return lane;
  }
}

/** Write what the socket will take now; `drain` calls again when it takes more. */
function pumpWs(ws: ServerWebSocket<WsData>): void {
  const connection = ws.data.connection;
  if (connection === undefined) return;
  while (connection.ending || ws.getBufferedAmount() < WS_BUFFER_BUDGET) {
    const message = connection.next();
    if (message === undefined) break;
    ws.send(message.json);
  }
  if (connection.finished) ws.close(1000, "stream ended");
}

function sseFrame(message: StreamMessage): string {
  const id = message.id === undefined ? "" : `id: ${message.id}\n`;
  return `${id}event: ${message.event}\ndata: ${message.json}\n\n`;
}

// ---------------------------------------------------------------------------------------------
// Query

export interface StreamQuery {
  readonly gateway?: string;
  readonly quotes: string[];
  readonly events: boolean;
  /** Closed bars of these symbol and timeframe pairs (`bars=EURUSD:M1,GBPUSD:H1`). */
  readonly bars: { readonly symbol: string; readonly timeframe: Timeframe }[];
  /** Resume after this event (also the Last-Event-ID header). */
  readonly lastEventId?: string;
}

const STREAM_PARAMS = new Set(["gateway", "quotes", "events", "bars", "last_event_id"]);
/** Bar pairs one stream may ask for (as many as quote symbols). */
export const MAX_BAR_PAIRS = 64;

/** `quotes=EURUSD,GBPUSD`, `events=1`, `bars=EURUSD:M1`, `gateway=`: at least one of the three. */
export function parseStreamQuery(query: URLSearchParams): StreamQuery {
  const seen = new Set<string>();
  for (const [key] of query) {
    if (!STREAM_PARAMS.has(key))
      throw invalid(
        key,
        `query parameter ${describeKey(key)} is not allowed; allowed: ${[...STREAM_PARAMS].join(", ")}`,
      );
    if (seen.has(key)) throw invalid(key, `query parameter ${key} is given twice`);
    seen.add(key);
  }
  const gateway = query.get("gateway") ?? undefined;
  if (gateway !== undefined) {
    const problem = QUERY_GATEWAY.gateway(gateway);
    if (problem !== undefined)
      throw invalid("gateway", `query parameter gateway ${problem}, was ${describeValue(gateway)}`);
  }
  const rawQuotes = query.get("quotes");
  const quotes = rawQuotes === null || rawQuotes === "" ? [] : rawQuotes.split(",");
  if (quotes.length > 0) {
    const problem = checkSymbolList(quotes);
    if (problem !== undefined)
      throw invalid("quotes", `query parameter quotes ${problem}, was ${describeValue(rawQuotes)}`);
  }
  const rawEvents = query.get("events");
  if (rawEvents !== null && !["0", "1", "true", "false"].includes(rawEvents))
    throw invalid(
      "events",
      `query parameter events must be 1 or 0, was ${describeValue(rawEvents)}`,
    );
  const events = rawEvents === "1" || rawEvents === "true";
  const bars = parseBarPairs(query.get("bars"));
  if (!events && quotes.length === 0 && bars.length === 0)
    throw invalid("quotes", "ask for quotes=SYMBOL,…, events=1 and/or bars=SYMBOL:TIMEFRAME,…");
  const lastEventId = query.get("last_event_id") ?? undefined;
  if (lastEventId !== undefined && !/^[0-9a-z]{1,16}-\d{1,15}$/.test(lastEventId))
    throw invalid(
      "last_event_id",
      `query parameter last_event_id is not an event id, was ${describeValue(lastEventId)}`,
    );
  return {
    ...(gateway === undefined ? {} : { gateway }),
    quotes,
    events,
    bars,
    ...(lastEventId === undefined ? {} : { lastEventId }),
  };
}

function parseBarPairs(raw: string | null): { symbol: string; timeframe: Timeframe }[] {
  if (raw === null || raw === "") return [];
  const parts = raw.split(",");
  if (parts.length > MAX_BAR_PAIRS)
    throw invalid(
      "bars",
      `query parameter bars may name at most ${MAX_BAR_PAIRS} pairs, was ${parts.length}`,
    );
  const pairs = new Map<string, { symbol: string; timeframe: Timeframe }>();
  for (const part of parts) {
    const [symbol, frame, ...extra] = part.split(":");
    const timeframe = frame?.toUpperCase();
    if (
      symbol === undefined ||
      extra.length > 0 ||
      checkSymbol(symbol) !== undefined ||
      timeframe === undefined ||
      !isTimeframe(timeframe)
    )
      throw invalid(
        "bars",
        `query parameter bars takes SYMBOL:TIMEFRAME pairs (EURUSD:M1,GBPUSD:H1; timeframes ${TIMEFRAMES.join(" ")}), was ${describeValue(part)}`,
      );
    pairs.set(pairKey(symbol, timeframe), { symbol, timeframe });
  }
  return [...pairs.values()];
}
