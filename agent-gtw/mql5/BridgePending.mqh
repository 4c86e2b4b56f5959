//+------------------------------------------------------------------+
//| BridgePending.mqh - PLACE, MODIFY_ORDER, CANCEL and CLOSE_BY     |
//| (docs/EA-LINK.md §10.6): the requests TRADE_ACTION_PENDING,      |
//| _MODIFY, _REMOVE and _CLOSE_BY, each built after the EA's own    |
//| checks. CmdTrade (BridgeTrades.mqh) runs them like OPEN: dedup,  |
//| Algo Trading, OrderCheck for PLACE, the in-flight marker.        |
//| What only the server decides (distances from the market, stops   |
//| and freeze levels, money, expiry) is left to OrderCheck and the  |
//| server.                                                          |
//+------------------------------------------------------------------+

// The terms PLACE and ORDER_CHECK share (OrderTerms, §10.6)
struct OrderTerms {
   string               sym;
   ENUM_ORDER_TYPE      type;
   double               vol, price, stoplimit, sl, tp;
   ENUM_ORDER_TYPE_TIME typeTime;
   long                 expiration;   // server ms, 0 = none
   string               filling;      // "" = FillingFor(sym)
};

// Enum names without their MQL5 prefix, as the link carries them (§13)
string OrderTypeName(const long t) { return StringSubstr(EnumToString((ENUM_ORDER_TYPE)t), 11); }
string TimeTypeName(const long t)  { return StringSubstr(EnumToString((ENUM_ORDER_TYPE_TIME)t), 11); }

bool IsPendingType(const long t)   { return t >= ORDER_TYPE_BUY_LIMIT && t <= ORDER_TYPE_SELL_STOP_LIMIT; }
bool IsStopLimitType(const long t) { return t == ORDER_TYPE_BUY_STOP_LIMIT || t == ORDER_TYPE_SELL_STOP_LIMIT; }
bool IsBuyType(const long t) {
   return t == ORDER_TYPE_BUY || t == ORDER_TYPE_BUY_LIMIT || t == ORDER_TYPE_BUY_STOP || t == ORDER_TYPE_BUY_STOP_LIMIT;
}

// ENUM_ORDER_TYPE from its name: the pending types, and BUY/SELL as well when `market`
bool OrderTypeFromName(const string name, const bool market, ENUM_ORDER_TYPE &type) {
   for(long t = ORDER_TYPE_BUY; t <= ORDER_TYPE_SELL_STOP_LIMIT; t++) {
      if((market || IsPendingType(t)) && OrderTypeName(t) == name) { type = (ENUM_ORDER_TYPE)t; return true; }
   }
   return false;
}

bool TimeTypeFromName(const string name, ENUM_ORDER_TYPE_TIME &type) {
   for(long t = ORDER_TIME_GTC; t <= ORDER_TIME_SPECIFIED_DAY; t++) {
      if(TimeTypeName(t) == name) { type = (ENUM_ORDER_TYPE_TIME)t; return true; }
   }
   return false;
}

ENUM_ORDER_TYPE_FILLING FillingFromName(const string name) {
   return name == "FOK" ? ORDER_FILLING_FOK : name == "IOC" ? ORDER_FILLING_IOC : ORDER_FILLING_RETURN;
}

// An optional price: absent is 0; false when present but not a number >= 0
bool OptionalPrice(const string key, double &out) {
   out = 0;
   return !JsonHas(key) || (JsonGetDouble(key, out) && out >= 0);
}

// type_time (default GTC) and expiration (server ms, only and always with SPECIFIED and SPECIFIED_DAY)
string LifetimeFields(ENUM_ORDER_TYPE_TIME &typeTime, long &expiration) {
   string name = "GTC";
   expiration = 0;
   if((JsonHas("type_time") && !JsonGetString("type_time", name)) || !TimeTypeFromName(name, typeTime))
      return Err("BAD_REQUEST", "type_time must be GTC, DAY, SPECIFIED or SPECIFIED_DAY");
   bool specified = typeTime == ORDER_TIME_SPECIFIED || typeTime == ORDER_TIME_SPECIFIED_DAY;
   if((JsonHas("expiration") && !JsonGetLong("expiration", expiration)) || expiration < 0 || specified != (expiration > 0))
      return Err("BAD_REQUEST", "expiration (server ms) is required for SPECIFIED and SPECIFIED_DAY, and only for them");
   return "";
}

// OrderTerms(): "" when the terms are well-formed; market types (ORDER_CHECK) only when `market`
string ReadOrderTerms(OrderTerms &t, const bool market) {
   string typeName = "";
   t.filling = "";
   if(!JsonGetString("symbol", t.sym) || !JsonGetString("order_type", typeName) || !JsonGetDouble("volume", t.vol))
      return Err("BAD_REQUEST", "symbol, order_type and volume are required");
   if(!OrderTypeFromName(typeName, market, t.type))
      return Err("BAD_REQUEST", "order_type must be one of " + (market ? "BUY, SELL, " : "")
                 + "BUY_LIMIT, SELL_LIMIT, BUY_STOP, SELL_STOP, BUY_STOP_LIMIT, SELL_STOP_LIMIT");
   if(t.vol <= 0 || !OptionalPrice("price", t.price) || (IsPendingType(t.type) && t.price <= 0))
      return Err("BAD_REQUEST", "volume must be > 0, and price > 0 for a pending order");
   if(!OptionalPrice("stoplimit", t.stoplimit) || IsStopLimitType(t.type) != (t.stoplimit > 0))
      return Err("BAD_REQUEST", "stoplimit (> 0) is required for stop-limit types, and only for them");
   if(!OptionalPrice("sl", t.sl) || !OptionalPrice("tp", t.tp))
      return Err("BAD_REQUEST", "sl and tp must be prices >= 0 (0 = none)");
   string problem = LifetimeFields(t.typeTime, t.expiration);
   if(problem != "") return problem;
   if(JsonHas("filling") && (!JsonGetString("filling", t.filling) || (t.filling != "FOK" && t.filling != "IOC" && t.filling != "RETURN")))
      return Err("BAD_REQUEST", "filling must be FOK, IOC or RETURN");
   return "";
}

// SetOrderTerms(): a TRADE_ACTION_PENDING request, prices on the symbol's tick grid (§10.2)
void SetOrderTerms(MqlTradeRequest &req, const OrderTerms &t, const long magic, const string comment) {
   req.action = TRADE_ACTION_PENDING;
   req.symbol = t.sym;
   req.volume = t.vol;
   req.type = t.type;
   req.price = RoundToTick(t.sym, t.price);
   req.stoplimit = RoundToTick(t.sym, t.stoplimit);
   req.sl = RoundToTick(t.sym, t.sl);
   req.tp = RoundToTick(t.sym, t.tp);
   req.type_time = t.typeTime;
   req.expiration = (datetime)(t.expiration / 1000);   // server ms -> server time (§5)
   req.type_filling = t.filling == "" ? FillingFor(t.sym) : FillingFromName(t.filling);
   req.magic = (ulong)magic;
   req.comment = comment;
   g_tFilling = FillingName(req.type_filling);
}

// SYMBOL_EXPIRATION_MODE: flags 1 GTC, 2 DAY, 4 SPECIFIED, 8 SPECIFIED_DAY, one per ORDER_TIME_* (§13)
string ExpirationProblem(const string sym, const ENUM_ORDER_TYPE_TIME typeTime) {
   if((SymbolInfoInteger(sym, SYMBOL_EXPIRATION_MODE) & (1 << (int)typeTime)) != 0) return "";
   return sym + " does not allow " + TimeTypeName(typeTime) + " orders (SYMBOL_EXPIRATION_MODE)";
}

string BuildPlace(MqlTradeRequest &req) {
   OrderTerms t;
   long dev = 0, magic = 0;
   string comment = "";
   uint retcode = 0;
   MqlTick tick;
   string problem = ReadOrderTerms(t, false);
   if(problem != "") return problem;
   problem = CommonFields(dev, magic, comment);
   if(problem != "") return problem;
   if(!SymbolSelect(t.sym, true)) return Err("UNKNOWN_SYMBOL", "unknown symbol " + t.sym);
   problem = TradeModeProblem(t.sym, IsBuyType(t.type), retcode);
   if(problem != "") return Refuse(retcode, problem);
   long kind = IsStopLimitType(t.type) ? SYMBOL_ORDER_STOP_LIMIT
             : (t.type == ORDER_TYPE_BUY_LIMIT || t.type == ORDER_TYPE_SELL_LIMIT) ? SYMBOL_ORDER_LIMIT : SYMBOL_ORDER_STOP;
   string what = kind == SYMBOL_ORDER_STOP_LIMIT ? "stop limit" : kind == SYMBOL_ORDER_LIMIT ? "limit" : "stop";
   problem = OrderModeProblem(t.sym, kind, what, t.sl, t.tp, retcode);
   if(problem != "") return Refuse(retcode, problem);
   problem = ExpirationProblem(t.sym, t.typeTime);
   if(problem != "") return Refuse(TRADE_RETCODE_INVALID_EXPIRATION, problem);
   if(t.vol > InpMaxLots + 1e-9)
      return Refuse(TRADE_RETCODE_INVALID_VOLUME, "volume above the EA's InpMaxLots " + JsonNumber(InpMaxLots));
   problem = VolumeProblem(t.sym, t.vol);
   if(problem != "") return Refuse(TRADE_RETCODE_INVALID_VOLUME, problem);
   if(!Quote(t.sym, tick)) return Refuse(TRADE_RETCODE_PRICE_OFF, "no quote for " + t.sym);
   SetOrderTerms(req, t, magic, comment);
   return "";
}

// MT5's TRADE_ACTION_MODIFY needs price, stoplimit, sl, tp, type_time, expiration and type_filling
// all set (MQL5 book, "Modifying a pending order"): what the command leaves out is the order's own
string BuildModifyOrder(MqlTradeRequest &req) {
   long ticket = 0, expiration = 0;
   double price = 0, stoplimit = 0, sl = 0, tp = 0;
   string timeName = "";
   uint retcode = 0;
   if(!JsonGetLong("ticket", ticket) || ticket <= 0) return Err("BAD_REQUEST", "ticket is required");
   if(!OptionalPrice("price", price) || !OptionalPrice("stoplimit", stoplimit) || !OptionalPrice("sl", sl)
      || !OptionalPrice("tp", tp) || (JsonHas("price") && price == 0) || (JsonHas("stoplimit") && stoplimit == 0))
      return Err("BAD_REQUEST", "price and stoplimit must be > 0, sl and tp >= 0 (0 = none)");
   ENUM_ORDER_TYPE_TIME typeTime = ORDER_TIME_GTC;
   bool newTime = JsonHas("type_time"), newExpiry = JsonHas("expiration");
   if((newTime && (!JsonGetString("type_time", timeName) || !TimeTypeFromName(timeName, typeTime)))
      || (newExpiry && (!JsonGetLong("expiration", expiration) || expiration < 0)))
      return Err("BAD_REQUEST", "type_time must be an ORDER_TIME name, expiration server ms >= 0");
   // An unknown ticket is an answer (filled or gone already), not an error to retry
   if(!OrderSelect((ulong)ticket)) return Refuse(TRADE_RETCODE_INVALID, "order " + IntegerToString(ticket) + " not found");
   string sym = OrderGetString(ORDER_SYMBOL);
   long type = OrderGetInteger(ORDER_TYPE);
   if(JsonHas("stoplimit") && !IsStopLimitType(type))
      return Refuse(TRADE_RETCODE_INVALID, "order " + IntegerToString(ticket) + " is not a stop-limit order");
   req.action = TRADE_ACTION_MODIFY;
   req.order = (ulong)ticket;
   req.symbol = sym;
   req.price = RoundToTick(sym, JsonHas("price") ? price : OrderGetDouble(ORDER_PRICE_OPEN));
   req.stoplimit = RoundToTick(sym, JsonHas("stoplimit") ? stoplimit : OrderGetDouble(ORDER_PRICE_STOPLIMIT));
   req.sl = RoundToTick(sym, JsonHas("sl") ? sl : OrderGetDouble(ORDER_SL));
   req.tp = RoundToTick(sym, JsonHas("tp") ? tp : OrderGetDouble(ORDER_TP));
   req.type_time = newTime ? typeTime : (ENUM_ORDER_TYPE_TIME)OrderGetInteger(ORDER_TYPE_TIME);
   // A new lifetime without an expiration has none; an untouched one keeps the order's (server time)
   req.expiration = (datetime)OrderGetInteger(ORDER_TIME_EXPIRATION);
   if(newTime) req.expiration = 0;
   if(newExpiry) req.expiration = (datetime)(expiration / 1000);
   if(req.type_time == ORDER_TIME_GTC || req.type_time == ORDER_TIME_DAY) req.expiration = 0;
   req.type_filling = (ENUM_ORDER_TYPE_FILLING)OrderGetInteger(ORDER_TYPE_FILLING);
   string problem = OrderModeProblem(sym, 0, "", req.sl, req.tp, retcode);
   if(problem != "") return Refuse(retcode, problem);
   if(newTime) {
      problem = ExpirationProblem(sym, typeTime);
      if(problem != "") return Refuse(TRADE_RETCODE_INVALID_EXPIRATION, problem);
   }
   return "";
}

string BuildCancel(MqlTradeRequest &req) {
   long ticket = 0;
   if(!JsonGetLong("ticket", ticket) || ticket <= 0) return Err("BAD_REQUEST", "ticket is required");
   if(!OrderSelect((ulong)ticket)) return Refuse(TRADE_RETCODE_INVALID, "order " + IntegerToString(ticket) + " not found");
   req.action = TRADE_ACTION_REMOVE;
   req.order = (ulong)ticket;
   return "";
}

// Closes the position "ticket" by the opposite one "ticket_by" (hedging accounts); both are found
// by ticket or identifier, like CLOSE. Same symbol, opposite sides and the account's margin mode
// are the server's to judge
string BuildCloseBy(MqlTradeRequest &req) {
   long by = 0, dev = 0, magic = 0;
   string comment = "";
   uint retcode = 0;
   if(!JsonGetLong("ticket_by", by) || by <= 0) return Err("BAD_REQUEST", "ticket_by is required");
   string problem = CommonFields(dev, magic, comment);
   if(problem != "") return problem;
   problem = SelectPosition();
   if(problem != "") return problem;
   string sym = PositionGetString(POSITION_SYMBOL);
   long opposite = FindPosition(by);
   if(opposite == 0) return Refuse(TRADE_RETCODE_POSITION_CLOSED, "position " + IntegerToString(by) + " not found");
   problem = OrderModeProblem(sym, SYMBOL_ORDER_CLOSEBY, "close-by", 0, 0, retcode);
   if(problem != "") return Refuse(retcode, problem);
   req.action = TRADE_ACTION_CLOSE_BY;
   req.position = (ulong)g_tPosition;
   req.position_by = (ulong)opposite;
   req.symbol = sym;
   req.magic = (ulong)magic;
   req.comment = comment;
   return "";
}
