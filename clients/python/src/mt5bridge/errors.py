"""Exceptions of the native clients (Client, AsyncClient) and the one place an HTTP answer
becomes one. The MetaTrader5-style functions never raise these: they turn them into None and
last_error() (compat.py).
"""

from __future__ import annotations

from typing import Any, Optional


class ApiError(Exception):
    """An error answer from the API: {"error": {"code", "message", "field"?}} (docs/API.md §3)."""

    def __init__(self, status: int, code: str, message: str, field: Optional[str] = None,
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


class Forbidden(ApiError):
    """403: a Host or Origin agent-inf refuses (call it by 127.0.0.1 or localhost)."""


class NotFound(ApiError):
    """404: no such route, symbol (UNKNOWN_SYMBOL) or gateway."""


class UnknownGateway(NotFound):
    """404 UNKNOWN_GATEWAY: the gateway name is not configured in agent-inf."""


class GatewayUnavailable(ApiError):
    """502/504 on a query: the gateway refused it or did not answer. Safe to retry later."""


class StreamUnavailable(ApiError):
    """503: streams are off in agent-inf's config, or all its stream slots are taken."""


class ApiUnreachable(Exception):
    """The API itself could not be reached (agent-inf down, wrong address, timeout).

    refused: the connection was refused, so nothing at all was sent (an order certainly did not
    happen); otherwise a request may have reached the agent before the connection failed.
    """

    def __init__(self, message: str, timed_out: bool = False, refused: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out
        self.refused = refused


class SettingsError(Exception):
    """The API's address or token could not be worked out (bad config file, token file...)."""


def raise_for_status(status: int, body: Any) -> Any:
    """The body of a 2xx answer; for anything else the ApiError subclass that fits."""
    if 200 <= status < 300:
        return body
    detail = body.get("error", {}) if isinstance(body, dict) else {}
    if not isinstance(detail, dict):
        detail = {}
    code = str(detail.get("code", f"HTTP_{status}"))
    message = str(detail.get("message", str(body)[:200]))
    field = detail.get("field")
    kind: type[ApiError] = ApiError
    if status == 400:
        kind = InvalidRequest
    elif status == 401:
        kind = Unauthorized
    elif status == 403:
        kind = Forbidden
    elif status == 404:
        kind = UnknownGateway if code == "UNKNOWN_GATEWAY" else NotFound
    elif status in (502, 504):
        kind = GatewayUnavailable
    elif status == 503:
        kind = StreamUnavailable
    raise kind(status, code, message, field if isinstance(field, str) else None, body)
