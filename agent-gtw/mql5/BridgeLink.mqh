//+------------------------------------------------------------------+
//| BridgeLink.mqh - the EA's end of the link to agent-gtw           |
//| (docs/EA-LINK.md §2, §3, §6, §8): dialing once the terminal is   |
//| logged in, the mutual handshake, framing, the two watchdogs.     |
//| MQL5 sockets only dial out (docs/network); all of this runs from |
//| OnTimer, one frame at a time.                                    |
//| The EA defines BuildHello(), Dispatch() and OnLinkDown().        |
//+------------------------------------------------------------------+
#define MAX_IN_FRAME         65536     // gateway -> EA payload bytes
#define MAX_OUT_FRAME        1048576   // EA -> gateway payload bytes
#define HANDSHAKE_TIMEOUT_MS 5000      // connect -> HELLO_ACK
#define BACKOFF_MIN_MS       250
#define BACKOFF_MAX_MS       5000
#define CONNECT_TIMEOUT_MS   1000
#define SEND_TIMEOUT_MS      2000
#define READ_TIMEOUT_MS      5
#define HEARTBEAT_MIN_MS     200
#define HEARTBEAT_MAX_MS     10000
#define HEARTBEAT_DEFAULT_MS 1000
#define FRAMES_PER_TICK      16
#define LOG_ONCE_MAX_CHARS   4000

enum LinkState { LINK_IDLE, LINK_WAIT_CHALLENGE, LINK_WAIT_ACK, LINK_READY };

int       g_sock = INVALID_HANDLE;
LinkState g_state = LINK_IDLE;
uchar     g_rx[];
int       g_rxLen = 0;
ulong     g_nextDial = 0, g_connectedAt = 0, g_lastRx = 0;
int       g_backoff = BACKOFF_MIN_MS, g_hbMs = HEARTBEAT_DEFAULT_MS;
long      g_seq = 0;
string    g_eaNonce = "";
long      g_helloLogin = 0;            // the account identity the HELLO carried
string    g_helloServer = "", g_helloMode = "";
string    g_logged = "|";              // LogOnce keys since the link was last UP

// Each kind of trouble is logged once per link cycle (reset when the link comes UP), so a gateway
// that is down, or a listener without the secret, does not fill the Experts journal
void LogOnce(const string key, const string text) {
   if(StringFind(g_logged, "|" + key + "|") >= 0) return;
   if(StringLen(g_logged) > LOG_ONCE_MAX_CHARS) g_logged = "|";
   g_logged += key + "|";
   Print("GatewayBridge: ", text);
}

int NextBackoff(const int ms) { return ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ms * 2; }

void LinkPoll() {
   if(g_state == LINK_IDLE) {
      if(GetTickCount64() >= g_nextDial && LinkAccountReady()) LinkDial();
      return;
   }
   if(!LinkReadAvailable()) { LinkDrop("connection lost"); return; }
   for(int k = 0; k < FRAMES_PER_TICK && g_sock != INVALID_HANDLE; k++) {
      string text;
      int r = LinkNextFrame(text);
      if(r == 0) break;
      if(r < 0) { LinkDrop("bad frame length or content"); return; }
      LinkHandleFrame(text);
      g_lastRx = GetTickCount64();   // stamped after handling: a long OrderSend is our silence, not the gateway's
   }
   if(g_sock == INVALID_HANDLE) return;
   ulong now = GetTickCount64();
   if(g_state != LINK_READY) {
      if(now - g_connectedAt > HANDSHAKE_TIMEOUT_MS) LinkDrop("no HELLO_ACK within 5 s");
      return;
   }
   if(now - g_lastRx > (ulong)(3 * g_hbMs)) { LinkDrop("gateway silent for 3 heartbeats"); return; }
   string changed = LinkIdentityChange();
   if(changed != "") LinkDrop(changed + "; redialing with a fresh HELLO");
}

// A HELLO sent before the terminal is logged in says login 0 and trade mode DEMO (0 is DEMO), so
// the EA dials only once there is an account and a connection to its trade server
bool LinkAccountReady() {
   long login = AccountInfoInteger(ACCOUNT_LOGIN);
   bool connected = TerminalInfoInteger(TERMINAL_CONNECTED) != 0;
   if(login != 0 && connected) return true;
   LogOnce("wait-login", "waiting for the terminal to log in to a trade account and connect to its server (login "
           + IntegerToString(login) + ", connected " + (connected ? "yes" : "no") + ") before dialing the gateway");
   return false;
}

// The account behind the session changed: the gateway must not keep the old HELLO
string LinkIdentityChange() {
   long login = AccountInfoInteger(ACCOUNT_LOGIN);
   string server = AccountInfoString(ACCOUNT_SERVER), mode = AccountKind();
   if(login == g_helloLogin && server == g_helloServer && mode == g_helloMode) return "";
   return "account changed from " + IntegerToString(g_helloLogin) + "@" + g_helloServer + " (" + g_helloMode + ") to "
          + IntegerToString(login) + "@" + server + " (" + mode + ")";
}

void LinkDial() {
   ResetLastError();
   g_sock = SocketCreate();
   if(g_sock == INVALID_HANDLE) { LinkRetryLater("SocketCreate", GetLastError()); return; }
   // Blocks up to 1 s; 127.0.0.1 must be in the terminal's allowed-URL list (docs/network)
   if(!SocketConnect(g_sock, "127.0.0.1", (uint)InpGatewayPort, CONNECT_TIMEOUT_MS)) {
      int err = GetLastError();
      SocketClose(g_sock);
      g_sock = INVALID_HANDLE;
      LinkRetryLater("SocketConnect", err);
      return;
   }
   // Bounds each blocking SocketSend, so a stuck gateway cannot hold the EA past the send deadline
   if(!SocketTimeouts(g_sock, SEND_TIMEOUT_MS, SEND_TIMEOUT_MS))
      LogOnce("timeouts", "SocketTimeouts failed, error " + IntegerToString(GetLastError()) + "; a send may block longer than 2 s");
   g_state = LINK_WAIT_CHALLENGE;
   g_connectedAt = g_lastRx = GetTickCount64();
   g_rxLen = 0;
   g_eaNonce = AuthNewNonce(InpSecret);
   if(g_eaNonce == "") { LinkDrop("no nonce: CryptEncode failed, error " + IntegerToString(GetLastError())); return; }
   LogOnce("connected", "connected to 127.0.0.1:" + IntegerToString(InpGatewayPort) + ", authenticating");
   // First frame: only our nonce. Nothing about the account goes out before the gateway's proof
   LinkSend("{" + J(JS("type", "AUTH"), JL("proto", AUTH_PROTO), JS("ea_nonce", g_eaNonce)) + "}");
}

void LinkRetryLater(const string what, const int err) {
   // 4014 "function not allowed": in the field this is the missing allowed-URL entry for 127.0.0.1
   string hint = err == 4014
      ? " (function not allowed: add 127.0.0.1 under Tools > Options > Expert Advisors > Allow WebRequest for listed URL;"
        + " it also appears when the EA runs in the Strategy Tester)"
      : " (is the gateway running on this port, and is 127.0.0.1 in the allowed-URL list?)";
   LogOnce("dial:" + IntegerToString(err), what + " failed, error " + IntegerToString(err) + hint);
   g_nextDial = GetTickCount64() + g_backoff;
   g_backoff = NextBackoff(g_backoff);
}

void LinkDrop(const string reason) {
   if(g_sock != INVALID_HANDLE) {
      SocketClose(g_sock);
      g_sock = INVALID_HANDLE;
      LogOnce("drop:" + reason, "link closed: " + reason);
   }
   g_state = LINK_IDLE;
   g_rxLen = 0;
   g_eaNonce = "";
   OnLinkDown();
   g_nextDial = GetTickCount64() + g_backoff;
   g_backoff = NextBackoff(g_backoff);
}

void LinkHandleFrame(const string text) {
   string err, kind, cmd;
   long id = 0;
   if(!JsonParseFlat(text, err)) { LinkDrop("unparsable frame: " + err); return; }
   if(!JsonGetString("type", kind)) { LinkDrop("frame without type"); return; }
   if(g_state == LINK_READY) {
      if(kind != "CMD" || !JsonGetLong("id", id) || !JsonGetString("cmd", cmd)) {
         LinkDrop("expected CMD with id and cmd, got " + kind);
         return;
      }
      SendReply(id, Dispatch(cmd));
      return;
   }
   if(kind == "HELLO_ACK") { LinkOnHelloAck(); return; }
   if(kind == "CHALLENGE" && g_state == LINK_WAIT_CHALLENGE) { LinkOnChallenge(); return; }
   LinkDrop("unexpected " + kind + " during the handshake");
}

// The gateway proves it knows the secret before the EA says anything about its account
void LinkOnChallenge() {
   string gwNonce = "", gwProof = "";
   if(!JsonGetString("gw_nonce", gwNonce) || !JsonGetString("gw_proof", gwProof) || !AuthIsHex256(gwNonce)
      || !AuthIsHex256(gwProof)) {
      LinkDrop("malformed CHALLENGE");
      return;
   }
   string expected = AuthProof(InpSecret, AUTH_GW_LABEL, g_eaNonce, gwNonce);
   if(expected == "" || !AuthEqual(gwProof, expected)) {
      LogOnce("gw-proof", "the listener on 127.0.0.1:" + IntegerToString(InpGatewayPort) + " did not prove the shared secret:"
              + " InpSecret differs from the gateway's secret_file, or another program holds the port. Nothing else was sent");
      g_backoff = BACKOFF_MAX_MS;   // neither cause goes away within milliseconds
      LinkDrop("gateway proof did not verify");
      return;
   }
   string proof = AuthProof(InpSecret, AUTH_EA_LABEL, g_eaNonce, gwNonce);
   if(proof == "") { LinkDrop("no proof: CryptEncode failed"); return; }
   g_state = LINK_WAIT_ACK;
   LinkSend(BuildHello(proof));
}

void LinkOnHelloAck() {
   bool ok = false;
   long hb = HEARTBEAT_DEFAULT_MS;
   if(!JsonGetBool("ok", ok)) { LinkDrop("HELLO_ACK without ok"); return; }
   if(!ok) {
      string reason = "unspecified";
      JsonGetString("reason", reason);
      LogOnce("refused:" + reason, "gateway refused the handshake: " + reason + RefusalHint(reason));
      g_backoff = BACKOFF_MAX_MS;   // none of the reasons fixes itself; don't hammer
      LinkDrop("handshake refused: " + reason);
      return;
   }
   if(g_state != LINK_WAIT_ACK) { LinkDrop("HELLO_ACK before HELLO"); return; }
   if(JsonHas("heartbeat_ms") && (!JsonGetLong("heartbeat_ms", hb) || hb < HEARTBEAT_MIN_MS || hb > HEARTBEAT_MAX_MS)) {
      LinkDrop("heartbeat_ms outside 200-10000");
      return;
   }
   g_hbMs = (int)hb;
   g_state = LINK_READY;
   g_seq = 0;
   g_backoff = BACKOFF_MIN_MS;
   g_logged = "|";
   Print("GatewayBridge: link UP (both ends proved the secret), account ", g_helloLogin, " ", g_helloMode, ", heartbeat ", g_hbMs, " ms");
}

string RefusalHint(const string reason) {
   if(reason == "PROTO_UNSUPPORTED") return " (the gateway and this EA speak different link versions: update the older one)";
   if(reason == "BAD_PROOF") return " (the gateway did not accept this EA's proof of the secret)";
   if(reason == "NOT_LOGGED_IN") return " (the terminal is not logged in to a trade account)";
   if(reason == "WRONG_ACCOUNT") return " (the gateway expects another account)";
   return "";
}

// Moves what the socket holds into g_rx; false only when the connection is gone. A read that
// merely found nothing is no broken link: SocketIsConnected decides, and the heartbeat watchdog
// catches a half-dead one
bool LinkReadAvailable() {
   uint avail = SocketIsReadable(g_sock);
   if(avail == 0) return SocketIsConnected(g_sock);
   // A full buffer always holds a complete frame (the header check caps a frame at MAX_IN_FRAME),
   // so read nothing now and let the caller consume it
   int room = 4 + MAX_IN_FRAME - g_rxLen;
   if(room <= 0) return true;
   int want = (int)MathMin((long)avail, (long)room);
   uchar tmp[];
   ResetLastError();
   // SocketIsReadable may announce 1 byte speculatively (MQL5 book, "Checking socket status"), so
   // the read gets a short timeout; 0 would mean the 120 s default
   int got = SocketRead(g_sock, tmp, (uint)want, READ_TIMEOUT_MS);
   if(got <= 0) {
      int err = GetLastError();
      bool alive = SocketIsConnected(g_sock);
      // What an empty read looks like on this terminal (docs/MT5-SETUP.md §10); its bytes are not
      // trusted, whatever the buffer holds
      LogOnce("read:" + IntegerToString(got) + ":" + IntegerToString(err) + (alive ? ":up" : ":down"),
              "SocketRead returned " + IntegerToString(got) + ", error " + IntegerToString(err) + ", after SocketIsReadable announced "
              + IntegerToString(avail) + " bytes (" + IntegerToString(ArraySize(tmp)) + " in the buffer); socket "
              + (alive ? "still connected: link kept" : "disconnected"));
      return alive;
   }
   if(got > ArraySize(tmp)) got = ArraySize(tmp);
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
   ulong deadline = GetTickCount64() + SEND_TIMEOUT_MS;
   while(off < total) {
      uchar chunk[];
      ArrayResize(chunk, total - off);
      ArrayCopy(chunk, frame, 0, off, total - off);
      ResetLastError();
      int sent = SocketSend(g_sock, chunk, (uint)(total - off));
      if(sent <= 0 || GetTickCount64() > deadline) {
         LinkDrop("send failed after " + IntegerToString(off) + " of " + IntegerToString(total) + " bytes, error "
                  + IntegerToString(GetLastError()));
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
