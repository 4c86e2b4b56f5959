"""Reading streamed market answers without agents: rows in batches, the end line's count, an
answer cut short (no end line, a broken transfer) as an error and never a shorter result, and
MetaTrader5's dtypes with and without numpy."""

from __future__ import annotations

import http.client
import io
import unittest
from typing import Any, List

from mt5bridge import market
from mt5bridge.errors import ApiUnreachable

HEAD = ('{"gateway":"g","symbol":"EURUSD","timeframe":"M1","fields":["time","open","high","low",'
        '"close","tick_volume","spread","real_volume"],"rates":[\n')


def rows(count: int, start: int = 1795000000) -> List[str]:
    lines = [f"[{start + 60 * i},1.1,1.2,1.0,1.15,{i},10,0]" for i in range(count)]
    return [line + ",\n" for line in lines[:-1]] + [lines[-1] + "\n"] if lines else []


class Broken(io.BytesIO):
    """A response whose transfer breaks after its bytes, as http.client reports a cut chunk."""

    def readline(self, limit: Any = -1) -> bytes:
        line = super().readline(limit)
        if not line:
            raise http.client.IncompleteRead(b"")
        return line


class AnswerTest(unittest.TestCase):
    def answer(self, text: str, broken: bool = False) -> market.Answer:
        body = (Broken if broken else io.BytesIO)(text.encode())
        return market.Answer(body, "rates")

    def test_rows_in_batches_with_the_head_and_count(self) -> None:
        count = market.BATCH_ROWS + 7
        answer = self.answer(HEAD + "".join(rows(count)) + f'],"count":{count}}}\n')
        batches = list(answer.batches())
        self.assertEqual(answer.head["symbol"], "EURUSD")
        self.assertEqual(answer.head["fields"][0], "time")
        self.assertEqual([len(batch) for batch in batches], [market.BATCH_ROWS, 7])
        self.assertEqual(batches[1][-1][0], 1795000000 + 60 * (count - 1))

    def test_empty_answer(self) -> None:
        answer = self.answer(HEAD + '],"count":0}\n')
        self.assertEqual(list(answer.batches()), [])

    def test_cut_short_is_an_error(self) -> None:
        no_end = self.answer(HEAD + "".join(rows(3))[:-1] + ",\n")
        with self.assertRaisesRegex(ApiUnreachable, "cut short"):
            list(no_end.batches())
        broken = self.answer(HEAD + "".join(rows(3)), broken=True)
        with self.assertRaises(ApiUnreachable):
            list(broken.batches())
        miscounted = self.answer(HEAD + "".join(rows(3)) + '],"count":4}\n')
        with self.assertRaisesRegex(ApiUnreachable, "counted 4 rows, 3 arrived"):
            list(miscounted.batches())

    def test_not_an_answer(self) -> None:
        with self.assertRaises(ApiUnreachable):
            self.answer('{"error":{"code":"X"}}\n')


class TableTest(unittest.TestCase):
    def setUp(self) -> None:
        self.opened: List[str] = []
        self.text = HEAD + "".join(rows(3)) + '],"count":3}\n'

        def fake_open(client: Any, path: str, query: Any, key: str) -> market.Answer:
            self.opened.append(path)
            return market.Answer(io.BytesIO(self.text.encode()), key)

        self.real_open = market.open_answer
        market.open_answer = fake_open  # type: ignore[assignment]
        self.addCleanup(setattr, market, "open_answer", self.real_open)

    def test_numpy_structured_array_with_metatrader5s_dtype(self) -> None:
        np = market.numpy_module()
        if np is None:
            self.skipTest("numpy is not installed")
        rates = market.read_table(None, "/v1/rates/EURUSD", {}, "rates", market.RATES_DTYPE)
        self.assertEqual(rates.dtype.names, ("time", "open", "high", "low", "close",
                                             "tick_volume", "spread", "real_volume"))
        self.assertEqual(rates.dtype["time"], np.dtype("<i8"))
        self.assertEqual(rates.dtype["tick_volume"], np.dtype("<u8"))
        self.assertEqual(rates.dtype["spread"], np.dtype("<i4"))
        self.assertEqual(int(rates["time"][2]), 1795000120)
        self.assertEqual(float(rates["close"][0]), 1.15)

    def test_a_list_of_tuples_without_numpy(self) -> None:
        real = market.numpy_module
        market.numpy_module = lambda: None  # type: ignore[assignment]
        self.addCleanup(setattr, market, "numpy_module", real)
        rates = market.read_table(None, "/v1/rates/EURUSD", {}, "rates", market.RATES_DTYPE)
        self.assertEqual(rates[0], (1795000000, 1.1, 1.2, 1.0, 1.15, 0, 10, 0))


if __name__ == "__main__":
    unittest.main()
