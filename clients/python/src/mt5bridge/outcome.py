"""What one order intent came to (docs/API.md §5), as the native clients return it: an
OrderResult value for every outcome the API answers, never an exception for a refusal.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any, Dict, Optional


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


# Leave for "omitted" in modify(): None there means "remove the stop"
KEEP: Any = _Keep()


@dataclass(frozen=True)
class OrderResult:
    """What happened to one order intent; see docs/API.md §5."""

    outcome: str  # FILLED | DENIED | REJECTED | ERROR | UNKNOWN
    gateway: str
    client_order_id: str
    reply: Optional[Dict[str, Any]] = None  # the gateway's reply (FILLED, REJECTED, ERROR)
    denial: Optional[Dict[str, Any]] = None  # {code, message, context} (DENIED)
    reason: Optional[str] = None  # why the outcome is not known (UNKNOWN)
    http_status: int = 0

    @classmethod
    def from_json(cls, body: Dict[str, Any], http_status: int) -> OrderResult:
        return cls(
            outcome=str(body["outcome"]),
            gateway=str(body.get("gateway", "")),
            client_order_id=str(body["client_order_id"]),
            reply=body.get("reply"),
            denial=body.get("denial"),
            reason=body.get("reason"),
            http_status=http_status,
        )

    @property
    def filled(self) -> bool:
        return self.outcome == "FILLED"

    @property
    def ticket(self) -> Optional[int]:
        """Position ticket of a fill."""
        return None if self.reply is None else self.reply.get("ticket")

    @property
    def code(self) -> Optional[str]:
        """The denial code (DENIED) or the gateway's error_code (REJECTED, ERROR)."""
        if self.denial is not None:
            return self.denial.get("code")
        return None if self.reply is None else self.reply.get("error_code")

    @property
    def message(self) -> str:
        if self.denial is not None:
            return str(self.denial.get("message", ""))
        if self.reason is not None:
            return self.reason
        return "" if self.reply is None else str(self.reply.get("error_msg", ""))


def new_client_order_id(prefix: str = "py") -> str:
    """A fresh id: ≤ 24 characters of [A-Za-z0-9_-], time-ordered, unique per intent."""
    return f"{prefix[:3]}-{int(time.time() * 1000):x}-{secrets.token_hex(4)}"
