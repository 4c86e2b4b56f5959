"""order_send() against the real agents: a market order with SL/TP, partial and full closes by
`position`, SL/TP changes, risk denials and gateway rejections as OrderSendResult retcodes, and
requests refused before anything is sent. The agent-inf of test/python/live.test.ts allows 10
lots a order; the gateway allows 5, so 6 lots pass the risk checks and the gateway refuses them.
"""

from __future__ import annotations

import unittest
from typing import Any, Dict

import mt5bridge as mt5
from mt5bridge import Client
from support import BridgeTestCase, live, url


class OrderSendTest(BridgeTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.connect()
        self.addCleanup(self.flatten)
        tick = mt5.symbol_info_tick("EURUSD")
        assert tick is not None, mt5.last_error()
        self.tick = tick

    def flatten(self) -> None:
        client = Client(url())
        for position in client.positions():
            client.close(position["ticket"])

    def buy(self, volume: float = 0.1, **fields: Any) -> Dict[str, Any]:
        return {"action": mt5.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": volume,
                "type": mt5.ORDER_TYPE_BUY, "price": self.tick.ask,
                "sl": round(self.tick.bid - 0.0050, 5), "tp": round(self.tick.ask + 0.0100, 5),
                "deviation": 20, "magic": 234000, "comment": "python script open",
                "type_time": mt5.ORDER_TIME_GTC, "type_filling": mt5.ORDER_FILLING_FOK,
                **fields}

    def test_market_buy_with_sl_tp(self) -> None:
        request = self.buy()
        result = mt5.order_send(request)

        assert result is not None, mt5.last_error()
        self.assertIsInstance(result, mt5.OrderSendResult)
        self.assertEqual(result.retcode, mt5.TRADE_RETCODE_DONE, result.comment)
        self.assertEqual((result.volume, result.comment, result.outcome),
                         (0.1, "Request executed", "FILLED"))
        self.assertGreater(result.order, 0)
        self.assertGreater(result.deal, 0)
        self.assertGreater(result.price, 0)
        self.assertEqual(result.request, mt5.TradeRequest(**{**dict.fromkeys(
            mt5.TradeRequest._fields, 0), "comment": "", **request}))
        positions = mt5.positions_get(ticket=result.order)
        assert positions, mt5.last_error()
        position = positions[0]
        self.assertEqual((position.type, position.volume, position.sl, position.tp),
                         (mt5.POSITION_TYPE_BUY, 0.1, request["sl"], request["tp"]))
        self.assertEqual((position.magic, position.comment, position.reason),
                         (234000, "python script open", mt5.POSITION_REASON_EXPERT))
        self.assertEqual(position.identifier, position.ticket)
        # The same position by group (its price moves between reads: compare tickets)
        self.assertEqual([p.ticket for p in mt5.positions_get(group="*USD*,!GBP*") or ()],
                         [position.ticket])
        self.assertEqual(mt5.positions_get(group="GBP*"), ())
        self.assertEqual(mt5.positions_total(), 1)
        # The order's record at the gateway, by the id order_send chose
        record = Client(url()).get_order(result.client_order_id)
        assert record is not None
        self.assertEqual((record["action"], record["state"]), ("OPEN", "FILLED"))

    def test_partial_then_full_close_by_position(self) -> None:
        opened = mt5.order_send(self.buy(0.1))
        assert opened is not None and opened.retcode == mt5.TRADE_RETCODE_DONE, opened
        close = {"action": mt5.TRADE_ACTION_DEAL, "symbol": "EURUSD",
                 "type": mt5.ORDER_TYPE_SELL, "position": opened.order,
                 "price": self.tick.bid, "deviation": 20, "magic": 234000,
                 "comment": "python script close", "type_time": mt5.ORDER_TIME_GTC,
                 "type_filling": mt5.ORDER_FILLING_FOK}

        partial = mt5.order_send({**close, "volume": 0.04})
        assert partial is not None, mt5.last_error()
        self.assertEqual((partial.retcode, partial.volume), (mt5.TRADE_RETCODE_DONE, 0.04))
        remaining = mt5.positions_get(ticket=opened.order)
        assert remaining
        self.assertAlmostEqual(remaining[0].volume, 0.06)

        full = mt5.order_send({**close, "volume": remaining[0].volume})
        assert full is not None, mt5.last_error()
        self.assertEqual(full.retcode, mt5.TRADE_RETCODE_DONE, full.comment)
        self.assertEqual(mt5.positions_get(ticket=opened.order), ())
        self.assertNotEqual(partial.client_order_id, full.client_order_id)

        again = mt5.order_send({**close, "volume": 0.06})
        assert again is not None
        self.assertEqual((again.retcode, again.outcome),
                         (mt5.TRADE_RETCODE_POSITION_CLOSED, "LOCAL"))

    def test_a_close_must_oppose_the_position(self) -> None:
        opened = mt5.order_send(self.buy(0.1))
        assert opened is not None and opened.retcode == mt5.TRADE_RETCODE_DONE, opened
        same_side = mt5.order_send({"action": mt5.TRADE_ACTION_DEAL, "symbol": "EURUSD",
                                    "volume": 0.1, "type": mt5.ORDER_TYPE_BUY,
                                    "position": opened.order})
        other_symbol = mt5.order_send({"action": mt5.TRADE_ACTION_DEAL, "symbol": "GBPUSD",
                                       "volume": 0.1, "type": mt5.ORDER_TYPE_SELL,
                                       "position": opened.order})

        assert same_side is not None
        self.assertEqual((same_side.retcode, same_side.outcome),
                         (mt5.TRADE_RETCODE_INVALID, "LOCAL"))
        self.assertIn("close it with ORDER_TYPE_SELL", same_side.comment)
        self.assertFailed(other_symbol, mt5.RES_E_INVALID_PARAMS, "is EURUSD")
        self.assertEqual(mt5.positions_total(), 1)

    def test_sltp_sets_both_stops_and_zero_removes_one(self) -> None:
        opened = mt5.order_send(self.buy(0.1))
        assert opened is not None and opened.retcode == mt5.TRADE_RETCODE_DONE, opened
        sl, tp = round(self.tick.bid - 0.0080, 5), round(self.tick.ask + 0.0080, 5)

        moved = mt5.order_send({"action": mt5.TRADE_ACTION_SLTP, "symbol": "EURUSD",
                                "position": opened.order, "sl": sl, "tp": tp})
        assert moved is not None, mt5.last_error()
        self.assertEqual(moved.retcode, mt5.TRADE_RETCODE_DONE, moved.comment)
        position = mt5.positions_get(ticket=opened.order)[0]  # type: ignore[index]
        self.assertEqual((position.sl, position.tp), (sl, tp))

        cleared = mt5.order_send({"action": mt5.TRADE_ACTION_SLTP, "position": opened.order,
                                  "sl": sl})
        assert cleared is not None, mt5.last_error()
        self.assertEqual(cleared.retcode, mt5.TRADE_RETCODE_DONE, cleared.comment)
        position = mt5.positions_get(ticket=opened.order)[0]  # type: ignore[index]
        self.assertEqual((position.sl, position.tp), (sl, 0.0))

        unchanged = mt5.order_send({"action": mt5.TRADE_ACTION_SLTP, "position": opened.order,
                                    "sl": sl})
        assert unchanged is not None
        self.assertEqual((unchanged.retcode, unchanged.outcome),
                         (mt5.TRADE_RETCODE_NO_CHANGES, "REJECTED"))

    def test_risk_denials_are_results_with_a_retcode_and_the_denial(self) -> None:
        too_big = mt5.order_send(self.buy(11))
        no_stop = mt5.order_send(self.buy(0.1, sl=0.0))

        assert too_big is not None and no_stop is not None, mt5.last_error()
        self.assertEqual((too_big.retcode, too_big.outcome),
                         (mt5.TRADE_RETCODE_LIMIT_VOLUME, "DENIED"))
        self.assertTrue(too_big.comment.startswith("risk denied VOLUME_ABOVE_MAX: "),
                        too_big.comment)
        # Trading without a stop-loss is refused by design when the risk config requires one
        self.assertEqual(no_stop.retcode, mt5.TRADE_RETCODE_INVALID_STOPS)
        self.assertIn("SL_REQUIRED", no_stop.comment)
        self.assertEqual(mt5.positions_total(), 0)

    def test_a_gateway_rejection_is_a_result(self) -> None:
        rejected = mt5.order_send(self.buy(6))

        assert rejected is not None, mt5.last_error()
        self.assertEqual((rejected.retcode, rejected.outcome),
                         (mt5.TRADE_RETCODE_REJECT, "REJECTED"))
        self.assertIn("VOLUME_ABOVE_MAX", rejected.comment)
        self.assertEqual(mt5.positions_total(), 0)

    def test_requests_refused_before_sending(self) -> None:
        self.assertFailed(mt5.order_send({**self.buy(), "stop_loss": 1.0}),
                          mt5.RES_E_INVALID_PARAMS, "stop_loss")
        self.assertFailed(mt5.order_send(self.buy(comment="café")), mt5.RES_E_INVALID_PARAMS,
                          "field comment")
        market_pending = mt5.order_send({**self.buy(), "action": mt5.TRADE_ACTION_PENDING})
        assert market_pending is not None
        self.assertEqual((market_pending.retcode, market_pending.outcome),
                         (mt5.TRADE_RETCODE_INVALID_ORDER, "LOCAL"))
        self.assertFailed(mt5.order_send({**self.buy(), "action": 99}), mt5.RES_E_INVALID_PARAMS,
                          "TRADE_ACTION_")
        limit = mt5.order_send(self.buy(type=mt5.ORDER_TYPE_BUY_LIMIT))
        assert limit is not None
        self.assertEqual(limit.retcode, mt5.TRADE_RETCODE_INVALID_ORDER)
        no_position = mt5.order_send({"action": mt5.TRADE_ACTION_SLTP, "sl": 1.0})
        assert no_position is not None
        self.assertEqual(no_position.retcode, mt5.TRADE_RETCODE_INVALID)
        self.assertEqual(mt5.positions_total(), 0)


if __name__ == "__main__":
    live("MT5BRIDGE_TEST_URL")
    unittest.main()
