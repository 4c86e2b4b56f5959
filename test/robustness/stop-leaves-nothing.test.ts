/**
 * The stop path of both agents leaves no timer, socket or server behind (issue 18 §4: the demo
 * held the prompt 15 s after Ctrl-C). A child process starts both agents, trades, stops them and
 * returns without process.exit: it must then exit by itself, promptly. A 15 s grace timer left
 * pending, an interval not cancelled, a listener not closed: each keeps it alive past the bound.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";

test("after stop(), both agents' processes exit on their own within 3 s", async () => {
  const child = Bun.spawn(
    [process.execPath, join(import.meta.dir, "fixtures", "start-stop-agents.ts")],
    {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, AGENT_LOG_LEVEL: "silent" },
    },
  );
  let stoppedAt: number | undefined;
  let stdout = "";
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) {
      stdout += decoder.decode(chunk, { stream: true });
      if (stoppedAt === undefined && stdout.includes("stopped")) stoppedAt = performance.now();
    }
  })();
  const killer = setTimeout(() => child.kill("SIGKILL"), 40_000);
  const code = await child.exited;
  const exitedAt = performance.now();
  clearTimeout(killer);
  await reading;
  const stderr = await new Response(child.stderr).text();
  expect({ code, stdout, stderr: stderr.slice(-1500) }).toEqual({
    code: 0,
    stdout: "stopped FILLED\n",
    stderr: "",
  });
  expect(exitedAt - (stoppedAt as number)).toBeLessThan(3000);
}, 60_000);
