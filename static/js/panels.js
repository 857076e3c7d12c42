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

export function renderFindings(el, findings, onPick) {
  clear(el);
  if (!findings || !findings.length) { el.append(h('li.ok', {}, 'No findings.')); return; }
  findings.forEach((f, n) => {
    const li = h(`li.finding.sev-${f.severity}`, { tabindex: 0, 'data-code': f.code, 'data-index': n,
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
    el.append(li);
  });
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

export function renderMatrix(el, pred, { onEndpoint, limit = MATRIX_ENDPOINT_LIMIT } = {}) {
  clear(el);
  if (!pred) { el.append(h('p.note', {}, 'No prediction yet.')); return; }
  const eps = pred.endpoints || [];
  if (!eps.length) { el.append(h('p.note', {}, 'No endpoints: give interfaces an IPv4 address to see who reaches whom.')); return; }
  const idx = indexPrediction(pred);
  const grouped = eps.length > limit;
  const labels = grouped
    ? (pred.classes || []).map((m, n) => ({ id: `class ${n}`, label: `class ${n} (${m.length})`, title: m.slice(0, 20).join(', '), cls: n, members: m }))
    : eps.map((e) => ({ id: e.id, label: e.id, title: `${e.id} ${e.address || ''}`.trim(), cls: e.class, members: [e.id] }));
  const table = h('table.matrix', { 'aria-label': 'reachability matrix: row reaches column' });
  const head = h('tr', {}, h('th.corner', { scope: 'col' }, 'from \\ to'));
  for (const l of labels) head.append(h('th.col-head', { scope: 'col', title: l.title }, h('span', {}, l.label)));
  table.append(h('thead', {}, head));
  const body = h('tbody');
  let blocked = 0; let reach = 0;
  for (const a of labels) {
    const tr = h('tr', {}, h('th', { scope: 'row', title: a.title },
      h('button.link.endpoint', { type: 'button', 'data-endpoint': a.id, onclick: () => onEndpoint && onEndpoint(a, idx, labels) }, a.label)));
    for (const b of labels) {
      if (!grouped && a.id === b.id) { tr.append(h('td.cell.self', { title: 'same endpoint' }, '·')); continue; }
      if (grouped && a.cls === b.cls && a.members.length === 1) { tr.append(h('td.cell.self', { title: 'a class of one endpoint' }, '·')); continue; }
      const vs = grouped ? idx.classVerdicts(a.cls, b.cls) : [idx.verdict(a.id, b.id)].filter(Boolean);
      if (!vs.length) { tr.append(h('td.cell.unknown', { title: 'no verdict' }, '?')); continue; }
      const ok = vs.every((v) => v.reachable);
      const none = vs.every((v) => !v.reachable);
      if (ok) reach++; else blocked++;
      const why = vs.map((v) => `${v.reason}: ${v.message}${v.fix ? ' Fix: ' + v.fix : ''}`).join(' | ');
      const state = ok ? 'reach' : none ? 'block' : 'mixed';
      tr.append(h(`td.cell.${state}`, { title: `${a.label} → ${b.label}: ${why}`, 'data-from': a.id, 'data-to': b.id,
        'data-reason': vs.map((v) => v.reason).join(' ') }, ok ? '✓' : none ? '✗' : '±'));
    }
    body.append(tr);
  }
  table.append(body);
  el.append(h('p.matrix-summary', {}, `${reach} reachable, ${blocked} blocked`), table);
  if (grouped) el.append(h('p.note', {}, `${eps.length} endpoints grouped into ${labels.length} classes; ± means it depends on whether both hang off one parent.`));
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
