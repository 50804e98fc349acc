// Issue forms: a server or a client certificate from a sub-CA, with a key
// pcad generates (CreateServerCertificate, CreateClientCertificate) or
// from the user's own CSR (the ...WithCsr actions).

import * as api from './api.js';
import { h, errorBox } from './dom.js';

const ALGORITHMS = { RSA: ['RSA_2048', 'RSA_4096'], ECC: ['ECC_256', 'ECC_384', 'ECC_512'] };

function field(label, input, hint) {
  return h('label', null, label, input, hint ? h('small', { class: 'muted' }, hint) : null);
}

export async function issuePage(r, ctx) {
  const subs = await api.walkPages('DescribeCACertificateList', { CertType: 'subRoot', CaStatus: 'issue' }, 'CertificateList', 100, 10);
  const head = h('h1', null, 'Issue a certificate');
  if (!subs.items.length) {
    return h('div', { class: 'page' }, head, h('section', { class: 'panel' },
      h('p', null, 'There is no sub-CA that can issue. Create a root and a sub-CA first (pcad ca create-root, pcad ca create-sub).')));
  }
  const kind = r.params.get('type') === 'client' ? 'client' : 'server';
  const radio = (value, label) => h('label', { class: 'radio' },
    h('input', { type: 'radio', name: 'kind', id: 'issue-kind-' + value, value, checked: value === kind }), label);

  const wanted = r.params.get('parent');
  const parent = h('select', { id: 'issue-parent', name: 'ParentIdentifier', required: true });
  for (const c of subs.items) {
    parent.append(h('option', { value: c.Identifier, selected: c.Identifier === wanted },
      `${c.CommonName || c.Identifier} (${c.FullAlgorithm || c.Algorithm})`));
  }
  const alg = h('select', { id: 'issue-alg', name: 'Algorithm' });
  const fillAlgorithms = () => {
    const ca = subs.items.find((c) => c.Identifier === parent.value) || subs.items[0];
    const family = ALGORITHMS[ca.Algorithm] ? ca.Algorithm : 'ECC';
    alg.replaceChildren(...ALGORITHMS[family].map((a) => h('option', { value: a, selected: a === ca.FullAlgorithm }, a)));
  };
  parent.addEventListener('change', fillAlgorithms);
  fillAlgorithms();

  const cn = h('input', { id: 'issue-cn', name: 'CommonName', spellcheck: 'false', maxlength: '64' });
  const domain = h('input', { id: 'issue-domain', name: 'Domain', spellcheck: 'false', placeholder: 'api.example.com, 10.0.0.7' });
  const sanType = h('select', { id: 'issue-santype', name: 'SanType' },
    h('option', { value: '' }, 'None'), h('option', { value: '1' }, 'Email'), h('option', { value: '6' }, 'URI'));
  const sanValue = h('input', { id: 'issue-sanvalue', name: 'SanValue', spellcheck: 'false', placeholder: 'alice@example.com' });
  const alias = h('input', { id: 'issue-alias', name: 'AliasName', maxlength: '128' });
  const validity = h('input', { id: 'issue-validity', name: 'validity', type: 'number', min: '1', step: '1', value: '90' });
  const unit = h('select', { id: 'issue-unit', name: 'unit' },
    h('option', { value: 'Days' }, 'days'), h('option', { value: 'Months' }, 'months'), h('option', { value: 'Years' }, 'years'));
  const subject = {};
  for (const [name, max] of [['Organization', 64], ['OrganizationUnit', 64], ['Locality', 128], ['State', 128], ['Country', 2]]) {
    subject[name] = h('input', { id: 'issue-' + name.toLowerCase(), name, maxlength: String(max) });
  }
  const customId = h('input', { id: 'issue-custom-id', name: 'CustomIdentifier', maxlength: '64', spellcheck: 'false' });
  const csr = h('textarea', { id: 'issue-csr', name: 'Csr', rows: '6', spellcheck: 'false',
    placeholder: '-----BEGIN CERTIFICATE REQUEST-----' });

  const serverOnly = h('div', { class: 'kind-server' }, field('More names (DNS names or IPs, comma-separated)', domain));
  const clientOnly = h('div', { class: 'kind-client' },
    h('div', { class: 'row' }, field('Alternative name', sanType), field('Value(s), comma-separated', sanValue)),
    field('Alias', alias));
  const out = h('div', { id: 'issue-status', role: 'status' });
  const submit = h('button', { id: 'issue-submit', type: 'submit', class: 'primary' }, 'Issue');
  const cnHint = h('small', { class: 'muted', id: 'issue-cn-hint' });

  const form = h('form', { id: 'issue-form', class: 'panel issue', novalidate: true },
    h('fieldset', { class: 'kinds' }, h('legend', null, 'Kind'), radio('server', 'Server (TLS)'), radio('client', 'Client (mTLS, people, devices)')),
    h('div', { class: 'row' }, field('Issuing CA', parent), field('Key', alg)),
    h('label', null, 'Common name', cn, cnHint),
    serverOnly, clientOnly,
    h('div', { class: 'row' }, field('Valid for', validity), field('\u00a0', unit)),
    h('details', null, h('summary', null, 'More subject fields and labels'),
      h('div', { class: 'row' }, field('Organization (O)', subject.Organization),
        field('Unit (OU)', subject.OrganizationUnit)),
      h('div', { class: 'row' }, field('Locality (L)', subject.Locality), field('State (ST)', subject.State),
        field('Country (C)', subject.Country)),
      field('Custom identifier (your own unique key)', customId)),
    h('details', null, h('summary', null, 'Use your own key (CSR)'),
      field('PEM certificate request: pcad signs it and never sees the private key', csr)),
    out,
    h('div', { class: 'actions' }, submit));

  const currentKind = () => (form.querySelector('input[name=kind]:checked') || {}).value || 'server';
  const sync = () => {
    const k = currentKind();
    serverOnly.hidden = k !== 'server';
    clientOnly.hidden = k !== 'client';
    cnHint.textContent = k === 'server'
      ? 'A host name or IP address; it is also put in the SANs.'
      : 'A person, an application or a device (any text, up to 64 characters).';
    alg.disabled = csr.value.trim() !== '';
  };
  form.addEventListener('change', sync);
  csr.addEventListener('input', sync);
  sync();

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const k = currentKind();
    const useCsr = csr.value.trim() !== '';
    if (!useCsr && !cn.value.trim()) {
      out.replaceChildren(errorBox({ code: 'Missing', apiMessage: 'Enter a common name (or paste a CSR).' }));
      cn.focus();
      return;
    }
    const params = {
      ParentIdentifier: parent.value, CommonName: cn.value.trim(), Immediately: '1',
      [unit.value]: validity.value, CustomIdentifier: customId.value.trim(),
    };
    for (const [name, input] of Object.entries(subject)) {
      params[name] = input.value.trim();
    }
    if (useCsr) {
      params.Csr = csr.value.trim();
    } else {
      params.Algorithm = alg.value;
    }
    if (k === 'server') {
      params.Domain = domain.value.trim();
    } else {
      params.SanType = sanValue.value.trim() ? sanType.value : '';
      params.SanValue = sanType.value ? sanValue.value.trim() : '';
      if (!useCsr) {
        params.AliasName = alias.value.trim();
      }
    }
    const action = (k === 'server' ? 'CreateServerCertificate' : 'CreateClientCertificate') + (useCsr ? 'WithCsr' : '');
    submit.disabled = true;
    out.replaceChildren(h('span', { class: 'muted' }, 'Issuing…'));
    try {
      const res = await api.call(action, params);
      ctx.flash(`Issued ${params.CommonName || 'the certificate'} (serial ${res.SerialNumber || ''}).`, 'ok');
      ctx.go('#/cert/' + encodeURIComponent(res.Identifier), true);
    } catch (err) {
      out.replaceChildren(errorBox(err));
      submit.disabled = false;
    }
  });
  return h('div', { class: 'page' }, head, form);
}
