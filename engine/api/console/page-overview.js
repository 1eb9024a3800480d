// The overview: what needs a person, instances by status and workflow, the last day's starts
// and endings, and where unfinished instances stand. Refreshed every 10 seconds.
import { get, query } from './api.js';
import { badge, fill, h, panel, table, when, FINAL, STATUSES, UNFINISHED } from './dom.js';

// A link to the instance list filtered by `filters`, showing `count`.
function listLink(filters, count) {
  return h('a', { href: `#/instances${query(filters)}` }, String(count));
}

function kpi(label, value, href, alert = false) {
  const body = [h('div', { class: `big${alert && value > 0 ? ' alert' : ''}` }, String(value)),
    h('div', { class: 'sub' }, label)];
  return href ? h('a', { href }, body) : h('div', {}, body);
}

function sum(counts) {
  return Object.values(counts || {}).reduce((a, b) => a + b, 0);
}

// One column per hour: starts in the lower half, endings above.
function hourBars(day) {
  const most = Math.max(1, ...day.hours.map((hour) => Math.max(hour.started, sum(hour.ended))));
  return h('div', { class: 'bars', role: 'img', 'aria-label': `Starts and endings per hour since ${day.since}` },
    day.hours.map((hour) => {
      const title = `${new Date(hour.from).toLocaleString()}: ${hour.started} started, ${sum(hour.ended)} ended`;
      const started = h('div', { class: 'started' });
      const ended = h('div', { class: 'ended' });
      // CSSOM, not a style attribute: the page's CSP allows no inline styles.
      started.style.height = `${(hour.started / most) * 50}%`;
      ended.style.height = `${(sum(hour.ended) / most) * 50}%`;
      return h('div', { class: 'bar-col', title }, started, ended);
    }));
}

function lastDay(day) {
  const endings = Object.entries(day.ended).map(([status, n]) => `${n} ${status}`).join(', ');
  return panel('Last 24 hours',
    h('div', { class: 'kpis' },
      kpi('started', day.started), kpi('completed', day.ended.completed || 0), kpi('ended in all', sum(day.ended))),
    hourBars(day),
    h('p', { class: 'note' }, 'Per hour: starts (blue, lower half) and endings (green).',
      endings ? ` Endings: ${endings}.` : ''));
}

function statusPanel(data) {
  const rows = STATUSES.filter((s) => data.by_status[s]).map((s) => ({ status: s, count: data.by_status[s] }));
  return panel('By status', table([
    { title: 'Status', cell: (r) => badge(r.status) },
    { title: 'Instances', num: true, cell: (r) => listLink({ status: r.status }, r.count) },
  ], rows, { empty: 'No instances yet.' }));
}

function workflowPanel(data) {
  const used = STATUSES.filter((s) => data.by_workflow.some((w) => w.by_status[s]));
  return panel('By workflow', table([
    { title: 'Workflow', cell: (w) => h('a', { href: `#/instances${query({ workflow: w.workflow })}` }, w.workflow) },
    ...used.map((s) => ({
      title: s, num: true,
      cell: (w) => (w.by_status[s] ? listLink({ workflow: w.workflow, status: s }, w.by_status[s]) : ''),
    })),
    { title: 'Total', num: true, cell: (w) => String(w.total) },
  ], data.by_workflow, { empty: 'No instances yet.' }));
}

function stuckPanel(data) {
  const teams = data.stuck.by_team.length ? [h('h3', {}, 'By team'), table([
    { title: 'Team', cell: (t) => t.team },
    { title: 'Instances', num: true, cell: (t) => String(t.count) },
    { title: 'Past the team\'s SLA', num: true, cell: (t) => (t.past_sla ? h('span', { class: 'error' }, String(t.past_sla)) : '0') },
  ], data.stuck.by_team, { link: (t) => `#/stuck?team=${encodeURIComponent(t.team)}` })] : null;
  return panel('Stuck queue by reason', table([
    { title: 'Reason', cell: (r) => r.label },
    { title: 'Kind', cell: (r) => r.kind },
    { title: 'Instances', num: true, cell: (r) => String(r.count) },
  ], data.stuck.by_reason, { empty: 'Nothing is stuck.', link: () => '#/stuck' }), teams);
}

function unfinishedPanel(data) {
  return panel('Where unfinished instances stand', table([
    { title: 'Workflow', cell: (c) => `${c.workflow} v${c.version}` },
    { title: 'Step', cell: (c) => c.step },
    { title: 'Status', cell: (c) => badge(c.status) },
    { title: 'Instances', num: true, cell: (c) => String(c.count) },
  ], data.unfinished, {
    empty: 'Every instance is finished.',
    link: (c) => `#/instances${query({ workflow: c.workflow, version: c.version, step: c.step, status: c.status })}`,
  }));
}

function needsPanel(data) {
  const unfinished = STATUSES.filter((s) => !FINAL.includes(s)).reduce((n, s) => n + (data.by_status[s] || 0), 0);
  return panel('Needs a person', h('div', { class: 'kpis' },
    kpi('in the stuck queue', data.stuck.total, '#/stuck', true),
    kpi('suspended (incidents)', data.by_status.suspended || 0, `#/instances${query({ status: 'suspended' })}`, true),
    kpi('past their SLA', data.sla_breaches, '#/stuck', true),
    kpi('unfinished', unfinished, `#/instances${query({ status: UNFINISHED })}`)));
}

export async function render(ctx) {
  const body = h('div', {});
  const stamp = h('p', { class: 'live' });
  const draw = async () => {
    const data = await get('/v1/overview');
    if (!ctx.current()) return;
    fill(body, needsPanel(data),
      h('div', { class: 'grid' }, stuckPanel(data), lastDay(data.last_day)),
      h('div', { class: 'grid' }, statusPanel(data), workflowPanel(data)),
      unfinishedPanel(data));
    fill(stamp, 'Live: refreshed every 10 s; as of ', when(data.as_of));
  };
  await draw();
  fill(ctx.main, h('h1', {}, 'Overview'), stamp, body);
  ctx.every(10000, draw);
}
