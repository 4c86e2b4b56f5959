/**
 * The reply to a read (GET_*, the pending-order reads, the market-data actions) that the backend
 * could not answer, in one place: BACKEND_UNSUPPORTED (backend.ts) is NOT_SUPPORTED, whichever
 * part of the backend said it; BACKEND_HISTORY_LOADING is HISTORY_LOADING (MT5 is downloading the
 * history the read needs); any other failure means MT5 could not be asked, MT5_LINK_DOWN. Reads
 * change nothing, so each may be retried.
 */
import { FaultCode } from "../../shared/errors.ts";
import { ErrorCode, errorReply, type Reply } from "../../shared/protocol/index.ts";
import { BackendError } from "../backend/backend.ts";

export function readFailure(id: string, error: unknown): Reply {
  if (error instanceof BackendError && error.code === FaultCode.BACKEND_UNSUPPORTED) {
    return errorReply(id, ErrorCode.NOT_SUPPORTED, error.message);
  }
  if (error instanceof BackendError && error.code === FaultCode.BACKEND_HISTORY_LOADING) {
    return errorReply(id, ErrorCode.HISTORY_LOADING, error.message);
  }
  return errorReply(
    id,
    ErrorCode.MT5_LINK_DOWN,
    `MT5 could not answer: ${(error as Error).message}`,
  );
}
