"""The constants: MetaTrader5's names and values, checked against the values the MQL5 reference
prints and against the repository's own TypeScript tables, which were written separately."""

from __future__ import annotations

import unittest

import mt5bridge as mt5
from mt5bridge import constants
from support import repo_file, ts_object

FAMILIES = ("TIMEFRAME_", "COPY_TICKS_", "TICK_FLAG_", "POSITION_", "ORDER_", "DEAL_",
            "TRADE_ACTION_", "SYMBOL_", "DAY_OF_WEEK_", "ACCOUNT_", "BOOK_TYPE_", "TRADE_RETCODE_",
            "RES_")


def module_constants() -> dict:
    return {name: value for name, value in vars(constants).items() if name.isupper()}


class ConstantsTest(unittest.TestCase):
    def test_every_constant_is_exported_by_the_package(self) -> None:
        for name, value in module_constants().items():
            self.assertEqual(getattr(mt5, name), value, name)
            self.assertIs(type(value), int, name)

    def test_only_metatrader5_families(self) -> None:
        strays = [name for name in module_constants() if not name.startswith(FAMILIES)]
        self.assertEqual(strays, [])
        # The MetaTrader5 module has no SYMBOL_FILLING_* flags; code relying on them must fail
        # here as it would on Windows
        self.assertFalse(any(name.startswith("SYMBOL_FILLING_") for name in dir(mt5)))

    def test_timeframes_as_the_module_numbers_them(self) -> None:
        self.assertEqual(
            [mt5.TIMEFRAME_M1, mt5.TIMEFRAME_M30, mt5.TIMEFRAME_H1, mt5.TIMEFRAME_H4,
             mt5.TIMEFRAME_H12, mt5.TIMEFRAME_D1, mt5.TIMEFRAME_W1, mt5.TIMEFRAME_MN1],
            [1, 30, 16385, 16388, 16396, 16408, 32769, 49153])
        self.assertEqual(len([n for n in module_constants() if n.startswith("TIMEFRAME_")]), 21)

    def test_values_from_the_reference(self) -> None:
        self.assertEqual(
            (mt5.TRADE_ACTION_DEAL, mt5.TRADE_ACTION_PENDING, mt5.TRADE_ACTION_SLTP,
             mt5.TRADE_ACTION_MODIFY, mt5.TRADE_ACTION_REMOVE, mt5.TRADE_ACTION_CLOSE_BY),
            (1, 5, 6, 7, 8, 10))
        self.assertEqual((mt5.ORDER_TYPE_BUY, mt5.ORDER_TYPE_SELL, mt5.ORDER_TYPE_CLOSE_BY),
                         (0, 1, 8))
        self.assertEqual((mt5.ORDER_FILLING_FOK, mt5.ORDER_FILLING_IOC,
                          mt5.ORDER_FILLING_RETURN, mt5.ORDER_FILLING_BOC), (0, 1, 2, 3))
        self.assertEqual((mt5.ORDER_TIME_GTC, mt5.ORDER_TIME_SPECIFIED_DAY), (0, 3))
        self.assertEqual((mt5.COPY_TICKS_ALL, mt5.COPY_TICKS_INFO, mt5.COPY_TICKS_TRADE),
                         (-1, 1, 2))
        self.assertEqual((mt5.TICK_FLAG_BID, mt5.TICK_FLAG_SELL), (2, 64))
        self.assertEqual((mt5.DEAL_TYPE_SELL_CANCELED, mt5.DEAL_DIVIDEND, mt5.DEAL_TAX),
                         (14, 15, 17))
        self.assertEqual((mt5.DEAL_ENTRY_OUT_BY, mt5.DEAL_REASON_SPLIT, mt5.ORDER_REASON_SO),
                         (3, 9, 6))
        self.assertEqual((mt5.ORDER_STATE_REQUEST_CANCEL, mt5.POSITION_REASON_EXPERT), (9, 3))
        self.assertEqual((mt5.SYMBOL_CALC_MODE_EXCH_STOCKS, mt5.SYMBOL_CALC_MODE_SERV_COLLATERAL),
                         (32, 64))
        self.assertEqual((mt5.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING, mt5.ACCOUNT_TRADE_MODE_REAL),
                         (2, 2))
        self.assertEqual((mt5.BOOK_TYPE_SELL, mt5.BOOK_TYPE_BUY_MARKET), (1, 4))
        self.assertEqual(
            (mt5.RES_S_OK, mt5.RES_E_FAIL, mt5.RES_E_INVALID_PARAMS, mt5.RES_E_NOT_FOUND,
             mt5.RES_E_AUTH_FAILED, mt5.RES_E_UNSUPPORTED, mt5.RES_E_AUTO_TRADING_DISABLED,
             mt5.RES_E_INTERNAL_FAIL, mt5.RES_E_INTERNAL_FAIL_CONNECT,
             mt5.RES_E_INTERNAL_FAIL_TIMEOUT),
            (1, -1, -2, -4, -6, -7, -8, -10000, -10004, -10005))

    def test_retcodes_match_the_gateways_table(self) -> None:
        # shared/protocol/retcodes.ts is the gateway's ENUM_TRADE_RETURN_CODES; CHECK_OK (0) is
        # order_check's success, which has no TRADE_RETCODE_ name in MetaTrader5
        theirs = {f"TRADE_RETCODE_{name}": int(value) for name, value
                  in ts_object(repo_file("retcodes.ts"), "Retcode").items()
                  if name != "CHECK_OK"}
        ours = {name: value for name, value in module_constants().items()
                if name.startswith("TRADE_RETCODE_")}
        self.assertEqual(ours, theirs)


if __name__ == "__main__":
    unittest.main()
