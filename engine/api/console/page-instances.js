// The instance list (filters, keyset paging, bulk retry of what a filter matches) and the stuck
// queue (reason, age, team). Both refresh every 5 seconds while open.
import { get, post, query } from './api.js';
import {
  ago, badge, fill, h, instanceHref, instanceLink, problemText, since, table, toLocalInput, toUtc, STATUSES,
} from './dom.js';

const PAGE_SIZE = 50;
const LIST_FILTERS = ['status', 'workflow', 'version', 'step', 'business_key', 'created_after', 'created_before'];

// The search attribute filter as typed ("customer_id=C-105 value>=100 value<500") as the API
// takes it: {"attr.customer_id": "C-105", "attr.value": ">=100,<500"}. What does not read as a
// condition is passed on for the server to name what is wrong with it.
export function attributeParams(text) {
  const out = {};
  for (const part of (text || '').split(/\s+/).filter(Boolean)) {
    const m = /^([^<>=]+)(>=|<=|=|>|<)(.*)$/.exec(part);
    if (!m) {
      out[`attr.${part}`] = '=';
      continue;
    }
    const [, name, op, value] = m;
    const key = `attr.${name}`;
    const condition = op === '=' ? value : `${op}${value}`;
    out[key] = out[key] ? `${out[key]},${condition}` : condition;
  }
  return out;
}

const keyCell = (row) => instanceLink(row.id, row.business_key);
const rowLink = (row) => instanceHref(row.id);

const COLUMNS = [
  { title: 'Business key', cell: keyCell },
  { title: 'Workflow', cell: (r) => `${r.workflow} v${r.version}` },
  { title: 'Status', cell: (r) => badge(r.status) },
  { title: 'Step', cell: (r) => r.step },
  { title: 'Updated', cell: (r) => ago(r.updated_at) },
  { title: 'Created', cell: (r) => ago(r.created_at) },
];

async function workflowNames() {
  const data = await get('/v1/workflows');
  return data.items.map((w) => w.name);
}

function options(values, selected) {
  const list = [h('option', { value: '' }, 'any'), values.map((v) => h('option', { value: v, selected: selected === v }, v))];
  // A value the list does not offer (several statuses from a link) stays selected as it is.
  if (selected && !values.includes(selected)) list.push(h('option', { value: selected, selected: true }, selected));
  return list;
}

// The filter form; `fields` names the filters it shows. Submitting moves to #/<page>?<filters>.
function filterForm(page, params, names, fields) {
  const controls = {};
  const parts = [];
  const add = (name, label, control) => {
    controls[name] = control;
    parts.push(h('label', { for: `f-${name}` }, label, control));
  };
  if (fields.includes('status')) {
    add('status', 'Status', h('select', { name: 'status', id: 'f-status' }, options(STATUSES, params.get('status'))));
  }
  add('workflow', 'Workflow', h('select', { name: 'workflow', id: 'f-workflow' }, options(names, params.get('workflow'))));
  for (const [name, label] of [['step', 'Step'], ['business_key', 'Business key'], ['attrs', 'Attributes'], ['team', 'Team']]) {
    if (!fields.includes(name)) continue;
    add(name, label, h('input', { name, id: `f-${name}`, value: params.get(name) || '', autocomplete: 'off', size: 14 }));
  }
  if (fields.includes('time')) {
    for (const [name, label] of [['created_after', 'Created from'], ['created_before', 'Created before']]) {
      add(name, label, h('input', { type: 'datetime-local', name, id: `f-${name}`, value: toLocalInput(params.get(name)) }));
    }
  }
  const clear = h('button', { type: 'button', onclick: () => { location.hash = `#/${page}`; } }, 'Clear');
  const form = h('form', { class: 'filters panel', role: 'search', 'aria-label': 'Filters' }, parts,
    h('button', { type: 'submit', class: 'primary' }, 'Apply'), clear);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = {};
    for (const [name, control] of Object.entries(controls)) {
      next[name] = name.startsWith('created_') ? toUtc(control.value) : control.value.trim();
    }
    if (params.get('version') && next.workflow === params.get('workflow')) next.version = params.get('version');
    location.hash = `#/${page}${query(next)}`;
  });
  return form;
}

// Keyset paging: the cursors of the pages before this one are kept in the route (`back`; "-"
// stands for the first page).
function pager(page, params, nextCursor) {
  const back = (params.get('back') || '').split(',').filter(Boolean);
  const to = (cursor, stack) => {
    const next = new URLSearchParams(params);
    if (cursor) next.set('cursor', cursor); else next.delete('cursor');
    if (stack.length) next.set('back', stack.join(',')); else next.delete('back');
    return `#/${page}?${next}`;
  };
  const current = params.get('cursor') || '';
  const previous = back.length ? back[back.length - 1] : '-';
  return h('nav', { class: 'pager', 'aria-label': 'Pages' },
    current ? h('a', { href: to(previous === '-' ? '' : previous, back.slice(0, -1)) }, '← Previous page') : null,
    nextCursor ? h('a', { href: to(nextCursor, [...back, current || '-']) }, 'Next page →') : null);
}

export async function renderList(ctx) {
  const { params, session } = ctx;
  const names = await workflowNames();
  const results = h('div', {});
  const stamp = h('p', { class: 'live' });
  const filters = Object.fromEntries(LIST_FILTERS.map((name) => [name, params.get(name)]));
  const draw = async () => {
    const page = await get(`/v1/instances${query({
      ...filters, ...attributeParams(params.get('attrs')), limit: PAGE_SIZE, cursor: params.get('cursor'),
    })}`);
    if (!ctx.current()) return;
    fill(results, table(COLUMNS, page.items, { empty: 'No instance matches.', link: rowLink }),
      pager('instances', params, page.next_cursor));
    const more = page.next_cursor ? ', more on the next page' : '';
    fill(stamp, `Live: refreshed every 5 s. ${page.items.length} shown${more}.`);
  };
  await draw();
  fill(
      ctx.main, h('h1', {}, 'Instances'),
      filterForm('instances', params, names, ['status', 'step', 'business_key', 'attrs', 'time']),
      session.may.act ? bulkBar(params) : null, stamp,
      h('section', {class: 'panel', 'aria-label': 'Instances'}, results));
  ctx.every(5000, draw);
}

const UNFINISHED = ['running', 'waiting', 'suspended', 'compensating'];

// The bulk actions (POST /v1/actions/{kind}): what each is called, the statuses it takes when
// the list's filter names none, and whether it takes paused instances (pause: only those not
// paused yet; resume: only paused ones).
const BULK = {
  retry: {
    button: 'Retry what this filter matches…',
    title: 'Bulk retry',
    verb: 'Retries',
    submit: 'Retry them',
    busy: 'Retrying…',
    done: 'retried',
    status: ['suspended']
  },
  pause: {
    button: 'Pause…',
    title: 'Bulk pause',
    verb: 'Pauses',
    submit: 'Pause them',
    busy: 'Pausing…',
    done: 'paused',
    status: UNFINISHED,
    paused: false
  },
  resume: {
    button: 'Resume…',
    title: 'Bulk resume',
    verb: 'Resumes',
    submit: 'Resume them',
    busy: 'Resuming…',
    done: 'resumed',
    status: UNFINISHED,
    paused: true
  },
};

// The filter a bulk action takes: status, workflow, version, step. The list's other filters
// (business key, time range) it does not take.
function bulkFilter(kind, params) {
  const filter = {
    status: params.get('status') ? params.get('status').split(',') : BULK[kind].status
  };
  for (const name of ['workflow', 'step']) if (params.get(name)) filter[name] = params.get(name);
  if (params.get('version')) filter.version = Number(params.get('version'));
  return filter;
}

function bulkBar(params) {
  const unsupported = ['business_key', 'attrs', 'created_after', 'created_before'].filter((n) => params.get(n));
  const buttons = Object.keys(BULK).map(
      (kind) =>
          h('button', {
            type: 'button',
            'data-action': `bulk-${kind}`,
            disabled: unsupported.length > 0,
            onclick: () => openBulk(kind, params),
          },
            BULK[kind].button));
  const note = unsupported.length ?
      h('span', {class: 'note'},
        `Bulk actions filter by status, workflow, version and step only; clear ${
            unsupported.join(', ')} to use them.`) :
      null;
  return h('div', {class: 'actions'}, buttons, note);
}

function describeFilter(kind, filter) {
  const paused = BULK[kind].paused;
  return [
    paused ? 'every paused instance' : 'every instance',
    ` with status ${filter.status.join(' or ')}`, paused === false ? ' not paused yet' : '',
    filter.workflow ? ` of workflow ${filter.workflow}` : '',
    filter.version ? ` version ${filter.version}` : '', filter.step ? ` at step ${filter.step}` : ''
  ].join('');
}

function reportOf(kind, report) {
  const stopped = report.stopped ? '; stopped by the server' : '';
  const done = BULK[kind].done;
  const refusals = report.refused.length
    ? table([{ title: 'Instance', cell: keyCell }, { title: 'Refused because', cell: (r) => r.detail }], report.refused)
    : null;
  return h(
      'div', {class: 'result'},
      h('p', {},
        `Matched ${report.matched}; ${done} ${report[done].length}; refused ${
            report.refused.length}${stopped}.`),
      refusals,
      report.next_cursor ? h('p', {class: 'note'},
                             'More match: send it again to continue from where this stopped.') :
                           null);
}

// A bulk action in a dialog: first what the filter matches now (the preview), then the reason,
// then the server's report; a limit that cut the run short continues from its cursor.
async function openBulk(kind, params) {
  const spec = BULK[kind];
  const filter = bulkFilter(kind, params);
  const preview = h('div', { class: 'preview' }, h('p', { class: 'note' }, 'Looking up what it would touch…'));
  const reason = h('textarea', { name: 'reason', rows: 2, required: true, class: 'reason' });
  const limit = h('input', { type: 'number', name: 'limit', min: 1, max: 1000, value: 100 });
  const rate = h('input', { type: 'number', name: 'per_second', min: 1, max: 1000, value: 10 });
  const outcome = h('div', { role: 'alert', 'aria-live': 'assertive' });
  const submit = h('button', {type: 'submit', class: 'primary', disabled: true}, spec.submit);
  const close = h('button', { type: 'button' }, 'Close');
  const form =
      h('form', {method: 'dialog', novalidate: true}, h('h2', {}, spec.title),
        h('p', {class: 'note'},
          `${spec.verb}, one after another, ${
              describeFilter(kind, filter)}. Each is audited with your reason.`),
        preview, h('label', {}, 'Reason (recorded for each instance)', reason),
        h('div', {class: 'filters'}, h('label', {}, 'At most', limit),
          h('label', {}, 'Per second', rate)),
        outcome, h('div', {class: 'actions'}, submit, close));
  const dialog = h('dialog', {class: `bulk-${kind}`, 'aria-label': spec.title}, form);
  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  reason.focus();

  try {
    const { status, ...rest } = filter;
    const paused = spec.paused === undefined ? undefined : String(spec.paused);
    const page =
        await get(`/v1/instances${query({...rest, status: status.join(','), paused, limit: 100})}`);
    const more = page.next_cursor ? ' or more (the first 100 shown)' : '';
    fill(
        preview, h('p', {}, `It would touch ${page.items.length}${more} instance(s):`),
        table(
            [
              {title: 'Business key', cell: keyCell},
              {title: 'Status', cell: (r) => badge(r.status)},
              {title: 'Step', cell: (r) => r.step},
            ],
            page.items, {empty: 'Nothing matches: there is nothing to do.'}));
    submit.disabled = page.items.length === 0;
  } catch (err) {
    fill(preview, h('p', { class: 'problem' }, problemText(err)));
  }

  let cursor = null;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!reason.value.trim()) {
      fill(outcome, h('p', { class: 'problem' }, 'give a reason: it goes into the audit trail'));
      return;
    }
    submit.disabled = true;
    fill(
        outcome,
        h('p', {class: 'note'}, `${spec.busy} (the answer comes when every one is committed)`));
    try {
      const body = { reason: reason.value.trim(), filter, limit: Number(limit.value) || 100, per_second: Number(rate.value) || 10 };
      if (cursor) body.cursor = cursor;
      const report = await post(`/v1/actions/${kind}`, body);
      cursor = report.next_cursor;
      fill(outcome, reportOf(kind, report));
      submit.disabled = !cursor;
      if (cursor) submit.textContent = 'Continue';
    } catch (err) {
      submit.disabled = false;
      fill(outcome, h('p', { class: 'problem' }, problemText(err)));
    }
  });
}

const STUCK_COLUMNS = [
  { title: 'Business key', cell: keyCell },
  { title: 'Workflow', cell: (r) => `${r.workflow} v${r.version}` },
  { title: 'Step', cell: (r) => r.step },
  { title: 'Reason', cell: (r) => h('span', { class: ['incident', 'compensation'].includes(r.reason_kind) ? 'error' : null }, r.reason) },
  { title: 'Team', cell: (r) => r.team || '' },
  { title: 'Team SLA', cell: (r) => (r.past_team_sla ? h('span', { class: 'error' }, 'breached') : (r.team_due_at ? ago(r.team_due_at) : '')) },
  { title: 'Stuck for', cell: (r) => since(r.stuck_since) },
  { title: 'SLA', cell: (r) => (r.past_sla ? h('span', { class: 'error' }, 'breached') : '') },
];

export async function renderStuck(ctx) {
  const { params } = ctx;
  const names = await workflowNames();
  const results = h('div', {});
  const stamp = h('p', { class: 'live' });
  const filters = { workflow: params.get('workflow'), step: params.get('step'), team: params.get('team') };
  const draw = async () => {
    const page = await get(`/v1/instances${query({ ...filters, stuck: 'true', limit: PAGE_SIZE, cursor: params.get('cursor') })}`);
    if (!ctx.current()) return;
    // The team column appears once incidents name teams.
    const columns = page.items.some((r) => r.team) ? STUCK_COLUMNS : STUCK_COLUMNS.filter((c) => !c.title.startsWith('Team'));
    fill(results, table(columns, page.items, { empty: 'Nothing is stuck.', link: rowLink }),
      pager('stuck', params, page.next_cursor));
    const more = page.next_cursor ? ' on this page, more on the next' : '';
    fill(stamp, `Live: refreshed every 5 s. ${page.items.length} stuck${more}.`);
  };
  await draw();
  fill(ctx.main, h('h1', {}, 'Stuck queue'),
    h('p', { class: 'note' }, 'What needs a person: suspended instances (an incident), waits past their deadline, ',
      'instances past their SLA. Oldest first.'),
    filterForm('stuck', params, names, ['step', 'team']),
    stamp, h('section', { class: 'panel', 'aria-label': 'Stuck instances' }, results));
  ctx.every(5000, draw);
}
