/**
 * `agent-gtw journal verify` and `agent-gtw journal repair` (docs/DEPLOY.md "Repairing the
 * journal"): the operator's side of the journal's loss detection (orders/journal-format.ts).
 *
 * - verify reads the journal and its checkpoint without changing anything (a running gateway may
 *   keep running) and lists every gap, break in the chain, damaged line or lost end; exit 0 when
 *   sound, 1 when not.
 * - repair needs the gateway stopped (it takes the state folders' lock): it keeps every record
 *   that can still be read, moves the damaged journal and checkpoint aside (nothing is deleted),
 *   writes a new journal continuing the sequence, then asks the broker (the simulated one from
 *   its state folder, or the EA, which must be connected) for every deal, position and order
 *   carrying the gateway's tag in the retention window, and records the tags the salvaged
 *   entries do not explain, so their orders can never execute again.
 */
import { existsSync, renameSync } from "node:fs";
import { ExitCode, locateConfig, parseCommandLine, UsageError } from "../../shared/cli.ts";
import { systemClock } from "../../shared/clock.ts";
import { describeError } from "../../shared/errors.ts";
import { createLogger, parseLevel } from "../../shared/log.ts";
import { createBackend } from "../backend/create-backend.ts";
import { type GatewayConfig, loadGatewayConfig } from "../config.ts";
import { lockStateFolders } from "../operator/state-folders.ts";
import { crossCheck } from "../orders/cross-check.ts";
import { Journal, readJournal } from "../orders/journal.ts";
import {
  checkpointPath,
  lossAgainstCheckpoint,
  readCheckpoint,
} from "../orders/journal-checkpoint.ts";
import type { JournalProblem, ParsedJournal } from "../orders/journal-format.ts";
import { SEARCH_AFTER_MS, SEARCH_BEFORE_MS } from "../orders/reconcile.ts";
import { runJournalBackup } from "./journal-backup.ts";

const CONFIG_ENV = "AGENT_GTW_CONFIG";
const CONFIG_FILE = "agent-gtw.yaml";

/** The `journal` command's options, for `agent-gtw journal --help`. */
export const JOURNAL_DETAILS = `  verify [--json]         check the journal for loss or damage without changing it (the
                          gateway may run); exit 0 sound, 1 damaged, each problem listed
  repair [--wait SECONDS] [--log-level LEVEL]
                          with the gateway stopped: keep every readable record, move the
                          damaged journal and checkpoint aside (<journal>.damaged-<time>),
                          write a new journal continuing the sequence, and record every tagged
                          deal, position and order MT5 holds that the kept records do not
                          explain (the EA must connect within --wait seconds, default 60)
  backup [--out FILE]     a consistent copy of the journal (and its checkpoint), also while
                          the gateway runs (default: <journal>.backup-<UTC time>)
  docs/DEPLOY.md "Repairing the journal" says when to use which.`;

/** `agent-gtw journal ACTION ...`: verify and repair here, backup in journal-backup.ts. */
export async function runJournalCommand(args: readonly string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action === "verify") return verify(rest);
  if (action === "repair") return repair(rest);
  if (action === "backup") return runJournalBackup(rest);
  throw new UsageError(
    action === undefined
      ? "journal needs an action: verify, repair or backup"
      : `unknown journal action ${JSON.stringify(action)}; known: verify, repair, backup`,
  );
}

interface Findings {
  readonly parsed: ParsedJournal;
  readonly exists: boolean;
  readonly problems: readonly JournalProblem[];
}

function inspect(config: GatewayConfig): Findings {
  const { parsed, exists } = readJournal(config.journal.path);
  let loss: JournalProblem | undefined;
  try {
    loss = lossAgainstCheckpoint(parsed, readCheckpoint(config.journal.path), exists);
  } catch (error) {
    loss = { line: 0, kind: "lost", message: describeError(error) };
  }
  return {
    parsed,
    exists,
    problems: loss === undefined ? parsed.problems : [...parsed.problems, loss],
  };
}

function verify(args: readonly string[]): number {
  const { values, positionals } = parseCommandLine(args, {
    config: { type: "string", short: "c" },
    json: { type: "boolean" },
  });
  if (positionals.length > 0) throw new UsageError(`journal verify takes no arguments`);
  const config = loadGatewayConfig(locateConfig(values.config, CONFIG_ENV, CONFIG_FILE));
  const { parsed, exists, problems } = inspect(config);
  const checkpoint = safeCheckpoint(config.journal.path);
  const summary = {
    path: config.journal.path,
    exists,
    format: parsed.format,
    records: parsed.records.length,
    last_sequence: parsed.lastSeq,
    torn_tail_line: parsed.tornLine ?? null,
    checkpoint: checkpoint ?? null,
    problems,
    sound: problems.length === 0,
  };
  if (values.json === true) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    const out = (line: string) => process.stdout.write(`${line}\n`);
    out(
      `journal    ${config.journal.path}: ${exists ? `format ${parsed.format}, ${parsed.records.length} records, last record ${parsed.lastSeq}` : "missing"}`,
    );
    out(
      `checkpoint ${checkpoint === undefined ? "none" : `record ${checkpoint.n} at ${new Date(checkpoint.t).toISOString()}`}`,
    );
    if (parsed.tornLine !== undefined)
      out(`tail       line ${parsed.tornLine} is a torn write; the gateway drops it at start`);
    for (const problem of problems)
      out(`PROBLEM    ${problem.line > 0 ? `line ${problem.line}: ` : ""}${problem.message}`);
    out(
      problems.length === 0
        ? "OK: no loss or damage found"
        : `DAMAGED: the gateway will not start on this journal; restore it from a backup, or run \`agent-gtw journal repair\``,
    );
  }
  return problems.length === 0 ? ExitCode.OK : ExitCode.FAILURE;
}

async function repair(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(args, {
    config: { type: "string", short: "c" },
    wait: { type: "string" },
    "log-level": { type: "string" },
  });
  if (positionals.length > 0) throw new UsageError(`journal repair takes no arguments`);
  const waitSeconds = Number(values.wait ?? "60");
  if (!Number.isInteger(waitSeconds) || waitSeconds < 1 || waitSeconds > 600)
    throw new UsageError(`--wait must be 1–600 seconds, was ${values.wait}`);
  const config = loadGatewayConfig(locateConfig(values.config, CONFIG_ENV, CONFIG_FILE));
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const level = parseLevel(values["log-level"] ?? "silent");
  if (level === undefined)
    throw new UsageError(
      `--log-level must be silent, error, warn, info or debug, was ${values["log-level"]}`,
    );
  const logger = createLogger("gtw", { level });
  const locks = lockStateFolders(config, true);
  try {
    const path = config.journal.path;
    const { parsed, exists, problems } = inspect(config);
    const checkpoint = safeCheckpoint(path);
    const afterSeq = Math.max(parsed.lastSeq, checkpoint?.n ?? 0);
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    out(
      `journal    ${path}: ${exists ? `${parsed.records.length} readable records` : "missing"}, ${problems.length} problem(s)`,
    );
    for (const problem of problems) out(`PROBLEM    ${problem.message}`);
    for (const file of [path, checkpointPath(path)]) {
      if (!existsSync(file)) continue;
      const aside = `${file}.damaged-${stamp}`;
      renameSync(file, aside);
      out(`kept       ${aside}`);
    }
    const clock = systemClock;
    const retentionMs = config.journal.retention_days * 24 * 3600 * 1000;
    const journal = Journal.rebuild({ path, clock, logger, retentionMs }, parsed.records, afterSeq);
    out(
      `rebuilt    ${path}: ${journal.size} orders (${journal.unresolved().length} unresolved, settled at the next start), continuing after record ${afterSeq}`,
    );
    const backend = createBackend(config, clock, logger);
    try {
      await backend.start();
      const deadline = Date.now() + waitSeconds * 1000;
      while (backend.link().state !== "UP" && Date.now() < deadline) await Bun.sleep(100);
      if (backend.link().state !== "UP") {
        out(
          `FAIL       MT5 did not answer within ${waitSeconds} s (${backend.link().detail ?? "link down"}); the journal was rebuilt from the file alone. The gateway cross-checks with MT5 at every start anyway.`,
        );
        return ExitCode.FAILURE;
      }
      const now = clock.now();
      const findings = await crossCheck(journal, backend, {
        from: now - retentionMs - SEARCH_BEFORE_MS,
        to: now + SEARCH_AFTER_MS,
      });
      await journal.recordBrokerTags(findings.unknown);
      for (const entry of findings.contradicted)
        await journal.recordOutcome(entry, "UNKNOWN", null);
      out(
        `broker     ${findings.scanned} tagged deals, positions and orders; ${findings.unknown.length} unknown to the journal, recorded so they cannot execute again; ${findings.contradicted.length} NOT_EXECUTED entries the broker contradicts, set to UNKNOWN`,
      );
      for (const tag of findings.unknown.slice(0, 20))
        out(`  restored ${tag.tag}: ${tag.evidence}`);
      out("OK: the journal was rebuilt; start the gateway");
      return ExitCode.OK;
    } finally {
      journal.close();
      await backend.stop();
    }
  } finally {
    for (const lock of locks) lock.release();
  }
}

function safeCheckpoint(path: string) {
  try {
    return readCheckpoint(path);
  } catch {
    return undefined;
  }
}
