/**
 * The upgrade command line: one of --binary or --rollback, bounded timeouts, and a refusal when
 * the service manager runs another binary than the one to replace (nothing is touched then).
 */
import { describe, expect, test } from "bun:test";
import { UsageError } from "../cli.ts";
import { type AgentUpgrade, runUpgradeCommand } from "./upgrade-command.ts";

const touched: string[] = [];
const agent: AgentUpgrade = {
  program: "agent-inf",
  locateConfig: (flag) => flag ?? "/etc/agent-inf/agent-inf.yaml",
  hooks: () => ({
    probe: async () => {
      touched.push("probe");
      return undefined;
    },
  }),
};

function seams(runs: string | undefined) {
  const output: string[] = [];
  return {
    output,
    seams: {
      service: () => ({
        description: "systemd unit agent-inf.service",
        stop: async () => {
          touched.push("stop");
        },
        start: async () => {
          touched.push("start");
        },
        binary: async () => runs,
      }),
      run: async () => {
        touched.push("run");
        return { exitCode: 0, stdout: "1.0.0\n", stderr: "" };
      },
      out: (text: string) => output.push(text),
      err: (text: string) => output.push(text),
    },
  };
}

describe("upgrade command line", () => {
  test.each([
    [[], "--binary FILE or --rollback"],
    [["--binary", "x", "--rollback"], "--binary FILE or --rollback"],
    [["--binary", "x", "--verify-timeout", "0"], "--verify-timeout must be 1–600"],
    [["--binary", "x", "--drain-timeout", "abc"], "--drain-timeout must be 1–600"],
    [["--binary", "x", "--name", "a b"], "--name is not a valid service name"],
    [["now"], "upgrade takes options only"],
  ])("%p is a usage error", async (args, message) => {
    const promise = runUpgradeCommand(["--installed", "/usr/local/bin/agent-inf", ...args], agent);
    await expect(promise).rejects.toThrow(UsageError);
    await expect(promise).rejects.toThrow(message);
  });

  test("refused when the service runs another binary; nothing is touched", async () => {
    touched.length = 0;
    const { output, seams: s } = seams("/opt/agent-inf/agent-inf");
    const code = await runUpgradeCommand(
      ["--binary", "/tmp/new", "--installed", "/usr/local/bin/agent-inf"],
      agent,
      s,
    );
    expect(code).toBe(1);
    expect(output.join("")).toContain(
      "systemd unit agent-inf.service runs /opt/agent-inf/agent-inf, not /usr/local/bin/agent-inf",
    );
    expect(touched).toEqual([]);
  });

  test("--help prints the usage", async () => {
    const { output, seams: s } = seams(undefined);
    expect(await runUpgradeCommand(["--help"], agent, s)).toBe(0);
    expect(output.join("")).toContain("Usage: agent-inf upgrade --binary FILE | --rollback");
  });
});
