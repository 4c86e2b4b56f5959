/**
 * Faults: infrastructure and protocol failures that are thrown.
 *
 * Outcomes that are part of normal trading (a risk denial, an MT5 rejection, a refused signature)
 * are values with a code, not exceptions; see shared/protocol/errors.ts for the wire codes.
 * Callers branch on `code`, never on message text.
 */

export const FaultCode = {
  CONFIG_INVALID: "CONFIG_INVALID",
  KEY_FILE_INVALID: "KEY_FILE_INVALID",
  KEY_FILE_INSECURE: "KEY_FILE_INSECURE",
  KEY_FILE_EXISTS: "KEY_FILE_EXISTS",
  ZMTP_PROTOCOL: "ZMTP_PROTOCOL",
  CURVE_HANDSHAKE: "CURVE_HANDSHAKE",
  SOCKET_CLOSED: "SOCKET_CLOSED",
  ENDPOINT_INVALID: "ENDPOINT_INVALID",
  TIMEOUT: "TIMEOUT",
  QUEUE_FULL: "QUEUE_FULL",
  /** A peer answered a request with an error reply (its own code travels with the error). */
  GATEWAY_REFUSED: "GATEWAY_REFUSED",
  JOURNAL_UNAVAILABLE: "JOURNAL_UNAVAILABLE",
  JOURNAL_CORRUPT: "JOURNAL_CORRUPT",
  /** A file in a state folder is not what the agent wrote there (a link, a FIFO, unreadable). */
  STATE_FILE_INVALID: "STATE_FILE_INVALID",
  /** Another process holds the state folder's lock. */
  STATE_LOCKED: "STATE_LOCKED",
  BACKEND_UNAVAILABLE: "BACKEND_UNAVAILABLE",
  BACKEND_TIMEOUT: "BACKEND_TIMEOUT",
  BACKEND_UNSUPPORTED: "BACKEND_UNSUPPORTED",
  /** MT5 holds the history a read needs only in part yet (it is downloading it) */
  BACKEND_HISTORY_LOADING: "BACKEND_HISTORY_LOADING",
  USAGE: "USAGE",
  INTERNAL: "INTERNAL",
} as const;
export type FaultCode = (typeof FaultCode)[keyof typeof FaultCode];

export class AgentError extends Error {
  readonly code: FaultCode;

  constructor(code: FaultCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AgentError";
    this.code = code;
  }
}

/** One problem found in a config file; `path` is the dotted key, `line` is 1-based when known. */
export interface ConfigIssue {
  readonly file: string;
  readonly path: string;
  readonly line?: number;
  readonly message: string;
}

export class ConfigError extends AgentError {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], options?: ErrorOptions) {
    super(FaultCode.CONFIG_INVALID, formatIssues(issues), options);
    this.name = "ConfigError";
    this.issues = issues;
  }
}

function formatIssues(issues: readonly ConfigIssue[]): string {
  const lines = issues.map((issue) => {
    const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}`;
    const key = issue.path === "" ? "" : ` ${issue.path}:`;
    return `  ${where}${key} ${issue.message}`;
  });
  const noun = issues.length === 1 ? "problem" : "problems";
  return `config: ${issues.length} ${noun}\n${lines.join("\n")}`;
}

/** Raised by pure codecs on bytes that cannot be decoded; the session turns it into a close. */
export class ProtocolError extends AgentError {
  constructor(message: string, options?: ErrorOptions) {
    super(FaultCode.ZMTP_PROTOCOL, message, options);
    this.name = "ProtocolError";
  }
}

/** Render any thrown value as one line for logs and CLI output. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
