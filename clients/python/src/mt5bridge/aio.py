"""The native asyncio client: the same calls as Client without blocking the event loop, and the
agent's stream (docs/API.md §9) as an async iterator or as a background watch that keeps a
notebook cell free.

    client = AsyncClient.discover()
    account = await client.account()
    async for message in client.stream(quotes=["EURUSD"]):   # a script's main loop
        ...
    feed = client.watch(["EURUSD"])     # Jupyter: returns at once, fills in the background
    feed.quotes["EURUSD"]               # the latest quote
    feed.stop()

Requests and orders run the blocking Client in a worker thread, so the retry rules of orders
(one client_order_id per intent, docs/API.md §5) have one home. The stream is native asyncio:
HTTP/1.1 over asyncio streams (RFC 9112 §7.1 chunked coding), Server-Sent Events on top.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import logging
import urllib.parse
from typing import (
    Any,
    AsyncIterator,
    Awaitable,
    Callable,
    Deque,
    Dict,
    Iterable,
    List,
    Optional,
    Tuple,
    Union,
)

from .client import Client
from .errors import ApiUnreachable, raise_for_status
from .outcome import KEEP, OrderResult
from .settings import discover
from .sse import (
    DEFAULT_IDLE_TIMEOUT,
    MAX_LINE_BYTES,
    SseParser,
    StreamMessage,
    stream_path,
)
from .transport import decode_body

_log = logging.getLogger("mt5bridge")
# An error answer is a small JSON object; read no more than this of one
MAX_ERROR_BODY = 65_536
MessageHandler = Callable[[StreamMessage], Union[None, Awaitable[None]]]


class AsyncClient:
    """Client's calls as coroutines, plus streams. Options are Client's (timeouts, retries)."""

    def __init__(self, base_url: str = "http://127.0.0.1:8765", token: Optional[str] = None,
                 **options: Any) -> None:
        self.client = Client(base_url, token, **options)

    @classmethod
    def discover(cls, url: Optional[str] = None, token: Optional[str] = None, *,
                 config: Optional[str] = None, **options: Any) -> AsyncClient:
        """Address and token found as initialize() finds them (settings.py)."""
        endpoint = discover(url=url, token=token, config=config)
        return cls(endpoint.url, endpoint.token, **options)

    # -- requests: the blocking client in a worker thread -------------------------------------

    async def health(self) -> Dict[str, Any]:
        return await asyncio.to_thread(self.client.health)

    async def account(self, gateway: Optional[str] = None) -> Dict[str, Any]:
        return await asyncio.to_thread(self.client.account, gateway)

    async def positions(self, symbol: Optional[str] = None,
                        gateway: Optional[str] = None) -> List[Dict[str, Any]]:
        return await asyncio.to_thread(self.client.positions, symbol, gateway)

    async def symbol_info(self, symbol: str, gateway: Optional[str] = None) -> Dict[str, Any]:
        return await asyncio.to_thread(self.client.symbol_info, symbol, gateway)

    async def get_order(self, client_order_id: str,
                        gateway: Optional[str] = None) -> Optional[Dict[str, Any]]:
        return await asyncio.to_thread(self.client.get_order, client_order_id, gateway)

    async def open(self, symbol: str, side: str, volume: float, **fields: Any) -> OrderResult:
        return await asyncio.to_thread(lambda: self.client.open(symbol, side, volume, **fields))

    async def close(self, ticket: int, **fields: Any) -> OrderResult:
        return await asyncio.to_thread(lambda: self.client.close(ticket, **fields))

    async def modify(self, ticket: int, *, sl: Any = KEEP, tp: Any = KEEP,
                     **fields: Any) -> OrderResult:
        return await asyncio.to_thread(lambda: self.client.modify(ticket, sl=sl, tp=tp, **fields))

    async def resolve(self, client_order_id: str, gateway: Optional[str] = None,
                      timeout: Optional[float] = None) -> OrderResult:
        return await asyncio.to_thread(self.client.resolve, client_order_id, gateway, timeout)

    async def set_trading_state(self, state: str, reason: Optional[str] = None,
                                gateway: Optional[str] = None) -> Dict[str, Any]:
        return await asyncio.to_thread(self.client.set_trading_state, state, reason, gateway)

    async def engage_breaker(self, reason: Optional[str] = None,
                             gateway: Optional[str] = None) -> Dict[str, Any]:
        return await asyncio.to_thread(self.client.engage_breaker, reason, gateway)

    async def reset_breaker(self, reason: Optional[str] = None,
                            gateway: Optional[str] = None) -> Dict[str, Any]:
        return await asyncio.to_thread(self.client.reset_breaker, reason, gateway)

    async def metrics(self) -> str:
        return await asyncio.to_thread(self.client.metrics)

    # -- market data (docs/API.md §10): Client's, parsed in the worker thread too -------------

    async def symbols(self, group: Optional[str] = None,
                      gateway: Optional[str] = None) -> List[Dict[str, Any]]:
        return await asyncio.to_thread(self.client.symbols, group, gateway)

    async def symbols_total(self, gateway: Optional[str] = None) -> int:
        return await asyncio.to_thread(self.client.symbols_total, gateway)

    async def last_tick(self, symbol: str, gateway: Optional[str] = None) -> Dict[str, Any]:
        return await asyncio.to_thread(self.client.last_tick, symbol, gateway)

    async def rates(self, symbol: str, timeframe: str, **query: Any) -> Any:
        return await asyncio.to_thread(lambda: self.client.rates(symbol, timeframe, **query))

    async def ticks(self, symbol: str, date_from: str, **query: Any) -> Any:
        return await asyncio.to_thread(lambda: self.client.ticks(symbol, date_from, **query))

    async def history_deals(self, **query: Any) -> List[Dict[str, Any]]:
        return await asyncio.to_thread(lambda: self.client.history_deals(**query))

    async def history_orders(self, **query: Any) -> List[Dict[str, Any]]:
        return await asyncio.to_thread(lambda: self.client.history_orders(**query))

    # -- streams -----------------------------------------------------------------------------

    async def stream(self, quotes: Iterable[str] = (), events: bool = True, *,
                     bars: Iterable[str] = (),
                     gateway: Optional[str] = None, last_event_id: Optional[str] = None,
                     reconnect: bool = True, idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
                     reconnect_delay: float = 1.0) -> AsyncIterator[StreamMessage]:
        """Client.stream()'s messages, awaited instead of blocking: a SNAPSHOT first (or, when
        resuming after `last_event_id`, the events missed since), then quotes, trade events
        and, with `bars` ("EURUSD:M1"), closed bars. Reconnects with the last event id it saw unless `reconnect` is False.
        Refusals (bad symbol, token) raise like the other calls."""
        path = stream_path(quotes, events, gateway or self.client.gateway, bars)
        last = last_event_id
        while True:
            try:
                async for message in self._stream_once(path, last, idle_timeout):
                    if message.id is not None:
                        last = message.id
                    yield message
            except ApiUnreachable:
                if not reconnect:
                    raise
            else:
                if not reconnect:
                    return
            await asyncio.sleep(reconnect_delay)

    def watch(self, quotes: Iterable[str] = (), events: bool = True, *,
              bars: Iterable[str] = (),
              on_message: Optional[MessageHandler] = None, gateway: Optional[str] = None,
              max_events: int = 1000) -> Watch:
        """Follow the stream in a background task of the running event loop and return at once
        (in Jupyter, the notebook's loop: the cell finishes, the watch goes on)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError as error:
            raise RuntimeError("watch() runs on the current event loop: call it from async code "
                               "or a notebook cell; a plain script iterates stream() instead "
                               "(or Client.stream())") from error
        watch = Watch(max_events)
        messages = self.stream(quotes, events, bars=bars, gateway=gateway)
        watch.task = loop.create_task(watch.run(messages, on_message))
        return watch

    async def _stream_once(self, path: str, last_event_id: Optional[str],
                           idle_timeout: float) -> AsyncIterator[StreamMessage]:
        url = urllib.parse.urlsplit(self.client.base_url)
        host, port = url.hostname or "127.0.0.1", url.port or 80
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port),
                                                    self.client.timeout)
        except (OSError, asyncio.TimeoutError) as error:
            raise ApiUnreachable(f"GET {path}: {error!r}",
                                 timed_out=isinstance(error, asyncio.TimeoutError)) from error
        try:
            head = [f"GET {path} HTTP/1.1", f"Host: {url.netloc}", "Connection: close"]
            head += [f"{name}: {value}"
                     for name, value in self.client.stream_headers(last_event_id).items()]
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
            body = _HttpBody(reader, idle_timeout)
            status, headers = await body.read_head()
            if status != 200:
                raw = await body.read_all(MAX_ERROR_BODY)
                raise_for_status(status, decode_body(raw, headers.get("content-type")))
            parser = SseParser()
            async for line in body.lines():
                message = parser.feed(line)
                if message is not None:
                    yield message
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass  # the peer is gone already; the connection is closed either way


class Watch:
    """A stream followed in the background (AsyncClient.watch).

    quotes   the latest QUOTE per symbol ({"bid", "ask", "time", ...})
    bars     the last closed bar per pair ("EURUSD:M1": {"time", "open", ...}), from BAR events
             and the SNAPSHOT
    events   the trade events (DEAL, POSITION_CLOSED, POSITION_MODIFIED, ...), oldest first,
             at most `max_events` kept
    state    the last SNAPSHOT/STREAM_STATE state ("LIVE", "SYNCING", "DISCONNECTED")
    error    what ended the watch, if it ended by itself (refused, or on_message raised); it
             is also logged to the "mt5bridge" logger
    """

    def __init__(self, max_events: int) -> None:
        self.quotes: Dict[str, Dict[str, Any]] = {}
        self.bars: Dict[str, Dict[str, Any]] = {}
        self.events: Deque[StreamMessage] = collections.deque(maxlen=max_events)
        self.state: Optional[str] = None
        self.error: Optional[BaseException] = None
        self.task: Optional[asyncio.Task[None]] = None

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()

    async def run(self, messages: AsyncIterator[StreamMessage],
                  on_message: Optional[MessageHandler]) -> None:
        try:
            async for message in messages:
                self._take(message)
                if on_message is not None:
                    outcome = on_message(message)
                    if inspect.isawaitable(outcome):
                        await outcome
        except asyncio.CancelledError:
            raise
        except Exception as error:
            # Ended by itself: kept for the caller to read, and said once in the log, rather
            # than left in a task nobody awaits (asyncio would only complain at exit)
            self.error = error
            _log.error("mt5bridge watch ended: %s", error)

    def _take(self, message: StreamMessage) -> None:
        data = message.data
        if message.event == "QUOTE":
            self.quotes[str(data.get("symbol"))] = data
        elif message.event == "BAR":
            self._take_bar(data)
        elif message.event == "SNAPSHOT":
            self.state = data.get("state")
            for quote in data.get("quotes", []):
                self.quotes[str(quote.get("symbol"))] = quote
            for bar in data.get("bars", []):
                self._take_bar(bar)
        elif message.event == "STREAM_STATE":
            self.state = data.get("state")
        if message.id is not None:
            self.events.append(message)

    def _take_bar(self, data: Dict[str, Any]) -> None:
        self.bars[f"{data.get('symbol')}:{data.get('timeframe')}"] = data.get("bar", {})


class _HttpBody:
    """One HTTP/1.1 response read from asyncio streams: status line and headers, then the body,
    chunked (RFC 9112 §7.1) or up to the end of the connection."""

    def __init__(self, reader: asyncio.StreamReader, idle_timeout: float) -> None:
        self._reader = reader
        self._timeout = idle_timeout
        self._chunked = False

    async def read_head(self) -> Tuple[int, Dict[str, str]]:
        status_line = await self._line()
        parts = status_line.decode("latin-1").split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise ApiUnreachable(f"not an HTTP answer: {status_line[:80]!r}")
        headers: Dict[str, str] = {}
        while True:
            line = (await self._line()).decode("latin-1").rstrip("\r\n")
            if line == "":
                break
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        self._chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        return int(parts[1]), headers

    async def lines(self) -> AsyncIterator[bytes]:
        pending = b""
        async for chunk in self._chunks():
            pending += chunk
            while True:
                end = pending.find(b"\n")
                if end < 0:
                    break
                yield pending[:end + 1]
                pending = pending[end + 1:]
            if len(pending) > MAX_LINE_BYTES:
                raise ApiUnreachable(f"stream line over {MAX_LINE_BYTES} bytes")
        if pending:
            yield pending

    async def read_all(self, limit: int) -> bytes:
        raw = b""
        async for chunk in self._chunks():
            raw += chunk
            if len(raw) > limit:
                break
        return raw[:limit]

    async def _chunks(self) -> AsyncIterator[bytes]:
        if not self._chunked:
            while True:
                data = await self._io(self._reader.read(65_536))
                if not data:
                    return
                yield data
        while True:
            size_line = (await self._line()).split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError as error:
                raise ApiUnreachable(f"bad chunk size {size_line[:20]!r}") from error
            if size == 0:
                return
            if size > MAX_LINE_BYTES * 4:
                raise ApiUnreachable(f"chunk of {size} bytes is over the limit")
            data = await self._io(self._reader.readexactly(size))
            await self._line()  # the CRLF after the chunk
            yield data

    async def _line(self) -> bytes:
        line = await self._io(self._reader.readline())
        if not line:
            raise ApiUnreachable("the connection closed mid-answer")
        return line

    async def _io(self, operation: Awaitable[bytes]) -> bytes:
        try:
            return await asyncio.wait_for(operation, self._timeout)
        except asyncio.TimeoutError as error:
            raise ApiUnreachable(f"no data for {self._timeout} s", timed_out=True) from error
        except (OSError, asyncio.IncompleteReadError, ValueError) as error:
            # ValueError: asyncio's line limit was exceeded (a line without a newline)
            raise ApiUnreachable(f"stream broke: {error!r}") from error
