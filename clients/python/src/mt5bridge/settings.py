"""Where agent-inf's API is and which token it wants, found the way the agent-inf CLI finds them
(agent-inf/cli/api-commands.ts, shared/cli.ts locateConfig, agent-inf/config.ts), first match wins:

1. arguments: a URL (with its token), or a config file
2. MT5BRIDGE_URL (token from MT5BRIDGE_TOKEN)
3. the agent's config: AGENT_INF_CONFIG, else ./agent-inf.yaml if it exists; its api.listen
   (overridden by AGENT_INF_API_LISTEN, as the agent does) and api.token_file (the strategy's
   token; agent-inf takes one by default; none with `api.auth: none`)
4. http://127.0.0.1:8765, agent-inf's default

A token argument, then MT5BRIDGE_TOKEN, win over the config's token_file. The token file must be
a regular file readable by its owner only, as the agent demands, since whoever has it can
trade; it is opened without following a symbolic link and without waiting on a FIFO.
"""

from __future__ import annotations

import importlib
import os
import re
import stat
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional

from .errors import SettingsError

DEFAULT_LISTEN = "127.0.0.1:8765"
CONFIG_ENV = "AGENT_INF_CONFIG"
CONFIG_FILE = "agent-inf.yaml"
LISTEN_ENV = "AGENT_INF_API_LISTEN"
URL_ENV = "MT5BRIDGE_URL"
TOKEN_ENV = "MT5BRIDGE_TOKEN"
MAX_TOKEN_BYTES = 4096
MAX_CONFIG_BYTES = 1_048_576


@dataclass(frozen=True)
class Endpoint:
    url: str
    token: Optional[str]
    # What the address came from, for error messages: "arguments", "MT5BRIDGE_URL", a file
    source: str


def discover(url: Optional[str] = None, token: Optional[str] = None,
             config: Optional[str] = None,
             env: Optional[Mapping[str, str]] = None) -> Endpoint:
    environ = os.environ if env is None else env
    env_token = environ.get(TOKEN_ENV) or None
    if url:
        return Endpoint(_check_url(url, "the url argument"), token or env_token, "arguments")
    if config:
        return _from_config(config, token or env_token, environ)
    env_url = environ.get(URL_ENV)
    if env_url:
        return Endpoint(_check_url(env_url, URL_ENV), token or env_token, URL_ENV)
    located = environ.get(CONFIG_ENV) or (CONFIG_FILE if os.path.isfile(CONFIG_FILE) else None)
    if located:
        return _from_config(located, token or env_token, environ)
    return Endpoint(api_base_url(DEFAULT_LISTEN), token or env_token, "default")


def api_base_url(listen: str) -> str:
    """The URL a client on this host uses for api.listen: an unspecified address (0.0.0.0, ::)
    is reached on loopback, and an IPv6 host gets its brackets (as agent-inf/cli/api-commands.ts)."""
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    if host == "::":
        host = "::1"
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}"


def read_token_file(path: str) -> str:
    """The bearer token: trimmed, one word, from a small regular file only its owner can read.
    Opened without following a symlink and without blocking (a FIFO must not hang us); its type
    and mode are checked on that same descriptor before anything is read."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as error:
        hint = ""
        if os.path.islink(path):
            hint = " (a symbolic link is not followed: name the file itself)"
        raise SettingsError(f"cannot read api token file {path}: {error}{hint}") from error
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_TOKEN_BYTES:
            raise SettingsError(f"api token file {path} must be a small regular file "
                                f"(≤ {MAX_TOKEN_BYTES} bytes)")
        if os.name == "posix" and info.st_mode & 0o077:
            mode = stat.S_IMODE(info.st_mode)
            raise SettingsError(f"api token file {path} is accessible by group or others "
                                f"(mode {mode:04o}); fix it with: chmod 600 {path}")
        raw = os.read(fd, MAX_TOKEN_BYTES + 1)
    except OSError as error:
        raise SettingsError(f"cannot read api token file {path}: {error}") from error
    finally:
        os.close(fd)
    token = raw.decode("utf-8", errors="replace").strip()
    if token == "":
        raise SettingsError(f"api token file {path} is empty")
    if re.search(r"\s", token):
        raise SettingsError(f"api token file {path}: the token must be one word "
                            "(no spaces or lines)")
    return token


def _from_config(path: str, token: Optional[str], env: Mapping[str, str]) -> Endpoint:
    api = read_api_section(path)
    listen = env.get(LISTEN_ENV) or api.get("listen") or DEFAULT_LISTEN
    if not isinstance(listen, str) or not re.fullmatch(r"[A-Za-z0-9.:\[\]-]+:\d{1,5}", listen):
        raise SettingsError(f"{path}: api.listen must be host:port, was {listen!r}")
    token_file = api.get("token_file")
    # auth: none takes no token; with auth: token (the default) token_file names the strategy's
    if token is None and token_file is not None and api.get("auth") != "none":
        if not isinstance(token_file, str) or token_file == "":
            raise SettingsError(f"{path}: api.token_file must be a file name")
        base = os.path.dirname(os.path.abspath(path))
        token = read_token_file(os.path.join(base, token_file))
    return Endpoint(api_base_url(listen), token, path)


def read_api_section(path: str) -> Dict[str, Any]:
    """The `api` mapping of an agent-inf config file ({} when it has none)."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as error:
        raise SettingsError(f"cannot read the agent-inf config {path}: {error}; set "
                            f"{CONFIG_ENV} to the agent's config, or {URL_ENV}") from error
    if len(raw) > MAX_CONFIG_BYTES:
        raise SettingsError(f"{path} is over {MAX_CONFIG_BYTES} bytes: not an agent-inf config")
    text = raw.decode("utf-8", errors="replace")
    try:
        # Debian's python3-yaml, when present, reads the full YAML language
        yaml = importlib.import_module("yaml")
    except ImportError:
        return _read_api_block(path, text)
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise SettingsError(f"{path} is not valid YAML: {error}") from error
    api = document.get("api", {}) if isinstance(document, dict) else None
    if api is None:
        return {}
    if not isinstance(api, dict):
        raise SettingsError(f"{path}: api must be a mapping")
    return api


_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*:(.*)$")


def _read_api_block(path: str, text: str) -> Dict[str, Any]:
    """Without PyYAML: the block-style `api:` section of plain `key: scalar` lines, which is
    how agent-inf configs are written. Anything fancier is refused with the way out."""
    api: Dict[str, Any] = {}
    inside = False
    indent: Optional[int] = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped == "" or stripped.startswith("#"):
            continue
        depth = len(line) - len(line.lstrip(" "))
        if depth == 0:
            match = _KEY.match(stripped)
            inside = match is not None and match.group(1) == "api"
            if inside and match is not None and _scalar(match.group(2)) != "":
                raise _too_fancy(path, number)
            continue
        if not inside:
            continue
        if indent is None:
            indent = depth
        match = _KEY.match(stripped)
        if depth != indent or match is None:
            raise _too_fancy(path, number)
        api[match.group(1)] = _scalar(match.group(2))
    return api


def _scalar(text: str) -> str:
    value = text.strip()
    if value[:1] in ("'", '"'):
        quote = value[0]
        end = value.find(quote, 1)
        if end > 0:
            return value[1:end]
    return value.split(" #", 1)[0].strip()


def _too_fancy(path: str, line: int) -> SettingsError:
    return SettingsError(f"{path} line {line}: the api section is not plain `key: value` lines; "
                         f"install python3-yaml to read it, or set {URL_ENV} and {TOKEN_ENV}")


def _check_url(url: str, what: str) -> str:
    if not re.fullmatch(r"https?://[^\s/?#]+/?", url):
        raise SettingsError(f"{what} must be http://host:port (agent-inf's API), was {url!r}")
    return url.rstrip("/")
