"""Answers the real agents cannot be made to give on demand, from a scripted stand-in for
agent-inf's HTTP API (standard library http.server on 127.0.0.1): an order whose outcome stays
unknown, an agent that fails mid-order, one that does not answer in time, one that answers
garbage. The live tests (live_*.py) cover everything else against the real agents."""

from __future__ import annotations

import json
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Tuple

import mt5bridge as mt5
from mt5bridge.session import current
from support import BridgeTestCase

Answer = Tuple[int, Any]
ACCOUNT = {"login": 5000001, "server": "SimBroker-Demo", "name": "Sim", "currency": "USD",
           "balance": 1000.0, "equity": 1000.0, "profit": 0.0, "margin": 0.0,
           "margin_free": 1000.0, "margin_level": 0.0, "leverage": 100, "margin_mode": "HEDGING",
           "trade_allowed": True, "margin_so_call": 100.0, "margin_so_so": 50.0}


class FakeAgent:
    """agent-inf's routes as scripted answers; every request is recorded."""

    def __init__(self) -> None:
        self.routes: Dict[str, Callable[[Dict[str, Any]], Answer]] = {
            "GET /v1/health": lambda _: (200, {"status": "ok", "version": "9.9.9",
                                               "agent": "fake", "gateways": []}),
            "GET /v1/account": lambda _: (200, {"gateway": "gtw-1", "account": ACCOUNT}),
        }
        self.requests: List[Tuple[str, Dict[str, Any]]] = []
        self.extra_headers: Any = None
        agent = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.answer()

            def do_POST(self) -> None:
                self.answer()

            def answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                route = f"{self.command} {self.path.split('?')[0]}"
                agent.requests.append((route, body))
                handler = agent.routes.get(route) or next(
                    (h for key, h in agent.routes.items()
                     if key.endswith("*") and route.startswith(key[:-1])), None)
                status, payload = handler(body) if handler else (404, {"error": {
                    "code": "NOT_FOUND", "message": route}})
                raw = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    if agent.extra_headers is not None:
                        agent.extra_headers(self)
                    self.send_header("Content-Type", "text/plain" if isinstance(payload, str)
                                     else "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting, which is what the slow tests want

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def posted(self, route: str) -> List[Dict[str, Any]]:
        return [body for key, body in self.requests if key == route]


BUY = {"action": mt5.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 0.1,
       "type": mt5.ORDER_TYPE_BUY, "sl": 1.05}


def unknown(body: Dict[str, Any]) -> Answer:
    return 504, {"outcome": "UNKNOWN", "gateway": "gtw-1",
                 "client_order_id": body["client_order_id"], "reason": "no reply"}


class FakeAgentTest(BridgeTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.agent = FakeAgent()
        self.addCleanup(self.agent.close)

    def start(self, **options: Any) -> None:
        self.assertTrue(mt5.initialize(url=self.agent.url, **options), mt5.last_error())
        client = current().client
        client.retry_delay, client.settle_timeout = 0.01, 0.3

    def test_an_unknown_outcome_is_none_never_a_second_id(self) -> None:
        self.agent.routes["POST /v1/orders"] = unknown
        self.agent.routes["GET /v1/orders/*"] = lambda _: (504, {"error": {
            "code": "GATEWAY_UNREACHABLE", "message": "no answer"}})
        self.start()

        result = mt5.order_send(BUY)

        self.assertFailed(result, mt5.RES_E_INTERNAL_FAIL_TIMEOUT, "order outcome unknown")
        ids = {body["client_order_id"] for body in self.agent.posted("POST /v1/orders")}
        self.assertEqual(len(self.agent.posted("POST /v1/orders")), 4)  # 1 + 3 retries
        self.assertEqual(len(ids), 1)
        self.assertIn(repr(ids.pop()), mt5.last_error()[1])

    def test_your_id_is_the_one_sent(self) -> None:
        self.agent.routes["POST /v1/orders"] = unknown
        self.agent.routes["GET /v1/orders/*"] = lambda _: (404, {"gateway": "g", "order": None})
        self.start()

        self.assertIsNone(mt5.order_send({**BUY, "client_order_id": "mine-1"}))

        self.assertEqual({b["client_order_id"] for b in self.agent.posted("POST /v1/orders")},
                         {"mine-1"})
        self.assertIn("never seen by the gateway", mt5.last_error()[1])

    def test_a_failure_mid_order_is_retried_with_the_same_id(self) -> None:
        answers = iter([(500, "internal error"),
                        (200, {"outcome": "FILLED", "gateway": "gtw-1", "client_order_id": "",
                               "reply": {"status": "FILLED", "retcode": 10009, "ticket": 7,
                                         "deal": 8, "order": 7, "volume": 0.1, "price": 1.1,
                                         "bid": 1.09, "ask": 1.1, "duplicate": True}})])

        def order(body: Dict[str, Any]) -> Answer:
            status, payload = next(answers)
            if isinstance(payload, dict):
                payload["client_order_id"] = body["client_order_id"]
            return status, payload

        self.agent.routes["POST /v1/orders"] = order
        self.start()

        result = mt5.order_send(BUY)

        assert result is not None, mt5.last_error()
        self.assertEqual((result.retcode, result.order, result.deal), (10009, 7, 8))
        bodies = self.agent.posted("POST /v1/orders")
        self.assertEqual(len({body["client_order_id"] for body in bodies}), 1)
        self.assertEqual(len(bodies), 2)

    def test_nothing_sent_is_connection_and_not_retried(self) -> None:
        self.agent.routes["POST /v1/orders"] = lambda body: (502, {
            "outcome": "ERROR", "gateway": "gtw-1", "client_order_id": body["client_order_id"],
            "reply": {"status": "ERROR", "error_code": "GATEWAY_UNREACHABLE",
                      "error_msg": "no session; nothing was sent"}})
        self.start()

        result = mt5.order_send(BUY)

        assert result is not None
        self.assertEqual(result.retcode, mt5.TRADE_RETCODE_CONNECTION)
        self.assertEqual(result.outcome, "ERROR")
        self.assertIn("nothing was sent", result.comment)
        self.assertEqual(len(self.agent.posted("POST /v1/orders")), 1)

    def test_an_agent_too_slow_is_a_timeout(self) -> None:
        self.start(timeout=300)
        self.agent.routes["GET /v1/account"] = lambda _: (time.sleep(1.0), (200, {}))[1]
        current().client.retries = 0

        self.assertFailed(mt5.account_info(), mt5.RES_E_INTERNAL_FAIL_TIMEOUT, "not reachable")

    def test_a_garbled_answer_is_an_internal_failure_not_a_crash(self) -> None:
        self.start()
        self.agent.routes["GET /v1/account"] = lambda _: (200, "<html>proxy</html>")
        self.assertFailed(mt5.account_info(), mt5.RES_E_INTERNAL_FAIL, "unexpected answer")
        self.agent.routes["GET /v1/account"] = lambda _: (200, {"gateway": "g", "account": {}})
        self.assertFailed(mt5.account_info(), mt5.RES_E_INTERNAL_FAIL, "KeyError")

    def test_an_agent_that_went_away_means_not_sent_at_once(self) -> None:
        self.start()
        self.agent.close()
        started = time.monotonic()

        self.assertFailed(mt5.order_send(BUY), mt5.RES_E_INTERNAL_FAIL_CONNECT,
                          "the order was not sent")
        # No 30 s of asking the journal: a refused connection carried nothing
        self.assertLess(time.monotonic() - started, 5)

    def test_a_redirect_is_not_followed_with_the_token(self) -> None:
        elsewhere = FakeAgent()
        self.addCleanup(elsewhere.close)
        self.agent.routes["GET /v1/account"] = lambda _: (302, "moved")
        self.agent.routes["GET /v1/health"] = lambda _: (307, "moved")

        def redirect(answer: Any) -> None:
            # http.server sends the Location header from here; the body says where too
            answer.send_header("Location", f"{elsewhere.url}/v1/health")

        self.agent.extra_headers = redirect
        self.assertFailed(mt5.initialize(url=self.agent.url, token="secret"),
                          mt5.RES_E_INTERNAL_FAIL, "307")
        self.assertEqual(elsewhere.requests, [])

    def test_symbol_info_tick_is_the_last_tick_in_server_time(self) -> None:
        # A broker at UTC+2 that also trades: MqlTick as the terminal has it, server time
        tick = {"time": 1795010400, "bid": 1.1, "ask": 1.1002, "last": 1.1001, "volume": 3,
                "time_msc": 1795010400250, "flags": 2 | 4 | 8 | 16, "volume_real": 3.0}
        self.agent.routes["GET /v1/ticks/EURUSD/last"] = lambda _: (200, {
            "gateway": "gtw-1", "symbol": "EURUSD", "tick": tick})
        self.start()

        self.assertEqual(mt5.symbol_info_tick("EURUSD"), mt5.Tick(**tick))

    def test_initialize_reports_the_agents_version(self) -> None:
        self.start()
        self.assertEqual(mt5.version(), (500, 0, "agent-inf 9.9.9"))


if __name__ == "__main__":
    unittest.main()
