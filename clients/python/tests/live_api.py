"""The MetaTrader5-style functions against the real agents (agent-gtw on the simulated MT5 and
agent-inf, started by test/python/live.test.ts): how initialize() finds the API, each function's
return type and field types, the error convention, and what is not available yet."""

from __future__ import annotations

import os
import unittest
from typing import Any, get_type_hints

import mt5bridge as mt5
from support import BridgeTestCase, config, live, url

SIM_LOGIN = 5_000_001
SIM_SERVER = "SimBroker-Demo"


def assert_typed(case: unittest.TestCase, record: Any) -> None:
    """Every field holds its annotated type (bool is not accepted for int, nor int for float)."""
    for name, kind in get_type_hints(type(record)).items():
        value = getattr(record, name)
        case.assertIs(type(value), kind, f"{type(record).__name__}.{name} = {value!r}")


class InitializeTest(BridgeTestCase):
    def test_from_arguments_environment_and_config(self) -> None:
        self.assertTrue(mt5.initialize(url=url()), mt5.last_error())
        self.assertTrue(mt5.initialize(url()), mt5.last_error())  # MetaTrader5's `path`
        self.assertTrue(mt5.initialize(config()), mt5.last_error())
        self.assertTrue(mt5.initialize(config=config()), mt5.last_error())
        os.environ["AGENT_INF_CONFIG"] = config()
        self.assertTrue(mt5.initialize(), mt5.last_error())
        del os.environ["AGENT_INF_CONFIG"]
        os.environ["MT5BRIDGE_URL"] = url()
        self.assertTrue(mt5.initialize(), mt5.last_error())
        self.assertEqual(mt5.last_error(), (mt5.RES_S_OK, "Success"))
        # A Windows terminal path means nothing here and is ignored
        self.assertTrue(mt5.initialize("C:\\Program Files\\MetaTrader 5\\terminal64.exe"))

    def test_login_and_server_are_checked_against_the_gateways_account(self) -> None:
        self.connect(login=SIM_LOGIN, server=SIM_SERVER, password="never-sent", timeout=5000)
        self.assertTrue(mt5.login(SIM_LOGIN, password="x", server=SIM_SERVER))
        self.assertFailed(mt5.login(123), mt5.RES_E_AUTH_FAILED, "cannot switch")
        self.assertFailed(mt5.initialize(url=url(), login=123), mt5.RES_E_AUTH_FAILED,
                          f"trades account {SIM_LOGIN}")
        self.assertFailed(mt5.initialize(url=url(), server="Other-Live"), mt5.RES_E_AUTH_FAILED,
                          SIM_SERVER)
        self.assertFailed(mt5.account_info(), mt5.RES_E_INTERNAL_FAIL_CONNECT, "initialize()")

    def test_bad_initialize_arguments(self) -> None:
        self.assertFailed(mt5.initialize(url=url(), gateway="nowhere"), mt5.RES_E_NOT_FOUND,
                          "UNKNOWN_GATEWAY")
        self.assertFailed(mt5.initialize(url=url(), timeout=0), mt5.RES_E_INVALID_PARAMS,
                          "timeout")
        self.assertFailed(mt5.initialize(url="ftp://x"), mt5.RES_E_INTERNAL_FAIL_INIT, "http://")

    def test_every_call_before_initialize_or_after_shutdown_fails_alike(self) -> None:
        calls = [mt5.version, mt5.account_info, mt5.terminal_info, mt5.positions_total,
                 mt5.positions_get, lambda: mt5.symbol_info("EURUSD"),
                 lambda: mt5.order_send({"action": mt5.TRADE_ACTION_DEAL}), mt5.symbols_total]
        for attempt in ("before", "after"):
            if attempt == "after":
                self.connect()
                mt5.shutdown()
            for call in calls:
                self.assertFailed(call(), mt5.RES_E_INTERNAL_FAIL_CONNECT, "initialize()")


class QueriesTest(BridgeTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.connect()

    def test_version(self) -> None:
        version = mt5.version()
        assert version is not None
        self.assertEqual(version[:2], (500, 0))
        self.assertRegex(version[2], r"^agent-inf \d+\.\d+\.\d+")

    def test_account_info(self) -> None:
        account = mt5.account_info()
        assert account is not None, mt5.last_error()
        assert_typed(self, account)
        self.assertEqual((account.login, account.server, account.currency, account.leverage),
                         (SIM_LOGIN, SIM_SERVER, "USD", 100))
        self.assertEqual(account.margin_mode, mt5.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING)
        self.assertGreater(account.balance, 0)
        self.assertEqual(account._asdict()["login"], SIM_LOGIN)

    def test_terminal_info(self) -> None:
        terminal = mt5.terminal_info()
        assert terminal is not None, mt5.last_error()
        assert_typed(self, terminal)
        self.assertTrue(terminal.connected)
        self.assertTrue(terminal.trade_allowed)
        self.assertGreaterEqual(terminal.ping_last, 0)
        self.assertTrue(terminal.name.startswith("agent-inf"))

    def test_symbol_info_and_tick(self) -> None:
        info = mt5.symbol_info("EURUSD")
        tick = mt5.symbol_info_tick("EURUSD")
        assert info is not None and tick is not None, mt5.last_error()
        assert_typed(self, info)
        assert_typed(self, tick)
        self.assertEqual((info.name, info.digits, info.point, info.currency_base),
                         ("EURUSD", 5, 1e-05, "EUR"))
        self.assertEqual(info.trade_mode, mt5.SYMBOL_TRADE_MODE_FULL)
        self.assertTrue(info.visible and info.select)
        self.assertGreater(info.filling_mode, 0)
        self.assertLess(info.bid, info.ask)
        self.assertGreater(info.volume_min, 0)
        self.assertLess(tick.bid, tick.ask)
        self.assertEqual(tick.time, tick.time_msc // 1000)
        # The sim's forex ticks change the bid, the ask or both
        self.assertIn(tick.flags, (mt5.TICK_FLAG_BID, mt5.TICK_FLAG_ASK,
                                   mt5.TICK_FLAG_BID | mt5.TICK_FLAG_ASK))
        self.assertTrue(mt5.symbol_select("EURUSD", True))
        self.assertTrue(mt5.symbol_select("EURUSD", False))

    def test_unknown_and_malformed_symbols(self) -> None:
        self.assertFailed(mt5.symbol_info("NOPE"), mt5.RES_E_NOT_FOUND, "UNKNOWN_SYMBOL")
        self.assertFailed(mt5.symbol_info_tick("NOPE"), mt5.RES_E_NOT_FOUND, "UNKNOWN_SYMBOL")
        self.assertFailed(mt5.symbol_select("NOPE"), mt5.RES_E_NOT_FOUND, "UNKNOWN_SYMBOL")
        self.assertFailed(mt5.symbol_info("EUR USD"), mt5.RES_E_INVALID_PARAMS, "symbol")
        self.assertFailed(mt5.symbol_info(""), mt5.RES_E_INVALID_PARAMS, "non-empty")
        self.assertFailed(mt5.positions_get(symbol="EURUSD", ticket=1), mt5.RES_E_INVALID_PARAMS,
                          "one of symbol, group, ticket")
        self.assertFailed(mt5.positions_get(group="*,!"), mt5.RES_E_INVALID_PARAMS, "mask")
        # The error is per call: the next good one says Success again
        self.assertIsNotNone(mt5.symbol_info("EURUSD"))
        self.assertEqual(mt5.last_error(), (mt5.RES_S_OK, "Success"))

    def test_positions_when_flat(self) -> None:
        self.assertEqual(mt5.positions_total(), 0)
        self.assertEqual(mt5.positions_get(), ())
        self.assertEqual(mt5.positions_get(symbol="EURUSD"), ())
        self.assertEqual(mt5.positions_get(group="*USD*"), ())
        self.assertEqual(mt5.positions_get(ticket=1), ())

    def test_what_agent_inf_cannot_serve_yet_says_so(self) -> None:
        not_yet = {
            "orders_total": lambda: mt5.orders_total(),
            "orders_get": lambda: mt5.orders_get(symbol="EURUSD"),
            "order_check": lambda: mt5.order_check({"action": mt5.TRADE_ACTION_DEAL}),
            "order_calc_margin": lambda: mt5.order_calc_margin(0, "EURUSD", 1.0, 1.1),
            "order_calc_profit": lambda: mt5.order_calc_profit(0, "EURUSD", 1.0, 1.1, 1.2),
        }
        for name, call in not_yet.items():
            self.assertFailed(call(), mt5.RES_E_UNSUPPORTED, f"{name} is not available yet")
        for call in (mt5.market_book_add, mt5.market_book_get, mt5.market_book_release):
            self.assertFailed(call("EURUSD"), mt5.RES_E_UNSUPPORTED, "market depth")


if __name__ == "__main__":
    live("MT5BRIDGE_TEST_URL")
    unittest.main()
