import { describe, expect, test } from "bun:test";
import { describeFailure, formatCommand, spawnCommand } from "./command-runner.ts";

describe("command runner", () => {
  test("formatCommand quotes only the words that need it", () => {
    expect(formatCommand(["systemctl", "enable", "--now", "agent-inf.service"])).toBe(
      "systemctl enable --now agent-inf.service",
    );
    expect(formatCommand(["sc.exe", "binPath=", '"C:\\Program Files\\a.exe" run', ""])).toBe(
      'sc.exe binPath= "\\"C:\\Program Files\\a.exe\\" run" ""',
    );
  });

  test("describeFailure names the command, the exit code and the last output lines", () => {
    expect(
      describeFailure(["sc.exe", "start", "x"], {
        exitCode: 1053,
        stdout: "a\nb\nc\nd\n",
        stderr: "",
      }),
    ).toBe("sc.exe start x exited with 1053: b / c / d");
  });

  test("spawnCommand captures output and exit code; a missing program is exit 127", async () => {
    expect(await spawnCommand(["sh", "-c", "echo out; echo err >&2; exit 3"])).toEqual({
      exitCode: 3,
      stdout: "out\n",
      stderr: "err\n",
    });
    expect((await spawnCommand(["/nonexistent/program"])).exitCode).toBe(127);
  });
});
