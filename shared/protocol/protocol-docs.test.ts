import { describe, expect, test } from "bun:test";
import { brokerOrderKey, commentTag } from "./codec.ts";
import { ERROR_CODE_INFO, errorCodeInfo, listErrorCodes } from "./error-info.ts";
import { ERROR_CODES, isErrorCode } from "./errors.ts";
import {
  isSuccessRetcode,
  isUnknownOutcomeRetcode,
  Retcode,
  retcodeErrorCode,
  retcodeName,
} from "./retcodes.ts";
import { parseRequest } from "./validate.ts";
import { parseEvent } from "./validate-event.ts";
import { parseReply } from "./validate-reply.ts";

const docPath = new URL("../../docs/PROTOCOL.md", import.meta.url);
const doc = await Bun.file(docPath).text();
const jsonBlocks = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => match[1] ?? "");
const encoder = new TextEncoder();

describe("error-info", () => {
  test("has an entry for every error code and nothing else", () => {
    expect(Object.keys(ERROR_CODE_INFO).sort()).toEqual([...ERROR_CODES].sort());
  });

  test("REJECTED is exactly the codes after which a new client_order_id is needed", () => {
    const mismatched = listErrorCodes().filter(
      ([, info]) => (info.status === "REJECTED") !== (info.retry === "new_order_id"),
    );

    expect(mismatched).toEqual([]);
  });

  test("knows no info for a code from a newer gateway", () => {
    expect(errorCodeInfo("NEW_CODE")).toBeUndefined();
    expect(errorCodeInfo("constructor")).toBeUndefined();
    expect(errorCodeInfo("REQUOTE")?.status).toBe("REJECTED");
  });
});

describe("retcodes", () => {
  const codes = Object.values(Retcode).filter((code) => code !== Retcode.CHECK_OK);

  test("map every failure to a code in errors.ts", () => {
    const failures = codes.filter((code) => !isSuccessRetcode(code));
    const unknown = failures.map(retcodeErrorCode).filter((code) => !isErrorCode(code));

    expect(unknown).toEqual([]);
  });

  test("leave only PLACED and TIMEOUT with an unknown outcome, and it asks for reconciliation", () => {
    expect(codes.filter(isUnknownOutcomeRetcode).sort()).toEqual([Retcode.PLACED, Retcode.TIMEOUT]);
    expect(retcodeErrorCode(Retcode.PLACED)).toBe("OUTCOME_UNKNOWN");
    expect(ERROR_CODE_INFO[retcodeErrorCode(Retcode.TIMEOUT) as "OUTCOME_UNKNOWN"].retry).toBe(
      "reconcile",
    );
  });

  test("report an unlisted retcode as MT5_REJECTED", () => {
    expect(retcodeErrorCode(10037)).toBe("MT5_REJECTED");
    expect(retcodeName(10037)).toBe("UNKNOWN_10037");
  });
});

describe("docs/PROTOCOL.md", () => {
  test("has examples to check", () => {
    expect(jsonBlocks.length).toBeGreaterThan(30);
  });

  test.each(jsonBlocks.map((block, index) => [index, block] as const))(
    "JSON example %d passes the validators",
    (_index, block) => {
      const value = JSON.parse(block) as Record<string, unknown>;
      const bytes = encoder.encode(block);
      const result =
        "action" in value
          ? parseRequest(bytes)
          : "event" in value && !("status" in value)
            ? parseEvent(bytes)
            : parseReply(bytes);

      expect(result.ok ? "ok" : result.error.message).toBe("ok");
      // Every event example is of a type this build knows
      if (result.ok && "unknown" in result) expect(result.unknown).toBe("");
    },
  );

  test.each(listErrorCodes().map(([code, info]) => [code, info.status] as const))(
    "lists %s with status %s",
    (code, status) => {
      expect(doc).toContain(`| \`${code}\` | ${status} |`);
    },
  );

  test.each(Object.entries(Retcode).filter(([, code]) => code !== Retcode.CHECK_OK))(
    "lists retcode %s",
    (name, code) => {
      const errorCode = retcodeErrorCode(code);
      const row = new RegExp(`^\\| ${code} \\| ${name} \\| [^|]+ \\| ([^|]*)\\|$`, "m").exec(doc);

      expect(row?.[1]?.trim() ?? "missing").toBe(errorCode === "OK" ? "" : `\`${errorCode}\``);
    },
  );

  test("shows the comment tag the code computes", () => {
    const key = brokerOrderKey("inf-1", "01M7Q8ECG0Y240PZ3N0SZ1WV");
    expect(doc).toContain(`\`${commentTag(key)} momentum\``);
  });
});
