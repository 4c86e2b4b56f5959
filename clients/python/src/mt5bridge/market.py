"""Reading agent-inf's market-data answers (docs/API.md §10) as they stream: bars and ticks into
numpy structured arrays with MetaTrader5's dtypes (lists of tuples without numpy), symbols and
history as JSON objects.

The API writes one row per line, between a head line and an end line that carries the row
count; rows are parsed in batches as they arrive, so a million bars cost the rows themselves and
one batch of text, never the whole answer as text. An answer without its end line was cut short
(the gateway failed mid-answer): that is an error here, never a shorter result.
"""

from __future__ import annotations

import importlib
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from .errors import ApiError, ApiUnreachable, raise_for_status
from .transport import NETWORK_ERRORS, decode_body, unreachable

# numpy dtypes of MetaTrader5's copy_rates_* and copy_ticks_* (field names, order and types)
RATES_DTYPE = [("time", "<i8"), ("open", "<f8"), ("high", "<f8"), ("low", "<f8"),
               ("close", "<f8"), ("tick_volume", "<u8"), ("spread", "<i4"),
               ("real_volume", "<u8")]
TICKS_DTYPE = [("time", "<i8"), ("bid", "<f8"), ("ask", "<f8"), ("last", "<f8"),
               ("volume", "<u8"), ("time_msc", "<i8"), ("flags", "<u4"),
               ("volume_real", "<f8")]

# Rows parsed per json.loads call: big enough to be fast, small enough to bound the text held
BATCH_ROWS = 5000
# A row or object line; the API's longest (a symbol with every text at its limit) is ~3 KiB
MAX_LINE_BYTES = 1 << 20
# Answers refused with 429 (too many at once at the agent) are asked again this many times
BUSY_RETRIES = 5


def numpy_module() -> Any:
    """numpy when it is importable, else None (MetaTrader5 itself requires it; we do not)."""
    try:
        return importlib.import_module("numpy")
    except ImportError:
        return None


class Answer:
    """One streaming answer: its head (gateway, fields, total …), then its rows."""

    def __init__(self, response: Any, key: str) -> None:
        self._response = response
        self._key = key
        line = self._line()
        opening = f'"{key}":['
        if not line.rstrip().endswith(opening):
            raise ApiUnreachable(f"agent-inf's answer does not start a {key} list: {line[:120]!r}")
        # The head is a JSON object cut open at the list: close it to read the fields before
        self.head: Dict[str, Any] = json.loads(line.rstrip()[: -len(opening)].rstrip(",") + "}")
        self.count = 0

    def _line(self) -> str:
        try:
            raw: bytes = self._response.readline(MAX_LINE_BYTES)
        except NETWORK_ERRORS as error:
            raise unreachable("the answer broke off", error) from error
        if not raw:
            raise ApiUnreachable("agent-inf's answer was cut short (the gateway failed "
                                 "mid-answer?); nothing was returned")
        if len(raw) >= MAX_LINE_BYTES and not raw.endswith(b"\n"):
            raise ApiUnreachable(f"a line of the answer is over {MAX_LINE_BYTES} bytes")
        return raw.decode("utf-8")

    def batches(self) -> Iterator[List[Any]]:
        """Rows in batches of up to BATCH_ROWS, checked against the end line's count."""
        pending: List[str] = []
        while True:
            line = self._line()
            if line.startswith("]"):
                if pending:
                    yield self._parse(pending)
                end = json.loads("{" + line.strip()[2:])
                if end.get("count") != self.count:
                    raise ApiUnreachable(f"agent-inf counted {end.get('count')} rows, "
                                         f"{self.count} arrived")
                return
            pending.append(line)
            if len(pending) >= BATCH_ROWS:
                yield self._parse(pending)
                pending = []

    def _parse(self, lines: List[str]) -> List[Any]:
        text = "".join(lines).rstrip().rstrip(",")
        rows: List[Any] = json.loads("[" + text + "]")
        self.count += len(rows)
        return rows

    def close(self) -> None:
        self._response.close()


def open_answer(client: Any, path: str, query: Dict[str, str], key: str) -> Answer:
    """GET a market route; refusals raise like the client's other calls (errors.py)."""
    url = client.base_url + path + "?" + urllib.parse.urlencode(query)
    headers = {"Accept": "application/json"}
    if client.token:
        headers["Authorization"] = f"Bearer {client.token}"
    for attempt in range(BUSY_RETRIES + 1):
        request = urllib.request.Request(url, method="GET", headers=headers)
        try:
            response = client._opener.open(request, timeout=client.timeout)
        except urllib.error.HTTPError as error:
            try:
                body = decode_body(error.read(1 << 16), error.headers.get("Content-Type"))
            finally:
                error.close()
            if error.code == 429 and attempt < BUSY_RETRIES:
                time.sleep(0.2 * (attempt + 1))
                continue
            raise_for_status(error.code, body)
            raise AssertionError("unreachable")
        except NETWORK_ERRORS as error:
            raise unreachable(f"GET {path}", error) from error
        try:
            return Answer(response, key)
        except BaseException:
            response.close()
            raise
    raise AssertionError("unreachable")


def read_objects(client: Any, path: str, query: Dict[str, str], key: str
                 ) -> Tuple[Dict[str, Any], List[Dict[str, Any]]]:
    """Symbols, deals or orders: the head and every object."""
    answer = open_answer(client, path, query, key)
    try:
        items: List[Dict[str, Any]] = []
        for batch in answer.batches():
            items.extend(batch)
        return answer.head, items
    finally:
        answer.close()


def read_head(client: Any, path: str, query: Dict[str, str], key: str) -> Dict[str, Any]:
    """Only the head of an answer (symbols' `total`); the rest is not read."""
    answer = open_answer(client, path, query, key)
    answer.close()
    return answer.head


def read_table(client: Any, path: str, query: Dict[str, str], key: str,
               dtype: Sequence[Tuple[str, str]]) -> Any:
    """Bars or ticks as MetaTrader5 returns them: a numpy structured array with `dtype`, or a
    list of tuples (in the dtype's field order) without numpy."""
    answer = open_answer(client, path, query, key)
    try:
        names = [name for name, _ in dtype]
        fields = answer.head.get("fields", [])
        missing = [name for name in names if name not in fields]
        if missing:
            raise ApiError(502, "BAD_ANSWER", f"agent-inf's rows lack {', '.join(missing)}")
        columns = [fields.index(name) for name in names]
        np = numpy_module()
        if np is None:
            rows: List[Tuple[Any, ...]] = []
            for batch in answer.batches():
                rows.extend(tuple(row[i] for i in columns) for row in batch)
            return rows
        chunks = []
        for batch in answer.batches():
            values = np.asarray(batch, dtype=np.float64)[:, columns]
            chunk = np.empty(len(batch), dtype=dtype)
            for index, name in enumerate(names):
                chunk[name] = values[:, index]
            chunks.append(chunk)
        return np.concatenate(chunks) if chunks else np.empty(0, dtype=dtype)
    finally:
        answer.close()
