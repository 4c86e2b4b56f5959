"""agent-inf's JSON answers (docs/API.md §6, §7) as the MetaTrader5 module's named tuples.

What the API does not carry is filled with MetaTrader5's own "nothing" (0, 0.0, False, ""); the
table in docs/PYTHON.md lists those fields. Times: the API's are Unix ms, MetaTrader5's `time`
fields are Unix seconds with a `*_msc` twin in ms.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Tuple, get_type_hints

from . import constants as c
from .records import (
    AccountInfo,
    SymbolInfo,
    TerminalInfo,
    Tick,
    TradeDeal,
    TradeOrder,
    TradePosition,
)

MARGIN_MODES = {
    "NETTING": c.ACCOUNT_MARGIN_MODE_RETAIL_NETTING,
    "EXCHANGE": c.ACCOUNT_MARGIN_MODE_EXCHANGE,
    "HEDGING": c.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING,
}
CALC_MODES = {
    "FOREX": c.SYMBOL_CALC_MODE_FOREX,
    "FOREX_NO_LEVERAGE": c.SYMBOL_CALC_MODE_FOREX_NO_LEVERAGE,
    "CFD": c.SYMBOL_CALC_MODE_CFD,
    "CFD_INDEX": c.SYMBOL_CALC_MODE_CFDINDEX,
    "CFD_LEVERAGE": c.SYMBOL_CALC_MODE_CFDLEVERAGE,
}
TRADE_MODES = {
    "DISABLED": c.SYMBOL_TRADE_MODE_DISABLED,
    "LONG_ONLY": c.SYMBOL_TRADE_MODE_LONGONLY,
    "SHORT_ONLY": c.SYMBOL_TRADE_MODE_SHORTONLY,
    "CLOSE_ONLY": c.SYMBOL_TRADE_MODE_CLOSEONLY,
    "FULL": c.SYMBOL_TRADE_MODE_FULL,
}
EXECUTION_MODES = {
    "REQUEST": c.SYMBOL_TRADE_EXECUTION_REQUEST,
    "INSTANT": c.SYMBOL_TRADE_EXECUTION_INSTANT,
    "MARKET": c.SYMBOL_TRADE_EXECUTION_MARKET,
    "EXCHANGE": c.SYMBOL_TRADE_EXECUTION_EXCHANGE,
}
# SYMBOL_FILLING_MODE flags (marketinfoconstants); RETURN has no flag of its own
FILLING_FLAGS = {"FOK": 1, "IOC": 2}
# SYMBOL_ORDER_MODE flags the bridge can use: market orders (1) with SL (16) and TP (32)
BRIDGE_ORDER_MODE = 1 | 16 | 32
# The gateway's tag at the start of a position's comment (shared/protocol/codec.ts commentTag)
_COMMENT_TAG = re.compile(r"^B[0-9A-HJKMNP-TV-Z]{10}(?: |$)")


def account_info(account: Dict[str, Any]) -> AccountInfo:
    trade_allowed = bool(account.get("trade_allowed", False))
    return AccountInfo(
        login=int(account["login"]),
        # Demo or real is not in the API; assume real, the side that asks for care
        trade_mode=c.ACCOUNT_TRADE_MODE_REAL,
        leverage=int(account.get("leverage", 0)),
        limit_orders=0,
        margin_so_mode=c.ACCOUNT_STOPOUT_MODE_PERCENT,
        trade_allowed=trade_allowed,
        trade_expert=trade_allowed,
        margin_mode=MARGIN_MODES.get(str(account.get("margin_mode")),
                                     c.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING),
        currency_digits=2,
        fifo_close=False,
        balance=_float(account, "balance"),
        credit=0.0,
        profit=_float(account, "profit"),
        equity=_float(account, "equity"),
        margin=_float(account, "margin"),
        margin_free=_float(account, "margin_free"),
        margin_level=_float(account, "margin_level"),
        margin_so_call=_float(account, "margin_so_call"),
        margin_so_so=_float(account, "margin_so_so"),
        margin_initial=0.0,
        margin_maintenance=0.0,
        assets=0.0,
        liabilities=0.0,
        commission_blocked=0.0,
        name=str(account.get("name", "")),
        server=str(account.get("server", "")),
        currency=str(account.get("currency", "")),
        company="",
    )


def terminal_info(health: Dict[str, Any], gateway: str) -> TerminalInfo:
    """The terminal as agent-inf sees it through `gateway` (GET /v1/health)."""
    lane = gateway_health(health, gateway)
    link_up = bool(lane.get("connected")) and lane.get("mt5_link") == "UP"
    trading = (link_up and lane.get("trading_state") == "ACTIVE"
               and lane.get("gateway_trading_state", "ACTIVE") == "ACTIVE"
               and not lane.get("breaker", {}).get("engaged", False))
    latency = lane.get("latency_ms") or {}
    # ping_last is in microseconds in MetaTrader5
    ping = int(round(float(latency.get("p50", 0.0)) * 1000)) if latency.get("count") else 0
    return TerminalInfo(
        community_account=False, community_connection=False, connected=link_up,
        dlls_allowed=False, trade_allowed=trading, tradeapi_disabled=False,
        email_enabled=False, ftp_enabled=False, notifications_enabled=False, mqid=False,
        build=0, maxbars=0, codepage=0, ping_last=ping, community_balance=0.0,
        retransmission=0.0, company="", name=f"agent-inf {health.get('agent', '')}".strip(),
        language="English", path="", data_path="", commondata_path="",
    )


def gateway_health(health: Dict[str, Any], gateway: str) -> Dict[str, Any]:
    """The health entry of `gateway`, or of the only/first gateway when `gateway` is ""."""
    lanes: List[Dict[str, Any]] = list(health.get("gateways") or [])
    for lane in lanes:
        if lane.get("gateway") == gateway:
            return lane
    if gateway == "" and lanes:
        return lanes[0]
    raise KeyError(gateway)


def symbol_info(info: Dict[str, Any]) -> SymbolInfo:
    quote_ms = int(info.get("quote_time", 0))
    tick_value = _float(info, "tick_value")
    filling = 0
    for mode in info.get("filling_modes", []):
        filling |= FILLING_FLAGS.get(str(mode), 0)
    fields: Dict[str, Any] = {name: _zero(kind) for name, kind in _SYMBOL_KINDS.items()}
    fields.update(
        select=True, visible=True, time=quote_ms // 1000, digits=int(info.get("digits", 0)),
        spread=int(info.get("spread", 0)), spread_float=True,
        trade_calc_mode=CALC_MODES.get(str(info.get("calc_mode")), c.SYMBOL_CALC_MODE_FOREX),
        trade_mode=TRADE_MODES.get(str(info.get("trade_mode")), c.SYMBOL_TRADE_MODE_DISABLED),
        trade_stops_level=int(info.get("stops_level", 0)),
        trade_freeze_level=int(info.get("freeze_level", 0)),
        trade_exemode=EXECUTION_MODES.get(str(info.get("execution_mode")),
                                          c.SYMBOL_TRADE_EXECUTION_MARKET),
        swap_rollover3days=c.DAY_OF_WEEK_WEDNESDAY,
        filling_mode=filling, order_mode=BRIDGE_ORDER_MODE,
        bid=_float(info, "bid"), ask=_float(info, "ask"), point=_float(info, "point"),
        trade_tick_value=tick_value, trade_tick_value_profit=tick_value,
        trade_tick_value_loss=tick_value, trade_tick_size=_float(info, "tick_size"),
        trade_contract_size=_float(info, "contract_size"),
        volume_min=_float(info, "volume_min"), volume_max=_float(info, "volume_max"),
        volume_step=_float(info, "volume_step"), volume_limit=_float(info, "volume_limit"),
        margin_hedged=_float(info, "margin_hedged"),
        currency_base=str(info.get("currency_base", "")),
        currency_profit=str(info.get("currency_profit", "")),
        currency_margin=str(info.get("currency_margin", "")),
        description=str(info.get("description", "")), name=str(info.get("symbol", "")),
    )
    return SymbolInfo(**fields)


def tick(item: Dict[str, Any]) -> Tick:
    """A symbol's last tick (GET /v1/ticks/{symbol}/last) as a Tick: MT5's MqlTick, its times
    in the broker's server time as symbol_info_tick gives them."""
    return Tick(time=int(item.get("time", 0)), bid=_float(item, "bid"), ask=_float(item, "ask"),
                last=_float(item, "last"), volume=int(item.get("volume", 0)),
                time_msc=int(item.get("time_msc", 0)), flags=int(item.get("flags", 0)),
                volume_real=_float(item, "volume_real"))


def position(item: Dict[str, Any]) -> TradePosition:
    comment = str(item.get("comment", ""))
    tagged = _COMMENT_TAG.match(comment)
    opened_ms = int(item.get("time", 0))
    updated_ms = int(item.get("time_update", opened_ms))
    return TradePosition(
        ticket=int(item["ticket"]), time=opened_ms // 1000, time_msc=opened_ms,
        time_update=updated_ms // 1000, time_update_msc=updated_ms,
        type=c.POSITION_TYPE_BUY if item.get("side") == "BUY" else c.POSITION_TYPE_SELL,
        magic=int(item.get("magic", 0)), identifier=int(item["ticket"]),
        # Opened through the bridge (it tags the comment), or by hand as far as we can tell
        reason=c.POSITION_REASON_EXPERT if tagged else c.POSITION_REASON_CLIENT,
        volume=_float(item, "volume"), price_open=_float(item, "price_open"),
        sl=_float(item, "sl"), tp=_float(item, "tp"), price_current=_float(item, "price_current"),
        swap=_float(item, "swap"), profit=_float(item, "profit"),
        symbol=str(item.get("symbol", "")),
        comment=_untagged(comment), external_id="",
    )


def positions(items: Iterable[Dict[str, Any]]) -> Tuple[TradePosition, ...]:
    return tuple(position(item) for item in items)


# MT5's numbers for the API's enumeration names (history deals and orders)
DEAL_TYPES = {name[len("DEAL_TYPE_"):]: value for name, value in vars(c).items()
              if name.startswith("DEAL_TYPE_")}
# MetaTrader5 names these three without TYPE_
DEAL_TYPES.update(DIVIDEND=c.DEAL_DIVIDEND, DIVIDEND_FRANKED=c.DEAL_DIVIDEND_FRANKED, TAX=c.DEAL_TAX)
DEAL_ENTRIES = {name[len("DEAL_ENTRY_"):]: value for name, value in vars(c).items()
                if name.startswith("DEAL_ENTRY_")}
DEAL_REASONS = {name[len("DEAL_REASON_"):]: value for name, value in vars(c).items()
                if name.startswith("DEAL_REASON_")}
# DEAL_REASON_CORPORATE_ACTION (MQL5's ENUM_DEAL_REASON), which the module has no constant for
DEAL_REASONS["CORPORATE_ACTION"] = 10
ORDER_TYPES = {name[len("ORDER_TYPE_"):]: value for name, value in vars(c).items()
               if name.startswith("ORDER_TYPE_")}
ORDER_STATES = {name[len("ORDER_STATE_"):]: value for name, value in vars(c).items()
                if name.startswith("ORDER_STATE_")}
ORDER_TIMES = {name[len("ORDER_TIME_"):]: value for name, value in vars(c).items()
               if name.startswith("ORDER_TIME_")}
ORDER_FILLINGS = {name[len("ORDER_FILLING_"):]: value for name, value in vars(c).items()
                  if name.startswith("ORDER_FILLING_")}
ORDER_REASONS = {name[len("ORDER_REASON_"):]: value for name, value in vars(c).items()
                 if name.startswith("ORDER_REASON_")}


def deal(item: Dict[str, Any]) -> TradeDeal:
    """A deal of GET /v1/history/deals (times already in MT5's seconds and ms)."""
    return TradeDeal(
        ticket=int(item["ticket"]), order=int(item.get("order", 0)), time=int(item["time"]),
        time_msc=int(item["time_msc"]), type=DEAL_TYPES[str(item["type"])],
        entry=DEAL_ENTRIES[str(item["entry"])], magic=int(item.get("magic", 0)),
        position_id=int(item.get("position", 0)),
        reason=DEAL_REASONS.get(str(item.get("reason")), c.DEAL_REASON_CLIENT),
        volume=_float(item, "volume"), price=_float(item, "price"),
        commission=_float(item, "commission"), swap=_float(item, "swap"),
        profit=_float(item, "profit"), fee=_float(item, "fee"),
        symbol=str(item.get("symbol", "")), comment=_untagged(str(item.get("comment", ""))),
        external_id=str(item.get("external_id", "")),
    )


def order(item: Dict[str, Any]) -> TradeOrder:
    """An order of GET /v1/history/orders; a stop or limit price the order lacks is 0.0."""
    return TradeOrder(
        ticket=int(item["ticket"]), time_setup=int(item["time_setup"]),
        time_setup_msc=int(item["time_setup_msc"]), time_done=int(item.get("time_done", 0)),
        time_done_msc=int(item.get("time_done_msc", 0)),
        time_expiration=int(item.get("time_expiration", 0)),
        type=ORDER_TYPES[str(item["type"])],
        type_time=ORDER_TIMES.get(str(item.get("type_time")), c.ORDER_TIME_GTC),
        type_filling=ORDER_FILLINGS.get(str(item.get("type_filling")), c.ORDER_FILLING_FOK),
        state=ORDER_STATES[str(item["state"])], magic=int(item.get("magic", 0)),
        position_id=int(item.get("position_id", 0)),
        position_by_id=int(item.get("position_by_id", 0)),
        reason=ORDER_REASONS.get(str(item.get("reason")), c.ORDER_REASON_CLIENT),
        volume_initial=_float(item, "volume_initial"),
        volume_current=_float(item, "volume_current"), price_open=_float(item, "price_open"),
        sl=_float(item, "sl"), tp=_float(item, "tp"), price_current=_float(item, "price_current"),
        price_stoplimit=_float(item, "price_stoplimit"), symbol=str(item.get("symbol", "")),
        comment=_untagged(str(item.get("comment", ""))),
        external_id=str(item.get("external_id", "")),
    )


def _untagged(comment: str) -> str:
    """The comment without the gateway's tag in front, as the strategy wrote it."""
    tagged = _COMMENT_TAG.match(comment)
    return comment[tagged.end():] if tagged else comment


def _float(source: Dict[str, Any], key: str) -> float:
    value = source.get(key)
    return 0.0 if value is None else float(value)


def _zero(kind: Any) -> Any:
    return {bool: False, int: 0, float: 0.0, str: ""}[kind]


# SymbolInfo's field types (bool, int, float, str), for the fields the API does not carry
_SYMBOL_KINDS = get_type_hints(SymbolInfo)
