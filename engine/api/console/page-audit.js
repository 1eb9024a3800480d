// The audit trail: every operator action across instances, newest first: who did what, why,
// when, and what it changed. Filters by actor, action, instance and time; refreshes every 10 s.
import { get, query } from './api.js';
import { fill, h, instanceLink, table, toLocalInput, toUtc, when } from './dom.js';

const ACTIONS = ['retry', 'skip', 'goto', 'cancel', 'patch', 'resolve', 'migrate'];
const FILTERS = ['actor', 'action', 'instance', 'after', 'before'];

// The route's filters, as the API's query parameters.
function filtersOf(params) {
  return Object.fromEntries(FILTERS.map((name) => [name, params.get(name)]));
}

function filterForm(params) {
  const text = (name, size) =>
    h('input', { id: `a-${name}`, name, value: params.get(name) || '', autocomplete: 'off', size });
  const time = (name) => h('input', { id: `a-${name}`, type: 'datetime-local', value: toLocalInput(params.get(name)) });
  const actor = text('actor', 12);
  const instance = text('instance', 28);
  const action = h('select', { id: 'a-action', name: 'action' }, h('option', { value: '' }, 'any'),
    ACTIONS.map((a) => h('option', { value: a, selected: params.get('action') === a }, a)));
  const after = time('after');
  const before = time('before');
  const form = h('form', { class: 'filters panel', role: 'search', 'aria-label': 'Filters' },
    h('label', { for: 'a-actor' }, 'Who', actor),
    h('label', { for: 'a-action' }, 'Action', action),
    h('label', { for: 'a-instance' }, 'Instance id', instance),
    h('label', { for: 'a-after' }, 'From', after),
    h('label', { for: 'a-before' }, 'Before', before),
    h('button', { type: 'submit', class: 'primary' }, 'Apply'),
    h('button', { type: 'button', onclick: () => { location.hash = '#/audit'; } }, 'Clear'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    location.hash = `#/audit${query({
      actor: actor.value.trim(), action: action.value, instance: instance.value.trim(),
      after: toUtc(after.value), before: toUtc(before.value),
    })}`;
  });
  return form;
}

function change(entry) {
  if (!entry.before || !entry.after) return '';
  return `${entry.before.status} at ${entry.before.step} → ${entry.after.status} at ${entry.after.step}`;
}

const COLUMNS = [
  { title: 'When', cell: (e) => when(e.at) },
  { title: 'Who', cell: (e) => e.actor },
  { title: 'Action', cell: (e) => e.action },
  { title: 'Instance', cell: (e) => instanceLink(e.instance_id, e.business_key) },
  { title: 'Workflow', cell: (e) => e.workflow || '' },
  { title: 'Why', cell: (e) => e.reason },
  { title: 'Change', cell: change },
];

export async function render(ctx) {
  const { params } = ctx;
  const filters = filtersOf(params);
  const results = h('div', {});
  const draw = async () => {
    const page = await get(`/v1/audit${query({ ...filters, cursor: params.get('cursor'), limit: 50 })}`);
    if (!ctx.current()) return;
    fill(results,
      table(COLUMNS, page.items, { empty: 'No operator action matches.' }),
      h('nav', { class: 'pager', 'aria-label': 'Pages' },
        params.get('cursor') ? h('a', { href: `#/audit${query(filters)}` }, '↑ Newest') : null,
        page.next_cursor
          ? h('a', { href: `#/audit${query({ ...filters, cursor: page.next_cursor })}` }, 'Older →') : null));
  };
  await draw();
  fill(ctx.main, h('h1', {}, 'Audit trail'),
    h('p', { class: 'note' }, 'Every operator action on every instance, newest first: who, what, why, and the ',
      'status and step before and after. Live: refreshed every 10 s.'),
    filterForm(params), h('section', { class: 'panel', 'aria-label': 'Operator actions' }, results));
  ctx.every(10000, draw);
}
