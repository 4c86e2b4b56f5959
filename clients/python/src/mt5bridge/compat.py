"""The MetaTrader5 module's functions over agent-inf's local API (docs/PYTHON.md maps each one),
with MetaTrader5's names, arguments, return types and error convention: None (False for the
boolean ones) and last_error() on failure, never an exception for a failed call.

What agent-inf cannot serve yet (pending orders, order_check, margin and profit calculations)
answers None with last_error() RES_E_UNSUPPORTED and says so; those arrive with the API routes
of issue 15. Bars and ticks come as numpy structured arrays with MetaTrader5's dtypes when numpy
can be imported, as lists of tuples otherwise (market.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from . import constants as c
from . import convert
from ._version import __version__
from .client import Client
from .groups import compile_group
from .records import (
    AccountInfo,
    OrderCheckResult,
    SymbolInfo,
    TerminalInfo,
    Tick,
    TradeDeal,
    TradeOrder,
    TradePosition,
)
from .session import BridgeError, Connection, call, connect, current, disconnect
from .session import last_error as _last_error
from .settings import discover

Date = Union[datetime, int, float]
# The terminal version MetaTrader5's version() reports first; the bridge has no build of its own
TERMINAL_VERSION = 500


def initialize(path: Optional[str] = None, *, login: Optional[int] = None,
               password: Optional[str] = None, server: Optional[str] = None,
               timeout: Optional[int] = None, portable: bool = False,
               url: Optional[str] = None, token: Optional[str] = None,
               config: Optional[str] = None, gateway: Optional[str] = None) -> bool:
    """Connect to agent-inf. `path` may be the API's URL or the agent's config file; a
    terminal path (MetaTrader5's meaning) is ignored. login and server, when given, must be the
    gateway's account: the bridge trades one account and cannot switch. The password is never
    used or sent (the gateway's terminal holds the session). `portable` has no meaning here."""
    del password, portable

    def connect_now() -> bool:
        given_url, given_config = url, config
        if path is not None and given_url is None and given_config is None:
            if path.startswith(("http://", "https://")):
                given_url = path
            elif path.endswith((".yaml", ".yml")):
                given_config = path
        endpoint = discover(url=given_url, token=token, config=given_config)
        # MetaTrader5's timeout is for connecting; here it bounds each request to agent-inf
        client = Client(endpoint.url, endpoint.token, gateway=gateway)
        if timeout is not None:
            client.timeout = _positive(timeout, "timeout") / 1000
        health = client.health()
        account = client.account_answer()
        _check_account(account["account"], login, server)
        connect(Connection(client, str(account.get("gateway") or gateway or ""),
                           int(account["account"]["login"]), str(health.get("version", ""))))
        return True

    disconnect()
    return call(connect_now, False)


def login(login: int, password: Optional[str] = None, server: Optional[str] = None,
          timeout: Optional[int] = None) -> bool:
    """True when `login` (and `server`) is the gateway's account; the bridge cannot switch."""
    del password, timeout

    def check() -> bool:
        connection = current()
        _check_account(connection.client.account(connection.gateway or None), login, server)
        return True

    return call(check, False)


def shutdown() -> None:
    disconnect()


def version() -> Optional[Tuple[int, int, str]]:
    """(500, 0, "agent-inf <version>"): the bridge has no terminal build number."""
    return call(lambda: (TERMINAL_VERSION, 0, f"agent-inf {current().version}"), None)


def last_error() -> Tuple[int, str]:
    return _last_error()


def account_info() -> Optional[AccountInfo]:
    def read() -> AccountInfo:
        connection = current()
        return convert.account_info(connection.client.account(connection.gateway or None))

    return call(read, None)


def terminal_info() -> Optional[TerminalInfo]:
    def read() -> TerminalInfo:
        connection = current()
        health = connection.client.health()
        try:
            return convert.terminal_info(health, connection.gateway)
        except KeyError as error:
            raise BridgeError(c.RES_E_NOT_FOUND,
                              f"agent-inf no longer lists gateway {connection.gateway}") from error

    return call(read, None)


def symbols_total() -> Optional[int]:
    """How many symbols the broker has."""
    def read() -> int:
        connection = current()
        return connection.client.symbols_total(connection.gateway or None)

    return call(read, None)


def symbols_get(group: Optional[str] = None) -> Optional[Tuple[SymbolInfo, ...]]:
    """Every symbol, or those the `group` filter selects ("*USD*,!EUR*"), sorted by name."""
    def read() -> Tuple[SymbolInfo, ...]:
        connection = current()
        chosen = None if group is None else _text("group", group)
        items = connection.client.symbols(chosen, connection.gateway or None)
        return tuple(convert.symbol_info(item) for item in items)

    return call(read, None)


def symbol_info(symbol: str) -> Optional[SymbolInfo]:
    return call(lambda: convert.symbol_info(_symbol(symbol)), None)


def symbol_info_tick(symbol: str) -> Optional[Tick]:
    """The symbol's last tick, its times in server time like copy_ticks_* and copy_rates_*."""
    def read() -> Tick:
        connection = current()
        return convert.tick(connection.client.last_tick(_text("symbol", symbol),
                                                        connection.gateway or None))

    return call(read, None)


def symbol_select(symbol: str, enable: bool = True) -> bool:
    """True when the broker knows the symbol: the gateway streams every symbol it is asked for,
    so there is no Market Watch to add it to (and none to remove it from)."""
    def select() -> bool:
        if enable:
            _symbol(symbol)
        else:
            _text("symbol", symbol)
        return True

    return call(select, False)


def positions_total() -> Optional[int]:
    return call(lambda: len(_positions(None)), None)


def positions_get(*, symbol: Optional[str] = None, group: Optional[str] = None,
                  ticket: Optional[int] = None) -> Optional[Tuple[TradePosition, ...]]:
    """Open positions: all, of one `symbol`, of a `group` of symbols ("*USD*,!EUR*"), or the
    one with `ticket`; () when there are none."""
    def read() -> Tuple[TradePosition, ...]:
        chosen = [name for name, value in (("symbol", symbol), ("group", group),
                                           ("ticket", ticket)) if value is not None]
        if len(chosen) > 1:
            raise BridgeError(c.RES_E_INVALID_PARAMS,
                              f"positions_get takes one of symbol, group, ticket; got "
                              f"{', '.join(chosen)}")
        items = _positions(_text("symbol", symbol) if symbol is not None else None)
        if group is not None:
            try:
                matches = compile_group(_text("group", group))
            except ValueError as error:
                raise BridgeError(c.RES_E_INVALID_PARAMS, str(error)) from error
            items = [item for item in items if matches(str(item.get("symbol", "")))]
        if ticket is not None:
            wanted = _ticket(ticket)
            items = [item for item in items if int(item["ticket"]) == wanted]
        return convert.positions(items)

    return call(read, None)


def orders_total() -> Optional[int]:
    _not_yet("orders_total", "pending orders (GET /v1/pending)")
    return None


def orders_get(*, symbol: Optional[str] = None, group: Optional[str] = None,
               ticket: Optional[int] = None) -> Optional[Tuple[TradeOrder, ...]]:
    del symbol, group, ticket
    _not_yet("orders_get", "pending orders (GET /v1/pending)")
    return None


def history_orders_total(date_from: Date, date_to: Date) -> Optional[int]:
    """How many orders left the book between the two dates (by setup time)."""
    def count() -> int:
        return len(_history("orders", {"from": _when(date_from), "to": _when(date_to)}))

    return call(count, None)


def history_orders_get(date_from: Optional[Date] = None, date_to: Optional[Date] = None, *,
                       group: Optional[str] = None, ticket: Optional[int] = None,
                       position: Optional[int] = None) -> Optional[Tuple[TradeOrder, ...]]:
    """Orders that left the book: between two dates (with an optional `group`), of one
    `position`, or the one with `ticket`; () when there are none."""
    def read() -> Tuple[TradeOrder, ...]:
        query = _history_query("history_orders_get", date_from, date_to, group, ticket, position)
        return tuple(convert.order(item) for item in _history("orders", query))

    return call(read, None)


def history_deals_total(date_from: Date, date_to: Date) -> Optional[int]:
    """How many deals were made between the two dates."""
    def count() -> int:
        return len(_history("deals", {"from": _when(date_from), "to": _when(date_to)}))

    return call(count, None)


def history_deals_get(date_from: Optional[Date] = None, date_to: Optional[Date] = None, *,
                      group: Optional[str] = None, ticket: Optional[int] = None,
                      position: Optional[int] = None) -> Optional[Tuple[TradeDeal, ...]]:
    """Deals between two dates (with an optional `group`), of one `position`, or the one with
    `ticket`; () when there are none."""
    def read() -> Tuple[TradeDeal, ...]:
        query = _history_query("history_deals_get", date_from, date_to, group, ticket, position)
        return tuple(convert.deal(item) for item in _history("deals", query))

    return call(read, None)


def copy_rates_from(symbol: str, timeframe: int, date_from: Date, count: int) -> Any:
    """The `count` bars opening at or before `date_from`, oldest first: a numpy structured
    array with MetaTrader5's fields (time in seconds), or a list of tuples without numpy."""
    return _rates(symbol, timeframe, lambda: {"from": _when(date_from), "count": _count(count)})


def copy_rates_from_pos(symbol: str, timeframe: int, start_pos: int, count: int) -> Any:
    """`count` bars back from position `start_pos` (0 is the bar being built now)."""
    return _rates(symbol, timeframe, lambda: {"start": _whole("start_pos", start_pos, 0),
                                              "count": _count(count)})


def copy_rates_range(symbol: str, timeframe: int, date_from: Date, date_to: Date) -> Any:
    """The bars opening between `date_from` and `date_to`, both included."""
    return _rates(symbol, timeframe, lambda: {"from": _when(date_from), "to": _when(date_to)})


def copy_ticks_from(symbol: str, date_from: Date, count: int, flags: int) -> Any:
    """The first `count` ticks at or after `date_from` (flags COPY_TICKS_ALL, _INFO, _TRADE):
    a numpy structured array with MetaTrader5's fields, or a list of tuples without numpy."""
    return _ticks(symbol, lambda: {"from": _when(date_from), "count": _count(count)}, flags)


def copy_ticks_range(symbol: str, date_from: Date, date_to: Date, flags: int) -> Any:
    """Every tick between `date_from` and `date_to` (at most 31 days)."""
    return _ticks(symbol, lambda: {"from": _when(date_from), "to": _when(date_to)}, flags)


def order_check(request: Any) -> Optional[OrderCheckResult]:
    del request
    _not_yet("order_check", "order checks (POST /v1/check)")
    return None


def order_calc_margin(action: int, symbol: str, volume: float, price: float) -> Optional[float]:
    del action, symbol, volume, price
    _not_yet("order_calc_margin", "margin calculations (POST /v1/check)")
    return None


def order_calc_profit(action: int, symbol: str, volume: float, price_open: float,
                      price_close: float) -> Optional[float]:
    del action, symbol, volume, price_open, price_close
    _not_yet("order_calc_profit", "profit calculations (POST /v1/check)")
    return None


def market_book_add(symbol: str) -> bool:
    del symbol
    return _refused("market_book_add")


def market_book_get(symbol: str) -> Optional[Tuple[Any, ...]]:
    del symbol
    _refused("market_book_get")
    return None


def market_book_release(symbol: str) -> bool:
    del symbol
    return _refused("market_book_release")


# -- helpers ---------------------------------------------------------------------------------

def _symbol(symbol: str) -> Any:
    connection = current()
    return connection.client.symbol_info(_text("symbol", symbol), connection.gateway or None)


def _positions(symbol: Optional[str]) -> Any:
    connection = current()
    return connection.client.positions(symbol, connection.gateway or None)


# TIMEFRAME_* values to the API's names (M1 … MN1)
_TIMEFRAMES = {value: name[len("TIMEFRAME_"):] for name, value in vars(c).items()
               if name.startswith("TIMEFRAME_")}
_TICK_FLAGS = {c.COPY_TICKS_ALL: "ALL", c.COPY_TICKS_INFO: "INFO", c.COPY_TICKS_TRADE: "TRADE"}


def _when(value: Any) -> str:
    """A MetaTrader5 date as the API's Unix seconds: a datetime (naive ones in the local zone,
    as MetaTrader5 reads them: pass tzinfo=timezone.utc for UTC) or seconds since 1970."""
    if isinstance(value, datetime):
        seconds = value.timestamp()
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        seconds = float(value)
    else:
        raise BridgeError(c.RES_E_INVALID_PARAMS, f"a date must be a datetime or Unix seconds "
                          f"(an int or float >= 0), was {value!r}")
    return f"{seconds:.3f}".rstrip("0").rstrip(".")


def _whole(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise BridgeError(c.RES_E_INVALID_PARAMS, f"{name} must be an integer >= {minimum}, "
                          f"was {value!r}")
    return value


def _count(value: Any) -> int:
    return _whole("count", value, 1)


def _rates(symbol: str, timeframe: int, fields: Callable[[], Dict[str, Any]]) -> Any:
    """`fields` is checked inside call(), so a bad argument is last_error(), not an exception."""
    def read() -> Any:
        query = fields()
        name = _TIMEFRAMES.get(timeframe) if isinstance(timeframe, int) else None
        if name is None:
            raise BridgeError(c.RES_E_INVALID_PARAMS, f"timeframe must be one of the "
                              f"TIMEFRAME_* constants, was {timeframe!r}")
        connection = current()
        return connection.client.rates(
            _text("symbol", symbol), name, count=query.get("count"), start=query.get("start"),
            date_from=query.get("from"), date_to=query.get("to"),
            gateway=connection.gateway or None)

    return call(read, None)


def _ticks(symbol: str, fields: Callable[[], Dict[str, Any]], flags: int) -> Any:
    def read() -> Any:
        query = fields()
        kind = _TICK_FLAGS.get(flags) if isinstance(flags, int) else None
        if kind is None:
            raise BridgeError(c.RES_E_INVALID_PARAMS, f"flags must be COPY_TICKS_ALL, "
                              f"COPY_TICKS_INFO or COPY_TICKS_TRADE, was {flags!r}")
        connection = current()
        return connection.client.ticks(
            _text("symbol", symbol), str(query["from"]), count=query.get("count"),
            date_to=query.get("to"), flags=kind, gateway=connection.gateway or None)

    return call(read, None)


def _history_query(function: str, date_from: Optional[Date], date_to: Optional[Date],
                   group: Optional[str], ticket: Optional[int],
                   position: Optional[int]) -> Dict[str, Any]:
    """MetaTrader5's three forms: dates (and group), ticket=, or position=."""
    dated = date_from is not None or date_to is not None
    forms = [dated, ticket is not None, position is not None]
    if sum(forms) != 1 or (dated and (date_from is None or date_to is None)):
        raise BridgeError(c.RES_E_INVALID_PARAMS, f"{function} takes date_from and date_to "
                          "(with an optional group), ticket=, or position=")
    if group is not None and not dated:
        raise BridgeError(c.RES_E_INVALID_PARAMS, "group goes with date_from and date_to")
    if ticket is not None:
        return {"ticket": _ticket(ticket)}
    if position is not None:
        return {"position": _ticket(position)}
    query: Dict[str, Any] = {"from": _when(date_from), "to": _when(date_to)}
    if group is not None:
        query["group"] = _text("group", group)
    return query


def _history(what: str, query: Dict[str, Any]) -> List[Dict[str, Any]]:
    connection = current()
    fields = {("date_" + key if key in ("from", "to") else key): value
              for key, value in query.items()}
    if what == "deals":
        return connection.client.history_deals(**fields, gateway=connection.gateway or None)
    return connection.client.history_orders(**fields, gateway=connection.gateway or None)


def _check_account(account: Any, login: Optional[int], server: Optional[str]) -> None:
    if login is not None and int(login) != int(account["login"]):
        raise BridgeError(c.RES_E_AUTH_FAILED,
                          f"the gateway trades account {account['login']} on "
                          f"{account.get('server')}, not {login}: the bridge cannot switch "
                          "accounts (configure the gateway for that account)")
    if server is not None and server != account.get("server"):
        raise BridgeError(c.RES_E_AUTH_FAILED,
                          f"the gateway's account is on server {account.get('server')}, "
                          f"not {server}")


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str) or value == "":
        raise BridgeError(c.RES_E_INVALID_PARAMS, f"{name} must be a non-empty string, "
                          f"was {value!r}")
    return value


def _ticket(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise BridgeError(c.RES_E_INVALID_PARAMS, f"ticket must be a positive integer, "
                          f"was {value!r}")
    return value


def _positive(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise BridgeError(c.RES_E_INVALID_PARAMS, f"{name} must be a positive integer "
                          f"(milliseconds), was {value!r}")
    return value


def _not_yet(function: str, what: str) -> None:
    def refuse() -> None:
        current()
        raise BridgeError(c.RES_E_UNSUPPORTED,
                          f"{function} is not available yet: agent-inf has no route for {what} "
                          "(docs/PYTHON.md)")

    call(refuse, None)


def _refused(function: str) -> bool:
    def refuse() -> bool:
        current()
        raise BridgeError(c.RES_E_UNSUPPORTED,
                          f"{function}: the bridge does not offer market depth (docs/PYTHON.md)")

    return call(refuse, False)


__all__ = [
    "__version__", "initialize", "login", "shutdown", "version", "last_error", "account_info",
    "terminal_info", "symbols_total", "symbols_get", "symbol_info", "symbol_info_tick",
    "symbol_select", "positions_total", "positions_get", "orders_total", "orders_get",
    "history_orders_total", "history_orders_get", "history_deals_total", "history_deals_get",
    "copy_rates_from", "copy_rates_from_pos", "copy_rates_range", "copy_ticks_from",
    "copy_ticks_range", "order_check", "order_calc_margin", "order_calc_profit",
    "market_book_add", "market_book_get", "market_book_release",
]
