/**
 * mt5bridge and agent-inf's API token (live_auth.py): agent-inf started as a process with
 * api.token_file, found by the Python side in the agent's config (AGENT_INF_CONFIG), in
 * MT5BRIDGE_TOKEN or as an argument; a wrong one refused; an agent that is not there.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import {
  type LiveStack,
  runUnittest,
  STACK_TIMEOUT_MS,
  startLiveStack,
  TEST_TIMEOUT_MS,
} from "./support.ts";

setDefaultTimeout(TEST_TIMEOUT_MS);

let stack: LiveStack;
beforeAll(async () => {
  stack = await startLiveStack({ apiToken: "py-live-token-7f3a" });
}, STACK_TIMEOUT_MS);
afterAll(async () => {
  await stack?.stop();
}, STACK_TIMEOUT_MS);

test("the token from the agent's config, the environment or an argument (live_auth.py)", async () => {
  await runUnittest(["live_auth"], stack.env);

  // The API really wants it: without it, nothing answers
  const bare = await fetch(`${stack.inference.apiUrl}/v1/health`);
  expect(bare.status).toBe(401);
});
