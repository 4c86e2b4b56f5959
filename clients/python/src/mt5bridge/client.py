"""The native blocking client of agent-inf's local API (docs/API.md), standard library only.

    from mt5bridge import Client

    client = Client.discover()           # address and token as initialize() finds them
    quote = client.symbol_info("EURUSD")
    result = client.open("EURUSD", "BUY", 0.01, sl=1.0950, tp=1.1100)
    if result.filled:
        client.close(result.ticket)

Orders are idempotent by client_order_id (docs/API.md §5): open/close/modify pick one before the
first attempt (or take yours) and, when the answer is lost (network error, HTTP 5xx without an
outcome, outcome UNKNOWN), send the SAME id again, so the agent answers the first outcome instead
of trading twice. Still unknown after the retries, the client asks GET /v1/orders/{id} until the
gateway's journal says what happened. It never switches to a new id on its own. When every
attempt was refused at connect (agent-inf down), nothing was sent: ApiUnreachable(refused=True).

Order outcomes are OrderResult values; everything else that goes wrong raises (errors.py).
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.parse
import urllib.request
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

from . import market
from .errors import ApiUnreachable, GatewayUnavailable, raise_for_status
from .outcome import KEEP, OrderResult, new_client_order_id
from .settings import discover
from .sse import DEFAULT_IDLE_TIMEOUT, MAX_LINE_BYTES, SseParser, StreamMessage, stream_path
from .transport import NETWORK_ERRORS, build_opener, decode_body, exchange, unreachable

# Volumes with more decimals are refused by the API (an unrounded float such as 0.1 + 0.2)
VOLUME_DECIMALS = 8


class Client:
    """One agent-inf API. Thread-safe: it keeps no state between calls.

    timeout          seconds for queries and operator calls
    order_timeout    seconds for one order request; the agent may take a while to reconcile
                     an order the gateway did not answer, so keep it generous
    retries          extra attempts (same client_order_id) after a network error or UNKNOWN
    settle_timeout   seconds to poll GET /v1/orders/{id} when still UNKNOWN after the retries
    """

    def __init__(self, base_url: str = "http://127.0.0.1:8765", token: Optional[str] = None, *,
                 gateway: Optional[str] = None, timeout: float = 10.0,
                 order_timeout: float = 90.0, retries: int = 3, retry_delay: float = 0.5,
                 settle_timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.gateway = gateway
        self.timeout = timeout
        self.order_timeout = order_timeout
        self.retries = retries
        self.retry_delay = retry_delay
        self.settle_timeout = settle_timeout
        self._opener = build_opener()

    @classmethod
    def discover(cls, url: Optional[str] = None, token: Optional[str] = None, *,
                 config: Optional[str] = None, **options: Any) -> Client:
        """A client for the API initialize() would use: arguments, MT5BRIDGE_URL/_TOKEN, the
        agent's config (AGENT_INF_CONFIG or ./agent-inf.yaml), else 127.0.0.1:8765."""
        endpoint = discover(url=url, token=token, config=config)
        return cls(endpoint.url, endpoint.token, **options)

    # -- queries -----------------------------------------------------------------------------

    def health(self) -> Dict[str, Any]:
        return _object(self._call("GET", "/v1/health"), "health")

    def account(self, gateway: Optional[str] = None) -> Dict[str, Any]:
        return _object(self.account_answer(gateway)["account"], "account")

    def account_answer(self, gateway: Optional[str] = None) -> Dict[str, Any]:
        """GET /v1/account as answered: the account and the name of the gateway that has it."""
        return _object(self._call("GET", "/v1/account", query=self._gw(gateway)), "account")

    def positions(self, symbol: Optional[str] = None,
                  gateway: Optional[str] = None) -> List[Dict[str, Any]]:
        query = self._gw(gateway)
        if symbol is not None:
            query["symbol"] = symbol
        answer = _object(self._call("GET", "/v1/positions", query=query), "positions")
        positions = answer["positions"]
        if not isinstance(positions, list):
            raise ValueError("agent-inf answered positions without a list")
        return [_object(item, "a position") for item in positions]

    def symbol_info(self, symbol: str, gateway: Optional[str] = None) -> Dict[str, Any]:
        path = f"/v1/symbols/{urllib.parse.quote(symbol, safe='')}"
        answer = _object(self._call("GET", path, query=self._gw(gateway)), "symbol_info")
        return _object(answer["symbol_info"], "symbol_info")

    def get_order(self, client_order_id: str,
                  gateway: Optional[str] = None) -> Optional[Dict[str, Any]]:
        """The gateway's record of this id, or None if the gateway never saw it."""
        path = f"/v1/orders/{urllib.parse.quote(client_order_id, safe='')}"
        status, body = self._send("GET", path, query=self._gw(gateway), timeout=self.timeout)
        if status == 404 and isinstance(body, dict) and "order" in body and body["order"] is None:
            return None
        return _object(_object(raise_for_status(status, body), "order")["order"], "order")

    # -- market data (docs/API.md §10) -------------------------------------------------------

    def symbols(self, group: Optional[str] = None,
                gateway: Optional[str] = None) -> List[Dict[str, Any]]:
        """Every symbol, or those MT5's `group` filter selects ("EUR*", "*,!*JPY*")."""
        query = self._gw(gateway)
        if group is not None:
            query["group"] = group
        return market.read_objects(self, "/v1/symbols", query, "symbols")[1]

    def symbols_total(self, gateway: Optional[str] = None) -> int:
        return int(market.read_head(self, "/v1/symbols", self._gw(gateway), "symbols")["total"])

    def last_tick(self, symbol: str, gateway: Optional[str] = None) -> Dict[str, Any]:
        """The symbol's last tick: time (s), bid, ask, last, volume, time_msc, flags, volume_real."""
        path = f"/v1/ticks/{urllib.parse.quote(symbol, safe='')}/last"
        return _object(_object(self._call("GET", path, query=self._gw(gateway)), "tick")["tick"],
                       "tick")

    def rates(self, symbol: str, timeframe: str, *, count: Optional[int] = None,
              start: Optional[int] = None, date_from: Optional[str] = None,
              date_to: Optional[str] = None, gateway: Optional[str] = None) -> Any:
        """Bars, oldest first, as a numpy array with MetaTrader5's dtype (a list of tuples
        without numpy). Forms as GET /v1/rates takes them: count (the latest), start+count,
        date_from+count, date_from+date_to; dates are ISO-8601 or Unix seconds as text."""
        query = _compact_text({"timeframe": timeframe, "count": count, "start": start,
                               "from": date_from, "to": date_to, **self._gw(gateway)})
        path = f"/v1/rates/{urllib.parse.quote(symbol, safe='')}"
        return market.read_table(self, path, query, "rates", market.RATES_DTYPE)

    def ticks(self, symbol: str, date_from: str, *, count: Optional[int] = None,
              date_to: Optional[str] = None, flags: str = "ALL",
              gateway: Optional[str] = None) -> Any:
        """Ticks from date_from (count of them, or up to date_to), oldest first, as a numpy array
        with MetaTrader5's dtype (a list of tuples without numpy)."""
        query = _compact_text({"from": date_from, "count": count, "to": date_to,
                               "flags": flags, **self._gw(gateway)})
        path = f"/v1/ticks/{urllib.parse.quote(symbol, safe='')}"
        return market.read_table(self, path, query, "ticks", market.TICKS_DTYPE)

    def history_deals(self, **query: Any) -> List[Dict[str, Any]]:
        """Deals by date_from (and date_to, group), position or ticket, as the API gives them."""
        return self._history("deals", query)

    def history_orders(self, **query: Any) -> List[Dict[str, Any]]:
        """Orders that left the book, by date_from (and date_to, group), position or ticket."""
        return self._history("orders", query)

    def _history(self, what: str, query: Dict[str, Any]) -> List[Dict[str, Any]]:
        gateway = query.pop("gateway", None)
        names = {"date_from": "from", "date_to": "to"}
        fields = _compact_text({names.get(key, key): value for key, value in query.items()})
        fields.update(self._gw(gateway))
        return market.read_objects(self, f"/v1/history/{what}", fields, f"history_{what}")[1]

    def metrics(self) -> str:
        status, body = self._send("GET", "/metrics", timeout=self.timeout)
        raise_for_status(status, body)
        return body if isinstance(body, str) else json.dumps(body)

    # -- operator ----------------------------------------------------------------------------

    def set_trading_state(self, state: str, reason: Optional[str] = None,
                          gateway: Optional[str] = None) -> Dict[str, Any]:
        body = _compact({"state": state, "reason": reason, "gateway": gateway})
        return _object(self._call("POST", "/v1/trading-state", body=body), "trading-state")

    def engage_breaker(self, reason: Optional[str] = None,
                       gateway: Optional[str] = None) -> Dict[str, Any]:
        body = _compact({"action": "engage", "reason": reason, "gateway": gateway})
        return _object(self._call("POST", "/v1/breaker", body=body), "breaker")

    def reset_breaker(self, reason: Optional[str] = None,
                      gateway: Optional[str] = None) -> Dict[str, Any]:
        body = _compact({"action": "reset", "reason": reason, "gateway": gateway})
        return _object(self._call("POST", "/v1/breaker", body=body), "breaker")

    # -- orders ------------------------------------------------------------------------------

    def open(self, symbol: str, side: str, volume: float, *, sl: Optional[float] = None,
             tp: Optional[float] = None, deviation: Optional[int] = None,
             magic: Optional[int] = None, comment: Optional[str] = None,
             edge: Optional[Dict[str, float]] = None, client_order_id: Optional[str] = None,
             gateway: Optional[str] = None) -> OrderResult:
        body = _compact({
            "symbol": symbol, "side": side, "volume": round_volume(volume), "sl": sl, "tp": tp,
            "deviation": deviation, "magic": magic, "comment": comment, "edge": edge,
        })
        return self.submit("/v1/orders", body, client_order_id, gateway)

    def close(self, ticket: int, *, volume: Optional[float] = None,
              deviation: Optional[int] = None, comment: Optional[str] = None,
              client_order_id: Optional[str] = None,
              gateway: Optional[str] = None) -> OrderResult:
        body = _compact({
            "volume": None if volume is None else round_volume(volume),
            "deviation": deviation, "comment": comment,
        })
        return self.submit(f"/v1/positions/{int(ticket)}/close", body, client_order_id, gateway)

    def modify(self, ticket: int, *, sl: Any = KEEP, tp: Any = KEEP,
               client_order_id: Optional[str] = None,
               gateway: Optional[str] = None) -> OrderResult:
        """sl/tp: a price, None to remove the stop, KEEP (default) to leave it."""
        body = {key: value for key, value in (("sl", sl), ("tp", tp)) if value is not KEEP}
        return self.submit(f"/v1/positions/{int(ticket)}/modify", body, client_order_id, gateway)

    def resolve(self, client_order_id: str, gateway: Optional[str] = None,
                timeout: Optional[float] = None) -> OrderResult:
        """Poll GET /v1/orders/{id} until the gateway knows the outcome, or `timeout` passes.

        Returns FILLED or REJECTED from the gateway's journal, else UNKNOWN. An UNKNOWN whose
        reason starts with "never seen" means the gateway has no record: sending the same
        intent with the SAME client_order_id again is safe.
        """
        gateway = gateway or self.gateway or ""
        deadline = time.monotonic() + (self.settle_timeout if timeout is None else timeout)
        reason = "not settled yet"
        while True:
            try:
                record = self.get_order(client_order_id, gateway or None)
                if record is None:
                    reason = "never seen by the gateway"
                elif record.get("state") in ("FILLED", "REJECTED") and record.get("reply"):
                    return OrderResult(str(record["state"]), gateway, client_order_id,
                                       reply=record["reply"], http_status=200)
                else:
                    reason = f"gateway reports {record.get('state')}"
            except (GatewayUnavailable, ApiUnreachable) as error:
                reason = f"cannot ask: {error}"
            if time.monotonic() >= deadline:
                return OrderResult("UNKNOWN", gateway, client_order_id, reason=reason)
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))

    def submit(self, path: str, body: Dict[str, Any], client_order_id: Optional[str],
               gateway: Optional[str]) -> OrderResult:
        """POST one order intent to `path` with retries under one client_order_id."""
        # The id is fixed before the first attempt: every retry below is the same intent
        body = {**body, "client_order_id": client_order_id or new_client_order_id()}
        if gateway or self.gateway:
            body["gateway"] = gateway or self.gateway
        reason = ""
        # Until a request may have reached the agent, a failure is "not sent", not "unknown"
        maybe_sent = False
        for attempt in range(self.retries + 1):
            if attempt > 0:
                time.sleep(self.retry_delay * (2 ** (attempt - 1)))
            try:
                status, answer = self._send("POST", path, body=body, timeout=self.order_timeout)
            except ApiUnreachable as error:
                reason = str(error)
                maybe_sent = maybe_sent or not error.refused
                continue
            maybe_sent = True
            if isinstance(answer, dict) and "outcome" in answer:
                result = OrderResult.from_json(answer, status)
                if result.outcome != "UNKNOWN":
                    return result
                reason = result.reason or "unknown"
                continue
            if status >= 500:
                # No outcome in the answer: the agent failed mid-request, maybe after sending
                reason = f"HTTP {status} without an outcome"
                continue
            raise_for_status(status, answer)  # raises: the request itself was refused
        if not maybe_sent:
            raise ApiUnreachable(f"{reason}; the order was not sent (client_order_id "
                                 f"{body['client_order_id']})", refused=True)
        settled = self.resolve(body["client_order_id"], body.get("gateway"))
        if settled.outcome != "UNKNOWN":
            return settled
        return OrderResult("UNKNOWN", body.get("gateway", ""), body["client_order_id"],
                           reason=f"{reason}; {settled.reason}")

    # -- streams -----------------------------------------------------------------------------

    def stream(self, quotes: Iterable[str] = (), events: bool = True, *,
               bars: Iterable[str] = (),
               gateway: Optional[str] = None, last_event_id: Optional[str] = None,
               reconnect: bool = True, idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
               reconnect_delay: float = 1.0) -> Iterator[StreamMessage]:
        """Quotes for `quotes` and, with `events`, trade events, as the agent pushes them;
        with `bars` ("EURUSD:M1", "GBPUSD:H1"), a BAR event as each bar of those pairs closes
        (the row copy_rates_* gives for it, by name; docs/API.md §9.7).

        The first message is a SNAPSHOT (positions, the latest quotes, the stream's state), or,
        when resuming after `last_event_id`, exactly the events missed since. Quotes of a slow
        reader are conflated (the latest per symbol); trade events are never dropped. When the
        connection drops, or the agent ends it (RESYNC_REQUIRED, SHUTDOWN), the generator
        reconnects with the last event id it saw (`reconnect=False` ends it instead).
        `idle_timeout` seconds of silence count as a dropped connection. Refusals raise like the
        other methods (InvalidRequest, NotFound, ...). This blocks; AsyncClient.stream() does not.
        """
        path = stream_path(quotes, events, gateway or self.gateway, bars)
        last = last_event_id
        while True:
            try:
                for message in self._stream_once(path, last, idle_timeout):
                    if message.id is not None:
                        last = message.id
                    yield message
            except ApiUnreachable:
                if not reconnect:
                    raise
            else:
                if not reconnect:
                    return
            time.sleep(reconnect_delay)

    def _stream_once(self, path: str, last_event_id: Optional[str],
                     idle_timeout: float) -> Iterator[StreamMessage]:
        url = urllib.parse.urlsplit(self.base_url)
        connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port or 80,
                                                timeout=idle_timeout)
        try:
            try:
                connection.request("GET", path, headers=self.stream_headers(last_event_id))
                response = connection.getresponse()
            except NETWORK_ERRORS as error:
                raise unreachable(f"GET {path}", error) from error
            if response.status != 200:
                raise_for_status(response.status,
                                 decode_body(response.read(), response.getheader("Content-Type")))
            parser = SseParser()
            while True:
                try:
                    raw = response.readline(MAX_LINE_BYTES)
                except NETWORK_ERRORS as error:
                    raise unreachable("stream broke", error) from error
                if not raw:
                    return  # the agent ended the stream
                if len(raw) >= MAX_LINE_BYTES and not raw.endswith(b"\n"):
                    raise ApiUnreachable(f"stream line over {MAX_LINE_BYTES} bytes")
                message = parser.feed(raw)
                if message is not None:
                    yield message
        finally:
            connection.close()

    def stream_headers(self, last_event_id: Optional[str]) -> Dict[str, str]:
        headers = {"Accept": "text/event-stream"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        return headers

    # -- plumbing ----------------------------------------------------------------------------

    def _gw(self, gateway: Optional[str]) -> Dict[str, str]:
        chosen = gateway or self.gateway
        return {} if chosen is None else {"gateway": chosen}

    def _call(self, method: str, path: str, *, query: Optional[Dict[str, str]] = None,
              body: Optional[Dict[str, Any]] = None) -> Any:
        # Queries change nothing, so network errors are retried; operator POSTs are idempotent too
        for attempt in range(self.retries + 1):
            if attempt > 0:
                time.sleep(self.retry_delay * (2 ** (attempt - 1)))
            try:
                status, answer = self._send(method, path, query=query, body=body,
                                            timeout=self.timeout)
            except ApiUnreachable:
                if attempt == self.retries:
                    raise
                continue
            return raise_for_status(status, answer)
        raise AssertionError("unreachable")

    def _send(self, method: str, path: str, *, query: Optional[Dict[str, str]] = None,
              body: Optional[Dict[str, Any]] = None, timeout: float) -> Tuple[int, Any]:
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        headers = {"Accept": "application/json"}
        data = None
        if method == "POST":
            # allow_nan=False: NaN/Infinity are not JSON and would be refused anyway
            data = json.dumps(body or {}, allow_nan=False).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        return exchange(self._opener, request, timeout, f"{method} {path}")


def round_volume(volume: float) -> float:
    return round(float(volume), VOLUME_DECIMALS)


def _object(value: Any, what: str) -> Dict[str, Any]:
    """`value` if it is a JSON object; agent-inf answers nothing else where one is documented."""
    if not isinstance(value, dict):
        raise ValueError(f"agent-inf answered {what} with {type(value).__name__}, not an object")
    return value


def _compact_text(fields: Dict[str, Any]) -> Dict[str, str]:
    """Query parameters: the given ones, as text."""
    return {key: str(value) for key, value in fields.items() if value is not None}


def _compact(fields: Dict[str, Any]) -> Dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}
