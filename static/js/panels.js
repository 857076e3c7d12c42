// Findings, problems, reachability matrix, what-if and plan panels (DOM only, no innerHTML).
import { h, clear } from './dom.js';

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
export function renderFindings(el, findings, onPick, emptyText = 'No findings.') {
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
  if (!findings || !findings.length) take(`\u0000none${emptyText}`, () => h(findings ? 'li.ok' : 'li.note', {}, emptyText));
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
  f.commands && f.commands.length ? commandsBlock(f.commands) : null);
  const pick = () => {
    for (const x of el.querySelectorAll('.finding.active')) x.classList.remove('active');
    li.classList.add('active');
    onPick && onPick(f);
  };
  li.addEventListener('click', pick);
  li.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); pick(); } });
  return li;
}

/** Fix commands: wrapped, never clipped, with a button that copies them. */
export function commandsBlock(commands) {
  const text = commands.join('\n');
  const status = h('span.copy-status', { role: 'status', 'aria-live': 'polite' });
  const copy = h('button.copy', { type: 'button', title: 'Copy the commands to the clipboard' }, 'Copy');
  copy.addEventListener('click', async (e) => {
    e.stopPropagation(); // not a click on the finding card
    try {
      await navigator.clipboard.writeText(text);
      status.textContent = 'copied';
    } catch (_) {
      const range = document.createRange(); // no clipboard permission: select them for Ctrl+C
      range.selectNodeContents(pre);
      const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
      status.textContent = 'selected: press Ctrl+C';
    }
  });
  const pre = h('pre.commands', {}, text);
  return h('div.commands-box', {}, pre, h('div.commands-actions', {}, copy, status));
}

/**
 * Index a Prediction.to_dict(): endpoint -> class and parent, (class, class, same parent) ->
 * verdict, and the exception pairs (computed alone; they override their class verdict). Two
 * endpoints on one parent and two on different parents have separate verdicts.
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
  const exceptions = new Map();
  const exceptionsByClass = new Map();
  for (const x of pred.exceptions || []) {
    exceptions.set(`${x.from}>${x.to}`, x);
    const k = `${cls.get(x.from)}>${cls.get(x.to)}`;
    if (!exceptionsByClass.has(k)) exceptionsByClass.set(k, []);
    exceptionsByClass.get(k).push(x);
  }
  const key = (ca, cb, same) => `${ca}>${cb}>${hasSame ? (same ? 1 : 0) : ''}`;
  return {
    cls, parent, verdicts, exceptions,
    /** the verdict of endpoints a -> b (an exception pair's own, else its class verdict) */
    verdict(a, b) {
      return exceptions.get(`${a}>${b}`) || verdicts.get(key(cls.get(a), cls.get(b), parent.get(a) === parent.get(b))) || null;
    },
    /** the class verdict a -> b stands under (null for an exception pair) */
    classVerdict(a, b) {
      return exceptions.has(`${a}>${b}`) ? null : verdicts.get(key(cls.get(a), cls.get(b), parent.get(a) === parent.get(b))) || null;
    },
    /** every verdict between two classes (one per same/different parent, and the exception pairs) */
    classVerdicts(ca, cb) {
      return [...['>1', '>0', '>'].map((s) => verdicts.get(`${ca}>${cb}${s}`)).filter((v) => v && v.pairs !== 0),
        ...(exceptionsByClass.get(`${ca}>${cb}`) || [])];
    },
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

/**
 * Blocked pairs grouped by fix, as `mvplan predict` prints them: one entry per distinct
 * (reason, fix), with how many ordered pairs need it and up to three example pairs, most pairs
 * first. Class verdicts count their `pairs`, exception pairs one each.
 */
export function blockedGroups(pred) {
  const groups = new Map();
  const take = (v, pair, n) => {
    if (v.reachable || !n) return;
    const k = `${v.reason}\u0000${v.fix || ''}`;
    let g = groups.get(k);
    if (!g) { g = { reason: v.reason, fix: v.fix || '', message: v.message, pairs: 0, examples: [], timing: false }; groups.set(k, g); }
    g.pairs += n;
    if (v.timing) g.timing = true;
    if (g.examples.length < 3 && pair) g.examples.push(pair);
  };
  // the order Prediction.groups() walks: class pairs (same parent first), then the exceptions
  const vs = [...(pred.verdicts || [])].sort((a, b) => a.from - b.from || a.to - b.to || (b.same_parent ? 1 : 0) - (a.same_parent ? 1 : 0));
  for (const v of vs) take(v, v.example || null, v.pairs === undefined ? 1 : v.pairs);
  for (const x of pred.exceptions || []) take(x, [x.from, x.to], 1);
  const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  return [...groups.values()].sort((a, b) => b.pairs - a.pairs || cmp(a.reason, b.reason) || cmp(a.fix, b.fix));
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
