"""Pending orders without the agents: an order of the API as MetaTrader5's TradeOrder, and
MetaTrader5 requests as the API's placement fields (what order_send and order_check send)."""

from __future__ import annotations

import unittest
from datetime import datetime, timezone

import mt5bridge as mt5
from mt5bridge import convert
from mt5bridge.pending import _pending_fields, _pending_refusal
from mt5bridge.request import parse_request
from mt5bridge.session import BridgeError

API_ORDER = {
    "ticket": 100000042, "symbol": "EURUSD", "type": "SELL_STOP_LIMIT", "state": "PLACED",
    "volume_initial": 0.2, "volume_current": 0.2, "price_open": 1.09, "price_stoplimit": 1.091,
    "sl": 1.1, "tp": None, "price_current": 1.1011, "type_time": "SPECIFIED_DAY",
    "time_expiration": 1795039200000, "type_filling": "RETURN", "magic": 7,
    "comment": "B4Q2WRS0T5N breakout", "time_setup": 1795003200003, "time_done": 0,
    "position_id": 0, "position_by_id": 0, "reason": "EXPERT", "external_id": "",
}


class TradeOrderTest(unittest.TestCase):
    def test_every_field(self) -> None:
        order = convert.trade_order(API_ORDER)
        self.assertEqual(order._asdict(), {
            "ticket": 100000042, "time_setup": 1795003200, "time_setup_msc": 1795003200003,
            "time_done": 0, "time_done_msc": 0, "time_expiration": 1795039200,
            "type": mt5.ORDER_TYPE_SELL_STOP_LIMIT, "type_time": mt5.ORDER_TIME_SPECIFIED_DAY,
            "type_filling": mt5.ORDER_FILLING_RETURN, "state": mt5.ORDER_STATE_PLACED,
            "magic": 7, "position_id": 0, "position_by_id": 0, "reason": mt5.ORDER_REASON_EXPERT,
            "volume_initial": 0.2, "volume_current": 0.2, "price_open": 1.09, "sl": 1.1,
            "tp": 0.0, "price_current": 1.1011, "price_stoplimit": 1.091, "symbol": "EURUSD",
            "comment": "breakout", "external_id": "",
        })

    def test_every_enum_name_of_the_protocol_has_a_value(self) -> None:
        for table, names in ((convert.ORDER_TYPES, 9), (convert.ORDER_STATES, 10),
                             (convert.ORDER_TIMES, 4), (convert.ORDER_FILLINGS, 3)):
            self.assertEqual(len(table), names)
            self.assertEqual(len(set(table.values())), names)


class PendingRequestTest(unittest.TestCase):
    def fields(self, **request: object) -> dict:
        trade, _, given = parse_request({"action": mt5.TRADE_ACTION_PENDING, "symbol": "EURUSD",
                                         "volume": 0.1, **request})
        return _pending_fields(trade, given)

    def test_a_placement(self) -> None:
        at = datetime(2026, 11, 20, 21, tzinfo=timezone.utc)
        self.assertEqual(
            self.fields(type=mt5.ORDER_TYPE_BUY_STOP_LIMIT, price=1.105, stoplimit=1.104,
                        sl=1.1, tp=0.0, type_time=mt5.ORDER_TIME_SPECIFIED, expiration=at,
                        type_filling=mt5.ORDER_FILLING_RETURN, magic=0, comment="x"),
            {"type": "BUY_STOP_LIMIT", "symbol": "EURUSD", "volume": 0.1, "price": 1.105,
             "stoplimit": 1.104, "sl": 1.1, "type_time": "SPECIFIED",
             "expiration": int(at.timestamp()) * 1000, "type_filling": "RETURN", "magic": 0,
             "comment": "x"})

    def test_what_metatrader5_ignores_is_not_sent(self) -> None:
        # stoplimit on a plain limit, expiration with GTC, no magic given
        self.assertEqual(
            self.fields(type=mt5.ORDER_TYPE_SELL_LIMIT, price=1.2, stoplimit=1.3,
                        type_time=mt5.ORDER_TIME_GTC, expiration=1795039200),
            {"type": "SELL_LIMIT", "symbol": "EURUSD", "volume": 0.1, "price": 1.2,
             "type_time": "GTC"})

    def test_refusals(self) -> None:
        with self.assertRaisesRegex(BridgeError, "ORDER_FILLING_FOK"):
            self.fields(type=mt5.ORDER_TYPE_BUY_LIMIT, price=1.0,
                        type_filling=mt5.ORDER_FILLING_BOC)
        with self.assertRaisesRegex(BridgeError, "limit, stop or stop-limit"):
            self.fields(type=mt5.ORDER_TYPE_BUY, price=1.0)
        trade, _, _ = parse_request({"action": mt5.TRADE_ACTION_PENDING, "price": 1.0,
                                     "type": mt5.ORDER_TYPE_BUY_STOP_LIMIT})
        self.assertEqual(_pending_refusal(trade),
                         (mt5.TRADE_RETCODE_INVALID_PRICE,
                          "a stop-limit order needs stoplimit (the price of the limit order it "
                          "places)"))


if __name__ == "__main__":
    unittest.main()
