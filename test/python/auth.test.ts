/**
 * mt5bridge and agent-inf's API token (live_auth.py): agent-inf started as a process with
 * api.token_file, found by the Python side in the agent's config (AGENT_INF_CONFIG), in
 * MT5BRIDGE_TOKEN or as an argument; a wrong one refused; an agent that is not there.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { liveStackForFile, runUnittest, TEST_TIMEOUT_MS } from "./support.ts";

setDefaultTimeout(TEST_TIMEOUT_MS);

const stack = liveStackForFile({ apiToken: "py-live-token-7f3a" });

test("the token from the agent's config, the environment or an argument (live_auth.py)", async () => {
  await runUnittest(["live_auth"], stack().env);

  // The API really wants it: without it, nothing answers
  const bare = await fetch(`${stack().inference.apiUrl}/v1/health`);
  expect(bare.status).toBe(401);
});
