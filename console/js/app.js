// The console's shell: sign-in, the hash router (#/dashboard, #/movements/<id>, …) and the
// page chrome. Pages are functions that render into <main> from the operator API.
import { ApiError, role, signIn, signOut, signedIn } from './api.js';
import { errorText } from './pages/common.js';
import { h, mount, field } from './view.js';
import { dashboardPage } from './pages/dashboard.js';
import { movementsPage, movementPage } from './pages/movements.js';
import { settlementPage } from './pages/settlement.js';
import { reconciliationPage } from './pages/reconciliation.js';
import { auditPage } from './pages/audit.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');

const ROUTES = [
  [/^\/dashboard$/, () => dashboardPage],
  [/^\/movements$/, () => movementsPage],
  [/^\/movements\/([^/]+)$/, (m) => (root) => movementPage(root, decodeURIComponent(m[1]))],
  [/^\/settlement$/, () => settlementPage],
  [/^\/reconciliation$/, () => reconciliationPage],
  [/^\/audit$/, () => auditPage],
];

function currentPath() {
  const path = location.hash.replace(/^#/, '');
  return path.split('?')[0] || '/dashboard';
}

async function route() {
  if (!signedIn()) return showSignIn();
  const path = currentPath();
  let page = null;
  for (const [pattern, make] of ROUTES) {
    const m = pattern.exec(path);
    if (m) {
      page = make(m);
      break;
    }
  }
  for (const a of nav.querySelectorAll('a')) {
    const target = a.getAttribute('href').slice(1);
    if (path === target || path.startsWith(`${target}/`)) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!page) {
    mount(main, h('h1', { tabindex: '-1' }, 'Not found'), h('p', {}, h('a', { href: '#/dashboard' }, 'Go to the dashboard')));
    return focusHeading();
  }
  mount(main, h('p', { class: 'empty', role: 'status' }, 'Loading…'));
  try {
    await page(main);
  } catch (error) {
    // the key was withdrawn or rotated while the tab was open: back to sign-in, saying why
    if (error instanceof ApiError && error.status === 401) {
      signOut();
      mount(who);
      return showSignIn(errorText(error));
    }
    mount(main, h('h1', { tabindex: '-1' }, 'Something went wrong'), h('p', { class: 'alert', role: 'alert' }, errorText(error)));
  }
  focusHeading();
}

// After a page change the heading takes focus, so keyboard and screen-reader users start
// there (a page is only ever shown after signing in, so this never steals a first focus).
function focusHeading() {
  main.querySelector('h1')?.focus();
}

function showSignIn(message = '') {
  nav.hidden = true;
  who.hidden = true;
  const error = h('p', { class: 'alert', role: 'alert', id: 'signin-error' }, message);
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h(
    'form',
    { class: 'card signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title', tabindex: '-1' }, 'Sign in'),
    h('p', {}, 'Use your operator API key. It stays in this tab only, for as long as the tab is open.'),
    field('Operator key', { id: 'key', name: 'key', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false' }),
    error,
    h('div', { class: 'actions' }, button),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = form.querySelector('#key');
    const candidate = input.value.trim();
    error.textContent = '';
    if (!candidate) {
      error.textContent = 'key: enter your operator key';
      return input.focus();
    }
    button.disabled = true;
    try {
      await signIn(candidate);
      input.value = ''; // the key stays in the API module only
      showChrome();
      if (!location.hash || location.hash === '#/' || location.hash === '#') location.hash = '#/dashboard';
      else await route();
    } catch (err) {
      error.textContent = errorText(err);
      input.focus();
    } finally {
      button.disabled = false;
    }
  });
  mount(main, form);
}

function showChrome() {
  nav.hidden = false;
  who.hidden = false;
  const out = h('button', { type: 'button', class: 'secondary', id: 'sign-out' }, 'Sign out');
  out.addEventListener('click', () => {
    signOut();
    mount(who);
    showSignIn();
    main.querySelector('#key')?.focus();
  });
  mount(who, h('span', { id: 'role' }, `Role: ${role()}`), out);
}

window.addEventListener('hashchange', () => void route());
void route();

// The skip link must not touch the hash (it is the router's): it moves focus itself.
document.querySelector('.skip-link').addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});
