"""Finding agent-inf's API: the precedence of arguments, environment and the agent's config,
reading api.listen and api.token_file as the agent-inf CLI does, with and without PyYAML."""

from __future__ import annotations

import os
import re
import sys
import tempfile
import unittest
from typing import Dict, Optional

from mt5bridge import SettingsError
from mt5bridge.settings import api_base_url, discover, read_token_file
from support import repo_file

CONFIG = """\
# agent-inf config (only the parts the client reads matter)
agent:
  name: inf-1
api:
  listen: "127.0.0.1:9100"   # the strategy API
  auth: token
  token_file: keys/api.token
  operator_token_file: keys/operator.token
state_dir: state
"""


class SettingsTest(unittest.TestCase):
    def setUp(self) -> None:
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.dir = folder.name
        os.mkdir(os.path.join(self.dir, "keys"))
        self.config = self.write("agent-inf.yaml", CONFIG)
        self.write("keys/api.token", "secret-token\n", 0o600)
        cwd = os.getcwd()
        self.addCleanup(os.chdir, cwd)

    def write(self, name: str, text: str, mode: int = 0o644) -> str:
        path = os.path.join(self.dir, name)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(path, mode)
        return path

    def found(self, env: Dict[str, str], **arguments: Optional[str]) -> tuple:
        endpoint = discover(env=env, **arguments)
        return endpoint.url, endpoint.token

    def test_precedence(self) -> None:
        env = {"MT5BRIDGE_URL": "http://127.0.0.1:9200", "MT5BRIDGE_TOKEN": "from-env",
               "AGENT_INF_CONFIG": self.config}
        self.assertEqual(self.found(env, url="http://localhost:9300", token="arg"),
                         ("http://localhost:9300", "arg"))
        self.assertEqual(self.found(env, url="http://localhost:9300/"),
                         ("http://localhost:9300", "from-env"))
        self.assertEqual(self.found(env, config=self.config), ("http://127.0.0.1:9100", "from-env"))
        self.assertEqual(self.found(env), ("http://127.0.0.1:9200", "from-env"))
        del env["MT5BRIDGE_URL"], env["MT5BRIDGE_TOKEN"]
        self.assertEqual(self.found(env), ("http://127.0.0.1:9100", "secret-token"))
        # As the agent does, AGENT_INF_API_LISTEN overrides api.listen
        env["AGENT_INF_API_LISTEN"] = "0.0.0.0:9400"
        self.assertEqual(self.found(env), ("http://127.0.0.1:9400", "secret-token"))
        self.assertEqual(self.found({}), ("http://127.0.0.1:8765", None))

    def test_agent_inf_yaml_in_the_working_directory(self) -> None:
        os.chdir(self.dir)
        self.assertEqual(self.found({}), ("http://127.0.0.1:9100", "secret-token"))

    def test_base_url_as_the_cli_derives_it(self) -> None:
        # Every case of the CLI's own apiBaseUrl table (agent-inf/cli/format.test.ts)
        cases = re.findall(r'\["([^"]+)", "(http://[^"]+)"\]', repo_file("format.test.ts"))
        self.assertGreaterEqual(len(cases), 5)
        for listen, expected in cases:
            self.assertEqual(api_base_url(listen), expected, listen)

    def test_without_pyyaml(self) -> None:
        saved = sys.modules.get("yaml")
        sys.modules["yaml"] = None  # type: ignore[assignment]
        try:
            self.assertEqual(self.found({}, config=self.config),
                             ("http://127.0.0.1:9100", "secret-token"))
            fancy = self.write("flow.yaml", "api: {listen: '127.0.0.1:1'}\n")
            with self.assertRaisesRegex(SettingsError, "install python3-yaml"):
                discover(config=fancy, env={})
            nested = self.write("nested.yaml", "api:\n  listen: 127.0.0.1:1\n    extra: 1\n")
            with self.assertRaisesRegex(SettingsError, "line 3"):
                discover(config=nested, env={})
            self.assertEqual(self.found({}, config=self.write("none.yaml", "agent: {}\n")),
                             ("http://127.0.0.1:8765", None))
        finally:
            if saved is None:
                del sys.modules["yaml"]
            else:
                sys.modules["yaml"] = saved

    def test_the_strategy_token_not_the_operators_and_none_with_auth_none(self) -> None:
        self.write("keys/operator.token", "operator-token\n", 0o600)
        self.assertEqual(self.found({}, config=self.config),
                         ("http://127.0.0.1:9100", "secret-token"))
        no_auth = self.write("none.yaml", "api:\n  listen: 127.0.0.1:9100\n  auth: none\n")
        self.assertEqual(self.found({}, config=no_auth), ("http://127.0.0.1:9100", None))

    @unittest.skipUnless(hasattr(os, "mkfifo") and hasattr(os, "O_NOFOLLOW"), "POSIX only")
    def test_a_fifo_or_a_symlink_is_refused_without_hanging(self) -> None:
        token = os.path.join(self.dir, "keys", "api.token")
        os.rename(token, token + ".real")
        os.symlink(token + ".real", token)
        with self.assertRaisesRegex(SettingsError, "symbolic link is not followed"):
            read_token_file(token)
        os.remove(token)
        os.mkfifo(token, 0o600)
        with self.assertRaisesRegex(SettingsError, "regular file"):
            read_token_file(token)

    def test_bad_files_name_the_problem(self) -> None:
        self.write("keys/api.token", "secret-token\n", 0o644)
        with self.assertRaisesRegex(SettingsError, "chmod 600"):
            discover(config=self.config, env={})
        self.write("keys/api.token", "two words\n", 0o600)
        with self.assertRaisesRegex(SettingsError, "one word"):
            discover(config=self.config, env={})
        self.write("keys/api.token", "  \n", 0o600)
        with self.assertRaisesRegex(SettingsError, "is empty"):
            read_token_file(os.path.join(self.dir, "keys", "api.token"))
        with self.assertRaisesRegex(SettingsError, "cannot read the agent-inf config"):
            discover(config=os.path.join(self.dir, "missing.yaml"), env={})
        bad_listen = self.write("listen.yaml", "api:\n  listen: nowhere\n")
        with self.assertRaisesRegex(SettingsError, "host:port"):
            discover(config=bad_listen, env={})
        with self.assertRaisesRegex(SettingsError, "MT5BRIDGE_URL must be http"):
            discover(env={"MT5BRIDGE_URL": "127.0.0.1:8765"})
        # PyYAML names the syntax error; without it the fallback reader refuses the flow style
        with self.assertRaisesRegex(SettingsError, "not valid YAML|install python3-yaml"):
            discover(config=self.write("broken.yaml", "api: [\n"), env={})


if __name__ == "__main__":
    unittest.main()
