//+------------------------------------------------------------------+
//| BridgeTrades.mqh - CmdTrade for every trade command; OPEN, CLOSE |
//| and MODIFY (docs/EA-LINK.md §10, §11): the EA's own checks,      |
//| OrderCheck, the dedup store around OrderSend, one reply shape.   |
//| The pending-order builds are in BridgePending.mqh.               |
//+------------------------------------------------------------------+
#define DEAL_WAIT_MS 500

string g_tCmd = "", g_tCoid = "";   // trade command being handled, named in refusal bodies
long   g_tPosition = 0;             // the position's current ticket (CLOSE/MODIFY)
string g_tFilling = "";             // filling put on the request, "" when none

bool ValidCoid(const string s) {
   int n = StringLen(s);
   if(n < 1 || n > 24) return false;
   for(int i = 0; i < n; i++) {
      ushort c = StringGetCharacter(s, i);
      if(!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
   }
   return true;
}

// One shape for every trade reply; source tells who decided the retcode: EA, CHECK or SERVER
string TradeBody(const string source, const uint retcode, const string comment, const MqlTradeResult &res,
                 const long position, const double sl, const double tp) {
   string b = J(JS("cmd", g_tCmd), JS("client_order_id", g_tCoid), JS("source", source), JL("retcode", retcode),
                JL("retcode_external", res.retcode_external), JL("deal", (long)res.deal), JL("order", (long)res.order),
                JL("position", position), JD("volume", res.volume), JD("price", res.price));
   return Ok(J(b, JD("bid", res.bid), JD("ask", res.ask), JD("sl", sl), JD("tp", tp), JS("comment", comment),
               JL("request_id", res.request_id), JS("filling", g_tFilling)));
}

// A refusal decided before anything was sent: ok:true with a retcode, never stored
string Refuse(const uint retcode, const string why) {
   MqlTradeResult none;
   ZeroMemory(none);
   return TradeBody("EA", retcode, why, none, g_tPosition, 0, 0);
}

// After the MQL5 reference (ENUM_ORDER_TYPE_FILLING): Instant and Request execution take FOK
// whatever the flags say; otherwise FOK or IOC as the symbol's flags allow, else RETURN, which
// the reference allows for market orders on Market and Exchange execution. The terminal's help
// allows it on Exchange only: docs/MT5-SETUP.md §10 asks the first demo run to settle it
ENUM_ORDER_TYPE_FILLING FillingFor(const string sym) {
   long exe = SymbolInfoInteger(sym, SYMBOL_TRADE_EXEMODE);
   if(exe == SYMBOL_TRADE_EXECUTION_INSTANT || exe == SYMBOL_TRADE_EXECUTION_REQUEST) return ORDER_FILLING_FOK;
   long flags = SymbolInfoInteger(sym, SYMBOL_FILLING_MODE);
   if((flags & SYMBOL_FILLING_FOK) != 0) return ORDER_FILLING_FOK;
   if((flags & SYMBOL_FILLING_IOC) != 0) return ORDER_FILLING_IOC;
   return ORDER_FILLING_RETURN;
}

string FillingName(const ENUM_ORDER_TYPE_FILLING f) {
   return f == ORDER_FILLING_FOK ? "FOK" : f == ORDER_FILLING_IOC ? "IOC" : "RETURN";
}

// Refuse rather than round: a silently changed size is worse than a clear refusal
string VolumeProblem(const string sym, const double vol) {
   double vmin = SymbolInfoDouble(sym, SYMBOL_VOLUME_MIN), vmax = SymbolInfoDouble(sym, SYMBOL_VOLUME_MAX);
   double step = SymbolInfoDouble(sym, SYMBOL_VOLUME_STEP);
   if(vol < vmin - 1e-9) return "volume below volume_min " + JsonNumber(vmin);
   if(vol > vmax + 1e-9) return "volume above volume_max " + JsonNumber(vmax);
   if(step > 0 && MathAbs(MathRound(vol / step) * step - vol) > step * 1e-6)
      return "volume not a multiple of volume_step " + JsonNumber(step);
   return "";
}

// SL/TP go on the symbol's price grid, SYMBOL_TRADE_TICK_SIZE: on indices and futures it is
// coarser than a point and an off-grid level is refused. Rounded to the nearest tick; the reply
// echoes the level sent
double RoundToTick(const string sym, const double price) {
   if(price <= 0) return 0;
   int digits = (int)SymbolInfoInteger(sym, SYMBOL_DIGITS);
   double tick = SymbolInfoDouble(sym, SYMBOL_TRADE_TICK_SIZE);
   if(tick <= 0) return NormalizeDouble(price, digits);
   return NormalizeDouble(MathRound(price / tick) * tick, digits);
}

// A buy closes at Bid and a sell at Ask, so stops are measured from the closing price
string StopsProblem(const string sym, const bool buy, const double sl, const double tp, const MqlTick &tick) {
   double point = SymbolInfoDouble(sym, SYMBOL_POINT), eps = point * 1e-3;
   double d = (double)SymbolInfoInteger(sym, SYMBOL_TRADE_STOPS_LEVEL) * point;
   if(buy && sl > 0 && sl > tick.bid - d + eps) return "sl must be <= bid - stops_level";
   if(buy && tp > 0 && tp < tick.bid + d - eps) return "tp must be >= bid + stops_level";
   if(!buy && sl > 0 && sl < tick.ask + d - eps) return "sl must be >= ask + stops_level";
   if(!buy && tp > 0 && tp > tick.ask - d + eps) return "tp must be <= ask - stops_level";
   return "";
}

// SYMBOL_ORDER_MODE: what the broker allows on the symbol; `need` is the order kind's flag (0 for a
// change of levels), `what` its name in the refusal; "" when the request fits
string OrderModeProblem(const string sym, const long need, const string what, const double sl, const double tp,
                        uint &retcode) {
   long modes = SymbolInfoInteger(sym, SYMBOL_ORDER_MODE);
   retcode = TRADE_RETCODE_INVALID_ORDER;
   if(need != 0 && (modes & need) == 0) return sym + " allows no " + what + " orders (SYMBOL_ORDER_MODE)";
   retcode = TRADE_RETCODE_INVALID_STOPS;
   if(sl > 0 && (modes & SYMBOL_ORDER_SL) == 0) return sym + " allows no stop loss (SYMBOL_ORDER_MODE)";
   if(tp > 0 && (modes & SYMBOL_ORDER_TP) == 0) return sym + " allows no take profit (SYMBOL_ORDER_MODE)";
   return "";
}

// SYMBOL_TRADE_MODE for a new order on this side; "" when it may be placed
string TradeModeProblem(const string sym, const bool buy, uint &retcode) {
   long mode = SymbolInfoInteger(sym, SYMBOL_TRADE_MODE);
   retcode = TRADE_RETCODE_TRADE_DISABLED;
   if(mode == SYMBOL_TRADE_MODE_DISABLED) return "trading disabled for " + sym;
   retcode = TRADE_RETCODE_CLOSE_ONLY;
   if(mode == SYMBOL_TRADE_MODE_CLOSEONLY) return sym + " is close-only";
   retcode = buy ? TRADE_RETCODE_SHORT_ONLY : TRADE_RETCODE_LONG_ONLY;
   if(mode == SYMBOL_TRADE_MODE_LONGONLY && !buy) return sym + " is long-only";
   if(mode == SYMBOL_TRADE_MODE_SHORTONLY && buy) return sym + " is short-only";
   return "";
}

bool Quote(const string sym, MqlTick &tick) {
   return SymbolInfoTick(sym, tick) && tick.bid > 0 && tick.ask > 0;
}

void SetCommon(MqlTradeRequest &req, const string sym, const long dev, const long magic, const string comment) {
   req.deviation = (ulong)dev;
   req.magic = (ulong)magic;
   req.comment = comment;
   req.type_filling = FillingFor(sym);
   g_tFilling = FillingName(req.type_filling);
}

// deviation/magic/comment, optional in OPEN and CLOSE; "" when fine
string CommonFields(long &dev, long &magic, string &comment) {
   dev = InpDeviation;
   magic = InpMagic;
   comment = "";
   if((JsonHas("deviation") && !JsonGetLong("deviation", dev)) || dev < 0)
      return Err("BAD_REQUEST", "deviation must be an integer >= 0 (points)");
   if(JsonHas("magic") && !JsonGetLong("magic", magic)) return Err("BAD_REQUEST", "magic must be an integer");
   if(JsonHas("comment") && !JsonGetString("comment", comment)) return Err("BAD_REQUEST", "comment must be a string");
   if(StringLen(comment) > 31) return Err("BAD_REQUEST", "comment longer than 31 characters");
   return "";
}

string BuildOpen(MqlTradeRequest &req) {
   string sym = "", side = "", comment = "";
   double vol = 0, sl = 0, tp = 0;
   long dev = 0, magic = 0;
   uint retcode = 0;
   MqlTick tick;
   if(!JsonGetString("symbol", sym) || !JsonGetString("side", side) || !JsonGetDouble("volume", vol))
      return Err("BAD_REQUEST", "symbol, side and volume are required");
   if(side != "BUY" && side != "SELL") return Err("BAD_REQUEST", "side must be BUY or SELL");
   if(vol <= 0) return Err("BAD_REQUEST", "volume must be > 0");
   if((JsonHas("sl") && !JsonGetDouble("sl", sl)) || (JsonHas("tp") && !JsonGetDouble("tp", tp)) || sl < 0 || tp < 0)
      return Err("BAD_REQUEST", "sl and tp must be prices >= 0 (0 = none)");
   string problem = CommonFields(dev, magic, comment);
   if(problem != "") return problem;
   if(!SymbolSelect(sym, true)) return Err("UNKNOWN_SYMBOL", "unknown symbol " + sym);
   bool buy = side == "BUY";
   problem = TradeModeProblem(sym, buy, retcode);
   if(problem != "") return Refuse(retcode, problem);
   problem = OrderModeProblem(sym, SYMBOL_ORDER_MARKET, "market", sl, tp, retcode);
   if(problem != "") return Refuse(retcode, problem);
   if(vol > InpMaxLots + 1e-9)
      return Refuse(TRADE_RETCODE_INVALID_VOLUME, "volume above the EA's InpMaxLots " + JsonNumber(InpMaxLots));
   problem = VolumeProblem(sym, vol);
   if(problem != "") return Refuse(TRADE_RETCODE_INVALID_VOLUME, problem);
   if(!Quote(sym, tick)) return Refuse(TRADE_RETCODE_PRICE_OFF, "no quote for " + sym);
   sl = RoundToTick(sym, sl);
   tp = RoundToTick(sym, tp);
   problem = StopsProblem(sym, buy, sl, tp, tick);
   if(problem != "") return Refuse(TRADE_RETCODE_INVALID_STOPS, problem);
   req.action = TRADE_ACTION_DEAL;
   req.symbol = sym;
   req.volume = vol;
   req.type = buy ? ORDER_TYPE_BUY : ORDER_TYPE_SELL;
   req.price = buy ? tick.ask : tick.bid;   // ignored under Market/Exchange execution, used by Instant/Request
   req.sl = sl;
   req.tp = tp;
   SetCommon(req, sym, dev, magic, comment);
   return "";
}

// Selects the open position `ticket` names: by ticket, else by POSITION_IDENTIFIER, which stays when
// a broker re-opens a position under a new ticket (swap rollover). Its current ticket, 0 when none
long FindPosition(const long ticket) {
   if(PositionSelectByTicket((ulong)ticket)) return ticket;
   for(int i = PositionsTotal() - 1; i >= 0; i--) {
      ulong current = PositionGetTicket(i);   // also selects it
      if(current != 0 && PositionGetInteger(POSITION_IDENTIFIER) == ticket) return (long)current;
   }
   return 0;
}

// Selects the position named by "ticket"; "" when selected, g_tPosition then holds its current ticket
string SelectPosition() {
   long ticket = 0;
   if(!JsonGetLong("ticket", ticket) || ticket <= 0) return Err("BAD_REQUEST", "ticket is required");
   g_tPosition = ticket;
   long current = FindPosition(ticket);
   // A missing position is an answer (already closed), not an error to retry
   if(current == 0) return Refuse(TRADE_RETCODE_POSITION_CLOSED, "position " + IntegerToString(ticket) + " not found");
   g_tPosition = current;
   return "";
}

string BuildClose(MqlTradeRequest &req) {
   string comment = "";
   long dev = 0, magic = 0;
   double vol = 0;
   uint retcode = 0;
   MqlTick tick;
   bool partial = JsonHas("volume");
   if(partial && (!JsonGetDouble("volume", vol) || vol <= 0)) return Err("BAD_REQUEST", "volume must be a number > 0");
   string problem = CommonFields(dev, magic, comment);
   if(problem != "") return problem;
   problem = SelectPosition();
   if(problem != "") return problem;
   string sym = PositionGetString(POSITION_SYMBOL);
   bool isBuy = (ENUM_POSITION_TYPE)PositionGetInteger(POSITION_TYPE) == POSITION_TYPE_BUY;
   double posVol = PositionGetDouble(POSITION_VOLUME);
   if(SymbolInfoInteger(sym, SYMBOL_TRADE_MODE) == SYMBOL_TRADE_MODE_DISABLED)
      return Refuse(TRADE_RETCODE_TRADE_DISABLED, "trading disabled for " + sym);
   problem = OrderModeProblem(sym, SYMBOL_ORDER_MARKET, "market", 0, 0, retcode);
   if(problem != "") return Refuse(retcode, problem);
   if(vol > posVol + 1e-9)
      return Refuse(TRADE_RETCODE_INVALID_CLOSE_VOLUME, "volume above the position volume " + JsonNumber(posVol));
   if(partial && vol < posVol - 1e-9) {
      problem = VolumeProblem(sym, vol);   // a partial close must itself be a valid volume
      if(problem != "") return Refuse(TRADE_RETCODE_INVALID_VOLUME, problem);
   }
   else vol = posVol;
   if(!Quote(sym, tick)) return Refuse(TRADE_RETCODE_PRICE_OFF, "no quote for " + sym);
   // A close is the opposite deal naming the position (docs/constants/structures/mqltraderequest)
   req.action = TRADE_ACTION_DEAL;
   req.position = (ulong)g_tPosition;
   req.symbol = sym;
   req.volume = vol;
   req.type = isBuy ? ORDER_TYPE_SELL : ORDER_TYPE_BUY;
   req.price = isBuy ? tick.bid : tick.ask;
   SetCommon(req, sym, dev, magic, comment);   // filling from the symbol for closes too
   return "";
}

// sl and tp are final values: 0 removes a level, resending the current value keeps it
string BuildModify(MqlTradeRequest &req) {
   double sl = 0, tp = 0;
   uint retcode = 0;
   MqlTick tick;
   if(!JsonGetDouble("sl", sl) || !JsonGetDouble("tp", tp) || sl < 0 || tp < 0)
      return Err("BAD_REQUEST", "sl and tp are required (final prices, 0 = none)");
   string problem = SelectPosition();
   if(problem != "") return problem;
   string sym = PositionGetString(POSITION_SYMBOL);
   bool isBuy = (ENUM_POSITION_TYPE)PositionGetInteger(POSITION_TYPE) == POSITION_TYPE_BUY;
   long magic = PositionGetInteger(POSITION_MAGIC);
   problem = OrderModeProblem(sym, 0, "", sl, tp, retcode);
   if(problem != "") return Refuse(retcode, problem);
   if(!Quote(sym, tick)) return Refuse(TRADE_RETCODE_PRICE_OFF, "no quote for " + sym);
   sl = RoundToTick(sym, sl);
   tp = RoundToTick(sym, tp);
   problem = StopsProblem(sym, isBuy, sl, tp, tick);
   if(problem != "") return Refuse(TRADE_RETCODE_INVALID_STOPS, problem);
   req.action   = TRADE_ACTION_SLTP;
   req.position = (ulong)g_tPosition;
   req.symbol   = sym;
   req.sl       = sl;
   req.tp       = tp;
   req.magic    = (ulong)magic;
   return "";
}

// OrderSend reports the deal, not the position (MQL5 book, "OnTradeTransaction"); the deal can
// take a moment to reach the terminal's history, so poll briefly. Without it, a position that
// carries the opening order's ticket (POSITION_TICKET in the reference) names it; else 0
long OpenedPosition(const MqlTradeResult &res) {
   if(res.deal != 0) {
      for(int waited = 0; waited <= DEAL_WAIT_MS && !IsStopped(); waited += 10) {
         if(HistoryDealSelect(res.deal)) return HistoryDealGetInteger(res.deal, DEAL_POSITION_ID);
         Sleep(10);
      }
   }
   if(res.order != 0 && PositionSelectByTicket(res.order)) return (long)res.order;
   return 0;
}

// The terminal's (or the EA's own) Algo Trading switch: off means OrderSend refuses locally
bool AlgoTradingOff() {
   return TerminalInfoInteger(TERMINAL_TRADE_ALLOWED) == 0 || MQLInfoInteger(MQL_TRADE_ALLOWED) == 0;
}

string CmdTrade(const string cmd) {
   string coid = "", stored = "";
   g_tCmd = cmd;
   g_tCoid = "";
   g_tPosition = 0;
   g_tFilling = "";
   if(!JsonGetString("client_order_id", coid) || !ValidCoid(coid))
      return Err("BAD_REQUEST", "client_order_id must be 1-24 chars of [A-Za-z0-9_-]");
   g_tCoid = coid;
   int seen = DedupLookup(coid, stored);
   if(seen == DEDUP_FINAL) {
      // With the comma after it: "MODIFY" must not match a stored "MODIFY_ORDER"
      if(StringFind(stored, JS("cmd", cmd) + ",") < 0)
         return Err("COID_CONFLICT", "client_order_id was already used for another command");
      return JB("duplicate", true) + "," + stored;
   }
   if(seen == DEDUP_INFLIGHT)
      return Err("OUTCOME_UNKNOWN", "an earlier attempt stopped inside OrderSend; reconcile, then FORGET");
   MqlTradeRequest req;
   ZeroMemory(req);
   string early = BuildRequest(cmd, req);
   if(early != "") return early;   // a BAD_REQUEST or an EA-side refusal: nothing sent, nothing stored
   // Checked here for the commands that skip OrderCheck too: a local refusal is not an outcome to keep
   if(AlgoTradingOff())
      return Refuse(TRADE_RETCODE_CLIENT_DISABLES_AT, "Algo Trading is off (toolbar button, or the EA's Allow Algo Trading)");
   if(NeedsOrderCheck(cmd)) {
      // OrderCheck passes with retcode 0 ("Done"); a refusal carries its retcode (docs/trading/ordercheck)
      MqlTradeCheckResult check;
      ZeroMemory(check);
      ResetLastError();
      bool passed = OrderCheck(req, check);
      if(check.retcode != 0 && check.retcode != TRADE_RETCODE_DONE) {
         MqlTradeResult none;
         ZeroMemory(none);
         return TradeBody("CHECK", check.retcode, check.comment, none, g_tPosition, req.sl, req.tp);
      }
      if(!passed) return RuntimeErr(GetLastError());
   }
   // Durable "in flight" marker first: if the terminal dies inside OrderSend, a repeat is not re-executed
   if(!DedupPut(coid, DEDUP_PENDING))
      return Err("DEDUP_STORE_FAILED", "cannot write the dedup file in MQL5/Files; refusing to trade");
   MqlTradeResult res;
   ZeroMemory(res);
   ResetLastError();
   bool sent = OrderSend(req, res);
   int err = GetLastError();
   if(!sent && res.retcode == 0) {
      // Local refusals (Algo Trading off, position or order gone) never left the terminal; anything else stays in flight
      if(err == 4752 || err == 4753 || err == 4754) { DedupPut(coid, DEDUP_FORGOTTEN); return RuntimeErr(err); }
      return J(RuntimeErr(err), JB("in_flight", true));
   }
   if(res.retcode == TRADE_RETCODE_CLIENT_DISABLES_AT) {
      // The terminal refused it itself (Algo Trading switched off meanwhile): not an outcome to keep
      DedupPut(coid, DEDUP_FORGOTTEN);
      return TradeBody("CHECK", res.retcode, res.comment, res, g_tPosition, req.sl, req.tp);
   }
   long position = cmd == "OPEN" ? OpenedPosition(res) : g_tPosition;
   string body = TradeBody("SERVER", res.retcode, res.comment, res, position, req.sl, req.tp);
   // Every server answer is the id's outcome, refusals too (§11): a retry needs a new id. If this
   // write fails the marker stays, and a repeat answers OUTCOME_UNKNOWN: reconciled, not re-sent
   DedupPut(coid, body);
   return body;
}
