//+------------------------------------------------------------------+
//| BridgeOrders.mqh - orders, the account history and pre-trade     |
//| calculations (docs/EA-LINK.md §7.9-§7.12, §7.19, §12.5):         |
//| GET_ORDERS, GET_HISTORY_ORDERS and GET_HISTORY_DEALS paged like  |
//| GET_POSITIONS, ORDER_CHECK,                                      |
//| CALC_MARGIN, CALC_PROFIT, and the ORDER event from               |
//| OnTradeTransaction. The gateway works out what an ORDER event    |
//| means (placed, modified, triggered...); the EA reports the order.|
//+------------------------------------------------------------------+

// One accessor per property type, for an active order (selected) or one in the history
long   OrdInt(const bool h, const ulong t, const ENUM_ORDER_PROPERTY_INTEGER p) { return h ? HistoryOrderGetInteger(t, p) : OrderGetInteger(p); }
double OrdDbl(const bool h, const ulong t, const ENUM_ORDER_PROPERTY_DOUBLE p)  { return h ? HistoryOrderGetDouble(t, p) : OrderGetDouble(p); }
string OrdStr(const bool h, const ulong t, const ENUM_ORDER_PROPERTY_STRING p)  { return h ? HistoryOrderGetString(t, p) : OrderGetString(p); }

string StateName(const long s)       { return StringSubstr(EnumToString((ENUM_ORDER_STATE)s), 12); }
string OrderReasonName(const long r) { return StringSubstr(EnumToString((ENUM_ORDER_REASON)r), 13); }
// ORDER_FILLING_* without the prefix; BOC appears on builds that have it
string OrderFillingName(const long f) { return StringSubstr(EnumToString((ENUM_ORDER_TYPE_FILLING)f), 14); }

// An order's fields (§7.9): prices 0 = none, times in server ms, the type as `order_type` (`type`
// names the frame an ORDER event travels in)
string OrderJson(const bool h, const ulong t) {
   string b = J(JL("ticket", (long)t), JS("symbol", OrdStr(h, t, ORDER_SYMBOL)), JS("order_type", OrderTypeName(OrdInt(h, t, ORDER_TYPE))),
                JS("state", StateName(OrdInt(h, t, ORDER_STATE))), JD("volume_initial", OrdDbl(h, t, ORDER_VOLUME_INITIAL)),
                JD("volume_current", OrdDbl(h, t, ORDER_VOLUME_CURRENT)), JD("price_open", OrdDbl(h, t, ORDER_PRICE_OPEN)),
                JD("price_stoplimit", OrdDbl(h, t, ORDER_PRICE_STOPLIMIT)), JD("sl", OrdDbl(h, t, ORDER_SL)), JD("tp", OrdDbl(h, t, ORDER_TP)));
   b = J(b, JD("price_current", OrdDbl(h, t, ORDER_PRICE_CURRENT)), JS("type_time", TimeTypeName(OrdInt(h, t, ORDER_TYPE_TIME))),
         JL("time_expiration", OrdInt(h, t, ORDER_TIME_EXPIRATION) * 1000), JS("type_filling", OrderFillingName(OrdInt(h, t, ORDER_TYPE_FILLING))),
         JU("magic", (ulong)OrdInt(h, t, ORDER_MAGIC)), JS("comment", OrdStr(h, t, ORDER_COMMENT)),
         JL("time_setup", OrdInt(h, t, ORDER_TIME_SETUP_MSC)), JL("time_done", OrdInt(h, t, ORDER_TIME_DONE_MSC)),
         JL("position_id", OrdInt(h, t, ORDER_POSITION_ID)));
   return J(b, JL("position_by_id", OrdInt(h, t, ORDER_POSITION_BY_ID)), JS("reason", OrderReasonName(OrdInt(h, t, ORDER_REASON))));
}

// The pending orders (market orders pass through the active list while they execute)
string CmdOrders() {
   string symbol = "", err = "", items = "";
   long ticket = 0;
   int offset = 0, limit = 0, matched = 0, count = 0;
   bool full = false;
   JsonGetString("symbol", symbol);
   if(JsonHas("ticket") && (!JsonGetLong("ticket", ticket) || ticket <= 0)) return Err("BAD_REQUEST", "ticket must be an integer > 0");
   if(!PageArgs(offset, limit, err)) return Err("BAD_REQUEST", err);
   int total = OrdersTotal();
   for(int i = 0; i < total; i++) {
      ulong t = OrderGetTicket(i);   // also selects the order (docs/trading/ordergetticket)
      if(t == 0 || !IsPendingType(OrderGetInteger(ORDER_TYPE))) continue;
      if(symbol != "" && OrderGetString(ORDER_SYMBOL) != symbol) continue;
      if(ticket > 0 && (long)t != ticket) continue;
      if(++matched <= offset || full) continue;
      if(!PageAdd(items, count, limit, OrderJson(false, t))) full = true;
   }
   return PageReply("orders", items, matched, offset, count);
}

// Orders that left the book, every type, by ORDER_TIME_SETUP_MSC in [from, to] (server ms)
string CmdHistoryOrders() {
   long from = 0, to = 0, magic = 0;
   string err = "", items = "";
   int offset = 0, limit = 0, matched = 0, count = 0;
   bool full = false;
   if(!JsonGetLong("from", from) || !JsonGetLong("to", to) || from < 0 || to < from)
      return Err("BAD_REQUEST", "from and to are required (server-time ms, from <= to)");
   bool byMagic = JsonGetLong("magic", magic);
   if(!PageArgs(offset, limit, err)) return Err("BAD_REQUEST", err);
   // The reference does not say whether HistorySelect picks orders by setup or by done time: select
   // up to now, so an order set up in range is listed either way, then filter on the setup time
   long until = to / 1000 + 1, soon = (long)TimeTradeServer() + 86400;
   if(soon > until) until = soon;
   ResetLastError();
   if(!HistorySelect((datetime)(from / 1000), (datetime)until)) return RuntimeErr(GetLastError());
   int total = HistoryOrdersTotal();
   for(int i = 0; i < total; i++) {
      ulong t = HistoryOrderGetTicket(i);
      if(t == 0) continue;
      long setup = HistoryOrderGetInteger(t, ORDER_TIME_SETUP_MSC);
      if(setup < from || setup > to) continue;
      if(byMagic && HistoryOrderGetInteger(t, ORDER_MAGIC) != magic) continue;
      if(++matched <= offset || full) continue;
      if(!PageAdd(items, count, limit, OrderJson(true, t))) full = true;
   }
   return PageReply("orders", items, matched, offset, count);
}

// DEAL_TYPE_* without its prefix; the dividend and tax members are named DEAL_DIVIDEND, DEAL_TAX...
string DealTypeName(const long t) {
   string name = EnumToString((ENUM_DEAL_TYPE)t);
   return StringFind(name, "DEAL_TYPE_") == 0 ? StringSubstr(name, 10) : StringSubstr(name, 5);
}

// A deal of the account history (§7.19): every type, balance operations too
string HistoryDealJson(const ulong d) {
   string b = J(JL("ticket", (long)d), JL("order", HistoryDealGetInteger(d, DEAL_ORDER)),
                JL("position", HistoryDealGetInteger(d, DEAL_POSITION_ID)), JS("symbol", HistoryDealGetString(d, DEAL_SYMBOL)),
                JS("type", DealTypeName(HistoryDealGetInteger(d, DEAL_TYPE))), JS("entry", EntryName(HistoryDealGetInteger(d, DEAL_ENTRY))),
                JS("reason", ReasonName(HistoryDealGetInteger(d, DEAL_REASON))), JD("volume", HistoryDealGetDouble(d, DEAL_VOLUME)),
                JD("price", HistoryDealGetDouble(d, DEAL_PRICE)));
   return J(b, JD("profit", HistoryDealGetDouble(d, DEAL_PROFIT)), JD("commission", HistoryDealGetDouble(d, DEAL_COMMISSION)),
            JD("swap", HistoryDealGetDouble(d, DEAL_SWAP)), JD("fee", HistoryDealGetDouble(d, DEAL_FEE)),
            JU("magic", (ulong)HistoryDealGetInteger(d, DEAL_MAGIC)), JS("comment", HistoryDealGetString(d, DEAL_COMMENT)),
            JS("external_id", HistoryDealGetString(d, DEAL_EXTERNAL_ID)), JL("time", HistoryDealGetInteger(d, DEAL_TIME_MSC)));
}

// The deals of a time range (DEAL_TIME_MSC in [from, to], server ms), of a position
// (HistorySelectByPosition) or one deal by ticket (HistoryDealSelect), in the terminal's order
string CmdHistoryDeals() {
   long from = 0, to = 0, position = 0, ticket = 0;
   string err = "", items = "";
   int offset = 0, limit = 0, matched = 0, count = 0;
   bool full = false;
   bool byRange = JsonHas("from") || JsonHas("to"), byPosition = JsonHas("position"), byTicket = JsonHas("ticket");
   if((byRange ? 1 : 0) + (byPosition ? 1 : 0) + (byTicket ? 1 : 0) != 1
      || (byRange && (!JsonGetLong("from", from) || !JsonGetLong("to", to) || from < 0 || to < from))
      || (byPosition && (!JsonGetLong("position", position) || position <= 0))
      || (byTicket && (!JsonGetLong("ticket", ticket) || ticket <= 0)))
      return Err("BAD_REQUEST", "one of from + to (server ms, from <= to), position (> 0) or ticket (> 0) is required");
   if(!PageArgs(offset, limit, err)) return Err("BAD_REQUEST", err);
   // HistoryDealSelect leaves just that deal selected; an unknown ticket is an empty history
   if(byTicket) {
      bool found = HistoryDealSelect((ulong)ticket);
      if(found && offset == 0) PageAdd(items, count, limit, HistoryDealJson((ulong)ticket));
      return PageReply("deals", items, found ? 1 : 0, offset, count);
   }
   ResetLastError();
   bool selected = byRange ? HistorySelect((datetime)(from / 1000), (datetime)(to / 1000 + 1)) : HistorySelectByPosition(position);
   if(!selected) return RuntimeErr(GetLastError());
   int total = HistoryDealsTotal();
   for(int i = 0; i < total; i++) {
      ulong d = HistoryDealGetTicket(i);
      if(d == 0) continue;
      long t = HistoryDealGetInteger(d, DEAL_TIME_MSC);
      if(byRange && (t < from || t > to)) continue;
      if(++matched <= offset || full) continue;
      if(!PageAdd(items, count, limit, HistoryDealJson(d))) full = true;
   }
   return PageReply("deals", items, matched, offset, count);
}

string CheckBody(const MqlTradeCheckResult &check) {
   return Ok(J(JL("retcode", check.retcode), JD("balance", check.balance), JD("equity", check.equity), JD("profit", check.profit),
               JD("margin", check.margin), JD("margin_free", check.margin_free), JD("margin_level", check.margin_level),
               JS("comment", check.comment)));
}

// OrderCheck of the request PLACE (a pending type) or OPEN (BUY/SELL) would send (docs/trading/ordercheck)
string CmdOrderCheck() {
   OrderTerms t;
   long dev = 0, magic = 0;
   string comment = "";
   MqlTradeCheckResult check;
   ZeroMemory(check);
   string problem = ReadOrderTerms(t, true);
   if(problem != "") return problem;
   problem = CommonFields(dev, magic, comment);
   if(problem != "") return problem;
   if(!SymbolSelect(t.sym, true)) {
      // Nothing for OrderCheck to look at: the answer it gives an invalid request, with the account now
      check.retcode = TRADE_RETCODE_INVALID;
      check.balance = AccountInfoDouble(ACCOUNT_BALANCE);
      check.equity = AccountInfoDouble(ACCOUNT_EQUITY);
      check.profit = AccountInfoDouble(ACCOUNT_PROFIT);
      check.margin = AccountInfoDouble(ACCOUNT_MARGIN);
      check.margin_free = AccountInfoDouble(ACCOUNT_MARGIN_FREE);
      check.margin_level = AccountInfoDouble(ACCOUNT_MARGIN_LEVEL);
      check.comment = "unknown symbol " + t.sym;
      return CheckBody(check);
   }
   MqlTradeRequest req;
   ZeroMemory(req);
   SetOrderTerms(req, t, magic, comment);
   if(!IsPendingType(t.type)) {
      MqlTick tick;
      req.action = TRADE_ACTION_DEAL;
      req.price = Quote(t.sym, tick) ? (t.type == ORDER_TYPE_BUY ? tick.ask : tick.bid) : 0;
      req.deviation = (ulong)dev;
   }
   ResetLastError();
   if(!OrderCheck(req, check) && check.retcode == 0) return RuntimeErr(GetLastError());
   return CheckBody(check);
}

// symbol, side, volume and the named prices of CALC_MARGIN / CALC_PROFIT; "" when well-formed
string CalcArgs(string &sym, ENUM_ORDER_TYPE &type, double &vol, const string key1, double &p1, const string key2, double &p2) {
   string side = "";
   p2 = 1;
   if(!JsonGetString("symbol", sym) || !JsonGetString("side", side) || (side != "BUY" && side != "SELL")
      || !JsonGetDouble("volume", vol) || vol <= 0 || !JsonGetDouble(key1, p1) || p1 <= 0
      || (key2 != "" && (!JsonGetDouble(key2, p2) || p2 <= 0)))
      return Err("BAD_REQUEST", "symbol, side (BUY or SELL), volume > 0 and " + key1 + (key2 == "" ? "" : ", " + key2)
                 + " > 0 are required");
   type = side == "BUY" ? ORDER_TYPE_BUY : ORDER_TYPE_SELL;
   if(!SymbolSelect(sym, true)) return Err("UNKNOWN_SYMBOL", "unknown symbol " + sym);
   return "";
}

string CmdCalcMargin() {
   string sym = "";
   ENUM_ORDER_TYPE type = ORDER_TYPE_BUY;
   double vol = 0, price = 0, unused = 0, margin = 0;
   string problem = CalcArgs(sym, type, vol, "price", price, "", unused);
   if(problem != "") return problem;
   ResetLastError();
   if(!OrderCalcMargin(type, sym, vol, price, margin)) return RuntimeErr(GetLastError());
   return Ok(JD("margin", margin));
}

string CmdCalcProfit() {
   string sym = "";
   ENUM_ORDER_TYPE type = ORDER_TYPE_BUY;
   double vol = 0, open = 0, close = 0, profit = 0;
   string problem = CalcArgs(sym, type, vol, "price_open", open, "price_close", close);
   if(problem != "") return problem;
   ResetLastError();
   if(!OrderCalcProfit(type, sym, vol, open, close, profit)) return RuntimeErr(GetLastError());
   return Ok(JD("profit", profit));
}

//--- Order events (§12.5) --------------------------------------------
// What only a real terminal can show (docs/MT5-SETUP.md §10): how a stop-limit order triggers (the
// same ticket turning into a limit order, or a new order), which ORDER_REASON an expired order
// carries, and the ORDER_TIME_EXPIRATION a SPECIFIED_DAY order gets. Logged once per change
void LogOrderQuestion(const bool h, const ulong t, const string transaction) {
   long type = OrdInt(h, t, ORDER_TYPE), state = OrdInt(h, t, ORDER_STATE), life = OrdInt(h, t, ORDER_TYPE_TIME);
   double stoplimit = OrdDbl(h, t, ORDER_PRICE_STOPLIMIT);
   if(!IsStopLimitType(type) && stoplimit == 0 && state != ORDER_STATE_EXPIRED && life != ORDER_TIME_SPECIFIED_DAY) return;
   string what = "order " + IntegerToString((long)t) + " " + transaction + ": " + OrderTypeName(type) + " " + StateName(state)
               + ", price " + JsonNumber(OrdDbl(h, t, ORDER_PRICE_OPEN)) + ", stoplimit " + JsonNumber(stoplimit);
   LogOnce("order:" + what, what + ", reason " + OrderReasonName(OrdInt(h, t, ORDER_REASON)) + ", " + TimeTypeName(life)
           + " until " + TimeToString((datetime)OrdInt(h, t, ORDER_TIME_EXPIRATION), TIME_DATE | TIME_SECONDS) + " (server time)");
}

// ORDER_ADD / ORDER_UPDATE / HISTORY_ADD of a pending order: the order as it is now. One that left
// the active list before this runs is skipped here; its HISTORY_ADD follows
void OnOrderChanged(const MqlTradeTransaction &trans) {
   bool h = trans.type == TRADE_TRANSACTION_HISTORY_ADD;
   if(trans.order == 0 || !(h ? HistoryOrderSelect(trans.order) : OrderSelect(trans.order))) return;
   if(!IsPendingType(OrdInt(h, trans.order, ORDER_TYPE))) return;   // market and close-by: their deals tell it
   string transaction = StringSubstr(EnumToString(trans.type), 18);   // without TRADE_TRANSACTION_
   LogOrderQuestion(h, trans.order, transaction);
   SendEvent("ORDER", J(JS("transaction", transaction), OrderJson(h, trans.order)));
}
