"""Pending orders and the pre-trade checks against the real agents: order_send's
TRADE_ACTION_PENDING, _MODIFY, _REMOVE and _CLOSE_BY, orders_total and orders_get with
MetaTrader5's TradeOrder, order_check with its OrderCheckResult, order_calc_margin and
order_calc_profit; retries under one client_order_id; what is refused before sending and what
agent-inf's risk checks deny, as retcodes; the native Client's calls for the same routes, and
AsyncClient's, with the order events they cause on the stream.
The agent-inf of test/python/pending.test.ts requires a stop-loss and allows 10 lots an order.
"""

from __future__ import annotations

import asyncio
import unittest
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List

import mt5bridge as mt5
from mt5bridge import AsyncClient, Client, StreamMessage
from support import BridgeTestCase, live, url

WAIT = 15.0


def clean_up() -> None:
    client = Client(url())
    client.set_trading_state("ACTIVE")
    for order in client.pending():
        client.cancel(order["ticket"])
    for position in client.positions():
        client.close(position["ticket"])


class PendingOrderSendTest(BridgeTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.connect()
        self.addCleanup(clean_up)
        tick = mt5.symbol_info_tick("EURUSD")
        assert tick is not None, mt5.last_error()
        self.tick = tick

    def buy_limit(self, below: float = 0.0050, **fields: Any) -> Dict[str, Any]:
        price = round(self.tick.bid - below, 5)
        return {"action": mt5.TRADE_ACTION_PENDING, "symbol": "EURUSD", "volume": 0.1,
                "type": mt5.ORDER_TYPE_BUY_LIMIT, "price": price,
                "sl": round(price - 0.0020, 5), "tp": round(price + 0.0040, 5),
                "magic": 234000, "comment": "python pending", "type_time": mt5.ORDER_TIME_GTC,
                "type_filling": mt5.ORDER_FILLING_RETURN, **fields}

    def test_place_list_modify_remove(self) -> None:
        request = self.buy_limit()
        placed = mt5.order_send(request)
        assert placed is not None, mt5.last_error()
        self.assertEqual((placed.retcode, placed.outcome), (mt5.TRADE_RETCODE_DONE, "FILLED"),
                         placed.comment)
        self.assertGreater(placed.order, 0)
        self.assertEqual((placed.volume, placed.price, placed.deal), (0.1, request["price"], 0))

        self.assertEqual(mt5.orders_total(), 1)
        orders = mt5.orders_get()
        assert orders is not None, mt5.last_error()
        order = orders[0]
        self.assertIsInstance(order, mt5.TradeOrder)
        self.assertEqual(
            (order.ticket, order.type, order.state, order.type_time, order.type_filling),
            (placed.order, mt5.ORDER_TYPE_BUY_LIMIT, mt5.ORDER_STATE_PLACED, mt5.ORDER_TIME_GTC,
             mt5.ORDER_FILLING_RETURN))
        self.assertEqual((order.volume_initial, order.volume_current, order.price_open, order.sl,
                          order.tp, order.price_stoplimit),
                         (0.1, 0.1, request["price"], request["sl"], request["tp"], 0.0))
        self.assertEqual((order.magic, order.comment, order.reason, order.symbol),
                         (234000, "python pending", mt5.ORDER_REASON_EXPERT, "EURUSD"))
        self.assertEqual(order.time_setup, order.time_setup_msc // 1000)
        self.assertEqual((order.time_done, order.time_expiration, order.position_id), (0, 0, 0))
        for query in ({"symbol": "EURUSD"}, {"group": "*USD*,!GBP*"}, {"ticket": placed.order}):
            self.assertEqual([o.ticket for o in mt5.orders_get(**query) or ()], [placed.order])
        self.assertEqual(mt5.orders_get(group="GBP*"), ())
        self.assertFailed(mt5.orders_get(symbol="EURUSD", ticket=placed.order),
                          mt5.RES_E_INVALID_PARAMS, "one of symbol, group, ticket")

        new_price = round(request["price"] - 0.0010, 5)
        modified = mt5.order_send({"action": mt5.TRADE_ACTION_MODIFY, "order": placed.order,
                                   "price": new_price, "sl": round(new_price - 0.0020, 5)})
        assert modified is not None, mt5.last_error()
        self.assertEqual((modified.retcode, modified.order), (mt5.TRADE_RETCODE_DONE, placed.order),
                         modified.comment)
        after = (mt5.orders_get(ticket=placed.order) or ())[0]
        # As in MetaTrader5, the request sets every field: no tp removes it
        self.assertEqual((after.price_open, after.sl, after.tp),
                         (new_price, round(new_price - 0.0020, 5), 0.0))

        # Removing the SL this agent-inf requires is denied on this host
        no_sl = mt5.order_send({"action": mt5.TRADE_ACTION_MODIFY, "order": placed.order,
                                "price": new_price})
        assert no_sl is not None
        self.assertEqual((no_sl.retcode, no_sl.outcome), (mt5.TRADE_RETCODE_INVALID_STOPS,
                                                          "DENIED"))
        self.assertIn("SL_REQUIRED", no_sl.comment)

        removed = mt5.order_send({"action": mt5.TRADE_ACTION_REMOVE, "order": placed.order})
        assert removed is not None, mt5.last_error()
        self.assertEqual(removed.retcode, mt5.TRADE_RETCODE_DONE, removed.comment)
        self.assertEqual((mt5.orders_total(), mt5.orders_get()), (0, ()))
        again = mt5.order_send({"action": mt5.TRADE_ACTION_REMOVE, "order": placed.order})
        assert again is not None
        self.assertEqual((again.retcode, again.outcome), (mt5.TRADE_RETCODE_INVALID, "DENIED"))
        self.assertIn("ORDER_NOT_FOUND", again.comment)

    def test_a_stop_limit_until_a_time(self) -> None:
        expires = (datetime.now(timezone.utc) + timedelta(hours=2)).replace(microsecond=0)
        trigger = round(self.tick.ask + 0.0050, 5)
        placed = mt5.order_send({
            "action": mt5.TRADE_ACTION_PENDING, "symbol": "EURUSD", "volume": 0.2,
            "type": mt5.ORDER_TYPE_BUY_STOP_LIMIT, "price": trigger,
            "stoplimit": round(trigger - 0.0010, 5), "sl": round(trigger - 0.0030, 5),
            "type_time": mt5.ORDER_TIME_SPECIFIED, "expiration": expires})
        assert placed is not None, mt5.last_error()
        self.assertEqual(placed.retcode, mt5.TRADE_RETCODE_DONE, placed.comment)
        order = (mt5.orders_get(ticket=placed.order) or ())[0]
        self.assertEqual((order.type, order.price_stoplimit, order.type_time,
                          order.time_expiration),
                         (mt5.ORDER_TYPE_BUY_STOP_LIMIT, round(trigger - 0.0010, 5),
                          mt5.ORDER_TIME_SPECIFIED, int(expires.timestamp())))

    def test_a_retry_with_its_id_places_once(self) -> None:
        request = {**self.buy_limit(), "client_order_id": "py-pend-retry-1"}
        first = mt5.order_send(request)
        second = mt5.order_send(request)
        assert first is not None and second is not None, mt5.last_error()
        self.assertEqual((first.order, second.order, second.client_order_id),
                         (first.order, first.order, "py-pend-retry-1"))
        self.assertEqual(mt5.orders_total(), 1)

    def test_close_by(self) -> None:
        def market(kind: int, volume: float, sl: float) -> int:
            result = mt5.order_send({"action": mt5.TRADE_ACTION_DEAL, "symbol": "EURUSD",
                                     "volume": volume, "type": kind, "sl": round(sl, 5)})
            assert result is not None and result.retcode == mt5.TRADE_RETCODE_DONE, result
            return result.order

        buy = market(mt5.ORDER_TYPE_BUY, 0.3, self.tick.bid - 0.005)
        sell = market(mt5.ORDER_TYPE_SELL, 0.1, self.tick.ask + 0.005)
        closed = mt5.order_send({"action": mt5.TRADE_ACTION_CLOSE_BY, "position": buy,
                                 "position_by": sell})
        assert closed is not None, mt5.last_error()
        self.assertEqual(closed.retcode, mt5.TRADE_RETCODE_DONE, closed.comment)
        self.assertEqual([(p.ticket, p.volume) for p in mt5.positions_get() or ()], [(buy, 0.2)])

    def test_refused_before_sending_and_denied(self) -> None:
        def result(request: Dict[str, Any]) -> Any:
            sent = mt5.order_send(request)
            assert sent is not None, mt5.last_error()
            return sent.retcode, sent.outcome

        self.assertEqual(result(self.buy_limit(price=0.0)),
                         (mt5.TRADE_RETCODE_INVALID_PRICE, "LOCAL"))
        self.assertEqual(result(self.buy_limit(type=mt5.ORDER_TYPE_BUY_STOP_LIMIT)),
                         (mt5.TRADE_RETCODE_INVALID_PRICE, "LOCAL"))
        self.assertEqual(result(self.buy_limit(type_time=mt5.ORDER_TIME_SPECIFIED)),
                         (mt5.TRADE_RETCODE_INVALID_EXPIRATION, "LOCAL"))
        self.assertEqual(result({"action": mt5.TRADE_ACTION_MODIFY, "price": 1.0}),
                         (mt5.TRADE_RETCODE_INVALID, "LOCAL"))
        self.assertEqual(result({"action": mt5.TRADE_ACTION_MODIFY, "order": 99, "price": 1.0}),
                         (mt5.TRADE_RETCODE_INVALID, "LOCAL"))
        self.assertEqual(result({"action": mt5.TRADE_ACTION_CLOSE_BY, "position": 5}),
                         (mt5.TRADE_RETCODE_INVALID, "LOCAL"))
        # agent-inf's risk checks, from the order's own price
        self.assertEqual(result(self.buy_limit(sl=round(self.tick.bid - 0.001, 5))),
                         (mt5.TRADE_RETCODE_INVALID_STOPS, "DENIED"))
        self.assertEqual(result(self.buy_limit(volume=11)),
                         (mt5.TRADE_RETCODE_LIMIT_VOLUME, "DENIED"))
        # MT5's own: a buy limit above the market
        self.assertEqual(result(self.buy_limit(below=-0.0050, sl=round(self.tick.bid, 5))),
                         (mt5.TRADE_RETCODE_INVALID_PRICE, "REJECTED"))
        self.assertEqual(mt5.orders_total(), 0)

    def test_reducing_refuses_new_pending_orders_and_allows_removal(self) -> None:
        placed = mt5.order_send(self.buy_limit())
        assert placed is not None and placed.retcode == mt5.TRADE_RETCODE_DONE, placed
        Client(url()).set_trading_state("REDUCING", "python test")
        refused = mt5.order_send(self.buy_limit(below=0.0060))
        removed = mt5.order_send({"action": mt5.TRADE_ACTION_REMOVE, "order": placed.order})
        assert refused is not None and removed is not None
        self.assertEqual((refused.retcode, refused.outcome),
                         (mt5.TRADE_RETCODE_CLOSE_ONLY, "DENIED"))
        self.assertEqual(removed.retcode, mt5.TRADE_RETCODE_DONE, removed.comment)


class CheckTest(BridgeTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.connect()
        tick = mt5.symbol_info_tick("EURUSD")
        assert tick is not None
        self.tick = tick

    def test_order_check(self) -> None:
        buy = {"action": mt5.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 1.0,
               "type": mt5.ORDER_TYPE_BUY, "price": self.tick.ask, "deviation": 10}
        checked = mt5.order_check(buy)
        assert checked is not None, mt5.last_error()
        self.assertIsInstance(checked, mt5.OrderCheckResult)
        self.assertEqual((checked.retcode, checked.comment), (0, "Done"))
        self.assertGreater(checked.margin, 0)
        self.assertAlmostEqual(checked.margin_free, checked.equity - checked.margin, places=2)
        self.assertEqual(checked.request.volume, 1.0)
        pending = mt5.order_check({"action": mt5.TRADE_ACTION_PENDING, "symbol": "EURUSD",
                                   "volume": 1.0, "type": mt5.ORDER_TYPE_SELL_LIMIT,
                                   "price": round(self.tick.ask + 0.005, 5)})
        assert pending is not None, mt5.last_error()
        self.assertEqual(pending.retcode, 0)
        too_big = mt5.order_check({**buy, "volume": 500.0})
        assert too_big is not None, mt5.last_error()
        self.assertEqual(too_big.retcode, mt5.TRADE_RETCODE_NO_MONEY)
        self.assertFailed(mt5.order_check({"action": mt5.TRADE_ACTION_SLTP, "position": 1}),
                          mt5.RES_E_UNSUPPORTED, "order_check checks")
        self.assertFailed(mt5.order_check({**buy, "type": mt5.ORDER_TYPE_BUY_LIMIT}),
                          mt5.RES_E_INVALID_PARAMS, "ORDER_TYPE_BUY or ORDER_TYPE_SELL")

    def test_margin_and_profit(self) -> None:
        margin = mt5.order_calc_margin(mt5.ORDER_TYPE_BUY, "EURUSD", 1.0, self.tick.ask)
        profit = mt5.order_calc_profit(mt5.ORDER_TYPE_BUY, "EURUSD", 1.0, 1.1, 1.101)
        loss = mt5.order_calc_profit(mt5.ORDER_TYPE_SELL, "EURUSD", 1.0, 1.1, 1.101)
        assert margin is not None and profit is not None and loss is not None, mt5.last_error()
        self.assertIsInstance(margin, float)
        self.assertGreater(margin, 0)
        self.assertAlmostEqual(profit, 100.0, places=6)
        self.assertAlmostEqual(loss, -100.0, places=6)
        self.assertFailed(mt5.order_calc_margin(mt5.ORDER_TYPE_BUY_LIMIT, "EURUSD", 1.0, 1.1),
                          mt5.RES_E_INVALID_PARAMS, "ORDER_TYPE_BUY or ORDER_TYPE_SELL")
        self.assertFailed(mt5.order_calc_margin(mt5.ORDER_TYPE_BUY, "NOPE", 1.0, 1.1),
                          mt5.RES_E_NOT_FOUND)
        self.assertFailed(mt5.order_calc_profit(mt5.ORDER_TYPE_BUY, "EURUSD", -1.0, 1.1, 1.2),
                          mt5.RES_E_INVALID_PARAMS, "volume")


class ClientPendingTest(unittest.TestCase):
    def setUp(self) -> None:
        self.client = Client(url())
        self.addCleanup(clean_up)

    def test_the_routes(self) -> None:
        c = self.client
        bid = c.symbol_info("EURUSD")["bid"]
        price = round(bid - 0.005, 5)
        placed = c.place("BUY_LIMIT", "EURUSD", 0.1 + 0.2, price, sl=round(price - 0.002, 5),
                         type_time="DAY")
        self.assertEqual(placed.outcome, "FILLED", placed)
        assert placed.reply is not None
        ticket = placed.reply["order"]
        self.assertEqual(placed.reply["pending_order"]["volume_initial"], 0.3)
        self.assertEqual([o["ticket"] for o in c.pending(symbol="EURUSD")], [ticket])
        self.assertEqual(c.pending(group="GBP*"), [])
        moved = c.modify_order(ticket, price=round(price - 0.001, 5))
        self.assertEqual(moved.outcome, "FILLED", moved)
        self.assertEqual(c.pending(ticket=ticket)[0]["sl"], round(price - 0.002, 5))  # KEEP
        self.assertEqual(c.cancel(ticket).outcome, "FILLED")
        self.assertEqual(c.cancel(ticket).code, "ORDER_NOT_FOUND")
        check = c.order_check("SELL", "EURUSD", 1, deviation=5)
        self.assertEqual(check["retcode"], 0)
        self.assertGreater(c.calc_margin("SELL", "EURUSD", 1, bid), 0)
        self.assertAlmostEqual(c.calc_profit("SELL", "EURUSD", 1, 1.1, 1.099), 100.0, places=6)


class AsyncPendingTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self) -> None:
        self.client = AsyncClient(url())
        self.addCleanup(clean_up)

    async def test_place_modify_cancel_and_their_events(self) -> None:
        seen: List[StreamMessage] = []
        ticket = 0

        async def follow() -> None:
            nonlocal ticket
            async for message in self.client.stream(events=True):
                seen.append(message)
                if message.event == "SNAPSHOT":
                    # Trade from the same loop while the stream is open
                    bid = (await self.client.symbol_info("EURUSD"))["bid"]
                    price = round(bid - 0.005, 5)
                    placed = await self.client.place("BUY_LIMIT", "EURUSD", 0.1, price,
                                                     sl=round(price - 0.002, 5))
                    self.assertEqual(placed.outcome, "FILLED", placed)
                    assert placed.reply is not None
                    ticket = int(placed.reply["order"])
                    listed = await self.client.pending(ticket=ticket)
                    self.assertEqual([order["price_open"] for order in listed], [price])
                    moved = await self.client.modify_order(ticket, price=round(price - 0.001, 5))
                    self.assertEqual(moved.outcome, "FILLED", moved)
                    self.assertEqual((await self.client.cancel(ticket)).outcome, "FILLED")
                if message.event == "ORDER_CANCELED":
                    return

        await asyncio.wait_for(follow(), WAIT)

        self.assertEqual((seen[0].event, seen[0].data["orders"]), ("SNAPSHOT", []))
        told = [(m.event, m.data["order"]["ticket"], m.data["order"]["state"]) for m in seen
                if m.event.startswith("ORDER_")]
        self.assertEqual(told, [("ORDER_PLACED", ticket, "PLACED"),
                                ("ORDER_MODIFIED", ticket, "PLACED"),
                                ("ORDER_CANCELED", ticket, "CANCELED")])
        self.assertEqual(await self.client.pending(), [])

    async def test_checks(self) -> None:
        bid = (await self.client.symbol_info("EURUSD"))["bid"]
        check = await self.client.order_check("BUY_LIMIT", "EURUSD", 0.1,
                                               price=round(bid - 0.005, 5))
        self.assertEqual((check["retcode"], check["comment"]), (0, "Done"))
        self.assertGreater(await self.client.calc_margin("BUY", "EURUSD", 1, bid), 0)
        self.assertAlmostEqual(await self.client.calc_profit("BUY", "EURUSD", 1, 1.1, 1.101),
                               100.0, places=6)


if __name__ == "__main__":
    live("MT5BRIDGE_TEST_URL")
    unittest.main()
