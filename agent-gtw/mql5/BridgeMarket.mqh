//+------------------------------------------------------------------+
//| BridgeMarket.mqh - market data (docs/EA-LINK.md §7.13-§7.18):    |
//| the server's symbol list, specifications by the batch, the last  |
//| tick, bars (CopyTime/CopyRates) and ticks (CopyTicks) as rows of |
//| numbers. A copy made while the terminal still builds or          |
//| downloads the history may be partial (docs/series/copyrates), so |
//| it is trusted only when the series was synchronized before and   |
//| after it; otherwise the EA retries for HISTORY_WAIT_MS and then  |
//| answers HISTORY_LOADING, never a short page.                     |
//+------------------------------------------------------------------+
#define MAX_SYMBOL_BATCH  200       // names per GET_SYMBOLS
#define MAX_NAME_CHARS    32        // longer names are not listed (the gateway's symbol limit)
#define MAX_ROWS          5000      // rows per GET_RATES / GET_TICKS reply
#define MAX_SPAN_BARS     1000000   // start + count of GET_RATE_SPAN
#define MAX_TICK_SKIP     10000     // ticks of one millisecond a GET_TICKS may pass over
#define HISTORY_WAIT_MS   2000      // how long a read waits for history the terminal is loading
#define HISTORY_RETRY_MS  100
#define SLOW_COPY_MS      1000      // a copy slower than this is logged (once per kind)

// The timeframes the gateway names by their ENUM_TIMEFRAMES value (mt5Timeframe, the same
// numbers as the MetaTrader5 package's TIMEFRAME_*), shortest first
ENUM_TIMEFRAMES g_timeframes[] = {PERIOD_M1, PERIOD_M2, PERIOD_M3, PERIOD_M4, PERIOD_M5, PERIOD_M6, PERIOD_M10,
                                  PERIOD_M12, PERIOD_M15, PERIOD_M20, PERIOD_M30, PERIOD_H1, PERIOD_H2, PERIOD_H3,
                                  PERIOD_H4, PERIOD_H6, PERIOD_H8, PERIOD_H12, PERIOD_D1, PERIOD_W1, PERIOD_MN1};

bool TimeframeArg(ENUM_TIMEFRAMES &tf) {
   long code = 0;
   if(!JsonGetLong("timeframe", code)) return false;
   for(int i = 0; i < ArraySize(g_timeframes); i++) {
      if((long)g_timeframes[i] == code) { tf = g_timeframes[i]; return true; }
   }
   return false;
}

// symbol and timeframe of a bars command; "" when both are good (the symbol is put in Market
// Watch, as GET_SYMBOL_INFO does, so the terminal keeps its history current)
string SeriesArgs(string &sym, ENUM_TIMEFRAMES &tf) {
   if(!JsonGetString("symbol", sym) || sym == "") return Err("BAD_REQUEST", "symbol is required");
   if(!TimeframeArg(tf)) return Err("BAD_REQUEST", "timeframe must be an ENUM_TIMEFRAMES value (PERIOD_M1 = 1 ... PERIOD_MN1 = 49153)");
   if(!SymbolSelect(sym, true)) return Err("UNKNOWN_SYMBOL", "unknown symbol " + sym);
   return "";
}

bool SeriesReady(const string sym, const ENUM_TIMEFRAMES tf) { return SeriesInfoInteger(sym, tf, SERIES_SYNCHRONIZED) != 0; }

// What a copy that found nothing, or only part, means on this terminal (docs/MT5-SETUP.md §10)
void LogCopy(const string what, const string sym, const ENUM_TIMEFRAMES tf, const int n, const int err, const ulong ms) {
   string key = what + ":" + sym + ":" + EnumToString(tf) + ":" + IntegerToString(n < 0 ? -1 : 0) + ":" + IntegerToString(err);
   if(n > 0 && ms < SLOW_COPY_MS) return;
   LogOnce(key, what + " " + sym + " " + EnumToString(tf) + " returned " + IntegerToString(n) + ", error " + IntegerToString(err)
           + " after " + IntegerToString((long)ms) + " ms; synchronized " + (SeriesReady(sym, tf) ? "yes" : "no") + ", first bar "
           + TimeToString((datetime)SeriesInfoInteger(sym, tf, SERIES_FIRSTDATE)) + ", first on the server "
           + TimeToString((datetime)SeriesInfoInteger(sym, tf, SERIES_SERVER_FIRSTDATE)) + ", Max bars in chart "
           + IntegerToString(TerminalInfoInteger(TERMINAL_MAXBARS)));
}

// A copy's result, or the answer instead of it: "" when `n` (>= 0) is what the terminal has
string CopyProblem(int &n, const int err, const bool ready) {
   if(!ready) return Err("HISTORY_LOADING", "the terminal is still loading this history; ask again in a few seconds");
   if(n >= 0) return "";
   // Nothing there: before the first bar, after the last, or a closed market
   if(err == 0 || err == ERR_HISTORY_NOT_FOUND) { n = 0; return ""; }
   if(err == ERR_HISTORY_BARS_LIMIT)
      return Err("HISTORY_LIMIT", "beyond the terminal's Max bars in chart (" + IntegerToString(TerminalInfoInteger(TERMINAL_MAXBARS))
                 + "); raise it in Tools > Options > Charts");
   return RuntimeErr(err);
}

//--- Symbols (§7.13, §7.14) -----------------------------------------
// Every symbol the server offers, not only Market Watch (symbols_get lists them all). A name
// GET_SYMBOLS could not carry back (a comma, more than 32 characters) is left out and logged
string CmdSymbolNames() {
   string err = "", items = "";
   int offset = 0, limit = 0, matched = 0, count = 0;
   bool full = false;
   if(!PageArgs(offset, limit, err)) return Err("BAD_REQUEST", err);
   int total = SymbolsTotal(false);
   LogOnce("symbols:" + IntegerToString(total), "GET_SYMBOL_NAMES: " + IntegerToString(total) + " symbols on the server, "
           + IntegerToString(SymbolsTotal(true)) + " of them in Market Watch");
   for(int i = 0; i < total; i++) {
      string name = SymbolName(i, false);
      if(name == "") continue;
      if(StringFind(name, ",") >= 0 || StringLen(name) > MAX_NAME_CHARS) {
         LogOnce("name:" + name, "symbol '" + name + "' is not listed: GET_SYMBOLS cannot name it (a comma or more than 32 characters)");
         continue;
      }
      if(++matched <= offset || full) continue;
      if(!PageAdd(items, count, limit, JS("name", name))) full = true;
   }
   return PageReply("symbols", items, matched, offset, count);
}

// The specification of each named symbol, in the order given, without adding it to Market Watch
// (a listing of every symbol would subscribe the terminal to all their quotes): bid, ask and
// quote_time are what SymbolInfoTick holds, 0 for a symbol that has not been quoted here
string CmdSymbols() {
   string list = "", items = "";
   string names[];
   if(!JsonGetString("symbols", list)) return Err("BAD_REQUEST", "symbols (comma-separated names) is required");
   int n = list == "" ? 0 : StringSplit(list, ',', names);
   if(n < 0 || n > MAX_SYMBOL_BATCH) return Err("BAD_REQUEST", "at most 200 symbols");
   int taken = 0, count = 0;
   for(; taken < n; taken++) {
      bool custom = false;
      if(names[taken] == "" || !SymbolExist(names[taken], custom)) continue;   // unknown: left out
      if(!PageAdd(items, count, n, SymbolInfoJson(names[taken]))) break;        // the frame is full
   }
   return Ok(J(JL("taken", taken), JL("count", count), "\"symbols\":[" + items + "]"));
}

//--- The last tick (§7.15) ------------------------------------------
string TickFields(const MqlTick &t) {
   return J(JL("time_msc", t.time_msc), JD("bid", t.bid), JD("ask", t.ask), JD("last", t.last), JL("volume", (long)t.volume),
            JL("flags", (long)t.flags), JD("volume_real", t.volume_real));
}

// A symbol without a quote yet answers MT5's empty MqlTick (time_msc 0)
string CmdTick() {
   string sym = "";
   MqlTick t;
   if(!JsonGetString("symbol", sym) || sym == "") return Err("BAD_REQUEST", "symbol is required");
   if(!SymbolSelect(sym, true)) return Err("UNKNOWN_SYMBOL", "unknown symbol " + sym);
   if(!SymbolInfoTick(sym, t)) ZeroMemory(t);
   return Ok(TickFields(t));
}

//--- Bars (§7.16, §7.17) --------------------------------------------
// The open times of the oldest and newest of `count` bars: by position (`start`, 0 the current
// bar, as copy_rates_from_pos) or back from a date (`from`, server ms, as copy_rates_from)
string CmdRateSpan() {
   string sym = "";
   ENUM_TIMEFRAMES tf = PERIOD_CURRENT;
   long count = 0, start = 0, from = 0;
   bool byPos = JsonHas("start"), byDate = JsonHas("from");
   if(!JsonGetLong("count", count) || count < 1 || byPos == byDate
      || (byPos && (!JsonGetLong("start", start) || start < 0 || start + count > MAX_SPAN_BARS))
      || (byDate && (!JsonGetLong("from", from) || from < 0 || count > MAX_SPAN_BARS)))
      return Err("BAD_REQUEST", "count >= 1 and start (>= 0) or from (server ms) are required; start + count <= 1000000");
   string problem = SeriesArgs(sym, tf);
   if(problem != "") return problem;
   datetime times[];
   int n = -1, err = 0;
   ulong began = GetTickCount64();
   bool ready = false;
   while(true) {
      bool before = SeriesReady(sym, tf);
      ResetLastError();
      n = byPos ? CopyTime(sym, tf, (int)start, (int)count, times) : CopyTime(sym, tf, (datetime)(from / 1000), (int)count, times);
      err = GetLastError();
      ready = before && SeriesReady(sym, tf);
      if(ready || GetTickCount64() - began >= HISTORY_WAIT_MS) break;
      Sleep(HISTORY_RETRY_MS);
   }
   LogCopy("CopyTime", sym, tf, n, err, GetTickCount64() - began);
   problem = CopyProblem(n, err, ready);
   if(problem != "") return problem;
   if(n == 0) return Ok(J(JB("found", false), JL("from", 0), JL("to", 0)));
   return Ok(J(JB("found", true), JL("from", (long)times[0] * 1000), JL("to", (long)times[n - 1] * 1000)));
}

string RateRow(const MqlRates &r) {
   return "[" + IntegerToString((long)r.time * 1000) + "," + JsonNumber(r.open) + "," + JsonNumber(r.high) + "," + JsonNumber(r.low)
          + "," + JsonNumber(r.close) + "," + IntegerToString(r.tick_volume) + "," + IntegerToString(r.spread) + ","
          + IntegerToString(r.real_volume) + "]";
}

// Bars opening within [from, to] (server ms), oldest first, at most `limit`. One call copies at
// most `limit` bar lengths of time (CopyRates by range would copy a year of M1 bars at once);
// `next` is where the next call starts, 0 when the range is done
string CmdRates() {
   string sym = "", rows = "";
   ENUM_TIMEFRAMES tf = PERIOD_CURRENT;
   long from = 0, to = 0, limit = 0;
   if(!JsonGetLong("from", from) || !JsonGetLong("to", to) || !JsonGetLong("limit", limit) || from < 0 || to < from
      || limit < 1 || limit > MAX_ROWS)
      return Err("BAD_REQUEST", "from <= to (server ms) and 1 <= limit <= 5000 are required");
   string problem = SeriesArgs(sym, tf);
   if(problem != "") return problem;
   long end = to, window = limit * PeriodSeconds(tf) * 1000 - 1;
   if(from + window < to) end = from + window;
   long next = end < to ? end + 1 : 0;
   datetime first = (datetime)((from + 999) / 1000), last = (datetime)(end / 1000);
   MqlRates r[];
   int n = 0, err = 0;
   if(first <= last) {
      ulong began = GetTickCount64();
      bool ready = false;
      while(true) {
         bool before = SeriesReady(sym, tf);
         ResetLastError();
         n = CopyRates(sym, tf, first, last, r);
         err = GetLastError();
         ready = before && SeriesReady(sym, tf);
         if(ready || GetTickCount64() - began >= HISTORY_WAIT_MS) break;
         Sleep(HISTORY_RETRY_MS);
      }
      LogCopy("CopyRates", sym, tf, n, err, GetTickCount64() - began);
      problem = CopyProblem(n, err, ready);
      if(problem != "") return problem;
   }
   int count = 0;
   for(int i = 0; i < n; i++) {
      string row = RateRow(r[i]);
      if(count >= limit || StringLen(rows) + StringLen(row) + 1 > PAGE_BUDGET_CHARS) { next = (long)r[i].time * 1000; break; }
      rows += (count > 0 ? "," : "") + row;
      count++;
   }
   return Ok(J(JL("count", count), JB("more", next > 0), JL("next", next), "\"rates\":[" + rows + "]"));
}

//--- Ticks (§7.18) --------------------------------------------------
string TickRow(const MqlTick &t) {
   return "[" + IntegerToString(t.time_msc) + "," + JsonNumber(t.bid) + "," + JsonNumber(t.ask) + "," + JsonNumber(t.last) + ","
          + IntegerToString((long)t.volume) + "," + IntegerToString((long)t.flags) + "," + JsonNumber(t.volume_real) + "]";
}

bool TickKind(const string name, uint &flags) {
   if(name == "INFO")  { flags = COPY_TICKS_INFO;  return true; }
   if(name == "TRADE") { flags = COPY_TICKS_TRADE; return true; }
   if(name == "ALL")   { flags = COPY_TICKS_ALL;   return true; }
   return false;
}

// Ticks of the kind with time_msc in [from, to], except the first `skip` at exactly `from` (sent
// on an earlier page), oldest first, at most `limit`. CopyTicks copies forward from `from`, so
// limit + skip ticks are enough; next_from/next_skip say where the next call starts
string CmdTicks() {
   string sym = "", kind = "ALL", rows = "";
   long from = 0, to = 0, skip = 0, limit = 0;
   uint flags = COPY_TICKS_ALL;
   if(!JsonGetString("symbol", sym) || sym == "" || !JsonGetLong("from", from) || !JsonGetLong("to", to) || !JsonGetLong("limit", limit)
      || from < 0 || to < from || limit < 1 || limit > MAX_ROWS || (JsonHas("skip") && (!JsonGetLong("skip", skip) || skip < 0 || skip > MAX_TICK_SKIP))
      || (JsonHas("flags") && (!JsonGetString("flags", kind) || !TickKind(kind, flags))))
      return Err("BAD_REQUEST", "symbol, from <= to (server ms), 1 <= limit <= 5000, 0 <= skip <= 10000 and flags INFO, TRADE or ALL");
   if(!SymbolSelect(sym, true)) return Err("UNKNOWN_SYMBOL", "unknown symbol " + sym);
   MqlTick t[];
   int n = -1, err = 0;
   ulong began = GetTickCount64();
   while(true) {
      ResetLastError();
      n = CopyTicks(sym, t, flags, (ulong)from, (uint)(limit + skip));
      err = GetLastError();
      // ERR_HISTORY_TIMEOUT: the tick database was not synchronized in time; what came back is partial
      if(n >= 0 && err != ERR_HISTORY_TIMEOUT) break;
      if(GetTickCount64() - began >= HISTORY_WAIT_MS) break;
      Sleep(HISTORY_RETRY_MS);
   }
   ulong took = GetTickCount64() - began;
   if(took >= SLOW_COPY_MS || n < 0 || err != 0)
      LogOnce("ticks:" + sym + ":" + IntegerToString(err), "CopyTicks " + sym + " returned " + IntegerToString(n) + ", error "
              + IntegerToString(err) + " after " + IntegerToString((long)took) + " ms");
   if(err == ERR_HISTORY_TIMEOUT) return Err("HISTORY_LOADING", "the terminal is still loading the ticks; ask again in a few seconds");
   if(n < 0) return RuntimeErr(err);
   int count = 0, skipped = 0, i = 0;
   for(; i < n; i++) {
      if(t[i].time_msc > to) break;
      if(t[i].time_msc == from && skipped < skip) { skipped++; continue; }
      string row = TickRow(t[i]);
      if(count >= limit || StringLen(rows) + StringLen(row) + 1 > PAGE_BUDGET_CHARS) break;
      rows += (count > 0 ? "," : "") + row;
      count++;
   }
   // Stopped before a tick in range (the page is full), or took all it copied while the copy
   // was as long as asked (more may follow): the next call starts at that tick's millisecond
   bool more = (i < n && t[i].time_msc <= to) || (i == n && n == limit + skip);
   long nextFrom = 0, nextSkip = 0;
   if(more) {
      nextFrom = i < n ? t[i].time_msc : t[n - 1].time_msc;
      // Ticks of that millisecond already sent, on this page or (skipped) on earlier ones
      for(int k = i - 1; k >= 0 && t[k].time_msc == nextFrom; k--) nextSkip++;
   }
   return Ok(J(JL("count", count), JB("more", more), JL("next_from", nextFrom), JL("next_skip", nextSkip),
               "\"ticks\":[" + rows + "]"));
}
