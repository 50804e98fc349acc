// DOM building without markup: every text goes through textContent and
// every attribute through setAttribute, so data from the API (a CommonName
// may hold "<script>") is always shown as text. Nothing here parses HTML.

const SVG_NS = 'http://www.w3.org/2000/svg';

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) {
      continue;
    }
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) {
      continue;
    }
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else if (k === 'class') {
      el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
    } else if (k === 'dataset') {
      Object.assign(el.dataset, v);
    } else if (k === 'href') {
      el.setAttribute('href', safeHref(v));
    } else if (k === 'value' || k === 'checked' || k === 'selected' || k === 'disabled') {
      el[k] = v;
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
}

// safeHref keeps links inside the console: only in-page routes (#/...).
function safeHref(v) {
  const s = String(v);
  return s.startsWith('#') ? s : '#/';
}

// h creates an HTML element: h('a', {href: '#/certs', class: 'x'}, 'text', child...).
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

// s creates an SVG element with attributes.
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined) {
      el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

// replace empties el and puts children in it.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const pad = (n) => String(n).padStart(2, '0');

// fmtDate formats a Unix-ms time as "YYYY-MM-DD HH:MM UTC".
export function fmtDate(ms) {
  if (!ms && ms !== 0) {
    return '';
  }
  const d = new Date(Number(ms));
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
}

// fmtDay formats a Unix-ms time as "YYYY-MM-DD" (UTC).
export function fmtDay(ms) {
  const d = new Date(Number(ms));
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

export const DAY = 24 * 60 * 60 * 1000;

// relative says how far ms is from now: "in 12 days", "3 days ago".
export function relative(ms, now = Date.now()) {
  const days = Math.round((Number(ms) - now) / DAY);
  if (days === 0) {
    return 'today';
  }
  const n = Math.abs(days);
  const unit = n === 1 ? 'day' : 'days';
  return days > 0 ? `in ${n} ${unit}` : `${n} ${unit} ago`;
}

// statusOf is the status a person reads: Revoked, Expired (not revoked
// but past notAfter), Not yet valid, or Valid.
export function statusOf(apiStatus, notBefore, notAfter, now = Date.now()) {
  if (apiStatus === 'REVOKE') {
    return { key: 'revoked', label: 'Revoked' };
  }
  if (notAfter && Number(notAfter) < now) {
    return { key: 'expired', label: 'Expired' };
  }
  if (notBefore && Number(notBefore) > now) {
    return { key: 'pending', label: 'Not yet valid' };
  }
  return { key: 'valid', label: 'Valid' };
}

// badge renders a status.
export function badge(apiStatus, notBefore, notAfter, attrs = {}) {
  const st = statusOf(apiStatus, notBefore, notAfter);
  return h('span', { class: ['badge', 'badge-' + st.key], title: apiStatus, dataset: { status: apiStatus }, ...attrs }, st.label);
}

// typeLabel names a certificate or CA type.
export function typeLabel(t) {
  return {
    SERVER: 'Server', CLIENT: 'Client', END_ENTITY: 'End entity', ROOT: 'Root CA', SUB_ROOT: 'Sub-CA',
  }[t] || t || '';
}

// dl renders [label, value] pairs as a description list; empty values are left out.
export function dl(pairs, attrs = {}) {
  const out = h('dl', { class: 'fields', ...attrs });
  for (const [label, value, cls] of pairs) {
    if (value === '' || value === null || value === undefined) {
      continue;
    }
    out.append(h('dt', null, label), h('dd', { class: cls }, value));
  }
  return out;
}

// download saves text as a file through a blob: URL (no server round trip).
export function download(filename, text, type = 'application/x-pem-file') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', null);
  a.setAttribute('href', url);
  a.setAttribute('download', filename);
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// fileName makes a safe file name from a certificate name.
export function fileName(base, ext) {
  const clean = String(base || 'certificate').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 60);
  return (clean || 'certificate') + ext;
}

// loading is the placeholder shown while a page loads.
export function loading(what) {
  return h('p', { class: 'loading' }, `Loading ${what}…`);
}

// errorBox shows an API error in a page.
export function errorBox(err) {
  const box = h('div', { class: 'error-box', role: 'alert' });
  box.append(h('strong', null, err && err.code ? err.code : 'Error'));
  const msg = err && err.apiMessage !== undefined ? err.apiMessage : String(err && err.message || err);
  if (msg) {
    box.append(h('span', null, ' ' + msg));
  }
  if (err && err.requestId) {
    box.append(h('small', null, ` (request ${err.requestId})`));
  }
  return box;
}
