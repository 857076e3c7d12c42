// Findings, problems, reachability matrix, what-if and plan panels (DOM only, no innerHTML).
import { h, clear } from './dom.js';

export const MATRIX_ENDPOINT_LIMIT = 60;

export function renderProblems(el, problems, onPick) {
  clear(el);
  for (const p of problems || []) {
    el.append(h('li.problem', {},
      h('button.link', { type: 'button', onclick: () => onPick && onPick(p) }, h('code', {}, p.path || '(document)')),
      ' ', p.message));
  }
}

const findingItems = new WeakMap(); // list element -> Map(key -> [li, ...]) of the last render

/**
 * Findings as a list; a finding that was already shown keeps its element (and its highlight), so
 * an edit that changes one finding rewrites one item, not the whole panel.
 */
export function renderFindings(el, findings, onPick) {
  const before = findingItems.get(el) || new Map();
  const after = new Map();
  const items = [];
  const take = (key, make) => {
    const pool = before.get(key);
    const li = pool && pool.length ? pool.shift() : make();
    if (!after.has(key)) after.set(key, []);
    after.get(key).push(li);
    items.push(li);
    return li;
  };
  if (!findings || !findings.length) take('\u0000none', () => h('li.ok', {}, 'No findings.'));
  else findings.forEach((f, n) => { take(JSON.stringify(f), () => findingItem(el, f, onPick)).dataset.index = n; });
  findingItems.set(el, after);
  const same = el.children.length === items.length && items.every((li, i) => el.children[i] === li);
  if (!same) el.replaceChildren(...items);
}

function findingItem(el, f, onPick) {
  const li = h(`li.finding.sev-${f.severity}`, { tabindex: 0, 'data-code': f.code,
    title: 'Click to highlight the subjects on the drawing' },
  h('div.finding-head', {}, h('span.sev', {}, f.severity), ' ', h('code', {}, f.code), ' ', h('strong', {}, f.title),
    f.errno ? h('span.errno', {}, ` ${f.errno}`) : null),
  h('p', {}, f.message),
  f.subjects && f.subjects.length ? h('p.subjects', {}, f.subjects.map((s, i) => [i ? ', ' : '', h('code', {}, s)])) : null,
  f.fix ? h('p.fix', {}, h('span', {}, 'Fix: '), f.fix) : null,
  f.commands && f.commands.length ? h('pre.commands', {}, f.commands.join('\n')) : null);
  const pick = () => {
    for (const x of el.querySelectorAll('.finding.active')) x.classList.remove('active');
    li.classList.add('active');
    onPick && onPick(f);
  };
  li.addEventListener('click', pick);
  li.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); pick(); } });
  return li;
}

/**
 * Index a Prediction.to_dict(): endpoint -> class and parent, (class, class, same parent) -> verdict.
 * Two endpoints on one parent and two on different parents have separate verdicts.
 */
export function indexPrediction(pred) {
  const cls = new Map();
  const parent = new Map();
  for (const e of pred.endpoints || []) { cls.set(e.id, e.class); parent.set(e.id, e.parent || e.id); }
  const verdicts = new Map();
  let hasSame = false;
  for (const v of pred.verdicts || []) {
    if (v.same_parent !== undefined && v.same_parent !== null) hasSame = true;
    verdicts.set(`${v.from}>${v.to}>${v.same_parent === undefined || v.same_parent === null ? '' : v.same_parent ? 1 : 0}`, v);
  }
  const key = (ca, cb, same) => `${ca}>${cb}>${hasSame ? (same ? 1 : 0) : ''}`;
  return {
    cls, parent, verdicts,
    verdict(a, b) { return verdicts.get(key(cls.get(a), cls.get(b), parent.get(a) === parent.get(b))) || null; },
    /** every verdict between two classes (one per same/different parent) */
    classVerdicts(ca, cb) { return ['>1', '>0', '>'].map((s) => verdicts.get(`${ca}>${cb}${s}`)).filter(Boolean); },
  };
}

/** Endpoint ids per class, from the endpoints' `class` (the editor's compact answer has no `classes`). */
export function predictionClasses(pred) {
  if (Array.isArray(pred.classes)) return pred.classes;
  const out = [];
  for (const e of pred.endpoints || []) (out[e.class] = out[e.class] || []).push(e.id);
  for (let n = 0; n < out.length; n++) if (!out[n]) out[n] = [];
  return out;
}

const matrixState = new WeakMap(); // container -> {key, table, heads, rows, cells, summary, note, labels}

/**
 * The reachability grid: row reaches column; one row and column per endpoint, or per class of
 * endpoints when there are more than `limit`. The table is kept between renders while its rows
 * and columns stay the same endpoints (or classes): then only the cells whose verdict, symbol or
 * reason changed are written, so an edit repaints a few cells instead of rebuilding thousands.
 */
export function renderMatrix(el, pred, { onEndpoint, limit = MATRIX_ENDPOINT_LIMIT } = {}) {
  const eps = pred ? pred.endpoints || [] : [];
  if (!pred || !eps.length) {
    matrixState.delete(el);
    clear(el);
    el.append(h('p.note', {}, pred ? 'No endpoints: give interfaces an IPv4 address to see who reaches whom.' : 'No prediction yet.'));
    return;
  }
  const idx = indexPrediction(pred);
  const grouped = eps.length > limit;
  const labels = grouped
    ? predictionClasses(pred).map((m, n) => ({ id: `class ${n}`, label: `class ${n} (${m.length})`, title: m.slice(0, 20).join(', '), cls: n, members: m }))
    : eps.map((e) => ({ id: e.id, label: e.id, title: `${e.id} ${e.address || ''}`.trim(), cls: e.class, members: [e.id] }));
  const key = `${grouped ? 'classes' : 'endpoints'}\n${labels.map((l) => l.id).join('\n')}`;
  let st = matrixState.get(el);
  if (!st || st.key !== key || st.table.parentNode !== el) st = buildMatrix(el, labels, key, onEndpoint);
  st.labels = labels;
  st.idx = idx;
  let blocked = 0; let reach = 0;
  labels.forEach((a, i) => {
    setText(st.heads[i], a.label); setAttr(st.heads[i].parentNode, 'title', a.title);
    setText(st.rows[i], a.label); setAttr(st.rows[i].parentNode, 'title', a.title);
    labels.forEach((b, j) => {
      const td = st.cells[i][j];
      if (!grouped && a.id === b.id) { setCell(td, 'cell self', '·', 'same endpoint'); return; }
      if (grouped && a.cls === b.cls && a.members.length === 1) { setCell(td, 'cell self', '·', 'a class of one endpoint'); return; }
      const vs = grouped ? idx.classVerdicts(a.cls, b.cls) : [idx.verdict(a.id, b.id)].filter(Boolean);
      if (!vs.length) { setCell(td, 'cell unknown', '?', 'no verdict'); return; }
      const ok = vs.every((v) => v.reachable);
      const none = vs.every((v) => !v.reachable);
      if (ok) reach++; else blocked++;
      const why = vs.map((v) => `${v.reason}: ${v.message}${v.fix ? ' Fix: ' + v.fix : ''}`).join(' | ');
      const state = ok ? 'reach' : none ? 'block' : 'mixed';
      setCell(td, `cell ${state}`, ok ? '✓' : none ? '✗' : '±', `${a.label} → ${b.label}: ${why}`,
        { from: a.id, to: b.id, reason: vs.map((v) => v.reason).join(' ') });
    });
  });
  setText(st.summary, `${reach} reachable, ${blocked} blocked`);
  setText(st.note, grouped ? `${eps.length} endpoints grouped into ${labels.length} classes; ± means it depends on whether both hang off one parent.` : '');
  st.note.hidden = !grouped;
}

function buildMatrix(el, labels, key, onEndpoint) {
  const st = { key, heads: [], rows: [], cells: [] };
  const pick = (i) => onEndpoint && onEndpoint(st.labels[i], st.idx, st.labels);
  const table = h('table.matrix', { 'aria-label': 'reachability matrix: row reaches column' });
  const head = h('tr', {}, h('th.corner', { scope: 'col' }, 'from \\ to'));
  for (const l of labels) {
    const span = h('span', {}, l.label);
    head.append(h('th.col-head', { scope: 'col', title: l.title }, span));
    st.heads.push(span);
  }
  table.append(h('thead', {}, head));
  const body = h('tbody');
  labels.forEach((a, i) => {
    const button = h('button.link.endpoint', { type: 'button', 'data-endpoint': a.id, onclick: () => pick(i) }, a.label);
    const tr = h('tr', {}, h('th', { scope: 'row', title: a.title }, button));
    const row = [];
    for (let j = 0; j < labels.length; j++) { const td = h('td.cell'); row.push(td); tr.append(td); }
    st.rows.push(button);
    st.cells.push(row);
    body.append(tr);
  });
  table.append(body);
  st.table = table;
  st.summary = h('p.matrix-summary');
  st.note = h('p.note');
  clear(el);
  el.append(st.summary, table, st.note);
  matrixState.set(el, st);
  return st;
}

function setText(node, text) { if (node.textContent !== text) node.textContent = text; }
function setAttr(node, name, value) { if (node.getAttribute(name) !== value) node.setAttribute(name, value); }

function setCell(td, className, text, title, data) {
  if (td.className !== className) td.className = className;
  setText(td, text);
  setAttr(td, 'title', title);
  for (const k of ['from', 'to', 'reason']) {
    const v = data ? data[k] : undefined;
    if (v === undefined) { if (k in td.dataset) delete td.dataset[k]; } else if (td.dataset[k] !== v) td.dataset[k] = v;
  }
}

export function renderChanges(el, changes) {
  clear(el);
  if (!changes) return;
  const { gained = [], lost = [], gained_count: g = 0, lost_count: l = 0 } = changes;
  el.append(h('h3', {}, `Compared with the design: ${g} pairs gained, ${l} lost`));
  const ul = h('ul.diff-list');
  for (const p of gained.slice(0, 50)) ul.append(h('li.gained', { title: p.message }, '+ ', h('code', {}, p.from), ' → ', h('code', {}, p.to)));
  for (const p of lost.slice(0, 50)) ul.append(h('li.lost', { title: p.message + (p.fix ? ` Fix: ${p.fix}` : '') }, '− ', h('code', {}, p.from), ' → ', h('code', {}, p.to), ' ', h('span.reason', {}, p.reason)));
  if (gained.length + lost.length > 100) el.append(h('p.note', {}, 'Only the first 50 of each are listed.'));
  el.append(ul);
}

/** What-if toggles for every hairpin-capable port and every parent. */
export function renderWhatIf(el, doc, state, onChange) {
  clear(el);
  const ports = [];
  for (const s of doc.switches || []) for (const p of s.ports || []) ports.push({ key: `switch:${s.name}/${p.name}`, on: !!p.hairpin });
  for (const host of doc.hosts || []) for (const b of host.bridges || []) for (const p of b.ports || []) ports.push({ key: `bridge:${host.name}/${b.name}/${p.name}`, on: !!p.hairpin });
  const parents = [];
  for (const host of doc.hosts || []) for (const p of host.parents || []) parents.push({ id: `${host.name}/${p.name}`, down: p.state === 'down' });
  const fs1 = h('fieldset', {}, h('legend', {}, 'Hairpin (reflective relay) per port'));
  if (!ports.length) fs1.append(h('p.note', {}, 'No switch or bridge ports.'));
  for (const p of ports) {
    const on = p.key in state.hairpin ? state.hairpin[p.key] : p.on;
    const id = `wi-hp-${p.key}`;
    fs1.append(h('div.check', {}, h('input', { type: 'checkbox', id, checked: on, 'data-port': p.key,
      onchange: (e) => { if (e.target.checked === p.on) delete state.hairpin[p.key]; else state.hairpin[p.key] = e.target.checked; onChange(); } }),
    h('label', { for: id }, p.key)));
  }
  const fs2 = h('fieldset', {}, h('legend', {}, 'Parent link down'));
  if (!parents.length) fs2.append(h('p.note', {}, 'No parents.'));
  for (const p of parents) {
    const id = `wi-down-${p.id}`;
    fs2.append(h('div.check', {}, h('input', { type: 'checkbox', id, checked: p.down || state.down.includes(p.id), disabled: p.down, 'data-parent': p.id,
      onchange: (e) => { state.down = state.down.filter((x) => x !== p.id); if (e.target.checked) state.down.push(p.id); onChange(); } }),
    h('label', { for: id }, p.id + (p.down ? ' (down in the design)' : ''))));
  }
  el.append(fs1, fs2);
}

export function renderPlan(el, ops) {
  clear(el);
  for (const op of ops) el.append(h('li', { 'data-index': op.index }, h('code', {}, op.description)));
}
