// The audit trail: every operator action across instances, newest first: who did what, why,
// when, and what it changed. Filters by actor, action, instance and time; refreshes every 10 s.
import { get, query } from './api.js';
import { fill, h, table, toLocalInput, toUtc, when } from './dom.js';

const ACTIONS = ['retry', 'skip', 'goto', 'cancel', 'patch', 'resolve', 'migrate'];

function filters(params) {
  const actor = h('input', { id: 'a-actor', name: 'actor', value: params.get('actor') || '', autocomplete: 'off', size: 12 });
  const action = h('select', { id: 'a-action', name: 'action' }, h('option', { value: '' }, 'any'),
    ACTIONS.map((a) => h('option', { value: a, selected: params.get('action') === a }, a)));
  const instance = h('input', { id: 'a-instance', name: 'instance', value: params.get('instance') || '', autocomplete: 'off', size: 28 });
  const after = h('input', { id: 'a-after', type: 'datetime-local', value: toLocalInput(params.get('after')) });
  const before = h('input', { id: 'a-before', type: 'datetime-local', value: toLocalInput(params.get('before')) });
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
    location.hash = `#/audit${query({ actor: actor.value.trim(), action: action.value, instance: instance.value.trim(), after: toUtc(after.value), before: toUtc(before.value) })}`;
  });
  return form;
}

function change(entry) {
  if (!entry.before || !entry.after) return '';
  return `${entry.before.status} at ${entry.before.step} → ${entry.after.status} at ${entry.after.step}`;
}

export async function render(ctx) {
  const { params } = ctx;
  const results = h('div', {});
  const draw = async () => {
    const page = await get(`/v1/audit${query({ actor: params.get('actor'), action: params.get('action'), instance: params.get('instance'), after: params.get('after'), before: params.get('before'), cursor: params.get('cursor'), limit: 50 })}`);
    if (!ctx.current()) return;
    const next = new URLSearchParams(params);
    if (page.next_cursor) next.set('cursor', page.next_cursor);
    fill(results, table([
      { title: 'When', cell: (e) => when(e.at) },
      { title: 'Who', cell: (e) => e.actor },
      { title: 'Action', cell: (e) => e.action },
      { title: 'Instance', cell: (e) => h('a', { href: `#/instance/${encodeURIComponent(e.instance_id)}` }, e.business_key || e.instance_id) },
      { title: 'Workflow', cell: (e) => e.workflow || '' },
      { title: 'Why', cell: (e) => e.reason },
      { title: 'Change', cell: change },
    ], page.items, { empty: 'No operator action matches.' }),
    h('nav', { class: 'pager', 'aria-label': 'Pages' },
      params.get('cursor') ? h('a', { href: `#/audit${query({ actor: params.get('actor'), action: params.get('action'), instance: params.get('instance'), after: params.get('after'), before: params.get('before') })}` }, '↑ Newest') : null,
      page.next_cursor ? h('a', { href: `#/audit?${next}` }, 'Older →') : null));
  };
  await draw();
  fill(ctx.main, h('h1', {}, 'Audit trail'),
    h('p', { class: 'note' }, 'Every operator action on every instance, newest first: who, what, why, and the status and step before and after. Live: refreshed every 10 s.'),
    filters(params), h('section', { class: 'panel', 'aria-label': 'Operator actions' }, results));
  ctx.every(10000, draw);
}
