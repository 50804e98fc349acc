// A certificate's details: subject, SANs, validity as a timeline, status,
// PEM and chain downloads, private-key export and revocation.

import * as api from './api.js';
import { h, badge, typeLabel, fmtDate, relative, dl, download, fileName, errorBox, DAY } from './dom.js';

const SAN_TYPES = { 0: 'Other name', 1: 'Email', 2: 'DNS', 4: 'Directory name', 6: 'URI', 7: 'IP', 8: 'Registered ID' };

function parseSans(text) {
  try {
    const v = JSON.parse(text || '[]');
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

// timeline draws notBefore -> notAfter as a bar, filled up to now, with
// markers for now and for the revocation.
function timeline(notBefore, notAfter, revokedAt) {
  const now = Date.now();
  const span = Math.max(1, notAfter - notBefore);
  const pct = (t) => Math.min(100, Math.max(0, ((t - notBefore) / span) * 100));
  const fill = h('div', { class: 'timeline-fill' });
  fill.style.width = pct(now).toFixed(2) + '%';
  const bar = h('div', { class: 'timeline-bar', role: 'img', 'aria-label': `Valid from ${fmtDate(notBefore)} to ${fmtDate(notAfter)}` }, fill);
  if (now >= notBefore && now <= notAfter) {
    const m = h('div', { class: 'timeline-marker now', title: 'now' });
    m.style.left = pct(now).toFixed(2) + '%';
    bar.append(m);
  }
  if (revokedAt) {
    const m = h('div', { class: 'timeline-marker revoked', title: 'revoked ' + fmtDate(revokedAt) });
    m.style.left = pct(revokedAt).toFixed(2) + '%';
    bar.append(m);
    bar.classList.add('is-revoked');
  }
  if (now > notAfter) {
    bar.classList.add('is-expired');
  }
  const days = Math.round(span / DAY);
  let summary;
  if (now < notBefore) {
    summary = `Not valid yet: starts ${relative(notBefore, now)}.`;
  } else if (now > notAfter) {
    summary = `Expired ${relative(notAfter, now)}.`;
  } else {
    summary = `${Math.round(pct(now))}% of ${days} days used; expires ${relative(notAfter, now)}.`;
  }
  if (revokedAt) {
    summary += ` Revoked ${fmtDate(revokedAt)}.`;
  }
  return h('div', { class: 'timeline', id: 'timeline' },
    bar,
    h('div', { class: 'timeline-labels' }, h('span', null, fmtDate(notBefore)), h('span', null, fmtDate(notAfter))),
    h('p', { class: 'muted', id: 'timeline-summary' }, summary));
}

function exportKeyForm(c) {
  const pw = h('input', { id: 'export-password', type: 'password', autocomplete: 'new-password', maxlength: '32', required: true });
  const out = h('div', { role: 'status' });
  const button = h('button', { id: 'export-key', type: 'submit' }, 'Download encrypted key');
  const form = h('form', { class: 'inline-form', novalidate: true },
    h('label', null, 'Password for the key file', pw), button, out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const code = pw.value;
    if (!code) {
      out.replaceChildren(errorBox({ code: 'Missing', apiMessage: 'Choose a password: the key is exported encrypted with it (PKCS#8).' }));
      return;
    }
    pw.value = '';
    button.disabled = true;
    try {
      const res = await api.call('DescribeCertificatePrivateKey', { Identifier: c.Identifier, EncryptedCode: code });
      download(fileName(c.CommonName, '-key.pem'), res.EncryptedData);
      out.replaceChildren(h('span', { class: 'muted' }, 'Saved. Open it with: openssl pkey -in FILE (it asks for the password).'));
    } catch (err) {
      out.replaceChildren(errorBox(err));
    } finally {
      button.disabled = false;
    }
  });
  return h('details', { class: 'panel' }, h('summary', null, 'Private key'),
    h('p', { class: 'muted' }, 'Only for certificates whose key pcad generated. The key is exported as an encrypted PKCS#8 PEM.'),
    form);
}

export async function certPage(r, ctx) {
  const id = r.arg;
  const res = await api.call('DescribeClientCertificate', { Identifier: id });
  const c = res.Certificate || {};
  const [status, issuer] = await Promise.all([
    c.Status === 'REVOKE'
      ? api.call('DescribeClientCertificateStatus', { Identifier: c.Identifier }).catch(() => null)
      : Promise.resolve(null),
    c.ParentIdentifier
      ? api.call('DescribeCACertificate', { Identifier: c.ParentIdentifier }).then((x) => x.Certificate).catch(() => null)
      : Promise.resolve(null),
  ]);
  const revokedAt = status && status.CertificateStatus && status.CertificateStatus[0] && status.CertificateStatus[0].RevokeTime;
  const notBefore = Number(c.BeforeDate), notAfter = Number(c.AfterDate);

  const sans = parseSans(c.Sans);
  const sanList = sans.length
    ? h('ul', { class: 'sans', id: 'sans' }, sans.map((x) => h('li', null,
      h('span', { class: 'san-type' }, SAN_TYPES[x.Type] || `Type ${x.Type}`), ' ', h('span', { class: 'mono' }, x.Value))))
    : h('p', { class: 'muted', id: 'sans' }, 'No subject alternative names.');

  // ---- actions
  const actions = h('div', { class: 'actions' });
  const pemBtn = h('button', { id: 'download-pem', type: 'button' }, 'Download PEM');
  pemBtn.addEventListener('click', () => download(fileName(c.CommonName, '.pem'), c.X509Certificate));
  const chainBtn = h('button', { id: 'download-chain', type: 'button' }, 'Download chain');
  chainBtn.addEventListener('click', () => download(fileName(c.CommonName, '-chain.pem'),
    (c.X509Certificate || '').trimEnd() + '\n' + (c.CertChain || '').trim() + '\n'));
  actions.append(pemBtn, chainBtn);
  if (c.Status === 'ISSUE') {
    const revokeBtn = h('button', { id: 'revoke-button', type: 'button', class: 'danger' }, 'Revoke…');
    revokeBtn.addEventListener('click', async () => {
      const ok = await ctx.confirmAction('Revoke this certificate?',
        `“${c.CommonName}” (serial ${c.SerialNumber}) will be listed as revoked in the CRL and answered as revoked by OCSP. ` +
        'This cannot be undone.', 'Revoke');
      if (!ok) {
        return;
      }
      revokeBtn.disabled = true;
      try {
        await api.call('CreateRevokeClientCertificate', { Identifier: c.Identifier });
        ctx.flash('The certificate is revoked.', 'ok');
      } catch (err) {
        ctx.flash(errorBox(err));
      }
      ctx.go('#/cert/' + encodeURIComponent(c.Identifier), true);
    });
    actions.append(revokeBtn);
  }

  const issuerLink = issuer
    ? h('a', { href: '#/cas', title: c.ParentIdentifier }, issuer.CommonName || c.ParentIdentifier)
    : (c.ParentIdentifier || '');

  const tags = (c.Tags || []).map((t) => h('span', { class: 'tag' }, `${t.TagKey}=${t.TagValue}`));

  return h('div', { class: 'page' },
    h('div', { class: 'page-head' },
      h('div', null,
        h('p', { class: 'crumbs' }, h('a', { href: '#/certs' }, 'Certificates'), ' / ', typeLabel(c.CertificateType)),
        h('h1', { id: 'cert-title' }, c.CommonName || c.Identifier)),
      badge(c.Status, notBefore, notAfter, { id: 'cert-status' })),
    h('section', { class: 'panel' }, h('h2', null, 'Validity'), timeline(notBefore, notAfter, revokedAt), actions),
    h('div', { class: 'grid2' },
      h('section', { class: 'panel' }, h('h2', null, 'Subject'), dl([
        ['Common name', c.CommonName, 'cn'],
        ['Organization', c.Organization],
        ['Organizational unit', c.OrganizationUnit],
        ['Locality', c.Locality],
        ['State', c.State],
        ['Country', c.CountryCode],
        ['Distinguished name', c.SubjectDN, 'mono'],
      ], { id: 'subject' }), h('h3', null, 'Subject alternative names'), sanList),
      h('section', { class: 'panel' }, h('h2', null, 'Certificate'), dl([
        ['Type', typeLabel(c.CertificateType)],
        ['Status', c.Status],
        ['Issued by', issuerLink],
        ['Identifier', c.Identifier, 'mono'],
        ['Serial number', c.SerialNumber, 'mono'],
        ['Key', [c.FullAlgorithm || c.Algorithm, c.KeySize ? ` (${c.KeySize} bits)` : ''].join('')],
        ['Signature', c.SignAlgorithm],
        ['SHA-256', c.Sha2, 'mono'],
        ['MD5', c.Md5, 'mono'],
        ['Alias', c.AliasName],
        ['Custom identifier', c.CustomIdentifier],
        ['Resource group', c.ResourceGroupId],
        ['Tags', tags.length ? tags : ''],
      ], { id: 'details' }))),
    h('details', { class: 'panel' }, h('summary', null, 'PEM'), h('pre', { class: 'pem', id: 'pem' }, c.X509Certificate || '')),
    exportKeyForm(c));
}
