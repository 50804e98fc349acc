// ACS3-HMAC-SHA256 request signing with WebCrypto: the V3 signature of the
// Alibaba Cloud OpenAPI, built exactly as pcad verifies it
// (internal/openapi/sign.go: CanonicalRequestV3, StringToSignV3, SignV3,
// PercentEncode).

export const ALGORITHM = 'ACS3-HMAC-SHA256';

const encoder = new TextEncoder();
const HEX = '0123456789ABCDEF';

// percentEncode encodes s as RFC 3986 requires: A-Z a-z 0-9 - _ . ~ are
// kept, every other UTF-8 byte becomes %XX with upper-case hex.
export function percentEncode(s) {
  let out = '';
  for (const b of encoder.encode(String(s))) {
    const keep = (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) ||
      b === 0x2d || b === 0x5f || b === 0x2e || b === 0x7e;
    out += keep ? String.fromCharCode(b) : '%' + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}

// canonicalKey writes a query key as the official client does: not
// percent-encoded, but "+", "*" and "%7E" rewritten.
function canonicalKey(k) {
  return k.replaceAll('+', '%20').replaceAll('*', '%2A').replaceAll('%7E', '~');
}

function byteOrder(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

// sortedEntries returns the [key, value] pairs of params (an object of
// strings), sorted by key.
function sortedEntries(params) {
  return Object.entries(params).map(([k, v]) => [k, String(v)]).sort((a, b) => byteOrder(a[0], b[0]));
}

// canonicalQuery is the V3 canonical query string: keys sorted, each pair
// key=percentEncode(value), joined with "&".
export function canonicalQuery(params) {
  return sortedEntries(params).map(([k, v]) => canonicalKey(k) + '=' + percentEncode(v)).join('&');
}

// wireQuery is the query string sent on the wire: keys and values
// percent-encoded (the server decodes it with form rules).
export function wireQuery(params) {
  return sortedEntries(params).map(([k, v]) => percentEncode(k) + '=' + percentEncode(v)).join('&');
}

// canonicalRequest returns
//   method \n URI \n canonical query \n canonical headers \n signed headers \n hashed payload
// where headers is an object of lower-case header names to values and
// signedHeaders the sorted lower-case names to sign.
export function canonicalRequest(method, path, params, headers, signedHeaders, hashedPayload) {
  const uri = (path || '/').replaceAll('+', '%20').replaceAll('*', '%2A').replaceAll('%7E', '~');
  const lines = signedHeaders.map((h) => h + ':' + String(headers[h]).trim() + '\n').join('');
  return [method, uri, canonicalQuery(params), lines, signedHeaders.join(';'), hashedPayload].join('\n');
}

function hex(buf) {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
}

// sha256Hex is the lower-case hex SHA-256 of the UTF-8 bytes of s.
export async function sha256Hex(s) {
  return hex(await crypto.subtle.digest('SHA-256', encoder.encode(s)));
}

// importSecret turns an AccessKey secret into a non-extractable HMAC key:
// the page can sign with it but never read it back.
export async function importSecret(secret) {
  return crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
}

// signature is the lower-case hex HMAC-SHA256 of the string to sign of
// canonical (ACS3-HMAC-SHA256 \n hex(SHA-256(canonical))).
export async function signature(key, canonical) {
  const toSign = ALGORITHM + '\n' + await sha256Hex(canonical);
  return hex(await crypto.subtle.sign('HMAC', key, encoder.encode(toSign)));
}

// acsDate formats d as the x-acs-date header wants: yyyy-MM-ddTHH:mm:ssZ (UTC).
export function acsDate(d) {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// nonce returns 32 random hex digits.
export function nonce() {
  return hex(crypto.getRandomValues(new Uint8Array(16)));
}

// FORM_TYPE is the Content-Type of a form body.
export const FORM_TYPE = 'application/x-www-form-urlencoded';

// signRequest signs an RPC call and returns what to send: the query
// string, the body ('' for none) and the headers. opts: key (CryptoKey),
// accessKeyId, host (as the browser will send it), method, action,
// version, query (parameters for the URL, signed in the canonical query)
// and form (parameters for a form body, covered by the body hash); for
// tests also date, nonce and extraHeaders (more x-acs-* headers to sign).
export async function signRequest(opts) {
  const query = opts.query || {};
  const form = opts.form || {};
  const body = Object.keys(form).length ? wireQuery(form) : '';
  const hashedPayload = await sha256Hex(body);
  const headers = {
    'host': opts.host,
    'x-acs-action': opts.action,
    'x-acs-version': opts.version,
    'x-acs-date': opts.date || acsDate(new Date()),
    'x-acs-signature-nonce': opts.nonce || nonce(),
    'x-acs-content-sha256': hashedPayload,
    ...(opts.extraHeaders || {}),
  };
  if (body) {
    headers['content-type'] = FORM_TYPE;
  }
  const signed = Object.keys(headers).map((h) => h.toLowerCase()).sort(byteOrder);
  const canonical = canonicalRequest(opts.method, '/', query, headers, signed, hashedPayload);
  const sig = await signature(opts.key, canonical);
  const send = {};
  for (const [k, v] of Object.entries(headers)) {
    if (k !== 'host') { // the browser sets Host itself
      send[k] = v;
    }
  }
  send['authorization'] = `${ALGORITHM} Credential=${opts.accessKeyId},SignedHeaders=${signed.join(';')},Signature=${sig}`;
  return { query: wireQuery(query), body, headers: send, canonical, signature: sig };
}
