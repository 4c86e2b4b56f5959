/**
 * mt5bridge without the agents: its unit tests (constants, records, settings discovery, request
 * parsing, a scripted agent for the outcomes the real agents cannot be made to give), and its
 * type hints checked by mypy in strict mode for Python 3.9 (Debian's python3-mypy).
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { PACKAGE_DIR, runPython, runUnittest, TEST_TIMEOUT_MS } from "./support.ts";

setDefaultTimeout(TEST_TIMEOUT_MS);

test("unit tests: constants, records, settings, requests, a scripted agent, market answers", async () => {
  const report = await runUnittest([
    "test_constants",
    "test_records",
    "test_settings",
    "test_trade_request",
    "test_fake_agent",
    "test_market",
  ]);
  expect(report).toMatch(/Ran \d+ tests/);
});

test("the package type-checks (mypy --strict, Python 3.9)", async () => {
  const check = await runPython(["-m", "mypy", "--cache-dir=/dev/null"], { cwd: PACKAGE_DIR });
  if (check.stderr.includes("No module named mypy"))
    throw new Error("mypy is missing: apt-get install python3-mypy (scripts/setup.sh does)");
  expect({ code: check.code, out: check.stdout.trim() }).toEqual({
    code: 0,
    out: expect.stringMatching(/^Success: no issues found in \d+ source files$/),
  });
});
