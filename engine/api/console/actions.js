// The repair dialogs of an instance: retry, skip, goto, cancel, patch, resolve, pause, resume,
// signal, and redrive of a finished one.
// Each asks for a reason (the audit trail records it with the operator's name), sends the
// action, and shows what came of it: the instance's new status and step, or the server's
// sentence when it refuses.
import { ApiError, instancePath, post } from './api.js';
import { badge, h, fill, problemText } from './dom.js';

const ACTIONS = {
  retry: {
    title: 'Retry the step', verb: 'Retry',
    help: 'Runs the failed step (or compensation) again now, with the same idempotency key.',
  },
  skip: {
    title: 'Skip the step', verb: 'Skip',
    help: 'Counts the task or wait step as done; the output becomes its result.',
  },
  goto: {
    title: 'Go to a step', verb: 'Go to',
    help: 'Moves the instance to another step of its version.',
  },
  cancel: {
    title: 'Cancel the instance', verb: 'Cancel instance',
    help: 'Ends it cancelled; with compensation, its completed steps are undone first.',
  },
  patch: {
    title: 'Patch the context', verb: 'Patch',
    help: 'Applies a JSON merge patch to the context (.input and .instance are read-only).',
  },
  resolve: {
    title: 'Resolve the incident', verb: 'Resolve',
    help: 'Closes the incident and ends the instance failed: the return was handled outside rmaflow.',
  },
  pause: {
    title: 'Pause the instance', verb: 'Pause',
    help: 'Holds it where it is: no step begins and no timer fires until it is resumed; calls already out finish.',
  },
  resume: {
    title: 'Resume the instance', verb: 'Resume',
    help: 'Lets it go on: timers that came due while it was paused fire now, and held steps begin.',
  },
  redrive: {
    title: 'Redrive the instance', verb: 'Redrive',
    help: 'Reopens it and runs it on from a step: by default the one that failed (after a compensation, '
      + 'the first one it undid). Steps before it keep their results; what runs again gets new idempotency keys.',
  },
  signal: {
    title: 'Send a signal', verb: 'Send signal',
    help: 'Delivers an event by hand, as the outside system would have (a lost warehouse scan).',
  },
};

export const ACTION_KINDS = ['retry', 'skip', 'goto', 'cancel', 'patch', 'resolve', 'pause', 'resume'];

export function actionTitle(kind) {
  return ACTIONS[kind].verb;
}

// A JSON field of a form: its value parsed, or an error naming the field.
function readJson(textarea, label, { required = false, object = false } = {}) {
  const text = textarea.value.trim();
  if (!text) {
    if (required) throw new Error(`${label} is required`);
    return undefined;
  }
  let value;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${label} is not JSON: ${err.message}`);
  }
  if (object && (value === null || typeof value !== 'object' || Array.isArray(value))) {
    throw new Error(`${label} must be a JSON object`);
  }
  return value;
}

function jsonArea(name, value) {
  const text = value === undefined ? '' : JSON.stringify(value, null, 2);
  return h('textarea', { name, spellcheck: 'false', autocomplete: 'off' }, text);
}

// The fields of one action and how to read them into the request body.
function fieldsFor(kind, instance, definition, step) {
  switch (kind) {
    case 'retry': {
      const replace = h('input', { type: 'checkbox', name: 'replace' });
      const input = jsonArea('input', instance.step_input === null ? undefined : instance.step_input);
      input.disabled = true;
      replace.addEventListener('change', () => { input.disabled = !replace.checked; });
      return {
        nodes: [h('label', { class: 'inline' }, replace, "Replace the step's input"),
          h('label', {}, "The step's input (JSON)", input)],
        read: () => (replace.checked ? { input: readJson(input, "The step's input", { required: true }) } : {}),
      };
    }
    case 'skip': {
      const output = jsonArea('output');
      return {
        nodes: [h('label', {}, "Output (JSON, optional): becomes the step's result", output)],
        read: () => {
          const value = readJson(output, 'The output');
          return value === undefined ? {} : { output: value };
        },
      };
    }
    case 'goto': {
      const nodes = definition ? definition.graph.nodes : [];
      const steps = nodes.filter((n) => !['start', 'compensation'].includes(n.kind)).map((n) => n.id);
      const select = h('select', { name: 'step', required: true },
        h('option', { value: '' }, 'Choose a step…'),
        steps.map((s) => h('option', { value: s, selected: s === step }, s)));
      return {
        nodes: [h('label', {}, 'Step (or pick it on the graph before opening this)', select)],
        read: () => {
          if (!select.value) throw new Error('choose the step to go to');
          return { step: select.value };
        },
      };
    }
    case 'redrive': {
      const nodes = definition ? definition.graph.nodes : [];
      const steps = nodes.filter((n) => !['start', 'compensation', 'end'].includes(n.kind)).map((n) => n.id);
      const select = h('select', { name: 'step' },
        h('option', { value: '' }, 'The step that failed (default)'),
        steps.map((s) => h('option', { value: s, selected: s === step }, s)));
      const patch = jsonArea('patch');
      return {
        nodes: [h('label', {}, 'Step to run again (or pick it on the graph before opening this)', select),
          h('label', {}, 'JSON merge patch of the context (optional), applied with the redrive', patch)],
        read: () => {
          const body = {};
          if (select.value) body.step = select.value;
          const value = readJson(patch, 'The patch', { object: true });
          if (value !== undefined) body.patch = value;
          return body;
        },
      };
    }
    case 'cancel': {
      const compensate = h('input', { type: 'checkbox', name: 'compensate' });
      return {
        nodes: [h('label', { class: 'inline' }, compensate,
          'Compensate first (void the label, reverse what was done)')],
        read: () => ({ compensate: compensate.checked }),
      };
    }
    case 'patch': {
      const patch = jsonArea('patch');
      patch.setAttribute('placeholder', '{"label": {"tracking": "1Z..."}}');
      return {
        nodes: [h('label', {}, 'JSON merge patch of the context', patch)],
        read: () => ({ patch: readJson(patch, 'The patch', { required: true, object: true }) }),
      };
    }
    case 'signal': {
      const names = definition ? definition.signals || [] : [];
      const name = h('input', { name: 'name', required: true, list: 'signal-names', autocomplete: 'off' });
      const payload = jsonArea('payload');
      const key = h('input', { name: 'idempotency_key', autocomplete: 'off' });
      return {
        nodes: [h('label', {}, 'Signal', name),
          h('datalist', { id: 'signal-names' }, names.map((n) => h('option', { value: n }))),
          h('label', {}, 'Payload (JSON, optional)', payload),
          h('label', {}, 'Idempotency key (optional: a repeat with the same key changes nothing)', key)],
        read: () => {
          if (!name.value.trim()) throw new Error('name the signal');
          const body = { name: name.value.trim() };
          const value = readJson(payload, 'The payload');
          if (value !== undefined) body.payload = value;
          if (key.value.trim()) body.idempotency_key = key.value.trim();
          return body;
        },
      };
    }
    default:
      return { nodes: [], read: () => ({}) };
  }
}

// Opens the dialog for `kind` on `instance` (the instance view). `definition` is its version
// (for the step list and signal names), `step` a step picked on the graph; `onDone` runs after
// the server accepted the action.
export function openAction(kind, { instance, definition, step, onDone }) {
  const spec = ACTIONS[kind];
  const fields = fieldsFor(kind, instance, definition, step);
  const reason = kind === 'signal' ? null : h('textarea', { name: 'reason', required: true, rows: 2, class: 'reason' });
  const outcome = h('div', { role: 'alert', 'aria-live': 'assertive' });
  const danger = kind === 'cancel' || kind === 'resolve';
  const submit = h('button', { type: 'submit', class: danger ? 'danger' : 'primary' }, spec.verb);
  const close = h('button', { type: 'button', value: 'close' }, 'Close');
  const form = h('form', { method: 'dialog', novalidate: true },
    h('h2', {}, spec.title),
    h('p', { class: 'note' }, spec.help),
    h('p', {}, 'Instance ', h('strong', {}, instance.business_key || instance.id), ' is ', badge(instance.status),
      ' at step ', h('strong', {}, instance.step)),
    fields.nodes,
    reason ? h('label', {}, 'Reason (recorded in the audit trail)', reason) : null,
    outcome,
    h('div', { class: 'actions' }, submit, close));
  const dialog = h('dialog', { class: `action-${kind}`, 'aria-label': spec.title }, form);
  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    let body;
    try {
      body = fields.read();
      if (reason) {
        if (!reason.value.trim()) throw new Error('give a reason: it goes into the audit trail');
        body.reason = reason.value.trim();
      }
    } catch (err) {
      fill(outcome, h('p', { class: 'problem' }, err.message));
      return;
    }
    submit.disabled = true;
    fill(outcome, h('p', { class: 'note' }, 'Sending…'));
    try {
      let result;
      if (kind === 'signal') {
        const { name, ...rest } = body;
        result = await post(instancePath(instance.id, 'signals', name), rest);
        fill(outcome, h('p', { class: 'result' }, result.duplicate
          ? 'Already delivered earlier with this key; nothing changed.'
          : 'Signal stored and delivered.'));
      } else {
        result = await post(instancePath(instance.id, 'actions', kind), body);
        fill(outcome, h('p', { class: 'result' },
          `${spec.verb}: done. The instance is now `, badge(result.status), ` at step ${result.step}.`));
      }
      submit.remove();
      close.focus();
      if (onDone) onDone(result);
    } catch (err) {
      submit.disabled = false;
      const prefix = err instanceof ApiError && err.status ? `Refused (${err.status}): ` : '';
      fill(outcome, h('p', { class: 'problem' }, prefix + problemText(err)));
    }
  });
  document.body.append(dialog);
  dialog.showModal();
  const first = form.querySelector('select, input:not([type=checkbox]), textarea.reason, textarea:not([disabled])');
  if (first) first.focus();
  return dialog;
}
