"""The native blocking Client against the real agents: every route of agent-inf's API, order
outcomes as values (FILLED, DENIED), and the typed exceptions for everything else."""

from __future__ import annotations

import unittest

from mt5bridge import (
    KEEP,
    Client,
    InvalidRequest,
    NotFound,
    UnknownGateway,
)
from support import live, url


class ClientTest(unittest.TestCase):
    def setUp(self) -> None:
        self.client = Client(url())
        self.addCleanup(self.client.set_trading_state, "ACTIVE")
        self.addCleanup(self.client.reset_breaker)

    def test_every_route(self) -> None:
        c = self.client
        quote = c.symbol_info("EURUSD")
        opened = c.open("EURUSD", "BUY", 0.1 + 0.2, sl=round(quote["bid"] - 0.01, 5), comment="py")
        self.assertEqual((opened.outcome, opened.http_status), ("FILLED", 200))
        assert opened.reply is not None and opened.ticket is not None
        self.assertEqual(opened.reply["volume"], 0.3)  # rounded: 0.1 + 0.2 is 0.30000000000000004
        self.assertEqual([p["ticket"] for p in c.positions("EURUSD")], [opened.ticket])
        self.assertEqual(c.get_order(opened.client_order_id)["state"], "FILLED")  # type: ignore
        self.assertIsNone(c.get_order("never-sent"))
        # KEEP leaves the SL (which this agent-inf requires), a price sets the TP
        tp = round(quote["ask"] + 0.01, 5)
        modified = c.modify(opened.ticket, sl=KEEP, tp=tp)
        self.assertEqual(modified.outcome, "FILLED", modified)
        self.assertEqual(c.positions("EURUSD")[0]["tp"], tp)
        self.assertEqual(c.modify(opened.ticket, sl=None).code, "SL_REQUIRED")
        closed = c.close(opened.ticket)
        self.assertEqual((closed.outcome, closed.reply["remaining_volume"]),  # type: ignore
                         ("FILLED", 0))
        denied = c.open("EURUSD", "SELL", 11, sl=round(quote["ask"] + 0.01, 5))
        self.assertEqual((denied.outcome, denied.http_status, denied.code),
                         ("DENIED", 422, "VOLUME_ABOVE_MAX"))
        self.assertEqual(c.account()["currency"], "USD")
        self.assertEqual(c.health()["status"], "ok")
        state = c.set_trading_state("REDUCING", reason="py test")
        self.assertEqual(state["gateways"][0]["trading_state"], "REDUCING")
        self.assertTrue(c.engage_breaker("py drill")["gateways"][0]["breaker"]["engaged"])
        self.assertFalse(c.reset_breaker()["gateways"][0]["breaker"]["engaged"])
        self.assertIn("agent_inf_orders_total", c.metrics())

    def test_typed_errors(self) -> None:
        c = self.client
        with self.assertRaises(InvalidRequest) as bad:
            c.open("EURUSD", "BUY", 0)
        self.assertEqual((bad.exception.status, bad.exception.field), (400, "volume"))
        with self.assertRaises(NotFound) as symbol:
            c.symbol_info("NOPE")
        self.assertEqual((symbol.exception.status, symbol.exception.code), (404, "UNKNOWN_SYMBOL"))
        with self.assertRaises(UnknownGateway) as gateway:
            c.account(gateway="nowhere")
        self.assertEqual((gateway.exception.code, gateway.exception.field),
                         ("UNKNOWN_GATEWAY", "gateway"))


if __name__ == "__main__":
    live("MT5BRIDGE_TEST_URL")
    unittest.main()
