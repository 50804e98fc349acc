// The console's entry point: sign-in, the router (routes live in the
// location hash, so a reload keeps the page but asks to sign in again),
// the top bar, messages and the confirmation dialog.

import * as api from './api.js';
import { h, replace, errorBox } from './dom.js';
import { overviewPage } from './overview.js';
import { inventoryPage } from './inventory.js';
import { certPage } from './cert.js';
import { caTreePage } from './cas.js';
import { issuePage } from './issue.js';

const view = document.getElementById('view');
let renderSeq = 0;

// route parses the location hash: "#/certs?Status=ISSUE" ->
// { name: 'certs', arg: '', params: URLSearchParams }.
export function route() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path, query] = hash.split('?', 2);
  const [name, ...rest] = path.split('/');
  return { name: name || 'overview', arg: rest.map(safeDecode).join('/'), params: new URLSearchParams(query || '') };
}

function safeDecode(s) {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

// keepFlash keeps the message of an action (set just before go) on the
// page the action leads to; any other navigation clears it.
let keepFlash = false;

// go navigates to an in-console route; with keep, the current message stays.
export function go(hash, keep = false) {
  if (location.hash === hash) {
    if (!keep) {
      flash('');
    }
    render();
  } else {
    keepFlash = keep;
    location.hash = hash;
  }
}

// flash shows a message above the page until the next navigation.
export function flash(message, kind = 'error') {
  const el = document.getElementById('flash');
  if (!message) {
    el.hidden = true;
    el.replaceChildren();
    return;
  }
  el.className = 'flash flash-' + kind;
  replace(el, message instanceof Node ? message : String(message));
  el.hidden = false;
}

// confirmAction asks in a modal dialog; it resolves to true on the confirm button.
export function confirmAction(title, message, okLabel) {
  const dlg = document.getElementById('confirm-dialog');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-message').textContent = message;
  const ok = document.getElementById('confirm-ok');
  const cancel = document.getElementById('confirm-cancel');
  ok.textContent = okLabel;
  return new Promise((resolve) => {
    const done = (value) => {
      ok.removeEventListener('click', onOk);
      cancel.removeEventListener('click', onCancel);
      dlg.removeEventListener('close', onClose);
      if (dlg.open) {
        dlg.close();
      }
      resolve(value);
    };
    const onOk = () => done(true);
    const onCancel = () => done(false);
    const onClose = () => done(false);
    ok.addEventListener('click', onOk);
    cancel.addEventListener('click', onCancel);
    dlg.addEventListener('close', onClose);
    dlg.showModal();
    cancel.focus();
  });
}

const pages = {
  overview: overviewPage,
  certs: inventoryPage,
  cert: certPage,
  cas: caTreePage,
  issue: issuePage,
};

const navIds = { overview: 'nav-overview', certs: 'nav-certs', cert: 'nav-certs', cas: 'nav-cas', issue: 'nav-issue' };

function setChrome() {
  const inside = api.signedIn();
  document.getElementById('nav').hidden = !inside;
  document.getElementById('who').hidden = !inside;
  document.getElementById('who-key').textContent = api.accessKeyId();
}

// render draws the page the hash names. A page is an async function that
// returns a Node; if the user navigates meanwhile, its result is dropped.
export async function render() {
  const seq = ++renderSeq;
  setChrome();
  view.removeAttribute('data-view');
  if (!api.signedIn()) {
    replace(view, signInPage());
    view.dataset.view = 'signin';
    document.title = 'Sign in · pcad console';
    document.getElementById('signin-id').focus();
    return;
  }
  const r = route();
  const page = pages[r.name] || overviewPage;
  for (const [name, id] of Object.entries(navIds)) {
    document.getElementById(id).classList.toggle('active', name === r.name);
  }
  view.setAttribute('aria-busy', 'true');
  let node;
  try {
    node = await page(r, { go, flash, confirmAction, isCurrent: () => seq === renderSeq });
  } catch (err) {
    node = h('section', { class: 'panel' }, errorBox(err));
  }
  if (seq !== renderSeq) {
    return;
  }
  replace(view, node);
  view.removeAttribute('aria-busy');
  view.dataset.view = pages[r.name] ? r.name : 'overview';
}

function signInPage() {
  const id = h('input', { id: 'signin-id', name: 'id', autocomplete: 'username', required: true, spellcheck: 'false' });
  const secret = h('input', {
    id: 'signin-secret', name: 'secret', type: 'password', autocomplete: 'current-password', required: true,
  });
  const button = h('button', { id: 'signin-submit', type: 'submit', class: 'primary' }, 'Sign in');
  const status = h('div', { id: 'signin-status', role: 'status' });
  const form = h('form', { id: 'signin-form', class: 'panel signin', novalidate: true },
    h('h1', null, 'Sign in'),
    h('p', { class: 'muted' }, 'Use an AccessKey of your pcad account (for example from credentials.ini).'),
    h('label', null, 'AccessKey ID', id),
    h('label', null, 'AccessKey secret', secret),
    status,
    h('div', { class: 'actions' }, button),
    h('p', { class: 'fine' },
      'Requests are signed in this tab (ACS3-HMAC-SHA256). The secret never leaves it and is not stored: ' +
      'reloading the page signs you out.'));
  if (!api.secureContext()) {
    button.disabled = true;
    replace(status, errorBox({ code: 'Not a secure page', apiMessage:
      'Browsers offer the cryptography the console signs with only on HTTPS pages and on http://localhost ' +
      'or http://127.0.0.1. Open the console over HTTPS.' }));
  }
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const keyId = id.value.trim();
    const keySecret = secret.value;
    if (!keyId || !keySecret) {
      replace(status, errorBox({ code: 'Missing', apiMessage: 'Enter the AccessKey ID and secret.' }));
      return;
    }
    secret.value = ''; // the secret now exists only as a CryptoKey (and, briefly, in keySecret)
    button.disabled = true;
    replace(status, h('span', { class: 'muted' }, 'Signing in…'));
    try {
      await api.signIn(keyId, keySecret);
      flash('');
      render();
    } catch (err) {
      button.disabled = false;
      replace(status, errorBox(err));
      secret.focus();
    }
  });
  return form;
}

document.getElementById('signout').addEventListener('click', () => {
  api.signOut();
  flash('');
  render();
});

window.addEventListener('hashchange', () => {
  if (!keepFlash) {
    flash('');
  }
  keepFlash = false;
  render();
});

render();
