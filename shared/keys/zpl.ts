/**
 * ZPL, the ZeroMQ Property Language (RFC 4): the text format of czmq `zcert` key files, and of
 * our Ed25519 signing-key files later. A tree of `name [= value]` lines whose hierarchy is
 * given by 4-space indentation.
 *
 * Pure: `parseZpl` takes text (file I/O lives in curve-keys.ts) and `formatZpl` returns text.
 * The parser is strict where a lax one could be fooled (odd indentation, junk after a value,
 * tabs), bounded in input size, and reports the source and line of every problem.
 */
import { AgentError, FaultCode } from "../errors.ts";

/** Key files are a few hundred bytes; anything beyond this is not one. */
export const MAX_ZPL_BYTES = 64 * 1024;

const INDENT = "    ";
/** RFC 4: name-char = ALPHA | DIGIT | "$" | "-" | "_" | "@" | "." | "&" | "+" | "/" */
const NAME_PATTERN = /^[A-Za-z0-9$\-_@.&+/]+$/;
const NAME_PREFIX = /^[A-Za-z0-9$\-_@.&+/]+/;
/** A written value may not contain our quote, or a control character that could break a line. */
function isWritableValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === 0x22 || code < 0x20 || code === 0x7f) return false;
  }
  return true;
}

export interface ZplNode {
  readonly name: string;
  /** Absent for a section (a name on its own line). */
  readonly value?: string;
  readonly children: readonly ZplNode[];
  /** 1-based line of the node in the parsed text; 0 for the root. */
  readonly line: number;
}

interface MutableNode {
  name: string;
  value?: string;
  children: MutableNode[];
  line: number;
}

function zplError(source: string, line: number, message: string): AgentError {
  return new AgentError(FaultCode.KEY_FILE_INVALID, `curve: ${source} line ${line}: ${message}`);
}

/**
 * Parse ZPL text into a tree under an unnamed root. `source` names the text in errors (a path).
 * Line endings LF, CR or CRLF; `#` starts a comment outside quotes; a value may be wrapped in
 * matching single or double quotes (no escapes); an unterminated quote leaves the value unquoted.
 */
export function parseZpl(text: string, source = "zpl text"): ZplNode {
  if (text.length > MAX_ZPL_BYTES) {
    throw new AgentError(
      FaultCode.KEY_FILE_INVALID,
      `curve: ${source} is too large for a ZPL file (length was ${text.length}, limit ${MAX_ZPL_BYTES})`,
    );
  }
  const root: MutableNode = { name: "", children: [], line: 0 };
  // stack[depth] is the node that owns children at indentation level `depth`
  const stack: MutableNode[] = [root];
  const lines = text.split(/\r\n|\r|\n/);
  for (let index = 0; index < lines.length; index++) {
    const lineNumber = index + 1;
    const raw = lines[index] as string;
    const content = raw.trimStart();
    if (content === "" || content.startsWith("#")) continue;
    const indent = raw.length - content.length;
    const leading = raw.slice(0, indent);
    if (leading.includes("\t"))
      throw zplError(source, lineNumber, "indentation must use spaces, not tabs");
    if (indent % INDENT.length !== 0) {
      throw zplError(
        source,
        lineNumber,
        `indentation must be a multiple of 4 spaces, was ${indent}`,
      );
    }
    const depth = indent / INDENT.length;
    if (depth > stack.length - 1) {
      throw zplError(
        source,
        lineNumber,
        `indentation skips a level (depth was ${depth}, at most ${stack.length - 1} allowed here)`,
      );
    }
    const node = parseLine(content, source, lineNumber);
    const parent = stack[depth] as MutableNode;
    parent.children.push(node);
    stack.length = depth + 1;
    stack.push(node);
  }
  return root;
}

function parseLine(content: string, source: string, line: number): MutableNode {
  const name = NAME_PREFIX.exec(content)?.[0];
  if (name === undefined) {
    throw zplError(
      source,
      line,
      `a name must start the line, was ${JSON.stringify(content.slice(0, 20))}`,
    );
  }
  const rest = content.slice(name.length).trimStart();
  if (rest === "" || rest.startsWith("#")) return { name, children: [], line };
  if (!rest.startsWith("=")) {
    throw zplError(
      source,
      line,
      `expected "=" or the end of the line after ${name}, was ${JSON.stringify(rest.slice(0, 20))}`,
    );
  }
  return { name, value: parseValue(rest.slice(1).trimStart(), source, line), children: [], line };
}

function parseValue(text: string, source: string, line: number): string {
  const quote = text[0];
  if (quote === '"' || quote === "'") {
    const end = text.indexOf(quote, 1);
    if (end > 0) {
      const after = text.slice(end + 1).trimStart();
      if (after !== "" && !after.startsWith("#")) {
        throw zplError(
          source,
          line,
          `unexpected text after the quoted value, was ${JSON.stringify(after.slice(0, 20))}`,
        );
      }
      return text.slice(1, end);
    }
    // RFC 4: an unterminated quote leaves the value unquoted (the quote is part of it)
  }
  const hash = text.indexOf("#");
  return (hash < 0 ? text : text.slice(0, hash)).trimEnd();
}

/** The first child of `node` called `name`. */
export function zplChild(node: ZplNode, name: string): ZplNode | undefined {
  return node.children.find((child) => child.name === name);
}

/** Every child of `node` called `name` (ZPL allows repeats; key files must not have them). */
export function zplChildren(node: ZplNode, name: string): readonly ZplNode[] {
  return node.children.filter((child) => child.name === name);
}

/** The node at a slash-separated path such as "/curve/public-key" (czmq `zconfig_locate`). */
export function zplLocate(root: ZplNode, path: string): ZplNode | undefined {
  let node: ZplNode | undefined = root;
  for (const part of path.split("/")) {
    if (part === "") continue;
    node = zplChild(node, part);
    if (node === undefined) return undefined;
  }
  return node;
}

/** A node to write: a section (no value) or a property, with optional children. */
export interface ZplWriteNode {
  readonly name: string;
  readonly value?: string;
  readonly children?: readonly ZplWriteNode[];
}

/**
 * Render ZPL the way czmq's `zconfig_save` does: `#` comment lines, a blank line, then each node
 * indented 4 spaces per level with values always double-quoted (Z85 contains `#`, so an unquoted
 * key would be cut at the comment). Throws on names or values that cannot be written safely.
 */
export function formatZpl(
  nodes: readonly ZplWriteNode[],
  comments: readonly string[] = [],
): string {
  let out = "";
  for (const comment of comments) {
    if (/[\r\n]/.test(comment))
      throw new AgentError(FaultCode.USAGE, "curve: a ZPL comment cannot contain a line break");
    out += `#${comment}\n`;
  }
  if (comments.length > 0) out += "\n";
  const write = (node: ZplWriteNode, depth: number): void => {
    if (!NAME_PATTERN.test(node.name)) {
      throw new AgentError(
        FaultCode.USAGE,
        `curve: ZPL name must use A-Z a-z 0-9 $-_@.&+/, was ${JSON.stringify(node.name)}`,
      );
    }
    const indent = INDENT.repeat(depth);
    if (node.value === undefined) {
      out += `${indent}${node.name}\n`;
    } else {
      if (!isWritableValue(node.value)) {
        throw new AgentError(
          FaultCode.USAGE,
          `curve: ZPL value of ${node.name} cannot contain a double quote or control character`,
        );
      }
      out += `${indent}${node.name} = "${node.value}"\n`;
    }
    for (const child of node.children ?? []) write(child, depth + 1);
  };
  for (const node of nodes) write(node, 0);
  return out;
}
