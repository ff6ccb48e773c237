// Kit tokens and test tokens in plain JavaScript, so that a page can make
// them on its first line, before the wasm module has loaded (a call kit
// page's sample code does: generateKitTokenForTest, then create, then
// joinRoom, all synchronously). They make the same bytes as the Go code
// that also runs in the wasm module (wasm/client/kittoken.go and
// testtoken.go; e2e's TestTokensBeforeTheModuleLoads checks them against
// each other): a test token is a JWT signed HS256 (SHA-256 and HMAC
// below: WebCrypto's are asynchronous), a kit token "rk1." and the
// base64url of its JSON.
//
// This file has no imports.

/** The prefix of a kit token. */
export const KIT_TOKEN_PREFIX = 'rk1.';

const ID_PUNCTUATION = '!#$%&()+-:;<=.>?@[]^_{}|~';
const MAX_USER_ID_BYTES = 32;
const MAX_TTL_SECONDS = 48 * 3600;

// An error with roomkit's InvalidParameter code.
function invalid(message) {
  const err = new Error(message);
  err.code = 6000001;
  return err;
}

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** sha256 is the SHA-256 digest (FIPS 180-4) of bytes, 32 bytes. */
export function sha256(bytes) {
  const n = bytes.length;
  const padded = new Uint8Array(((n + 9 + 63) >> 6) << 6);
  padded.set(bytes);
  padded[n] = 0x80;
  const bits = n * 8;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bits / 0x100000000));
  view.setUint32(padded.length - 4, bits >>> 0);
  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Uint32Array(64);
  const rotr = (x, k) => (x >>> k) | (x << (32 - k));
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(off + 4 * i);
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
      const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) >>> 0;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let i = 0; i < 64; i++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) >>> 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      hh = g; g = f; f = e; e = (d + t1) >>> 0;
      d = c; c = b; b = a; a = (t1 + t2) >>> 0;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  }
  const out = new Uint8Array(32);
  const ov = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) ov.setUint32(4 * i, h[i]);
  return out;
}

/** hmacSha256 is HMAC-SHA256 (RFC 2104) of message under key, both bytes. */
export function hmacSha256(key, message) {
  if (key.length > 64) key = sha256(key);
  const inner = new Uint8Array(64 + message.length);
  const outer = new Uint8Array(64 + 32);
  for (let i = 0; i < 64; i++) {
    const k = key[i] ?? 0;
    inner[i] = k ^ 0x36;
    outer[i] = k ^ 0x5c;
  }
  inner.set(message, 64);
  outer.set(sha256(inner), 64);
  return sha256(outer);
}

const utf8 = (s) => new TextEncoder().encode(s);

function base64url(bytes) {
  let bin = '';
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64url(s) {
  const bin = atob(s.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// goJSON is JSON.stringify(v) as Go's encoding/json writes it: <, > and &
// as \u003c, \u003e, \u0026, and U+2028 and U+2029 escaped too.
function goJSON(v) {
  return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** validateID checks a user or room ID as the server does (server/protocol.ValidateID). */
export function validateID(field, id, max) {
  if (typeof id !== 'string' || id === '') throw invalid(`${field} is empty`);
  const bytes = utf8(id).length;
  if (bytes > max) throw invalid(`${field} is ${bytes} bytes; at most ${max} are allowed`);
  for (let i = 0; i < id.length; i++) {
    const c = id[i];
    if (/[A-Za-z0-9]/.test(c) || ID_PUNCTUATION.includes(c)) continue;
    throw invalid(`${field} ${JSON.stringify(id)} has the character ${JSON.stringify(c)} at byte ${utf8(id.slice(0, i)).length}; use letters, digits and ${ID_PUNCTUATION}`);
  }
}

// whole is v as a whole number, or an InvalidParameter error naming field.
function whole(field, v, dflt) {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalid(`${field} must be a whole number, not ${JSON.stringify(v)}`);
  return v;
}

/**
 * mintTestToken makes a test token: a JWT signed HS256 with the app's
 * server secret, issued at nowSeconds (default: now) for ttl seconds
 * (1 to 48 hours), with the claims app_id, user_id, user_name, room and
 * role (the last three left out when empty). It is what the wasm
 * module's mintTestToken makes, byte for byte.
 */
export function mintTestToken(appID, serverSecret, userID, userName = '', roomID = '', role = 0, ttl = 7200, nowSeconds = Math.floor(Date.now() / 1000)) {
  if (typeof serverSecret !== 'string') throw invalid('serverSecret must be a string');
  if (typeof userID !== 'string') throw invalid('userID must be a string');
  if (typeof userName !== 'string' && userName !== null && userName !== undefined) throw invalid('userName must be a string');
  if (typeof roomID !== 'string' && roomID !== null && roomID !== undefined) throw invalid('roomID must be a string');
  role = whole('role', role, 0);
  ttl = whole('expirationSeconds', ttl, 0);
  validateID('userID', userID, MAX_USER_ID_BYTES);
  if (ttl <= 0 || ttl > MAX_TTL_SECONDS) throw invalid(`expirationSeconds is ${ttl}; use 1 to ${MAX_TTL_SECONDS}`);
  const claims = { app_id: typeof appID === 'string' ? appID : JSON.stringify(appID ?? null), user_id: userID };
  if (userName) claims.user_name = userName;
  if (roomID) claims.room = roomID;
  if (role) claims.role = role;
  claims.iat = nowSeconds;
  claims.exp = nowSeconds + ttl;
  const signing = `${base64url(utf8('{"alg":"HS256","typ":"JWT"}'))}.${base64url(utf8(goJSON(claims)))}`;
  return `${signing}.${base64url(hmacSha256(utf8(serverSecret), utf8(signing)))}`;
}

/**
 * makeKitToken wraps an app server's token with the room and user it is
 * for: "rk1." and the base64url of {appID, token, roomID, userID,
 * userName}. token must be a JWT (three parts) and userID not empty.
 */
export function makeKitToken({ appID, token, roomID = '', userID, userName = '' }) {
  if (typeof token !== 'string' || token.split('.').length !== 3) throw invalid('token must be a JWT minted by your app server');
  if (typeof userID !== 'string' || userID === '') throw invalid('userID must be a non-empty string');
  if (appID !== undefined && appID !== null && typeof appID !== 'number' && typeof appID !== 'string') throw invalid('appID must be a number or a string');
  const k = {};
  if (appID !== undefined && appID !== null) k.appID = appID;
  Object.assign(k, { token, roomID: roomID ?? '', userID, userName: userName ?? '' });
  return KIT_TOKEN_PREFIX + base64url(utf8(JSON.stringify(k)));
}

/** parseKitToken reads a kit token: {appID?, token, roomID, userID, userName}. */
export function parseKitToken(kitToken) {
  if (typeof kitToken !== 'string' || !kitToken.startsWith(KIT_TOKEN_PREFIX)) {
    throw invalid('not a kit token: make one with generateKitTokenForTest or generateKitTokenForProduction');
  }
  let k;
  try {
    k = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(fromBase64url(kitToken.slice(KIT_TOKEN_PREFIX.length))));
  } catch {
    throw invalid('the kit token is damaged: it does not decode');
  }
  const str = (v) => v === undefined || v === null || typeof v === 'string';
  if (!k || typeof k !== 'object' || Array.isArray(k) || !str(k.token) || !str(k.roomID) || !str(k.userID) || !str(k.userName) || !k.token || !k.userID) {
    throw invalid('the kit token is missing its token or userID');
  }
  const out = {};
  if (k.appID !== undefined && k.appID !== null) out.appID = k.appID;
  return Object.assign(out, { token: k.token, roomID: k.roomID ?? '', userID: k.userID, userName: k.userName ?? '' });
}
