"""Server-Sent Events as agent-inf sends them (GET /v1/stream, docs/API.md §9), shared by the
blocking and the asyncio stream: the query, the message type, and a parser fed one line at a
time (WHATWG HTML "Server-sent events", §9.2.6 interpreting an event stream).
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional

# A longer line is not an agent-inf message (its messages are small JSON objects)
MAX_LINE_BYTES = 1_048_576
# The agent writes a keepalive comment every 15 s; this much silence means a dead connection
DEFAULT_IDLE_TIMEOUT = 45.0
# Events that are the last of a connection: the agent closes it after them
FINAL_EVENTS = ("RESYNC_REQUIRED", "SHUTDOWN")


@dataclass(frozen=True)
class StreamMessage:
    """One message of the stream.

    event   SNAPSHOT, QUOTE, DEAL, POSITION_CLOSED, POSITION_MODIFIED, LINK_STATE, STREAM_STATE,
            BAR, BAR_GAP, RESYNC_REQUIRED or SHUTDOWN (the last two end the connection;
            streams reconnect)
    data    the message's JSON object (its "event" field repeats the name)
    id      the trade event's id (None for quotes): resuming after it loses nothing
    """

    event: str
    data: Dict[str, Any]
    id: Optional[str] = None


def stream_path(quotes: Iterable[str], events: bool, gateway: Optional[str],
                bars: Iterable[str] = ()) -> str:
    """The path and query of GET /v1/stream; `bars` are "SYMBOL:TIMEFRAME" pairs."""
    query = {"events": "1" if events else "0"}
    symbols = ",".join(quotes)
    if symbols:
        query["quotes"] = symbols
    pairs = ",".join(bars)
    if pairs:
        query["bars"] = pairs
    if gateway:
        query["gateway"] = gateway
    return "/v1/stream?" + urllib.parse.urlencode(query)


class SseParser:
    """Feed it the stream's lines (bytes, without or with their line end); it returns a message
    when a blank line completes one."""

    def __init__(self) -> None:
        self._event = "message"
        self._id: Optional[str] = None
        self._data: List[str] = []

    def feed(self, raw: bytes) -> Optional[StreamMessage]:
        line = raw.decode("utf-8").rstrip("\r\n")
        if line == "":
            message = None
            if self._data:
                text = "\n".join(self._data)
                try:
                    data = json.loads(text)
                except ValueError as error:
                    raise ValueError(f"stream: a message is not JSON ({error}): {text[:80]}") \
                        from error
                if not isinstance(data, dict):
                    raise ValueError(f"stream: a message must be a JSON object, was {text[:80]}")
                message = StreamMessage(self._event, data, self._id)
            self._event, self._id, self._data = "message", None, []
            return message
        if line.startswith(":"):
            return None  # keepalive comment
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "event":
            self._event = value
        elif field == "id":
            self._id = value
        elif field == "data":
            self._data.append(value)
        return None
