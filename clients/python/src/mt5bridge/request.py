"""A trade request dict as MetaTrader5 takes it (order_send, order_check), checked and read into
MetaTrader5's TradeRequest (constants/structures/mqltraderequest): fields absent are 0 or "", a
field MetaTrader5 does not have is refused rather than ignored.
"""

from __future__ import annotations

import math
import numbers
import re
from datetime import datetime
from typing import Any, Dict, Mapping, Optional, Tuple

from .records import TradeRequest
from .results import invalid

INT_FIELDS = ("action", "magic", "order", "deviation", "type", "type_filling", "type_time",
              "position", "position_by")
FLOAT_FIELDS = ("volume", "price", "stoplimit", "sl", "tp")
TEXT_FIELDS = ("symbol", "comment")
# Not a MetaTrader5 field: your own idempotency key, to resend an intent whose outcome you
# could not learn (docs/PYTHON.md)
CLIENT_ORDER_ID = "client_order_id"
_CLIENT_ORDER_ID = re.compile(r"[A-Za-z0-9_-]{1,24}")


def parse_request(request: Any) -> Tuple[TradeRequest, Optional[str], Dict[str, Any]]:
    """The request as MetaTrader5's TradeRequest (absent fields 0 or ""), your client_order_id
    if any, and the fields as given. BridgeError RES_E_INVALID_PARAMS when malformed."""
    if not isinstance(request, Mapping):
        raise invalid(f"the request must be a dict, was {type(request).__name__}")
    unknown = sorted(str(key) for key in request
                     if key not in TradeRequest._fields and key != CLIENT_ORDER_ID)
    if unknown:
        raise invalid(f"unknown request field(s) {', '.join(unknown)}; the fields are "
                       f"{', '.join(TradeRequest._fields)}")
    given = dict(request)
    fields: Dict[str, Any] = {}
    for name in TradeRequest._fields:
        value = given.get(name)
        if name in INT_FIELDS:
            fields[name] = _integer(name, value)
        elif name in FLOAT_FIELDS:
            fields[name] = _number(name, value)
        elif name in TEXT_FIELDS:
            if value is not None and not isinstance(value, str):
                raise invalid(f"{name} must be a string, was {type(value).__name__}")
            fields[name] = value or ""
        else:  # expiration: a datetime or Unix seconds, as MetaTrader5 takes it
            fields[name] = (int(value.timestamp()) if isinstance(value, datetime)
                            else _integer(name, value))
    client_order_id = given.get(CLIENT_ORDER_ID)
    if client_order_id is not None and (not isinstance(client_order_id, str)
                                        or not _CLIENT_ORDER_ID.fullmatch(client_order_id)):
        raise invalid("client_order_id must be 1-24 characters of A-Z a-z 0-9 _ -")
    return TradeRequest(**fields), client_order_id, given


def _integer(name: str, value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise invalid(f"{name} must be an integer, was {value!r}")
    if int(value) < 0:
        raise invalid(f"{name} must not be negative, was {value}")
    return int(value)


def _number(name: str, value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise invalid(f"{name} must be a number, was {value!r}")
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise invalid(f"{name} must be a finite number ≥ 0, was {value}")
    return number
