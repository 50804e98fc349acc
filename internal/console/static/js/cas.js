// The CA tree: roots, the sub-CAs under them, and each CA's end-entity
// instances with their quotas.

import * as api from './api.js';
import { h, badge, typeLabel, fmtDay, relative, download, fileName, errorBox } from './dom.js';

// MAX_PAGES caps the pages of 100 read from each list.
const MAX_PAGES = 20;

function quota(inst) {
  const issued = Number(inst.CertIssuedCount || 0);
  const totalQ = Number(inst.CertTotalCount || 0);
  if (!totalQ) {
    return h('div', { class: 'quota unlimited' },
      h('span', { class: 'quota-text' }, `${issued} issued · no quota`));
  }
  const fill = h('div', { class: 'quota-fill' });
  const pct = Math.min(100, (issued / totalQ) * 100);
  fill.style.width = pct.toFixed(1) + '%';
  const bar = h('div', { class: ['quota-bar', pct >= 90 ? 'high' : ''] }, fill);
  return h('div', { class: 'quota' }, bar,
    h('span', { class: 'quota-text' }, `${issued} / ${totalQ} issued · ${Math.max(0, totalQ - issued)} left`));
}

function quotaForm(inst, ctx) {
  const input = h('input', { type: 'number', min: '0', step: '1', value: String(inst.CertTotalCount || 0), class: 'quota-input' });
  const out = h('span', { role: 'status' });
  const form = h('form', { class: 'inline-form', novalidate: true },
    h('label', null, 'Quota (0 = none)', input), h('button', { type: 'submit' }, 'Save'), out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await api.call('AssignCertificateCount', { Id: inst.Id, CertTotalCount: input.value });
      ctx.flash('Quota saved.', 'ok');
      ctx.go('#/cas', true);
    } catch (err) {
      out.replaceChildren(errorBox(err));
    }
  });
  return h('details', { class: 'quota-edit' }, h('summary', null, 'Change quota'), form);
}

function instanceBox(inst, ctx) {
  return h('div', { class: 'instance', dataset: { uuid: inst.InstanceUuid } },
    h('div', { class: 'instance-head' },
      h('span', null, 'Instance ', h('span', { class: 'mono' }, inst.InstanceUuid)),
      h('a', { href: '#/certs?InstanceUuid=' + encodeURIComponent(inst.InstanceUuid) }, 'certificates')),
    quota(inst),
    quotaForm(inst, ctx));
}

function caNode(ca, children, instances, ctx) {
  const isSub = ca.CertificateType === 'SUB_ROOT';
  const links = h('div', { class: 'ca-links' });
  if (isSub) {
    links.append(
      h('a', { href: '#/certs?ParentIdentifier=' + encodeURIComponent(ca.Identifier) }, 'Certificates'),
      h('a', { href: '#/issue?parent=' + encodeURIComponent(ca.Identifier) }, 'Issue'));
  }
  const pem = h('button', { type: 'button', class: 'link' }, 'CA certificate (PEM)');
  pem.addEventListener('click', () => download(fileName(ca.CommonName, '-ca.pem'), ca.X509Certificate));
  links.append(pem);
  const card = h('div', { class: 'ca-card' },
    h('div', { class: 'ca-head' },
      h('strong', { class: 'ca-name' }, ca.CommonName || ca.Identifier),
      h('span', { class: 'ca-type' }, typeLabel(ca.CertificateType)),
      badge(ca.Status, ca.BeforeDate, ca.AfterDate)),
    h('div', { class: 'ca-meta' },
      h('span', null, ca.FullAlgorithm || ca.Algorithm),
      h('span', { title: 'notAfter' }, `valid until ${fmtDay(ca.AfterDate)} (${relative(ca.AfterDate)})`),
      h('span', { class: 'mono', title: 'Identifier' }, ca.Identifier)),
    (instances.get(ca.Identifier) || []).map((i) => instanceBox(i, ctx)),
    links);
  const li = h('li', { class: 'ca-node', dataset: { id: ca.Identifier, type: ca.CertificateType } }, card);
  if (children.length) {
    li.append(h('ul', { class: 'tree' }, children));
  }
  return li;
}

export async function caTreePage(r, ctx) {
  const [cas, insts] = await Promise.all([
    api.walkPages('DescribeCACertificateList', {}, 'CertificateList', 100, MAX_PAGES),
    api.walkPages('ListAllEndEntityInstance', {}, 'List', 100, MAX_PAGES).catch(() => ({ items: [], truncated: false })),
  ]);
  const byId = new Map(cas.items.map((c) => [c.Identifier, c]));
  const kids = new Map();
  const roots = [];
  for (const c of cas.items) {
    if (c.ParentIdentifier && byId.has(c.ParentIdentifier) && c.ParentIdentifier !== c.Identifier) {
      if (!kids.has(c.ParentIdentifier)) {
        kids.set(c.ParentIdentifier, []);
      }
      kids.get(c.ParentIdentifier).push(c);
    } else {
      roots.push(c);
    }
  }
  const instances = new Map();
  for (const i of insts.items) {
    if (!instances.has(i.CaIdentifier)) {
      instances.set(i.CaIdentifier, []);
    }
    instances.get(i.CaIdentifier).push(i);
  }
  const seen = new Set();
  const build = (c) => {
    if (seen.has(c.Identifier)) {
      return null; // a cycle would be a server bug; never loop on it
    }
    seen.add(c.Identifier);
    return caNode(c, (kids.get(c.Identifier) || []).map(build).filter(Boolean), instances, ctx);
  };
  const tree = h('ul', { class: 'tree root', id: 'ca-tree' }, roots.map(build));
  const note = cas.truncated || insts.truncated
    ? h('p', { class: 'muted' }, `Showing the first ${cas.items.length} of ${cas.total} CAs.`)
    : h('p', { class: 'muted' }, `${cas.total} CA${cas.total === 1 ? '' : 's'}, ${insts.items.length} instance${insts.items.length === 1 ? '' : 's'}.`);
  return h('div', { class: 'page' },
    h('h1', null, 'CA tree'),
    h('section', { class: 'panel' }, note,
      cas.items.length ? tree : h('p', { class: 'muted' }, 'No CA yet. Create a root CA with pcad ca create-root or the API.')));
}
