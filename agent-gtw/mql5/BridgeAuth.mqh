//+------------------------------------------------------------------+
//| BridgeAuth.mqh - proving the shared secret without sending it    |
//| (docs/EA-LINK.md §6.1). HMAC-SHA256 (RFC 2104, block size 64)    |
//| on top of CryptEncode(CRYPT_HASH_SHA256), checked against        |
//| RFC 4231 at start; nonces; the two proofs.                       |
//| All inputs are ASCII (the secret is checked in OnInit), so bytes |
//| are taken character by character: no code page is involved.     |
//+------------------------------------------------------------------+
#define AUTH_BLOCK_BYTES  64
#define AUTH_HASH_BYTES   32
#define AUTH_PROTO        2
#define AUTH_GW_LABEL     "mt5-bridge ea-link v2 gateway"
#define AUTH_EA_LABEL     "mt5-bridge ea-link v2 ea"
#define AUTH_NONCE_LABEL  "mt5-bridge ea-link v2 nonce"
#define SECRET_MIN_CHARS  32
#define SECRET_MAX_CHARS  256

string g_authLastNonce = "";
long   g_authNonceCount = 0;

// One byte per character; callers pass ASCII only
void AuthAscii(const string s, uchar &out[]) {
   int n = StringLen(s);
   ArrayResize(out, n);
   for(int i = 0; i < n; i++) out[i] = (uchar)StringGetCharacter(s, i);
}

string AuthHex(const uchar &b[], const int count) {
   string digits = "0123456789abcdef", out = "";
   for(int i = 0; i < count; i++)
      out += StringSubstr(digits, b[i] >> 4, 1) + StringSubstr(digits, b[i] & 15, 1);
   return out;
}

// CryptEncode hashes without a key (MQL5 book, "CryptEncode"): the key array stays empty
bool AuthSha256(const uchar &data[], uchar &digest[]) {
   uchar none[];
   ResetLastError();
   return CryptEncode(CRYPT_HASH_SHA256, data, none, digest) == AUTH_HASH_BYTES;
}

// RFC 2104: H((K ^ opad) || H((K ^ ipad) || message)), K padded to the block, hashed if longer
bool AuthHmac(const uchar &key[], const uchar &msg[], uchar &mac[]) {
   uchar block[], inner[], innerHash[], outer[];
   ArrayResize(block, AUTH_BLOCK_BYTES);
   ArrayInitialize(block, (uchar)0);
   if(ArraySize(key) > AUTH_BLOCK_BYTES) {
      uchar hashed[];
      if(!AuthSha256(key, hashed)) return false;
      ArrayCopy(block, hashed, 0, 0, AUTH_HASH_BYTES);
   }
   else if(ArraySize(key) > 0) ArrayCopy(block, key, 0, 0, ArraySize(key));
   int n = ArraySize(msg);
   ArrayResize(inner, AUTH_BLOCK_BYTES + n);
   for(int i = 0; i < AUTH_BLOCK_BYTES; i++) inner[i] = (uchar)(block[i] ^ 0x36);
   if(n > 0) ArrayCopy(inner, msg, AUTH_BLOCK_BYTES, 0, n);
   if(!AuthSha256(inner, innerHash)) return false;
   ArrayResize(outer, AUTH_BLOCK_BYTES + AUTH_HASH_BYTES);
   for(int i = 0; i < AUTH_BLOCK_BYTES; i++) outer[i] = (uchar)(block[i] ^ 0x5C);
   ArrayCopy(outer, innerHash, AUTH_BLOCK_BYTES, 0, AUTH_HASH_BYTES);
   return AuthSha256(outer, mac);
}

// "" when CryptEncode failed (the caller drops the link and logs)
string AuthHmacHex(const string secret, const string message) {
   uchar key[], msg[], mac[];
   AuthAscii(secret, key);
   AuthAscii(message, msg);
   if(!AuthHmac(key, msg, mac)) return "";
   return AuthHex(mac, AUTH_HASH_BYTES);
}

// RFC 4231 test cases 2 (short key) and 6 (a 131-byte key, hashed first). A terminal whose
// CryptEncode does not give plain SHA-256 fails here instead of failing every handshake
bool AuthSelfTest(string &why) {
   uchar key[], msg[], mac[];
   AuthAscii("Jefe", key);
   AuthAscii("what do ya want for nothing?", msg);
   if(!AuthHmac(key, msg, mac)
      || AuthHex(mac, AUTH_HASH_BYTES) != "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843") {
      why = "RFC 4231 case 2 gave " + (ArraySize(mac) > 0 ? AuthHex(mac, ArraySize(mac)) : "nothing")
            + " (CryptEncode error " + IntegerToString(GetLastError()) + ")";
      return false;
   }
   ArrayResize(key, 131);
   ArrayInitialize(key, (uchar)0xAA);
   AuthAscii("Test Using Larger Than Block-Size Key - Hash Key First", msg);
   if(!AuthHmac(key, msg, mac)
      || AuthHex(mac, AUTH_HASH_BYTES) != "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54") {
      why = "RFC 4231 case 6 gave " + (ArraySize(mac) > 0 ? AuthHex(mac, ArraySize(mac)) : "nothing");
      return false;
   }
   return true;
}

// Printable ASCII without spaces, 32-256 characters: the gateway's secret_file rule
bool AuthSecretValid(const string s) {
   int n = StringLen(s);
   if(n < SECRET_MIN_CHARS || n > SECRET_MAX_CHARS) return false;
   for(int i = 0; i < n; i++) {
      ushort c = StringGetCharacter(s, i);
      if(c < 0x21 || c > 0x7E) return false;
   }
   return true;
}

// MQL5 has no random source for cryptography, so the nonce is an HMAC under the secret of
// inputs that never repeat (wall clock, system uptime, program microseconds, a counter, the
// previous nonce): unpredictable to anyone without the secret, unique per connection
string AuthNewNonce(const string secret) {
   g_authNonceCount++;
   string seed = AUTH_NONCE_LABEL + "|" + IntegerToString((long)TimeLocal()) + "|" + IntegerToString((long)GetTickCount64())
                 + "|" + IntegerToString((long)GetMicrosecondCount()) + "|" + IntegerToString(g_authNonceCount)
                 + "|" + IntegerToString(MathRand()) + "|" + g_authLastNonce;
   g_authLastNonce = AuthHmacHex(secret, seed);
   return g_authLastNonce;
}

string AuthProof(const string secret, const string label, const string eaNonce, const string gwNonce) {
   return AuthHmacHex(secret, label + "|" + eaNonce + "|" + gwNonce);
}

// A nonce or proof as the wire carries them: 64 lowercase hex characters
bool AuthIsHex256(const string s) {
   if(StringLen(s) != 2 * AUTH_HASH_BYTES) return false;
   for(int i = 0; i < StringLen(s); i++) {
      ushort c = StringGetCharacter(s, i);
      if(!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
   }
   return true;
}

// Compares every character whatever the first difference, so timing tells nothing
bool AuthEqual(const string a, const string b) {
   if(StringLen(a) != StringLen(b) || StringLen(a) == 0) return false;
   int diff = 0;
   for(int i = 0; i < StringLen(a); i++) diff |= (int)(StringGetCharacter(a, i) ^ StringGetCharacter(b, i));
   return diff == 0;
}
