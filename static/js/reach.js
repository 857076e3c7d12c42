// The Reachability tab: the grid (row reaches column), one endpoint's row and column, the
// members of each class, blocked pairs grouped by fix (as `mvplan predict` prints them), and the
// explanation of one pair with every hop both ways (POST /api/explain, worded for that pair).
import { h, clear, debounce } from './dom.js';
import { indexPrediction, predictionClasses, blockedGroups } from './panels.js';

/** More endpoints than this: one row and column per class of endpoints. */
export const MATRIX_ENDPOINT_LIMIT = 60;
const TIMING = 'timing-dependent: the outcome depends on a race in the kernel';

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function setText(node, text) { if (node.textContent !== text) node.textContent = text; }
function setAttr(node, name, value) { if (node.getAttribute(name) !== value) node.setAttribute(name, value); }

function setCell(td, className, text, title, data) {
  if (td.className !== className) td.className = className;
  setText(td, text);
  setAttr(td, 'title', title);
  for (const k of ['from', 'to', 'reason', 'exFrom', 'exTo']) {
    const v = data ? data[k] : undefined;
    if (v === undefined) { if (k in td.dataset) delete td.dataset[k]; } else if (td.dataset[k] !== v) td.dataset[k] = v;
  }
}

/** The state of a set of verdicts: reach, block or mixed; its symbol. */
function stateOf(vs) {
  const ok = vs.every((v) => v.reachable);
  const none = vs.every((v) => !v.reachable);
  return ok ? ['reach', '✓'] : none ? ['block', '✗'] : ['mixed', '±'];
}

const verdictLine = (v) => `${v.reachable ? 'reachable' : 'blocked'} (${v.reason})`;

/**
 * The title of an endpoint cell a -> b before the pair is explained: its verdict's own words
 * when the verdict was worded for this very pair, else the reason code and the fix its class
 * shares (hovering asks the server for the wording of a -> b).
 */
function endpointTitle(a, b, v, classV) {
  const exact = !classV || (classV.example && classV.example[0] === a && classV.example[1] === b);
  let t = `${a} → ${b}: ${verdictLine(v)}`;
  if (exact) t += `: ${v.message}`;
  if (v.fix) t += ` Fix: ${v.fix}`;
  if (v.timing) t += ` (${TIMING})`;
  return t;
}

function classTitle(a, b, vs) {
  const [state] = stateOf(vs);
  const head = `${a.label} → ${b.label}: ${state === 'mixed' ? 'depends on the pair' : state === 'reach' ? 'every pair reachable' : 'every pair blocked'}`;
  const parts = vs.map((v) => {
    const ex = v.example ? `${v.example[0]} → ${v.example[1]}` : `${v.from} → ${v.to}`;
    return `${verdictLine(v)}, e.g. ${ex}: ${v.message}${v.fix ? ` Fix: ${v.fix}` : ''}${v.timing ? ` (${TIMING})` : ''}`;
  });
  return `${head}. ${parts.join(' | ')}`;
}

/**
 * Wire the panel. `explain(from, to)` resolves to the verdict JSON of one pair (POST /api/explain);
 * `onEndpoint(label)` highlights an endpoint (or class) on the canvas.
 */
export function initReach({ matrix, explainBox, groupsBox, membersBox, filterInput, filterList, filterClear, explain, onEndpoint }) {
  let pred = null;
  let idx = null;
  let st = null; // the grid kept between renders while its rows and columns stay the same
  let filter = '';
  let shownPair = null;
  const titles = new Map(); // "a>b" -> explained title, for the prediction on screen

  function render(p, { problems = false } = {}) {
    if (p !== pred) titles.clear();
    pred = p;
    const eps = pred ? pred.endpoints || [] : [];
    if (!pred || !eps.length) {
      st = null;
      clear(matrix);
      matrix.append(h('p.note', {}, problems ? 'Fix the problems listed under Findings to see the prediction.'
        : pred ? 'No endpoints: give interfaces an address to see who reaches whom.' : 'No prediction yet.'));
      clear(groupsBox); clear(membersBox); clear(filterList);
      explainBox.hidden = true;
      return;
    }
    idx = indexPrediction(pred);
    // the endpoint suggestions (a <datalist> of every endpoint) are filled when the field is
    // used, not on every edit: 1,000 options rebuilt per check cost the matrix trip ~20 ms
    listEps = eps;
    if (document.activeElement === filterInput) fillEndpointList(eps);
    if (filter && !idx.cls.has(filter)) filter = '';
    const grouped = eps.length > MATRIX_ENDPOINT_LIMIT;
    const classes = predictionClasses(pred);
    if (filter) renderFocus(eps, classes, grouped);
    else renderGrid(eps, classes, grouped);
    renderGroups();
    renderMembers(classes, grouped);
    if (shownPair && !explainBox.hidden) showExplain(shownPair[0], shownPair[1], { quiet: true });
  }

  function summaryText() {
    const s = pred.summary || {};
    const n = (pred.endpoints || []).length;
    const pairs = s.pairs ?? n * (n - 1);
    const reach = s.reachable_pairs ?? 0;
    const family = s.family === 6 ? ' over IPv6' : '';
    return `${reach} of ${plural(pairs, 'ordered pair')} reachable${family}, ${pairs - reach} blocked`;
  }

  // ---------------------------------------------------------------- the grid
  function renderGrid(eps, classes, grouped) {
    const labels = grouped
      ? classes.map((m, n) => ({ id: `class ${n}`, label: `class ${n} (${m.length})`, title: `class ${n}: ${m.join(', ')}`, cls: n, members: m }))
      : eps.map((e) => ({ id: e.id, label: e.id, title: `${e.id} ${e.address || ''}`.trim(), cls: e.class, members: [e.id] }));
    const key = `${grouped ? 'classes' : 'endpoints'}\n${labels.map((l) => l.id).join('\n')}`;
    if (!st || st.key !== key || st.table.parentNode !== matrix) st = buildGrid(labels, key);
    st.labels = labels;
    labels.forEach((a, i) => {
      setText(st.heads[i], a.label); setAttr(st.heads[i].parentNode, 'title', a.title);
      setText(st.rows[i], a.label); setAttr(st.rows[i].parentNode, 'title', a.title);
      labels.forEach((b, j) => {
        const td = st.cells[i][j];
        if (!grouped && a.id === b.id) { setCell(td, 'cell self', '·', 'same endpoint'); return; }
        if (grouped && a.cls === b.cls && a.members.length === 1) { setCell(td, 'cell self', '·', 'a class of one endpoint'); return; }
        const vs = grouped ? idx.classVerdicts(a.cls, b.cls) : [idx.verdict(a.id, b.id)].filter(Boolean);
        if (!vs.length) { setCell(td, 'cell unknown', '?', 'no verdict'); return; }
        const [state, sym] = stateOf(vs);
        const timing = vs.some((v) => v.timing);
        const title = grouped ? classTitle(a, b, vs)
          : titles.get(`${a.id}>${b.id}`) || endpointTitle(a.id, b.id, vs[0], idx.classVerdict(a.id, b.id));
        const ex = vs[0].example || [vs[0].from, vs[0].to]; // a class verdict's example, or an exception pair
        setCell(td, `cell ${state}${timing ? ' timing' : ''}`, sym, title,
          { from: a.id, to: b.id, reason: vs.map((v) => v.reason).join(' '), exFrom: grouped ? ex[0] : undefined, exTo: grouped ? ex[1] : undefined });
      });
    });
    setText(st.summary, summaryText());
    setText(st.note, grouped ? `${eps.length} endpoints grouped into ${labels.length} classes; ± means it depends on the pair (whether both hang off one parent, or a pair computed alone). The members of each class are listed below.` : '');
    st.note.hidden = !grouped;
  }

  function buildGrid(labels, key) {
    const g = { key, heads: [], rows: [], cells: [] };
    const table = h('table.matrix', { 'aria-label': 'reachability matrix: row reaches column' });
    const head = h('tr', {}, h('th.corner', { scope: 'col' }, 'from \\ to'));
    for (const l of labels) {
      const span = h('span', {}, l.label);
      head.append(h('th.col-head', { scope: 'col', title: l.title }, span));
      g.heads.push(span);
    }
    table.append(h('thead', {}, head));
    const body = h('tbody');
    labels.forEach((a, i) => {
      const button = h('button.link.endpoint', { type: 'button', 'data-endpoint': a.id, onclick: () => onEndpoint && onEndpoint(g.labels[i]) }, a.label);
      const tr = h('tr', {}, h('th', { scope: 'row', title: a.title }, button));
      const row = [];
      for (let j = 0; j < labels.length; j++) { const td = h('td.cell'); row.push(td); tr.append(td); }
      g.rows.push(button);
      g.cells.push(row);
      body.append(tr);
    });
    table.append(body);
    g.table = table;
    g.summary = h('p.matrix-summary');
    g.note = h('p.note');
    clear(matrix);
    matrix.append(g.summary, table, g.note);
    return g;
  }

  // ---------------------------------------------------------------- one endpoint's row and column
  function renderFocus(eps, classes, grouped) {
    st = null;
    const x = filter;
    const table = h('table.matrix.focus', { 'aria-label': `row and column of ${x}` });
    table.append(h('thead', {}, h('tr', {}, h('th.corner', { scope: 'col' }, grouped ? 'class' : 'endpoint'),
      h('th', { scope: 'col' }, `${x} → it`), h('th', { scope: 'col' }, `it → ${x}`))));
    const body = h('tbody');
    const cell = (vs, from, to, title) => {
      if (!vs.length) return h('td.cell.unknown', { title: 'no verdict' }, '?');
      const [state, sym] = stateOf(vs);
      return h(`td.cell.${state}${vs.some((v) => v.timing) ? '.timing' : ''}`, { title, 'data-from': from, 'data-to': to }, sym);
    };
    if (!grouped) {
      for (const e of eps) {
        if (e.id === x) continue;
        const out = [idx.verdict(x, e.id)].filter(Boolean);
        const back = [idx.verdict(e.id, x)].filter(Boolean);
        body.append(h('tr', {}, h('th', { scope: 'row' }, e.id),
          cell(out, x, e.id, out.length ? titles.get(`${x}>${e.id}`) || endpointTitle(x, e.id, out[0], idx.classVerdict(x, e.id)) : ''),
          cell(back, e.id, x, back.length ? titles.get(`${e.id}>${x}`) || endpointTitle(e.id, x, back[0], idx.classVerdict(e.id, x)) : '')));
      }
    } else {
      classes.forEach((members, k) => {
        const others = members.filter((m) => m !== x);
        if (!others.length) return;
        const out = focusVerdicts(x, others, true);
        const back = focusVerdicts(x, others, false);
        const label = { label: `class ${k} (${members.length})` };
        body.append(h('tr', {}, h('th', { scope: 'row', title: members.join(', ') }, label.label),
          cell(out, x, `class ${k}`, classTitle({ label: x }, label, out)),
          cell(back, `class ${k}`, x, classTitle(label, { label: x }, back))));
      });
    }
    table.append(body);
    const reachOut = eps.filter((e) => e.id !== x && (idx.verdict(x, e.id) || {}).reachable).length;
    const reachIn = eps.filter((e) => e.id !== x && (idx.verdict(e.id, x) || {}).reachable).length;
    clear(matrix);
    matrix.append(h('p.matrix-summary', {}, `${x} reaches ${reachOut} of ${eps.length - 1} endpoints; ${reachIn} reach it. `, summaryText(), ' in the whole design.'),
      table);
  }

  /** The verdicts between endpoint x and some members of one class, x first (`out`) or last. */
  function focusVerdicts(x, members, out) {
    const seen = new Map();
    for (const m of members) {
      const v = out ? idx.verdict(x, m) : idx.verdict(m, x);
      if (v && !seen.has(v)) seen.set(v, v);
    }
    return [...seen.values()];
  }

  let listEps = [];
  function fillEndpointList(eps) {
    if (filterList.childElementCount === eps.length && filterList.dataset.key === String(eps.length) + (eps[0] || {}).id) return;
    clear(filterList);
    for (const e of eps) filterList.append(h('option', { value: e.id }, e.address || ''));
    filterList.dataset.key = String(eps.length) + (eps[0] || {}).id;
  }

  function setFilter(id) {
    filter = id && idx && idx.cls.has(id) ? id : '';
    if (filterInput.value !== filter && (!id || filter)) filterInput.value = filter;
    filterInput.setAttribute('aria-invalid', id && !filter ? 'true' : 'false');
    render(pred);
  }

  // ---------------------------------------------------------------- blocked pairs by fix
  function renderGroups() {
    clear(groupsBox);
    const groups = blockedGroups(pred);
    if (!groups.length) return;
    const total = groups.reduce((n, g) => n + g.pairs, 0);
    groupsBox.append(h('h3', {}, `Blocked: ${plural(total, 'ordered pair')}, ${plural(groups.length, 'distinct fix', 'distinct fixes')}`));
    const ol = h('ol.blocked-groups');
    for (const g of groups) {
      const [a, b] = g.examples[0] || ['?', '?'];
      const more = g.pairs > 1 ? ` (and ${plural(g.pairs - 1, 'more pair')} with this fix)` : '';
      ol.append(h('li', { 'data-reason': g.reason, 'data-pairs': g.pairs },
        h('button.link.pair', { type: 'button', 'data-from': a, 'data-to': b, onclick: () => showExplain(a, b) }, `${a} → ${b}`),
        `: ${g.reason}${more}`, g.timing ? h('span.timing-mark', { title: TIMING }, ' timing-dependent') : null,
        h('div.fix', {}, h('span', {}, 'Fix: '), g.fix || '(none found)')));
    }
    groupsBox.append(ol);
  }

  // ---------------------------------------------------------------- class members
  // A few hundred members are listed open; more behind their summary (a closed <details> is not
  // laid out, and a 1,000-endpoint list laid out on every edit cost the matrix a frame). The
  // user's open/closed choice is kept across edits.
  const MEMBERS_OPEN_MAX = 200;
  let membersOpen = null;
  function renderMembers(classes, grouped) {
    clear(membersBox);
    if (!grouped) return;
    const total = classes.reduce((n, m) => n + m.length, 0);
    const open = membersOpen ?? total <= MEMBERS_OPEN_MAX;
    const ol = h('ol.class-members', { start: 0 });
    classes.forEach((m, n) => ol.append(h('li', { 'data-class': n }, h('strong', {}, `class ${n}`), ` (${m.length}): `, m.join(', '))));
    const box = h('details', { open, 'data-auto': String(open) },
      h('summary', {}, h('h3', {}, `Members of the ${classes.length} classes (${plural(total, 'endpoint')})`)), ol);
    // (a details created open fires a toggle too: only a change from the automatic state counts)
    box.addEventListener('toggle', () => { if (String(box.open) !== box.dataset.auto) membersOpen = box.open; });
    membersBox.append(box);
  }

  // ---------------------------------------------------------------- one pair explained
  async function showExplain(a, b, { quiet = false } = {}) {
    shownPair = [a, b];
    explainBox.hidden = false;
    if (!quiet) { clear(explainBox); explainBox.append(h('p.note', {}, `Explaining ${a} → ${b}…`)); }
    let v;
    try {
      v = await explain(a, b);
    } catch (e) {
      clear(explainBox);
      explainBox.append(h('p.error', {}, `Cannot explain ${a} → ${b}: ${e.message}`));
      return;
    }
    if (!shownPair || shownPair[0] !== a || shownPair[1] !== b) return;
    clear(explainBox);
    const hops = (list, dir, empty) => (list && list.length
      ? h('ol.hops', { 'data-direction': dir }, list.map((x) => h('li', {}, x)))
      : h('p.note', { 'data-direction': dir }, empty));
    explainBox.dataset.from = a; explainBox.dataset.to = b;
    explainBox.append(
      h('h3', {}, `${a} → ${b}: `, h(`span.${v.reachable ? 'ok' : 'error'}`, {}, v.reachable ? 'REACHABLE' : 'BLOCKED'), ` (${v.reason})`),
      h('p', {}, v.message),
      v.meaning ? h('p.note', {}, `${v.reason}: ${v.meaning}`) : null,
      v.timing ? h('p.timing-mark', {}, `Timing-dependent: ${TIMING}.`) : null,
      v.fix ? h('p.fix', {}, h('span', {}, 'Fix: '), v.fix) : null,
      h('h4', {}, `There: the echo request (${plural((v.hops || []).length, 'hop')})`),
      hops(v.hops, 'there', 'The request is never sent.'),
      h('h4', {}, `Back: the echo reply (${plural((v.reply_hops || []).length, 'hop')})`),
      hops(v.reply_hops, 'back', v.reachable ? 'Delivered locally.' : 'No reply comes back: the request did not get through.'),
      h('button.link', { type: 'button', onclick: () => { explainBox.hidden = true; shownPair = null; } }, 'Close'));
  }

  /** Hovering an endpoint cell words its title for that pair. */
  const explainTitle = debounce(async (td) => {
    const a = td.dataset.from; const b = td.dataset.to;
    if (!a || !b || a.startsWith('class ') || b.startsWith('class ') || titles.has(`${a}>${b}`)) return;
    try {
      const v = await explain(a, b);
      const t = `${a} → ${b}: ${verdictLine(v)}: ${v.message}${v.fix ? ` Fix: ${v.fix}` : ''}${v.timing ? ` (${TIMING})` : ''}`;
      titles.set(`${a}>${b}`, t);
      if (td.dataset.from === a && td.dataset.to === b) td.title = t;
    } catch (_) { /* the title keeps its short form */ }
  }, 120);

  matrix.addEventListener('mouseover', (e) => {
    const td = e.target.closest && e.target.closest('td.cell[data-from]');
    if (td) explainTitle(td);
  });
  matrix.addEventListener('click', (e) => {
    const td = e.target.closest && e.target.closest('td.cell[data-from]');
    if (!td) return;
    const a = td.dataset.from; const b = td.dataset.to;
    if (td.dataset.exFrom) showExplain(td.dataset.exFrom, td.dataset.exTo); // a class cell: its example pair
    else showExplain(a, b);
  });
  filterInput.addEventListener('focus', () => fillEndpointList(listEps));
  filterInput.addEventListener('change', () => setFilter(filterInput.value.trim()));
  filterClear.addEventListener('click', () => { filterInput.value = ''; setFilter(''); });

  return { render, showExplain, setFilter, invalidate: () => titles.clear() };
}
