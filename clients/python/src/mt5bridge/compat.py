"""The MetaTrader5 module's functions over agent-inf's local API (docs/PYTHON.md maps each one),
with MetaTrader5's names, arguments, return types and error convention: None (False for the
boolean ones) and last_error() on failure, never an exception for a failed call.

What agent-inf cannot serve yet (bars, ticks, history, the symbol list) answers None with
last_error() RES_E_UNSUPPORTED and says so; those arrive with the API routes of issue 14.
Pending orders and the pre-trade checks are pending.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional, Tuple, Union

from . import constants as c
from . import convert
from ._version import __version__
from .client import Client
from .groups import compile_group
from .records import (
    AccountInfo,
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
    _not_yet("symbols_total", "the symbol list (GET /v1/symbols)")
    return None


def symbols_get(group: Optional[str] = None) -> Optional[Tuple[SymbolInfo, ...]]:
    del group
    _not_yet("symbols_get", "the symbol list (GET /v1/symbols)")
    return None


def symbol_info(symbol: str) -> Optional[SymbolInfo]:
    return call(lambda: convert.symbol_info(_symbol(symbol)), None)


def symbol_info_tick(symbol: str) -> Optional[Tick]:
    return call(lambda: convert.tick(_symbol(symbol)), None)


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


def history_orders_total(date_from: Date, date_to: Date) -> Optional[int]:
    del date_from, date_to
    _not_yet("history_orders_total", "order history (GET /v1/history/orders)")
    return None


def history_orders_get(date_from: Optional[Date] = None, date_to: Optional[Date] = None, *,
                       group: Optional[str] = None, ticket: Optional[int] = None,
                       position: Optional[int] = None) -> Optional[Tuple[TradeOrder, ...]]:
    del date_from, date_to, group, ticket, position
    _not_yet("history_orders_get", "order history (GET /v1/history/orders)")
    return None


def history_deals_total(date_from: Date, date_to: Date) -> Optional[int]:
    del date_from, date_to
    _not_yet("history_deals_total", "deal history (GET /v1/history/deals)")
    return None


def history_deals_get(date_from: Optional[Date] = None, date_to: Optional[Date] = None, *,
                      group: Optional[str] = None, ticket: Optional[int] = None,
                      position: Optional[int] = None) -> Optional[Tuple[TradeDeal, ...]]:
    del date_from, date_to, group, ticket, position
    _not_yet("history_deals_get", "deal history (GET /v1/history/deals)")
    return None


def copy_rates_from(symbol: str, timeframe: int, date_from: Date, count: int) -> Any:
    del symbol, timeframe, date_from, count
    _not_yet("copy_rates_from", "bars (GET /v1/rates)")
    return None


def copy_rates_from_pos(symbol: str, timeframe: int, start_pos: int, count: int) -> Any:
    del symbol, timeframe, start_pos, count
    _not_yet("copy_rates_from_pos", "bars (GET /v1/rates)")
    return None


def copy_rates_range(symbol: str, timeframe: int, date_from: Date, date_to: Date) -> Any:
    del symbol, timeframe, date_from, date_to
    _not_yet("copy_rates_range", "bars (GET /v1/rates)")
    return None


def copy_ticks_from(symbol: str, date_from: Date, count: int, flags: int) -> Any:
    del symbol, date_from, count, flags
    _not_yet("copy_ticks_from", "ticks (GET /v1/ticks)")
    return None


def copy_ticks_range(symbol: str, date_from: Date, date_to: Date, flags: int) -> Any:
    del symbol, date_from, date_to, flags
    _not_yet("copy_ticks_range", "ticks (GET /v1/ticks)")
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
    "symbol_select", "positions_total", "positions_get", "history_orders_total", "history_orders_get", "history_deals_total", "history_deals_get",
    "copy_rates_from", "copy_rates_from_pos", "copy_rates_range", "copy_ticks_from",
    "copy_ticks_range", "market_book_add", "market_book_get", "market_book_release",
]
