/**
 * One exit code per fault, wherever it is thrown (README "Exit codes"): usage errors 2, config
 * and key-file problems 3, everything else 1. Decided by the error's code, never its text.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { ExitCode, exitCodeFor, reportError, UsageError } from "./cli.ts";
import { AgentError, ConfigError, FaultCode } from "./errors.ts";

const stderr = process.stderr.write;
let written: string[] = [];
afterEach(() => {
  process.stderr.write = stderr;
  written = [];
});

function report(error: unknown): number {
  process.stderr.write = ((text: string) => {
    written.push(text);
    return true;
  }) as typeof process.stderr.write;
  return reportError("agent-x", error);
}

describe("exitCodeFor", () => {
  test.each([
    [new UsageError("bad flag"), ExitCode.USAGE],
    [new AgentError(FaultCode.USAGE, "keygen: --name must be a name"), ExitCode.USAGE],
    [new ConfigError([{ file: "a.yaml", path: "x", message: "bad" }]), ExitCode.CONFIG],
    [new AgentError(FaultCode.KEY_FILE_INVALID, "k"), ExitCode.CONFIG],
    [new AgentError(FaultCode.KEY_FILE_INSECURE, "k"), ExitCode.CONFIG],
    [new AgentError(FaultCode.KEY_FILE_EXISTS, "k"), ExitCode.CONFIG],
    [new AgentError(FaultCode.TIMEOUT, "t"), ExitCode.FAILURE],
    [new AgentError(FaultCode.JOURNAL_CORRUPT, "j"), ExitCode.FAILURE],
    [new Error("plain"), ExitCode.FAILURE],
    ["a string", ExitCode.FAILURE],
  ])("%p exits %p", (error, code) => {
    expect(exitCodeFor(error)).toBe(code);
  });

  test("a usage error is a coded AgentError", () => {
    const error = new UsageError("bad", { cause: new Error("inner") });
    expect(error).toBeInstanceOf(AgentError);
    expect(error.code).toBe(FaultCode.USAGE);
    expect(error.cause).toBeInstanceOf(Error);
  });
});

describe("reportError", () => {
  test("every usage fault gets the --help hint and exit 2, whoever threw it", () => {
    expect(report(new AgentError(FaultCode.USAGE, "keygen: --name is missing"))).toBe(2);
    expect(report(new UsageError('unknown command "x"'))).toBe(2);
    expect(written).toEqual([
      "agent-x: keygen: --name is missing (see agent-x --help)\n",
      'agent-x: unknown command "x" (see agent-x --help)\n',
    ]);
  });

  test("other faults print their message only", () => {
    expect(report(new AgentError(FaultCode.KEY_FILE_INSECURE, "keys: x is 0644"))).toBe(3);
    expect(report(new Error("boom"))).toBe(1);
    expect(written).toEqual(["agent-x: keys: x is 0644\n", "agent-x: boom\n"]);
  });
});
