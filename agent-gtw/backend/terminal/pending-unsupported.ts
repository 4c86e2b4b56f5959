/**
 * The terminal backend's answer to pending-order calls until the EA speaks them (issue 15 phase
 * 2): a BACKEND_UNSUPPORTED error, which the gateway turns into NOT_SUPPORTED without sending
 * anything to MT5. One place, so phase 2 replaces it in one place.
 */
import { FaultCode } from "../../../shared/errors.ts";
import { BackendError } from "../backend.ts";

export function pendingUnsupported<T>(action: string): Promise<T> {
  return Promise.reject(
    new BackendError(
      FaultCode.BACKEND_UNSUPPORTED,
      `terminal: ${action} is not supported by the terminal backend yet (pending orders and ` +
        "pre-trade calculations run on the sim backend only)",
    ),
  );
}
