#!/usr/bin/env python3
"""Pending orders in the style of the MetaTrader5 Python documentation's examples: what a buy
limit would cost (order_calc_margin, order_check), placing it (order_send with
TRADE_ACTION_PENDING), finding it (orders_total, orders_get), moving it and its stop-loss
(TRADE_ACTION_MODIFY) and removing it (TRADE_ACTION_REMOVE).

The only line that differs from a script for Windows is the import:
    import MetaTrader5 as mt5   ->   import mt5bridge as mt5

initialize() finds agent-inf's API as the agent-inf CLI does (AGENT_INF_CONFIG or
./agent-inf.yaml, else MT5BRIDGE_URL / MT5BRIDGE_TOKEN); see docs/PYTHON.md.
Exit status 0 when every step worked, 1 otherwise.
"""

import mt5bridge as mt5

if not mt5.initialize():
    print("initialize() failed, error code =", mt5.last_error())
    quit(1)


def fail(what, result=None):
    print(what, "failed, error code =", mt5.last_error())
    if result is not None:
        for field, value in result._asdict().items():
            print("   {}={}".format(field, value))
    mt5.shutdown()
    quit(1)


symbol = "EURUSD"
symbol_info = mt5.symbol_info(symbol)
if symbol_info is None:
    fail("symbol_info({})".format(symbol))
point = symbol_info.point
digits = symbol_info.digits
lot = 0.1

# A buy limit 500 points under the market, its stop-loss 200 points under its price
price = round(mt5.symbol_info_tick(symbol).bid - 500 * point, digits)
request = {
    "action": mt5.TRADE_ACTION_PENDING,
    "symbol": symbol,
    "volume": lot,
    "type": mt5.ORDER_TYPE_BUY_LIMIT,
    "price": price,
    "sl": round(price - 200 * point, digits),
    "tp": round(price + 400 * point, digits),
    "magic": 234000,
    "comment": "mt5 style pending",
    "type_time": mt5.ORDER_TIME_GTC,
    "type_filling": mt5.ORDER_FILLING_RETURN,
}

margin = mt5.order_calc_margin(mt5.ORDER_TYPE_BUY, symbol, lot, price)
if margin is None:
    fail("order_calc_margin()")
check = mt5.order_check(request)
if check is None:
    fail("order_check()")
print("1. order_check(): buy limit {} {} lots at {}: retcode={} ({}), margin {} free {}".format(
    symbol, lot, price, check.retcode, check.comment, margin, check.margin_free))
if check.retcode != 0:
    fail("order_check()", check)

result = mt5.order_send(request)
if result is None:
    fail("order_send()")
print("2. order_send(): placed order #{}: retcode={}".format(result.order, result.retcode))
if result.retcode != mt5.TRADE_RETCODE_DONE:
    fail("order_send()", result)
ticket = result.order

orders = mt5.orders_get(symbol=symbol)
if orders is None:
    fail("orders_get()")
print("3. orders_total()={}: {}".format(
    mt5.orders_total(), ", ".join("#{} {} at {}".format(o.ticket, o.volume_current, o.price_open)
                                  for o in orders)))

# Move the order 100 points further down, its stop-loss with it
price = round(price - 100 * point, digits)
modify = {
    "action": mt5.TRADE_ACTION_MODIFY,
    "order": ticket,
    "price": price,
    "sl": round(price - 200 * point, digits),
    "tp": round(price + 400 * point, digits),
    "type_time": mt5.ORDER_TIME_GTC,
}
result = mt5.order_send(modify)
if result is None or result.retcode != mt5.TRADE_RETCODE_DONE:
    fail("order_send(TRADE_ACTION_MODIFY)", result)
order = mt5.orders_get(ticket=ticket)[0]
print("4. modified order #{}: price {} sl {} tp {}".format(
    order.ticket, order.price_open, order.sl, order.tp))

result = mt5.order_send({"action": mt5.TRADE_ACTION_REMOVE, "order": ticket})
if result is None or result.retcode != mt5.TRADE_RETCODE_DONE:
    fail("order_send(TRADE_ACTION_REMOVE)", result)
print("5. removed order #{}: orders left {}".format(ticket, mt5.orders_total()))

mt5.shutdown()
