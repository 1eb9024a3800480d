// One instance: its graph with the path taken, where it stands and what fails; its incident;
// the repairs its state allows (for roles that may act); the timeline of its events; its
// context; commands queued for it; its branches and children when it has them. Polls every
// 2 seconds and redraws what changed.
import { get, instancePath, query } from './api.js';
import { openAction, ACTION_KINDS, actionTitle } from './actions.js';
import { ago, badge, fill, h, instanceLink, jsonView, panel, table, when, FINAL } from './dom.js';
import { GraphView, legend } from './graph.js';

function errorText(error) {
  return `${(error || {}).code || '?'}: ${(error || {}).message || ''}`;
}

// What an event says: a line, a detail, and whether it is a failure or an operator's doing.
function describe(e) {
  const d = e.data || {};
  switch (e.type) {
    case 'instance_started':
      return { what: 'Started', detail: `${d.workflow} v${d.version}${d.business_key ? `, key ${d.business_key}` : ''}` };
    case 'step_entered':
      return { what: `Entered ${e.step}`, detail: d.visit > 1 ? `visit ${d.visit}` : '' };
    case 'attempt_started':
      return {
        what: `${d.compensation ? 'Compensation attempt' : 'Attempt'} ${d.attempt} at ${e.step}`,
        detail: `idempotency key ${d.idempotency_key}`,
      };
    case 'attempt_failed':
      return { what: `Attempt ${d.attempt} at ${e.step} failed`, detail: errorText(d.error), bad: true };
    case 'retry_scheduled':
      return { what: `Retry ${d.attempt} of ${e.step} scheduled`, detail: `after ${d.delay}, due ${d.due}` };
    case 'step_completed': {
      let detail = '';
      if (d.skipped) detail = 'skipped by an operator';
      else if (d.timed_out) detail = `timed out, next ${d.next}`;
      else if (d.signal) detail = `on signal ${d.signal}`;
      else if (d.next) detail = `next ${d.next}`;
      else if (d.waited) detail = `waited ${d.waited}`;
      return { what: `Completed ${e.step}`, detail };
    }
    case 'catch_routed':
      return {
        what: `Caught ${(d.error || {}).code} at ${e.step}`, detail: `continues at ${d.next}; ${errorText(d.error)}`, bad: true,
      };
    case 'incident_opened':
      return {
        what: `Incident at ${d.step || e.step}: ${(d.error || {}).code}`,
        detail: `${(d.error || {}).message} (after ${d.attempts} attempt(s))${d.team ? `; team ${d.team}` : ''}`,
        bad: true,
      };
    case 'instance_ended':
      return { what: `Ended ${d.status}`, detail: '' };
    case 'signal_received':
      return { what: `Signal ${d.signal} received`, detail: `key ${d.idempotency_key}` };
    case 'signal_consumed':
      return { what: `Signal ${d.signal} consumed`, detail: '' };
    case 'timer_set':
      return { what: `Timer ${d.timer} set`, detail: `due ${d.due}` };
    case 'timer_fired':
      return { what: `Timer ${d.timer} fired`, detail: '' };
    case 'compensation_started':
      return { what: 'Compensation started', detail: `${d.reason}; undoes ${(d.steps || []).join(', ') || 'nothing'}` };
    case 'compensation_step_completed':
      return { what: `Compensated ${e.step}`, detail: '' };
    case 'compensation_finished':
      return { what: 'Compensation finished', detail: `ends ${d.then}` };
    case 'operator_action': {
      const change = d.before && d.after
        ? ` — ${d.before.status} at ${d.before.step} → ${d.after.status} at ${d.after.step}` : '';
      return { what: `${d.actor}: ${d.action}`, detail: `“${d.reason}”${change}`, operator: true };
    }
    case 'incident_resolved':
      return { what: `Incident resolved by ${d.actor}`, detail: `“${d.reason}”`, operator: true };
    default:
      return { what: e.type, detail: '' };
  }
}

// The events, newest first; each folds open to its stored data.
function timeline(events) {
  const items = [...events].reverse().map((e) => {
    const { what, detail, bad, operator } = describe(e);
    const data = Object.keys(e.data || {}).length
      ? h('details', {}, h('summary', { class: 'note' }, `event ${e.seq}`), jsonView(e.data, 0)) : null;
    return h('li', { class: bad ? 'bad' : operator ? 'operator' : null, 'data-type': e.type },
      h('div', {}, ago(e.at)),
      h('div', {}, h('div', { class: 'what' }, what), detail ? h('div', { class: 'detail' }, detail) : null, data));
  });
  return h('ol', { class: 'timeline', reversed: true, 'aria-label': 'Events, newest first' }, items);
}

function where(view) {
  if (!view.phase || view.phase === 'idle') return view.step;
  return `${view.step} (${view.phase}${view.attempt ? `, attempt ${view.attempt}` : ''})`;
}

function facts(view) {
  const parent = view.parent;
  const rows = [
    ['Workflow', h('a', { href: `#/workflows/${encodeURIComponent(view.workflow)}/${view.version}` },
      `${view.workflow} v${view.version}`)],
    ['Status', badge(view.status)],
    ['Step', where(view)],
    ['Business key', view.business_key || '—'],
    ['Instance id', view.id],
    ['Correlation id', view.correlation_id || '—'],
    ['Started', when(view.created_at)],
    ['Updated', when(view.updated_at)],
    view.ended_at ? ['Ended', when(view.ended_at)] : null,
    view.paused_at ? ['Paused', 'since ', when(view.paused_at), ': nothing begins until it is resumed'] : null,
    view.queued_call ? ['Waiting its turn', `${view.queued_call.adapter}.${view.queued_call.operation} is at its limit; `,
      `this call is number ${view.queued_call.position} in line, since `, when(view.queued_call.since)] : null,
    view.attributes && Object.keys(view.attributes).length
      ? ['Attributes', Object.entries(view.attributes).map(([k, v]) => `${k}=${v}`).join(', ')] : null,
    parent ? ['Parent', instanceLink(parent.instance), parent.step ? ` at ${parent.step}` : '',
      parent.branch ? ` [${parent.branch}]` : ''] : null,
  ].filter(Boolean);
  return h('dl', { class: 'facts' }, rows.map(([term, ...value]) => [h('dt', {}, term), h('dd', {}, value)]));
}

function incidentPanel(view) {
  const incident = view.incident;
  if (!incident) return null;
  const error = incident.error || {};
  const section = panel(incident.compensating ? 'Incident while compensating' : 'Incident',
    h('dl', { class: 'facts' },
      h('dt', {}, 'Step'), h('dd', {}, incident.step || view.step),
      h('dt', {}, 'Error'), h('dd', {}, h('span', { class: 'code' }, error.code || '?'), ': ', error.message || ''),
      h('dt', {}, 'Attempts'), h('dd', {}, String(incident.attempts ?? '')),
      incident.opened_at ? [h('dt', {}, 'Opened'), h('dd', {}, when(incident.opened_at))] : null,
      incident.team ? [h('dt', {}, 'Team'), h('dd', {}, incident.team)] : null));
  section.classList.add('incident');
  return section;
}

// Which repairs make sense now; the server refuses the rest anyway.
function allowed(kind, view, stepKind) {
  const suspended = view.status === 'suspended';
  switch (kind) {
    case 'retry': return !view.paused_at && (suspended || view.phase === 'backoff');
    case 'pause': return !view.paused_at;
    case 'resume': return Boolean(view.paused_at);
    case 'skip': return (suspended || view.status === 'waiting') && ['task', 'wait'].includes(stepKind);
    case 'goto': return view.status !== 'compensating' && !(view.incident && view.incident.compensating);
    case 'resolve': return suspended;
    default: return true;
  }
}

function branchesPanel(view) {
  if (!Array.isArray(view.branches) || view.branches.length === 0) return null;
  return panel('Branches', table([
    { title: 'Branch', cell: (b) => String(b.key) },
    { title: 'Step', cell: (b) => b.step || '' },
    { title: 'Status', cell: (b) => (b.status ? badge(b.status) : '') },
    { title: 'Incident', cell: (b) => (b.incident ? errorText(b.incident.error) : '') },
    { title: 'Team', cell: (b) => (b.incident && b.incident.team) || '' },
  ], view.branches));
}

function childrenPanel(view) {
  if (!Array.isArray(view.children) || view.children.length === 0) return null;
  const idOf = (c) => c.id || c.instance_id || c.instance;
  return panel('Child workflows', table([
    { title: 'Instance', cell: (c) => instanceLink(idOf(c), c.business_key) },
    { title: 'Workflow', cell: (c) => (c.workflow ? `${c.workflow}${c.version ? ` v${c.version}` : ''}` : '') },
    { title: 'Called at', cell: (c) => `${c.step || ''}${c.branch ? ` [${c.branch}]` : ''}` },
    { title: 'Status', cell: (c) => (c.status ? badge(c.status) : '') },
  ], view.children));
}

function commandsPanel(view) {
  const pending = view.pending_commands || [];
  if (pending.length === 0) return null;
  return panel('Queued commands',
    h('p', { class: 'note' }, 'Written to the database by the CLI (--db); the engine applies them in a moment.'),
    table([
      { title: 'Command', cell: (c) => c.kind },
      { title: 'By', cell: (c) => c.actor },
      { title: 'Reason', cell: (c) => c.reason },
      { title: 'Queued', cell: (c) => ago(c.created_at) },
    ], pending));
}

function contextPanel(view) {
  const input = view.step_input !== null && view.step_input !== undefined
    ? [h('h3', {}, `Input of ${view.step}`), jsonView(view.step_input, 1)] : null;
  return panel('Context', jsonView(view.context, 1), input);
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
    // Without it goto lists no steps and signal suggests no names; the graph says what is wrong.
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
  const eventList = h('div', {});
  const extra = h('div', {});
  const stamp = h('p', { class: 'live' });

  const open = (kind, step) => openAction(kind, { instance: view, definition, step, onDone: () => refresh(true) });

  const drawActions = () => {
    const repairable = !FINAL.includes(view.status);
    const buttons = [];
    if (session.may.act && repairable) {
      for (const kind of ACTION_KINDS) {
        const ok = allowed(kind, view, stepKind(view.step));
        const style = { cancel: 'danger', resolve: 'danger', retry: 'primary' }[kind];
        buttons.push(h('button', {
          type: 'button', class: style, 'data-action': kind, disabled: !ok,
          title: ok ? null : `not while ${view.status} at this step`, onclick: () => open(kind),
        }, kind === 'goto' ? 'Go to step…' : `${actionTitle(kind)}…`));
      }
    }
    // A finished instance that did not complete can be reopened (not a child: its parent is).
    const redrivable = !repairable && view.status !== 'completed' && !view.parent;
    if (session.may.act && redrivable) {
      buttons.push(h('button', { type: 'button', class: 'primary', 'data-action': 'redrive', onclick: () => open('redrive') },
        `${actionTitle('redrive')}…`));
    }
    if (session.may.signal && repairable) {
      buttons.push(h('button', { type: 'button', 'data-action': 'signal', onclick: () => open('signal') }, 'Send signal…'));
    }
    fill(actions, buttons);
    actions.hidden = buttons.length === 0;
    const picking = session.may.act && (repairable || redrivable);
    graph.pickable(picking ? (step) => open(repairable ? 'goto' : 'redrive', step) : null);
    fill(graphNote, !picking ? ''
      : repairable ? 'Pick a step on the graph to move the instance there (goto).'
        : 'Pick a step on the graph to redrive the instance from there.');
  };

  const drawView = () => {
    fill(title, view.business_key || view.id, ' ', badge(view.status));
    fill(header, incidentPanel(view), h('section', { class: 'panel', 'aria-label': 'Facts' }, facts(view)));
    fill(extra, branchesPanel(view), childrenPanel(view), commandsPanel(view), contextPanel(view));
    drawActions();
  };

  const drawGraph = async () => {
    try {
      await graph.load(instancePath(id, 'graph'));
    } catch (err) {
      fill(graph.element, h('p', { class: 'error' }, `The graph could not be drawn: ${err.message}`));
    }
  };

  const drawEvents = () => {
    fill(eventList, timeline(events));
    const last = events.length ? when(events[events.length - 1].at) : '—';
    fill(stamp, 'Live: refreshed every 2 s; last event ', last);
  };

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
  };

  drawView();
  drawEvents();
  fill(ctx.main,
    h('p', { class: 'note' }, h('a', { href: `#/instances${query({ workflow: view.workflow })}` }, '← Instances of this workflow')),
    title, stamp, actions,
    h('div', { class: 'split' }, panel('Graph', graph.view, legend(), graphNote), header),
    h('div', { class: 'split' }, panel('Timeline', eventList), extra));
  await drawGraph();  // once on the page, so that it can scroll to the failing step
  ctx.every(2000, () => refresh(false));
}
