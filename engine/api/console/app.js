// The console's shell: signing in with an API token, the pages behind #/ routes, and the
// polling that keeps an open page current. A page gets a context:
//   main     the element to fill
//   session  who is signed in: {name, role, may: {read, act, signal, start, deploy}}
//   parts    the route's path parts after the page name; params its query (URLSearchParams)
//   every(ms, fn)  runs fn every ms while the page is open and the tab visible, one at a time
import { ApiError, clearToken, get, setToken, token, whenUnauthorized } from './api.js';
import { fill, h, problemText } from './dom.js';
import * as audit from './page-audit.js';
import * as instance from './page-instance.js';
import * as instances from './page-instances.js';
import * as overview from './page-overview.js';
import * as workflows from './page-workflows.js';

const PAGES = {
  overview: overview.render,
  stuck: instances.renderStuck,
  instances: instances.renderList,
  instance: instance.render,
  workflows: workflows.render,
  audit: audit.render,
};

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
const signOutButton = document.getElementById('sign-out');

let session = null;
let timers = [];
let generation = 0;

function route() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, search = ''] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const page = parts.shift() || 'overview';
  return { page, parts, params: new URLSearchParams(search) };
}

function stopTimers() {
  for (const timer of timers) clearInterval(timer);
  timers = [];
}

function every(ms, fn) {
  let busy = false;
  const mine = generation;
  const timer = setInterval(async () => {
    if (busy || document.hidden || mine !== generation) return;
    busy = true;
    try {
      await fn();
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) console.warn('refresh failed:', err);
    } finally {
      busy = false;
    }
  }, ms);
  timers.push(timer);
}

async function show() {
  stopTimers();
  generation += 1;
  const mine = generation;
  if (!session) return;
  const { page, parts, params } = route();
  for (const link of nav.querySelectorAll('a')) {
    const active = link.dataset.page === page || (page === 'instance' && link.dataset.page === 'instances');
    if (active) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const render = PAGES[page];
  if (!render) {
    fill(main, h('h1', {}, 'Not found'),
      h('p', {}, 'There is no such page. ', h('a', { href: '#/overview' }, 'Go to the overview.')));
    return;
  }
  fill(main, h('p', { class: 'note' }, 'Loading…'));
  try {
    await render({ main, session, parts, params, every, current: () => mine === generation });
    // When a page had its data on screen, for anyone measuring the console (the browser test does).
    if (mine === generation) performance.mark(`rmaflow:${page}`);
  } catch (err) {
    if (mine !== generation) return;
    if (err instanceof ApiError && err.status === 401) return;
    fill(main, h('h1', {}, 'This page could not be shown'),
      h('p', { class: 'error', role: 'alert' }, problemText(err)));
  }
}

function signedIn(me) {
  session = me;
  nav.hidden = false;
  signOutButton.hidden = false;
  fill(who, `${me.name} (${me.role})`);
}

function signOut(message) {
  clearToken();
  session = null;
  stopTimers();
  generation += 1;
  nav.hidden = true;
  signOutButton.hidden = true;
  fill(who);
  showSignIn(message);
}

function showSignIn(message) {
  const input = h('input', {
    type: 'password', name: 'token', id: 'token', required: true, autocomplete: 'off', spellcheck: 'false', placeholder: 'rmf_…',
  });
  const error = h('p', { class: 'error', role: 'alert' }, message || '');
  const form = h('form', { class: 'panel', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in'),
    h('p', { class: 'note' }, 'Paste an API token (rmaflow token add --role operator or viewer). ',
      'It is kept in this tab only and sent with each request; closing the tab forgets it.'),
    h('label', { for: 'token' }, 'API token', input),
    error,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (!value) return;
    setToken(value);
    try {
      const me = await get('/v1/me');
      if (!me.may.read) {
        clearToken();
        fill(error, `Token ${me.name} has the role ${me.role}, which may not read instances; `,
          'the console needs a viewer, operator or admin token.');
        return;
      }
      signedIn(me);
      if (!location.hash || location.hash === '#' || location.hash === '#/') location.hash = '#/overview';
      else show();
      main.focus();
    } catch (err) {
      clearToken();
      const unknown = err instanceof ApiError && err.status === 401;
      fill(error, unknown ? 'The server does not know this token.' : problemText(err));
    }
  });
  fill(main, h('div', { class: 'signin' }, form));
  input.focus();
}

async function start() {
  whenUnauthorized(() => signOut('The server no longer takes this token; sign in again.'));
  signOutButton.addEventListener('click', () => signOut('Signed out.'));
  document.querySelector('.skip').addEventListener('click', (event) => {
    event.preventDefault();
    main.focus();
  });
  window.addEventListener('hashchange', () => {
    show();
    main.focus({ preventScroll: true });
  });
  if (!token()) {
    showSignIn();
    return;
  }
  try {
    signedIn(await get('/v1/me'));
    show();
  } catch (err) {
    signOut(err instanceof ApiError && err.status === 401 ? '' : problemText(err));
  }
}

start();
