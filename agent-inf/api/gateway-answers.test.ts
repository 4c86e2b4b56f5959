/**
 * How a gateway's answer becomes the API's: each refusal code to its status and code, no answer
 * to 504, and the market pager asking again while the gateway's queue is full or MT5 is loading
 * history, without a gateway (a scripted lane).
 */
import { describe, expect, test } from "bun:test";
import type { Reply } from "../../shared/protocol/index.ts";
import type { Lane } from "../lane/lane.ts";
import { ask, expectOk } from "./gateway-answers.ts";
import { ApiError } from "./input.ts";
import { fetchPage } from "./market-stream.ts";

function lane(answers: (Reply | Error)[]): Lane & { asked: number } {
  const scripted = {
    name: "gtw-1",
    asked: 0,
    client: {
      query: async () => {
        const next = answers[Math.min(scripted.asked, answers.length - 1)] as Reply | Error;
        scripted.asked += 1;
        if (next instanceof Error) throw next;
        return next;
      },
    },
  };
  return scripted as unknown as Lane & { asked: number };
}

const refused = (code: string): Reply =>
  ({ v: 1, id: "x", status: "ERROR", error_code: code, error_msg: `${code} happened` }) as Reply;
const ok = { v: 1, id: "x", status: "OK" } as Reply;

function caught(run: () => unknown): ApiError {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error("expected an ApiError");
}

describe("expectOk", () => {
  test.each([
    ["UNKNOWN_SYMBOL", 404, "UNKNOWN_SYMBOL"],
    ["INVALID_TIMEFRAME", 400, "INVALID_TIMEFRAME"],
    ["INVALID_COUNT", 400, "INVALID_COUNT"],
    ["INVALID_RANGE", 400, "INVALID_RANGE"],
    ["RANGE_TOO_LONG", 400, "RANGE_TOO_LONG"],
    ["RATE_LIMITED", 429, "TOO_MANY_REQUESTS"],
    ["HISTORY_LOADING", 503, "HISTORY_LOADING"],
    ["NOT_SUPPORTED", 502, "GATEWAY_ERROR"],
    ["MT5_LINK_DOWN", 502, "GATEWAY_ERROR"],
  ])("%s is %d %s with the gateway's code", (code, status, apiCode) => {
    const error = caught(() => expectOk(lane([]), refused(code)));
    expect(error.status).toBe(status);
    expect(error.code).toBe(apiCode as ApiError["code"]);
    expect(error.toJSON().error).toMatchObject({ gateway: "gtw-1", gateway_error_code: code });
  });

  test("an OK reply passes; no answer at all is 504", async () => {
    expect(expectOk(lane([]), ok)).toBe(ok);
    const error = await ask(lane([new Error("no reply to GET_RATES within 3000 ms")]), {
      action: "GET_RATES",
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(504);
  });
});

describe("fetchPage", () => {
  test("a full queue and history still loading are asked again; other refusals are not", async () => {
    const busy = lane([refused("RATE_LIMITED"), refused("HISTORY_LOADING"), ok]);
    const symbol = lane([refused("UNKNOWN_SYMBOL"), ok]);

    expect(await fetchPage(busy, { action: "GET_SYMBOLS" })).toBe(ok);
    expect(busy.asked).toBe(3);
    await expect(fetchPage(symbol, { action: "GET_SYMBOLS" })).rejects.toThrow("UNKNOWN_SYMBOL");
    expect(symbol.asked).toBe(1);
  });
});
