// The console's whole view layer: build DOM nodes from plain calls. Text always goes in as
// text nodes (never innerHTML), so nothing the API answers can become markup or script.

/**
 * h('button', { type: 'button', class: 'primary', onclick: fn }, 'Save')
 * Attributes: `class`, `for`, `on<event>` (a listener), booleans (true → present,
 * false/null/undefined → absent), anything else as a string attribute.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** The same for SVG elements (the chart): presentation attributes, not inline styles. */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the children of `el`. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A labelled input: the label's `for` names the input's id (every input has a label). */
export function field(label, attrs, hint) {
  const id = attrs.id;
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    h('input', { ...attrs, ...(hint ? { 'aria-describedby': `${id}-hint` } : {}) }),
    hint ? h('span', { class: 'hint', id: `${id}-hint` }, hint) : null,
  );
}

/** A labelled select of [value, text] options. */
export function select(label, attrs, options, selected = '') {
  return h(
    'div',
    { class: 'field' },
    h('label', { for: attrs.id }, label),
    h('select', attrs, options.map(([value, text]) => h('option', { value, selected: value === selected }, text))),
  );
}

/** A table with a caption; `rows` are arrays of cells (nodes or text). */
export function table(caption, headers, rows, empty = 'Nothing to show.') {
  if (rows.length === 0) return h('p', { class: 'empty' }, `${caption}: ${empty}`);
  return h(
    'div',
    { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
    h(
      'table',
      {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, headers.map((text) => h('th', { scope: 'col' }, text)))),
      h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((cell) => h('td', {}, cell))))),
    ),
  );
}

/** A description list of [term, value] pairs. */
export function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.map(([term, value]) => [h('dt', {}, term), h('dd', {}, value ?? '—')]));
}

/** A status chip: the word is always written, colour only adds to it. */
export function chip(text, tone = 'neutral') {
  return h('span', { class: `chip chip-${tone}` }, text);
}

export function toneOf(status) {
  if (['processed', 'paid', 'closed', 'matched', 'due'].includes(status)) return status === 'due' ? 'warn' : 'good';
  if (['failed', 'cancelled', 'open', 'returned', 'interrupted'].includes(status)) return 'bad';
  return 'neutral';
}
