// Building the page. Everything that comes from the server (RMA inputs, adapter errors,
// reasons, step names) becomes text nodes or attribute values here, never markup: nothing in
// the console parses HTML.

// h('a', {href: '#/x', class: 'pick'}, 'text', child, [more]) -> an element. Attributes are
// set with setAttribute (a function value named on* becomes an event listener); children are
// nodes or strings (text nodes); null, undefined and false are skipped; arrays are flattened.
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function' && name.startsWith('on')) {
      element.addEventListener(name.slice(2), value);
    } else if (value === true) {
      element.setAttribute(name, '');
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

export function append(parent, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

// Replaces an element's content.
export function fill(element, ...children) {
  element.replaceChildren();
  return append(element, children);
}

const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const absoluteFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric',
  hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short',
});
const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

export function absolute(iso) {
  return absoluteFormat.format(new Date(iso));
}

// "3 minutes ago", "in 2 days".
export function relative(iso, now = Date.now()) {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const steps = [[60, 'second'], [60, 'minute'], [24, 'hour'], [30, 'day'], [12, 'month'], [Infinity, 'year']];
  let value = seconds;
  for (const [size, unit] of steps) {
    if (Math.abs(value) < size) return relativeFormat.format(value, unit);
    value = Math.round(value / size);
  }
  return relativeFormat.format(value, 'year');
}

// A time, relative and absolute in the viewer's zone: "3 minutes ago · 2 Jun 2025, 10:04:05 CEST".
export function when(iso) {
  if (!iso) return h('span', { class: 'note' }, '—');
  return h('time', { datetime: iso, title: `${absolute(iso)} (${zone})` }, `${relative(iso)} · ${absolute(iso)}`);
}

const shortFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

// A time in a table: relative, and below it the absolute time in the viewer's zone (to the
// second in its title).
export function ago(iso) {
  if (!iso) return h('span', { class: 'note' }, '—');
  return h('time', { datetime: iso, title: `${absolute(iso)} (${zone})` },
    relative(iso), h('span', { class: 'abs' }, shortFormat.format(new Date(iso))));
}

// How long since: "2 h 5 min".
export function age(iso, now = Date.now()) {
  let minutes = Math.max(0, Math.round((now - new Date(iso).getTime()) / 60000));
  const days = Math.floor(minutes / 1440);
  minutes -= days * 1440;
  const hours = Math.floor(minutes / 60);
  minutes -= hours * 60;
  if (days > 0) return `${days} d ${hours} h`;
  if (hours > 0) return `${hours} h ${minutes} min`;
  return `${minutes} min`;
}

// How long since a moment, and below it the moment in the viewer's zone:
// "2 h 5 min" over "Jun 2, 2025, 8:00 AM".
export function since(iso) {
  return h('time', { datetime: iso, title: `since ${absolute(iso)} (${zone})` },
    age(iso), h('span', { class: 'abs' }, shortFormat.format(new Date(iso))));
}

export function badge(status) {
  return h('span', { class: `badge ${status}` }, status);
}

// A JSON value as a tree: objects and arrays fold (<details>), the first `openDepth` levels open.
export function jsonView(value, openDepth = 1) {
  return h('div', { class: 'json' }, jsonNode(null, value, 0, openDepth));
}

function jsonNode(key, value, depth, openDepth) {
  const label = key === null ? null : h('span', { class: 'key' }, `${key}: `);
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
    const summary = Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`;
    if (entries.length === 0) return h('div', {}, label, summary);
    return h('details', { open: depth < openDepth },
      h('summary', {}, label, summary),
      h('ul', {}, entries.map(([k, v]) => h('li', {}, jsonNode(k, v, depth + 1, openDepth)))));
  }
  let kind = 'literal';
  let text = String(value);
  if (typeof value === 'string') {
    kind = 'string';
    text = JSON.stringify(value);
  } else if (typeof value === 'number') {
    kind = 'number';
  }
  return h('div', {}, label, h('span', { class: kind }, text));
}

// The sentence a refusal carries, as the server wrote it.
export function problemText(err) {
  const problem = err.problem || {};
  const detail = problem.detail || err.message || 'the request failed';
  return problem.pointer ? `${detail} (at ${problem.pointer})` : detail;
}

let toastTimer = null;
export function toast(message) {
  const box = document.getElementById('toast');
  fill(box, message);
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => fill(box), 6000);
}

// A table from rows: columns [{title, cell(row) -> node|string, num?}], an optional link per row.
export function table(columns, rows, { empty = 'Nothing here.', link, caption } = {}) {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty);
  const head = h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.title)));
  const body = rows.map((row) => {
    const tr = h('tr', {}, columns.map((c) => h('td', { class: c.num ? 'num' : null }, c.cell(row))));
    if (link) {
      const target = link(row);
      tr.classList.add('pick');
      tr.addEventListener('click', (event) => {
        if (event.target.closest('a, button, input, select, textarea')) return;
        location.hash = target;
      });
    }
    return tr;
  });
  return h('div', { class: 'table-wrap' }, h('table', {}, caption ? h('caption', { class: 'note' }, caption) : null,
    h('thead', {}, head), h('tbody', {}, body)));
}

// A datetime-local value (the viewer's zone) as the API's UTC time, and back.
export function toUtc(local) {
  if (!local) return '';
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? '' : `${date.toISOString().slice(0, 19)}Z`;
}

export function toLocalInput(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return shifted.toISOString().slice(0, 16);
}

// A titled panel of a page: panel('Timeline', children...) -> <section> labelled by its <h2>.
let panels = 0;
export function panel(title, ...children) {
  const id = `panel-${(panels += 1)}`;
  return h('section', { class: 'panel', 'aria-labelledby': id }, h('h2', { id }, title), children);
}

// Where an instance's page is, and a link to it named by its business key.
export function instanceHref(id) {
  return `#/instance/${encodeURIComponent(id)}`;
}

export function instanceLink(id, businessKey) {
  return h('a', { href: instanceHref(id) }, businessKey || id);
}

export const STATUSES = ['running', 'waiting', 'suspended', 'compensating',
  'completed', 'rejected', 'expired', 'cancelled', 'failed', 'compensated'];
export const FINAL = ['completed', 'rejected', 'expired', 'cancelled', 'failed', 'compensated'];
// The unfinished statuses, as a list filter takes them.
export const UNFINISHED = 'running,waiting,suspended,compensating';
