"""order_send(): MetaTrader5's trade request dict onto agent-inf's order routes (docs/API.md §4)
and the outcome back as MetaTrader5's OrderSendResult (mql5.com/en/docs/integration/
python_metatrader5/mt5ordersend_py; request fields: constants/structures/mqltraderequest).

  TRADE_ACTION_DEAL without position   POST /v1/orders                      (open)
  TRADE_ACTION_DEAL with position      POST /v1/positions/{position}/close  (close, partial)
  TRADE_ACTION_SLTP                    POST /v1/positions/{position}/modify

Each call is one intent with one client_order_id, chosen before the first attempt; the native
client's retries reuse it, so a lost answer never becomes a second trade (docs/API.md §5).
"""

from __future__ import annotations

import math
import numbers
import re
from datetime import datetime
from typing import Any, Dict, Mapping, Optional, Tuple

from . import constants as c
from .outcome import OrderResult
from .records import OrderSendResult, TradeRequest
from .session import BridgeError, Connection, call, current

INT_FIELDS = ("action", "magic", "order", "deviation", "type", "type_filling", "type_time",
              "position", "position_by")
FLOAT_FIELDS = ("volume", "price", "stoplimit", "sl", "tp")
TEXT_FIELDS = ("symbol", "comment")
# Not a MetaTrader5 field: your own idempotency key, to resend an intent whose outcome you
# could not learn (docs/PYTHON.md)
CLIENT_ORDER_ID = "client_order_id"
_CLIENT_ORDER_ID = re.compile(r"[A-Za-z0-9_-]{1,24}")

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
}

_NOT_YET = {
    c.TRADE_ACTION_PENDING: "TRADE_ACTION_PENDING",
    c.TRADE_ACTION_MODIFY: "TRADE_ACTION_MODIFY",
    c.TRADE_ACTION_REMOVE: "TRADE_ACTION_REMOVE",
    c.TRADE_ACTION_CLOSE_BY: "TRADE_ACTION_CLOSE_BY",
}


def order_send(request: Mapping[str, Any]) -> Optional[OrderSendResult]:
    """Send a trade request; None and last_error() when it could not be sent or its outcome
    stayed unknown (then it may have executed: see docs/PYTHON.md before resending)."""
    return call(lambda: _send(request), None)


def parse_request(request: Any) -> Tuple[TradeRequest, Optional[str], Dict[str, Any]]:
    """The request as MetaTrader5's TradeRequest (absent fields 0 or ""), your client_order_id
    if any, and the fields as given. BridgeError RES_E_INVALID_PARAMS when malformed."""
    if not isinstance(request, Mapping):
        raise _invalid(f"the request must be a dict, was {type(request).__name__}")
    unknown = sorted(str(key) for key in request
                     if key not in TradeRequest._fields and key != CLIENT_ORDER_ID)
    if unknown:
        raise _invalid(f"unknown request field(s) {', '.join(unknown)}; the fields are "
                       f"{', '.join(TradeRequest._fields)}")
    given = dict(request)
    fields: Dict[str, Any] = {}
    for name in TradeRequest._fields:
        value = given.get(name)
        if name in INT_FIELDS:
            fields[name] = _integer(name, value)
        elif name in FLOAT_FIELDS:
            fields[name] = _number(name, value)
        elif name in TEXT_FIELDS:
            if value is not None and not isinstance(value, str):
                raise _invalid(f"{name} must be a string, was {type(value).__name__}")
            fields[name] = value or ""
        else:  # expiration: a datetime or Unix seconds, as MetaTrader5 takes it
            fields[name] = (int(value.timestamp()) if isinstance(value, datetime)
                            else _integer(name, value))
    client_order_id = given.get(CLIENT_ORDER_ID)
    if client_order_id is not None and (not isinstance(client_order_id, str)
                                        or not _CLIENT_ORDER_ID.fullmatch(client_order_id)):
        raise _invalid("client_order_id must be 1-24 characters of A-Z a-z 0-9 _ -")
    return TradeRequest(**fields), client_order_id, given


def _send(request: Mapping[str, Any]) -> OrderSendResult:
    connection = current()
    trade, client_order_id, given = parse_request(request)
    if trade.action in _NOT_YET:
        raise BridgeError(c.RES_E_UNSUPPORTED,
                          f"{_NOT_YET[trade.action]} is not available yet: agent-inf has no "
                          "route for pending orders or close-by (docs/PYTHON.md)")
    if trade.action == c.TRADE_ACTION_DEAL:
        if trade.type not in (c.ORDER_TYPE_BUY, c.ORDER_TYPE_SELL):
            return _local(connection, trade, c.TRADE_RETCODE_INVALID_ORDER,
                          "TRADE_ACTION_DEAL takes ORDER_TYPE_BUY or ORDER_TYPE_SELL")
        if trade.position == 0:
            return _open(connection, trade, client_order_id, given)
        return _close(connection, trade, client_order_id, given)
    if trade.action == c.TRADE_ACTION_SLTP:
        return _sltp(connection, trade, client_order_id)
    raise _invalid(f"action {trade.action} is not a TRADE_ACTION_* value")


def _open(connection: Connection, trade: TradeRequest, client_order_id: Optional[str],
          given: Dict[str, Any]) -> OrderSendResult:
    if trade.symbol == "":
        raise _invalid("a TRADE_ACTION_DEAL that opens a position needs symbol")
    side = "BUY" if trade.type == c.ORDER_TYPE_BUY else "SELL"
    result = connection.client.open(
        trade.symbol, side, trade.volume, sl=trade.sl or None, tp=trade.tp or None,
        # Absent: the gateway's defaults (its magic, its deviation), not MetaTrader5's zeros
        deviation=trade.deviation if "deviation" in given else None,
        magic=trade.magic if "magic" in given else None, comment=trade.comment or None,
        client_order_id=client_order_id, gateway=connection.gateway or None)
    return _result(result, trade)


def _close(connection: Connection, trade: TradeRequest, client_order_id: Optional[str],
           given: Dict[str, Any]) -> OrderSendResult:
    position = _position(connection, trade)
    if position is None:
        return _local(connection, trade, c.TRADE_RETCODE_POSITION_CLOSED,
                      f"position {trade.position} is not open")
    closing = c.ORDER_TYPE_SELL if position["side"] == "BUY" else c.ORDER_TYPE_BUY
    if trade.type != closing:
        return _local(connection, trade, c.TRADE_RETCODE_INVALID,
                      f"position {trade.position} is a {position['side']}: close it with "
                      f"ORDER_TYPE_{'SELL' if closing == c.ORDER_TYPE_SELL else 'BUY'}")
    if trade.volume <= 0:
        return _local(connection, trade, c.TRADE_RETCODE_INVALID_VOLUME,
                      "volume must be the lots to close (all of the position or part of it)")
    # Always the volume asked for: "all of it" could close more than asked if a netting
    # position grew since it was read
    result = connection.client.close(
        trade.position, volume=trade.volume,
        deviation=trade.deviation if "deviation" in given else None,
        comment=trade.comment or None, client_order_id=client_order_id,
        gateway=connection.gateway or None)
    return _result(result, trade)


def _sltp(connection: Connection, trade: TradeRequest,
          client_order_id: Optional[str]) -> OrderSendResult:
    if trade.position == 0:
        return _local(connection, trade, c.TRADE_RETCODE_INVALID,
                      "TRADE_ACTION_SLTP needs position (the position's ticket)")
    if _position(connection, trade) is None:
        return _local(connection, trade, c.TRADE_RETCODE_POSITION_CLOSED,
                      f"position {trade.position} is not open")
    # As in MetaTrader5, the request sets both stops: 0 (or absent) removes one
    result = connection.client.modify(trade.position, sl=trade.sl or None, tp=trade.tp or None,
                                      client_order_id=client_order_id,
                                      gateway=connection.gateway or None)
    return _result(result, trade)


def _position(connection: Connection, trade: TradeRequest) -> Optional[Dict[str, Any]]:
    """The open position the request names, checked against its symbol when one is given."""
    for position in connection.client.positions(gateway=connection.gateway or None):
        if int(position["ticket"]) != trade.position:
            continue
        if trade.symbol and trade.symbol.upper() != str(position["symbol"]).upper():
            raise _invalid(f"position {trade.position} is {position['symbol']}, "
                           f"the request says {trade.symbol}")
        return position
    return None


def _result(result: OrderResult, trade: TradeRequest) -> OrderSendResult:
    if result.outcome == "UNKNOWN":
        raise BridgeError(
            c.RES_E_INTERNAL_FAIL_TIMEOUT,
            f"order outcome unknown (client_order_id {result.client_order_id}): "
            f"{result.reason}. It may have executed: look at positions_get() before trading "
            f"again, or resend the same request with "
            f"request['client_order_id'] = {result.client_order_id!r} (never a new id)")
    reply = result.reply or {}
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
        retcode=retcode, deal=int(reply.get("deal") or 0), order=int(reply.get("order") or 0),
        volume=float(reply.get("volume") or 0.0), price=float(reply.get("price") or 0.0),
        bid=float(reply.get("bid") or 0.0), ask=float(reply.get("ask") or 0.0),
        comment=comment, request_id=0, retcode_external=0, request=trade,
    ).with_order(result.client_order_id, result.outcome, result.gateway)


def _local(connection: Connection, trade: TradeRequest, retcode: int,
           comment: str) -> OrderSendResult:
    """A request refused here, before anything was sent."""
    return OrderSendResult(retcode, 0, 0, 0.0, 0.0, 0.0, 0.0, comment, 0, 0,
                           trade).with_order("", "LOCAL", connection.gateway)


def _integer(name: str, value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise _invalid(f"{name} must be an integer, was {value!r}")
    if int(value) < 0:
        raise _invalid(f"{name} must not be negative, was {value}")
    return int(value)


def _number(name: str, value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _invalid(f"{name} must be a number, was {value!r}")
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise _invalid(f"{name} must be a finite number ≥ 0, was {value}")
    return number


def _invalid(message: str) -> BridgeError:
    return BridgeError(c.RES_E_INVALID_PARAMS, f"order_send: {message}")
