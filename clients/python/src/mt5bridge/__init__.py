"""mt5bridge: the MetaTrader5 module's API on Linux, through agent-inf (docs/PYTHON.md).

    import mt5bridge as mt5          # instead of: import MetaTrader5 as mt5

    if not mt5.initialize():
        print("initialize() failed, error code =", mt5.last_error())
    tick = mt5.symbol_info_tick("EURUSD")
    result = mt5.order_send({"action": mt5.TRADE_ACTION_DEAL, "symbol": "EURUSD",
                             "volume": 0.1, "type": mt5.ORDER_TYPE_BUY,
                             "sl": tick.bid - 0.002, "tp": tick.bid + 0.004})

Orders are risk-checked, signed and idempotent on the way; nothing here reaches MT5 but through
agent-inf. Beyond MetaTrader5: Client (blocking) and AsyncClient (asyncio, streams) speak
agent-inf's own API with its outcomes.
"""

from ._version import __version__
from .aio import AsyncClient, Watch
from .client import Client
from .compat import (
    account_info,
    copy_rates_from,
    copy_rates_from_pos,
    copy_rates_range,
    copy_ticks_from,
    copy_ticks_range,
    history_deals_get,
    history_deals_total,
    history_orders_get,
    history_orders_total,
    initialize,
    last_error,
    login,
    market_book_add,
    market_book_get,
    market_book_release,
    positions_get,
    positions_total,
    shutdown,
    symbol_info,
    symbol_info_tick,
    symbol_select,
    symbols_get,
    symbols_total,
    terminal_info,
    version,
)
from .constants import *  # noqa: F401,F403 (MetaTrader5's constants, by design all of them)
from .errors import (
    ApiError,
    ApiUnreachable,
    Forbidden,
    GatewayUnavailable,
    InvalidRequest,
    NotFound,
    SettingsError,
    StreamUnavailable,
    Unauthorized,
    UnknownGateway,
)
from .outcome import KEEP, OrderResult, new_client_order_id
from .pending import order_calc_margin, order_calc_profit, order_check, orders_get, orders_total
from .records import (
    AccountInfo,
    OrderCheckResult,
    OrderSendResult,
    SymbolInfo,
    TerminalInfo,
    Tick,
    TradeDeal,
    TradeOrder,
    TradePosition,
    TradeRequest,
)
from .sse import StreamMessage
from .trade import order_send

__author__ = "MT5 Live Bridge"
