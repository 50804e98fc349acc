// The inventory: ListCert with every filter it has, page by page, newest
// first, with counts by status and a search over the page shown.

import * as api from './api.js';
import { h, badge, typeLabel, fmtDate, fmtDay, relative, errorBox } from './dom.js';

export const PAGE_SIZES = [10, 20, 50, 100];
export const DEFAULT_PAGE_SIZE = 20;

// FILTERS are the ListCert filters the page reads from and writes to the
// route (#/certs?Status=ISSUE&...), with the API's own names.
const FILTERS = ['Status', 'Type', 'ParentIdentifier', 'InstanceUuid', 'AfterDate', 'BeforeDate'];

function certsHash(filters, extra = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...filters, ...extra })) {
    if (v !== '' && v !== undefined && v !== null) {
      q.set(k, String(v));
    }
  }
  const qs = q.toString();
  return '#/certs' + (qs ? '?' + qs : '');
}

function select(id, name, value, options) {
  const el = h('select', { id, name });
  for (const [v, label] of options) {
    el.append(h('option', { value: v, selected: v === value }, label));
  }
  return el;
}

// matches reports whether a ListCert item contains the search text.
function matches(c, needle) {
  if (!needle) {
    return true;
  }
  const hay = [c.CommonName, c.Identifier, c.SerialNumber, c.AliasName, c.CustomIdentifier, c.SubjectDn,
    c.Organization, c.OrganizationUnit].join('\n').toLowerCase();
  return hay.includes(needle.toLowerCase());
}

// openExact opens a certificate named exactly by identifier or serial number.
async function openExact(text, ctx) {
  try {
    const res = await api.call('DescribeClientCertificate', { Identifier: text });
    ctx.go('#/cert/' + encodeURIComponent(res.Certificate.Identifier));
    return true;
  } catch {
    // not an identifier: try a serial number
  }
  if (/^[0-9a-fA-F:]{8,}$/.test(text)) {
    try {
      const res = await api.call('DescribeClientCertificateForSerialNumber', { SerialNumber: text.replaceAll(':', '').toLowerCase() });
      const list = res.CertificateList || [];
      if (list.length === 1) {
        ctx.go('#/cert/' + encodeURIComponent(list[0].Identifier));
        return true;
      }
    } catch {
      // not found either
    }
  }
  return false;
}

export async function inventoryPage(r, ctx) {
  const p = r.params;
  const filters = {};
  for (const k of FILTERS) {
    filters[k] = p.get(k) || '';
  }
  const size = PAGE_SIZES.includes(Number(p.get('ShowSize'))) ? Number(p.get('ShowSize')) : DEFAULT_PAGE_SIZE;
  const page = Math.max(1, Math.floor(Number(p.get('CurrentPage'))) || 1);
  const search = p.get('q') || '';

  const withStatus = (st) => ({ ...filters, Status: st });
  const countOf = (f) => api.call('ListCert', { ...f, ShowSize: 1 }).then((res) => Number(res.TotalCount || 0));
  let res;
  let cas = [];
  let instances = [];
  let counts;
  try {
    [res, counts, cas, instances] = await Promise.all([
      api.call('ListCert', { ...filters, CurrentPage: page, ShowSize: size }),
      Promise.all([countOf(withStatus('')), countOf(withStatus('ISSUE')), countOf(withStatus('REVOKE'))]),
      api.walkPages('DescribeCACertificateList', { CertType: 'subRoot' }, 'CertificateList', 100, 5).then((x) => x.items).catch(() => []),
      api.walkPages('ListAllEndEntityInstance', {}, 'List', 100, 5).then((x) => x.items).catch(() => []),
    ]);
  } catch (err) {
    // A bad filter (for example a date range the server refuses) must not
    // lock the user out of the page: show the error and the filters.
    res = null;
    counts = null;
    ctx.flash(errorBox(err));
  }

  // ---- filters
  const status = select('filter-status', 'Status', filters.Status,
    [['', 'Any status'], ['ISSUE', 'Issued (ISSUE)'], ['REVOKE', 'Revoked (REVOKE)']]);
  const type = select('filter-type', 'Type', filters.Type,
    [['', 'Any type'], ['SERVER', 'Server'], ['CLIENT', 'Client'], ['END_ENTITY', 'End entity (custom)']]);
  const caOptions = [['', 'Any issuing CA']].concat(cas.map((c) => [c.Identifier, c.CommonName || c.Identifier]));
  if (filters.ParentIdentifier && !cas.some((c) => c.Identifier === filters.ParentIdentifier)) {
    caOptions.push([filters.ParentIdentifier, filters.ParentIdentifier]);
  }
  const parent = select('filter-parent', 'ParentIdentifier', filters.ParentIdentifier, caOptions);
  const instOptions = [['', 'Any instance']].concat(instances.map((i) => [i.InstanceUuid, `${i.CaCommonName || i.CaIdentifier} · ${i.InstanceUuid}`]));
  if (filters.InstanceUuid && !instances.some((i) => i.InstanceUuid === filters.InstanceUuid)) {
    instOptions.push([filters.InstanceUuid, filters.InstanceUuid]);
  }
  const instance = select('filter-instance', 'InstanceUuid', filters.InstanceUuid, instOptions);
  const after = h('input', { id: 'filter-after', name: 'AfterDate', type: 'date', value: filters.AfterDate.slice(0, 10) });
  const before = h('input', { id: 'filter-before', name: 'BeforeDate', type: 'date', value: filters.BeforeDate.slice(0, 10) });
  const sizeSel = select('filter-size', 'ShowSize', String(size), PAGE_SIZES.map((n) => [String(n), `${n} per page`]));

  const readFilters = () => ({
    Status: status.value, Type: type.value, ParentIdentifier: parent.value, InstanceUuid: instance.value,
    AfterDate: after.value, BeforeDate: before.value,
  });
  const form = h('form', { id: 'filters', class: 'filters', novalidate: true },
    h('label', null, 'Status', status),
    h('label', null, 'Type', type),
    h('label', null, 'Issuing CA', parent),
    h('label', null, 'Instance', instance),
    h('label', { title: 'Last change (issue, revocation, label update) on or after this day, UTC' }, 'Changed from', after),
    h('label', { title: 'Last change before this day, UTC' }, 'Changed before', before),
    h('label', null, 'Page size', sizeSel),
    h('div', { class: 'filter-actions' },
      h('button', { id: 'filter-apply', type: 'submit', class: 'primary' }, 'Apply'),
      h('a', { id: 'filter-reset', href: '#/certs', class: 'button' }, 'Reset')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    ctx.go(certsHash(readFilters(), { ShowSize: sizeSel.value === String(DEFAULT_PAGE_SIZE) ? '' : sizeSel.value }));
  });
  for (const el of [status, type, parent, instance, sizeSel]) {
    el.addEventListener('change', () => form.requestSubmit());
  }

  const head = h('div', { class: 'page-head' }, h('h1', null, 'Certificates'),
    h('a', { class: 'button primary', href: '#/issue' }, 'Issue a certificate'));
  if (!res) {
    return h('div', { class: 'page' }, head, h('section', { class: 'panel' }, form));
  }

  // ---- counts by status, with the other filters kept
  const sizeParam = size === DEFAULT_PAGE_SIZE ? '' : size;
  const chip = (st, label, n) => h('a', {
    id: 'status-' + (st || 'all'), class: ['chip', filters.Status === st ? 'active' : ''],
    href: certsHash({ ...filters, Status: st }, { ShowSize: sizeParam }),
  }, label + ' ', h('span', { class: 'chip-count' }, String(n)));
  const chips = h('div', { class: 'chips', id: 'status-chips' },
    chip('', 'All', counts[0]), chip('ISSUE', 'Issued', counts[1]), chip('REVOKE', 'Revoked', counts[2]));

  // ---- the table
  const total = Number(res.TotalCount || 0);
  const pageCount = Math.max(1, Number(res.PageCount || 0));
  const list = res.List || [];
  const now = Date.now();
  const rows = list.map((c) => {
    const tr = h('tr', { dataset: { id: c.Identifier } },
      h('td', null,
        h('a', { class: 'cert-link', href: '#/cert/' + encodeURIComponent(c.Identifier) }, c.CommonName || '(no common name)'),
        c.AliasName ? h('div', { class: 'sub' }, c.AliasName) : null),
      h('td', null, typeLabel(c.CertificateType)),
      h('td', null, badge(c.Status, c.BeforeTime, c.AfterTime)),
      h('td', { title: fmtDate(c.AfterTime) }, fmtDay(c.AfterTime), h('div', { class: 'sub' }, relative(c.AfterTime, now))),
      h('td', { class: 'mono', title: c.SerialNumber }, (c.SerialNumber || '').slice(0, 16) + ((c.SerialNumber || '').length > 16 ? '…' : '')),
      h('td', null, c.Algorithm));
    tr._item = c;
    return tr;
  });
  const table = h('table', { id: 'inventory-table', class: 'list' },
    h('thead', null, h('tr', null, h('th', null, 'Common name'), h('th', null, 'Type'), h('th', null, 'Status'),
      h('th', null, 'Expires'), h('th', null, 'Serial'), h('th', null, 'Key'))),
    h('tbody', null, rows));
  const empty = h('p', { class: 'muted', id: 'inventory-empty' },
    rows.length ? 'Nothing on this page matches the search.' : 'No certificate matches these filters.');

  // ---- search within the page
  const searchBox = h('input', {
    id: 'search', type: 'search', placeholder: 'Search this page, or paste an identifier or serial and press Enter',
    value: search, spellcheck: 'false',
  });
  const searchInfo = h('span', { id: 'search-info', class: 'muted' });
  const applySearch = () => {
    const needle = searchBox.value.trim();
    let shown = 0;
    for (const tr of rows) {
      tr.hidden = !matches(tr._item, needle);
      shown += tr.hidden ? 0 : 1;
    }
    searchInfo.textContent = needle ? `${shown} of ${rows.length} on this page match` : '';
    empty.hidden = shown > 0;
  };
  searchBox.addEventListener('input', applySearch);
  searchBox.addEventListener('keydown', async (ev) => {
    if (ev.key !== 'Enter') {
      return;
    }
    ev.preventDefault();
    const text = searchBox.value.trim();
    if (text && !rows.some((tr) => !tr.hidden) && !(await openExact(text, ctx))) {
      searchInfo.textContent = `No certificate on this page matches, and none has the identifier or serial ${text}.`;
    } else if (text && rows.filter((tr) => !tr.hidden).length === 1) {
      ctx.go('#/cert/' + encodeURIComponent(rows.find((tr) => !tr.hidden)._item.Identifier));
    }
  });
  applySearch();

  // ---- paging
  const pageHash = (n) => certsHash(filters, { CurrentPage: n === 1 ? '' : n, ShowSize: sizeParam, q: searchBox.value.trim() });
  const first = total ? (page - 1) * size + 1 : 0;
  const last = Math.min(total, (page - 1) * size + list.length);
  const prev = h('button', { id: 'page-prev', type: 'button', disabled: page <= 1 }, '‹ Newer');
  const next = h('button', { id: 'page-next', type: 'button', disabled: page >= pageCount }, 'Older ›');
  prev.addEventListener('click', () => ctx.go(pageHash(page - 1)));
  next.addEventListener('click', () => ctx.go(pageHash(page + 1)));
  const pager = h('div', { class: 'pager' }, prev,
    h('span', { id: 'page-info' }, `Page ${page} of ${pageCount}`),
    next,
    h('span', { class: 'muted', id: 'page-range' }, total ? `${first}–${last} of ${total}, newest first` : ''));

  return h('div', { class: 'page' }, head,
    h('section', { class: 'panel' }, form),
    h('section', { class: 'panel' },
      h('div', { class: 'list-head' }, chips,
        h('span', { class: 'total' }, h('strong', { id: 'inventory-total' }, String(total)), ` certificate${total === 1 ? '' : 's'} match`)),
      h('div', { class: 'search' }, searchBox, searchInfo),
      table, empty, pager));
}
