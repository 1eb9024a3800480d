// The overview: what needs a person, instances by status and workflow, the last day's starts
// and endings, and where unfinished instances stand. Refreshed every 10 seconds.
import { get, query } from './api.js';
import { badge, fill, h, table, when, STATUSES } from './dom.js';

const FINAL = ['completed', 'rejected', 'expired', 'cancelled', 'failed', 'compensated'];

function kpi(label, value, href, alert = false) {
  const body = [h('div', { class: `big${alert && value > 0 ? ' alert' : ''}` }, String(value)), h('div', { class: 'sub' }, label)];
  return href ? h('a', { href }, body) : h('div', {}, body);
}

function sum(counts) {
  return Object.values(counts || {}).reduce((a, b) => a + b, 0);
}

function lastDay(day) {
  const hours = day.hours;
  const most = Math.max(1, ...hours.map((hour) => Math.max(hour.started, sum(hour.ended))));
  const bars = h('div', { class: 'bars', role: 'img', 'aria-label': `Starts and endings per hour since ${day.since}` },
    hours.map((hour) => {
      const column = h('div', { class: 'bar-col', title: `${new Date(hour.from).toLocaleString()}: ${hour.started} started, ${sum(hour.ended)} ended` });
      const started = h('div', { class: 'started' });
      const ended = h('div', { class: 'ended' });
      // CSSOM, not a style attribute: the page's CSP allows no inline styles.
      started.style.height = `${(hour.started / most) * 50}%`;
      ended.style.height = `${(sum(hour.ended) / most) * 50}%`;
      column.append(started, ended);
      return column;
    }));
  const ended = Object.entries(day.ended);
  return h('section', { class: 'panel', 'aria-labelledby': 'day-title' },
    h('h2', { id: 'day-title' }, 'Last 24 hours'),
    h('div', { class: 'kpis' }, kpi('started', day.started), kpi('completed', day.ended.completed || 0), kpi('ended in all', sum(day.ended))),
    bars,
    h('p', { class: 'note' }, 'Per hour: starts (blue, lower half) and endings (green).',
      ended.length ? ` Endings: ${ended.map(([s, n]) => `${n} ${s}`).join(', ')}.` : ''));
}

function statusPanel(data) {
  const rows = STATUSES.filter((s) => data.by_status[s]).map((s) => ({ status: s, count: data.by_status[s] }));
  return h('section', { class: 'panel', 'aria-labelledby': 'status-title' },
    h('h2', { id: 'status-title' }, 'By status'),
    table([
      { title: 'Status', cell: (r) => badge(r.status) },
      { title: 'Instances', num: true, cell: (r) => h('a', { href: `#/instances${query({ status: r.status })}` }, String(r.count)) },
    ], rows, { empty: 'No instances yet.' }));
}

function workflowPanel(data) {
  const used = STATUSES.filter((s) => data.by_workflow.some((w) => w.by_status[s]));
  return h('section', { class: 'panel', 'aria-labelledby': 'workflow-title' },
    h('h2', { id: 'workflow-title' }, 'By workflow'),
    table([
      { title: 'Workflow', cell: (w) => h('a', { href: `#/instances${query({ workflow: w.workflow })}` }, w.workflow) },
      ...used.map((s) => ({
        title: s, num: true,
        cell: (w) => (w.by_status[s] ? h('a', { href: `#/instances${query({ workflow: w.workflow, status: s })}` }, String(w.by_status[s])) : ''),
      })),
      { title: 'Total', num: true, cell: (w) => String(w.total) },
    ], data.by_workflow, { empty: 'No instances yet.' }));
}

function stuckPanel(data) {
  return h('section', { class: 'panel', 'aria-labelledby': 'stuck-title' },
    h('h2', { id: 'stuck-title' }, 'Stuck queue by reason'),
    table([
      { title: 'Reason', cell: (r) => r.label },
      { title: 'Kind', cell: (r) => r.kind },
      { title: 'Instances', num: true, cell: (r) => String(r.count) },
    ], data.stuck.by_reason, { empty: 'Nothing is stuck.', link: () => '#/stuck' }),
    data.stuck.by_team.length ? [h('h3', {}, 'By team'), table([
      { title: 'Team', cell: (t) => t.team },
      { title: 'Instances', num: true, cell: (t) => String(t.count) },
    ], data.stuck.by_team)] : null);
}

function unfinishedPanel(data) {
  return h('section', { class: 'panel', 'aria-labelledby': 'unfinished-title' },
    h('h2', { id: 'unfinished-title' }, 'Where unfinished instances stand'),
    table([
      { title: 'Workflow', cell: (c) => `${c.workflow} v${c.version}` },
      { title: 'Step', cell: (c) => c.step },
      { title: 'Status', cell: (c) => badge(c.status) },
      { title: 'Instances', num: true, cell: (c) => String(c.count) },
    ], data.unfinished, {
      empty: 'Every instance is finished.',
      link: (c) => `#/instances${query({ workflow: c.workflow, version: c.version, step: c.step, status: c.status })}`,
    }));
}

export async function render(ctx) {
  const body = h('div', {});
  const stamp = h('p', { class: 'live' });
  const draw = async () => {
    const data = await get('/v1/overview');
    if (!ctx.current()) return;
    const unfinished = STATUSES.filter((s) => !FINAL.includes(s)).reduce((n, s) => n + (data.by_status[s] || 0), 0);
    fill(body,
      h('section', { class: 'panel', 'aria-labelledby': 'needs-title' },
        h('h2', { id: 'needs-title' }, 'Needs a person'),
        h('div', { class: 'kpis' },
          kpi('in the stuck queue', data.stuck.total, '#/stuck', true),
          kpi('suspended (incidents)', data.by_status.suspended || 0, `#/instances${query({ status: 'suspended' })}`, true),
          kpi('past their SLA', data.sla_breaches, '#/stuck', true),
          kpi('unfinished', unfinished, `#/instances${query({ status: 'running,waiting,suspended,compensating' })}`))),
      h('div', { class: 'grid' }, stuckPanel(data), lastDay(data.last_day)),
      h('div', { class: 'grid' }, statusPanel(data), workflowPanel(data)),
      unfinishedPanel(data));
    fill(stamp, 'Live: refreshed every 10 s; as of ', when(data.as_of));
  };
  await draw();
  fill(ctx.main, h('h1', {}, 'Overview'), stamp, body);
  ctx.every(10000, draw);
}
