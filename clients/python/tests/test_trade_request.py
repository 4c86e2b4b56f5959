"""order_send's request dict: what MetaTrader5 accepts is read as MetaTrader5 reads it, what it
would misread is refused before anything is sent; and every risk denial agent-inf can answer has
a retcode chosen for it. Also MetaTrader5's group filter."""

from __future__ import annotations

import json
import unittest
from datetime import datetime, timezone

import mt5bridge as mt5
from mt5bridge.groups import compile_group
from mt5bridge.session import BridgeError
from mt5bridge.results import DENIAL_RETCODES
from mt5bridge.request import parse_request
from support import repo_file, ts_object


class RequestTest(unittest.TestCase):
    def refused(self, request: object, fragment: str) -> None:
        with self.assertRaises(BridgeError) as caught:
            parse_request(request)
        self.assertEqual(caught.exception.code, mt5.RES_E_INVALID_PARAMS)
        self.assertIn(fragment, caught.exception.message)

    def test_absent_fields_are_metatrader5_zeros(self) -> None:
        trade, client_order_id, given = parse_request(
            {"action": mt5.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 1,
             "type": mt5.ORDER_TYPE_SELL, "expiration": datetime(2030, 1, 1, tzinfo=timezone.utc)})
        self.assertEqual(trade, mt5.TradeRequest(
            action=1, magic=0, order=0, symbol="EURUSD", volume=1.0, price=0.0, stoplimit=0.0,
            sl=0.0, tp=0.0, deviation=0, type=1, type_filling=0, type_time=0,
            expiration=1893456000, comment="", position=0, position_by=0))
        self.assertIsInstance(trade.volume, float)
        self.assertIsNone(client_order_id)
        self.assertEqual(set(given), {"action", "symbol", "volume", "type", "expiration"})

    def test_malformed_requests_are_refused_with_the_field(self) -> None:
        self.refused([("action", 1)], "must be a dict")
        self.refused({"action": 1, "stop_loss": 1.0}, "unknown request field(s) stop_loss")
        self.refused({"action": True}, "action must be an integer")
        self.refused({"action": 1, "volume": "0.1"}, "volume must be a number")
        self.refused({"action": 1, "volume": True}, "volume must be a number")
        self.refused({"action": 1, "sl": float("nan")}, "sl must be a finite number")
        self.refused({"action": 1, "tp": -1.0}, "tp must be a finite number ≥ 0")
        self.refused({"action": 1, "position": -5}, "position must not be negative")
        self.refused({"action": 1, "symbol": 7}, "symbol must be a string")
        self.refused({"action": 1, "client_order_id": "has space"}, "client_order_id must be")
        self.refused({"action": 1, "client_order_id": "x" * 25}, "client_order_id must be")

    def test_your_own_client_order_id(self) -> None:
        _, client_order_id, _ = parse_request({"action": 1, "client_order_id": "strat-0001"})
        self.assertEqual(client_order_id, "strat-0001")

    def test_every_risk_denial_has_a_retcode(self) -> None:
        codes = set(ts_object(repo_file("denial.ts"), "DenialCode"))
        self.assertGreater(len(codes), 20)
        self.assertEqual(set(DENIAL_RETCODES), codes)
        retcodes = {value for name, value in vars(mt5).items()
                    if name.startswith("TRADE_RETCODE_")}
        self.assertLessEqual(set(DENIAL_RETCODES.values()), retcodes)

    def test_documented_in_python_md(self) -> None:
        page = repo_file("PYTHON.md")
        for code in DENIAL_RETCODES:
            self.assertIn(f"`{code}`", page)


class GroupTest(unittest.TestCase):
    NAMES = ["EURUSD", "GBPUSD", "USDJPY", "EURJPY", "XAUUSD", "US500"]

    def selected(self, group: str) -> list:
        matches = compile_group(group)
        return [name for name in self.NAMES if matches(name)]

    def test_masks_and_exclusions_in_order(self) -> None:
        self.assertEqual(self.selected("*"), self.NAMES)
        self.assertEqual(self.selected("EURUSD"), ["EURUSD"])
        self.assertEqual(self.selected("eurusd"), ["EURUSD"])
        self.assertEqual(self.selected("*JPY*"), ["USDJPY", "EURJPY"])
        self.assertEqual(self.selected("EUR*"), ["EURUSD", "EURJPY"])
        self.assertEqual(self.selected("*,!*USD*"), ["EURJPY", "US500"])
        self.assertEqual(self.selected("*USD*, !EUR*, !XAU*"), ["GBPUSD", "USDJPY"])
        # Conditions apply in order: an exclusion before the inclusion is undone by it
        self.assertEqual(self.selected("!*USD*,*"), self.NAMES)

    def test_malformed_groups(self) -> None:
        for group in ("", ",", "*,!", "EUR!USD"):
            with self.assertRaises(ValueError, msg=group):
                compile_group(group)

    def test_the_gateways_table(self) -> None:
        """The same cases as the gateway's matcher (shared/protocol/symbol-group.test.ts)."""
        table = json.loads(repo_file("symbol-group-cases.json"))
        for group, expected in table["selects"]:
            matches = compile_group(group)
            self.assertEqual([n for n in table["symbols"] if matches(n)], expected, msg=group)
        for group in table["refuses"]:
            with self.assertRaises(ValueError, msg=group):
                compile_group(group)


if __name__ == "__main__":
    unittest.main()
