"""order_send(): MetaTrader5's trade request dict onto agent-inf's order routes (docs/API.md §4)
and the outcome back as MetaTrader5's OrderSendResult (mql5.com/en/docs/integration/
python_metatrader5/mt5ordersend_py; request fields: constants/structures/mqltraderequest).

  TRADE_ACTION_DEAL without position   POST /v1/orders                      (open)
  TRADE_ACTION_DEAL with position      POST /v1/positions/{position}/close  (close, partial)
  TRADE_ACTION_SLTP                    POST /v1/positions/{position}/modify
  TRADE_ACTION_PENDING, _MODIFY, _REMOVE, _CLOSE_BY                       (pending.py)

Each call is one intent with one client_order_id, chosen before the first attempt; the native
client's retries reuse it, so a lost answer never becomes a second trade (docs/API.md §5).
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from . import constants as c
from .records import OrderSendResult, TradeRequest
from .pending import send_close_by, send_modify, send_pending, send_remove
from .request import parse_request
from .results import invalid, local_result, send_result
from .session import Connection, call, current

def order_send(request: Mapping[str, Any]) -> Optional[OrderSendResult]:
    """Send a trade request; None and last_error() when it could not be sent or its outcome
    stayed unknown (then it may have executed: see docs/PYTHON.md before resending)."""
    return call(lambda: _send(request), None)


def _send(request: Mapping[str, Any]) -> OrderSendResult:
    connection = current()
    trade, client_order_id, given = parse_request(request)
    if trade.action == c.TRADE_ACTION_PENDING:
        return send_pending(connection, trade, client_order_id, given)
    if trade.action == c.TRADE_ACTION_MODIFY:
        return send_modify(connection, trade, client_order_id)
    if trade.action == c.TRADE_ACTION_REMOVE:
        return send_remove(connection, trade, client_order_id)
    if trade.action == c.TRADE_ACTION_CLOSE_BY:
        return send_close_by(connection, trade, client_order_id)
    if trade.action == c.TRADE_ACTION_DEAL:
        if trade.type not in (c.ORDER_TYPE_BUY, c.ORDER_TYPE_SELL):
            return local_result(connection, trade, c.TRADE_RETCODE_INVALID_ORDER,
                          "TRADE_ACTION_DEAL takes ORDER_TYPE_BUY or ORDER_TYPE_SELL")
        if trade.position == 0:
            return _open(connection, trade, client_order_id, given)
        return _close(connection, trade, client_order_id, given)
    if trade.action == c.TRADE_ACTION_SLTP:
        return _sltp(connection, trade, client_order_id)
    raise invalid(f"action {trade.action} is not a TRADE_ACTION_* value")


def _open(connection: Connection, trade: TradeRequest, client_order_id: Optional[str],
          given: Dict[str, Any]) -> OrderSendResult:
    if trade.symbol == "":
        raise invalid("a TRADE_ACTION_DEAL that opens a position needs symbol")
    side = "BUY" if trade.type == c.ORDER_TYPE_BUY else "SELL"
    result = connection.client.open(
        trade.symbol, side, trade.volume, sl=trade.sl or None, tp=trade.tp or None,
        # Absent: the gateway's defaults (its magic, its deviation), not MetaTrader5's zeros
        deviation=trade.deviation if "deviation" in given else None,
        magic=trade.magic if "magic" in given else None, comment=trade.comment or None,
        client_order_id=client_order_id, gateway=connection.gateway or None)
    return send_result(result, trade)


def _close(connection: Connection, trade: TradeRequest, client_order_id: Optional[str],
           given: Dict[str, Any]) -> OrderSendResult:
    position = _position(connection, trade)
    if position is None:
        return local_result(connection, trade, c.TRADE_RETCODE_POSITION_CLOSED,
                      f"position {trade.position} is not open")
    closing = c.ORDER_TYPE_SELL if position["side"] == "BUY" else c.ORDER_TYPE_BUY
    if trade.type != closing:
        return local_result(connection, trade, c.TRADE_RETCODE_INVALID,
                      f"position {trade.position} is a {position['side']}: close it with "
                      f"ORDER_TYPE_{'SELL' if closing == c.ORDER_TYPE_SELL else 'BUY'}")
    if trade.volume <= 0:
        return local_result(connection, trade, c.TRADE_RETCODE_INVALID_VOLUME,
                      "volume must be the lots to close (all of the position or part of it)")
    # Always the volume asked for: "all of it" could close more than asked if a netting
    # position grew since it was read
    result = connection.client.close(
        trade.position, volume=trade.volume,
        deviation=trade.deviation if "deviation" in given else None,
        comment=trade.comment or None, client_order_id=client_order_id,
        gateway=connection.gateway or None)
    return send_result(result, trade)


def _sltp(connection: Connection, trade: TradeRequest,
          client_order_id: Optional[str]) -> OrderSendResult:
    if trade.position == 0:
        return local_result(connection, trade, c.TRADE_RETCODE_INVALID,
                      "TRADE_ACTION_SLTP needs position (the position's ticket)")
    if _position(connection, trade) is None:
        return local_result(connection, trade, c.TRADE_RETCODE_POSITION_CLOSED,
                      f"position {trade.position} is not open")
    # As in MetaTrader5, the request sets both stops: 0 (or absent) removes one
    result = connection.client.modify(trade.position, sl=trade.sl or None, tp=trade.tp or None,
                                      client_order_id=client_order_id,
                                      gateway=connection.gateway or None)
    return send_result(result, trade)


def _position(connection: Connection, trade: TradeRequest) -> Optional[Dict[str, Any]]:
    """The open position the request names, checked against its symbol when one is given."""
    for position in connection.client.positions(gateway=connection.gateway or None):
        if int(position["ticket"]) != trade.position:
            continue
        if trade.symbol and trade.symbol.upper() != str(position["symbol"]).upper():
            raise invalid(f"position {trade.position} is {position['symbol']}, "
                           f"the request says {trade.symbol}")
        return position
    return None
