/**
 * agent-gtw entry point: parse the command line and hand over. Wiring only; the gateway is
 * built in app.ts, the commands live in cli/command-line.ts.
 */
import { reportError } from "../shared/cli.ts";
import { runGatewayCli } from "./cli/command-line.ts";

try {
  process.exitCode = await runGatewayCli(process.argv.slice(2));
} catch (error) {
  process.exitCode = reportError("agent-gtw", error);
}
