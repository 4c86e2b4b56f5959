//+------------------------------------------------------------------+
//| GatewayBridge.mq5 - the terminal end of agent-gtw's terminal     |
//| backend. MQL5 sockets can only dial out, so the EA connects to   |
//| the gateway on 127.0.0.1; both ends prove a shared secret (the   |
//| gateway first), then the EA answers one command per frame and    |
//| pushes trade events.                                             |
//| Wire contract: docs/EA-LINK.md. Operator guide: docs/MT5-SETUP.md|
//| It never trades on its own and needs no DLLs.                    |
//+------------------------------------------------------------------+
#property copyright   "MT5 Live Bridge"
#property version     "2.20"
#property description "Link between agent-gtw and this terminal."
#property description "Add 127.0.0.1 under Tools > Options > Expert Advisors > Allow WebRequest for listed URL."

input int    InpGatewayPort = 5701;    // Gateway port on 127.0.0.1
input string InpSecret      = "";      // Shared secret: the one line of the gateway's secret_file
input long   InpMagic       = 570100;  // Magic number for orders that carry none
input int    InpDeviation   = 10;      // Default max price deviation, points
input double InpMaxLots     = 1.0;     // Hard cap on the volume of one OPEN, lots

#define EA_VERSION "2.2.0"

ulong g_startTick = 0;

#include "BridgeJson.mqh"
#include "BridgeAuth.mqh"
#include "BridgeDedup.mqh"
#include "BridgeLink.mqh"
#include "BridgeReads.mqh"
#include "BridgeTrades.mqh"
#include "BridgePending.mqh"
#include "BridgeOrders.mqh"
#include "BridgeMarket.mqh"

int OnInit() {
   if(!AuthSecretValid(InpSecret)) {
      Print("GatewayBridge: InpSecret must be the one line of the gateway's secret_file (32-256 printable ASCII characters, no spaces)");
      return INIT_PARAMETERS_INCORRECT;
   }
   if(InpGatewayPort < 1 || InpGatewayPort > 65535 || InpMaxLots <= 0 || InpDeviation < 0) {
      Print("GatewayBridge: invalid inputs (port 1-65535, max lots > 0, deviation >= 0)");
      return INIT_PARAMETERS_INCORRECT;
   }
   string why = "";
   if(!AuthSelfTest(why)) {
      Print("GatewayBridge: HMAC-SHA256 self-test failed, the link cannot authenticate: ", why);
      return INIT_FAILED;
   }
   g_startTick = GetTickCount64();
   MathSrand((uint)(GetTickCount() ^ (uint)GetMicrosecondCount()));
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
   LinkPoll();
   if(g_state == LINK_READY) PumpQuotes();
}

// Subscriptions belong to a session (§7.8)
void OnLinkDown() {
   g_subCount = 0;
}

// The command table: the gateway's `cmd` and its handler, one row each. A listing uses
// PageArgs/PageAdd/PageReply, a trade command a row here and one in BuildRequest
string Dispatch(const string cmd) {
   if(cmd == "PING")               return CmdPing();
   if(cmd == "GET_ACCOUNT")        return CmdAccount();
   if(cmd == "GET_POSITIONS")      return CmdPositions();
   if(cmd == "GET_SYMBOL_INFO")    return CmdSymbolInfo();
   if(cmd == "GET_DEALS")          return CmdDeals();
   if(cmd == "GET_ORDERS")         return CmdOrders();
   if(cmd == "GET_HISTORY_ORDERS") return CmdHistoryOrders();
   if(cmd == "GET_HISTORY_DEALS")  return CmdHistoryDeals();
   if(cmd == "GET_SYMBOL_NAMES")   return CmdSymbolNames();
   if(cmd == "GET_SYMBOLS")        return CmdSymbols();
   if(cmd == "GET_TICK")           return CmdTick();
   if(cmd == "GET_RATE_SPAN")      return CmdRateSpan();
   if(cmd == "GET_RATES")          return CmdRates();
   if(cmd == "GET_TICKS")          return CmdTicks();
   if(cmd == "ORDER_CHECK")        return CmdOrderCheck();
   if(cmd == "CALC_MARGIN")        return CmdCalcMargin();
   if(cmd == "CALC_PROFIT")        return CmdCalcProfit();
   if(cmd == "OPEN")               return CmdTrade(cmd);
   if(cmd == "CLOSE")              return CmdTrade(cmd);
   if(cmd == "MODIFY")             return CmdTrade(cmd);
   if(cmd == "PLACE")              return CmdTrade(cmd);
   if(cmd == "MODIFY_ORDER")       return CmdTrade(cmd);
   if(cmd == "CANCEL")             return CmdTrade(cmd);
   if(cmd == "CLOSE_BY")           return CmdTrade(cmd);
   if(cmd == "FORGET")             return CmdForget();
   if(cmd == "SUBSCRIBE_TICKS")    return CmdSubscribe();
   return Err("BAD_REQUEST", "unknown command " + cmd);
}

// The trade commands' requests: each build answers at once (BAD_REQUEST, a refusal) or fills req
string BuildRequest(const string cmd, MqlTradeRequest &req) {
   if(cmd == "OPEN")         return BuildOpen(req);
   if(cmd == "CLOSE")        return BuildClose(req);
   if(cmd == "MODIFY")       return BuildModify(req);
   if(cmd == "PLACE")        return BuildPlace(req);
   if(cmd == "MODIFY_ORDER") return BuildModifyOrder(req);
   if(cmd == "CANCEL")       return BuildCancel(req);
   if(cmd == "CLOSE_BY")     return BuildCloseBy(req);
   return Err("BAD_REQUEST", "unknown trade command " + cmd);
}

// OrderCheck before the in-flight marker for what needs margin or a market price; changes of
// levels, removals and close-by move no margin (§10.2, §10.6)
bool NeedsOrderCheck(const string cmd) { return cmd == "OPEN" || cmd == "CLOSE" || cmd == "PLACE"; }

// Queued by the terminal while OnTimer runs, so they reach the gateway after the REPLY that caused them
void OnTradeTransaction(const MqlTradeTransaction &trans, const MqlTradeRequest &request, const MqlTradeResult &result) {
   if(g_state != LINK_READY) return;
   if(trans.type == TRADE_TRANSACTION_DEAL_ADD) OnDealAdded(trans.deal);
   else if(trans.type == TRADE_TRANSACTION_POSITION) OnPositionChanged(trans);
   else if(trans.type == TRADE_TRANSACTION_ORDER_ADD || trans.type == TRADE_TRANSACTION_ORDER_UPDATE
           || trans.type == TRADE_TRANSACTION_HISTORY_ADD) OnOrderChanged(trans);
}
