// One instance: its graph with the path taken, where it stands and what fails; its incident;
// the repairs its state allows (for roles that may act); the timeline of its events; its
// context; commands queued for it; its branches and children when it has them. Polls every
// 2 seconds and redraws what changed.
import { get, instancePath, query } from './api.js';
import { openAction, ACTION_KINDS, actionTitle } from './actions.js';
import { ago, badge, fill, h, jsonView, table, when } from './dom.js';
import { GraphView, legend } from './graph.js';

const FINAL = ['completed', 'rejected', 'expired', 'cancelled', 'failed', 'compensated'];

// What an event says, in a line and a detail.
function describe(e) {
  const d = e.data || {};
  const error = d.error || {};
  switch (e.type) {
    case 'instance_started': return { what: 'Started', detail: `${d.workflow} v${d.version}${d.business_key ? `, key ${d.business_key}` : ''}` };
    case 'step_entered': return { what: `Entered ${e.step}`, detail: d.visit > 1 ? `visit ${d.visit}` : '' };
    case 'attempt_started': return { what: `${d.compensation ? 'Compensation attempt' : 'Attempt'} ${d.attempt} at ${e.step}`, detail: `idempotency key ${d.idempotency_key}` };
    case 'attempt_failed': return { what: `Attempt ${d.attempt} at ${e.step} failed`, detail: `${error.code}: ${error.message}`, bad: true };
    case 'retry_scheduled': return { what: `Retry ${d.attempt} of ${e.step} scheduled`, detail: `after ${d.delay}, due ${d.due}` };
    case 'step_completed': {
      let detail = '';
      if (d.skipped) detail = 'skipped by an operator';
      else if (d.timed_out) detail = `timed out, next ${d.next}`;
      else if (d.signal) detail = `on signal ${d.signal}`;
      else if (d.next) detail = `next ${d.next}`;
      else if (d.waited) detail = `waited ${d.waited}`;
      return { what: `Completed ${e.step}`, detail };
    }
    case 'catch_routed': return { what: `Caught ${error.code} at ${e.step}`, detail: `continues at ${d.next}: ${error.message}`, bad: true };
    case 'incident_opened': return { what: `Incident at ${d.step || e.step}: ${error.code}`, detail: `${error.message} (after ${d.attempts} attempt(s))${d.team ? `; team ${d.team}` : ''}`, bad: true };
    case 'instance_ended': return { what: `Ended ${d.status}`, detail: '' };
    case 'signal_received': return { what: `Signal ${d.signal} received`, detail: `key ${d.idempotency_key}` };
    case 'signal_consumed': return { what: `Signal ${d.signal} consumed`, detail: '' };
    case 'timer_set': return { what: `Timer ${d.timer} set`, detail: `due ${d.due}` };
    case 'timer_fired': return { what: `Timer ${d.timer} fired`, detail: '' };
    case 'compensation_started': return { what: 'Compensation started', detail: `${d.reason}; undoes ${(d.steps || []).join(', ') || 'nothing'}` };
    case 'compensation_step_completed': return { what: `Compensated ${e.step}`, detail: '' };
    case 'compensation_finished': return { what: 'Compensation finished', detail: `ends ${d.then}` };
    case 'operator_action': {
      const before = d.before ? `${d.before.status} at ${d.before.step}` : '';
      const after = d.after ? `${d.after.status} at ${d.after.step}` : '';
      return { what: `${d.actor}: ${d.action}`, detail: `“${d.reason}”${before ? ` — ${before} → ${after}` : ''}`, operator: true };
    }
    case 'incident_resolved': return { what: `Incident resolved by ${d.actor}`, detail: `“${d.reason}”`, operator: true };
    default: return { what: e.type, detail: '' };
  }
}

function timeline(events) {
  const items = [...events].reverse().map((e) => {
    const { what, detail, bad, operator } = describe(e);
    return h('li', { class: [bad ? 'bad' : '', operator ? 'operator' : ''].join(' ').trim() || null, 'data-type': e.type },
      h('div', {}, ago(e.at)),
      h('div', {}, h('div', { class: 'what' }, what), detail ? h('div', { class: 'detail' }, detail) : null,
        Object.keys(e.data || {}).length ? h('details', {}, h('summary', { class: 'note' }, `event ${e.seq}`), jsonView(e.data, 0)) : null));
  });
  return h('ol', { class: 'timeline', reversed: true, 'aria-label': 'Events, newest first' }, items);
}

function facts(view) {
  const rows = [
    ['Workflow', h('a', { href: `#/workflows/${encodeURIComponent(view.workflow)}/${view.version}` }, `${view.workflow} v${view.version}`)],
    ['Status', badge(view.status)],
    ['Step', `${view.step}${view.phase && view.phase !== 'idle' ? ` (${view.phase}${view.attempt ? `, attempt ${view.attempt}` : ''})` : ''}`],
    ['Business key', view.business_key || '—'],
    ['Instance id', view.id],
    ['Correlation id', view.correlation_id || '—'],
    ['Started', when(view.created_at)],
    ['Updated', when(view.updated_at)],
    view.ended_at ? ['Ended', when(view.ended_at)] : null,
    view.parent ? ['Parent', h('a', { href: `#/instance/${encodeURIComponent(view.parent.instance)}` }, view.parent.instance), view.parent.step ? ` at ${view.parent.step}` : '', view.parent.branch ? ` [${view.parent.branch}]` : ''] : null,
  ].filter(Boolean);
  return h('dl', { class: 'facts' }, rows.map(([term, ...value]) => [h('dt', {}, term), h('dd', {}, value)]));
}

function incidentPanel(view) {
  const incident = view.incident;
  if (!incident) return null;
  const error = incident.error || {};
  return h('section', { class: 'panel incident', 'aria-labelledby': 'incident-title' },
    h('h2', { id: 'incident-title' }, incident.compensating ? 'Incident while compensating' : 'Incident'),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Step'), h('dd', {}, incident.step || view.step),
      h('dt', {}, 'Error'), h('dd', {}, h('span', { class: 'code' }, error.code || '?'), ': ', error.message || ''),
      h('dt', {}, 'Attempts'), h('dd', {}, String(incident.attempts ?? '')),
      incident.opened_at ? [h('dt', {}, 'Opened'), h('dd', {}, when(incident.opened_at))] : null,
      incident.team ? [h('dt', {}, 'Team'), h('dd', {}, incident.team)] : null));
}

// Which repairs make sense now; the server refuses the rest anyway.
function allowed(kind, view, stepKind) {
  const suspended = view.status === 'suspended';
  switch (kind) {
    case 'retry': return suspended || view.phase === 'backoff';
    case 'skip': return (suspended || view.status === 'waiting') && ['task', 'wait'].includes(stepKind);
    case 'goto': return view.status !== 'compensating' && !(view.incident && view.incident.compensating);
    case 'resolve': return suspended;
    default: return true;
  }
}

function branchesPanel(view) {
  if (!Array.isArray(view.branches) || view.branches.length === 0) return null;
  return h('section', { class: 'panel', 'aria-labelledby': 'branches-title' },
    h('h2', { id: 'branches-title' }, 'Branches'),
    table([
      { title: 'Branch', cell: (b) => String(b.key) },
      { title: 'Step', cell: (b) => b.step || '' },
      { title: 'Status', cell: (b) => (b.status ? badge(b.status) : '') },
      { title: 'Incident', cell: (b) => (b.incident ? `${(b.incident.error || {}).code || '?'}: ${(b.incident.error || {}).message || ''}${b.incident.team ? ` (team ${b.incident.team})` : ''}` : '') },
    ], view.branches));
}

function childrenPanel(view) {
  if (!Array.isArray(view.children) || view.children.length === 0) return null;
  const idOf = (c) => c.id || c.instance_id || c.instance;
  return h('section', { class: 'panel', 'aria-labelledby': 'children-title' },
    h('h2', { id: 'children-title' }, 'Child workflows'),
    table([
      { title: 'Instance', cell: (c) => h('a', { href: `#/instance/${encodeURIComponent(idOf(c))}` }, c.business_key || idOf(c)) },
      { title: 'Workflow', cell: (c) => (c.workflow ? `${c.workflow}${c.version ? ` v${c.version}` : ''}` : '') },
      { title: 'Called at', cell: (c) => `${c.step || ''}${c.branch ? ` [${c.branch}]` : ''}` },
      { title: 'Status', cell: (c) => (c.status ? badge(c.status) : '') },
    ], view.children));
}

function commandsPanel(view) {
  const pending = view.pending_commands || [];
  if (pending.length === 0) return null;
  return h('section', { class: 'panel', 'aria-labelledby': 'commands-title' },
    h('h2', { id: 'commands-title' }, 'Queued commands'),
    h('p', { class: 'note' }, 'Written to the database by the CLI (--db); the engine applies them in a moment.'),
    table([
      { title: 'Command', cell: (c) => c.kind },
      { title: 'By', cell: (c) => c.actor },
      { title: 'Reason', cell: (c) => c.reason },
      { title: 'Queued', cell: (c) => ago(c.created_at) },
    ], pending));
}

export async function render(ctx) {
  const id = ctx.parts[0];
  const { session } = ctx;
  const path = instancePath(id);
  let view = await get(path);
  let events = (await get(instancePath(id, 'history'))).events;
  let definition = null;
  try {
    definition = await get(`/v1/workflows/${encodeURIComponent(view.workflow)}/versions/${view.version}`);
  } catch {
    // Drawn without step names for goto; the graph itself reports why it is missing.
  }
  const stepKind = (step) => {
    const node = definition && definition.graph ? definition.graph.nodes.find((n) => n.id === step) : null;
    return node ? node.kind : '';
  };

  const title = h('h1', {});
  const header = h('div', {});
  const actions = h('div', { class: 'actions', role: 'toolbar', 'aria-label': 'Repairs' });
  const graph = new GraphView('The workflow, with this instance\'s path');
  const graphNote = h('p', { class: 'note' });
  const events_ = h('div', {});
  const extra = h('div', {});
  const context = h('div', {});
  const stamp = h('p', { class: 'live' });

  const open = (kind, step) => openAction(kind, { instance: view, definition, step, onDone: () => refresh(true) });

  const drawActions = () => {
    const finished = FINAL.includes(view.status);
    const buttons = [];
    if (session.may.act && !finished) {
      for (const kind of ACTION_KINDS) {
        const ok = allowed(kind, view, stepKind(view.step));
        buttons.push(h('button', {
          type: 'button', class: kind === 'cancel' || kind === 'resolve' ? 'danger' : kind === 'retry' ? 'primary' : null,
          'data-action': kind, disabled: !ok, title: ok ? null : `not while ${view.status} at this step`,
          onclick: () => open(kind),
        }, kind === 'goto' ? 'Go to step…' : `${actionTitle(kind)}…`));
      }
    }
    if (session.may.signal && !finished) {
      buttons.push(h('button', { type: 'button', 'data-action': 'signal', onclick: () => open('signal') }, 'Send signal…'));
    }
    fill(actions, buttons.length ? buttons : null);
    actions.hidden = buttons.length === 0;
    graph.pickable(session.may.act && !finished ? (step) => open('goto', step) : null);
    fill(graphNote, session.may.act && !finished ? 'Pick a step on the graph to move the instance there (goto).' : '');
  };

  const drawView = () => {
    fill(title, view.business_key || view.id, ' ', badge(view.status));
    fill(header, incidentPanel(view), h('section', { class: 'panel', 'aria-label': 'Facts' }, facts(view)));
    fill(extra, branchesPanel(view), childrenPanel(view), commandsPanel(view));
    fill(context,
      h('section', { class: 'panel', 'aria-labelledby': 'context-title' },
        h('h2', { id: 'context-title' }, 'Context'),
        jsonView(view.context, 1),
        view.step_input !== null && view.step_input !== undefined
          ? [h('h3', {}, `Input of ${view.step}`), jsonView(view.step_input, 1)] : null));
    drawActions();
  };

  const drawGraph = async () => {
    try {
      await graph.load(instancePath(id, 'graph'));
    } catch (err) {
      fill(graph.element, h('p', { class: 'error' }, `The graph could not be drawn: ${err.message}`));
    }
  };

  const drawEvents = () => fill(events_, timeline(events));

  // Redraws only what changed, and keeps the keyboard focus on the same control.
  const refresh = async (force = false) => {
    const next = await get(path);
    if (!ctx.current()) return;
    const moved = force || next.last_seq !== view.last_seq;
    const changed = moved || JSON.stringify(next) !== JSON.stringify(view);
    view = next;
    if (moved) {
      events = (await get(instancePath(id, 'history'))).events;
      if (!ctx.current()) return;
      drawEvents();
      await drawGraph();
    }
    if (changed) {
      const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.action : null;
      drawView();
      const again = focused ? actions.querySelector(`[data-action="${focused}"]`) : null;
      if (again && !again.disabled) again.focus();
    }
    fill(stamp, 'Live: refreshed every 2 s; last event ', events.length ? ago(events[events.length - 1].at) : '—');
  };

  drawView();
  drawEvents();
  fill(stamp, 'Live: refreshed every 2 s; last event ', events.length ? ago(events[events.length - 1].at) : '—');
  fill(ctx.main,
    h('p', { class: 'note' }, h('a', { href: `#/instances${query({ workflow: view.workflow })}` }, '← Instances of this workflow')),
    title, stamp, actions,
    h('div', { class: 'split' },
      h('section', { class: 'panel', 'aria-labelledby': 'graph-title' }, h('h2', { id: 'graph-title' }, 'Graph'), graph.view, legend(), graphNote),
      header),
    h('div', { class: 'split' },
      h('section', { class: 'panel', 'aria-labelledby': 'timeline-title' }, h('h2', { id: 'timeline-title' }, 'Timeline'), events_),
      h('div', {}, extra, context)));
  await drawGraph();  // once on the page, so that it can scroll to the failing step
  ctx.every(2000, () => refresh(false));
}
