"""The native clients' pending-order calls (docs/API.md §11), mixed into Client and AsyncClient:
place, modify and cancel pending orders, close a position by an opposite one, list the pending
orders, and MT5's order check, margin and profit. The trades are order intents like open()
(one client_order_id for all attempts, OrderResult back); the rest are queries.

Fields and units are the API's: order types as "BUY_LIMIT", prices as given, `expiration` in
Unix ms on a whole second.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from .outcome import KEEP, OrderResult

if TYPE_CHECKING:
    from .client import Client


def _present(fields: Dict[str, Any]) -> Dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


def _lots(volume: float) -> float:
    # Imported here: client.py mixes these calls in, so it imports this module first
    from .client import round_volume

    return round_volume(volume)


class PendingCalls:
    """Client's pending-order routes."""

    if TYPE_CHECKING:
        # What Client gives the calls below
        gateway: Optional[str]

        def submit(self, path: str, body: Dict[str, Any], client_order_id: Optional[str],
                   gateway: Optional[str]) -> OrderResult: ...

        def _call(self, method: str, path: str, *, query: Optional[Dict[str, str]] = None,
                  body: Optional[Dict[str, Any]] = None) -> Any: ...

        def _gw(self, gateway: Optional[str]) -> Dict[str, str]: ...

    def place(self, type: str, symbol: str, volume: float, price: float, *,
              stoplimit: Optional[float] = None, sl: Optional[float] = None,
              tp: Optional[float] = None, type_time: Optional[str] = None,
              expiration: Optional[int] = None, type_filling: Optional[str] = None,
              magic: Optional[int] = None, comment: Optional[str] = None,
              edge: Optional[Dict[str, float]] = None, client_order_id: Optional[str] = None,
              gateway: Optional[str] = None) -> OrderResult:
        """Place a pending order (POST /v1/pending); reply["order"] is its ticket."""
        body = _present({
            "type": type, "symbol": symbol, "volume": _lots(volume), "price": price,
            "stoplimit": stoplimit, "sl": sl, "tp": tp, "type_time": type_time,
            "expiration": expiration, "type_filling": type_filling, "magic": magic,
            "comment": comment, "edge": edge,
        })
        return self.submit("/v1/pending", body, client_order_id, gateway)

    def modify_order(self, ticket: int, *, price: Optional[float] = None,
                     stoplimit: Optional[float] = None, sl: Any = KEEP, tp: Any = KEEP,
                     type_time: Optional[str] = None, expiration: Optional[int] = None,
                     client_order_id: Optional[str] = None,
                     gateway: Optional[str] = None) -> OrderResult:
        """Change a pending order; sl/tp: a price, None to remove it, KEEP (default) to leave
        it; the others: None keeps the order's own."""
        body = _present({"price": price, "stoplimit": stoplimit, "type_time": type_time,
                         "expiration": expiration})
        body.update({key: value for key, value in (("sl", sl), ("tp", tp)) if value is not KEEP})
        return self.submit(f"/v1/pending/{int(ticket)}/modify", body, client_order_id, gateway)

    def cancel(self, ticket: int, *, client_order_id: Optional[str] = None,
               gateway: Optional[str] = None) -> OrderResult:
        """Remove a pending order."""
        return self.submit(f"/v1/pending/{int(ticket)}/cancel", {}, client_order_id, gateway)

    def close_by(self, ticket: int, ticket_by: int, *, comment: Optional[str] = None,
                 client_order_id: Optional[str] = None,
                 gateway: Optional[str] = None) -> OrderResult:
        """Close position `ticket` by the opposite position `ticket_by` (hedging accounts)."""
        body = _present({"ticket_by": int(ticket_by), "comment": comment})
        return self.submit(f"/v1/positions/{int(ticket)}/close-by", body, client_order_id,
                           gateway)

    def pending(self, symbol: Optional[str] = None, group: Optional[str] = None,
                ticket: Optional[int] = None,
                gateway: Optional[str] = None) -> List[Dict[str, Any]]:
        """The pending orders: all, of a symbol, of a group ("*USD*,!EUR*"), or one ticket."""
        query = self._gw(gateway)
        query.update(_present({"symbol": symbol, "group": group,
                               "ticket": None if ticket is None else str(int(ticket))}))
        answer = self._call("GET", "/v1/pending", query=query)
        orders = answer.get("orders") if isinstance(answer, dict) else None
        if not isinstance(orders, list) or not all(isinstance(o, dict) for o in orders):
            raise ValueError("agent-inf answered pending orders without a list of objects")
        return orders

    def order_check(self, type: str, symbol: str, volume: float, *,
                    gateway: Optional[str] = None, **fields: Any) -> Dict[str, Any]:
        """MT5's order check (POST /v1/check): `check` with retcode 0 when it would pass.
        `fields`: price, stoplimit, sl, tp, type_time, expiration, type_filling, deviation,
        magic, comment."""
        body = _present({"type": type, "symbol": symbol, "volume": _lots(volume),
                         "gateway": gateway or self.gateway, **fields})
        check = self._check("/v1/check", body, "check")
        if not isinstance(check, dict):
            raise ValueError("agent-inf answered /v1/check with a check that is not an object")
        return check

    def calc_margin(self, type: str, symbol: str, volume: float, price: float,
                    gateway: Optional[str] = None) -> float:
        """The margin of one trade, account currency (OrderCalcMargin)."""
        body = _present({"type": type, "symbol": symbol, "volume": _lots(volume),
                         "price": price, "gateway": gateway or self.gateway})
        return float(self._check("/v1/check/margin", body, "margin"))

    def calc_profit(self, type: str, symbol: str, volume: float, price_open: float,
                    price_close: float, gateway: Optional[str] = None) -> float:
        """The profit of one trade between two prices, account currency (OrderCalcProfit)."""
        body = _present({"type": type, "symbol": symbol, "volume": _lots(volume),
                         "price_open": price_open, "price_close": price_close,
                         "gateway": gateway or self.gateway})
        return float(self._check("/v1/check/profit", body, "profit"))

    def _check(self, path: str, body: Dict[str, Any], field: str) -> Any:
        answer = self._call("POST", path, body=body)
        value = answer.get(field) if isinstance(answer, dict) else None
        if value is None or isinstance(value, bool):
            raise ValueError(f"agent-inf answered {path} without {field}")
        return value


class AsyncPendingCalls:
    """The same calls as coroutines, on AsyncClient (the blocking client in a worker thread)."""

    if TYPE_CHECKING:
        client: Client

    async def place(self, type: str, symbol: str, volume: float, price: float,
                    **fields: Any) -> OrderResult:
        return await asyncio.to_thread(
            lambda: self.client.place(type, symbol, volume, price, **fields))

    async def modify_order(self, ticket: int, **fields: Any) -> OrderResult:
        return await asyncio.to_thread(lambda: self.client.modify_order(ticket, **fields))

    async def cancel(self, ticket: int, **fields: Any) -> OrderResult:
        return await asyncio.to_thread(lambda: self.client.cancel(ticket, **fields))

    async def close_by(self, ticket: int, ticket_by: int,
                       **fields: Any) -> OrderResult:
        return await asyncio.to_thread(lambda: self.client.close_by(ticket, ticket_by, **fields))

    async def pending(self, symbol: Optional[str] = None,
                      group: Optional[str] = None, ticket: Optional[int] = None,
                      gateway: Optional[str] = None) -> List[Dict[str, Any]]:
        return await asyncio.to_thread(self.client.pending, symbol, group, ticket, gateway)

    async def order_check(self, type: str, symbol: str, volume: float,
                          **fields: Any) -> Dict[str, Any]:
        return await asyncio.to_thread(
            lambda: self.client.order_check(type, symbol, volume, **fields))

    async def calc_margin(self, type: str, symbol: str, volume: float,
                          price: float, gateway: Optional[str] = None) -> float:
        return await asyncio.to_thread(self.client.calc_margin, type, symbol, volume, price,
                                       gateway)

    async def calc_profit(self, type: str, symbol: str, volume: float,
                          price_open: float, price_close: float,
                          gateway: Optional[str] = None) -> float:
        return await asyncio.to_thread(self.client.calc_profit, type, symbol, volume,
                                       price_open, price_close, gateway)
