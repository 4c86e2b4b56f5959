"""AsyncClient against the real agents: awaited calls and orders, the stream of quotes and trade
events as an async iterator, and watch(), which follows the stream in the background while the
event loop (a notebook's, say) stays free."""

from __future__ import annotations

import asyncio
import unittest
from typing import List

import mt5bridge as mt5
from mt5bridge import AsyncClient, StreamMessage
from support import live, url

WAIT = 15.0


class AsyncClientTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self) -> None:
        self.client = AsyncClient(url())

    async def test_calls_and_orders(self) -> None:
        account = await self.client.account()
        info = await self.client.symbol_info("EURUSD")
        opened = await self.client.open("EURUSD", "BUY", 0.02, sl=round(info["bid"] - 0.005, 5))
        closed = await self.client.close(opened.ticket) if opened.ticket else None

        self.assertEqual(account["currency"], "USD")
        self.assertEqual(opened.outcome, "FILLED", opened)
        assert closed is not None
        self.assertEqual((closed.outcome, closed.reply["remaining_volume"]),  # type: ignore
                         ("FILLED", 0))
        with self.assertRaises(mt5.NotFound) as caught:
            await self.client.symbol_info("NOPE")
        self.assertEqual(caught.exception.code, "UNKNOWN_SYMBOL")

    async def test_stream_of_quotes_and_trade_events(self) -> None:
        seen: List[StreamMessage] = []
        ticket = 0

        async def follow() -> None:
            nonlocal ticket
            async for message in self.client.stream(quotes=["EURUSD"], events=True):
                seen.append(message)
                events = [m.event for m in seen]
                if message.event == "QUOTE" and ticket == 0:
                    # Trade from the same loop while the stream is open
                    result = await self.client.open("EURUSD", "SELL", 0.01,
                                                    sl=round(message.data["ask"] + 0.005, 5))
                    self.assertTrue(result.filled, result)
                    ticket = int(result.ticket or 0)
                    closed = await self.client.close(ticket)
                    self.assertTrue(closed.filled, closed)
                if "POSITION_CLOSED" in events and message.event == "POSITION_CLOSED":
                    return

        await asyncio.wait_for(follow(), WAIT)

        self.assertEqual(seen[0].event, "SNAPSHOT")
        self.assertEqual(seen[0].data["state"], "LIVE")
        quote = next(m for m in seen if m.event == "QUOTE")
        self.assertEqual(quote.data["symbol"], "EURUSD")
        self.assertIsNone(quote.id)
        deals = [m for m in seen if m.event == "DEAL" and m.data["deal"]["position"] == ticket]
        self.assertEqual([d.data["deal"]["entry"] for d in deals], ["IN", "OUT"])
        closed = [m for m in seen if m.event == "POSITION_CLOSED"][-1]
        self.assertEqual((closed.data["ticket"], closed.data["reason"]), (ticket, "EXPERT"))
        # Trade events carry ids that go up by one (docs/API.md §9.3)
        numbers = [int(str(m.id).split("-")[1]) for m in seen if m.id is not None][-3:]
        self.assertEqual(numbers, list(range(numbers[0], numbers[0] + 3)))

    async def test_watch_leaves_the_loop_free(self) -> None:
        streamed: List[StreamMessage] = []
        watch = self.client.watch(["EURUSD", "GBPUSD"], events=True,
                                  on_message=lambda m: streamed.append(m) if m.event == "QUOTE"
                                  else None)
        self.addCleanup(watch.stop)
        # It returned before reading anything: the caller (a notebook cell) is done
        self.assertEqual(watch.quotes, {})
        self.assertTrue(watch.running)

        # The loop keeps turning while quotes arrive over time (the sim ticks every 250 ms)
        turns = 0
        deadline = asyncio.get_running_loop().time() + WAIT
        while len(streamed) < 3:
            self.assertLess(asyncio.get_running_loop().time(), deadline, watch.error)
            turns += 1
            await asyncio.sleep(0.01)

        self.assertGreater(turns, 10)
        self.assertEqual({"EURUSD", "GBPUSD"}, set(watch.quotes))
        self.assertEqual(watch.state, "LIVE")
        self.assertLess(watch.quotes["EURUSD"]["bid"], watch.quotes["EURUSD"]["ask"])
        watch.stop()
        await asyncio.wait([watch.task], timeout=WAIT)  # type: ignore[list-item]
        self.assertFalse(watch.running)
        self.assertIsNone(watch.error)

    async def test_market_data_as_coroutines(self) -> None:
        bars, ticks, last, symbols, total = await asyncio.gather(
            self.client.rates("EURUSD", "M5", count=50),
            self.client.ticks("EURUSD", "2026-11-04T10:00:00Z", count=20),
            self.client.last_tick("EURUSD"),
            self.client.symbols(group="EUR*"),
            self.client.symbols_total())
        deals = await self.client.history_deals(date_from="2026-11-01")

        self.assertEqual(len(bars), 50)
        self.assertEqual(len(ticks), 20)
        self.assertLess(last["bid"], last["ask"])
        self.assertEqual([s["symbol"] for s in symbols], ["EURUSD"])
        self.assertGreaterEqual(total, len(symbols))
        self.assertIsInstance(deals, list)
        with self.assertRaises(mt5.InvalidRequest) as refused:
            await self.client.rates("EURUSD", "M7", count=3)
        self.assertEqual(refused.exception.code, "INVALID_TIMEFRAME")

    async def test_a_refused_watch_reports_why(self) -> None:
        received: List[StreamMessage] = []
        watch = self.client.watch(["NOPE"], on_message=received.append)
        with self.assertLogs("mt5bridge", "ERROR") as logged:
            await asyncio.wait([watch.task], timeout=WAIT)  # type: ignore[list-item]

        self.assertIn("UNKNOWN_SYMBOL", logged.output[0])

        self.assertFalse(watch.running)
        self.assertIsInstance(watch.error, mt5.NotFound)
        self.assertEqual(watch.error.code, "UNKNOWN_SYMBOL")  # type: ignore[union-attr]
        self.assertEqual(received, [])

    async def test_refusals_and_an_agent_that_is_gone(self) -> None:
        with self.assertRaises(mt5.InvalidRequest):
            async for _ in self.client.stream(quotes=[], events=False):
                break
        dead = AsyncClient("http://127.0.0.1:9", timeout=2.0)
        with self.assertRaises(mt5.ApiUnreachable):
            async for _ in dead.stream(quotes=["EURUSD"], reconnect=False):
                break


if __name__ == "__main__":
    live("MT5BRIDGE_TEST_URL")
    unittest.main()
