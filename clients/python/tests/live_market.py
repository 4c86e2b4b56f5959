"""Market data and history through the MetaTrader5-style functions, against the real agents
(agent-gtw on the simulated MT5 and agent-inf, started by test/python/market.test.ts): bars and
ticks as numpy structured arrays with MetaTrader5's dtypes (and lists of tuples without numpy),
pandas DataFrames from them, the symbol list, the deal and order history of a real trade, and the
error convention for what MT5 refuses too."""

from __future__ import annotations

import time
import unittest
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd

import mt5bridge as mt5
from mt5bridge import market
from support import BridgeTestCase, live

UTC = timezone.utc
# Wednesday 2026-11-04 10:00 UTC: inside the sim's history, markets open
AT = datetime(2026, 11, 4, 10, 0, tzinfo=UTC)
RATES_DTYPE = np.dtype([("time", "<i8"), ("open", "<f8"), ("high", "<f8"), ("low", "<f8"),
                        ("close", "<f8"), ("tick_volume", "<u8"), ("spread", "<i4"),
                        ("real_volume", "<u8")])
TICKS_DTYPE = np.dtype([("time", "<i8"), ("bid", "<f8"), ("ask", "<f8"), ("last", "<f8"),
                        ("volume", "<u8"), ("time_msc", "<i8"), ("flags", "<u4"),
                        ("volume_real", "<f8")])


def seconds(when: datetime) -> int:
    return int(when.timestamp())


class RatesTest(BridgeTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.connect()

    def test_copy_rates_range_as_metatrader5_returns_it(self) -> None:
        rates = mt5.copy_rates_range("EURUSD", mt5.TIMEFRAME_M1, AT, AT + timedelta(hours=1))
        self.assertIsInstance(rates, np.ndarray)
        self.assertEqual(rates.dtype, RATES_DTYPE)
        self.assertEqual(len(rates), 61)
        self.assertEqual(int(rates["time"][0]), seconds(AT))
        self.assertTrue(np.all(np.diff(rates["time"]) == 60))
        self.assertTrue(np.all(rates["high"] >= rates["low"]))
        frame = pd.DataFrame(rates)
        self.assertEqual(list(frame.columns), list(RATES_DTYPE.names))
        frame["time"] = pd.to_datetime(frame["time"], unit="s")
        self.assertEqual(str(frame["time"].iloc[0]), "2026-11-04 10:00:00")

    def test_copy_rates_from_and_from_pos(self) -> None:
        rates = mt5.copy_rates_from("EURUSD", mt5.TIMEFRAME_M1, AT + timedelta(seconds=30), 3)
        self.assertEqual([int(t) for t in rates["time"]],
                         [seconds(AT) - 120, seconds(AT) - 60, seconds(AT)])
        # Unix seconds work as dates too, as in MetaTrader5
        same = mt5.copy_rates_from("EURUSD", mt5.TIMEFRAME_M1, seconds(AT) + 30, 3)
        self.assertTrue(np.array_equal(rates, same))
        latest = mt5.copy_rates_from_pos("EURUSD", mt5.TIMEFRAME_H1, 0, 5)
        earlier = mt5.copy_rates_from_pos("EURUSD", mt5.TIMEFRAME_H1, 1, 4)
        self.assertEqual(len(latest), 5)
        self.assertTrue(np.array_equal(latest[:4], earlier))

    def test_many_pages_in_one_call(self) -> None:
        rates = mt5.copy_rates_range("EURUSD", mt5.TIMEFRAME_M1, AT, AT + timedelta(days=10))
        self.assertEqual(len(rates), 10 * 1440 + 1)
        self.assertTrue(np.all(np.diff(rates["time"]) == 60))
        self.assertEqual(mt5.last_error(), (mt5.RES_S_OK, "Success"))

    def test_without_numpy_a_list_of_tuples(self) -> None:
        numpy_module = market.numpy_module
        market.numpy_module = lambda: None  # type: ignore[assignment]
        try:
            rows = mt5.copy_rates_from("EURUSD", mt5.TIMEFRAME_M5, AT, 2)
            ticks = mt5.copy_ticks_from("EURUSD", AT, 2, mt5.COPY_TICKS_ALL)
        finally:
            market.numpy_module = numpy_module  # type: ignore[assignment]
        with_numpy = mt5.copy_rates_from("EURUSD", mt5.TIMEFRAME_M5, AT, 2)
        self.assertIsInstance(rows, list)
        self.assertEqual(len(rows[0]), 8)
        self.assertEqual(rows, [tuple(row) for row in with_numpy.tolist()])
        self.assertIsInstance(ticks, list)
        self.assertEqual(ticks[0][5] // 1000, ticks[0][0])

    def test_refusals_answer_none_and_last_error(self) -> None:
        self.assertFailed(mt5.copy_rates_from_pos("EURUSD", 7, 0, 10), mt5.RES_E_INVALID_PARAMS,
                          "TIMEFRAME_")
        self.assertFailed(mt5.copy_rates_from_pos("EURUSD", mt5.TIMEFRAME_M1, 0, 0),
                          mt5.RES_E_INVALID_PARAMS, "count")
        self.assertFailed(mt5.copy_rates_from_pos("EURUSD", mt5.TIMEFRAME_M1, 0, 2_000_000),
                          mt5.RES_E_INVALID_PARAMS, "count must be from 1 to 1000000")
        self.assertFailed(mt5.copy_rates_range("EURUSD", mt5.TIMEFRAME_M1,
                                               datetime(2010, 1, 1, tzinfo=UTC), AT),
                          mt5.RES_E_INVALID_PARAMS, "ask for it in parts")
        self.assertFailed(mt5.copy_rates_from("NOPE", mt5.TIMEFRAME_M1, AT, 5),
                          mt5.RES_E_NOT_FOUND, "UNKNOWN_SYMBOL")
        self.assertFailed(mt5.copy_rates_from("EURUSD", mt5.TIMEFRAME_M1, "yesterday", 5),
                          mt5.RES_E_INVALID_PARAMS, "datetime or Unix seconds")

    def test_empty_ranges_are_empty_arrays(self) -> None:
        rates = mt5.copy_rates_range("EURUSD", mt5.TIMEFRAME_D1, datetime(2014, 1, 1, tzinfo=UTC),
                                     datetime(2014, 6, 1, tzinfo=UTC))
        self.assertEqual(len(rates), 0)
        self.assertEqual(rates.dtype, RATES_DTYPE)


class TicksTest(BridgeTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.connect()

    def test_copy_ticks_from_and_range(self) -> None:
        ticks = mt5.copy_ticks_from("EURUSD", AT, 100, mt5.COPY_TICKS_ALL)
        self.assertEqual(ticks.dtype, TICKS_DTYPE)
        self.assertEqual(len(ticks), 100)
        self.assertTrue(np.all(ticks["time"] == ticks["time_msc"] // 1000))
        self.assertTrue(np.all(ticks["time_msc"] >= seconds(AT) * 1000))
        self.assertTrue(np.all((ticks["flags"] & (mt5.TICK_FLAG_BID | mt5.TICK_FLAG_ASK)) != 0))
        span = mt5.copy_ticks_range("EURUSD", AT, AT + timedelta(minutes=5), mt5.COPY_TICKS_INFO)
        self.assertTrue(np.array_equal(span[:len(ticks)], ticks[:len(span)]))
        self.assertEqual(len(mt5.copy_ticks_range("EURUSD", AT, AT + timedelta(minutes=5),
                                                  mt5.COPY_TICKS_TRADE)), 0)
        frame = pd.DataFrame(ticks)
        frame["time"] = pd.to_datetime(frame["time"], unit="s")
        self.assertEqual(list(frame.columns), list(TICKS_DTYPE.names))

    def test_refusals(self) -> None:
        self.assertFailed(mt5.copy_ticks_from("EURUSD", AT, 10, 5), mt5.RES_E_INVALID_PARAMS,
                          "COPY_TICKS_ALL")
        self.assertFailed(mt5.copy_ticks_range("EURUSD", AT, AT + timedelta(days=40),
                                               mt5.COPY_TICKS_ALL),
                          mt5.RES_E_INVALID_PARAMS, "31 days")


class SymbolsTest(BridgeTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.connect()

    def test_symbols_total_and_get(self) -> None:
        everything = mt5.symbols_get()
        self.assertIsInstance(everything, tuple)
        self.assertEqual(mt5.symbols_total(), len(everything))
        names = [info.name for info in everything]
        self.assertEqual(names, sorted(names))
        self.assertIsInstance(everything[0], mt5.SymbolInfo)
        euro = mt5.symbols_get(group="EUR*")
        self.assertEqual([info.name for info in euro], ["EURUSD"])
        # Names, not whole records: prices and the tick values derived from them move between
        # the two calls
        without_usd = mt5.symbols_get("*,!*USD*")
        self.assertIsInstance(without_usd, tuple)
        self.assertEqual([info.name for info in without_usd],
                         [info.name for info in everything if "USD" not in info.name])
        self.assertTrue(without_usd)
        self.assertFailed(mt5.symbols_get(group="EUR*,,"), mt5.RES_E_INVALID_PARAMS, "group")


class HistoryTest(BridgeTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.connect()

    def trade(self) -> int:
        """A buy and its close through order_send; returns the position id."""
        tick = mt5.symbol_info_tick("EURUSD")
        sent = mt5.order_send({"action": mt5.TRADE_ACTION_DEAL, "symbol": "EURUSD",
                               "volume": 0.1, "type": mt5.ORDER_TYPE_BUY, "price": tick.ask,
                               "sl": round(tick.bid - 0.01, 5), "comment": "history test"})
        self.assertEqual(sent.retcode, mt5.TRADE_RETCODE_DONE, sent)
        position = mt5.positions_get(ticket=sent.order)[0]
        closed = mt5.order_send({"action": mt5.TRADE_ACTION_DEAL, "symbol": "EURUSD",
                                 "volume": 0.1, "type": mt5.ORDER_TYPE_SELL,
                                 "position": position.ticket,
                                 "price": mt5.symbol_info_tick("EURUSD").bid})
        self.assertEqual(closed.retcode, mt5.TRADE_RETCODE_DONE, closed)
        return position.identifier

    def test_deals_and_orders_of_a_trade(self) -> None:
        start = datetime.now(UTC) - timedelta(seconds=2)
        position = self.trade()
        end = datetime.now(UTC) + timedelta(seconds=2)

        deals = mt5.history_deals_get(position=position)
        self.assertEqual(len(deals), 2)
        self.assertIsInstance(deals[0], mt5.TradeDeal)
        self.assertEqual([(d.type, d.entry) for d in deals],
                         [(mt5.DEAL_TYPE_BUY, mt5.DEAL_ENTRY_IN),
                          (mt5.DEAL_TYPE_SELL, mt5.DEAL_ENTRY_OUT)])
        self.assertEqual(deals[0].comment, "history test")
        self.assertEqual(deals[0].time, deals[0].time_msc // 1000)
        self.assertTrue(seconds(start) <= deals[0].time <= seconds(end))
        in_period = mt5.history_deals_get(start, end)
        self.assertTrue(set(deals) <= set(in_period), in_period)
        self.assertGreaterEqual(mt5.history_deals_total(start, end), 2)
        self.assertEqual(mt5.history_deals_get(start, end, group="GBP*"), ())
        self.assertEqual(mt5.history_deals_get(ticket=deals[1].ticket), (deals[1],))
        frame = pd.DataFrame(list(deals), columns=deals[0]._asdict().keys())
        self.assertAlmostEqual(float(frame["profit"].sum()), sum(d.profit for d in deals))

        orders = mt5.history_orders_get(position=position)
        self.assertEqual([o.state for o in orders], [mt5.ORDER_STATE_FILLED] * 2)
        self.assertEqual([o.type for o in orders], [mt5.ORDER_TYPE_BUY, mt5.ORDER_TYPE_SELL])
        self.assertIsInstance(orders[0], mt5.TradeOrder)
        self.assertEqual(orders[0].time_setup, orders[0].time_setup_msc // 1000)
        self.assertEqual(mt5.history_orders_total(start, end),
                         len(mt5.history_orders_get(start, end)))
        self.assertEqual(mt5.history_orders_get(ticket=orders[0].ticket), (orders[0],))

    def test_refusals(self) -> None:
        self.assertFailed(mt5.history_deals_get(), mt5.RES_E_INVALID_PARAMS, "date_from")
        self.assertFailed(mt5.history_deals_get(AT), mt5.RES_E_INVALID_PARAMS, "date_from")
        self.assertFailed(mt5.history_deals_get(position=5, group="EUR*"),
                          mt5.RES_E_INVALID_PARAMS, "group")
        self.assertFailed(mt5.history_orders_get(ticket=0), mt5.RES_E_INVALID_PARAMS, "ticket")
        self.assertFailed(mt5.history_deals_get(AT, AT - timedelta(days=1)),
                          mt5.RES_E_INVALID_PARAMS, "after to")

    def test_before_initialize(self) -> None:
        mt5.shutdown()
        self.assertFailed(mt5.copy_rates_from_pos("EURUSD", mt5.TIMEFRAME_M1, 0, 5),
                          mt5.RES_E_INTERNAL_FAIL_CONNECT, "initialize()")
        self.assertFailed(mt5.history_deals_total(AT, AT), mt5.RES_E_INTERNAL_FAIL_CONNECT)


class ClientTest(unittest.TestCase):
    def test_the_native_client_reads_the_same(self) -> None:
        import os

        client = mt5.Client(live("MT5BRIDGE_TEST_URL"), os.environ.get("MT5BRIDGE_TEST_TOKEN"))
        rates: Any = client.rates("EURUSD", "M5", date_from="2026-11-04T10:00:00Z", count=3)
        self.assertEqual(int(rates["time"][-1]), seconds(AT))
        tick = client.last_tick("EURUSD")
        self.assertEqual(tick["time"], tick["time_msc"] // 1000)
        self.assertLess(abs(tick["time"] - time.time()), 60)
        with self.assertRaises(mt5.InvalidRequest) as refused:
            client.rates("EURUSD", "M7", count=3)
        self.assertEqual(refused.exception.code, "INVALID_TIMEFRAME")


if __name__ == "__main__":
    live("MT5BRIDGE_TEST_URL")
    unittest.main()
