#!/usr/bin/env python3
"""Client for the agent-inf local strategy API (docs/API.md), standard library only.

    from mlb_client import MlbClient

    client = MlbClient("http://127.0.0.1:8765")
    quote = client.symbol_info("EURUSD")
    result = client.open("EURUSD", "BUY", 0.01, sl=1.0950, tp=1.1100)
    if result.filled:
        client.close(result.ticket)

Orders are idempotent by client_order_id. open/close/modify pick one (or take yours) and, when
the answer is lost (network error, HTTP 504 / outcome UNKNOWN), send the SAME id again: the
agent answers the first outcome instead of trading twice. If it is still unknown after the
retries, the client asks GET /v1/orders/{id} until the gateway's journal says what happened.
It never switches to a new id on its own; that would be a second order.

Streams instead of polling (docs/API.md §9): stream() yields quotes and trade events (fills,
SL/TP hits, position changes) as the agent receives them, over Server-Sent Events, and
reconnects by itself with Last-Event-ID so no trade event is lost:

    for message in client.stream(quotes=["EURUSD"], events=True):
        if message.event == "POSITION_CLOSED" and message.data["reason"] in ("SL", "TP"):
            print("closed by", message.data["reason"], message.data["ticket"])

Order outcomes come back as OrderResult values (FILLED, DENIED, REJECTED, ERROR, UNKNOWN), not
exceptions: they are normal answers a strategy must branch on. Exceptions are for everything
else: a bad request (InvalidRequest), a wrong token (Unauthorized), an unknown gateway or symbol
(NotFound), a gateway that does not answer a query (GatewayUnavailable), an API that cannot be
reached at all (ApiUnreachable).

Also a small command line tool: python3 mlb_client.py --help
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = [
    "KEEP",
    "ApiError",
    "ApiUnreachable",
    "GatewayUnavailable",
    "InvalidRequest",
    "MlbClient",
    "NotFound",
    "OrderResult",
    "StreamMessage",
    "Unauthorized",
    "UnknownGateway",
    "new_client_order_id",
]

DEFAULT_API = "http://127.0.0.1:8765"
# Volumes with more decimals are refused (an unrounded float such as 0.1 + 0.2)
VOLUME_DECIMALS = 8
# Leave for "omitted" in modify(): None there means "remove the stop"
KEEP: Any = object()


class ApiError(Exception):
    """An error answer from the API: {"error": {"code", "message", "field"?}}."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 body: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.body = body


class InvalidRequest(ApiError):
    """400: the request is malformed; `field` names the culprit. Fix it, do not retry."""


class Unauthorized(ApiError):
    """401: missing or wrong bearer token."""


class NotFound(ApiError):
    """404: no such route, symbol (UNKNOWN_SYMBOL) or gateway."""


class UnknownGateway(NotFound):
    """404 UNKNOWN_GATEWAY: the gateway name is not configured in agent-inf."""


class GatewayUnavailable(ApiError):
    """502/504 on a query: the gateway refused it or did not answer. Safe to retry later."""


class ApiUnreachable(Exception):
    """The API itself could not be reached (agent-inf down, wrong address, timeout)."""


@dataclass(frozen=True)
class OrderResult:
    """What happened to one order intent; see docs/API.md "Order outcomes"."""

    outcome: str  # FILLED | DENIED | REJECTED | ERROR | UNKNOWN
    gateway: str
    client_order_id: str
    reply: dict | None = None  # the gateway's reply (FILLED, REJECTED, ERROR)
    denial: dict | None = None  # {code, message, context} (DENIED)
    reason: str | None = None  # why the outcome is not known (UNKNOWN)
    http_status: int = 0

    @classmethod
    def from_json(cls, body: dict, http_status: int) -> OrderResult:
        return cls(
            outcome=body["outcome"],
            gateway=body.get("gateway", ""),
            client_order_id=body["client_order_id"],
            reply=body.get("reply"),
            denial=body.get("denial"),
            reason=body.get("reason"),
            http_status=http_status,
        )

    @property
    def filled(self) -> bool:
        return self.outcome == "FILLED"

    @property
    def ticket(self) -> int | None:
        """Position ticket of a fill."""
        return None if self.reply is None else self.reply.get("ticket")

    @property
    def code(self) -> str | None:
        """The denial code (DENIED) or the gateway's error_code (REJECTED, ERROR)."""
        if self.denial is not None:
            return self.denial.get("code")
        return None if self.reply is None else self.reply.get("error_code")

    @property
    def message(self) -> str:
        if self.denial is not None:
            return self.denial.get("message", "")
        if self.reason is not None:
            return self.reason
        return "" if self.reply is None else self.reply.get("error_msg", "")


@dataclass(frozen=True)
class StreamMessage:
    """One message of GET /v1/stream (docs/API.md §9).

    event   SNAPSHOT, QUOTE, DEAL, POSITION_CLOSED, POSITION_MODIFIED, LINK_STATE, STREAM_STATE,
            RESYNC_REQUIRED or SHUTDOWN (the last two end the connection; stream() reconnects)
    data    the message's JSON object (its "event" field repeats the name)
    id      the trade event's id (None for quotes): resuming after it loses nothing
    """

    event: str
    data: dict
    id: str | None = None


def new_client_order_id(prefix: str = "py") -> str:
    """A fresh id: ≤ 24 characters of [A-Za-z0-9_-], time-ordered, unique per intent."""
    return f"{prefix[:3]}-{int(time.time() * 1000):x}-{secrets.token_hex(4)}"


_NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, OSError)


class MlbClient:
    """One agent-inf API. Thread-safe: it keeps no state between calls.

    timeout          seconds for queries and operator calls
    order_timeout    seconds for one order request; the agent may take a while to reconcile
                     an order the gateway did not answer, so keep it generous
    retries          extra attempts (same client_order_id) after a network error or UNKNOWN
    settle_timeout   seconds to poll GET /v1/orders/{id} when still UNKNOWN after the retries
    """

    def __init__(self, base_url: str = DEFAULT_API, token: str | None = None, *,
                 gateway: str | None = None, timeout: float = 10.0,
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
        # No proxies: the API is on this host, and an http_proxy variable must not reroute orders
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # -- queries -----------------------------------------------------------------------------

    def health(self) -> dict:
        return self._call("GET", "/v1/health")

    def account(self, gateway: str | None = None) -> dict:
        return self._call("GET", "/v1/account", query=self._gw(gateway))["account"]

    def positions(self, symbol: str | None = None, gateway: str | None = None) -> list[dict]:
        query = self._gw(gateway)
        if symbol is not None:
            query["symbol"] = symbol
        return self._call("GET", "/v1/positions", query=query)["positions"]

    def symbol_info(self, symbol: str, gateway: str | None = None) -> dict:
        path = f"/v1/symbols/{urllib.parse.quote(symbol, safe='')}"
        return self._call("GET", path, query=self._gw(gateway))["symbol_info"]

    def get_order(self, client_order_id: str, gateway: str | None = None) -> dict | None:
        """The gateway's record of this id, or None if the gateway never saw it."""
        path = f"/v1/orders/{urllib.parse.quote(client_order_id, safe='')}"
        status, body = self._send("GET", path, query=self._gw(gateway), timeout=self.timeout)
        if status == 404 and isinstance(body, dict) and body.get("order", 0) is None:
            return None
        return self._check(status, body)["order"]

    def metrics(self) -> str:
        status, body = self._send("GET", "/metrics", timeout=self.timeout)
        self._check(status, body)
        return body if isinstance(body, str) else json.dumps(body)

    # -- operator ----------------------------------------------------------------------------

    def set_trading_state(self, state: str, reason: str | None = None,
                          gateway: str | None = None) -> dict:
        body = _compact({"state": state, "reason": reason, "gateway": gateway})
        return self._call("POST", "/v1/trading-state", body=body)

    def engage_breaker(self, reason: str | None = None, gateway: str | None = None) -> dict:
        body = _compact({"action": "engage", "reason": reason, "gateway": gateway})
        return self._call("POST", "/v1/breaker", body=body)

    def reset_breaker(self, reason: str | None = None, gateway: str | None = None) -> dict:
        body = _compact({"action": "reset", "reason": reason, "gateway": gateway})
        return self._call("POST", "/v1/breaker", body=body)

    # -- orders ------------------------------------------------------------------------------

    def open(self, symbol: str, side: str, volume: float, *, sl: float | None = None,
             tp: float | None = None, deviation: int | None = None, magic: int | None = None,
             comment: str | None = None, edge: dict | None = None,
             client_order_id: str | None = None, gateway: str | None = None) -> OrderResult:
        body = _compact({
            "symbol": symbol, "side": side, "volume": round(volume, VOLUME_DECIMALS),
            "sl": sl, "tp": tp, "deviation": deviation, "magic": magic, "comment": comment,
            "edge": edge,
        })
        return self._submit("/v1/orders", body, client_order_id, gateway)

    def close(self, ticket: int, *, volume: float | None = None, deviation: int | None = None,
              comment: str | None = None, client_order_id: str | None = None,
              gateway: str | None = None) -> OrderResult:
        body = _compact({
            "volume": None if volume is None else round(volume, VOLUME_DECIMALS),
            "deviation": deviation, "comment": comment,
        })
        return self._submit(f"/v1/positions/{int(ticket)}/close", body, client_order_id, gateway)

    def modify(self, ticket: int, *, sl: Any = KEEP, tp: Any = KEEP,
               client_order_id: str | None = None, gateway: str | None = None) -> OrderResult:
        """sl/tp: a price, None to remove the stop, KEEP (default) to leave it."""
        body = {key: value for key, value in (("sl", sl), ("tp", tp)) if value is not KEEP}
        return self._submit(f"/v1/positions/{int(ticket)}/modify", body, client_order_id, gateway)

    def resolve(self, client_order_id: str, gateway: str | None = None,
                timeout: float | None = None) -> OrderResult:
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
                    return OrderResult(record["state"], gateway, client_order_id,
                                       reply=record["reply"], http_status=200)
                else:
                    reason = f"gateway reports {record.get('state')}"
            except (GatewayUnavailable, ApiUnreachable) as error:
                reason = f"cannot ask: {error}"
            if time.monotonic() >= deadline:
                return OrderResult("UNKNOWN", gateway, client_order_id, reason=reason)
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))

    def _submit(self, path: str, body: dict, client_order_id: str | None,
                gateway: str | None) -> OrderResult:
        # The id is fixed before the first attempt: every retry below is the same intent
        body["client_order_id"] = client_order_id or new_client_order_id()
        if gateway or self.gateway:
            body["gateway"] = gateway or self.gateway
        reason = ""
        for attempt in range(self.retries + 1):
            if attempt > 0:
                time.sleep(self.retry_delay * (2 ** (attempt - 1)))
            try:
                status, answer = self._send("POST", path, body=body, timeout=self.order_timeout)
            except ApiUnreachable as error:
                reason = str(error)
                continue
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
            self._check(status, answer)  # raises: the request itself was refused
        settled = self.resolve(body["client_order_id"], body.get("gateway"))
        if settled.outcome != "UNKNOWN":
            return settled
        return OrderResult("UNKNOWN", body.get("gateway", ""), body["client_order_id"],
                           reason=f"{reason}; {settled.reason}")

    # -- streams -----------------------------------------------------------------------------

    def stream(self, quotes: Iterable[str] = (), events: bool = True, *,
               gateway: str | None = None, last_event_id: str | None = None,
               reconnect: bool = True, idle_timeout: float = 45.0,
               reconnect_delay: float = 1.0) -> Iterator[StreamMessage]:
        """Quotes for `quotes` and, with `events`, trade events, as the agent pushes them.

        The first message is a SNAPSHOT (positions, the latest quotes, the stream's state), or,
        when resuming after `last_event_id`, exactly the events missed since. Quotes of a slow
        reader are conflated (the latest per symbol); trade events are never dropped. When the
        connection drops, or the agent ends it (RESYNC_REQUIRED, SHUTDOWN), the generator
        reconnects with the last event id it saw (`reconnect=False` ends it instead). The agent
        sends a keepalive every 15 s; `idle_timeout` seconds of silence count as a dropped
        connection. Refusals raise like the other methods (InvalidRequest, NotFound, ...).
        """
        query = {"events": "1" if events else "0"}
        symbols = ",".join(quotes)
        if symbols:
            query["quotes"] = symbols
        query.update(self._gw(gateway))
        path = "/v1/stream?" + urllib.parse.urlencode(query)
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

    def _stream_once(self, path: str, last_event_id: str | None,
                     idle_timeout: float) -> Iterator[StreamMessage]:
        url = urllib.parse.urlsplit(self.base_url)
        connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port or 80,
                                                timeout=idle_timeout)
        headers = {"Accept": "text/event-stream"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        try:
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
            except _NETWORK_ERRORS as error:
                raise ApiUnreachable(f"GET {path}: {error}") from error
            if response.status != 200:
                self._check(response.status, _decode(response.read(), response.headers))
            event, event_id, data = "message", None, []
            while True:
                try:
                    raw = response.readline(1_048_576)
                except _NETWORK_ERRORS as error:
                    raise ApiUnreachable(f"stream broke: {error}") from error
                if not raw:
                    return  # the agent ended the stream
                line = raw.decode("utf-8").rstrip("\r\n")
                if line == "":
                    if data:
                        yield StreamMessage(event, json.loads("\n".join(data)), event_id)
                    event, event_id, data = "message", None, []
                elif line.startswith(":"):
                    continue  # keepalive
                else:
                    field, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if field == "event":
                        event = value
                    elif field == "id":
                        event_id = value
                    elif field == "data":
                        data.append(value)
        finally:
            connection.close()

    # -- plumbing ----------------------------------------------------------------------------

    def _gw(self, gateway: str | None) -> dict:
        chosen = gateway or self.gateway
        return {} if chosen is None else {"gateway": chosen}

    def _call(self, method: str, path: str, *, query: dict | None = None,
              body: dict | None = None) -> Any:
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
            return self._check(status, answer)
        raise AssertionError("unreachable")

    def _send(self, method: str, path: str, *, query: dict | None = None,
              body: dict | None = None, timeout: float) -> tuple[int, Any]:
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
        try:
            with self._opener.open(request, timeout=timeout) as response:
                return response.status, _decode(response.read(), response.headers)
        except urllib.error.HTTPError as error:
            try:
                return error.code, _decode(error.read(), error.headers)
            finally:
                error.close()
        except _NETWORK_ERRORS as error:
            raise ApiUnreachable(f"{method} {path}: {error}") from error

    @staticmethod
    def _check(status: int, body: Any) -> Any:
        if 200 <= status < 300:
            return body
        detail = body.get("error", {}) if isinstance(body, dict) else {}
        code = detail.get("code", f"HTTP_{status}")
        message = detail.get("message", str(body)[:200])
        field = detail.get("field")
        kind: type[ApiError] = ApiError
        if status == 400:
            kind = InvalidRequest
        elif status == 401:
            kind = Unauthorized
        elif status == 404:
            kind = UnknownGateway if code == "UNKNOWN_GATEWAY" else NotFound
        elif status in (502, 504):
            kind = GatewayUnavailable
        raise kind(status, code, message, field, body)


def _compact(fields: dict) -> dict:
    return {key: value for key, value in fields.items() if value is not None}


def _decode(raw: bytes, headers: Any) -> Any:
    text = raw.decode("utf-8", errors="replace")
    if "json" in (headers.get("Content-Type") or ""):
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text


def read_token(token_file: str | None) -> str | None:
    """The bearer token from a file, else from MLB_API_TOKEN, else None."""
    if token_file:
        with open(token_file, encoding="utf-8") as handle:
            return handle.read().strip()
    return os.environ.get("MLB_API_TOKEN") or None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Query the agent-inf local strategy API.")
    parser.add_argument("--api", default=os.environ.get("MLB_API", DEFAULT_API))
    parser.add_argument("--token-file", help="file holding the bearer token (or MLB_API_TOKEN)")
    parser.add_argument("--gateway")
    parser.add_argument("command", choices=["health", "account", "positions", "symbol", "order",
                                            "metrics", "stream"])
    parser.add_argument("argument", nargs="?",
                        help="symbol (symbol), client_order_id (order), symbols (stream: A,B)")
    args = parser.parse_args(argv)
    client = MlbClient(args.api, read_token(args.token_file), gateway=args.gateway)
    try:
        if args.command == "metrics":
            print(client.metrics(), end="")
            return 0
        if args.command == "stream":
            quotes = args.argument.split(",") if args.argument else []
            for message in client.stream(quotes=quotes, events=True):
                print(json.dumps(message.data), flush=True)
            return 0
        if args.command in ("symbol", "order") and not args.argument:
            parser.error(f"{args.command} needs an argument")
        result = {
            "health": client.health,
            "account": client.account,
            "positions": client.positions,
            "symbol": lambda: client.symbol_info(args.argument),
            "order": lambda: client.get_order(args.argument),
        }[args.command]()
    except (ApiError, ApiUnreachable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
