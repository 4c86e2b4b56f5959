"""The HTTP exchange with agent-inf for the blocking client: one request, its answer bounded
and decoded, and every network failure as ApiUnreachable (refused, timed out or broken).
Not the API's routes (client.py) and not the stream's framing (sse.py).
"""

from __future__ import annotations

import http.client
import json
import socket
import urllib.error
import urllib.request
from typing import Any, Optional, Tuple

from .errors import ApiUnreachable

# agent-inf's answers are small JSON documents; anything bigger is not one of them
MAX_ANSWER_BYTES = 64 * 1024 * 1024
NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, OSError)


def build_opener() -> urllib.request.OpenerDirector:
    # No proxies: the API is on this host, and an http_proxy variable must not reroute orders.
    # No redirects: agent-inf never sends one, and following it would hand the bearer token to
    # whatever address it names
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def exchange(opener: urllib.request.OpenerDirector, request: urllib.request.Request,
             timeout: float, what: str) -> Tuple[int, Any]:
    """The status and decoded body of one request; ApiUnreachable when there is none."""
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, decode_body(_read_bounded(response),
                                                response.headers.get("Content-Type"))
    except urllib.error.HTTPError as error:
        try:
            return error.code, decode_body(_read_bounded(error), error.headers.get("Content-Type"))
        finally:
            error.close()
    except NETWORK_ERRORS as error:
        raise unreachable(what, error) from error


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str,
                         headers: Any, newurl: str) -> None:
        return None  # the 3xx answer itself comes back, as an error status


def _read_bounded(response: Any) -> bytes:
    raw: bytes = response.read(MAX_ANSWER_BYTES + 1)
    if len(raw) > MAX_ANSWER_BYTES:
        raise ApiUnreachable(f"the answer is over {MAX_ANSWER_BYTES} bytes: not agent-inf's")
    return raw


def decode_body(raw: bytes, content_type: Optional[str]) -> Any:
    text = raw.decode("utf-8", errors="replace")
    if "json" in (content_type or ""):
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text


def unreachable(what: str, error: BaseException) -> ApiUnreachable:
    reason = getattr(error, "reason", error)
    timed_out = isinstance(reason, (socket.timeout, TimeoutError))
    refused = isinstance(reason, ConnectionRefusedError)
    return ApiUnreachable(f"{what}: {reason}", timed_out=timed_out, refused=refused)
