/**
 * A query to a lane's gateway as the API answers it: no answer at all is 504
 * GATEWAY_UNREACHABLE, an answer that is not OK the ApiError that fits its error_code (404 for an
 * unknown symbol, 400 for the market-data codes MT5 refuses too, 429 when the gateway's queue is
 * full, 503 while MT5 is still loading the history a read needs, else 502 GATEWAY_ERROR with the
 * gateway's code in `gateway_error_code`). The query
 * routes (routes.ts) and the market-data routes (market-stream.ts) share it.
 */
import { describeError } from "../../shared/errors.ts";
import type { Reply } from "../../shared/protocol/index.ts";
import type { QueryBody } from "../gateway/gateway-client.ts";
import type { Lane } from "../lane/lane.ts";
import { ApiError, ApiErrorCode } from "./input.ts";

/** Codes of the gateway's market-data refusals that mean a bad request (PROTOCOL.md §14.7). */
const REQUEST_CODES: ReadonlySet<string> = new Set([
  ApiErrorCode.INVALID_TIMEFRAME,
  ApiErrorCode.INVALID_COUNT,
  ApiErrorCode.INVALID_RANGE,
  ApiErrorCode.RANGE_TOO_LONG,
]);

/** Thrown means no answer at all (timeouts after the client's retries, or no connection). */
export async function ask(lane: Lane, body: QueryBody): Promise<Reply> {
  try {
    return await lane.client.query(body);
  } catch (error) {
    throw new ApiError(
      504,
      ApiErrorCode.GATEWAY_UNREACHABLE,
      `gateway ${lane.name} did not answer ${body.action}: ${describeError(error)}`,
      { details: { gateway: lane.name }, cause: error },
    );
  }
}

export function expectOk(lane: Lane, reply: Reply): Reply {
  if (reply.status === "OK") return reply;
  const code = reply.error_code ?? reply.status;
  const message = reply.error_msg ?? code;
  const details = { gateway: lane.name, gateway_error_code: code };
  if (code === "UNKNOWN_SYMBOL")
    throw new ApiError(404, ApiErrorCode.UNKNOWN_SYMBOL, message, { details });
  if (REQUEST_CODES.has(code)) throw new ApiError(400, code as ApiErrorCode, message, { details });
  if (code === "RATE_LIMITED")
    throw new ApiError(429, ApiErrorCode.TOO_MANY_REQUESTS, message, {
      details,
      headers: { "retry-after": "1" },
    });
  if (code === "HISTORY_LOADING")
    throw new ApiError(503, ApiErrorCode.HISTORY_LOADING, message, {
      details,
      headers: { "retry-after": "5" },
    });
  throw new ApiError(
    502,
    ApiErrorCode.GATEWAY_ERROR,
    `gateway ${lane.name} refused: ${code}: ${reply.error_msg ?? ""}`,
    { details },
  );
}
