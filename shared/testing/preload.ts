/**
 * Preloaded by bunfig.toml before every test file: quiet logs unless a developer asks for them
 * with AGENT_LOG_LEVEL. Tests assert on values and events, never on log text.
 */
import { parseLevel, setDefaultLogLevel } from "../log.ts";

setDefaultLogLevel(parseLevel(process.env["AGENT_LOG_LEVEL"]) ?? "silent");
