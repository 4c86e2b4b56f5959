//+------------------------------------------------------------------+
//| GatewayBridge.mq5 - the terminal end of agent-gtw's terminal     |
//| backend. MQL5 sockets can only dial out, so the EA connects to   |
//| the gateway on 127.0.0.1, says HELLO with a token, then answers  |
//| one command per frame and pushes trade events.                   |
//| Wire contract: docs/EA-LINK.md. Operator guide: docs/MT5-SETUP.md|
//| It never trades on its own and needs no DLLs.                    |
//+------------------------------------------------------------------+
#property copyright   "MT5 Live Bridge"
#property version     "1.00"
#property description "Link between agent-gtw and this terminal."
#property description "Add 127.0.0.1 under Tools > Options > Expert Advisors > Allow WebRequest for listed URL."

#include "BridgeJson.mqh"
#include "BridgeDedup.mqh"

#define EA_VERSION       "1.0.0"
#define PROTO_VERSION    1
#define MAX_IN_FRAME     65536     // gateway -> EA payload bytes
#define MAX_OUT_FRAME    1048576   // EA -> gateway payload bytes
#define HELLO_TIMEOUT_MS 5000
#define BACKOFF_MIN_MS   250
#define BACKOFF_MAX_MS   5000
#define DEFAULT_PAGE     500
#define MAX_PAGE         1000
#define DEAL_WAIT_MS     500
#define MAX_SUBS         64
#define FRAMES_PER_TICK  16

input int    InpGatewayPort = 5701;    // Gateway port on 127.0.0.1
input string InpToken       = "";      // Token: must equal terminal.token in the gateway config
input long   InpMagic       = 570100;  // Magic number for orders that carry none
input int    InpDeviation   = 10;      // Default max price deviation, points
input double InpMaxLots     = 1.0;     // Hard cap on the volume of one OPEN, lots

enum LinkState { LINK_IDLE, LINK_WAIT_ACK, LINK_READY };

int       g_sock = INVALID_HANDLE;
LinkState g_state = LINK_IDLE;
uchar     g_rx[];
int       g_rxLen = 0;
ulong     g_startTick = 0, g_nextDial = 0, g_connectedAt = 0, g_lastRx = 0;
int       g_backoff = BACKOFF_MIN_MS, g_lastDialErr = -1, g_hbMs = 1000;
long      g_seq = 0;
string    g_tCmd = "", g_tCoid = "";   // trade command being handled, named in refusal bodies
long      g_tPosition = 0;
string    g_subSym[];                  // SUBSCRIBE_TICKS state
double    g_subBid[], g_subAsk[];
long      g_subTime[];
int       g_subCount = 0, g_subThrottle = 100;
ulong     g_subNext = 0;

int OnInit() {
   if(StringLen(InpToken) == 0) {
      Print("GatewayBridge: InpToken is empty; set it to the gateway's terminal.token");
      return INIT_PARAMETERS_INCORRECT;
   }
   if(InpGatewayPort < 1 || InpGatewayPort > 65535 || InpMaxLots <= 0 || InpDeviation < 0) {
      Print("GatewayBridge: invalid inputs (port 1-65535, max lots > 0, deviation >= 0)");
      return INIT_PARAMETERS_INCORRECT;
   }
   g_startTick = GetTickCount64();
   // One store per magic in this terminal's MQL5/Files sandbox (not FILE_COMMON: one terminal, one store)
   DedupInit("GatewayBridge\\dedup_" + IntegerToString(InpMagic) + ".txt");
   // Timer events come no faster than every 10-16 ms anyway (docs/eventfunctions/eventsetmillisecondtimer)
   if(!EventSetMillisecondTimer(10)) {
      Print("GatewayBridge: EventSetMillisecondTimer failed, error ", GetLastError());
      return INIT_FAILED;
   }
   return INIT_SUCCEEDED;
}

// Kept short: the terminal cuts OnDeinit off after 2.5 s (docs/runtime/event_fire). Nothing to
// save: the dedup store is written on every change.
void OnDeinit(const int reason) {
   EventKillTimer();
   LinkDrop("EA stopped, reason " + IntegerToString(reason));
}

// An EA's usual entry point; all the work happens on the timer
void OnTick() {}

void OnTimer() {
   if(g_state == LINK_IDLE) {
      if(GetTickCount64() >= g_nextDial) LinkDial();
      return;
   }
   if(!LinkReadAvailable()) { LinkDrop("connection lost, error " + IntegerToString(GetLastError())); return; }
   for(int k = 0; k < FRAMES_PER_TICK && g_sock != INVALID_HANDLE; k++) {
      string text;
      int r = LinkNextFrame(text);
      if(r == 0) break;
      if(r < 0) { LinkDrop("bad frame length or content"); return; }
      HandleFrame(text);
      g_lastRx = GetTickCount64();   // stamped after handling: a long OrderSend is our silence, not the gateway's
   }
   if(g_sock == INVALID_HANDLE) return;
   ulong now = GetTickCount64();
   if(g_state == LINK_WAIT_ACK && now - g_connectedAt > HELLO_TIMEOUT_MS) LinkDrop("no HELLO_ACK within 5 s");
   else if(g_state == LINK_READY && now - g_lastRx > (ulong)(3 * g_hbMs)) LinkDrop("gateway silent for 3 heartbeats");
   else if(g_state == LINK_READY) PumpQuotes();
}

//--- Link: dialing, framing, sending --------------------------------
void LinkDial() {
   ResetLastError();
   g_sock = SocketCreate();
   if(g_sock == INVALID_HANDLE) { LinkRetryLater("SocketCreate", GetLastError()); return; }
   // Blocks up to 1 s; fails unless 127.0.0.1 is in the terminal's allowed-URL list (docs/network/socketconnect)
   if(!SocketConnect(g_sock, "127.0.0.1", (uint)InpGatewayPort, 1000)) {
      int err = GetLastError();
      SocketClose(g_sock);
      g_sock = INVALID_HANDLE;
      LinkRetryLater("SocketConnect", err);
      return;
   }
   g_state = LINK_WAIT_ACK;
   g_connectedAt = g_lastRx = GetTickCount64();
   g_rxLen = 0;
   Print("GatewayBridge: connected to 127.0.0.1:", InpGatewayPort, ", sending HELLO");
   LinkSend(BuildHello());
}

void LinkRetryLater(const string what, const int err) {
   // Logged once per distinct error, not every few seconds while the gateway is down
   if(err != g_lastDialErr)
      Print("GatewayBridge: ", what, " failed, error ", err, err == 4014
            ? " (sockets are allowed only in EAs and scripts)"
            : " (is the gateway running, and is 127.0.0.1 in the allowed-URL list?)");
   g_lastDialErr = err;
   g_nextDial = GetTickCount64() + g_backoff;
   g_backoff = MathMin(g_backoff * 2, BACKOFF_MAX_MS);
}

void LinkDrop(const string reason) {
   if(g_sock != INVALID_HANDLE) {
      SocketClose(g_sock);
      g_sock = INVALID_HANDLE;
      Print("GatewayBridge: link closed: ", reason);
   }
   g_state = LINK_IDLE;
   g_rxLen = 0;
   g_subCount = 0;   // subscriptions belong to a session
   g_nextDial = GetTickCount64() + g_backoff;
   g_backoff = MathMin(g_backoff * 2, BACKOFF_MAX_MS);
}

// Moves what the socket holds into g_rx; false when the connection is gone
bool LinkReadAvailable() {
   ResetLastError();
   uint avail = SocketIsReadable(g_sock);
   // 0 means "nothing" or an error; a broken link sets 5273 (docs/network/socketisreadable)
   if(avail == 0) return GetLastError() != ERR_NETSOCKET_IO_ERROR && SocketIsConnected(g_sock);
   // A full buffer always holds a complete frame (the header check caps a frame at MAX_IN_FRAME),
   // so read nothing now and let the caller consume it
   int want = (int)MathMin((long)avail, (long)(4 + MAX_IN_FRAME - g_rxLen));
   if(want <= 0) return true;
   uchar tmp[];
   // SocketIsReadable may report 1 byte speculatively on an empty buffer (MQL5 book, "Checking socket
   // status"), so the read gets a short timeout; 0 would mean the 120 s default
   int got = SocketRead(g_sock, tmp, (uint)want, 5);
   if(got <= 0) return GetLastError() != ERR_NETSOCKET_IO_ERROR && SocketIsConnected(g_sock);
   ArrayResize(g_rx, g_rxLen + got, 4096);
   ArrayCopy(g_rx, tmp, g_rxLen, 0, got);
   g_rxLen += got;
   return true;
}

// 1: a frame was taken into text, 0: incomplete, -1: protocol violation (close the link)
int LinkNextFrame(string &text) {
   if(g_rxLen < 4) return 0;
   long len = ((long)g_rx[0] << 24) | ((long)g_rx[1] << 16) | ((long)g_rx[2] << 8) | (long)g_rx[3];
   if(len <= 0 || len > MAX_IN_FRAME) return -1;
   if(g_rxLen < 4 + len) return 0;
   // CharArrayToString stops at a 0 byte, which UTF-8 JSON never contains
   for(int i = 4; i < 4 + len; i++) if(g_rx[i] == 0) return -1;
   text = CharArrayToString(g_rx, 4, (int)len, CP_UTF8);
   int rest = g_rxLen - 4 - (int)len;
   if(rest > 0) {
      uchar keep[];
      ArrayResize(keep, rest);
      ArrayCopy(keep, g_rx, 0, 4 + (int)len, rest);
      ArrayCopy(g_rx, keep, 0, 0, rest);
   }
   g_rxLen = rest;
   return 1;
}

// 1 sent, 0 link dropped, -1 payload over MAX_OUT_FRAME (nothing sent)
int LinkSend(const string json) {
   if(g_sock == INVALID_HANDLE) return 0;
   uchar payload[], frame[];
   // With count -1 the terminating 0 is copied too (docs/convert/stringtochararray)
   int n = StringToCharArray(json, payload, 0, -1, CP_UTF8) - 1;
   while(n > 0 && payload[n - 1] == 0) n--;
   if(n <= 0 || n > MAX_OUT_FRAME) return -1;
   int total = n + 4, off = 0;
   ArrayResize(frame, total);
   for(int k = 0; k < 4; k++) frame[k] = (uchar)((n >> (24 - 8 * k)) & 0xFF);   // big-endian length
   ArrayCopy(frame, payload, 4, 0, n);
   // SocketSend returns the bytes written; loop in case the system takes only part of them
   ulong deadline = GetTickCount64() + 2000;
   while(off < total) {
      uchar chunk[];
      ArrayResize(chunk, total - off);
      ArrayCopy(chunk, frame, 0, off, total - off);
      ResetLastError();
      int sent = SocketSend(g_sock, chunk, (uint)(total - off));
      if(sent <= 0 || GetTickCount64() > deadline) {
         LinkDrop("send failed, error " + IntegerToString(GetLastError()));
         return 0;
      }
      off += sent;
   }
   return 1;
}

void SendReply(const long id, const string body) {
   string head = "{\"type\":\"REPLY\"," + JL("id", id) + ",";
   if(LinkSend(head + body + "}") < 0)
      LinkSend(head + Err("TOO_LARGE", "reply exceeds 1 MiB; ask for a smaller page") + "}");
}

// Not buffered while the link is down: the gateway reconciles after reconnecting
void SendEvent(const string ev, const string fields) {
   if(g_state != LINK_READY) return;
   g_seq++;
   LinkSend("{\"type\":\"EVENT\"," + JL("seq", g_seq) + "," + JS("event", ev) + "," + fields + "}");
}

string Ok(const string fields) { return fields == "" ? "\"ok\":true" : "\"ok\":true," + fields; }
string Err(const string code, const string msg) { return "\"ok\":false," + JS("error", code) + "," + JS("error_msg", msg); }

// 4752 = EA trading prohibited, 4753 = position not found, 4756 = sending failed (docs/runtime/errors)
string RuntimeErr(const int code) { return Err("RUNTIME_" + IntegerToString(code), "MQL5 runtime error " + IntegerToString(code)); }

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

string BuildHello() {
   string b = J(JS("type", "HELLO"), JL("proto", PROTO_VERSION), JS("token", InpToken),
                JL("login", AccountInfoInteger(ACCOUNT_LOGIN)), JS("server", AccountInfoString(ACCOUNT_SERVER)),
                JS("company", AccountInfoString(ACCOUNT_COMPANY)), JS("currency", AccountInfoString(ACCOUNT_CURRENCY)),
                JS("account_trade_mode", AccountKind()), JS("margin_mode", MarginModeName()));
   b = J(b, JL("terminal_build", TerminalInfoInteger(TERMINAL_BUILD)), JS("ea_version", EA_VERSION),
         JL("magic", InpMagic), JD("max_lots", InpMaxLots), JL("deviation", InpDeviation),
         JS("chart_symbol", _Symbol), JL("dedup_entries", DedupCount()), StatusFields());
   return "{" + b + "}";
}

void HandleFrame(const string text) {
   string err, kind, cmd;
   long id = 0;
   if(!JsonParseFlat(text, err)) { LinkDrop("unparsable frame: " + err); return; }
   if(!JsonGetString("type", kind)) { LinkDrop("frame without type"); return; }
   if(g_state == LINK_WAIT_ACK) {
      bool ok = false;
      if(kind != "HELLO_ACK" || !JsonGetBool("ok", ok)) { LinkDrop("expected HELLO_ACK"); return; }
      if(!ok) {
         string reason = "unspecified";
         JsonGetString("reason", reason);
         Print("GatewayBridge: gateway refused HELLO: ", reason);
         g_backoff = BACKOFF_MAX_MS;   // a wrong token will not fix itself; don't hammer
         LinkDrop("HELLO refused");
         return;
      }
      long hb = 1000;
      JsonGetLong("heartbeat_ms", hb);
      g_hbMs = (int)MathMax(250, MathMin(hb, 10000));
      g_state = LINK_READY;
      g_seq = 0;
      g_backoff = BACKOFF_MIN_MS;
      g_lastDialErr = -1;
      Print("GatewayBridge: link UP, heartbeat ", g_hbMs, " ms");
      return;
   }
   if(kind != "CMD" || !JsonGetLong("id", id) || !JsonGetString("cmd", cmd)) {
      LinkDrop("expected CMD with id and cmd, got " + kind);
      return;
   }
   SendReply(id, Dispatch(cmd));
}

string Dispatch(const string cmd) {
   if(cmd == "PING")            return CmdPing();
   if(cmd == "GET_ACCOUNT")     return CmdAccount();
   if(cmd == "GET_POSITIONS")   return CmdPositions();
   if(cmd == "GET_SYMBOL_INFO") return CmdSymbolInfo();
   if(cmd == "GET_DEALS")       return CmdDeals();
   if(cmd == "OPEN" || cmd == "CLOSE" || cmd == "MODIFY") return CmdTrade(cmd);
   if(cmd == "FORGET")          return CmdForget();
   if(cmd == "SUBSCRIBE_TICKS") return CmdSubscribe();
   return Err("BAD_REQUEST", "unknown command " + cmd);
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
   return J(b, JD("swap", PositionGetDouble(POSITION_SWAP)), JL("magic", PositionGetInteger(POSITION_MAGIC)),
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
            JL("magic", HistoryDealGetInteger(d, DEAL_MAGIC)), JS("comment", HistoryDealGetString(d, DEAL_COMMENT)),
            JL("time", HistoryDealGetInteger(d, DEAL_TIME_MSC)));
}

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

string PageReply(const string name, const string items, const int total, const int offset, const int count) {
   return Ok(J(JL("total", total), JL("offset", offset), JL("count", count), JB("more", offset + count < total),
               "\"" + name + "\":[" + items + "]"));
}

string CmdPositions() {
   string symbol = "", err = "", items = "";
   long magic = 0;
   int offset = 0, limit = 0, matched = 0, count = 0;
   JsonGetString("symbol", symbol);
   bool byMagic = JsonGetLong("magic", magic);
   if(!PageArgs(offset, limit, err)) return Err("BAD_REQUEST", err);
   int total = PositionsTotal();
   for(int i = 0; i < total; i++) {
      if(PositionGetTicket(i) == 0) continue;   // also selects the position (docs/trading/positiongetticket)
      if(symbol != "" && PositionGetString(POSITION_SYMBOL) != symbol) continue;
      if(byMagic && PositionGetInteger(POSITION_MAGIC) != magic) continue;
      if(++matched <= offset || count >= limit) continue;
      items += (count++ > 0 ? ",{" : "{") + PositionJson() + "}";
   }
   return PageReply("positions", items, matched, offset, count);
}

string CmdDeals() {
   long from = 0, to = 0, magic = 0;
   string symbol = "", err = "", items = "";
   int offset = 0, limit = 0, matched = 0, count = 0;
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
      if(++matched <= offset || count >= limit) continue;
      items += (count++ > 0 ? ",{" : "{") + DealJson(d) + "}";
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
   return Ok(J(b, JL("spread", SymbolInfoInteger(sym, SYMBOL_SPREAD)), JB("session_open", SessionOpen(sym))));
}

//--- Trade commands -------------------------------------------------
bool ValidCoid(const string s) {
   int n = StringLen(s);
   if(n < 1 || n > 24) return false;
   for(int i = 0; i < n; i++) {
      ushort c = StringGetCharacter(s, i);
      if(!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
   }
   return true;
}

// One shape for every trade reply; source tells who produced the retcode: EA, CHECK or SERVER
string TradeBody(const string source, const uint retcode, const string comment, const MqlTradeResult &res,
                 const long position, const double sl, const double tp) {
   string b = J(JS("cmd", g_tCmd), JS("client_order_id", g_tCoid), JS("source", source), JL("retcode", retcode),
                JL("retcode_external", res.retcode_external), JL("deal", (long)res.deal), JL("order", (long)res.order),
                JL("position", position), JD("volume", res.volume), JD("price", res.price));
   return Ok(J(b, JD("bid", res.bid), JD("ask", res.ask), JD("sl", sl), JD("tp", tp), JS("comment", comment),
               JL("request_id", res.request_id)));
}

// A refusal decided before anything was sent: ok:true with a retcode, never stored
string Refuse(const uint retcode, const string why) {
   MqlTradeResult none;
   ZeroMemory(none);
   return TradeBody("EA", retcode, why, none, g_tPosition, 0, 0);
}

// Instant and Request execution take FOK whatever the flags say; Market execution never takes
// RETURN (fill-policy table, docs/constants/tradingconstants/orderproperties)
ENUM_ORDER_TYPE_FILLING FillingFor(const string sym) {
   long exe = SymbolInfoInteger(sym, SYMBOL_TRADE_EXEMODE);
   if(exe == SYMBOL_TRADE_EXECUTION_INSTANT || exe == SYMBOL_TRADE_EXECUTION_REQUEST) return ORDER_FILLING_FOK;
   long flags = SymbolInfoInteger(sym, SYMBOL_FILLING_MODE);
   if((flags & SYMBOL_FILLING_FOK) != 0) return ORDER_FILLING_FOK;
   if((flags & SYMBOL_FILLING_IOC) != 0) return ORDER_FILLING_IOC;
   return ORDER_FILLING_RETURN;
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

bool Quote(const string sym, MqlTick &tick) {
   return SymbolInfoTick(sym, tick) && tick.bid > 0 && tick.ask > 0;
}

void SetCommon(MqlTradeRequest &req, const string sym, const long dev, const long magic, const string comment) {
   req.deviation = (ulong)dev;
   req.magic = (ulong)magic;
   req.comment = comment;
   req.type_filling = FillingFor(sym);
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
   long mode = SymbolInfoInteger(sym, SYMBOL_TRADE_MODE);
   if(mode == SYMBOL_TRADE_MODE_DISABLED) return Refuse(TRADE_RETCODE_TRADE_DISABLED, "trading disabled for " + sym);
   if(mode == SYMBOL_TRADE_MODE_CLOSEONLY) return Refuse(TRADE_RETCODE_CLOSE_ONLY, sym + " is close-only");
   if(mode == SYMBOL_TRADE_MODE_LONGONLY && !buy) return Refuse(TRADE_RETCODE_LONG_ONLY, sym + " is long-only");
   if(mode == SYMBOL_TRADE_MODE_SHORTONLY && buy) return Refuse(TRADE_RETCODE_SHORT_ONLY, sym + " is short-only");
   if(vol > InpMaxLots + 1e-9)
      return Refuse(TRADE_RETCODE_INVALID_VOLUME, "volume above the EA's InpMaxLots " + JsonNumber(InpMaxLots));
   problem = VolumeProblem(sym, vol);
   if(problem != "") return Refuse(TRADE_RETCODE_INVALID_VOLUME, problem);
   if(!Quote(sym, tick)) return Refuse(TRADE_RETCODE_PRICE_OFF, "no quote for " + sym);
   int digits = (int)SymbolInfoInteger(sym, SYMBOL_DIGITS);
   sl = NormalizeDouble(sl, digits);
   tp = NormalizeDouble(tp, digits);
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

// Selects the position named by "ticket"; "" when it is selected
string SelectPosition() {
   long ticket = 0;
   if(!JsonGetLong("ticket", ticket) || ticket <= 0) return Err("BAD_REQUEST", "ticket is required");
   g_tPosition = ticket;
   // A missing position is an answer (already closed), not an error to retry
   if(!PositionSelectByTicket((ulong)ticket))
      return Refuse(TRADE_RETCODE_POSITION_CLOSED, "position " + IntegerToString(ticket) + " not found");
   return "";
}

string BuildClose(MqlTradeRequest &req) {
   string comment = "";
   long dev = 0, magic = 0;
   double vol = 0;
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
   MqlTick tick;
   if(!JsonGetDouble("sl", sl) || !JsonGetDouble("tp", tp) || sl < 0 || tp < 0)
      return Err("BAD_REQUEST", "sl and tp are required (final prices, 0 = none)");
   string problem = SelectPosition();
   if(problem != "") return problem;
   string sym = PositionGetString(POSITION_SYMBOL);
   bool isBuy = (ENUM_POSITION_TYPE)PositionGetInteger(POSITION_TYPE) == POSITION_TYPE_BUY;
   long magic = PositionGetInteger(POSITION_MAGIC);
   if(!Quote(sym, tick)) return Refuse(TRADE_RETCODE_PRICE_OFF, "no quote for " + sym);
   int digits = (int)SymbolInfoInteger(sym, SYMBOL_DIGITS);
   sl = NormalizeDouble(sl, digits);
   tp = NormalizeDouble(tp, digits);
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

// OrderSend reports the deal, not the position (MQL5 book, "OnTradeTransaction"); the deal can take
// a moment to reach the terminal's history, so poll briefly
long OpenedPosition(const MqlTradeResult &res) {
   if(res.deal == 0) return 0;
   for(int waited = 0; waited <= DEAL_WAIT_MS && !IsStopped(); waited += 10) {
      if(HistoryDealSelect(res.deal)) return HistoryDealGetInteger(res.deal, DEAL_POSITION_ID);
      Sleep(10);
   }
   // A position usually carries the ticket of the order that opened it (docs: POSITION_TICKET)
   if(res.order != 0 && PositionSelectByTicket(res.order)) return (long)res.order;
   return 0;
}

string CmdTrade(const string cmd) {
   string coid = "", stored = "";
   g_tCmd = cmd;
   g_tCoid = "";
   g_tPosition = 0;
   if(!JsonGetString("client_order_id", coid) || !ValidCoid(coid))
      return Err("BAD_REQUEST", "client_order_id must be 1-24 chars of [A-Za-z0-9_-]");
   g_tCoid = coid;
   int seen = DedupLookup(coid, stored);
   if(seen == DEDUP_FINAL) {
      if(StringFind(stored, JS("cmd", cmd)) < 0)
         return Err("COID_CONFLICT", "client_order_id was already used for another command");
      return JB("duplicate", true) + "," + stored;
   }
   if(seen == DEDUP_INFLIGHT)
      return Err("OUTCOME_UNKNOWN", "an earlier attempt stopped inside OrderSend; reconcile, then FORGET");
   MqlTradeRequest req;
   ZeroMemory(req);
   string early;
   if(cmd == "OPEN") early = BuildOpen(req);
   else if(cmd == "CLOSE") early = BuildClose(req);
   else early = BuildModify(req);
   if(early != "") return early;   // a BAD_REQUEST or an EA-side refusal: nothing sent, nothing stored
   if(cmd != "MODIFY") {
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
      // Local refusals (Algo Trading off, position gone) never left the terminal; anything else stays in flight
      if(err == 4752 || err == 4753) { DedupPut(coid, DEDUP_FORGOTTEN); return RuntimeErr(err); }
      return J(RuntimeErr(err), JB("in_flight", true));
   }
   long position = cmd == "OPEN" ? OpenedPosition(res) : g_tPosition;
   string body = TradeBody("SERVER", res.retcode, res.comment, res, position, req.sl, req.tp);
   DedupPut(coid, body);
   return body;
}

string CmdForget() {
   string coid = "";
   if(!JsonGetString("client_order_id", coid) || !ValidCoid(coid))
      return Err("BAD_REQUEST", "client_order_id must be 1-24 chars of [A-Za-z0-9_-]");
   bool known = DedupFind(coid) >= 0;
   if(known && !DedupPut(coid, DEDUP_FORGOTTEN)) return Err("DEDUP_STORE_FAILED", "cannot write the dedup file");
   return Ok(JB("forgotten", known));
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
// Queued by the terminal while OnTimer runs, so they reach the gateway after the REPLY that caused them
void OnTradeTransaction(const MqlTradeTransaction &trans, const MqlTradeRequest &request, const MqlTradeResult &result) {
   if(g_state != LINK_READY) return;
   if(trans.type == TRADE_TRANSACTION_DEAL_ADD) OnDealAdded(trans.deal);
   else if(trans.type == TRADE_TRANSACTION_POSITION) OnPositionChanged(trans);
}

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
