"""MetaTrader5's pending-order functions over agent-inf (docs/PYTHON.md §4, §6): orders_total,
orders_get, order_check, order_calc_margin, order_calc_profit, and order_send's
TRADE_ACTION_PENDING, TRADE_ACTION_MODIFY, TRADE_ACTION_REMOVE and TRADE_ACTION_CLOSE_BY
(mql5.com/en/docs/integration/python_metatrader5: mt5ordersget_py, mt5ordercheck_py,
mt5ordercalcmargin_py, mt5ordercalcprofit_py, mt5ordersend_py; the request's fields:
constants/structures/mqltraderequest).

  TRADE_ACTION_PENDING    POST /v1/pending
  TRADE_ACTION_MODIFY     POST /v1/pending/{order}/modify
  TRADE_ACTION_REMOVE     POST /v1/pending/{order}/cancel
  TRADE_ACTION_CLOSE_BY   POST /v1/positions/{position}/close-by

As MetaTrader5 does with a trade request, a MODIFY sets every field: `sl` or `tp` 0 (or absent)
removes it, and `type_time` absent is ORDER_TIME_GTC.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from . import constants as c
from . import convert
from .records import OrderCheckResult, OrderSendResult, TradeOrder, TradeRequest
from .request import parse_request
from .results import invalid, local_result, send_result
from .session import BridgeError, Connection, call, current

# The module's values of the API's names (convert.py has the other direction)
PENDING_TYPES = {
    c.ORDER_TYPE_BUY_LIMIT: "BUY_LIMIT",
    c.ORDER_TYPE_SELL_LIMIT: "SELL_LIMIT",
    c.ORDER_TYPE_BUY_STOP: "BUY_STOP",
    c.ORDER_TYPE_SELL_STOP: "SELL_STOP",
    c.ORDER_TYPE_BUY_STOP_LIMIT: "BUY_STOP_LIMIT",
    c.ORDER_TYPE_SELL_STOP_LIMIT: "SELL_STOP_LIMIT",
}
STOP_LIMITS = (c.ORDER_TYPE_BUY_STOP_LIMIT, c.ORDER_TYPE_SELL_STOP_LIMIT)
SIDES = {c.ORDER_TYPE_BUY: "BUY", c.ORDER_TYPE_SELL: "SELL"}
TIME_TYPES = {value: name for name, value in convert.ORDER_TIMES.items()}
FILLINGS = {value: name for name, value in convert.ORDER_FILLINGS.items()}
WITH_EXPIRATION = (c.ORDER_TIME_SPECIFIED, c.ORDER_TIME_SPECIFIED_DAY)


# -- the functions ----------------------------------------------------------------------------

def orders_total() -> Optional[int]:
    return call(lambda: len(_orders({})), None)


def orders_get(*, symbol: Optional[str] = None, group: Optional[str] = None,
               ticket: Optional[int] = None) -> Optional[Tuple[TradeOrder, ...]]:
    """Pending orders: all, of one `symbol`, of a `group` of symbols ("*USD*,!EUR*"), or the
    one with `ticket`; () when there are none."""
    def read() -> Tuple[TradeOrder, ...]:
        chosen = {name: value for name, value in (("symbol", symbol), ("group", group),
                                                  ("ticket", ticket)) if value is not None}
        if len(chosen) > 1:
            raise BridgeError(c.RES_E_INVALID_PARAMS, "orders_get takes one of symbol, group, "
                              f"ticket; got {', '.join(chosen)}")
        if ticket is not None and (isinstance(ticket, bool) or not isinstance(ticket, int)
                                   or ticket <= 0):
            raise BridgeError(c.RES_E_INVALID_PARAMS,
                              f"ticket must be a positive integer, was {ticket!r}")
        for name in ("symbol", "group"):
            value = chosen.get(name)
            if value is not None and (not isinstance(value, str) or value == ""):
                raise BridgeError(c.RES_E_INVALID_PARAMS,
                                  f"{name} must be a non-empty string, was {value!r}")
        return convert.trade_orders(_orders(chosen))

    return call(read, None)


def order_check(request: Any) -> Optional[OrderCheckResult]:
    """What MT5 would answer to a TRADE_ACTION_DEAL (opening) or TRADE_ACTION_PENDING request,
    without sending it: retcode 0 ("Done") when it would pass. agent-inf's own risk checks do
    not run (they run on order_send)."""
    def check() -> OrderCheckResult:
        connection = current()
        trade, _, given = parse_request(request)
        if trade.action == c.TRADE_ACTION_DEAL and trade.position == 0:
            if trade.type not in SIDES:
                raise invalid("a TRADE_ACTION_DEAL check takes ORDER_TYPE_BUY or ORDER_TYPE_SELL")
            fields: Dict[str, Any] = {"type": SIDES[trade.type], **_common(trade, given)}
            if "deviation" in given:
                fields["deviation"] = trade.deviation
        elif trade.action == c.TRADE_ACTION_PENDING:
            fields = _pending_fields(trade, given)
        else:
            raise BridgeError(c.RES_E_UNSUPPORTED,
                              "order_check checks TRADE_ACTION_DEAL requests that open and "
                              "TRADE_ACTION_PENDING requests (docs/PYTHON.md)")
        answer = connection.client.order_check(gateway=connection.gateway or None, **fields)
        return convert.order_check_result(answer, trade)

    return call(check, None)


def order_calc_margin(action: int, symbol: str, volume: float, price: float) -> Optional[float]:
    """The margin of one trade, account currency; `action` ORDER_TYPE_BUY or ORDER_TYPE_SELL."""
    def calc() -> float:
        connection = current()
        return connection.client.calc_margin(_side(action), _symbol(symbol),
                                             _number("volume", volume), _number("price", price),
                                             connection.gateway or None)

    return call(calc, None)


def order_calc_profit(action: int, symbol: str, volume: float, price_open: float,
                      price_close: float) -> Optional[float]:
    """The profit of one trade from price_open to price_close, account currency."""
    def calc() -> float:
        connection = current()
        return connection.client.calc_profit(
            _side(action), _symbol(symbol), _number("volume", volume),
            _number("price_open", price_open), _number("price_close", price_close),
            connection.gateway or None)

    return call(calc, None)


# -- order_send -------------------------------------------------------------------------------

def send_pending(connection: Connection, trade: TradeRequest, client_order_id: Optional[str],
                 given: Dict[str, Any]) -> OrderSendResult:
    if trade.type not in PENDING_TYPES:
        return local_result(connection, trade, c.TRADE_RETCODE_INVALID_ORDER,
                            "TRADE_ACTION_PENDING takes a limit, stop or stop-limit "
                            "ORDER_TYPE_*")
    refusal = _pending_refusal(trade)
    if refusal is not None:
        return local_result(connection, trade, *refusal)
    fields = _pending_fields(trade, given)
    result = connection.client.place(
        fields.pop("type"), fields.pop("symbol"), fields.pop("volume"), fields.pop("price"),
        client_order_id=client_order_id, gateway=connection.gateway or None, **fields)
    placed = (result.reply or {}).get("pending_order") or {}
    return send_result(result, trade, {"volume": placed.get("volume_initial"),
                                       "price": placed.get("price_open")})


def send_modify(connection: Connection, trade: TradeRequest,
                client_order_id: Optional[str]) -> OrderSendResult:
    if trade.order == 0:
        return local_result(connection, trade, c.TRADE_RETCODE_INVALID,
                            "TRADE_ACTION_MODIFY needs order (the pending order's ticket)")
    orders = connection.client.pending(ticket=trade.order, gateway=connection.gateway or None)
    if not orders:
        return local_result(connection, trade, c.TRADE_RETCODE_INVALID,
                            f"order {trade.order} is not pending")
    if trade.price <= 0:
        return local_result(connection, trade, c.TRADE_RETCODE_INVALID_PRICE,
                            "TRADE_ACTION_MODIFY needs price (the order's new or same price)")
    refusal = _expiration_refusal(trade)
    if refusal is not None:
        return local_result(connection, trade, *refusal)
    stop_limit = convert.ORDER_TYPES.get(str(orders[0].get("type"))) in STOP_LIMITS
    time_type = TIME_TYPES.get(trade.type_time)
    if time_type is None:
        raise invalid(f"type_time {trade.type_time} is not an ORDER_TIME_* value")
    result = connection.client.modify_order(
        trade.order, price=trade.price,
        stoplimit=trade.stoplimit if stop_limit and trade.stoplimit > 0 else None,
        # As in MetaTrader5, the request sets both stops: 0 (or absent) removes one
        sl=trade.sl or None, tp=trade.tp or None, type_time=time_type,
        expiration=trade.expiration * 1000 if trade.type_time in WITH_EXPIRATION else None,
        client_order_id=client_order_id, gateway=connection.gateway or None)
    return send_result(result, trade, {"order": trade.order})


def send_remove(connection: Connection, trade: TradeRequest,
                client_order_id: Optional[str]) -> OrderSendResult:
    if trade.order == 0:
        return local_result(connection, trade, c.TRADE_RETCODE_INVALID,
                            "TRADE_ACTION_REMOVE needs order (the pending order's ticket)")
    result = connection.client.cancel(trade.order, client_order_id=client_order_id,
                                      gateway=connection.gateway or None)
    return send_result(result, trade, {"order": trade.order})


def send_close_by(connection: Connection, trade: TradeRequest,
                  client_order_id: Optional[str]) -> OrderSendResult:
    if trade.position == 0 or trade.position_by == 0:
        return local_result(connection, trade, c.TRADE_RETCODE_INVALID,
                            "TRADE_ACTION_CLOSE_BY needs position and position_by")
    result = connection.client.close_by(trade.position, trade.position_by,
                                        comment=trade.comment or None,
                                        client_order_id=client_order_id,
                                        gateway=connection.gateway or None)
    return send_result(result, trade)


# -- helpers ----------------------------------------------------------------------------------

def _orders(query: Dict[str, Any]) -> Any:
    connection = current()
    return connection.client.pending(gateway=connection.gateway or None, **query)


def _common(trade: TradeRequest, given: Dict[str, Any]) -> Dict[str, Any]:
    """symbol, volume, stops (0: none), magic and comment, as order_send sends them."""
    if trade.symbol == "":
        raise invalid("the request needs symbol")
    fields: Dict[str, Any] = {"symbol": trade.symbol, "volume": trade.volume}
    if trade.sl:
        fields["sl"] = trade.sl
    if trade.tp:
        fields["tp"] = trade.tp
    # Absent: the gateway's magic, not MetaTrader5's zero
    if "magic" in given:
        fields["magic"] = trade.magic
    if trade.comment:
        fields["comment"] = trade.comment
    return fields


def _pending_fields(trade: TradeRequest, given: Dict[str, Any]) -> Dict[str, Any]:
    """A TRADE_ACTION_PENDING request as the API's placement (and order check) fields."""
    if trade.type not in PENDING_TYPES:
        raise invalid("TRADE_ACTION_PENDING takes a limit, stop or stop-limit ORDER_TYPE_*")
    fields: Dict[str, Any] = {"type": PENDING_TYPES[trade.type], **_common(trade, given)}
    fields["price"] = trade.price
    # MetaTrader5 ignores stoplimit on other types; the API refuses it there
    if trade.type in STOP_LIMITS:
        fields["stoplimit"] = trade.stoplimit
    if "type_time" in given:
        time_type = TIME_TYPES.get(trade.type_time)
        if time_type is None:
            raise invalid(f"type_time {trade.type_time} is not an ORDER_TIME_* value")
        fields["type_time"] = time_type
        if trade.type_time in WITH_EXPIRATION:
            fields["expiration"] = trade.expiration * 1000
    if "type_filling" in given:
        filling = FILLINGS.get(trade.type_filling)
        if filling is None:
            raise invalid(f"type_filling {trade.type_filling} is not one the bridge can send "
                          "(ORDER_FILLING_FOK, _IOC or _RETURN)")
        fields["type_filling"] = filling
    return fields


def _pending_refusal(trade: TradeRequest) -> Optional[Tuple[int, str]]:
    """What MT5 answers a placement without its prices or expiration, before sending it."""
    if trade.price <= 0:
        return c.TRADE_RETCODE_INVALID_PRICE, "a pending order needs price"
    if trade.type in STOP_LIMITS and trade.stoplimit <= 0:
        return (c.TRADE_RETCODE_INVALID_PRICE,
                "a stop-limit order needs stoplimit (the price of the limit order it places)")
    return _expiration_refusal(trade)


def _expiration_refusal(trade: TradeRequest) -> Optional[Tuple[int, str]]:
    if trade.type_time in WITH_EXPIRATION and trade.expiration <= 0:
        return (c.TRADE_RETCODE_INVALID_EXPIRATION,
                "ORDER_TIME_SPECIFIED and ORDER_TIME_SPECIFIED_DAY need expiration")
    return None


def _side(action: Any) -> str:
    if isinstance(action, bool) or action not in SIDES:
        raise BridgeError(c.RES_E_INVALID_PARAMS,
                          f"action must be ORDER_TYPE_BUY or ORDER_TYPE_SELL, was {action!r}")
    return SIDES[action]


def _symbol(symbol: Any) -> str:
    if not isinstance(symbol, str) or symbol == "":
        raise BridgeError(c.RES_E_INVALID_PARAMS,
                          f"symbol must be a non-empty string, was {symbol!r}")
    return symbol


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise BridgeError(c.RES_E_INVALID_PARAMS,
                          f"{name} must be a positive number, was {value!r}")
    return float(value)
