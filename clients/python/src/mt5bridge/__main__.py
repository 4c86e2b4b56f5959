"""python3 -m mt5bridge: query agent-inf's API from the shell (health, account, positions, one
symbol, one order's record, metrics, the stream). The address and token are found as
initialize() finds them (mt5bridge/settings.py), or given with --url / --token-file / --config.

Exit status: 0 ok, 1 the API refused or could not be reached, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable, Dict, List, Optional

from .client import Client
from .errors import ApiError, ApiUnreachable, SettingsError
from .settings import read_token_file


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m mt5bridge",
                                     description="Query the agent-inf local strategy API.")
    parser.add_argument("--url", help="API address, e.g. http://127.0.0.1:8765 (or MT5BRIDGE_URL)")
    parser.add_argument("--token-file", help="file holding the bearer token (or MT5BRIDGE_TOKEN)")
    parser.add_argument("--config", help="agent-inf's config file (or AGENT_INF_CONFIG)")
    parser.add_argument("--gateway")
    parser.add_argument("command", choices=["health", "account", "positions", "symbol", "order",
                                            "metrics", "stream"])
    parser.add_argument("argument", nargs="?",
                        help="symbol (symbol), client_order_id (order), symbols (stream: A,B)")
    args = parser.parse_args(argv)
    if args.command in ("symbol", "order") and not args.argument:
        parser.error(f"{args.command} needs an argument")
    try:
        token: Optional[str] = read_token_file(args.token_file) if args.token_file else None
        client = Client.discover(args.url, token, config=args.config, gateway=args.gateway)
        if args.command == "metrics":
            print(client.metrics(), end="")
            return 0
        if args.command == "stream":
            quotes = args.argument.split(",") if args.argument else []
            for message in client.stream(quotes=quotes, events=True):
                print(json.dumps(message.data), flush=True)
            return 0
        commands: Dict[str, Callable[[], Any]] = {
            "health": client.health,
            "account": client.account,
            "positions": client.positions,
            "symbol": lambda: client.symbol_info(args.argument),
            "order": lambda: client.get_order(args.argument),
        }
        result = commands[args.command]()
    except (ApiError, ApiUnreachable, SettingsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
