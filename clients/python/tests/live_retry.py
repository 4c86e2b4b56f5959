"""order_send when the gateway's answer comes too late (test/python/retry.test.ts puts a proxy
that delays the gateway's replies between the agents): the first attempt's outcome is UNKNOWN to
agent-inf although the gateway executed it; order_send sends the same client_order_id again and
gets the first execution back instead of a second position."""

from __future__ import annotations

import unittest

import mt5bridge as mt5
from mt5bridge import Client
from support import BridgeTestCase, live, url


class RetryTest(BridgeTestCase):
    def test_a_lost_answer_is_retried_under_the_same_id_and_trades_once(self) -> None:
        self.connect()
        tick = mt5.symbol_info_tick("EURUSD")
        assert tick is not None, mt5.last_error()

        result = mt5.order_send({"action": mt5.TRADE_ACTION_DEAL, "symbol": "EURUSD",
                                 "volume": 0.1, "type": mt5.ORDER_TYPE_BUY,
                                 "sl": round(tick.bid - 0.005, 5)})

        assert result is not None, mt5.last_error()
        self.assertEqual((result.retcode, result.outcome), (mt5.TRADE_RETCODE_DONE, "FILLED"))
        self.assertEqual(mt5.positions_total(), 1)
        record = Client(url()).get_order(result.client_order_id)
        assert record is not None
        self.assertEqual(record["state"], "FILLED")
        self.assertEqual(record["reply"]["ticket"], result.order)


if __name__ == "__main__":
    live("MT5BRIDGE_TEST_URL")
    unittest.main()
