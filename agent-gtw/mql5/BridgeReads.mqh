//+------------------------------------------------------------------+
//| BridgeReads.mqh - HELLO, the read commands, paging, quotes and   |
//| trade events (docs/EA-LINK.md §6.2, §7, §12). Market data:       |
//| BridgeMarket.mqh.                                                |
//+------------------------------------------------------------------+
#define DEFAULT_PAGE      500
#define MAX_PAGE          1000
#define PAGE_BUDGET_CHARS 960000   // items of one page: under MAX_OUT_FRAME with room for the head
#define MAX_SUBS          64

string g_subSym[];                 // SUBSCRIBE_TICKS state
double g_subBid[], g_subAsk[];
long   g_subTime[];
int    g_subCount = 0, g_subThrottle = 100;
ulong  g_subNext = 0;

//--- Session --------------------------------------------------------
// Shared by HELLO and the PING reply; these flags drive the gateway's TRADE_DISABLED state
string StatusFields() {
   // MT5 times are on the broker-server clock; gmt_offset_s lets the gateway convert them to UTC
   return J(JB("terminal_connected", TerminalInfoInteger(TERMINAL_CONNECTED) != 0),
            JB("terminal_trade_allowed", TerminalInfoInteger(TERMINAL_TRADE_ALLOWED) != 0),
            JB("ea_trade_allowed", MQLInfoInteger(MQL_TRADE_ALLOWED) != 0),
            JB("account_trade_allowed", AccountInfoInteger(ACCOUNT_TRADE_ALLOWED) != 0),
            JB("account_trade_expert", AccountInfoInteger(ACCOUNT_TRADE_EXPERT) != 0),
            JL("server_time", (long)TimeTradeServer() * 1000), JL("gmt_offset_s", (long)TimeTradeServer() - (long)TimeGMT()));
}

// EXCHANGE accounts are netting too: one position per symbol
string MarginModeName() {
   return AccountInfoInteger(ACCOUNT_MARGIN_MODE) == ACCOUNT_MARGIN_MODE_RETAIL_HEDGING ? "HEDGING" : "NETTING";
}

string AccountKind() {
   long m = AccountInfoInteger(ACCOUNT_TRADE_MODE);
   return m == ACCOUNT_TRADE_MODE_DEMO ? "DEMO" : m == ACCOUNT_TRADE_MODE_CONTEST ? "CONTEST" : "REAL";
}

// Sent only after the gateway proved itself; remembers the identity it announces (LinkPoll
// redials when it changes)
string BuildHello(const string proof) {
   g_helloLogin = AccountInfoInteger(ACCOUNT_LOGIN);
   g_helloServer = AccountInfoString(ACCOUNT_SERVER);
   g_helloMode = AccountKind();
   string b = J(JS("type", "HELLO"), JL("proto", AUTH_PROTO), JS("ea_proof", proof), JL("login", g_helloLogin),
                JS("server", g_helloServer), JS("company", AccountInfoString(ACCOUNT_COMPANY)),
                JS("currency", AccountInfoString(ACCOUNT_CURRENCY)), JS("account_trade_mode", g_helloMode),
                JS("margin_mode", MarginModeName()));
   b = J(b, JL("terminal_build", TerminalInfoInteger(TERMINAL_BUILD)), JS("ea_version", EA_VERSION),
         JU("magic", (ulong)InpMagic), JD("max_lots", InpMaxLots), JL("deviation", InpDeviation),
         JS("chart_symbol", _Symbol), JL("dedup_entries", DedupCount()), StatusFields());
   return "{" + b + "}";
}

//--- Read commands --------------------------------------------------
string CmdPing() {
   return Ok(J(StatusFields(), JL("ping_last_us", TerminalInfoInteger(TERMINAL_PING_LAST)),
               JL("uptime_ms", (long)(GetTickCount64() - g_startTick))));
}

string CmdAccount() {
   string b = J(JL("login", AccountInfoInteger(ACCOUNT_LOGIN)), JS("server", AccountInfoString(ACCOUNT_SERVER)),
                JS("name", AccountInfoString(ACCOUNT_NAME)), JS("company", AccountInfoString(ACCOUNT_COMPANY)),
                JS("currency", AccountInfoString(ACCOUNT_CURRENCY)), JD("balance", AccountInfoDouble(ACCOUNT_BALANCE)),
                JD("equity", AccountInfoDouble(ACCOUNT_EQUITY)), JD("profit", AccountInfoDouble(ACCOUNT_PROFIT)),
                JD("margin", AccountInfoDouble(ACCOUNT_MARGIN)), JD("margin_free", AccountInfoDouble(ACCOUNT_MARGIN_FREE)));
   b = J(b, JD("margin_level", AccountInfoDouble(ACCOUNT_MARGIN_LEVEL)), JL("leverage", AccountInfoInteger(ACCOUNT_LEVERAGE)),
         JS("margin_mode", MarginModeName()), JS("account_trade_mode", AccountKind()),
         JB("trade_allowed", AccountInfoInteger(ACCOUNT_TRADE_ALLOWED) != 0),
         JB("trade_expert", AccountInfoInteger(ACCOUNT_TRADE_EXPERT) != 0),
         JS("margin_so_mode", AccountInfoInteger(ACCOUNT_MARGIN_SO_MODE) == ACCOUNT_STOPOUT_MODE_MONEY ? "MONEY" : "PERCENT"),
         JD("margin_so_call", AccountInfoDouble(ACCOUNT_MARGIN_SO_CALL)), JD("margin_so_so", AccountInfoDouble(ACCOUNT_MARGIN_SO_SO)));
   return Ok(b);
}

// Fields of the position selected by PositionGetTicket/PositionSelect*
string PositionJson() {
   string b = J(JL("ticket", PositionGetInteger(POSITION_TICKET)), JL("identifier", PositionGetInteger(POSITION_IDENTIFIER)),
                JS("symbol", PositionGetString(POSITION_SYMBOL)),
                JS("side", (ENUM_POSITION_TYPE)PositionGetInteger(POSITION_TYPE) == POSITION_TYPE_BUY ? "BUY" : "SELL"),
                JD("volume", PositionGetDouble(POSITION_VOLUME)), JD("price_open", PositionGetDouble(POSITION_PRICE_OPEN)),
                JD("price_current", PositionGetDouble(POSITION_PRICE_CURRENT)), JD("sl", PositionGetDouble(POSITION_SL)),
                JD("tp", PositionGetDouble(POSITION_TP)), JD("profit", PositionGetDouble(POSITION_PROFIT)));
   return J(b, JD("swap", PositionGetDouble(POSITION_SWAP)), JU("magic", (ulong)PositionGetInteger(POSITION_MAGIC)),
            JS("comment", PositionGetString(POSITION_COMMENT)), JL("time", PositionGetInteger(POSITION_TIME_MSC)),
            JL("time_update", PositionGetInteger(POSITION_TIME_UPDATE_MSC)));
}

// The MQL5 identifier without its prefix: DEAL_ENTRY_OUT -> OUT, DEAL_REASON_SL -> SL. Members added
// in later builds (e.g. DEAL_REASON_CORPORATE_ACTION) come through without code changes
string EntryName(const long e)  { return StringSubstr(EnumToString((ENUM_DEAL_ENTRY)e), 11); }
string ReasonName(const long r) { return StringSubstr(EnumToString((ENUM_DEAL_REASON)r), 12); }

// Only buy/sell deals are trades; balance, credit, commission... deals are skipped
bool IsTradeDeal(const ulong ticket) {
   long t = HistoryDealGetInteger(ticket, DEAL_TYPE);
   return t == DEAL_TYPE_BUY || t == DEAL_TYPE_SELL;
}

string DealJson(const ulong d) {
   string b = J(JL("ticket", (long)d), JL("order", HistoryDealGetInteger(d, DEAL_ORDER)),
                JL("position", HistoryDealGetInteger(d, DEAL_POSITION_ID)), JS("symbol", HistoryDealGetString(d, DEAL_SYMBOL)),
                JS("side", HistoryDealGetInteger(d, DEAL_TYPE) == DEAL_TYPE_BUY ? "BUY" : "SELL"),
                JS("entry", EntryName(HistoryDealGetInteger(d, DEAL_ENTRY))),
                JS("reason", ReasonName(HistoryDealGetInteger(d, DEAL_REASON))),
                JD("volume", HistoryDealGetDouble(d, DEAL_VOLUME)), JD("price", HistoryDealGetDouble(d, DEAL_PRICE)));
   return J(b, JD("profit", HistoryDealGetDouble(d, DEAL_PROFIT)), JD("commission", HistoryDealGetDouble(d, DEAL_COMMISSION)),
            JD("swap", HistoryDealGetDouble(d, DEAL_SWAP)), JD("fee", HistoryDealGetDouble(d, DEAL_FEE)),
            JU("magic", (ulong)HistoryDealGetInteger(d, DEAL_MAGIC)), JS("comment", HistoryDealGetString(d, DEAL_COMMENT)),
            JL("time", HistoryDealGetInteger(d, DEAL_TIME_MSC)));
}

//--- Paging (§7.3): one shape for every listing, today's and later ones (rates, ticks, history)
bool PageArgs(int &offset, int &limit, string &err) {
   long o = 0, l = DEFAULT_PAGE;
   if((JsonHas("offset") && !JsonGetLong("offset", o)) || (JsonHas("limit") && !JsonGetLong("limit", l))
      || o < 0 || o > 1000000 || l < 1 || l > MAX_PAGE) {
      err = "offset >= 0 and 1 <= limit <= 1000";
      return false;
   }
   offset = (int)o;
   limit = (int)l;
   return true;
}

// Appends one item unless the page is full: `limit` items, or the frame budget reached. The
// listing is contiguous, so once an item does not fit the caller adds no further ones; `more`
// then tells the gateway to ask for the next page
bool PageAdd(string &items, int &count, const int limit, const string item) {
   if(count >= limit || StringLen(items) + StringLen(item) + 3 > PAGE_BUDGET_CHARS) return false;
   items += (count > 0 ? ",{" : "{") + item + "}";
   count++;
   return true;
}

string PageReply(const string name, const string items, const int total, const int offset, const int count) {
   return Ok(J(JL("total", total), JL("offset", offset), JL("count", count), JB("more", offset + count < total),
               "\"" + name + "\":[" + items + "]"));
}

string CmdPositions() {
   string symbol = "", err = "", items = "";
   long magic = 0;
   int offset = 0, limit = 0, matched = 0, count = 0;
   bool full = false;
   JsonGetString("symbol", symbol);
   bool byMagic = JsonGetLong("magic", magic);
   if(!PageArgs(offset, limit, err)) return Err("BAD_REQUEST", err);
   int total = PositionsTotal();
   for(int i = 0; i < total; i++) {
      if(PositionGetTicket(i) == 0) continue;   // also selects the position (docs/trading/positiongetticket)
      if(symbol != "" && PositionGetString(POSITION_SYMBOL) != symbol) continue;
      if(byMagic && PositionGetInteger(POSITION_MAGIC) != magic) continue;
      if(++matched <= offset || full) continue;
      if(!PageAdd(items, count, limit, PositionJson())) full = true;
   }
   return PageReply("positions", items, matched, offset, count);
}

string CmdDeals() {
   long from = 0, to = 0, magic = 0;
   string symbol = "", err = "", items = "";
   int offset = 0, limit = 0, matched = 0, count = 0;
   bool full = false;
   if(!JsonGetLong("from", from) || !JsonGetLong("to", to) || from < 0 || to < from)
      return Err("BAD_REQUEST", "from and to are required (server-time ms, from <= to)");
   JsonGetString("symbol", symbol);
   bool byMagic = JsonGetLong("magic", magic);
   if(!PageArgs(offset, limit, err)) return Err("BAD_REQUEST", err);
   // HistorySelect takes whole seconds; select a covering range, then filter on DEAL_TIME_MSC
   ResetLastError();
   if(!HistorySelect((datetime)(from / 1000), (datetime)(to / 1000 + 1))) return RuntimeErr(GetLastError());
   int total = HistoryDealsTotal();
   for(int i = 0; i < total; i++) {
      ulong d = HistoryDealGetTicket(i);
      if(d == 0 || !IsTradeDeal(d)) continue;
      long t = HistoryDealGetInteger(d, DEAL_TIME_MSC);
      if(t < from || t > to) continue;
      if(symbol != "" && HistoryDealGetString(d, DEAL_SYMBOL) != symbol) continue;
      if(byMagic && HistoryDealGetInteger(d, DEAL_MAGIC) != magic) continue;
      if(++matched <= offset || full) continue;
      if(!PageAdd(items, count, limit, DealJson(d))) full = true;
   }
   return PageReply("deals", items, matched, offset, count);
}

// The weekly trade-session schedule only; holidays are not visible through this API
bool SessionOpen(const string sym) {
   MqlDateTime dt;
   TimeTradeServer(dt);
   long now = dt.hour * 3600 + dt.min * 60 + dt.sec;
   datetime from, to;
   for(uint i = 0; i < 16; i++) {
      // The date part of from/to is to be ignored (docs/marketinformation/symbolinfosessiontrade)
      if(!SymbolInfoSessionTrade(sym, (ENUM_DAY_OF_WEEK)dt.day_of_week, i, from, to)) break;
      long f = (long)from % 86400, t = (long)to % 86400;
      if(t == 0) t = 86400;   // a session ending at 24:00
      if((f < t && now >= f && now < t) || (f >= t && (now >= f || now < t))) return true;
   }
   return false;
}

string CmdSymbolInfo() {
   string sym = "";
   if(!JsonGetString("symbol", sym) || sym == "") return Err("BAD_REQUEST", "symbol is required");
   if(!SymbolSelect(sym, true)) return Err("UNKNOWN_SYMBOL", "unknown symbol " + sym);
   return Ok(SymbolInfoJson(sym));
}

// The fields of GET_SYMBOL_INFO (§7.4), shared by GET_SYMBOLS (§7.14)
string SymbolInfoJson(const string sym) {
   MqlTick tick;
   if(!SymbolInfoTick(sym, tick)) ZeroMemory(tick);
   ENUM_SYMBOL_TRADE_EXECUTION exe = (ENUM_SYMBOL_TRADE_EXECUTION)SymbolInfoInteger(sym, SYMBOL_TRADE_EXEMODE);
   ENUM_SYMBOL_TRADE_MODE mode = (ENUM_SYMBOL_TRADE_MODE)SymbolInfoInteger(sym, SYMBOL_TRADE_MODE);
   ENUM_SYMBOL_CALC_MODE calc = (ENUM_SYMBOL_CALC_MODE)SymbolInfoInteger(sym, SYMBOL_TRADE_CALC_MODE);
   string b = J(JS("symbol", sym), JS("description", SymbolInfoString(sym, SYMBOL_DESCRIPTION)),
                JL("digits", SymbolInfoInteger(sym, SYMBOL_DIGITS)), JD("point", SymbolInfoDouble(sym, SYMBOL_POINT)),
                JD("tick_size", SymbolInfoDouble(sym, SYMBOL_TRADE_TICK_SIZE)),
                JD("tick_value", SymbolInfoDouble(sym, SYMBOL_TRADE_TICK_VALUE)),
                JD("contract_size", SymbolInfoDouble(sym, SYMBOL_TRADE_CONTRACT_SIZE)),
                JD("volume_min", SymbolInfoDouble(sym, SYMBOL_VOLUME_MIN)), JD("volume_max", SymbolInfoDouble(sym, SYMBOL_VOLUME_MAX)),
                JD("volume_step", SymbolInfoDouble(sym, SYMBOL_VOLUME_STEP)));
   b = J(b, JD("volume_limit", SymbolInfoDouble(sym, SYMBOL_VOLUME_LIMIT)),
         JL("stops_level", SymbolInfoInteger(sym, SYMBOL_TRADE_STOPS_LEVEL)),
         JL("freeze_level", SymbolInfoInteger(sym, SYMBOL_TRADE_FREEZE_LEVEL)),
         JL("filling_mode", SymbolInfoInteger(sym, SYMBOL_FILLING_MODE)),
         // Ints plus the MQL5 identifier: the docs name the enum members but not their numbers
         JL("execution_mode", (long)exe), JS("execution_mode_name", EnumToString(exe)),
         JL("trade_mode", (long)mode), JS("trade_mode_name", EnumToString(mode)));
   b = J(b, JL("calc_mode", (long)calc), JS("calc_mode_name", EnumToString(calc)),
         JS("currency_base", SymbolInfoString(sym, SYMBOL_CURRENCY_BASE)),
         JS("currency_profit", SymbolInfoString(sym, SYMBOL_CURRENCY_PROFIT)),
         JS("currency_margin", SymbolInfoString(sym, SYMBOL_CURRENCY_MARGIN)),
         JD("margin_hedged", SymbolInfoDouble(sym, SYMBOL_MARGIN_HEDGED)), JD("bid", tick.bid), JD("ask", tick.ask),
         JL("quote_time", tick.time_msc));
   // What this EA checks and sends for the symbol: its allowed order types, the filling it puts on
   // every OPEN and CLOSE (§10.2), and the lifetimes pending orders may have
   b = J(b, JL("order_mode", SymbolInfoInteger(sym, SYMBOL_ORDER_MODE)), JS("filling", FillingName(FillingFor(sym))),
         JL("expiration_mode", SymbolInfoInteger(sym, SYMBOL_EXPIRATION_MODE)));
   return J(b, JL("spread", SymbolInfoInteger(sym, SYMBOL_SPREAD)), JB("session_open", SessionOpen(sym)));
}

//--- Quotes ---------------------------------------------------------
string CmdSubscribe() {
   string list = "";
   string parts[];
   long throttle = 100;
   if(JsonHas("symbols") && !JsonGetString("symbols", list))
      return Err("BAD_REQUEST", "symbols must be a comma-separated string");
   if(JsonHas("throttle_ms") && !JsonGetLong("throttle_ms", throttle))
      return Err("BAD_REQUEST", "throttle_ms must be an integer");
   int n = list == "" ? 0 : StringSplit(list, ',', parts);
   if(n < 0 || n > MAX_SUBS) return Err("BAD_REQUEST", "at most 64 symbols");
   for(int i = 0; i < n; i++) {
      StringTrimLeft(parts[i]);
      StringTrimRight(parts[i]);
      if(parts[i] == "" || !SymbolSelect(parts[i], true)) return Err("UNKNOWN_SYMBOL", "unknown symbol '" + parts[i] + "'");
   }
   ArrayResize(g_subSym, n);
   ArrayResize(g_subBid, n);
   ArrayResize(g_subAsk, n);
   ArrayResize(g_subTime, n);
   // Zeroed "last sent" values make the current quote go out on the next timer tick
   for(int i = 0; i < n; i++) { g_subSym[i] = parts[i]; g_subBid[i] = 0; g_subAsk[i] = 0; g_subTime[i] = 0; }
   g_subCount = n;
   g_subThrottle = (int)MathMax(10, MathMin(throttle, 60000));
   g_subNext = 0;
   return Ok(J(JL("subscribed", n), JL("throttle_ms", g_subThrottle)));
}

void PumpQuotes() {
   ulong now = GetTickCount64();
   if(g_subCount == 0 || now < g_subNext) return;
   g_subNext = now + g_subThrottle;
   for(int i = 0; i < g_subCount && g_state == LINK_READY; i++) {
      MqlTick t;
      if(!SymbolInfoTick(g_subSym[i], t)) continue;
      if(t.time_msc == g_subTime[i] && t.bid == g_subBid[i] && t.ask == g_subAsk[i]) continue;
      g_subTime[i] = t.time_msc;
      g_subBid[i] = t.bid;
      g_subAsk[i] = t.ask;
      SendEvent("QUOTE", J(JS("symbol", g_subSym[i]), JD("bid", t.bid), JD("ask", t.ask), JL("time", t.time_msc)));
   }
}

//--- Trade events ---------------------------------------------------
void OnDealAdded(const ulong deal) {
   // Same selection as the sample in docs/event_handlers/ontradetransaction
   if(deal == 0 || !HistoryDealSelect(deal) || !IsTradeDeal(deal)) return;
   long position = HistoryDealGetInteger(deal, DEAL_POSITION_ID);
   long entry = HistoryDealGetInteger(deal, DEAL_ENTRY);
   bool stillOpen = position != 0 && PositionSelectByTicket((ulong)position);
   SendEvent("DEAL", J(DealJson(deal), JB("position_open", stillOpen)));
   if((entry != DEAL_ENTRY_OUT && entry != DEAL_ENTRY_OUT_BY) || stillOpen) return;
   SendEvent("POSITION_CLOSED", J(JL("ticket", position), JS("symbol", HistoryDealGetString(deal, DEAL_SYMBOL)),
             JS("reason", ReasonName(HistoryDealGetInteger(deal, DEAL_REASON))), JL("deal", (long)deal),
             JD("price", HistoryDealGetDouble(deal, DEAL_PRICE)), JD("volume", HistoryDealGetDouble(deal, DEAL_VOLUME)),
             JD("profit", HistoryDealGetDouble(deal, DEAL_PROFIT)), JL("time", HistoryDealGetInteger(deal, DEAL_TIME_MSC))));
}

void OnPositionChanged(const MqlTradeTransaction &trans) {
   // The docs do not list "position" among this transaction's fields (their own sample reads it);
   // on netting accounts the symbol identifies the position
   bool selected = trans.position != 0 && PositionSelectByTicket(trans.position);
   if(!selected && AccountInfoInteger(ACCOUNT_MARGIN_MODE) != ACCOUNT_MARGIN_MODE_RETAIL_HEDGING)
      selected = PositionSelect(trans.symbol);
   if(selected) SendEvent("POSITION_MODIFIED", J(PositionJson(), JB("partial", false)));
   else SendEvent("POSITION_MODIFIED", J(JL("ticket", (long)trans.position), JS("symbol", trans.symbol),
                  JD("sl", trans.price_sl), JD("tp", trans.price_tp), JD("volume", trans.volume), JB("partial", true)));
}
