// Workflows and their versions: what is deployed, how many unfinished instances stand on each
// version, and one version's graph, signals and source.
import { get, query } from './api.js';
import { ago, badge, fill, h, panel, table, when, UNFINISHED } from './dom.js';
import { GraphView, legend } from './graph.js';

const versionHref = (name, version) => `#/workflows/${encodeURIComponent(name)}/${version}`;
const unfinishedHref = (name, version) => `#/instances${query({ workflow: name, version, status: UNFINISHED })}`;

const COLUMNS = [
  { title: 'Workflow', cell: (r) => r.name },
  { title: 'Version', num: true, cell: (r) => h('a', { href: versionHref(r.name, r.version) }, `v${r.version}`) },
  { title: '', cell: (r) => (r.version === r.latest ? badge('newest') : '') },
  {
    title: 'Unfinished instances', num: true,
    cell: (r) => (r.unfinished ? h('a', { href: unfinishedHref(r.name, r.version) }, String(r.unfinished)) : '0'),
  },
  { title: 'Deployed', cell: (r) => ago(r.deployed_at) },
  { title: 'From', cell: (r) => r.file },
];

async function renderList(ctx) {
  const draw = async () => {
    const data = await get('/v1/workflows');
    const rows = data.items.flatMap((w) => w.versions.map((v) => ({ ...v, name: w.name, latest: w.latest })));
    return table(COLUMNS, rows, { empty: 'No workflow is deployed.', link: (r) => versionHref(r.name, r.version) });
  };
  const body = h('section', { class: 'panel', 'aria-label': 'Workflow versions' }, await draw());
  fill(ctx.main, h('h1', {}, 'Workflows'),
    h('p', { class: 'note' }, 'Instances finish on the version they started on; new ones start on the newest.'), body);
  ctx.every(10000, async () => {
    const next = await draw();
    if (ctx.current()) fill(body, next);
  });
}

async function renderVersion(ctx, name, version) {
  const path = `/v1/workflows/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`;
  const def = await get(path);
  const summary = await get(`/v1/workflows/${encodeURIComponent(name)}`);
  const mine = summary.versions.find((v) => String(v.version) === String(version)) || {};
  const graph = new GraphView(`Workflow ${name} version ${version}`);
  try {
    await graph.load(`${path}/graph`);
  } catch (err) {
    fill(graph.element, h('p', { class: 'error' }, `The graph could not be drawn: ${err.message}`));
  }
  const facts = h('dl', { class: 'facts' },
    h('dt', {}, 'Description'), h('dd', {}, def.description || '—'),
    h('dt', {}, 'Starts at'), h('dd', {}, def.start || '—'),
    h('dt', {}, 'Signals'), h('dd', {}, (def.signals || []).join(', ') || 'none'),
    h('dt', {}, 'Unfinished instances'),
    h('dd', {}, h('a', { href: unfinishedHref(name, version) }, String(mine.unfinished || 0))),
    h('dt', {}, 'Deployed'), h('dd', {}, when(def.deployed_at)),
    h('dt', {}, 'Content hash'), h('dd', {}, def.content_hash));
  fill(ctx.main,
    h('p', { class: 'note' }, h('a', { href: '#/workflows' }, '← Workflows')),
    h('h1', {}, `${name} v${version}`),
    h('section', { class: 'panel', 'aria-label': 'Facts' }, facts),
    panel('Graph', graph.view, legend()),
    h('section', { class: 'panel' },
      h('details', {}, h('summary', {}, `Source (${def.file})`), h('pre', { class: 'json' }, def.source))));
}

export async function render(ctx) {
  const [name, version] = ctx.parts;
  if (name && version) return renderVersion(ctx, name, version);
  return renderList(ctx);
}
