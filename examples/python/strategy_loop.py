#!/usr/bin/env python3
"""A toy strategy on agent-inf's own API (mt5bridge.Client): poll a quote, trade one position
with SL/TP, and handle each of the API's order outcomes.

Not a trading idea, a template for the plumbing a real strategy needs:
  - poll GET /v1/symbols/{symbol} every --interval seconds
  - signal: moving-average crossover (--signal ma) or a seeded coin flip (--signal random)
  - when flat and there is a signal: open with SL and TP placed from the live quote
  - watch the position (SL/TP may close it at the broker); close it after --hold iterations or
    when the signal flips
  - handle every outcome: DENIED (risk said no: wait, never hammer), REJECTED (spent id: a new
    signal gets a new id), ERROR (nothing happened), UNKNOWN (keep the id, resolve it before
    doing anything else, never switch to a new id)
  - stop after --iterations (0 = run until Ctrl-C) and close what it opened (--keep-open to not)

usage: python3 strategy_loop.py --url http://127.0.0.1:8765 --iterations 20
       (without --url: MT5BRIDGE_URL, else the agent's config, as mt5bridge.initialize() finds it)
Exit status: 0 done, 1 could not reach the API or was refused (token), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import threading
from collections import deque

from mt5bridge import (
    ApiError,
    ApiUnreachable,
    Client,
    GatewayUnavailable,
    OrderResult,
    SettingsError,
    Unauthorized,
)
from mt5bridge.settings import read_token_file

# Denials that mean "not now" for every order: back off rather than ask again next second
BACKOFF_DENIALS = {"TRADING_HALTED", "REDUCING_ONLY", "BREAKER_OPEN", "DAILY_LOSS_LIMIT",
                   "MAX_DRAWDOWN", "RATE_LIMIT_PER_SECOND", "RATE_LIMIT_PER_MINUTE"}
BACKOFF_ITERATIONS = 5


def log(message: str) -> None:
    print(message, flush=True)


class Strategy:
    def __init__(self, client: Client, args: argparse.Namespace) -> None:
        self.client = client
        self.args = args
        self.mids: deque[float] = deque(maxlen=max(args.slow, 2))
        self.rng = random.Random(args.seed)
        self.ticket: int | None = None
        self.side: str | None = None
        self.held = 0
        self.pending: OrderResult | None = None  # an order whose outcome is not known yet
        self.pending_intent: dict | None = None
        self.quiet_until = 0
        self.iteration = 0

    # -- one iteration -----------------------------------------------------------------------

    def step(self) -> None:
        self.iteration += 1
        try:
            quote = self.client.symbol_info(self.args.symbol)
        except GatewayUnavailable as error:
            log(f"iteration {self.iteration}: no quote, gateway unavailable ({error.code})")
            return
        self.mids.append((quote["bid"] + quote["ask"]) / 2)
        want = self.signal()
        log(f"iteration {self.iteration}: {self.args.symbol} bid={quote['bid']} "
            f"ask={quote['ask']} signal={want or '-'} position={self.ticket or '-'}")

        if self.pending is not None:
            self.resolve_pending()
            return
        if self.ticket is not None:
            self.watch(want)
        elif want is not None and self.iteration >= self.quiet_until:
            self.open(want, quote)

    def signal(self) -> str | None:
        if self.args.signal == "random":
            return self.rng.choice(("BUY", "SELL"))
        if len(self.mids) < self.args.slow:
            return None
        mids = list(self.mids)
        fast = sum(mids[-self.args.fast:]) / self.args.fast
        slow = sum(mids) / len(mids)
        return "BUY" if fast > slow else "SELL" if fast < slow else None

    # -- orders ------------------------------------------------------------------------------

    def open(self, side: str, quote: dict) -> None:
        distance_sl = self.args.sl_points * quote["point"]
        distance_tp = self.args.tp_points * quote["point"]
        digits = quote["digits"]
        if side == "BUY":
            sl, tp = quote["bid"] - distance_sl, quote["ask"] + distance_tp
        else:
            sl, tp = quote["ask"] + distance_sl, quote["bid"] - distance_tp
        intent = {"symbol": self.args.symbol, "side": side, "volume": self.args.volume,
                  "sl": round(sl, digits), "tp": round(tp, digits), "magic": self.args.magic,
                  "comment": "strategy_loop"}
        self.handle_open(self.client.open(**intent), intent)

    def handle_open(self, result: OrderResult, intent: dict) -> None:
        tag = f"OPEN {result.outcome}"
        if result.outcome == "FILLED":
            self.ticket, self.side, self.held = result.ticket, intent["side"], 0
            log(f"{tag} ticket={self.ticket} side={self.side} price={result.reply.get('price')} "
                f"sl={intent['sl']} tp={intent['tp']} coid={result.client_order_id}")
        elif result.outcome == "DENIED":
            # Risk said no: sending it again will not help; wait for conditions to change
            log(f"{tag} {result.code}: {result.message} coid={result.client_order_id}")
            if result.code in BACKOFF_DENIALS:
                self.quiet_until = self.iteration + BACKOFF_ITERATIONS
        elif result.outcome == "REJECTED":
            # The gateway or MT5 refused and recorded it: this id is spent, a later signal
            # becomes a new intent with a new id
            log(f"{tag} {result.code}: {result.message} coid={result.client_order_id}")
        elif result.outcome == "ERROR":
            # Not taken, nothing happened; this bar's signal is simply dropped
            log(f"{tag} {result.code}: {result.message} coid={result.client_order_id}")
        else:
            self.set_pending(result, {**intent, "client_order_id": result.client_order_id})

    def watch(self, want: str | None) -> None:
        try:
            open_tickets = {p["ticket"] for p in self.client.positions(self.args.symbol)}
        except GatewayUnavailable as error:
            log(f"cannot list positions ({error.code}); holding")
            return
        if self.ticket not in open_tickets:
            log(f"position {self.ticket} closed at the broker (SL/TP or stop-out)")
            self.ticket = None
            return
        self.held += 1
        flipped = want is not None and want != self.side and self.args.signal == "ma"
        if self.held >= self.args.hold or flipped:
            self.close("held long enough" if not flipped else "signal flipped")

    def close(self, why: str) -> None:
        ticket = self.ticket
        result = self.client.close(ticket, comment="strategy_loop")
        if result.outcome == "FILLED":
            log(f"CLOSE FILLED ticket={ticket} price={result.reply.get('price')} ({why}) "
                f"coid={result.client_order_id}")
            self.ticket = None
        elif result.outcome == "UNKNOWN":
            self.set_pending(result, {"close": ticket, "client_order_id": result.client_order_id})
        else:
            # Still open: try again next iteration with a new intent
            log(f"CLOSE {result.outcome} {result.code}: {result.message} ticket={ticket}")
            if result.code == "POSITION_NOT_FOUND":
                self.ticket = None

    def set_pending(self, result: OrderResult, intent: dict) -> None:
        # Never send a new id for the same intent: it could be a second order. Resolve this one
        log(f"{'CLOSE' if 'close' in intent else 'OPEN'} UNKNOWN coid={result.client_order_id}: "
            f"{result.reason}; resolving before anything else")
        self.pending, self.pending_intent = result, intent

    def resolve_pending(self) -> None:
        pending, intent = self.pending, self.pending_intent or {}
        settled = self.client.resolve(pending.client_order_id, pending.gateway or None, timeout=0)
        if settled.outcome == "UNKNOWN":
            if (settled.reason or "").startswith("never seen"):
                # The gateway has no record: the same intent with the SAME id is safe to send
                log(f"coid={pending.client_order_id} never reached the gateway; sending it again")
                self.pending = None
                if "close" in intent:
                    result = self.client.close(intent["close"],
                                               client_order_id=intent["client_order_id"])
                    if result.outcome == "UNKNOWN":
                        self.set_pending(result, intent)
                    elif result.filled:
                        self.ticket = None
                else:
                    self.handle_open(self.client.open(**intent), intent)
            else:
                log(f"coid={pending.client_order_id} still unknown: {settled.reason}")
            return
        log(f"coid={pending.client_order_id} resolved: {settled.outcome}")
        self.pending = None
        if "close" in intent:
            if settled.filled:
                self.ticket = None
        elif settled.filled:
            self.ticket, self.side, self.held = settled.ticket, intent.get("side"), 0

    def flatten(self) -> None:
        if self.ticket is not None and not self.args.keep_open:
            self.close("strategy stopping")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="API address (default: MT5BRIDGE_URL or the agent's config)")
    parser.add_argument("--token-file", help="file holding the bearer token (or MT5BRIDGE_TOKEN)")
    parser.add_argument("--gateway", help="gateway name (default: agent-inf's default)")
    parser.add_argument("--symbol", default="EURUSD")
    parser.add_argument("--volume", type=float, default=0.01)
    parser.add_argument("--iterations", type=int, default=0, help="0 = until Ctrl-C")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
    parser.add_argument("--signal", choices=("ma", "random"), default="ma")
    parser.add_argument("--fast", type=int, default=3, help="fast moving-average length")
    parser.add_argument("--slow", type=int, default=8, help="slow moving-average length")
    parser.add_argument("--seed", type=int, default=None, help="seed for --signal random")
    parser.add_argument("--sl-points", type=float, default=200)
    parser.add_argument("--tp-points", type=float, default=400)
    parser.add_argument("--hold", type=int, default=5, help="close after this many iterations")
    parser.add_argument("--magic", type=int, default=4242)
    parser.add_argument("--keep-open", action="store_true", help="leave the position on exit")
    args = parser.parse_args(argv)
    if args.iterations < 0 or args.interval < 0 or args.hold < 1:
        parser.error("--iterations and --interval must be ≥ 0, --hold ≥ 1")
    if not 1 <= args.fast < args.slow:
        parser.error("need 1 ≤ --fast < --slow")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        token = read_token_file(args.token_file) if args.token_file else None
        client = Client.discover(args.url, token, gateway=args.gateway)
    except SettingsError as error:
        log(f"cannot find the API: {error}")
        return 1
    stop = threading.Event()
    # SIGTERM (systemd, docker) ends the loop like Ctrl-C: finish the step, flatten, exit
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    strategy = Strategy(client, args)
    try:
        health = client.health()
        log(f"agent {health.get('agent')} status={health.get('status')} "
            f"gateways={','.join(g['gateway'] for g in health.get('gateways', []))}")
        while not stop.is_set() and (args.iterations == 0 or strategy.iteration < args.iterations):
            strategy.step()
            if args.iterations == 0 or strategy.iteration < args.iterations:
                stop.wait(args.interval)
    except KeyboardInterrupt:
        log("interrupted")
    except (Unauthorized, ApiUnreachable) as error:
        log(f"cannot use the API: {error}")
        return 1
    except ApiError as error:
        # A refused request (bad symbol, unknown gateway...): a configuration problem, stop
        log(f"request refused: {error}")
        return 1
    finally:
        try:
            strategy.flatten()
        except (ApiError, ApiUnreachable) as error:
            log(f"could not close position {strategy.ticket} on exit: {error}")
    log(f"done after {strategy.iteration} iterations; open position: {strategy.ticket or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
