/** agent-inf's version: set by scripts/build.ts (define AGENT_VERSION), "-dev" from source. */
export const INFERENCE_VERSION: string =
  (globalThis as { AGENT_VERSION?: string }).AGENT_VERSION ?? "0.1.0-dev";
