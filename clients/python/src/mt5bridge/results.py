"""An order's outcome as MetaTrader5's OrderSendResult (docs/PYTHON.md §6): agent-inf's
OrderResult (FILLED, DENIED, REJECTED, ERROR) and the bridge's own refusals before sending
(LOCAL) become a retcode and a comment; UNKNOWN stays a failure for last_error(), since the
order may have executed. trade.py and pending.py build every result here.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from . import constants as c
from .outcome import OrderResult
from .records import OrderSendResult, TradeRequest
from .session import BridgeError, Connection

# agent-inf's risk denials (agent-inf/risk/denial.ts) as the trade server's retcodes; each one
# is in docs/PYTHON.md. Anything else is TRADE_RETCODE_REJECT.
DENIAL_RETCODES: Dict[str, int] = {
    "INVALID_INTENT": c.TRADE_RETCODE_INVALID,
    "TRADING_HALTED": c.TRADE_RETCODE_TRADE_DISABLED,
    "BREAKER_OPEN": c.TRADE_RETCODE_TRADE_DISABLED,
    "REDUCING_ONLY": c.TRADE_RETCODE_CLOSE_ONLY,
    "SYMBOL_NOT_ALLOWED": c.TRADE_RETCODE_REJECT,
    "UNKNOWN_SYMBOL": c.TRADE_RETCODE_INVALID,
    "INVALID_SYMBOL_INFO": c.TRADE_RETCODE_REJECT,
    "NO_QUOTE": c.TRADE_RETCODE_PRICE_OFF,
    "STALE_QUOTE": c.TRADE_RETCODE_PRICE_OFF,
    "MARKET_CLOSED": c.TRADE_RETCODE_MARKET_CLOSED,
    "SIDE_NOT_ALLOWED": c.TRADE_RETCODE_REJECT,
    "KELLY_NO_EDGE": c.TRADE_RETCODE_REJECT,
    "KELLY_BELOW_MIN": c.TRADE_RETCODE_INVALID_VOLUME,
    "VOLUME_BELOW_MIN": c.TRADE_RETCODE_INVALID_VOLUME,
    "VOLUME_ABOVE_SYMBOL_MAX": c.TRADE_RETCODE_INVALID_VOLUME,
    "VOLUME_STEP": c.TRADE_RETCODE_INVALID_VOLUME,
    "VOLUME_ABOVE_MAX": c.TRADE_RETCODE_LIMIT_VOLUME,
    "NOTIONAL_ABOVE_MAX": c.TRADE_RETCODE_LIMIT_VOLUME,
    "SL_REQUIRED": c.TRADE_RETCODE_INVALID_STOPS,
    "SL_WRONG_SIDE": c.TRADE_RETCODE_INVALID_STOPS,
    "SL_TOO_CLOSE": c.TRADE_RETCODE_INVALID_STOPS,
    "TP_WRONG_SIDE": c.TRADE_RETCODE_INVALID_STOPS,
    "TP_TOO_CLOSE": c.TRADE_RETCODE_INVALID_STOPS,
    "RISK_ABOVE_MAX": c.TRADE_RETCODE_REJECT,
    "MAX_POSITIONS": c.TRADE_RETCODE_LIMIT_POSITIONS,
    "MAX_POSITIONS_PER_SYMBOL": c.TRADE_RETCODE_LIMIT_POSITIONS,
    "RATE_LIMIT_PER_SECOND": c.TRADE_RETCODE_TOO_MANY_REQUESTS,
    "RATE_LIMIT_PER_MINUTE": c.TRADE_RETCODE_TOO_MANY_REQUESTS,
    "DAILY_LOSS_LIMIT": c.TRADE_RETCODE_REJECT,
    "MAX_DRAWDOWN": c.TRADE_RETCODE_REJECT,
    "SPREAD_TOO_WIDE": c.TRADE_RETCODE_REJECT,
    "POSITION_NOT_FOUND": c.TRADE_RETCODE_POSITION_CLOSED,
    "INVALID_CLOSE_VOLUME": c.TRADE_RETCODE_INVALID_CLOSE_VOLUME,
    # Pending orders and close-by: MT5 answers 10013 for an order it does not have
    "ORDER_NOT_FOUND": c.TRADE_RETCODE_INVALID,
    "INVALID_CLOSE_BY": c.TRADE_RETCODE_INVALID,
}


def send_result(result: OrderResult, trade: TradeRequest,
                fallback: Optional[Dict[str, Any]] = None) -> OrderSendResult:
    if result.outcome == "UNKNOWN":
        raise BridgeError(
            c.RES_E_INTERNAL_FAIL_TIMEOUT,
            f"order outcome unknown (client_order_id {result.client_order_id}): "
            f"{result.reason}. It may have executed: look at positions_get() before trading "
            f"again, or resend the same request with "
            f"request['client_order_id'] = {result.client_order_id!r} (never a new id)")
    reply = result.reply or {}
    # A placement's reply has the order, not a fill: its volume and price come from `fallback`
    known = {**(fallback or {}), **{k: v for k, v in reply.items() if v is not None}}
    if result.outcome == "FILLED":
        retcode = int(reply.get("retcode", c.TRADE_RETCODE_DONE))
        comment = ("Request executed partially" if retcode == c.TRADE_RETCODE_DONE_PARTIAL
                   else "Request executed")
    elif result.outcome == "DENIED":
        retcode = DENIAL_RETCODES.get(str(result.code), c.TRADE_RETCODE_REJECT)
        comment = f"risk denied {result.code}: {result.message}"
    elif result.outcome == "REJECTED":
        retcode = int(reply.get("retcode") or c.TRADE_RETCODE_REJECT)
        comment = f"{result.code}: {result.message}"
    else:  # ERROR: not taken, nothing executed
        retcode = (c.TRADE_RETCODE_CONNECTION if result.code == "GATEWAY_UNREACHABLE"
                   else c.TRADE_RETCODE_ERROR)
        comment = f"{result.code}: {result.message}"
    return OrderSendResult(
        retcode=retcode, deal=int(known.get("deal") or 0), order=int(known.get("order") or 0),
        volume=float(known.get("volume") or 0.0), price=float(known.get("price") or 0.0),
        bid=float(known.get("bid") or 0.0), ask=float(known.get("ask") or 0.0),
        comment=comment, request_id=0, retcode_external=0, request=trade,
    ).with_order(result.client_order_id, result.outcome, result.gateway)


def local_result(connection: Connection, trade: TradeRequest, retcode: int,
                 comment: str) -> OrderSendResult:
    """A request refused here, before anything was sent."""
    return OrderSendResult(retcode, 0, 0, 0.0, 0.0, 0.0, 0.0, comment, 0, 0,
                           trade).with_order("", "LOCAL", connection.gateway)


def invalid(message: str) -> BridgeError:
    return BridgeError(c.RES_E_INVALID_PARAMS, f"order_send: {message}")
