// The console's only link to pcad: signed calls of the public cas API on
// the RPC endpoint (POST /) of the same origin. The AccessKey secret is
// held here, in module scope, as a non-extractable CryptoKey, and nowhere
// else: not in web storage, cookies or URLs.

import { importSecret, signRequest } from './sign.js';

export const VERSION = '2020-06-30';

// session is the signed-in AccessKey: { id, key } or null.
let session = null;

// ApiError is an error answer of the API (or a failure to reach it).
export class ApiError extends Error {
  constructor(status, body, action) {
    const code = (body && (body.Code || body.code)) || (status ? `HTTP ${status}` : 'NetworkError');
    const message = (body && (body.Message || body.message)) || '';
    super(message ? `${code}: ${message}` : code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.apiMessage = message;
    this.requestId = (body && body.RequestId) || '';
    this.action = action;
  }
}

// AUTH_CODES are the answers that mean the AccessKey itself was refused.
const AUTH_CODES = new Set([
  'InvalidAccessKeyId.NotFound', 'InvalidAccessKeyId.Inactive', 'IncompleteSignature',
  'SignatureDoesNotMatch', 'InvalidTimeStamp.Expired', 'IllegalTimestamp',
]);

const THROTTLE_CODES = new Set(['Throttling', 'Throttling.User', 'Throttling.Api']);

export function isAuthError(err) {
  return err instanceof ApiError && AUTH_CODES.has(err.code);
}

export function signedIn() {
  return session !== null;
}

export function accessKeyId() {
  return session ? session.id : '';
}

// secureContext reports whether WebCrypto is available: browsers offer it
// only on HTTPS pages and on http://localhost or 127.0.0.1.
export function secureContext() {
  return Boolean(window.isSecureContext && globalThis.crypto && crypto.subtle);
}

// signIn imports secret as a signing key, checks it with one call
// (DescribeCACertificateCount), and keeps only the key. An answer that
// refuses the call for lack of permission still signs in: the key is
// genuine, and each page shows what the user may not do.
export async function signIn(id, secret) {
  const key = await importSecret(secret);
  const candidate = { id, key };
  try {
    await callWith(candidate, 'DescribeCACertificateCount', {});
  } catch (err) {
    if (!(err instanceof ApiError) || isAuthError(err) || err.status === 0 || err.status >= 500) {
      throw err;
    }
  }
  session = candidate;
}

export function signOut() {
  session = null;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// retryDelay reads TimeLeft (ms) from the throttling headers, else 1 s.
function retryDelay(res) {
  let best = 0;
  for (const name of ['x-ratelimit-user-api', 'x-ratelimit-user']) {
    const m = /TimeLeft:(\d+)/.exec(res.headers.get(name) || '');
    if (m) {
      best = Math.max(best, Number(m[1]));
    }
  }
  return Math.min(Math.max(best, 200), 5000) || 1000;
}

async function callWith(sess, action, params) {
  for (let attempt = 0; ; attempt++) {
    // Every parameter travels in the form body, so none (a CSR, an export
    // password) ever appears in a URL or an access log.
    const req = await signRequest({
      key: sess.key, accessKeyId: sess.id, host: location.host, method: 'POST',
      action, version: VERSION, form: params,
    });
    let res;
    try {
      res = await fetch('/', {
        method: 'POST', headers: req.headers, body: req.body || null, credentials: 'omit', cache: 'no-store',
        redirect: 'error', referrerPolicy: 'no-referrer',
      });
    } catch (e) {
      throw new ApiError(0, { Code: 'NetworkError', Message: String(e && e.message || e) }, action);
    }
    let body = null;
    try {
      body = await res.json();
    } catch {
      body = null;
    }
    if (res.ok && body && typeof body === 'object' && !body.Code) {
      return body;
    }
    const err = new ApiError(res.status, body, action);
    if (THROTTLE_CODES.has(err.code) && attempt < 5) {
      await sleep(retryDelay(res) + Math.floor(Math.random() * 250)); // jitter: parallel calls retry apart
      continue;
    }
    throw err;
  }
}

// call calls action with params (an object of strings; lists flattened as
// Name.1, Name.2) and returns the JSON answer. Throttled calls are retried
// a few times after the delay the server names.
export async function call(action, params = {}) {
  if (!session) {
    throw new ApiError(401, { Code: 'SignedOut', Message: 'Sign in first.' }, action);
  }
  const clean = {};
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') {
      clean[k] = String(v);
    }
  }
  return callWith(session, action, clean);
}

// walk calls a token-paged list action (NextToken / MaxResults) until the
// last page or maxPages pages, and returns { items, total, truncated }.
export async function walkTokens(action, params, listField, pageSize, maxPages) {
  const items = [];
  let token = '';
  let total = 0;
  for (let page = 0; page < maxPages; page++) {
    const res = await call(action, { ...params, MaxResults: pageSize, NextToken: token });
    total = Number(res.TotalCount || 0);
    items.push(...(res[listField] || []));
    token = res.NextToken || '';
    if (!token) {
      return { items, total, truncated: false };
    }
  }
  return { items, total, truncated: true };
}

// walkPages calls a page-mode list action (CurrentPage / ShowSize) until
// every page is read or maxPages pages, and returns { items, total, truncated }.
export async function walkPages(action, params, listField, pageSize, maxPages) {
  const items = [];
  let total = 0;
  for (let page = 1; page <= maxPages; page++) {
    const res = await call(action, { ...params, CurrentPage: page, ShowSize: pageSize });
    total = Number(res.TotalCount || 0);
    const got = res[listField] || [];
    items.push(...got);
    if (got.length < pageSize || items.length >= total) {
      return { items, total, truncated: false };
    }
  }
  return { items, total, truncated: items.length < total };
}
