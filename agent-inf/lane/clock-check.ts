/**
 * The clock offset against the signature window (docs/PROTOCOL.md, signing; shared/protocol/signing.ts): the
 * gateway accepts a signed order from `skew` ms in its future to `ttl + skew` ms in its past.
 * With the gateway's clock `offset` ms ahead of ours, an order arrives `offset + transit` old, so
 * a gateway running behind us refuses every order (EXPIRED "in the future") once it is more than
 * `skew` behind, and one running ahead once it is more than `ttl + skew` ahead, less the transit.
 *
 * The gateway states its window (its `signatures` config) in every PING reply; before the first
 * reply, or from a gateway too old to say, the protocol's defaults stand in.
 */
import type { Logger } from "../../shared/log.ts";
import {
  DEFAULT_CLOCK_SKEW_MS,
  DEFAULT_SIGNATURE_TTL_MS,
  type PingReply,
} from "../../shared/protocol/index.ts";

export interface SignatureWindow {
  readonly ttlMs: number;
  readonly skewMs: number;
}

export const DEFAULT_SIGNATURE_WINDOW: SignatureWindow = {
  ttlMs: DEFAULT_SIGNATURE_TTL_MS,
  skewMs: DEFAULT_CLOCK_SKEW_MS,
};

/** The window a gateway's PING reply states, or the protocol's defaults when it states none. */
export function gatewayWindow(
  reply: Pick<PingReply, "signature_window"> | undefined,
): SignatureWindow {
  const stated = reply?.signature_window;
  return stated === undefined
    ? DEFAULT_SIGNATURE_WINDOW
    : { ttlMs: stated.ttl_ms, skewMs: stated.max_skew_ms };
}

export type ClockVerdict =
  | { readonly level: "ok" }
  | { readonly level: "warn" | "fail"; readonly message: string };

/** How far the offset may go in its direction before every order is refused. */
export function offsetLimitMs(offsetMs: number, window = DEFAULT_SIGNATURE_WINDOW): number {
  return offsetMs < 0 ? window.skewMs : window.ttlMs + window.skewMs;
}

/** fail past the limit (orders EXPIRED), warn past half of it, ok otherwise. */
export function judgeClockOffset(
  offsetMs: number,
  window = DEFAULT_SIGNATURE_WINDOW,
): ClockVerdict {
  const limit = offsetLimitMs(offsetMs, window);
  const size = Math.abs(offsetMs);
  if (size <= limit / 2) return { level: "ok" };
  const direction = offsetMs < 0 ? "behind" : "ahead of";
  const fix =
    "sync both clocks (chrony or systemd-timesyncd on Linux, w32time on Windows; docs/DEPLOY.md, Time)";
  if (size > limit)
    return {
      level: "fail",
      message: `the gateway's clock is ${Math.round(size)} ms ${direction} this host's, beyond the ${limit} ms the signature window allows: every order will be refused EXPIRED; ${fix}`,
    };
  return {
    level: "warn",
    message: `the gateway's clock is ${Math.round(size)} ms ${direction} this host's, past half of the ${limit} ms the signature window allows; ${fix}`,
  };
}

/**
 * Logs a warning when a lane's offset passes half the window and an error when it passes the
 * window, once per crossing (not once per PING), and a line when it is back.
 */
export function clockOffsetWatcher(
  gateway: string,
  logger: Logger,
): (offsetMs: number, window?: SignatureWindow) => void {
  let last: ClockVerdict["level"] = "ok";
  return (offsetMs, window = DEFAULT_SIGNATURE_WINDOW) => {
    const verdict = judgeClockOffset(offsetMs, window);
    if (verdict.level === last) return;
    last = verdict.level;
    if (verdict.level === "ok")
      logger.info("Clock offset back within half the signature window", {
        gateway,
        offset_ms: Math.round(offsetMs),
      });
    else if (verdict.level === "warn")
      logger.warn(verdict.message, { gateway, offset_ms: Math.round(offsetMs) });
    else logger.error(verdict.message, { gateway, offset_ms: Math.round(offsetMs) });
  };
}
