//+------------------------------------------------------------------+
//| BridgeJson.mqh - the little JSON the gateway link needs          |
//| (docs/EA-LINK.md, "JSON rules"). Not a general JSON library.     |
//| Reader: ONE flat object of string/number/bool/null values.       |
//| Nesting, duplicate keys and exponents are refused; sizes bounded.|
//| Writer: helpers returning `"key":value` fragments, joined by J.  |
//| Output is ASCII; numbers avoid the locale and exponents, and a   |
//| non-finite double is never written (the gateway would close).    |
//+------------------------------------------------------------------+
#define JSON_MAX_KEYS    64
#define JSON_MAX_STRING  8192
#define JT_STR  1
#define JT_NUM  2
#define JT_BOOL 3
#define JT_NULL 4

// The last parsed object; valid until the next JsonParseFlat call
string g_jKey[], g_jVal[];
int    g_jType[];
int    g_jCount = 0;

//--- Writer
string JsonEscape(const string s) {
   string out = "";
   int n = StringLen(s);
   for(int i = 0; i < n; i++) {
      ushort c = StringGetCharacter(s, i);
      if(c == 34)      out += "\\\"";   // quote
      else if(c == 92) out += "\\\\";   // backslash
      else if(c == 10) out += "\\n";
      else if(c == 13) out += "\\r";
      else if(c == 9)  out += "\\t";
      // Everything outside printable ASCII is escaped, so frames and the dedup file are pure ASCII
      // and no code page can mangle them
      else if(c < 32 || c > 126) out += StringFormat("\\u%04X", (int)c);
      else             out += ShortToString(c);
   }
   return out;
}

string g_jNonFinite = "|";   // keys already reported as non-finite

// 8 decimals with trailing zeros trimmed; NaN/inf become 0 (JD logs which key)
string JsonNumber(const double v) {
   if(!MathIsValidNumber(v)) return "0";
   string s = DoubleToString(v, 8);
   StringReplace(s, ",", ".");   // defensive: the DoubleToString page does not promise '.'
   int n = StringLen(s);
   if(StringFind(s, ".") >= 0) {
      while(n > 0 && StringGetCharacter(s, n - 1) == '0') n--;
      if(n > 0 && StringGetCharacter(s, n - 1) == '.') n--;
      s = StringSubstr(s, 0, n);
   }
   return (s == "-0" || s == "") ? "0" : s;
}

string JS(const string k, const string v) { return "\"" + k + "\":\"" + JsonEscape(v) + "\""; }
string JL(const string k, const long v)   { return "\"" + k + "\":" + IntegerToString(v); }
string JB(const string k, const bool v)   { return "\"" + k + "\":" + (v ? "true" : "false"); }

// A NaN or infinity has no JSON form (docs/EA-LINK.md §4): it goes out as 0, and the first time a
// key carries one it is logged, so a demo run shows where it came from
string JD(const string k, const double v) {
   if(!MathIsValidNumber(v) && StringFind(g_jNonFinite, "|" + k + "|") < 0) {
      g_jNonFinite += k + "|";
      Print("GatewayBridge: ", k, " was not a finite number; sent as 0 (reported once per field)");
   }
   return "\"" + k + "\":" + JsonNumber(v);
}

// A ulong in decimal: magic numbers are ulong, and through a long the top half would turn negative
string JU(const string k, const ulong v) {
   string digits = "";
   ulong x = v;
   do {
      digits = ShortToString((ushort)('0' + (int)(x % 10))) + digits;
      x /= 10;
   } while(x > 0);
   return "\"" + k + "\":" + digits;
}

void JAdd(string &body, const string fragment) { if(fragment != "") body += (StringLen(body) > 0 ? "," : "") + fragment; }

//--- Reader
bool JsonIsWs(const ushort c) { return c == 32 || c == 9 || c == 10 || c == 13; }

void JsonSkipWs(const string s, int &i) {
   while(i < StringLen(s) && JsonIsWs(StringGetCharacter(s, i))) i++;
}

int JsonHexDigit(const ushort c) {
   if(c >= '0' && c <= '9') return c - '0';
   if(c >= 'a' && c <= 'f') return c - 'a' + 10;
   if(c >= 'A' && c <= 'F') return c - 'A' + 10;
   return -1;
}

// s[i] must be the opening quote; on success i is just past the closing quote
bool JsonReadString(const string s, int &i, string &out, string &err) {
   int n = StringLen(s);
   out = "";
   if(i >= n || StringGetCharacter(s, i) != 34) { err = "expected a string"; return false; }
   i++;
   while(i < n) {
      ushort c = StringGetCharacter(s, i++);
      if(c == 34) return true;
      if(c < 32) { err = "raw control character in string"; return false; }
      if(StringLen(out) >= JSON_MAX_STRING) { err = "string too long"; return false; }
      if(c != 92) { out += ShortToString(c); continue; }
      if(i >= n) break;
      ushort e = StringGetCharacter(s, i++);
      if(e == 34 || e == 92 || e == '/') out += ShortToString(e);
      else if(e == 'n') out += "\n";
      else if(e == 'r') out += "\r";
      else if(e == 't') out += "\t";
      else if(e == 'b') out += ShortToString(8);
      else if(e == 'f') out += ShortToString(12);
      else if(e == 'u' && i + 4 <= n) {
         int code = 0;
         for(int k = 0; k < 4; k++) {
            int d = JsonHexDigit(StringGetCharacter(s, i + k));
            if(d < 0) { err = "bad \\u escape"; return false; }
            code = code * 16 + d;
         }
         i += 4;
         out += ShortToString((ushort)code);   // MQL5 strings are UTF-16: surrogate halves pass as they are
      }
      else { err = "bad escape"; return false; }
   }
   err = "unterminated string";
   return false;
}

// true, false, null, or a plain decimal: -?digits(.digits)?
bool JsonReadLiteral(const string s, int &i, string &out, int &type, string &err) {
   int n = StringLen(s), start = i;
   while(i < n) {
      ushort c = StringGetCharacter(s, i);
      if(c == ',' || c == '}' || JsonIsWs(c)) break;
      i++;
   }
   out = StringSubstr(s, start, i - start);
   if(out == "true" || out == "false") { type = JT_BOOL; return true; }
   if(out == "null") { type = JT_NULL; return true; }
   int len = StringLen(out), p = 0, digits = 0, frac = 1;
   if(p < len && StringGetCharacter(out, p) == '-') p++;
   while(p < len && StringGetCharacter(out, p) >= '0' && StringGetCharacter(out, p) <= '9') { p++; digits++; }
   if(p < len && StringGetCharacter(out, p) == '.') {
      p++;
      frac = 0;
      while(p < len && StringGetCharacter(out, p) >= '0' && StringGetCharacter(out, p) <= '9') { p++; frac++; }
   }
   // Exponents are refused on purpose: the contract allows plain decimals only
   if(digits == 0 || frac == 0 || p != len || len > 40) { err = "bad value '" + out + "'"; return false; }
   type = JT_NUM;
   return true;
}

int JsonFind(const string key) {
   for(int i = 0; i < g_jCount; i++) if(g_jKey[i] == key) return i;
   return -1;
}

bool JsonParseFlat(const string s, string &err) {
   g_jCount = 0;
   if(ArraySize(g_jKey) < JSON_MAX_KEYS) {
      ArrayResize(g_jKey, JSON_MAX_KEYS);
      ArrayResize(g_jVal, JSON_MAX_KEYS);
      ArrayResize(g_jType, JSON_MAX_KEYS);
   }
   int n = StringLen(s), i = 0;
   JsonSkipWs(s, i);
   if(i >= n || StringGetCharacter(s, i) != '{') { err = "expected {"; return false; }
   i++;
   JsonSkipWs(s, i);
   if(i < n && StringGetCharacter(s, i) == '}') i++;
   else while(true) {
      string key, val;
      int type = JT_STR;
      if(g_jCount >= JSON_MAX_KEYS) { err = "too many keys"; return false; }
      if(!JsonReadString(s, i, key, err)) return false;
      if(JsonFind(key) >= 0) { err = "duplicate key " + key; return false; }
      JsonSkipWs(s, i);
      if(i >= n || StringGetCharacter(s, i) != ':') { err = "expected :"; return false; }
      i++;
      JsonSkipWs(s, i);
      if(i >= n) { err = "truncated"; return false; }
      ushort c = StringGetCharacter(s, i);
      if(c == '{' || c == '[') { err = "nested value for " + key; return false; }
      if(c == 34) { if(!JsonReadString(s, i, val, err)) return false; }
      else if(!JsonReadLiteral(s, i, val, type, err)) return false;
      g_jKey[g_jCount] = key;
      g_jVal[g_jCount] = val;
      g_jType[g_jCount] = type;
      g_jCount++;
      JsonSkipWs(s, i);
      if(i >= n) { err = "truncated"; return false; }
      c = StringGetCharacter(s, i++);
      if(c == '}') break;
      if(c != ',') { err = "expected , or }"; return false; }
      JsonSkipWs(s, i);
   }
   JsonSkipWs(s, i);
   if(i != n) { err = "trailing characters"; return false; }
   return true;
}

// Getters return false when the key is missing, null, or of another type
int  JsonSlot(const string key, const int type) { int i = JsonFind(key); return (i >= 0 && g_jType[i] == type) ? i : -1; }
bool JsonHas(const string key) { int i = JsonFind(key); return i >= 0 && g_jType[i] != JT_NULL; }
bool JsonGetString(const string key, string &out) { int i = JsonSlot(key, JT_STR); if(i >= 0) out = g_jVal[i]; return i >= 0; }
bool JsonGetDouble(const string key, double &out) { int i = JsonSlot(key, JT_NUM); if(i >= 0) out = StringToDouble(g_jVal[i]); return i >= 0; }
bool JsonGetBool(const string key, bool &out) { int i = JsonSlot(key, JT_BOOL); if(i >= 0) out = g_jVal[i] == "true"; return i >= 0; }

// Integers only; 18 characters keep the value inside a long
bool JsonGetLong(const string key, long &out) {
   int i = JsonSlot(key, JT_NUM);
   if(i < 0 || StringFind(g_jVal[i], ".") >= 0 || StringLen(g_jVal[i]) > 18) return false;
   out = StringToInteger(g_jVal[i]);
   return true;
}

// Joins up to ten fragments with commas, skipping empty ones
string J(const string a, const string b = "", const string c = "", const string d = "", const string e = "",
         const string f = "", const string g = "", const string h = "", const string i = "", const string k = "") {
   string out = a;
   JAdd(out, b); JAdd(out, c); JAdd(out, d); JAdd(out, e); JAdd(out, f); JAdd(out, g); JAdd(out, h); JAdd(out, i); JAdd(out, k);
   return out;
}
