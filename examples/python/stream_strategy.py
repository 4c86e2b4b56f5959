#!/usr/bin/env python3
"""A toy strategy driven by the agent's stream (GET /v1/stream, through mt5bridge.Client): no
polling at all.

Not a trading idea, a template for reacting to events:
  - quotes arrive as they tick (conflated to the latest if the strategy is slow)
  - when flat, open a position with SL and TP placed --sl-points / --tp-points from the quote
  - learn from the stream when the broker closes it (POSITION_CLOSED with reason SL or TP,
    also stop-out SO), and from DEAL events what filled at which price
  - the stream reconnects by itself (Last-Event-ID): a fill that happens meanwhile still arrives
  - stop after --trades round trips, closing what is still open

usage: python3 stream_strategy.py --url http://127.0.0.1:8765 --symbol EURUSD --trades 3
Exit status: 0 done, 1 could not reach the API or was refused, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import sys

from mt5bridge import ApiError, ApiUnreachable, Client, SettingsError
from mt5bridge.settings import read_token_file


def log(message: str) -> None:
    print(message, flush=True)


class StreamStrategy:
    def __init__(self, client: Client, args: argparse.Namespace) -> None:
        self.client = client
        self.args = args
        self.point = 0.0
        self.digits = 5
        self.ticket: int | None = None
        self.side = "BUY"
        self.done = 0
        self.bid: float | None = None
        self.ask: float | None = None

    def run(self) -> int:
        # One query for the specification (point, digits); prices then come from the stream
        info = self.client.symbol_info(self.args.symbol)
        self.point, self.digits = info["point"], info["digits"]
        for message in self.client.stream(quotes=[self.args.symbol], events=True):
            if message.event == "SNAPSHOT":
                log(f"stream {message.data['state']}: "
                    f"{len(message.data.get('positions', []))} open position(s)")
                for quote in message.data.get("quotes", []):
                    self.on_quote(quote)
            elif message.event == "QUOTE":
                self.on_quote(message.data)
            elif message.event == "DEAL":
                deal = message.data["deal"]
                log(f"fill: deal {deal['ticket']} {deal['side']} {deal['volume']} "
                    f"{deal['symbol']} at {deal['price']} ({deal['entry']}, {deal['reason']})")
            elif message.event == "POSITION_CLOSED":
                self.on_closed(message.data)
            elif message.event in ("STREAM_STATE", "LINK_STATE"):
                log(f"{message.event}: {message.data.get('state') or message.data.get('mt5')}")
            if self.done >= self.args.trades:
                log(f"done: {self.done} round trip(s)")
                return 0
        return 0

    def on_quote(self, quote: dict) -> None:
        self.bid, self.ask = quote["bid"], quote["ask"]
        if self.ticket is None:
            self.enter()

    def enter(self) -> None:
        assert self.bid is not None and self.ask is not None
        buy = self.side == "BUY"
        close_price = self.bid if buy else self.ask
        sign = 1 if buy else -1
        sl = round(close_price - sign * self.args.sl_points * self.point, self.digits)
        tp = round(close_price + sign * self.args.tp_points * self.point, self.digits)
        result = self.client.open(self.args.symbol, self.side, self.args.volume, sl=sl, tp=tp,
                                  comment="stream-strategy")
        if result.filled:
            self.ticket = result.ticket
            log(f"opened {self.side} ticket {self.ticket}: sl {sl} tp {tp}")
        else:
            log(f"not opened: {result.outcome} {result.code or ''} {result.message}")

    def on_closed(self, event: dict) -> None:
        if event["ticket"] != self.ticket:
            return
        reason = event["reason"]
        if reason in ("SL", "TP", "SO"):
            what = {"SL": "stop-loss", "TP": "take-profit", "SO": "stop-out"}[reason]
            log(f"closed by {what} ({reason}): ticket {self.ticket} at {event['deal']['price']}")
        else:
            log(f"closed ({reason}): ticket {self.ticket}")
        self.ticket = None
        self.done += 1
        # Alternate sides, just to show both
        self.side = "SELL" if self.side == "BUY" else "BUY"

    def close_open(self) -> None:
        if self.ticket is not None:
            result = self.client.close(self.ticket)
            log(f"closed ticket {self.ticket} on exit: {result.outcome}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="A strategy that reacts to the agent's stream.")
    parser.add_argument("--url", help="API address (default: MT5BRIDGE_URL or the agent's config)")
    parser.add_argument("--token-file", help="file holding the bearer token (or MT5BRIDGE_TOKEN)")
    parser.add_argument("--symbol", default="EURUSD")
    parser.add_argument("--volume", type=float, default=0.01)
    parser.add_argument("--sl-points", type=int, default=100)
    parser.add_argument("--tp-points", type=int, default=100)
    parser.add_argument("--trades", type=int, default=3, help="round trips before stopping")
    args = parser.parse_args(argv)
    if args.trades < 1 or args.sl_points < 1 or args.tp_points < 1:
        parser.error("--trades, --sl-points and --tp-points must be positive")
    try:
        token = read_token_file(args.token_file) if args.token_file else None
        client = Client.discover(args.url, token)
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    strategy = StreamStrategy(client, args)
    try:
        return strategy.run()
    except (ApiError, ApiUnreachable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        try:
            strategy.close_open()
        except (ApiError, ApiUnreachable):
            pass


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
