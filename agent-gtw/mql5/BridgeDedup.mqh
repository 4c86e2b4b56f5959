//+------------------------------------------------------------------+
//| BridgeDedup.mqh - the EA's memory of client_order_ids            |
//| (docs/EA-LINK.md, "Dedup"). A ring of the last DEDUP_CAPACITY ids|
//| with their reply fields, mirrored to an append-only file in the  |
//| MQL5/Files sandbox so a repeat is answered from the store even   |
//| after the EA or the terminal restarts.                           |
//| Line: <coid> TAB <body length> TAB <body> CRLF. Body "P" = inside|
//| OrderSend, "X" = forgotten, else the stored reply fields. The    |
//| length lets a line torn by a crash be recognised and skipped.    |
//| FORGET removes an id (CmdForget).                                |
//+------------------------------------------------------------------+
#define DEDUP_CAPACITY  1000
#define DEDUP_PENDING   "P"
#define DEDUP_FORGOTTEN "X"
#define DEDUP_NONE      0
#define DEDUP_FINAL     1
#define DEDUP_INFLIGHT  2

string g_dCoid[], g_dBody[];
int    g_dNext  = 0;    // slot the next new id takes: the oldest entry
int    g_dLines = 0;    // lines in the file; compacted past 2 x capacity
string g_dFile  = "";

int DedupFind(const string coid) {
   for(int i = 0; i < DEDUP_CAPACITY; i++) if(g_dCoid[i] == coid) return i;
   return -1;
}

int DedupCount() {
   int n = 0;
   for(int i = 0; i < DEDUP_CAPACITY; i++) if(g_dCoid[i] != "") n++;
   return n;
}

void DedupSetMem(const string coid, const string body) {
   int i = DedupFind(coid);
   if(body == DEDUP_FORGOTTEN) {
      if(i >= 0) { g_dCoid[i] = ""; g_dBody[i] = ""; }
      return;
   }
   if(i < 0) { i = g_dNext; g_dNext = (g_dNext + 1) % DEDUP_CAPACITY; }
   g_dCoid[i] = coid;
   g_dBody[i] = body;
}

// In FILE_TXT mode a bare '\n' is written as CRLF (docs/files/filewritestring)
string DedupLine(const string coid, const string body) {
   return coid + "\t" + IntegerToString(StringLen(body)) + "\t" + body + "\n";
}

// Rewrite the file from the ring (oldest first, so a reload rebuilds the same ring), then swap it in
void DedupCompact() {
   string tmp = g_dFile + ".tmp";
   int h = FileOpen(tmp, FILE_WRITE | FILE_TXT | FILE_ANSI, 0, CP_UTF8);
   if(h == INVALID_HANDLE) { Print("GatewayBridge: dedup compaction skipped, error ", GetLastError()); return; }
   int lines = 0;
   for(int k = 0; k < DEDUP_CAPACITY; k++) {
      int i = (g_dNext + k) % DEDUP_CAPACITY;
      if(g_dCoid[i] == "") continue;
      FileWriteString(h, DedupLine(g_dCoid[i], g_dBody[i]));
      lines++;
   }
   FileClose(h);
   // If the move fails the old, complete file stays and compaction is retried on the next write
   if(FileMove(tmp, 0, g_dFile, FILE_REWRITE)) g_dLines = lines;
}

// One appended line first, memory only once it is written: a failed write changes nothing, so
// the id neither looks in flight nor takes a ring slot, and a FORGET that could not be written
// is not resurrected from the file at the next start. FileClose hands the line to the OS.
bool DedupPut(const string coid, const string body) {
   int h = FileOpen(g_dFile, FILE_READ | FILE_WRITE | FILE_TXT | FILE_ANSI, 0, CP_UTF8);
   if(h == INVALID_HANDLE) { Print("GatewayBridge: cannot write ", g_dFile, ", error ", GetLastError()); return false; }
   FileSeek(h, 0, SEEK_END);
   string line = DedupLine(coid, body);
   uint written = FileWriteString(h, line);
   FileClose(h);
   if(written < (uint)StringLen(line)) {
      Print("GatewayBridge: writing ", g_dFile, " failed (", written, " of ", StringLen(line), " characters), error ", GetLastError());
      return false;
   }
   DedupSetMem(coid, body);
   if(++g_dLines > 2 * DEDUP_CAPACITY) DedupCompact();
   return true;
}

void DedupInit(const string file) {
   g_dFile = file;
   ArrayResize(g_dCoid, DEDUP_CAPACITY);
   ArrayResize(g_dBody, DEDUP_CAPACITY);
   for(int i = 0; i < DEDUP_CAPACITY; i++) { g_dCoid[i] = ""; g_dBody[i] = ""; }
   g_dNext = 0;
   g_dLines = 0;
   if(!FileIsExist(g_dFile)) return;
   int h = FileOpen(g_dFile, FILE_READ | FILE_TXT | FILE_ANSI, 0, CP_UTF8);
   if(h == INVALID_HANDLE) { Print("GatewayBridge: cannot read ", g_dFile, ", error ", GetLastError()); return; }
   int skipped = 0;
   while(!FileIsEnding(h)) {
      string line = FileReadString(h);
      if(line == "") continue;
      g_dLines++;
      int t1 = StringFind(line, "\t");
      int t2 = t1 > 0 ? StringFind(line, "\t", t1 + 1) : -1;
      string body = t2 > 0 ? StringSubstr(line, t2 + 1) : "";
      if(t2 < 0 || StringLen(body) != (int)StringToInteger(StringSubstr(line, t1 + 1, t2 - t1 - 1))) { skipped++; continue; }
      DedupSetMem(StringSubstr(line, 0, t1), body);
   }
   FileClose(h);
   Print("GatewayBridge: dedup store has ", DedupCount(), " ids (", skipped, " damaged lines skipped)");
   // A torn last line has no line end, so the next append would glue onto it: rewrite the file now
   if(skipped > 0) DedupCompact();
}

// DEDUP_NONE, DEDUP_FINAL (body = stored reply fields) or DEDUP_INFLIGHT
int DedupLookup(const string coid, string &body) {
   int i = DedupFind(coid);
   if(i < 0) return DEDUP_NONE;
   body = g_dBody[i];
   return body == DEDUP_PENDING ? DEDUP_INFLIGHT : DEDUP_FINAL;
}

// FORGET (§7.7): only after reconciliation proved the attempt behind the id did not execute
string CmdForget() {
   string coid = "";
   if(!JsonGetString("client_order_id", coid) || !ValidCoid(coid))
      return Err("BAD_REQUEST", "client_order_id must be 1-24 chars of [A-Za-z0-9_-]");
   bool known = DedupFind(coid) >= 0;
   if(known && !DedupPut(coid, DEDUP_FORGOTTEN)) return Err("DEDUP_STORE_FAILED", "cannot write the dedup file");
   return Ok(JB("forgotten", known));
}
