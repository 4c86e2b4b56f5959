/**
 * agent-inf entry point: parse the command line and hand over. Wiring only; the agent is built
 * in app.ts, the commands live in cli/.
 */
import { reportError } from "../shared/cli.ts";
import { PROGRAM } from "./cli/command.ts";
import { runInferenceCli } from "./cli/command-line.ts";

try {
  process.exitCode = await runInferenceCli(process.argv.slice(2));
} catch (error) {
  process.exitCode = reportError(PROGRAM, error);
}
