/**
 * Preloaded by bunfig.toml before every test file: quiet logs unless a developer asks for them
 * with AGENT_LOG_LEVEL (tests assert on values and events, never on log text), the default
 * per-test timeout, and the crypto backend an agent would install (AGENT_CRYPTO_BACKEND: libsodium
 * unless it says tweetnacl), so in-process sockets box as the agents do and CI can rerun the
 * transport suites on the fallback.
 */
import { setDefaultTimeout } from "bun:test";
import { parseLevel, setDefaultLogLevel } from "../log.ts";
import { installCryptoBackend } from "../sodium/install.ts";

// Bun 1.4.5 ignores `timeout` under bunfig.toml's [test] (measured: a 6 s test still timed out
// at the built-in 5 s), so the suite-wide default is set here. Tests that start real agents need
// the room on a loaded 2-core machine; each still bounds its own waits with eventually().
setDefaultTimeout(60_000);

setDefaultLogLevel(parseLevel(process.env["AGENT_LOG_LEVEL"]) ?? "silent");

installCryptoBackend();
