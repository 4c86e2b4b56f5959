/**
 * Runs the market-data commands (market-commands.ts) against the running agent's API and prints
 * the answer as it streams, so a year of bars costs the command no more memory than a page:
 * --csv and --json pass the API's text through; the table reads the CSV answer line by line
 * (JSON for `symbols`) with times as dates, in the zone MT5 gives them (bars and ticks the
 * broker's server time, deals and orders UTC). An answer the agent had to cut short (the
 * gateway failed mid-answer) ends with an error and exit code 1.
 */
import { ExitCode, locateConfig } from "../../shared/cli.ts";
import { describeError } from "../../shared/errors.ts";
import { loadInferenceConfig } from "../config.ts";
import { apiBaseUrl, commandToken } from "./api-commands.ts";
import { type CliCommand, CONFIG_ENV, CONFIG_FILE, PROGRAM } from "./command.ts";
import { apiError, table } from "./format.ts";

type MarketCommand = Extract<CliCommand, { kind: "market" }>;

/** Rows whose widths set the table's columns; later rows use the same widths. */
const WIDTH_SAMPLE = 200;

/** The columns a table shows, per view (the CSV has more; --csv prints them all). */
const TABLE_COLUMNS: Readonly<
  Record<Exclude<MarketCommand["view"], "symbols">, readonly string[]>
> = {
  rates: ["time", "open", "high", "low", "close", "tick_volume", "spread", "real_volume"],
  ticks: ["time_msc", "bid", "ask", "last", "volume", "flags"],
  deals: [
    "time",
    "ticket",
    "order",
    "position",
    "symbol",
    "type",
    "entry",
    "reason",
    "volume",
    "price",
    "profit",
    "commission",
    "swap",
    "comment",
  ],
  orders: [
    "time_setup",
    "ticket",
    "symbol",
    "type",
    "state",
    "volume_initial",
    "price_open",
    "sl",
    "tp",
    "time_done",
    "position_id",
    "comment",
  ],
};

export async function runMarketCommand(command: MarketCommand): Promise<number> {
  const config = loadInferenceConfig(locateConfig(command.config, CONFIG_ENV, CONFIG_FILE));
  const token = commandToken(config.api, "strategy");
  const base = apiBaseUrl(config.api.listen);
  const wantsCsv = command.csv || (!command.json && command.view !== "symbols");
  let response: Response;
  try {
    response = await fetch(`${base}${command.path}`, {
      headers: {
        accept: wantsCsv ? "text/csv" : "application/json",
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
    });
  } catch (error) {
    process.stderr.write(
      `${PROGRAM}: agent-inf is not reachable at ${base}: ${describeError(error)}\n`,
    );
    return ExitCode.FAILURE;
  }
  if (response.status !== 200) {
    const body = (await response.json().catch(() => undefined)) as
      | { error?: Record<string, unknown> }
      | undefined;
    process.stderr.write(`${PROGRAM}: ${apiError(response.status, body?.error)}\n`);
    return ExitCode.FAILURE;
  }
  try {
    if (command.csv || command.json) await passThrough(response, command.json);
    else if (command.view === "symbols") printSymbols(await response.json());
    else await printTable(response, TABLE_COLUMNS[command.view]);
  } catch (error) {
    process.stderr.write(
      `\n${PROGRAM}: the answer was cut short (${describeError(error)}); what was printed is incomplete\n`,
    );
    return ExitCode.FAILURE;
  }
  return ExitCode.OK;
}

/** Write the body as it comes; a JSON answer must end with its count line to be whole. */
async function passThrough(response: Response, json: boolean): Promise<void> {
  let tail = "";
  const decoder = new TextDecoder();
  for await (const chunk of response.body as ReadableStream<Uint8Array>) {
    await write(chunk);
    if (json) tail = (tail + decoder.decode(chunk, { stream: true })).slice(-64);
  }
  if (json && !/"count":\d+\}\s*$/.test(tail))
    throw new Error("the JSON answer has no closing count line");
}

/** Wait for stdout to take a chunk, so a slow pipe slows the download instead of filling memory. */
function write(chunk: Uint8Array | string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(chunk, (error) => (error ? reject(error) : resolve()));
  });
}

async function printTable(response: Response, columns: readonly string[]): Promise<void> {
  const decoder = new TextDecoder();
  let pending = "";
  let header: string[] | undefined;
  let picks: number[] = [];
  let widths: number[] | undefined;
  let sample: string[][] = [[...columns]];
  const emit = async (rows: string[][]) => {
    if (widths === undefined) {
      widths = columns.map((_, i) => Math.max(...rows.map((row) => row[i]?.length ?? 0)));
    }
    const w = widths;
    const lines = rows.map((row) =>
      row
        .map((cell, i) =>
          i === 0 || i >= row.length - 1 ? cell.padEnd(w[i] ?? 0) : cell.padStart(w[i] ?? 0),
        )
        .join("  ")
        .trimEnd(),
    );
    await write(`${lines.join("\n")}\n`);
  };
  const take = async (line: string) => {
    const cells = parseCsvLine(line);
    if (header === undefined) {
      header = cells;
      picks = columns.map((name) => (header as string[]).indexOf(name));
      return;
    }
    const row = picks.map((at, i) =>
      humanCell(columns[i] as string, at < 0 ? "" : (cells[at] ?? "")),
    );
    if (widths === undefined) {
      sample.push(row);
      if (sample.length > WIDTH_SAMPLE) {
        await emit(sample);
        sample = [];
      }
    } else {
      await emit([row]);
    }
  };
  for await (const chunk of response.body as ReadableStream<Uint8Array>) {
    pending += decoder.decode(chunk, { stream: true });
    const lines = pending.split("\r\n");
    pending = lines.pop() ?? "";
    for (const line of lines) await take(line);
  }
  if (pending !== "") await take(pending);
  if (widths === undefined) await emit(sample);
}

/** Times as dates for people, without a zone (server time or UTC, as the API's numbers are). */
function humanCell(column: string, cell: string): string {
  if (cell === "" || !/^\d+$/.test(cell)) return cell;
  if (column === "time_msc")
    return new Date(Number(cell)).toISOString().replace("T", " ").slice(0, 23);
  if (column === "time" || column === "time_setup" || column === "time_done")
    return Number(cell) === 0
      ? "-"
      : new Date(Number(cell) * 1000).toISOString().replace("T", " ").slice(0, 19);
  return cell;
}

/** One line of RFC 4180 CSV (the API never puts a line break inside a field). */
export function parseCsvLine(line: string): string[] {
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let cell = "";
      i += 1;
      for (;;) {
        const quote = line.indexOf('"', i);
        if (quote < 0) {
          cell += line.slice(i);
          i = line.length;
          break;
        }
        cell += line.slice(i, quote);
        if (line[quote + 1] === '"') {
          cell += '"';
          i = quote + 2;
        } else {
          i = quote + 1;
          break;
        }
      }
      cells.push(cell);
    } else {
      const comma = line.indexOf(",", i);
      cells.push(line.slice(i, comma < 0 ? line.length : comma));
      i = comma < 0 ? line.length : comma;
    }
    if (line[i] !== ",") return cells;
    i += 1;
  }
}

function printSymbols(body: unknown): void {
  const symbols = ((body as { symbols?: unknown[] }).symbols ?? []) as Record<string, unknown>[];
  const rows = [
    ["symbol", "description", "digits", "bid", "ask", "spread", "trade_mode", "session"],
    ...symbols.map((info) => [
      String(info["symbol"] ?? ""),
      String(info["description"] ?? ""),
      String(info["digits"] ?? ""),
      String(info["bid"] ?? ""),
      String(info["ask"] ?? ""),
      String(info["spread"] ?? ""),
      String(info["trade_mode"] ?? ""),
      info["session_open"] === true ? "open" : "closed",
    ]),
  ];
  process.stdout.write(`${table(rows, new Set([2, 3, 4, 5]))}\n`);
}
