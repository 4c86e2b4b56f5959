/** ZPL (RFC 4): the samples from the research notes and the RFC, line endings, quoting, errors. */
import { describe, expect, test } from "bun:test";
import { AgentError } from "../errors.ts";
import { secretCertificateFromZpl } from "./zcert.ts";
import { formatZpl, MAX_ZPL_BYTES, parseZpl, type ZplNode, zplChildren, zplLocate } from "./zpl.ts";

/** research/zmtp-curve.md §10, verbatim. */
const RESEARCH_SAMPLE = `#   ****  Generated on 2023-02-17 21:05:10 by CZMQ  ****
#   ZeroMQ CURVE **Secret** Certificate
#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.

metadata
    name = "flux-sample-cert-generator"
curve
    public-key = "<40 Z85 chars>"
    secret-key = "<40 Z85 chars>"
`;

/** research/deploy.md §5.1, verbatim: a real key pair; the secret contains `#` inside quotes. */
const DEPLOY_SAMPLE = `#   ****  Generated on 2026-11-21 05:43:21 by agent-keygen  ****
#   ZeroMQ CURVE **Secret** Certificate
#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.

metadata
    host = "vm"
    role = "agent-inf"
curve
    public-key = "6*Vy)>hm=^=MfX:h-Y((Y{]8i!VBd4QDF=@JIx]u"
    secret-key = "MU>D)h+Hya?S3NQR#X/FYtcd>jooz[cdXdXkfX!?"
`;

/** The example of RFC 4 (its comment lines restored to `#`). */
const RFC_SAMPLE = `#   ZPL configuration file example
#   This format is designed to be trivial to write and parse
#
context
    iothreads = 1
    verbose = 1      #   Ask for a trace

main
    type = zmq_queue
    frontend
        option
            hwm = 1000
            swap = 25000000
            subscribe = "#2"
        bind = tcp://eth0:5555
    backend
        bind = tcp://eth0:5556
`;

const value = (root: ZplNode, path: string): string | undefined => zplLocate(root, path)?.value;

/** name[=value] tree without line numbers, for structural comparison. */
function shape(node: ZplNode): unknown {
  return { name: node.name, value: node.value, children: node.children.map(shape) };
}

describe("parseZpl", () => {
  test("parses the research §10 sample", () => {
    const root = parseZpl(RESEARCH_SAMPLE);
    expect(root.children.map((child) => child.name)).toEqual(["metadata", "curve"]);
    expect(value(root, "/metadata/name")).toBe("flux-sample-cert-generator");
    expect(value(root, "/curve/public-key")).toBe("<40 Z85 chars>");
    expect(value(root, "/curve/secret-key")).toBe("<40 Z85 chars>");
    expect(zplLocate(root, "/curve/public-key")?.line).toBe(8);
    expect(zplLocate(root, "/curve")?.value).toBeUndefined();
  });

  test("parses the deploy.md sample, keeping # inside quotes, into a valid certificate", () => {
    const root = parseZpl(DEPLOY_SAMPLE);
    expect(value(root, "/curve/secret-key")).toBe("MU>D)h+Hya?S3NQR#X/FYtcd>jooz[cdXdXkfX!?");
    const certificate = secretCertificateFromZpl(root, "deploy sample");
    expect(certificate.metadata).toEqual(
      new Map([
        ["host", "vm"],
        ["role", "agent-inf"],
      ]),
    );
    expect(certificate.secretKey.length).toBe(32);
  });

  test("parses the RFC 4 example: nesting, unquoted values, trailing comments", () => {
    const root = parseZpl(RFC_SAMPLE);
    expect(value(root, "/context/iothreads")).toBe("1");
    expect(value(root, "/context/verbose")).toBe("1");
    expect(value(root, "/main/type")).toBe("zmq_queue");
    expect(value(root, "/main/frontend/option/subscribe")).toBe("#2");
    expect(value(root, "/main/frontend/option/swap")).toBe("25000000");
    expect(value(root, "/main/frontend/bind")).toBe("tcp://eth0:5555");
    expect(value(root, "/main/backend/bind")).toBe("tcp://eth0:5556");
    expect(zplLocate(root, "/main/nothing")).toBeUndefined();
  });

  test("LF, CR and CRLF line endings give the same tree", () => {
    const lf = shape(parseZpl(RFC_SAMPLE));
    expect(shape(parseZpl(RFC_SAMPLE.replaceAll("\n", "\r\n")))).toEqual(lf);
    expect(shape(parseZpl(RFC_SAMPLE.replaceAll("\n", "\r")))).toEqual(lf);
  });

  test("quoting: single or double, no escapes, unterminated means unquoted", () => {
    const root = parseZpl(
      [
        "a = 'single # kept'",
        "b = \"double 'inner' kept\"   # comment",
        'c = "unterminated # cut here',
        "d = plain value   ",
        "e =",
        'f = ""',
        "g",
      ].join("\n"),
    );
    expect(value(root, "a")).toBe("single # kept");
    expect(value(root, "b")).toBe("double 'inner' kept");
    expect(value(root, "c")).toBe('"unterminated');
    expect(value(root, "d")).toBe("plain value");
    expect(value(root, "e")).toBe("");
    expect(value(root, "f")).toBe("");
    expect(zplLocate(root, "g")).toMatchObject({ name: "g", children: [] });
  });

  test("names may use every RFC 4 name character; repeats are kept in order", () => {
    const root = parseZpl("A-z_0.9$@&+/x = 1\nk = first\nk = second\n");
    // "/" is a name character but also the path separator, so look the child up directly
    expect(zplChildren(root, "A-z_0.9$@&+/x")[0]?.value).toBe("1");
    expect(zplChildren(root, "k").map((node) => node.value)).toEqual(["first", "second"]);
  });

  test.each([
    [
      "two-space indentation",
      "curve\n  public-key = x\n",
      "line 2: indentation must be a multiple of 4 spaces, was 2",
    ],
    [
      "tab indentation",
      "curve\n\tpublic-key = x\n",
      "line 2: indentation must use spaces, not tabs",
    ],
    ["a skipped level", "curve\n        public-key = x\n", "line 2: indentation skips a level"],
    ["indented first line", "    curve\n", "line 1: indentation skips a level"],
    [
      "junk after a quoted value",
      'a = "x" y\n',
      'line 1: unexpected text after the quoted value, was "y"',
    ],
    [
      "a name followed by junk",
      "curve key\n",
      'line 1: expected "=" or the end of the line after curve, was "key"',
    ],
    ["a line without a name", "= value\n", "line 1: a name must start the line"],
    ["a bad name character", "na!me = 1\n", 'line 1: expected "=" or the end of the line after na'],
  ])("refuses %s, naming source and line", (_name, text, message) => {
    expect(() => parseZpl(text, "/etc/x.key")).toThrow(AgentError);
    expect(() => parseZpl(text, "/etc/x.key")).toThrow(`curve: /etc/x.key ${message}`);
  });

  test("refuses input above the size bound", () => {
    const big = `a = "${"x".repeat(MAX_ZPL_BYTES)}"\n`;
    expect(() => parseZpl(big, "big.key")).toThrow(/big\.key is too large/);
  });
});

describe("formatZpl", () => {
  test("writes czmq's layout: # comments, a blank line, 4-space indent, double-quoted values", () => {
    const text = formatZpl(
      [
        { name: "metadata", children: [] },
        { name: "curve", children: [{ name: "public-key", value: "a#b=c" }] },
        {
          name: "top",
          value: "v",
          children: [{ name: "deep", children: [{ name: "deeper", value: "" }] }],
        },
      ],
      ["   first", "   second"],
    );
    expect(text).toBe(
      [
        "#   first",
        "#   second",
        "",
        "metadata",
        "curve",
        '    public-key = "a#b=c"',
        'top = "v"',
        "    deep",
        '        deeper = ""',
        "",
      ].join("\n"),
    );
    expect(value(parseZpl(text), "/curve/public-key")).toBe("a#b=c");
    expect(value(parseZpl(text), "/top/deep/deeper")).toBe("");
  });

  test("without comments there is no leading blank line", () => {
    expect(formatZpl([{ name: "a", value: "1" }])).toBe('a = "1"\n');
  });

  test.each([
    ["a name with a space", { name: "bad name", value: "x" }, /ZPL name/],
    ["an empty name", { name: "", value: "x" }, /ZPL name/],
    ["a value with a double quote", { name: "a", value: 'say "hi"' }, /double quote/],
    ["a value with a line break", { name: "a", value: "x\ny" }, /control character/],
  ])("refuses %s", (_name, node, message) => {
    expect(() => formatZpl([node])).toThrow(message);
  });

  test("refuses a comment with a line break", () => {
    expect(() => formatZpl([], ["a\nb"])).toThrow(/line break/);
  });
});
