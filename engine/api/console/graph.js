// Workflow graphs, drawn by the server (Graphviz) as SVG and shown inline, so that a step can
// be picked from the drawing (goto). The SVG is parsed as XML and only drawing elements are
// kept: no scripts, foreign objects, links or event attributes reach the page.
import { getSvg } from './api.js';
import { h, fill } from './dom.js';

const DROPPED = 'script, foreignObject, iframe, object, embed, a, use, image, style, animate, set';

export function importSvg(text) {
  const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
  const svg = doc.documentElement;
  if (!svg || svg.nodeName !== 'svg' || doc.getElementsByTagName('parsererror').length > 0) {
    throw new Error('the server sent a graph that is not SVG');
  }
  for (const element of svg.querySelectorAll(DROPPED)) element.remove();
  for (const element of [svg, ...svg.querySelectorAll('*')]) {
    for (const attribute of [...element.attributes]) {
      if (/^on/i.test(attribute.name) || /href$/i.test(attribute.name)) element.removeAttribute(attribute.name);
    }
  }
  svg.setAttribute('role', 'img');
  return document.importNode(svg, true);
}

// The name of the step a drawn node stands for (Graphviz writes it as the node's <title>).
export function stepOf(node) {
  const title = node.querySelector(':scope > title');
  return title ? title.textContent : '';
}

// A graph view: load(path) draws the SVG at `path`; pickable(onPick) lets a click or Enter on a
// step's node pick it.
// The drawing is shown at its own size (its labels stay readable) in a scrolling box that first
// brings the failing step, or where the instance stands, into view; "Fit" shrinks it to the box.
export class GraphView {
  constructor(label) {
    this.element = h('div', { class: 'graph', role: 'group', 'aria-label': label, tabindex: '0' });
    this.fitButton = h('button', { type: 'button', 'aria-pressed': 'false', onclick: () => this.toggleFit() },
      'Fit to the box');
    this.view = h('div', {}, h('div', { class: 'actions' }, this.fitButton), this.element);
    this.onPick = null;
    this.picked = '';
    this.loaded = false;
    // Until the reader scrolls it, the box keeps the failing step in view as its size changes.
    this.scrolledByReader = false;
    for (const event of ['wheel', 'pointerdown', 'keydown', 'touchstart']) {
      this.element.addEventListener(event, () => { this.scrolledByReader = true; }, { passive: true });
    }
    new ResizeObserver(() => { if (!this.scrolledByReader) this.reveal(); }).observe(this.element);
  }

  toggleFit() {
    const fit = !this.element.classList.contains('fit');
    this.element.classList.toggle('fit', fit);
    this.fitButton.setAttribute('aria-pressed', String(fit));
  }

  async load(path) {
    const svg = importSvg(await getSvg(path));
    const { scrollLeft, scrollTop } = this.element;
    fill(this.element, svg);
    this.decorate();
    if (this.loaded) {
      this.element.scrollLeft = scrollLeft;
      this.element.scrollTop = scrollTop;
    } else {
      this.loaded = true;
      this.reveal();
    }
  }

  // Scrolls the box (not the page) to the failing step, else to where the instance stands.
  reveal() {
    const node = this.nodes('.failing')[0] || this.nodes('.current')[0];
    if (!node) return;
    const box = this.element.getBoundingClientRect();
    const spot = node.getBoundingClientRect();
    this.element.scrollLeft += spot.left - box.left - (box.width - spot.width) / 2;
    this.element.scrollTop += spot.top - box.top - (box.height - spot.height) / 2;
  }

  // The nodes of the drawing by kind: each has classes "step <kind> [visited] [current] [failing]".
  nodes(selector = '') {
    return [...this.element.querySelectorAll(`g.step${selector}`)];
  }

  pickable(onPick) {
    this.onPick = onPick;
    this.decorate();
  }

  setPicked(step) {
    this.picked = step;
    for (const node of this.nodes()) node.classList.toggle('picked', stepOf(node) === step);
  }

  decorate() {
    this.element.classList.toggle('picking', Boolean(this.onPick));
    for (const node of this.nodes()) {
      const step = stepOf(node);
      const states = ['visited', 'current', 'failing'].filter((c) => node.classList.contains(c));
      node.setAttribute('aria-label', `step ${step}${states.length ? ` (${states.join(', ')})` : ''}`);
      if (!this.onPick || node.classList.contains('start') || node.classList.contains('compensation')) continue;
      node.setAttribute('tabindex', '0');
      node.setAttribute('role', 'button');
      if (node.dataset.bound) continue;
      node.dataset.bound = '1';
      const pick = () => this.onPick && this.onPick(step);
      node.addEventListener('click', pick);
      node.addEventListener('keydown', (event) => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          pick();
        }
      });
    }
    if (this.picked) this.setPicked(this.picked);
  }
}

export function legend() {
  return h('div', { class: 'legend' },
    h('span', {}, h('span', { class: 'swatch visited' }), 'visited'),
    h('span', {}, h('span', { class: 'swatch current' }), 'where it stands'),
    h('span', {}, h('span', { class: 'swatch failing' }), 'failing'),
    h('span', {}, 'dashed: catch or timeout; dotted: compensation'));
}
