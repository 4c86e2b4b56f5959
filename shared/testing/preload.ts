/**
 * Preloaded by bunfig.toml before every test file: quiet logs unless a developer asks for them
 * with AGENT_LOG_LEVEL (tests assert on values and events, never on log text), the default
 * per-test timeout, and the crypto backend an agent would install (AGENT_CRYPTO_BACKEND: libsodium
 * unless it says tweetnacl), so in-process sockets box as the agents do and CI can rerun the
 * transport suites on the fallback.
 */
import { plugin } from "bun";
import { parseLevel, setDefaultLogLevel } from "../log.ts";
import { installCryptoBackend } from "../sodium/install.ts";

/** Room for tests that start real agents on a loaded 2-core machine; each still bounds its own
 * waits with eventually(). */
export const DEFAULT_TEST_TIMEOUT_MS = 60_000;

// Bun 1.4.5 ignores `timeout` under bunfig.toml's [test], and setDefaultTimeout() called here
// holds only for the first test file of a run (measured: three files with a 6 s test each, the
// second and third timed out at the built-in 5 s). So every test file starts by setting it
// itself: the prefix goes on the file's first line, keeping line numbers in stack traces.
plugin({
  name: "default-test-timeout",
  setup(build) {
    build.onLoad({ filter: /\.test\.ts$/ }, async (args) => {
      const source = await Bun.file(args.path).text();
      const prefix = `import { setDefaultTimeout as __setDefaultTimeout } from "bun:test"; __setDefaultTimeout(${DEFAULT_TEST_TIMEOUT_MS});`;
      return { contents: `${prefix} ${source}`, loader: "ts" };
    });
  },
});

setDefaultLogLevel(parseLevel(process.env["AGENT_LOG_LEVEL"]) ?? "silent");

installCryptoBackend();
