#!/usr/bin/env python3
"""The account's deal history, as the MetaTrader5 documentation's history_deals_get example reads
it: a count over a period, deals filtered by symbol group, the deals of one position, and the
result as a pandas DataFrame with the realised profit per symbol. The only line that differs
from a script for Windows is the import:
    import MetaTrader5 as mt5   ->   import mt5bridge as mt5

initialize() finds agent-inf's API as the agent-inf CLI does (AGENT_INF_CONFIG or
./agent-inf.yaml, else MT5BRIDGE_URL / MT5BRIDGE_TOKEN); see docs/PYTHON.md.
Needs pandas (Debian: python3-pandas). Exit status 0 when every step worked, 1 otherwise.
"""

from datetime import datetime, timedelta, timezone

import pandas as pd

import mt5bridge as mt5

if not mt5.initialize():
    print("initialize() failed, error code =", mt5.last_error())
    quit(1)

# the last 24 hours (UTC, as the terminal keeps deal times)
date_to = datetime.now(timezone.utc) + timedelta(minutes=1)
date_from = date_to - timedelta(days=1)

deals = mt5.history_deals_total(date_from, date_to)
if deals is None:
    print("history_deals_total() failed, error code =", mt5.last_error())
    mt5.shutdown()
    quit(1)
print(deals, "deals in the last 24 hours")

# deals on symbols without "GBP" in their names
deals = mt5.history_deals_get(date_from, date_to, group="*,!*GBP*")
if deals is None:
    print("No deals with group=\"*,!*GBP*\", error code={}".format(mt5.last_error()))
    mt5.shutdown()
    quit(1)
print("history_deals_get({}, {}, group=\"*,!*GBP*\")={}".format(date_from, date_to, len(deals)))

if len(deals) > 0:
    # the deals of the last position traded
    position_id = deals[-1].position_id
    position_deals = mt5.history_deals_get(position=position_id)
    print("deals of position #{}: {}".format(position_id, len(position_deals)))
    for deal in position_deals:
        print("  ", deal)

    df = pd.DataFrame(list(deals), columns=deals[0]._asdict().keys())
    df["time"] = pd.to_datetime(df["time"], unit="s")
    print(df[["time", "ticket", "position_id", "symbol", "type", "entry", "volume", "price",
              "profit"]])
    print("\nrealised profit by symbol:")
    print(df.groupby("symbol")["profit"].sum())

mt5.shutdown()
