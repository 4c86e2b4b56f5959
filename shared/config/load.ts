/**
 * Config loading for both agents: file → YAML (read at runtime, never bundled) → documented env
 * overrides → strict schema → deep-frozen value. Every problem is reported at once, each naming
 * the file, the dotted key and the line (house style §4). Unknown keys are errors, so a
 * misspelled limit never silently falls back to its default.
 */
import { readFileSync, statSync } from "node:fs";
import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import { AgentError, ConfigError, type ConfigIssue, FaultCode } from "../errors.ts";

/** Config files are small; anything bigger is a mistake or an attack on the parser. */
export const MAX_CONFIG_BYTES = 256 * 1024;

/** An environment variable that overrides one key (the documented few, house style §4). */
export interface EnvOverride {
  readonly env: string;
  readonly path: readonly string[];
  /** How to turn the variable's text into the value; text is kept as-is by default. */
  readonly parse?: (text: string) => unknown;
}

export interface LoadOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly overrides?: readonly EnvOverride[];
}

/**
 * Read and validate `file` against `schema`. Throws ConfigError listing every issue. The result
 * is deep-frozen.
 */
export function loadConfigFile<S extends z.ZodType>(
  file: string,
  schema: S,
  options: LoadOptions = {},
): z.infer<S> {
  let text: string;
  try {
    const size = statSync(file).size;
    if (size > MAX_CONFIG_BYTES) {
      throw new ConfigError([
        { file, path: "", message: `file is ${size} bytes; the limit is ${MAX_CONFIG_BYTES}` },
      ]);
    }
    text = readFileSync(file, "utf8");
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(
      [{ file, path: "", message: `cannot read the file: ${(error as Error).message}` }],
      {
        cause: error,
      },
    );
  }
  return parseConfigText(text, file, schema, options);
}

/** As loadConfigFile, from text already in memory (tests, embedded defaults). */
export function parseConfigText<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
  options: LoadOptions = {},
): z.infer<S> {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const lineOf = (offset: number | undefined): number | undefined =>
    offset === undefined ? undefined : lineCounter.linePos(offset).line;

  if (document.errors.length > 0) {
    throw new ConfigError(
      document.errors.map((error) =>
        withLine(
          { file, path: "", message: `YAML: ${firstLine(error.message)}` },
          lineOf(error.pos[0]),
        ),
      ),
    );
  }
  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: 50 }) ?? {};
  } catch (error) {
    // yaml refuses alias bombs ("excessive alias count") by throwing; report it like any issue.
    throw new ConfigError(
      [{ file, path: "", message: `YAML: ${firstLine((error as Error).message)}` }],
      {
        cause: error,
      },
    );
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new ConfigError([
      { file, path: "", message: "the top level must be a mapping of keys to values" },
    ]);
  }

  const env = options.env ?? process.env;
  const issues: ConfigIssue[] = [];
  for (const override of options.overrides ?? []) {
    const value = env[override.env];
    if (value === undefined || value === "") continue;
    try {
      data = setPath(
        data as Record<string, unknown>,
        override.path,
        override.parse ? override.parse(value) : value,
      );
    } catch (error) {
      issues.push({
        file: `$${override.env}`,
        path: override.path.join("."),
        message: (error as Error).message,
      });
    }
  }

  const result = schema.safeParse(data);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path.map(String);
      if (issue.code === "unrecognized_keys") {
        for (const key of issue.keys) {
          const keyPath = [...path, key];
          issues.push(
            withLine(
              { file, path: keyPath.join("."), message: "unknown key" },
              lineOf(keyOffset(document, keyPath)),
            ),
          );
        }
        continue;
      }
      issues.push(
        withLine(
          { file, path: path.join("."), message: issue.message },
          lineOf(nodeOffset(document, path)),
        ),
      );
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return deepFreeze(result.data as z.infer<S>);
}

function withLine(issue: ConfigIssue, line: number | undefined): ConfigIssue {
  return line === undefined ? issue : { ...issue, line };
}

function firstLine(message: string): string {
  return message.split("\n")[0] ?? message;
}

type YamlDocument = ReturnType<typeof parseDocument>;

/** Offset of the value at `path`, or of the nearest ancestor that exists (a missing key). */
function nodeOffset(document: YamlDocument, path: readonly string[]): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? document.contents : document.getIn(path.slice(0, depth), true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range !== undefined) return range[0];
  }
  return undefined;
}

/** Offset of the key itself (for "unknown key" the value may be anything). */
function keyOffset(document: YamlDocument, path: readonly string[]): number | undefined {
  const parent = path.length === 1 ? document.contents : document.getIn(path.slice(0, -1), true);
  if (isMap(parent)) {
    const last = path[path.length - 1];
    for (const pair of parent.items) {
      if (isScalar(pair.key) && String(pair.key.value) === last) return pair.key.range?.[0];
    }
  }
  return nodeOffset(document, path);
}

function setPath(
  data: Record<string, unknown>,
  path: readonly string[],
  value: unknown,
): Record<string, unknown> {
  const root: Record<string, unknown> = { ...data };
  let cursor = root;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i] as string;
    const next = cursor[key];
    const copy =
      typeof next === "object" && next !== null && !Array.isArray(next)
        ? { ...(next as Record<string, unknown>) }
        : {};
    cursor[key] = copy;
    cursor = copy;
  }
  cursor[path[path.length - 1] as string] = value;
  return root;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  }
  return value;
}

/** Env override helpers for the common value kinds. */
export const envParse = {
  integer(text: string): number {
    if (!/^-?\d+$/.test(text.trim()))
      throw new AgentError(
        FaultCode.CONFIG_INVALID,
        `must be an integer, was ${JSON.stringify(text)}`,
      );
    return Number(text);
  },
  boolean(text: string): boolean {
    const lower = text.trim().toLowerCase();
    if (["1", "true", "yes", "on"].includes(lower)) return true;
    if (["0", "false", "no", "off"].includes(lower)) return false;
    throw new AgentError(
      FaultCode.CONFIG_INVALID,
      `must be true or false, was ${JSON.stringify(text)}`,
    );
  },
};
