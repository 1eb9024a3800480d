// The instance list (filters, keyset paging, bulk jobs over what a filter matches) and the stuck
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

// The bulk actions, each a job the server stores and runs at a bounded rate (POST /v1/jobs):
// what each is called. Which instances each takes when the list's filter names no status is
// the server's to say; the dialog shows it from a dry run.
const BULK = {
  retry: { button: 'Retry what this filter matches…', title: 'Bulk retry', submit: 'Retry them', done: 'retried' },
  pause: { button: 'Pause…', title: 'Bulk pause', submit: 'Pause them', done: 'paused' },
  resume: { button: 'Resume…', title: 'Bulk resume', submit: 'Resume them', done: 'resumed' },
  cancel: { button: 'Cancel…', title: 'Bulk cancel', submit: 'Cancel them', done: 'cancelled' },
};

// The job's filter, from the list's: every filter of the list but the stuck queue's.
function bulkFilter(params) {
  const filter = {};
  if (params.get('status')) filter.status = params.get('status').split(',');
  for (const name of ['workflow', 'step', 'business_key', 'created_before']) if (params.get(name)) filter[name] = params.get(name);
  if (params.get('created_after')) filter.created_from = params.get('created_after');
  if (params.get('version')) filter.version = Number(params.get('version'));
  const attributes = (params.get('attrs') || '').split(/\s+/).filter((part) => /[<>=]/.test(part));
  if (attributes.length) filter.attributes = attributes;
  return filter;
}

function bulkBar(params) {
  const buttons = Object.keys(BULK).map((kind) =>
    h('button', { type: 'button', 'data-action': `bulk-${kind}`, onclick: () => openBulk(kind, params) }, BULK[kind].button));
  return h('div', { class: 'actions' }, buttons);
}

function describeFilter(filter) {
  const parts = [`status ${filter.status.join(' or ')}`];
  if (filter.paused === true) parts.push('paused');
  if (filter.paused === false) parts.push('not paused');
  if (filter.workflow) parts.push(`workflow ${filter.workflow}${filter.version ? ` v${filter.version}` : ''}`);
  if (filter.step) parts.push(`at step ${filter.step}`);
  if (filter.business_key) parts.push(`business key ${filter.business_key}`);
  if (filter.attributes) parts.push(filter.attributes.join(', '));
  return parts.join('; ');
}

// A job's progress and, once it has ended, its refusals.
async function jobReport(kind, job) {
  const state = job.state === 'running' ? 'Running' : `Job ${job.state}`;
  const line = h('p', {}, `${state}: ${BULK[kind].done} ${job.applied}; refused ${job.refused}.`);
  if (job.state === 'running' || !job.refused) return h('div', { class: job.state === 'running' ? 'progress' : 'result' }, line);
  const refused = await get(`/v1/jobs/${encodeURIComponent(job.id)}/items${query({ outcome: 'refused' })}`);
  return h('div', { class: 'result' }, line,
    table([{ title: 'Instance', cell: (r) => h('a', { href: `#/instance/${encodeURIComponent(r.instance_id)}` }, r.instance_id) },
      { title: 'Refused because', cell: (r) => r.detail }], refused.items));
}

// A bulk action in a dialog: first what the job would touch (a dry run on the server), then the
// reason and rate, then the job's progress until it ends (it goes on if the dialog is closed).
async function openBulk(kind, params) {
  const spec = BULK[kind];
  const filter = bulkFilter(params);
  const preview = h('div', { class: 'preview' }, h('p', { class: 'note' }, 'Looking up what it would touch…'));
  const reason = h('textarea', { name: 'reason', rows: 2, required: true, class: 'reason' });
  const rate = h('input', { type: 'number', name: 'per_second', min: 0.1, max: 1000, step: 'any', value: 10 });
  const compensate = kind === 'cancel' ? h('input', { type: 'checkbox', name: 'compensate' }) : null;
  const outcome = h('div', { role: 'alert', 'aria-live': 'assertive' });
  const submit = h('button', { type: 'submit', class: 'primary', disabled: true }, spec.submit);
  const close = h('button', { type: 'button' }, 'Close');
  const form = h('form', { method: 'dialog', novalidate: true }, h('h2', {}, spec.title),
    h('p', { class: 'note' }, 'A job on the server: one instance after another at the rate you set, each audited with your reason. ',
      'It survives a restart of the server and can be cancelled.'),
    preview, h('label', {}, 'Reason (recorded for each instance)', reason),
    h('div', { class: 'filters' }, h('label', {}, 'Per second', rate),
      compensate ? h('label', {}, compensate, ' Run their compensations') : null),
    outcome, h('div', { class: 'actions' }, submit, close));
  const dialog = h('dialog', { class: `bulk-${kind}`, 'aria-label': spec.title }, form);
  let watching = true;
  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => { watching = false; dialog.remove(); });
  document.body.append(dialog);
  dialog.showModal();
  reason.focus();

  try {
    const page = await post('/v1/jobs', { action: kind, filter, dry_run: true, limit: 100 });
    const more = page.next_cursor ? ' or more (the first 100 shown)' : '';
    fill(preview, h('p', {}, `It would touch ${page.instances.length}${more} instance(s): ${describeFilter(page.filter)}.`),
      table([
        { title: 'Business key', cell: keyCell },
        { title: 'Status', cell: (r) => badge(r.status) },
        { title: 'Step', cell: (r) => r.step },
      ], page.instances, { empty: 'Nothing matches: there is nothing to do.' }));
    submit.disabled = page.instances.length === 0;
  } catch (err) {
    fill(preview, h('p', { class: 'problem' }, problemText(err)));
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!reason.value.trim()) {
      fill(outcome, h('p', { class: 'problem' }, 'give a reason: it goes into the audit trail'));
      return;
    }
    submit.disabled = true;
    try {
      const body = { action: kind, reason: reason.value.trim(), filter, per_second: Number(rate.value) || 10 };
      if (compensate && compensate.checked) body.args = { compensate: true };
      let job = await post('/v1/jobs', body);
      const cancel = h('button', { type: 'button', 'data-action': 'cancel-job' }, 'Cancel the job');
      cancel.addEventListener('click', async () => {
        try {
          job = await post(`/v1/jobs/${encodeURIComponent(job.id)}/cancel`, { reason: 'cancelled from the console' });
        } catch (err) {
          fill(outcome, h('p', { class: 'problem' }, problemText(err)));
        }
      });
      while (watching) {
        fill(outcome, await jobReport(kind, job), job.state === 'running' ? cancel : null,
          h('p', { class: 'note' }, `Job ${job.id}`));
        if (job.state !== 'running') break;
        await new Promise((resolve) => setTimeout(resolve, 500));
        job = await get(`/v1/jobs/${encodeURIComponent(job.id)}`);
      }
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
