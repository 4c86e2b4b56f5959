/**
 * Every key path a config schema accepts, optional ones included (`gateways[].endpoint` for
 * array elements). The README's configuration reference is checked against this, so the
 * documentation cannot drift from the schema.
 */
import type { z } from "zod";

interface Walkable {
  readonly def?: {
    readonly type?: string;
    readonly innerType?: unknown;
    readonly element?: unknown;
    readonly in?: unknown;
  };
  readonly shape?: Record<string, unknown>;
}

/** Strip optional/default/nullable wrappers down to the object or array underneath. */
function unwrap(schema: unknown): Walkable {
  let current = schema as Walkable;
  for (let depth = 0; depth < 20; depth++) {
    const def = current.def;
    if (def?.innerType !== undefined) current = def.innerType as Walkable;
    else if (def?.type === "pipe" && def.in !== undefined) current = def.in as Walkable;
    else break;
  }
  return current;
}

export function schemaKeyPaths(schema: z.ZodType, prefix = ""): string[] {
  const node = unwrap(schema);
  if (node.def?.type === "array") {
    return schemaKeyPaths(node.def.element as z.ZodType, `${prefix}[]`);
  }
  if (node.shape === undefined) return [];
  return Object.entries(node.shape).flatMap(([key, child]) => {
    const path = prefix === "" ? key : `${prefix}.${key}`;
    return [path, ...schemaKeyPaths(child as z.ZodType, path)];
  });
}
