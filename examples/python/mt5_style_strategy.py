#!/usr/bin/env python3
"""A strategy written for the MetaTrader5 Python module, in the style of its documentation's
examples (order_send, positions_get): a market buy with SL and TP, a partial close and a full
close by `position`, and the open positions as a pandas DataFrame.

The only line that differs from a script for Windows is the import:
    import MetaTrader5 as mt5   ->   import mt5bridge as mt5

initialize() finds agent-inf's API as the agent-inf CLI does (AGENT_INF_CONFIG or
./agent-inf.yaml, else MT5BRIDGE_URL / MT5BRIDGE_TOKEN); see docs/PYTHON.md.
Needs pandas (Debian: python3-pandas). Exit status 0 when every step worked, 1 otherwise.
"""

import time

import pandas as pd

import mt5bridge as mt5

print("package author:", mt5.__author__, " version:", mt5.__version__)
if not mt5.initialize():
    print("initialize() failed, error code =", mt5.last_error())
    quit(1)
print(mt5.version())

account = mt5.account_info()
print(f"account {account.login} on {account.server}: balance {account.balance} "
      f"{account.currency}, leverage 1:{account.leverage}")

symbol = "EURUSD"
symbol_info = mt5.symbol_info(symbol)
if symbol_info is None:
    print(symbol, "not found, error code =", mt5.last_error())
    mt5.shutdown()
    quit(1)
if not symbol_info.visible and not mt5.symbol_select(symbol, True):
    print("symbol_select({}) failed".format(symbol))
    mt5.shutdown()
    quit(1)

lot = 0.1
point = symbol_info.point
digits = symbol_info.digits
price = mt5.symbol_info_tick(symbol).ask
deviation = 20
request = {
    "action": mt5.TRADE_ACTION_DEAL,
    "symbol": symbol,
    "volume": lot,
    "type": mt5.ORDER_TYPE_BUY,
    "price": price,
    "sl": round(price - 150 * point, digits),
    "tp": round(price + 300 * point, digits),
    "deviation": deviation,
    "magic": 234000,
    "comment": "mt5 style open",
    "type_time": mt5.ORDER_TIME_GTC,
    "type_filling": mt5.ORDER_FILLING_FOK,
}
result = mt5.order_send(request)
if result is None:
    print("order_send() failed, error code =", mt5.last_error())
    mt5.shutdown()
    quit(1)
print("1. order_send(): buy {} {} lots at {}: retcode={}".format(
    symbol, lot, result.price, result.retcode))
if result.retcode != mt5.TRADE_RETCODE_DONE:
    for field, value in result._asdict().items():
        print("   {}={}".format(field, value))
    mt5.shutdown()
    quit(1)
position_id = result.order
print("   opened position #{} with sl={} tp={}".format(position_id, request["sl"], request["tp"]))

time.sleep(1)

# Close a part of the position: an opposite deal naming the position, with a smaller volume
price = mt5.symbol_info_tick(symbol).bid
close = {
    "action": mt5.TRADE_ACTION_DEAL,
    "symbol": symbol,
    "volume": 0.04,
    "type": mt5.ORDER_TYPE_SELL,
    "position": position_id,
    "price": price,
    "deviation": deviation,
    "magic": 234000,
    "comment": "mt5 style close",
    "type_time": mt5.ORDER_TIME_GTC,
    "type_filling": mt5.ORDER_FILLING_FOK,
}
result = mt5.order_send(close)
if result is None or result.retcode != mt5.TRADE_RETCODE_DONE:
    print("2. partial close failed:", result, mt5.last_error())
    mt5.shutdown()
    quit(1)
print("2. closed {} lots of position #{} at {}".format(result.volume, position_id, result.price))

positions = mt5.positions_get(symbol=symbol)
df = pd.DataFrame(list(positions), columns=positions[0]._asdict().keys())
df["time"] = pd.to_datetime(df["time"], unit="s")
print(df[["ticket", "time", "type", "volume", "price_open", "sl", "tp", "magic", "comment"]])
left = mt5.positions_get(ticket=position_id)[0].volume

# Close the rest
close["volume"] = left
close["price"] = mt5.symbol_info_tick(symbol).bid
result = mt5.order_send(close)
if result is None or result.retcode != mt5.TRADE_RETCODE_DONE:
    print("3. close failed:", result, mt5.last_error())
    mt5.shutdown()
    quit(1)
print("3. closed the remaining {} lots of position #{}: positions left {}".format(
    left, position_id, mt5.positions_total()))

mt5.shutdown()
