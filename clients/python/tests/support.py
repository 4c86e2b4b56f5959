"""What the tests share: the live stack's address (set by the bun wrappers in test/python/, which
start agent-gtw and agent-inf as processes), the repository's own files for cross-checks, and a
TestCase that leaves the module's connection and the environment as it found them.
"""

from __future__ import annotations

import os
import re
import unittest
from typing import Dict

import mt5bridge as mt5

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
ENV_KEYS = ("MT5BRIDGE_URL", "MT5BRIDGE_TOKEN", "AGENT_INF_CONFIG", "AGENT_INF_API_LISTEN")


def live(name: str) -> str:
    """A value the bun wrapper set; a live module run without the agents fails loudly."""
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: run the live tests through `bun test "
                           "test/python`, which starts the agents")
    return value


def url() -> str:
    return live("MT5BRIDGE_TEST_URL")


def config() -> str:
    return live("MT5BRIDGE_TEST_CONFIG")


def repo_file(name: str) -> str:
    """The text of the repository's one file called `name` (found wherever it lives, since
    folders move), for cross-checks against the TypeScript side."""
    found = []
    for folder, dirs, names in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in ("node_modules", ".git", "dist")]
        if name in names:
            found.append(os.path.join(folder, name))
    if len(found) != 1:
        raise AssertionError(f"expected one {name} in the repository, found {found}")
    with open(found[0], encoding="utf-8") as handle:
        return handle.read()


def ts_object(source: str, name: str) -> Dict[str, str]:
    """KEY: value pairs of `export const <name> = { ... }` in a TypeScript file."""
    match = re.search(r"export const " + name + r" = \{(.*?)\n\}", source, re.DOTALL)
    if match is None:
        raise AssertionError(f"no `export const {name}` object")
    return dict(re.findall(r"^\s*([A-Z_]+): ([^,\n]+),", match.group(1), re.MULTILINE))


class BridgeTestCase(unittest.TestCase):
    """Restores os.environ and shuts the module's connection down after each test."""

    def setUp(self) -> None:
        saved = {key: os.environ.get(key) for key in ENV_KEYS}
        for key in ENV_KEYS:
            os.environ.pop(key, None)

        def restore() -> None:
            mt5.shutdown()
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

        self.addCleanup(restore)

    def assertFailed(self, value: object, code: int, fragment: str = "") -> None:
        """MetaTrader5's failure convention: None or False, and last_error() saying why."""
        self.assertIn(value, (None, False))
        error = mt5.last_error()
        self.assertEqual(error[0], code, error)
        self.assertIn(fragment, error[1])

    def connect(self, **options: object) -> None:
        self.assertTrue(mt5.initialize(url=url(), token=os.environ.get("MT5BRIDGE_TEST_TOKEN"),
                                       **options), mt5.last_error())
