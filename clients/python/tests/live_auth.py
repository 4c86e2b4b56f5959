"""A token-protected agent-inf (test/python/auth.test.ts starts it with api.token_file): the
token found in the agent's config, in MT5BRIDGE_TOKEN or given as an argument; a wrong or
missing one is RES_E_AUTH_FAILED; an agent that is not there is RES_E_INTERNAL_FAIL_CONNECT."""

from __future__ import annotations

import os
import unittest

import mt5bridge as mt5
from mt5bridge import Client
from support import BridgeTestCase, config, live, url


class AuthTest(BridgeTestCase):
    def test_the_token_from_the_agents_config(self) -> None:
        os.environ["AGENT_INF_CONFIG"] = config()
        self.assertTrue(mt5.initialize(), mt5.last_error())
        account = mt5.account_info()
        assert account is not None, mt5.last_error()
        self.assertEqual(Client.discover().account()["login"], account.login)

    def test_the_token_from_the_environment_or_an_argument(self) -> None:
        token = live("MT5BRIDGE_TEST_TOKEN")
        self.assertTrue(mt5.initialize(url=url(), token=token), mt5.last_error())
        os.environ.update(MT5BRIDGE_URL=url(), MT5BRIDGE_TOKEN=token)
        self.assertTrue(mt5.initialize(), mt5.last_error())
        self.assertIsNotNone(mt5.terminal_info())

    def test_a_wrong_or_missing_token(self) -> None:
        self.assertFailed(mt5.initialize(url=url(), token="wrong"), mt5.RES_E_AUTH_FAILED,
                          "HTTP 401")
        self.assertFailed(mt5.initialize(url=url()), mt5.RES_E_AUTH_FAILED, "MT5BRIDGE_TOKEN")
        # A token argument wins over the config's token file
        self.assertFailed(mt5.initialize(config=config(), token="wrong"), mt5.RES_E_AUTH_FAILED)
        with self.assertRaises(mt5.Unauthorized):
            Client(url(), "wrong").health()

    def test_an_agent_that_is_not_there(self) -> None:
        self.assertFailed(mt5.initialize(url="http://127.0.0.1:9"),
                          mt5.RES_E_INTERNAL_FAIL_CONNECT, "Connection refused")
        self.assertFailed(mt5.account_info(), mt5.RES_E_INTERNAL_FAIL_CONNECT, "initialize()")


if __name__ == "__main__":
    live("MT5BRIDGE_TEST_URL")
    unittest.main()
