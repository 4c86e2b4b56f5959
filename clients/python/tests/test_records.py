"""The named tuples: MetaTrader5's field names in MetaTrader5's order, as the MetaTrader5
documentation's examples print them (`print(mt5.account_info())`, `_asdict()` loops), and
tuple behaviour (`_asdict()`, unpacking, equality) as MetaTrader5's records have it."""

from __future__ import annotations

import re
import unittest

import mt5bridge as mt5

# Printed by the examples of mql5.com/en/docs/integration/python_metatrader5 (values removed)
PRINTED = {
    mt5.AccountInfo: "AccountInfo(login, trade_mode, leverage, limit_orders, margin_so_mode, "
    "trade_allowed, trade_expert, margin_mode, currency_digits, fifo_close, balance, credit, "
    "profit, equity, margin, margin_free, margin_level, margin_so_call, margin_so_so, "
    "margin_initial, margin_maintenance, assets, liabilities, commission_blocked, name, server, "
    "currency, company)",
    mt5.TerminalInfo: "TerminalInfo(community_account, community_connection, connected, "
    "dlls_allowed, trade_allowed, tradeapi_disabled, email_enabled, ftp_enabled, "
    "notifications_enabled, mqid, build, maxbars, codepage, ping_last, community_balance, "
    "retransmission, company, name, language, path, data_path, commondata_path)",
    mt5.Tick: "Tick(time, bid, ask, last, volume, time_msc, flags, volume_real)",
    mt5.TradePosition: "TradePosition(ticket, time, time_msc, time_update, time_update_msc, "
    "type, magic, identifier, reason, volume, price_open, sl, tp, price_current, swap, profit, "
    "symbol, comment, external_id)",
    mt5.TradeOrder: "TradeOrder(ticket, time_setup, time_setup_msc, time_done, time_done_msc, "
    "time_expiration, type, type_time, type_filling, state, magic, position_id, position_by_id, "
    "reason, volume_initial, volume_current, price_open, sl, tp, price_current, price_stoplimit, "
    "symbol, comment, external_id)",
    mt5.TradeDeal: "TradeDeal(ticket, order, time, time_msc, type, entry, magic, position_id, "
    "reason, volume, price, commission, swap, profit, fee, symbol, comment, external_id)",
    mt5.TradeRequest: "TradeRequest(action, magic, order, symbol, volume, price, stoplimit, sl, "
    "tp, deviation, type, type_filling, type_time, expiration, comment, position, position_by)",
    mt5.OrderCheckResult: "OrderCheckResult(retcode, balance, equity, profit, margin, "
    "margin_free, margin_level, comment, request)",
    mt5.OrderSendResult: "OrderSendResult(retcode, deal, order, volume, price, bid, ask, comment, "
    "request_id, retcode_external, request)",
}

# mt5symbolinfo_py prints all 96 fields of symbol_info("EURCAD")._asdict() in this order
SYMBOL_FIELDS = (
    "custom chart_mode select visible session_deals session_buy_orders session_sell_orders "
    "volume volumehigh volumelow time digits spread spread_float ticks_bookdepth trade_calc_mode "
    "trade_mode start_time expiration_time trade_stops_level trade_freeze_level trade_exemode "
    "swap_mode swap_rollover3days margin_hedged_use_leg expiration_mode filling_mode order_mode "
    "order_gtc_mode option_mode option_right bid bidhigh bidlow ask askhigh asklow last lasthigh "
    "lastlow volume_real volumehigh_real volumelow_real option_strike point trade_tick_value "
    "trade_tick_value_profit trade_tick_value_loss trade_tick_size trade_contract_size "
    "trade_accrued_interest trade_face_value trade_liquidity_rate volume_min volume_max "
    "volume_step volume_limit swap_long swap_short margin_initial margin_maintenance "
    "session_volume session_turnover session_interest session_buy_orders_volume "
    "session_sell_orders_volume session_open session_close session_aw session_price_settlement "
    "session_price_limit_min session_price_limit_max margin_hedged price_change "
    "price_volatility price_theoretical price_greeks_delta price_greeks_theta "
    "price_greeks_gamma price_greeks_vega price_greeks_rho price_greeks_omega price_sensitivity "
    "basis category currency_base currency_profit currency_margin bank description exchange "
    "formula isin name page path").split()


class RecordsTest(unittest.TestCase):
    def test_field_names_and_order(self) -> None:
        for record, printed in PRINTED.items():
            name, fields = re.fullmatch(r"(\w+)\((.*)\)", printed).groups()  # type: ignore
            self.assertEqual(record.__name__, name)
            self.assertEqual(record._fields, tuple(fields.split(", ")), name)
        self.assertEqual(len(SYMBOL_FIELDS), 96)
        self.assertEqual(mt5.SymbolInfo._fields, tuple(SYMBOL_FIELDS))

    def test_behaves_as_metatrader5_records(self) -> None:
        tick = mt5.Tick(1700000000, 1.1, 1.2, 0.0, 0, 1700000000123, 6, 0.0)
        time, bid, ask, *_ = tick
        self.assertEqual((time, bid, ask), (1700000000, 1.1, 1.2))
        self.assertEqual(tick._asdict()["time_msc"], 1700000000123)
        self.assertEqual(repr(tick).split("(")[0], "Tick")

    def test_order_send_result_keeps_the_bridge_apart_from_the_fields(self) -> None:
        request = mt5.TradeRequest(*([0] * 3), "EURUSD", *([0.0] * 5), *([0] * 5), "", 0, 0)
        result = mt5.OrderSendResult(10009, 5, 6, 0.1, 1.1, 1.1, 1.2, "Request executed", 0, 0,
                                     request).with_order("py-1", "FILLED", "gtw-1")
        self.assertEqual(list(result._asdict()), list(mt5.OrderSendResult._fields))
        self.assertIs(result._asdict()["request"], request)
        self.assertEqual((result.client_order_id, result.outcome, result.gateway),
                         ("py-1", "FILLED", "gtw-1"))
        self.assertEqual(result, (10009, 5, 6, 0.1, 1.1, 1.1, 1.2, "Request executed", 0, 0,
                                  request))
        self.assertTrue(repr(result).startswith("OrderSendResult(retcode=10009, deal=5"))


if __name__ == "__main__":
    unittest.main()
