/**
 * `agent-inf watch SYMBOL [SYMBOL…]`: live quotes from the running agent's stream
 * (GET /v1/stream, docs/API.md §9), no polling. On a terminal one line per symbol, redrawn in
 * place; into a pipe one line per update; with --json the stream's messages, one JSON per line.
 * --count N stops after N quotes (scripts, tests). Stream and MT5 link changes go to stderr.
 *
 * The SSE parsing and the line rendering are pure functions below, tested without an agent.
 */
import { ExitCode, locateConfig } from "../../shared/cli.ts";
import { describeError, ProtocolError } from "../../shared/errors.ts";
import { loadInferenceConfig } from "../config.ts";
import { apiBaseUrl, commandToken } from "./api-commands.ts";
import { type CliCommand, CONFIG_ENV, CONFIG_FILE, PROGRAM } from "./command.ts";

type WatchCommand = Extract<CliCommand, { kind: "watch" }>;

export interface SseEvent {
  readonly event: string;
  readonly data: string;
}

/** Splits a text/event-stream into events; feed it chunks as they come. */
export class SseParser {
  #buffer = "";

  push(chunk: string): SseEvent[] {
    this.#buffer += chunk;
    const events: SseEvent[] = [];
    let end = this.#buffer.indexOf("\n\n");
    while (end >= 0) {
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      let event = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length > 0) events.push({ event, data: data.join("\n") });
      end = this.#buffer.indexOf("\n\n");
    }
    // A hostile or broken stream must not grow this without bound
    if (this.#buffer.length > 1_048_576) throw new ProtocolError("stream message over 1 MiB");
    return events;
  }
}

export interface QuoteLine {
  readonly symbol: string;
  readonly bid: number;
  readonly ask: number;
  readonly time: number;
}

/** `EURUSD  bid 1.10125  ask 1.10135  spread 0.00010  12:00:00.250 UTC  (age 12 ms)`. */
export function formatQuoteLine(quote: QuoteLine, nowMs: number): string {
  const decimals = Math.max(decimalsOf(quote.bid), decimalsOf(quote.ask));
  const spread = (quote.ask - quote.bid).toFixed(decimals);
  const time = new Date(quote.time).toISOString().slice(11, 23);
  const age = Math.max(0, nowMs - quote.time);
  return `${quote.symbol.padEnd(10)} bid ${quote.bid.toFixed(decimals)}  ask ${quote.ask.toFixed(decimals)}  spread ${spread}  ${time} UTC  (age ${age} ms)`;
}

function decimalsOf(value: number): number {
  const text = String(value);
  const point = text.indexOf(".");
  return point < 0 || text.includes("e") ? 0 : Math.min(10, text.length - point - 1);
}

export async function runWatch(command: WatchCommand): Promise<number> {
  const config = loadInferenceConfig(locateConfig(command.config, CONFIG_ENV, CONFIG_FILE));
  const token = commandToken(config.api, "strategy");
  const base = apiBaseUrl(config.api.listen);
  const query = new URLSearchParams({ quotes: command.symbols.join(",") });
  if (command.gateway !== undefined) query.set("gateway", command.gateway);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    return await watch(`${base}/v1/stream?${query}`, token, command, controller.signal);
  } catch (error) {
    if (controller.signal.aborted) return ExitCode.OK;
    const code = (error as { code?: unknown }).code;
    const why =
      code === "ECONNREFUSED" || code === "ConnectionRefused"
        ? `agent-inf is not running at ${base}`
        : `the stream from ${base} broke: ${describeError(error)}`;
    process.stderr.write(`${PROGRAM}: ${why}\n`);
    return ExitCode.FAILURE;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}

async function watch(
  url: string,
  token: string | undefined,
  command: WatchCommand,
  signal: AbortSignal,
): Promise<number> {
  const response = await fetch(url, {
    headers: {
      accept: "text/event-stream",
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    signal,
  });
  if (response.status !== 200 || response.body === null) {
    const body = (await response.json().catch(() => undefined)) as
      | { error?: { code?: string; message?: string } }
      | undefined;
    const detail = body?.error?.message ?? `HTTP ${response.status}`;
    process.stderr.write(`${PROGRAM}: the agent refused the stream: ${detail}\n`);
    return ExitCode.FAILURE;
  }
  const tty = process.stdout.isTTY === true && !command.json;
  const lines = new Map<string, string>(
    command.symbols.map((symbol) => [symbol, `${symbol.padEnd(10)} waiting for a quote…`]),
  );
  let drawn = 0;
  const redraw = () => {
    const text = [...lines.values()].join("\n");
    process.stdout.write(`${drawn > 0 ? `\x1b[${drawn}F\x1b[J` : ""}${text}\n`);
    drawn = lines.size;
  };
  if (tty) redraw();
  let quotes = 0;
  const parser = new SseParser();
  const decoder = new TextDecoder();
  for await (const chunk of response.body) {
    for (const { event, data } of parser.push(
      decoder.decode(chunk as Uint8Array, { stream: true }),
    )) {
      if (command.json) process.stdout.write(`${data}\n`);
      const message = JSON.parse(data) as Record<string, unknown>;
      const shown = showMessage(event, message);
      if (shown !== undefined && !command.json) process.stderr.write(`${shown}\n`);
      if (event === "SNAPSHOT" || event === "QUOTE") {
        const list = event === "QUOTE" ? [message] : ((message["quotes"] as unknown[]) ?? []);
        for (const quote of list as QuoteLine[]) {
          const line = formatQuoteLine(quote, Date.now());
          lines.set(quote.symbol, line);
          if (!tty && !command.json) process.stdout.write(`${line}\n`);
        }
        if (tty) redraw();
      }
      if (event === "QUOTE") quotes += 1;
      if (command.count !== undefined && quotes >= command.count) return ExitCode.OK;
      if (event === "RESYNC_REQUIRED" || event === "SHUTDOWN") return ExitCode.FAILURE;
    }
  }
  process.stderr.write(`${PROGRAM}: the agent ended the stream\n`);
  return ExitCode.FAILURE;
}

/** Stream and link changes worth a line on stderr. */
function showMessage(
  event: string,
  message: Readonly<Record<string, unknown>>,
): string | undefined {
  switch (event) {
    case "STREAM_STATE":
      return `${PROGRAM}: stream ${String(message["state"])} (${String(message["reason"] ?? "")})`;
    case "LINK_STATE": {
      const mt5 = message["mt5"] as { link?: string; detail?: string } | undefined;
      return `${PROGRAM}: MT5 link ${mt5?.link ?? "?"}${mt5?.detail === undefined ? "" : ` (${mt5.detail})`}`;
    }
    case "RESYNC_REQUIRED":
    case "SHUTDOWN":
      return `${PROGRAM}: ${String(message["reason"] ?? event)}`;
    default:
      return undefined;
  }
}
