// Overview: counts, the certificates expiring per week over the next six
// months, and the newest certificates.

import * as api from './api.js';
import { h, badge, typeLabel, fmtDate, relative, errorBox, DAY } from './dom.js';
import { expiryBuckets, expiryChart, WEEKS } from './chart.js';

// The chart reads the valid certificates page by page (newest first), at
// most CHART_PAGES pages of CHART_PAGE_SIZE; beyond that it says it shows
// a part only.
export const CHART_PAGE_SIZE = 1000;
export const CHART_PAGES = 20;

function card(id, label, value, hint, href) {
  const body = [h('span', { class: 'card-value', id }, String(value)), h('span', { class: 'card-label' }, label)];
  if (hint) {
    body.push(h('span', { class: 'card-hint' }, hint));
  }
  return href ? h('a', { class: 'card', href }, body) : h('div', { class: 'card' }, body);
}

async function count(params) {
  const res = await api.call('ListCert', { ...params, ShowSize: 1 });
  return Number(res.TotalCount || 0);
}

export async function overviewPage() {
  const [recent, revoked, caCount, valid] = await Promise.all([
    api.call('ListCert', { ShowSize: 6 }),
    count({ Status: 'REVOKE' }),
    api.call('DescribeCACertificateCount', {}).then((r) => Number(r.TotalCount || 0)).catch(() => null),
    api.walkTokens('ListCert', { Status: 'ISSUE' }, 'List', CHART_PAGE_SIZE, CHART_PAGES),
  ]);
  const now = Date.now();
  const buckets = expiryBuckets(valid.items, now);
  const soon = valid.items.filter((c) => Number(c.AfterTime) >= now && Number(c.AfterTime) < now + 30 * DAY).length;
  const total = Number(recent.TotalCount || 0);

  const cards = h('div', { class: 'cards' },
    card('count-total', 'certificates', total, null, '#/certs'),
    card('count-valid', 'not revoked', valid.total, null, '#/certs?Status=ISSUE'),
    card('count-revoked', 'revoked', revoked, null, '#/certs?Status=REVOKE'),
    card('count-soon', 'expire within 30 days', soon + (valid.truncated ? '+' : ''), null, null),
    card('count-expired', 'expired, not revoked', buckets.expired + (valid.truncated ? '+' : ''), null, null),
    caCount === null ? null : card('count-cas', 'CAs', caCount, null, '#/cas'));

  const inChart = buckets.counts.reduce((a, b) => a + b, 0);
  const note = valid.truncated
    ? `Built from the ${valid.items.length} newest of ${valid.total} certificates that are not revoked; older ones are left out.`
    : `${inChart} of ${valid.total} certificates that are not revoked expire in the next ${WEEKS} weeks` +
      (buckets.later ? `; ${buckets.later} later.` : '.');
  const chart = h('section', { class: 'panel', id: 'chart' },
    h('h2', null, 'Expiring per week'),
    expiryChart(buckets),
    h('p', { class: 'muted', id: 'chart-note' }, note));

  const rows = (recent.List || []).map((c) => h('tr', null,
    h('td', null, h('a', { class: 'cert-link', href: '#/cert/' + encodeURIComponent(c.Identifier) }, c.CommonName || c.Identifier)),
    h('td', null, typeLabel(c.CertificateType)),
    h('td', null, badge(c.Status, c.BeforeTime, c.AfterTime)),
    h('td', { title: fmtDate(c.AfterTime) }, relative(c.AfterTime, now))));
  const newest = h('section', { class: 'panel' },
    h('h2', null, 'Newest certificates'),
    rows.length
      ? h('table', { class: 'list' }, h('thead', null, h('tr', null, h('th', null, 'Common name'), h('th', null, 'Type'),
        h('th', null, 'Status'), h('th', null, 'Expires'))), h('tbody', null, rows))
      : h('p', { class: 'muted' }, 'No certificates yet. ', h('a', { href: '#/issue' }, 'Issue one'), '.'));

  const warn = caCount === null ? errorBox({ code: 'Note', apiMessage: 'This AccessKey may not count CAs (DescribeCACertificateCount).' }) : null;
  return h('div', { class: 'page' }, h('h1', null, 'Overview'), warn, cards, chart, newest);
}
