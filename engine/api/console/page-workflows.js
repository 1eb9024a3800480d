// Workflows and their versions: what is deployed, how many unfinished instances stand on each
// version, and one version's graph, signals and source.
import { get, query } from './api.js';
import { ago, badge, fill, h, table, when } from './dom.js';
import { GraphView, legend } from './graph.js';

async function renderList(ctx) {
  const draw = async () => {
    const data = await get('/v1/workflows');
    const rows = data.items.flatMap((w) => w.versions.map((v) => ({ ...v, name: w.name, latest: w.latest })));
    return table([
      { title: 'Workflow', cell: (r) => r.name },
      { title: 'Version', cell: (r) => h('a', { href: `#/workflows/${encodeURIComponent(r.name)}/${r.version}` }, `v${r.version}`), num: true },
      { title: '', cell: (r) => (r.version === r.latest ? badge('newest') : '') },
      { title: 'Unfinished instances', num: true, cell: (r) => (r.unfinished ? h('a', { href: `#/instances${query({ workflow: r.name, version: r.version, status: 'running,waiting,suspended,compensating' })}` }, String(r.unfinished)) : '0') },
      { title: 'Deployed', cell: (r) => ago(r.deployed_at) },
      { title: 'From', cell: (r) => r.file },
    ], rows, { empty: 'No workflow is deployed.', link: (r) => `#/workflows/${encodeURIComponent(r.name)}/${r.version}` });
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
  const def = await get(`/v1/workflows/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`);
  const summary = await get(`/v1/workflows/${encodeURIComponent(name)}`);
  const mine = summary.versions.find((v) => String(v.version) === String(version)) || {};
  const graph = new GraphView(`Workflow ${name} version ${version}`);
  try {
    await graph.load(`/v1/workflows/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}/graph`);
  } catch (err) {
    fill(graph.element, h('p', { class: 'error' }, `The graph could not be drawn: ${err.message}`));
  }
  fill(ctx.main,
    h('p', { class: 'note' }, h('a', { href: '#/workflows' }, '← Workflows')),
    h('h1', {}, `${name} v${version}`),
    h('section', { class: 'panel', 'aria-label': 'Facts' }, h('dl', { class: 'facts' },
      h('dt', {}, 'Description'), h('dd', {}, def.description || '—'),
      h('dt', {}, 'Starts at'), h('dd', {}, def.start || '—'),
      h('dt', {}, 'Signals'), h('dd', {}, (def.signals || []).join(', ') || 'none'),
      h('dt', {}, 'Unfinished instances'), h('dd', {}, h('a', { href: `#/instances${query({ workflow: name, version, status: 'running,waiting,suspended,compensating' })}` }, String(mine.unfinished || 0))),
      h('dt', {}, 'Deployed'), h('dd', {}, when(def.deployed_at)),
      h('dt', {}, 'Content hash'), h('dd', {}, def.content_hash))),
    h('section', { class: 'panel', 'aria-labelledby': 'graph-title' }, h('h2', { id: 'graph-title' }, 'Graph'), graph.view, legend()),
    h('section', { class: 'panel' }, h('details', {}, h('summary', {}, `Source (${def.file})`), h('pre', { class: 'json' }, def.source))));
}

export async function render(ctx) {
  const [name, version] = ctx.parts;
  if (name && version) return renderVersion(ctx, name, version);
  return renderList(ctx);
}
