"""The one connection of the MetaTrader5-style functions and their last error, as MetaTrader5
keeps one terminal connection per process, and the one place a failure becomes a last_error()
code (mql5.com/en/docs/integration/python_metatrader5/mt5lasterror_py).

MetaTrader5's functions do not raise on failure: they return None (False for the boolean ones)
and set last_error(). `call()` gives every function here that convention.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, Optional, Tuple, TypeVar

from . import constants as c
from .client import Client
from .errors import (
    ApiError,
    ApiUnreachable,
    Forbidden,
    GatewayUnavailable,
    InvalidRequest,
    NotFound,
    SettingsError,
    Unauthorized,
)

T = TypeVar("T")

SUCCESS = (c.RES_S_OK, "Success")


@dataclass(frozen=True)
class Connection:
    client: Client
    # The gateway every call goes to; "" until initialize() learned agent-inf's default
    gateway: str
    login: int
    version: str


class BridgeError(Exception):
    """A failure already phrased as last_error(): raised inside call(), never out of it."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


_lock = threading.Lock()
_connection: Optional[Connection] = None
_last_error: Tuple[int, str] = SUCCESS


def last_error() -> Tuple[int, str]:
    return _last_error


def set_error(code: int, message: str) -> None:
    global _last_error
    _last_error = (code, message)


def connect(connection: Connection) -> None:
    global _connection
    with _lock:
        _connection = connection


def disconnect() -> None:
    global _connection
    with _lock:
        _connection = None


def current() -> Connection:
    connection = _connection
    if connection is None:
        raise BridgeError(c.RES_E_INTERNAL_FAIL_CONNECT,
                          "not connected to agent-inf: call initialize() first")
    return connection


def call(body: Callable[[], T], failed: T) -> T:
    """Run one MetaTrader5-style function: its value and last_error() "Success", or `failed`
    and last_error() saying why."""
    try:
        value = body()
    except BridgeError as error:
        set_error(error.code, error.message)
        return failed
    except (ApiError, ApiUnreachable, SettingsError) as error:
        set_error(*describe(error))
        return failed
    except (KeyError, ValueError, TypeError) as error:
        # An answer without the fields the API documents: agent-inf and this package disagree
        set_error(c.RES_E_INTERNAL_FAIL,
                  f"unexpected answer from agent-inf ({type(error).__name__}: {error}); "
                  "check that mt5bridge and agent-inf are the same version")
        return failed
    set_error(*SUCCESS)
    return value


def describe(error: Exception) -> Tuple[int, str]:
    """The last_error() pair for a failure of the native client."""
    if isinstance(error, ApiUnreachable):
        code = c.RES_E_INTERNAL_FAIL_TIMEOUT if error.timed_out else c.RES_E_INTERNAL_FAIL_CONNECT
        return code, f"agent-inf is not reachable: {error}"
    if isinstance(error, SettingsError):
        return c.RES_E_INTERNAL_FAIL_INIT, str(error)
    if isinstance(error, Unauthorized):
        return (c.RES_E_AUTH_FAILED, "agent-inf refused the API token (HTTP 401): set "
                "MT5BRIDGE_TOKEN or pass token= as in the agent's api.token_file")
    if isinstance(error, Forbidden):
        return c.RES_E_FAIL, f"agent-inf refused the request ({error.code}): {error.message}"
    if isinstance(error, InvalidRequest):
        where = f" (field {error.field})" if error.field else ""
        return c.RES_E_INVALID_PARAMS, f"invalid request{where}: {error.message}"
    if isinstance(error, NotFound):
        return c.RES_E_NOT_FOUND, f"{error.code}: {error.message}"
    if isinstance(error, GatewayUnavailable):
        if error.status == 504:
            return c.RES_E_INTERNAL_FAIL_TIMEOUT, f"the gateway did not answer: {error.message}"
        return c.RES_E_FAIL, f"the gateway refused the request: {error.message}"
    if isinstance(error, ApiError):
        return c.RES_E_INTERNAL_FAIL, f"agent-inf failed: {error}"
    return c.RES_E_FAIL, str(error)
