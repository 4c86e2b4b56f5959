#!/usr/bin/env python3
"""Bars and ticks into pandas DataFrames, as the MetaTrader5 documentation's copy_rates_from and
copy_ticks_from examples do it. The only line that differs from a script for Windows is the
import:
    import MetaTrader5 as mt5   ->   import mt5bridge as mt5

initialize() finds agent-inf's API as the agent-inf CLI does (AGENT_INF_CONFIG or
./agent-inf.yaml, else MT5BRIDGE_URL / MT5BRIDGE_TOKEN); see docs/PYTHON.md.
Needs pandas (Debian: python3-pandas). Exit status 0 when every step worked, 1 otherwise.
"""

from datetime import datetime, timedelta, timezone

import pandas as pd

import mt5bridge as mt5

pd.set_option("display.max_columns", 500)
pd.set_option("display.width", 1500)

if not mt5.initialize():
    print("initialize() failed, error code =", mt5.last_error())
    quit(1)

# Times are UTC: MetaTrader5 stores bar and tick times in server time as if it were UTC
utc_from = datetime(2026, 11, 4, 10, 0, tzinfo=timezone.utc)

# 10 EURUSD M5 bars up to 2026-11-04 10:00 UTC
rates = mt5.copy_rates_from("EURUSD", mt5.TIMEFRAME_M5, utc_from, 10)
if rates is None:
    print("copy_rates_from() failed, error code =", mt5.last_error())
    mt5.shutdown()
    quit(1)
print("bars received:", len(rates))

rates_frame = pd.DataFrame(rates)
rates_frame["time"] = pd.to_datetime(rates_frame["time"], unit="s")
print("\nDisplay dataframe with data")
print(rates_frame)

# the last 100 H1 bars, and a simple feature an ML model might use
recent = pd.DataFrame(mt5.copy_rates_from_pos("EURUSD", mt5.TIMEFRAME_H1, 0, 100))
recent["return"] = recent["close"].pct_change()
print("\nH1 bars:", len(recent), " mean hourly return:", round(recent["return"].mean(), 8))

# an hour of ticks
ticks = mt5.copy_ticks_range("EURUSD", utc_from, utc_from + timedelta(hours=1),
                             mt5.COPY_TICKS_ALL)
if ticks is None:
    print("copy_ticks_range() failed, error code =", mt5.last_error())
    mt5.shutdown()
    quit(1)
ticks_frame = pd.DataFrame(ticks)
ticks_frame["time"] = pd.to_datetime(ticks_frame["time"], unit="s")
print("\nticks received:", len(ticks))
print(ticks_frame.head(5))

mt5.shutdown()
