// The designer: canvas, palette, properties, live check, what-if, plan, undo/redo, autosave.
import cytoscape from '../vendor/cytoscape/cytoscape.esm.min.mjs';
import * as M from './model.js';
import { api, ApiError, download, jsonLines, JSONText } from './api.js';
import { h, $, $$, debounce, clear } from './dom.js';
import * as P from './panels.js';
import { renderProps, showFieldProblems } from './props.js';
import { initApply } from './apply.js';
import * as G from './groups.js';
import { describe, nameOf } from './words.js';
import { countText, findingMarks, Tooltip, worst } from './marks.js';
import { initReach } from './reach.js';
import { findingIndex, search } from './search.js';
import { initLive } from './live.js';
import { stylesheetFor, zoomBand } from './style.js';
import { speedUp } from './cyfast.js';

if (window.cytoscapeEdgehandles) cytoscape.use(window.cytoscapeEdgehandles);

// performance marks 'mvplan:*' split the first render into phases (bench/browser_render.py prints them)
performance.mark('mvplan:module');
const boot = JSON.parse($('#design-data').textContent);
// the documents were just parsed: normalised in place, not copied
const start = M.normalize(boot.draft ? boot.draft.document : boot.document, { copy: false });
// the saved version as the editor holds it; without a draft it is where the editor starts, and
// it is serialised once its first drawing has placed what had no place (see the start below):
// one normalisation and one serialisation of a 10,000-child document
const savedJSON = boot.draft ? JSON.stringify(M.normalize(boot.document, { copy: false }).doc) : null;
const S = {
  id: boot.id,
  version: boot.draft ? boot.draft.base_version : boot.version,
  latest: boot.version,
  doc: start.doc,
  savedJSON,
  draftOnServer: !!boot.draft,
  undo: [],
  redo: [],
  selected: null,
  check: null,
  problems: [],
  whatIf: { hairpin: {}, down: [] },
  family: 4, // the address family the reachability panel shows (6: the check answer's `ipv6` prediction)
  whatIfResult: null,
  connect: false,
  resolved: new Map(),
  pathIndex: new Map(),
  rev: 0, // bumped by every edit of the document
  checkSeq: 0, // check requests sent
  capabilities: boot.capabilities || {},
  timings: { checks: 0 },
  allData: new Map(), // every element of the design by id, drawn or inside a collapsed group
  nsIndex: new Map(), // namespace id -> interface ids in it
  drawn: null, // what sync() drew: {nodes, edges, drawnAs, groups}
};
const grouping = G.initialState(start.doc); // semantic zoom: which children are drawn as one node
window.mvplan = S;
performance.mark('mvplan:state');
let applyPanel = null; // the Apply tab (apply.js), when the server allows applying

// ------------------------------------------------------------------ canvas
// The first drawing's view is built before the canvas: the zoom fitView() will choose for it
// picks the stylesheet Cytoscape starts with. Started with band 0's and given the fitted band's
// in the first sync, Cytoscape parsed a stylesheet (and its own default one) twice.
const FIT_PADDING = 40; // fitView()
const FIT_MAX_ZOOM = 1.4;
const firstView = (() => {
  const pos = positions();
  if (!Object.keys(pos).length) Object.assign(pos, M.tidyLayout(S.doc));
  const view = buildView(pos);
  const box = $('#cy');
  return { view, band: zoomBand(fitZoomOf(view.nodes, pos, box.clientWidth, box.clientHeight)) };
})();
let band = firstView.band; // the label size band of the zoom level (style.js)
const cy = cytoscape({
  container: $('#cy'),
  style: stylesheetFor(band),
  elements: [],
  boxSelectionEnabled: false,
  selectionType: 'single',
  minZoom: 0.05,
  maxZoom: 3,
});
window.cy = cy;
speedUp(cy); // styling with compound boxes without a collection per style property (cyfast.js)

const eh = cy.edgehandles ? cy.edgehandles({
  canConnect: (s, t) => !!M.planConnect(S.doc, s.data(), t.data()),
  edgeParams: () => ({ data: { kind: 'drawn' } }),
  snap: false,
  hoverDelay: 80,
  noEdgeEventsInDraw: true,
  disableBrowserGestures: true,
}) : null;

let connected = false; // this drag made its cable (ehcomplete comes before ehstop)
cy.on('ehstart', () => { connected = false; });
cy.on('ehcomplete', (evt, src, tgt, added) => {
  if (added) added.remove();
  connected = true;
  connectNodes(src.data(), tgt.data());
});
// a drag that ends anywhere else either still means a cable (released over a valid end before
// the hover delay) or gets told why not: a drag in connect mode never ends in silence
// edgehandles emits ({type, position}, source): the position is on the event, not an argument
cy.on('ehstop', (evt, src) => {
  const position = evt.position;
  if (connected || !src || src.empty() || !position) return;
  connected = true;
  const under = nodeAt(position, src);
  if (!under) { hint(`Drop the end on a node: dragging from ${describe(src.data(), nodeData)} ${M.connectHint(src.data())}`, 'warning'); return; }
  const plan = M.planConnect(S.doc, src.data(), under.data());
  if (plan) { connectNodes(src.data(), under.data()); return; }
  hint(`No cable: ${M.whyNotConnect(src.data(), under.data(), nameOf)}`, 'warning');
});

function connectNodes(a, b) {
  const plan = M.planConnect(S.doc, a, b);
  if (!plan) { hint(`No cable: ${M.whyNotConnect(a, b, nameOf)}`, 'warning'); return; }
  let message = '';
  const ok = commit('connect', (doc) => { message = M.applyConnect(doc, plan); });
  if (ok) hint(message);
}

/** The innermost node under a model position (leaves before boxes), other than `not`. */
function nodeAt(p, not) {
  let best = null;
  cy.nodes().forEach((n) => {
    if (n.same(not) || n.hasClass('eh-ghost') || n.hasClass('eh-handle')) return;
    const bb = n.boundingBox({ includeLabels: false, includeOverlays: false });
    if (p.x < bb.x1 || p.x > bb.x2 || p.y < bb.y1 || p.y > bb.y2) return;
    if (!best || (best.isParent() && !n.isParent()) || best.ancestors().contains(n) === false && n.ancestors().contains(best)) best = n;
  });
  return best;
}

function hint(text, level = 'info') {
  const el = $('#hint');
  el.textContent = text;
  el.dataset.level = level;
}

// ------------------------------------------------------------------ sync document -> canvas
function positions() {
  S.doc.layout = S.doc.layout && typeof S.doc.layout === 'object' ? S.doc.layout : {};
  if (!S.doc.layout.positions || typeof S.doc.layout.positions !== 'object') S.doc.layout.positions = {};
  return S.doc.layout.positions;
}

function freeSpot(x, y) {
  const taken = cy.nodes().filter((n) => n.isChildless()).map((n) => n.position());
  for (let i = 0; i < 200; i++) {
    const px = x + (i % 10) * 140; const py = y + Math.floor(i / 10) * 90;
    if (!taken.some((p) => Math.abs(p.x - px) < 100 && Math.abs(p.y - py) < 60)) return { x: px, y: py };
  }
  return { x, y };
}

function placeNew(data) {
  const pos = positions();
  if (pos[data.id]) return { ...pos[data.id] };
  const leaves = cy.nodes().filter((n) => n.isChildless());
  const all = leaves.nonempty() ? cy.elements().boundingBox() : null;
  let anchor = null;
  const lower = cy.getElementById(`lower:${data.id}`);
  if (data.kind === 'switch' && all) anchor = { x: all.x1 + 40, y: all.y1 - 140 };
  else if (data.kind === 'host' && all) anchor = { x: all.x1 + 40, y: all.y2 + 140 };
  else if (data.kind === 'station') {
    const st = (S.doc.stations || []).find((x) => `station:${x.name}` === data.id);
    const port = st && st.uplink ? cy.getElementById(`switch:${st.uplink.switch}/${st.uplink.port}`) : null;
    if (port && port.nonempty()) anchor = { x: port.position().x, y: port.position().y - 110 };
  } else if (data.kind === 'port' || data.kind === 'bport') {
    const sibs = cy.nodes(`[kind = "${data.kind}"]`).filter((n) => n.data('parent') === data.parent && (data.kind === 'port' || n.data('bridge') === data.bridge));
    if (sibs.nonempty()) { const bb = sibs.boundingBox(); anchor = { x: bb.x2 + 50, y: (bb.y1 + bb.y2) / 2 }; }
    else if (data.kind === 'bport') {
      const br = cy.getElementById(M.ifaceId(data.host, data.bridge));
      if (br.nonempty()) anchor = { x: br.position().x, y: br.position().y + 90 };
    }
  } else if (data.kind === 'peer') {
    const port = cy.getElementById(data.path ? (buildPortId(data)) : '');
    if (port.nonempty()) anchor = { x: port.position().x, y: port.position().y + 90 };
  }
  if (!anchor && data.kind === 'child' && lower.nonempty()) { const p = lower.target().position(); anchor = { x: p.x, y: p.y + 100 }; }
  if (!anchor && data.kind === 'child') {
    const sibs = cy.nodes('.child').filter((n) => n.data('host') === data.host);
    if (sibs.nonempty()) { const bb = sibs.boundingBox(); anchor = { x: bb.x2 + 80, y: bb.y2 - 40 }; }
  }
  if (!anchor && data.parent) {
    const par = cy.getElementById(data.parent);
    if (par.nonempty()) {
      const kids = par.children();
      if (kids.nonempty()) {
        const bb = kids.boundingBox();
        anchor = (data.kind === 'child') ? { x: bb.x1 + 14, y: bb.y2 + 60 } : { x: bb.x2 + 70, y: bb.y1 + 14 };
      } else anchor = { x: par.position().x, y: par.position().y };
    }
  }
  if (!anchor) {
    const ext = cy.extent();
    anchor = { x: (ext.x1 + ext.x2) / 2, y: (ext.y1 + ext.y2) / 2 };
  }
  return freeSpot(anchor.x, anchor.y);
}

function buildPortId(data) {
  const port = M.getAt(S.doc, data.path.replace(/\.peer$/, ''));
  return port ? M.ifaceId(data.host, port.name) : '';
}

/** Bring `eles` into view without losing what is on screen: zoom out (never in) until both fit. */
function fitIfOutside(eles) {
  if (!eles || eles.empty()) return;
  const ext = cy.extent(); const bb = eles.boundingBox();
  if (bb.x1 >= ext.x1 && bb.x2 <= ext.x2 && bb.y1 >= ext.y1 && bb.y2 <= ext.y2) return;
  const shown = cy.elements().filter((el) => { const b = el.boundingBox(); return b.x1 >= ext.x1 && b.x2 <= ext.x2 && b.y1 >= ext.y1 && b.y2 <= ext.y2; });
  const keep = shown.nonempty() ? shown.boundingBox() : bb;
  const u = { x1: Math.min(keep.x1, bb.x1), y1: Math.min(keep.y1, bb.y1), x2: Math.max(keep.x2, bb.x2), y2: Math.max(keep.y2, bb.y2) };
  const pad = 30;
  const z = Math.max(cy.minZoom(), Math.min(cy.zoom(), (cy.width() - 2 * pad) / Math.max(1, u.x2 - u.x1), (cy.height() - 2 * pad) / Math.max(1, u.y2 - u.y1)));
  cy.viewport({ zoom: z, pan: { x: cy.width() / 2 - z * (u.x1 + u.x2) / 2, y: cy.height() / 2 - z * (u.y1 + u.y2) / 2 } });
}

const ensureVisible = (id) => fitIfOutside(cy.getElementById(drawnId(id)));

/** Fit the whole drawing, but no closer than 1.4x: a few nodes do not fill the screen. */
function fitView() {
  cy.fit(undefined, FIT_PADDING);
  if (cy.zoom() > FIT_MAX_ZOOM) { cy.zoom(FIT_MAX_ZOOM); cy.center(); }
}

/** Use the stylesheet of zoom band `b` (label sizes, style.js): a new stylesheet restyles every
 * element, so only when the band changes. */
function setBand(b) {
  if (b === band) return;
  band = b;
  cy.style(stylesheetFor(band));
}

/**
 * The zoom fitView() will choose for these nodes, from their stored places (a node's own size and
 * label are guessed). Setting the stylesheet of that zoom before the first draw styles a big
 * design once: styled at band 0 and restyled after the fit, a 10,000-child design (300 drawn
 * nodes, two compound boxes holding them) spent about a second on the second styling.
 */
function fitZoomOf(nodes, pos, width = cy.width(), height = cy.height()) {
  const ext = extentOf(nodes, pos);
  if (!ext) return 1;
  const fit = Math.min((width - 2 * FIT_PADDING) / Math.max(1, ext.x2 - ext.x1), (height - 2 * FIT_PADDING) / Math.max(1, ext.y2 - ext.y1));
  return Math.min(FIT_MAX_ZOOM, fit);
}

/** The box of these nodes' stored places (a node's own size guessed, its label left out), or null. */
function extentOf(nodes, pos) {
  let x1 = Infinity; let y1 = Infinity; let x2 = -Infinity; let y2 = -Infinity;
  for (const n of nodes) {
    const p = n.position || pos[n.data.id];
    if (!p) continue;
    const w = (n.data.w || 60) / 2; const hh = (n.data.h || 60) / 2;
    x1 = Math.min(x1, p.x - w); x2 = Math.max(x2, p.x + w); y1 = Math.min(y1, p.y - hh); y2 = Math.max(y2, p.y + hh);
  }
  return x1 === Infinity ? null : { x1, y1, x2, y2 };
}

/**
 * The first fit. A design too big for the screen even at the least zoom (by its stored places,
 * with room to spare: the labels and boxes they leave out only make it bigger) is centred on its
 * places at that zoom. cy.fit() would style and measure every element to find the zoom it cannot
 * use, and the first frame measures them all again: on the 10,000-child design, a second pass
 * over every label and cable before the canvas is painted.
 */
function firstFit() {
  const pos = positions();
  const ext = extentOf(S.drawn.nodes, pos);
  const z = cy.minZoom();
  if (!ext || fitZoomOf(S.drawn.nodes, pos) > 0.8 * z) { fitView(); return; }
  cy.viewport({ zoom: z, pan: { x: cy.width() / 2 - z * (ext.x1 + ext.x2) / 2, y: cy.height() / 2 - z * (ext.y1 + ext.y2) / 2 } });
}

const IMMUTABLE = new Set(['id', 'parent', 'source', 'target']);

/** Equal data values: a group's `members` and `modes` are rebuilt on every sync, equal or not. */
function sameValue(a, b) {
  if (a === b) return true;
  if (!a || !b || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => x === b[i]);
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

// The classes each drawn element got from the view, and where each group node was at the last
// sync. Kept here, not in Cytoscape's scratch: setting scratch data restyles the element and its
// compound parent, and doing it for 100 groups on every edit cost a 10,000-child design some
// 100 ms of restyling (labels measured again, the host box's bounds recomputed) before each paint.
const drawnClasses = new WeakMap();
const groupAt = new Map();

/** Copy the mutable fields of `want` onto the element only when one differs: setting data or
 * classes on an element restyles it, and restyling all 1,000 nodes on every edit is what made
 * an edit cost tens of milliseconds before the check could even start. */
function updateElement(el, want) {
  const cur = el.data();
  let changed = null;
  for (const [k, v] of Object.entries(want.data)) {
    if (!IMMUTABLE.has(k) && !sameValue(cur[k], v)) (changed = changed || {})[k] = v;
  }
  if (changed) el.data(changed);
  const old = drawnClasses.get(el);
  if (old !== want.classes) {
    if (old) el.removeClass(old);
    el.addClass(want.classes);
    drawnClasses.set(el, want.classes);
  }
}

/** What the drawing shows: the document's elements (with the what-if drawn in), grouped. */
function buildView(pos) {
  const view = M.buildElements(S.doc, { whatIf: S.whatIf });
  S.allData = new Map();
  S.nsIndex = new Map();
  S.pathIndex = new Map();
  for (const n of view.nodes) {
    const d = n.data;
    S.allData.set(d.id, d);
    S.pathIndex.set(d.path, d.id);
    if (d.nsid) { const l = S.nsIndex.get(d.nsid); if (l) l.push(d.id); else S.nsIndex.set(d.nsid, [d.id]); }
  }
  for (const e of view.edges) S.allData.set(e.data.id, e.data);
  S.drawn = G.collapse(view, grouping, pos, (id) => S.allData.get(id));
  return S.drawn;
}

function sync({ initial = false } = {}) {
  const pos = positions();
  // the first drawing: the view built before the canvas (with the tidy layout of a design that
  // had no positions), unless an edit came first
  const reuse = initial && firstView.view === S.drawn;
  if (initial && !Object.keys(pos).length) Object.assign(pos, M.tidyLayout(S.doc));
  const { nodes, edges } = reuse ? S.drawn : buildView(pos);
  if (initial) setBand(zoomBand(fitZoomOf(nodes, pos)));
  const want = new Map();
  for (const e of nodes) want.set(e.data.id, e);
  for (const e of edges) want.set(e.data.id, e);
  const added = [];
  const unplaced = [];
  const placeOf = (e) => e.position || pos[e.data.id];
  const addDrawn = (json) => {
    const eles = cy.add(json);
    eles.forEach((el) => { drawnClasses.set(el, want.get(el.id()).classes); });
    return eles;
  };
  cy.batch(() => {
    cy.elements().forEach((el) => {
      if (el.removed()) return;
      const w = want.get(el.id());
      const stale = !w || (el.isEdge() ? (el.data('source') !== w.data.source || el.data('target') !== w.data.target)
        : (el.data('parent') || null) !== (w.data.parent || null));
      if (stale) el.remove();
    });
    // one cy.add for every node whose place is known (all of them when a design opens): adding
    // nodes one by one restyles their compound parent each time, quadratic for 1,000 children.
    // A compound node (host, switch) goes into that same add, before its members, whether or not
    // a position is stored for it (none is: its box follows its members). Added after them, it
    // would find its members already drawn without a parent - Cytoscape drops a parent that does
    // not exist yet - and the box would sit empty beside them.
    const compounds = new Set();
    for (const e of nodes) if (e.data.parent) compounds.add(e.data.parent);
    let spotOf = null;
    const known = [];
    for (const e of nodes) {
      const ex = cy.getElementById(e.data.id);
      const p = placeOf(e);
      if (ex.nonempty()) {
        updateElement(ex, e);
        // undo/redo of moves and layouts
        if (p && ex.isChildless()) { const q = ex.position(); if (q.x !== p.x || q.y !== p.y) ex.position({ x: p.x, y: p.y }); }
        continue;
      }
      // Cytoscape keeps (and later changes) the data object it is given: give it a copy, the
      // elements of the view are reused by the next build (M.buildElements)
      if (p) known.push({ ...e, data: { ...e.data }, position: { x: p.x, y: p.y } });
      else if (compounds.has(e.data.id)) {
        spotOf = spotOf || compoundSpots(nodes, pos);
        known.push({ ...e, data: { ...e.data }, position: spotOf(e.data.id) });
      } else unplaced.push(e);
    }
    if (known.length) added.push(...addDrawn(known));
  });
  // new objects of an edit: placed next to what is already drawn, so one at a time
  for (const e of unplaced) added.push(addDrawn({ ...e, data: { ...e.data }, position: placeNew(e.data) }));
  cy.batch(() => {
    const newEdges = [];
    for (const e of edges) {
      const ex = cy.getElementById(e.data.id);
      if (ex.nonempty()) updateElement(ex, e);
      else newEdges.push({ ...e, data: { ...e.data } });
    }
    if (newEdges.length) addDrawn(newEdges);
  });
  // remember where new leaves went so a reload draws the same picture (a group is not a leaf of the design)
  for (const n of added) if (n.isChildless() && !G.isGroup(n)) pos[n.id()] = roundPos(n.position());
  if (added.length) forgetDirty();
  groupAt.clear();
  cy.nodes('.group').forEach((n) => { groupAt.set(n.id(), { ...n.position() }); });
  markInvalid();
  applyCanvasMarks();
  applyFocusClasses();
}

const roundPos = (p) => ({ x: Math.round(p.x), y: Math.round(p.y) });

/** Where each compound node goes before its members are drawn: their stored centre, else the view's. */
function compoundSpots(nodes, pos) {
  const sums = new Map();
  for (const e of nodes) {
    const p = e.data.parent ? pos[e.data.id] : null;
    if (!p) continue;
    const s = sums.get(e.data.parent) || { n: 0, x: 0, y: 0 };
    s.n += 1; s.x += p.x; s.y += p.y;
    sums.set(e.data.parent, s);
  }
  const ext = cy.extent();
  const centre = { x: (ext.x1 + ext.x2) / 2, y: (ext.y1 + ext.y2) / 2 };
  return (id) => { const s = sums.get(id); return s ? { x: s.x / s.n, y: s.y / s.n } : { ...centre }; };
}

/** Mark the objects the problems point at (the nearest drawn ancestor of each problem's path). */
function markInvalid() {
  const want = new Set();
  for (const p of S.problems) {
    let path = p.path;
    while (path) {
      const id = S.pathIndex.get(path);
      if (id) { want.add(drawnId(id)); break; }
      const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
      if (cut <= 0) break;
      path = path.slice(0, cut);
    }
  }
  cy.batch(() => {
    cy.elements('.invalid').forEach((el) => { if (!want.has(el.id())) el.removeClass('invalid'); });
    for (const id of want) { const el = cy.getElementById(id); if (el.nonempty() && !el.hasClass('invalid')) el.addClass('invalid'); }
  });
}

// ------------------------------------------------------------------ edits, undo, redo
/** Make an edit: `fn` changes a copy of the document (`copy`: how to copy it; by default all of it). */
function commit(label, fn, { select, copy = structuredClone } = {}) {
  S.timings.editAt = performance.now();
  const next = copy(S.doc);
  let result;
  try {
    result = fn(next);
  } catch (e) {
    hint(e.message || String(e), 'error');
    return false;
  }
  S.undo.push(S.doc);
  if (S.undo.length > 300) S.undo.shift();
  S.redo = [];
  S.doc = next;
  afterChange(select !== undefined ? select : (typeof result === 'string' ? result : undefined));
  return true;
}

function afterChange(selectId) {
  S.rev += 1;
  scheduleCheck(); // first: the server checks while the canvas and panels catch up
  sync();
  const edit = stampEdit();
  if (selectId !== undefined) selectElement(selectId);
  else if (S.selected && cy.getElementById(S.selected).empty()) selectElement(null);
  else setTimeout(refreshProps, 0); // after the browser has moved focus (Tab out of a field)
  updateUndoButtons();
  // compares the serialised document with the saved one: once the edit is on screen and the
  // server's acknowledgement read (at 10,000 children some 50 ms the user need not wait for)
  whenIdle(markDirty);
  scheduleDraft();
  if (!$('#panel-whatif').hidden) renderWhatIfPanel();
  if (applyPanel && !$('#panel-apply').hidden) applyPanel.refresh();
  edit.handled = performance.now();
}

function undo() {
  if (!S.undo.length) return;
  S.timings.editAt = performance.now();
  S.redo.push(S.doc);
  S.doc = S.undo.pop();
  afterChange();
  hint('Undone');
}

function redo() {
  if (!S.redo.length) return;
  S.timings.editAt = performance.now();
  S.undo.push(S.doc);
  S.doc = S.redo.pop();
  afterChange();
  hint('Redone');
}

function updateUndoButtons() {
  $('#undo').disabled = !S.undo.length;
  $('#redo').disabled = !S.redo.length;
}

const dirtyMemo = { doc: null, saved: null, dirty: false };
/** Whether the document differs from the saved version; serialised once per document state (each
 * edit makes a new S.doc object; saving sets a new S.savedJSON; what changes positions in place
 * calls forgetDirty()): at 10,000 children a serialisation costs some 50 ms, and the status and
 * the title ask on every edit. */
function isDirty() {
  if (dirtyMemo.doc !== S.doc || dirtyMemo.saved !== S.savedJSON) {
    Object.assign(dirtyMemo, { doc: S.doc, saved: S.savedJSON, dirty: JSON.stringify(S.doc) !== S.savedJSON });
  }
  return dirtyMemo.dirty;
}

function forgetDirty() { dirtyMemo.doc = null; }

function markDirty() {
  const dirty = isDirty();
  document.title = `${dirty ? '• ' : ''}${S.doc.name || 'design'} · mvplan`;
  $('#design-title').textContent = S.doc.name || 'design';
  return dirty;
}

// ------------------------------------------------------------------ selection and properties
/** The id an element is drawn as: itself, or the group node it is collapsed into. */
const drawnId = (id) => (S.drawn && S.drawn.drawnAs.get(id)) || id;
/** Data of any element of the design (drawn or collapsed), or null. */
const nodeData = (id) => S.allData.get(id) || (cy.getElementById(id).nonempty() ? cy.getElementById(id).data() : null);

/** Draw a collapsed element: open the group it is in. */
function ensureDrawn(id) {
  const gid = S.drawn && S.drawn.drawnAs.get(id);
  if (gid) expandGroup(gid, { quiet: true });
}

function expandGroup(gid, { quiet = false } = {}) {
  const g = S.drawn && S.drawn.groups.get(gid);
  grouping.expanded.add(gid);
  sync();
  updateGroupButton();
  if (!quiet && g) {
    const members = cy.collection(g.members.map((m) => cy.getElementById(m.data.id)).filter((n) => n.nonempty()));
    if (members.nonempty()) fitIfOutside(members);
    hint(`Expanded ${g.members.length} children of ${nameOf(nodeData(g.lower))}; the Group button collapses them again`);
  }
}

function setGrouping(on) {
  grouping.on = on;
  grouping.expanded = new Set();
  sync();
  updateGroupButton();
  hint(on ? `Children are grouped per parent (${G.GROUP_MIN} or more); click a group to expand it` : 'Every child is drawn');
}

function updateGroupButton() {
  const b = $('#group-toggle');
  if (b) b.setAttribute('aria-pressed', grouping.on ? 'true' : 'false');
}

function selectElement(id, { showProps = false } = {}) {
  cy.$(':selected').unselect();
  S.selected = null;
  if (id) {
    ensureDrawn(id);
    const el = cy.getElementById(id);
    if (el.nonempty()) { el.select(); S.selected = id; }
  }
  refreshProps();
  if (showProps) showTab('props');
}

function selectedData() {
  if (!S.selected) return null;
  const el = cy.getElementById(S.selected);
  return el.nonempty() ? el.data() : null;
}

function refreshProps() {
  const active = document.activeElement && document.activeElement.id;
  renderProps($('#props'), S.doc, selectedData(), {
    edit: editField,
    resolved: S.resolved,
    onDelete: deleteSelection,
    onAddPort: () => add('port'),
    onExpand: () => { if (S.selected && G.isGroupId(S.selected)) expandGroup(S.selected); },
    nodeData,
  });
  showFieldProblems($('#props'), S.problems);
  if (active && active.startsWith('prop-')) {
    const again = document.getElementById(active);
    if (again) again.focus();
  }
}

// the fields whose edit changes more than their own object (renames follow every reference)
const FIELDS_EDITED_ELSEWHERE = new Set(['name', 'namespace']);

function editField(data, key, value) {
  // a plain field changes the object at data.path only: copy that path, share the rest
  const own = data.kind !== 'design' && data.path && !FIELDS_EDITED_ELSEWHERE.has(key);
  const copy = own ? (doc) => M.cloneAlong(doc, data.path) : data.kind === 'design' ? (doc) => M.cloneAlong(doc, '') : structuredClone;
  commit(`edit ${key}`, (doc) => {
    if (data.kind === 'design') {
      if (value === undefined) delete doc[key]; else doc[key] = value;
      return undefined;
    }
    if (key === 'name') return M.rename(doc, data, value);
    const obj = M.getAt(doc, data.path);
    if (value === undefined) delete obj[key]; else obj[key] = value;
    if (key === 'namespace' && (data.kind === 'child' || data.kind === 'peer')) {
      const newId = M.ifaceId(data.host, obj.name, obj.namespace || '');
      M.renameKey(doc, data.id, newId);
      return newId;
    }
    return data.id;
  }, { copy });
}

function deleteSelection() {
  const data = selectedData();
  if (!data) { hint('Select something to delete'); return; }
  if (data.kind === 'group') { hint('Expand the group (click it) to delete its children one by one'); return; }
  const what = describe(data, nodeData);
  // deleting a child takes it out of its host's list and drops its positions, nothing else: copy
  // that path only (other kinds change references all over the document: copy it all)
  const copy = data.kind === 'child' && data.path ? (doc) => M.cloneAlong(doc, data.path) : structuredClone;
  if (commit('delete', (doc) => { M.remove(doc, data); }, { select: null, copy })) hint(`Deleted ${what}`);
}

// ------------------------------------------------------------------ palette
function add(kind) {
  const data = selectedData();
  const host = M.contextHost(S.doc, data);
  let made = null;
  const ok = commit(`add ${kind}`, (doc) => {
    switch (kind) {
      case 'host': made = M.addHost(doc); break;
      case 'parent': made = M.addParent(doc, host); break;
      case 'child': {
        const parentName = data && data.kind === 'parent' ? data.name : '';
        made = M.addChild(doc, host, parentName, $('#child-mode').value, $('#child-type').value);
        break;
      }
      case 'bridge': made = M.addBridge(doc, host); break;
      case 'bport': {
        const bridge = data && data.kind === 'bridge' ? data.name : data && data.kind === 'bport' ? data.bridge : null;
        if (!bridge) throw new Error('Select a Linux bridge to add a port to it');
        made = M.addBridgePort(doc, data.host, bridge);
        break;
      }
      case 'switch': made = M.addSwitch(doc); break;
      case 'port': {
        const sw = data && (data.kind === 'switch' ? data.name : data.kind === 'port' ? data.switch : null);
        made = M.addSwitchPort(doc, sw || (doc.switches[doc.switches.length - 1] || {}).name);
        break;
      }
      case 'station': {
        const sw = data && (data.kind === 'switch' ? data.name : data.kind === 'port' ? data.switch : null);
        made = M.addStation(doc, sw);
        break;
      }
      default: throw new Error(`unknown kind ${kind}`);
    }
    return made;
  });
  if (ok && made) {
    selectElement(made, { showProps: true });
    ensureVisible(made);
    const what = describe(nodeData(made), nodeData);
    if (kind === 'child' && !(data && data.kind === 'parent')) hint(`Added ${what}: it has no parent NIC yet - press E and drag it onto one`);
    else hint(`Added ${what}`);
  }
}

// ------------------------------------------------------------------ live check
// An edit is discrete: a field's change event, a checkbox, a connection drawn, a delete, undo or
// redo, an upload. Dragging nodes and typing in a field are not edits of what the check sees (a
// field commits on change; positions are not checked), so there is nothing to debounce and the
// check goes out the moment the edit is made. While a request is in flight, further edits
// coalesce into one follow-up request for the latest document: one request at a time, because
// an aborted request still costs the server its whole check (2 cores: it would slow the request
// that matters), and an answer that is already outdated when it arrives is not drawn.
// Only what the check needs is sent (the document without its layout) and asked for
// (?view=editor: the compact answer). The server acknowledges the document as soon as it has read
// it (?ack=1: a first JSON line, long before the findings of a big design): from the edit to
// that line is the edit's round trip (S.timings.edit); the findings and matrix on screen say
// they are being updated until the answer for the current document is drawn.
// After the first check only the changes go out: the server keeps the document it acknowledged
// (token `base`, standing for `baseDoc`) and the editor sends {base, patch} (planner/web/livedocs.py).
const live = { busy: false, want: false, shownDoc: null, shownState: null, waiters: [], base: null, baseDoc: null };
/** Past this size a patch is no cheaper than the document (a new design uploaded, a big undo). */
const PATCH_MAX_CHARS = 200_000;

/** The document as the server checks it: without the drawing's layout (positions are not checked). */
function checkedDocument() {
  const out = { ...S.doc };
  delete out.layout;
  return out;
}

/** Whether two checked documents are the same design (a layout change only, an undo back). */
const sameDesign = (a, b) => !!a && !!b && M.patchOps(a, b).length === 0;

function scheduleCheck() {
  live.want = true;
  document.body.dataset.check = 'pending';
  showCheckState('pending');
  if (!live.busy) pumpCheck();
}

const CHECK_STATE_TEXT = {
  pending: 'Updating for your last edit… what is shown is the design before it.',
  received: 'Checking your last edit (the server has it)… what is shown is the design before it.',
  error: 'The check of your last edit failed: what is shown is the design before it. The next edit checks again.',
};

/** Say on the Findings and Reachability panels whether they show the current document. */
function showCheckState(state) {
  const text = CHECK_STATE_TEXT[state] || '';
  // shown and hidden by visibility: the line keeps its place, so the matrix below never moves
  for (const el of $$('.check-state')) { el.textContent = text; el.classList.toggle('on', !!text); }
  for (const el of [$('#findings'), $('#matrix')]) {
    el.classList.toggle('stale', !!text);
    el.setAttribute('aria-busy', text ? 'true' : 'false');
  }
  // the tabs too (their panels may be hidden): the count and the rings on the canvas are the
  // previous design's until the answer comes
  for (const tab of [$('#tab-findings'), $('#tab-matrix')]) {
    tab.classList.toggle('updating', !!text);
    if (text) tab.title = text; else tab.removeAttribute('title');
  }
}

/** The server has read the document of edit `rev` (or of a later one, which includes it). */
function acknowledged(rev) {
  const e = S.timings.edit;
  if (e && e.rev <= rev && e.acked === undefined) { e.acked = performance.now(); settleEdit(e); }
  if (rev === S.rev && document.body.dataset.check === 'pending') showCheckState('received');
}

/** An edit's round trip is over once it is drawn and the server has acknowledged it. */
function settleEdit(e) {
  if (e.canvas !== undefined && e.acked !== undefined) e.trip = Math.max(e.canvas, e.acked) - e.input;
}

/** Record edit S.rev for the round trip: its input time, then when the canvas showing it was painted. */
function stampEdit() {
  const e = { rev: S.rev, input: S.timings.editAt };
  S.timings.edit = e;
  afterPaint(() => { e.canvas = performance.now(); settleEdit(e); });
  return e;
}

/** Resolves once the check shows the current document (or failed for it). */
function checkSettled() {
  if (!live.busy && !live.want) return Promise.resolve();
  return new Promise((resolve) => live.waiters.push(resolve));
}

/** A document the server already answered, and that answer is on screen: nothing to send. */
const checkIsCurrent = (doc) => live.shownState !== 'error' && sameDesign(live.shownDoc, doc);

async function pumpCheck() {
  live.busy = true;
  try {
    while (live.want) {
      live.want = false;
      const doc = checkedDocument();
      const t = { rev: S.rev, edit: S.timings.editAt, sent: performance.now() };
      if (checkIsCurrent(doc)) { // e.g. back to the document on screen: the server has it
        document.body.dataset.check = live.shownState;
        acknowledged(t.rev);
        showCheckState(live.shownState === 'error' ? 'error' : '');
        S.timings.last = t; stampShown(t);
        continue;
      }
      S.checkSeq += 1;
      document.body.dataset.check = 'pending';
      let res = null; let err = null;
      try {
        res = await acknowledgedCheck(doc, t);
      } catch (e) { err = e; }
      t.parsed = performance.now();
      if (live.want && sameDesign(checkedDocument(), doc)) live.want = false; // asked again for this same document: this is its answer
      if (live.want) continue; // outdated on arrival: the request for the latest edit goes out now
      showCheck(res, err, doc, t);
    }
  } finally {
    live.busy = false;
    for (const w of live.waiters.splice(0)) w();
  }
}

const CHECK_URL = '/api/check?problems=inline&view=editor&ack=1';

/** Send the check of `doc`: its changes since the document the server has, else all of it. */
async function sendCheck(doc) {
  const base = live.base; const baseDoc = live.baseDoc;
  live.base = null; live.baseDoc = null; // a token serves once
  if (base) {
    const ops = M.patchOps(baseDoc, doc);
    const text = JSON.stringify({ base, patch: ops });
    if (ops.length <= 1000 && text.length <= PATCH_MAX_CHARS) {
      try {
        return await api.post(CHECK_URL, new JSONText(text), { raw: true });
      } catch (e) {
        if (e.code !== 'unknown_base') throw e; // the server forgot it (restarted, other tabs): send it all
      }
    }
  }
  return api.post(CHECK_URL, new JSONText(JSON.stringify({ document: doc })), { raw: true });
}

/** POST the check; resolves with its answer (throws ApiError for an error line). */
async function acknowledgedCheck(doc, t) {
  const resp = await sendCheck(doc);
  const lines = jsonLines(resp);
  const first = await lines.next();
  if (!first.done && first.value.ack) {
    t.acked = performance.now();
    if (first.value.doc) { live.base = first.value.doc; live.baseDoc = doc; }
    acknowledged(t.rev);
  }
  const second = first.done || !first.value.ack ? first : await lines.next();
  t.answered = performance.now();
  if (second.done) throw new ApiError(502, 'check_cut_off', 'the check answer was cut off; the next edit checks again');
  const res = second.value;
  t.server = res.timing || serverTiming(resp.headers.get('Server-Timing'));
  if (res.error) throw new ApiError(res.status || 500, res.error.code, res.error.message, res.error.details);
  return res;
}

function serverTiming(header) {
  const out = {};
  for (const part of (header || '').split(',')) {
    const m = /^\s*([\w-]+)\s*;\s*dur=([\d.]+)/.exec(part);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

function showCheck(res, err, doc, t) {
  let state;
  if (err) {
    if (err.status === 422) {
      S.check = null;
      S.problems = (err.details && err.details.problems) || [{ path: '', message: err.message }];
      state = 'invalid';
    } else {
      hint(`Check failed: ${err.message}`, 'error');
      state = 'error';
    }
  } else if (res.valid === false) {
    S.check = null;
    S.problems = res.problems && res.problems.length ? res.problems : [{ path: '', message: res.message }];
    state = 'invalid';
  } else {
    S.check = res;
    S.problems = [];
    S.timings.checks += 1;
    S.resolved = new Map((res.interfaces || []).map((i) => [i.id, i]));
    state = 'ok';
  }
  if (state !== 'error') renderAnalysis();
  markInvalid();
  showFieldProblems($('#props'), S.problems);
  updateStatus();
  live.shownDoc = doc;
  live.shownState = state;
  document.body.dataset.check = state;
  showCheckState(state === 'error' ? 'error' : '');
  S.timings.checkDone = performance.now();
  S.timings.checkSeq = S.checkSeq;
  S.timings.last = t;
  stampShown(t);
  if (state === 'ok') { if (hasWhatIf()) runWhatIf(); else setWhatIfBanner(false); }
  if (!$('#panel-plan').hidden) loadPlan();
}

/**
 * Record when the findings and matrix of edit `t.rev` were on screen: `drawn` when the DOM holds
 * them, `painted` after the next frame (requestAnimationFrame runs just before the browser lays out
 * and paints; a message posted from it arrives after that paint).
 */
function stampShown(t) {
  t.drawn = performance.now();
  afterPaint(() => {
    t.painted = performance.now();
    if (!S.timings.shown || S.timings.shown.rev <= t.rev) S.timings.shown = t;
  });
}

/** Run `fn` when the page has nothing else to do (within half a second). */
function whenIdle(fn) {
  if (window.requestIdleCallback) requestIdleCallback(() => fn(), { timeout: 500 });
  else setTimeout(fn, 50);
}

function afterPaint(fn) {
  requestAnimationFrame(() => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => fn();
    ch.port2.postMessage(null);
  });
}

const currentFindings = () => (S.whatIfResult ? S.whatIfResult.findings : S.check ? S.check.findings : []) || [];
const basePrediction = () => (S.problems.length ? null : S.whatIfResult ? S.whatIfResult.prediction : S.check ? S.check.prediction : null);
/** The prediction of the family picked in the reachability panel (IPv6 only when the design has it). */
function currentPrediction() {
  const base = basePrediction();
  const picker = $('#matrix-family');
  const dual = !!(base && base.ipv6);
  picker.hidden = !dual;
  if (picker.previousElementSibling) picker.previousElementSibling.hidden = !dual;
  if (!dual) S.family = 4;
  picker.value = String(S.family);
  return S.family === 6 && dual ? base.ipv6 : base;
}
const findingKey = (f) => `${f.code}|${(f.subjects || []).join(',')}`;

function renderAnalysis() {
  const findings = currentFindings();
  P.renderProblems($('#problems'), friendlyProblems(S.problems), pickProblem);
  P.renderFindings($('#findings'), S.problems.length ? null : findings, pickFinding,
    S.problems.length ? 'Findings appear once the problems above are fixed.' : 'No findings.');
  const counts = S.whatIfResult ? S.whatIfResult.counts : S.check ? S.check.counts : null;
  const badge = $('#findings-count');
  if (S.problems.length) {
    badge.textContent = `${S.problems.length}!`; badge.dataset.level = 'error';
    badge.title = `${S.problems.length} problem${S.problems.length > 1 ? 's' : ''} to fix before the design can be checked`;
  } else if (counts && (counts.error || counts.warning)) {
    badge.textContent = String(counts.error + counts.warning);
    badge.dataset.level = counts.error ? 'error' : 'warning';
    badge.title = `${counts.error} errors, ${counts.warning} warnings${counts.info ? ` (and ${counts.info} info notes, not counted)` : ''}`;
  } else {
    badge.textContent = '';
    badge.title = counts && counts.info ? `${counts.info} info notes` : '';
  }
  if (focus.kind === 'finding' && !findings.some((f) => findingKey(f) === focus.key)) focus = { kind: null };
  reach.render(currentPrediction(), { problems: S.problems.length > 0 });
  applyCanvasMarks();
  applyFocusClasses();
}

/**
 * Problems in the user's words where the schema's are unhelpful: a child without a parent is a
 * half-drawn design, not a pattern mismatch.
 */
function friendlyProblems(problems) {
  return problems.map((p) => {
    const m = /^(hosts\[\d+\]\.children\[\d+\])(\.parent)?$/.exec(p.path || '');
    if (!m) return p;
    const child = M.getAt(S.doc, m[1]);
    if (!child || (child.parent && String(child.parent).trim())) return p;
    if (!m[2] && !/parent/.test(p.message)) return p;
    return { ...p, path: `${m[1]}.parent`, message: `${child.name || 'this child'} has no parent NIC - press E and drag it onto one`, friendly: true };
  });
}

function pickProblem(p) {
  let path = p.path;
  while (path) {
    const id = S.pathIndex.get(path);
    if (id) { selectElement(id, { showProps: true }); return; }
    const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
    if (cut <= 0) break;
    path = path.slice(0, cut);
  }
  selectElement(null, { showProps: true });
}

let focus = { kind: null };
const FOCUS_CLASSES = ['hl', 'reach', 'block', 'focus'];
/** Highlight what the picked finding or endpoint concerns; only elements whose highlight changes are touched. */
function applyFocusClasses() {
  const want = focusWanted();
  cy.batch(() => {
    cy.elements('.hl, .reach, .block, .focus').forEach((el) => {
      for (const c of FOCUS_CLASSES) if (el.hasClass(c) && want.get(el.id()) !== c) el.removeClass(c);
    });
    for (const [id, c] of want) {
      if (!c) continue;
      const el = cy.getElementById(id);
      if (el.nonempty() && !el.hasClass(c)) el.addClass(c);
    }
  });
}

/** drawn element id -> its focus class (null: members of a group that disagree). */
function focusWanted() {
  const want = new Map();
  const put = (id, c) => {
    const d = drawnId(id);
    if (!want.has(d)) want.set(d, c);
    else if (want.get(d) !== c && want.get(d) !== 'focus') want.set(d, c === 'focus' ? 'focus' : null);
  };
  if (focus.kind === 'finding') {
    for (const s of focus.subjects) for (const id of M.subjectIds(s, (x) => S.allData.has(x), S.nsIndex)) put(id, 'hl');
    return want;
  }
  const pred = focus.kind === 'endpoint' ? currentPrediction() : null;
  if (!pred) return want;
  const idx = P.indexPrediction(pred);
  const members = new Set(focus.members);
  for (const m of members) put(m, 'focus');
  const one = members.size === 1 ? focus.members[0] : null;
  for (const e of pred.endpoints) {
    if (members.has(e.id)) continue;
    const vs = one ? [idx.verdict(one, e.id)].filter(Boolean) : idx.classVerdicts(focus.cls, e.class);
    if (!vs.length) continue;
    if (vs.every((v) => v.reachable)) put(e.id, 'reach');
    else if (vs.every((v) => !v.reachable)) put(e.id, 'block');
  }
  return want;
}

let marks = new Map();
/** Mark every subject of an error or warning on the canvas (the analysis shown, what-if included). */
function applyCanvasMarks() {
  marks = findingMarks(S.problems.length ? [] : currentFindings(),
    (s) => M.subjectIds(s, (x) => S.allData.has(x), S.nsIndex), drawnId);
  cy.batch(() => {
    cy.elements('.sev-error, .sev-warning').forEach((el) => {
      const m = marks.get(el.id());
      const keep = m ? `sev-${worst(m)}` : null;
      for (const c of ['sev-error', 'sev-warning']) if (c !== keep && el.hasClass(c)) el.removeClass(c);
    });
    for (const [id, m] of marks) {
      const el = cy.getElementById(id);
      const c = `sev-${worst(m)}`;
      if (el.nonempty() && !el.hasClass(c)) el.addClass(c);
    }
  });
}

function pickFinding(f) {
  focus = { kind: 'finding', key: findingKey(f), subjects: f.subjects || [] };
  applyFocusClasses();
  const hl = cy.nodes('.hl');
  if (hl.nonempty()) fitIfOutside(hl);
}

function pickEndpoint(label) {
  focus = { kind: 'endpoint', cls: label.cls, members: label.members };
  applyFocusClasses();
  hint(`${label.label}: green reaches, red does not`);
}

// ------------------------------------------------------------------ what-if
const hasWhatIf = () => Object.keys(S.whatIf.hairpin).length > 0 || S.whatIf.down.length > 0;

function setWhatIfBanner(on) {
  const banner = $('#whatif-banner');
  if (banner.hidden !== !on) { banner.hidden = !on; cy.resize(); } // the banner sits above the canvas, not on it
  if (!on) { S.whatIfResult = null; clear($('#whatif-changes')); }
}

async function runWhatIf() {
  if (!hasWhatIf()) { setWhatIfBanner(false); renderAnalysis(); return; }
  if (S.problems.length) return;
  document.body.dataset.whatif = 'pending';
  try {
    const res = await api.post('/api/what-if?view=editor', { document: checkedDocument(), hairpin: S.whatIf.hairpin, down: S.whatIf.down });
    S.whatIfResult = res;
    setWhatIfBanner(true);
    S.whatIfResult = res;
    P.renderChanges($('#whatif-changes'), res.changes);
    renderAnalysis();
    applyFocusClasses();
    document.body.dataset.whatif = 'ok';
  } catch (e) {
    hint(`What-if failed: ${e.message}`, 'error');
    document.body.dataset.whatif = 'error';
  }
}

function renderWhatIfPanel() {
  P.renderWhatIf($('#whatif'), S.doc, S.whatIf, () => { sync(); reach.invalidate(); runWhatIf(); });
}

function resetWhatIf() {
  S.whatIf = { hairpin: {}, down: [] };
  setWhatIfBanner(false);
  renderWhatIfPanel();
  sync();
  reach.invalidate();
  renderAnalysis();
}

// ------------------------------------------------------------------ plan and downloads
async function loadPlan() {
  const status = $('#plan-status');
  const list = $('#plan-ops');
  if (S.problems.length) { status.textContent = 'Fix the problems first.'; clear(list); return; }
  status.textContent = 'Planning…';
  try {
    const res = await api.post('/api/plan', { document: S.doc });
    P.renderPlan(list, res.ops);
    status.textContent = `${res.count} operations, in order:`;
  } catch (e) {
    clear(list);
    if (e.code === 'check_errors') {
      status.textContent = `${e.message}`;
      for (const f of (e.details.findings || [])) list.append(h('li.sev-error', {}, h('code', {}, f.code), ' ', f.message));
    } else status.textContent = e.message;
  }
}

async function exportAs(btn) {
  const fmt = btn.dataset.export;
  const teardown = btn.dataset.teardown ? '&teardown=1' : '';
  try {
    const res = await download(`/api/export?format=${encodeURIComponent(fmt)}${teardown}`, { document: S.doc });
    $('#plan-status').textContent = `Downloaded ${res.name}${res.warnings ? ` (${res.warnings} warnings)` : ''}`;
  } catch (e) {
    $('#plan-status').textContent = `Cannot export ${fmt}: ${e.message}`;
  }
}

function applyDesign() {
  showTab('apply');
  const first = $('#apply-token') || $('#apply-off');
  if (first && first.focus) first.focus();
}

// ------------------------------------------------------------------ saving
const scheduleDraft = debounce(saveDraft, 800);

async function saveDraft() {
  await checkSettled(); // the live check first: autosave is not what the user waits for
  const json = JSON.stringify(S.doc);
  try {
    if (json === S.savedJSON) {
      if (S.draftOnServer) { await api.del(`/api/designs/${S.id}/draft`); S.draftOnServer = false; }
    } else {
      await api.put(`/api/designs/${S.id}/draft`, { document: S.doc, base_version: S.version });
      S.draftOnServer = true;
      S.draftSavedAt = new Date();
    }
    updateStatus();
  } catch (e) {
    setStatus(`Autosave failed: ${e.message}`, 'error');
  }
}

function setStatus(text, level = 'info') {
  const el = $('#save-status');
  el.textContent = text;
  el.dataset.level = level;
}

function updateStatus() {
  const dirty = markDirty();
  if (!dirty) { setStatus(`Saved v${S.version}`, 'ok'); return; }
  const p = S.problems.length;
  const t = S.draftSavedAt ? ` · draft autosaved ${S.draftSavedAt.toLocaleTimeString()}` : S.draftOnServer ? ' · draft restored' : '';
  setStatus(`Unsaved changes since v${S.version}${p ? ` · ${p} problem${p > 1 ? 's' : ''}` : ''}${t}`, p ? 'error' : 'warning');
}

async function saveVersion() {
  scheduleCheck();
  await checkSettled();
  if (S.problems.length) { setStatus('Cannot save: fix the problems first', 'error'); showTab('findings'); return; }
  setStatus('Saving…');
  const message = $('#save-message').value.trim();
  try {
    const rec = await api.put(`/api/designs/${S.id}`, { document: S.doc, message, base_version: S.version });
    S.version = rec.version;
    S.latest = rec.version;
    S.savedJSON = JSON.stringify(S.doc);
    S.draftOnServer = false;
    S.draftSavedAt = null;
    scheduleDraft.cancel();
    $('#save-message').value = '';
    $('#review-link').href = `/designs/${S.id}/versions/${rec.version}`;
    $('.editor').dataset.version = rec.version;
    updateStatus();
    if (applyPanel) applyPanel.refresh();
    hint(`Saved version ${rec.version}`);
  } catch (e) {
    if (e.status === 422) { S.problems = e.details.problems || []; renderAnalysis(); markInvalid(); setStatus('Cannot save: fix the problems first', 'error'); }
    else if (e.status === 409) setStatus(`Not saved: ${e.message}`, 'error');
    else setStatus(`Not saved: ${e.message}`, 'error');
  }
}

// ------------------------------------------------------------------ layout
function autoLayout() {
  const tidy = M.tidyLayout(S.doc);
  commit('layout', (doc) => {
    doc.layout = doc.layout && typeof doc.layout === 'object' ? doc.layout : {};
    doc.layout.positions = {};
    for (const [id, p] of Object.entries(tidy)) doc.layout.positions[id] = p;
    return S.selected || undefined;
  });
  fitView();
}

cy.on('dragfree', 'node', (e) => {
  const pos = positions();
  e.target.union(e.target.descendants()).forEach((n) => {
    if (!n.isChildless()) return;
    if (G.isGroup(n)) { moveGroupMembers(n, pos); return; }
    pos[n.id()] = roundPos(n.position());
  });
  forgetDirty(); // the positions changed in place
  markDirty();
  updateStatus();
  scheduleDraft();
});

/** A group was dragged: its collapsed members move with it, so expanding it draws them there. */
function moveGroupMembers(n, pos) {
  const at = groupAt.get(n.id()); const now = n.position();
  const g = S.drawn && S.drawn.groups.get(n.id());
  if (!at || !g) return;
  const dx = now.x - at.x; const dy = now.y - at.y;
  for (const m of g.members) { const p = pos[m.data.id]; if (p) pos[m.data.id] = roundPos({ x: p.x + dx, y: p.y + dy }); }
  groupAt.set(n.id(), { ...now });
}

// ------------------------------------------------------------------ upload
/** Ask what a file dropped into an open design should do: replace the drawing, or become a design of its own. */
function askUpload(file, res) {
  const dlg = $('#upload-dialog');
  $('#upload-dialog-file').textContent = file.name;
  const name = res.document && res.document.name ? `"${res.document.name}"` : 'the file';
  $('#upload-dialog-note').textContent = res.valid === false
    ? `${name} has problems (${res.message}); either way they are listed under Findings to fix.`
    : `${name} is a valid design.`;
  $('#upload-new').disabled = res.valid === false; // a stored design must be valid
  $('#upload-new').title = res.valid === false ? 'A new design must be valid: replace this drawing to fix the problems here' : '';
  return new Promise((resolve) => {
    dlg.addEventListener('close', () => resolve(dlg.returnValue || 'cancel'), { once: true });
    dlg.returnValue = 'cancel';
    dlg.showModal();
    $('#upload-replace').focus();
  });
}

async function upload(file) {
  const fd = new FormData();
  fd.append('file', file);
  let res;
  try {
    res = await api.post('/api/upload?problems=inline', fd);
  } catch (e) {
    hint(`Cannot load ${file.name}: ${e.message}`, 'error');
    return;
  }
  const doc = res.document;
  if (!doc) { hint(`Cannot load ${file.name}: ${(res.problems[0] || {}).message || res.message}`, 'error'); return; }
  const choice = await askUpload(file, res);
  if (choice === 'new') { await importAsNew(file, doc); return; }
  if (choice !== 'replace') { hint(`${file.name} not loaded`); return; }
  if (res.valid === false) hint(`Loaded ${file.name} with problems: see Findings`, 'warning');
  const n = M.normalize(doc).doc;
  const pos = n.layout && n.layout.positions;
  if (!pos || typeof pos !== 'object' || !Object.keys(pos).length) n.layout = { ...(n.layout || {}), positions: M.tidyLayout(n) };
  cy.elements().remove(); // redraw from the file's positions
  G.reset(grouping, n);
  commit('upload', (d) => { for (const k of Object.keys(d)) delete d[k]; Object.assign(d, n); }, { select: null });
  fitView();
  if (res.valid !== false) hint(`Loaded ${file.name}`);
}

async function importAsNew(file, doc) {
  try {
    const rec = await api.post('/api/designs', { document: doc, message: `uploaded ${file.name}` });
    hint(`Imported ${file.name} as design "${rec.name}"; opening it`);
    window.location.assign(`/designs/${rec.id}`);
  } catch (e) {
    hint(`Cannot import ${file.name}: ${e.message}`, 'error');
  }
}

// ------------------------------------------------------------------ tabs and keyboard
function showTab(name) {
  for (const t of $$('[role="tab"]')) {
    const on = t.id === `tab-${name}`;
    t.setAttribute('aria-selected', on ? 'true' : 'false');
    t.tabIndex = on ? 0 : -1;
    $(`#${t.getAttribute('aria-controls')}`).hidden = !on;
  }
  if (name === 'plan') loadPlan();
  if (name === 'whatif') renderWhatIfPanel();
  if (name === 'apply' && applyPanel) applyPanel.refresh();
  if ((name === 'rehearse' || name === 'drift') && livePanels) livePanels.refresh(name);
}

function setConnect(on) {
  S.connect = on;
  if (eh) { if (on) eh.enableDrawMode(); else eh.disableDrawMode(); }
  const b = $('#connect-mode');
  b.setAttribute('aria-pressed', on ? 'true' : 'false');
  $('#cy').classList.toggle('connecting', on);
  hint(on ? 'Connect mode: drag from a node onto another (child → parent, parent → switch port, station → port). Esc leaves.' : '');
}

/** The canvas's nodes in reading order: top to bottom, then left to right. */
function readingOrder() {
  const nodes = cy.nodes().filter((n) => !n.hasClass('eh-ghost') && !n.hasClass('eh-handle'));
  return nodes.sort((a, b) => {
    const pa = a.position(); const pb = b.position();
    return Math.round(pa.y / 40) - Math.round(pb.y / 40) || pa.x - pb.x;
  }).map((n) => n.id());
}

function stepTo(ids, j) {
  selectElement(ids[j]);
  const n = cy.getElementById(ids[j]);
  const ext = cy.extent(); const p = n.position();
  if (p.x < ext.x1 || p.x > ext.x2 || p.y < ext.y1 || p.y > ext.y2) cy.center(n);
  hint(`Selected ${describe(n.data(), nodeData)} (Enter edits its properties)`);
}

function nextNode(step) {
  const ids = readingOrder();
  if (!ids.length) return;
  const i = S.selected ? ids.indexOf(S.selected) : -1;
  stepTo(ids, (i + step + ids.length) % ids.length);
}

/** Tab on the canvas: the next element; past the last (or before the first), focus moves on. */
function tabStep(step) {
  const ids = readingOrder();
  const i = S.selected ? ids.indexOf(S.selected) : -1;
  const j = i < 0 ? (step > 0 ? 0 : ids.length - 1) : i + step;
  if (j < 0 || j >= ids.length) return false;
  stepTo(ids, j);
  return true;
}

const KEYS = { h: 'host', p: 'parent', c: 'child', b: 'bridge', v: 'bport', s: 'switch', o: 'port', t: 'station' };

document.addEventListener('keydown', (e) => {
  const typing = e.target.closest && e.target.closest('input, select, textarea, [contenteditable]');
  const mod = e.ctrlKey || e.metaKey;
  if (mod && e.key.toLowerCase() === 's') { e.preventDefault(); saveVersion(); return; }
  if (typing) return;
  if (mod && e.key.toLowerCase() === 'z') { e.preventDefault(); if (e.shiftKey) redo(); else undo(); return; }
  if (mod && e.key.toLowerCase() === 'y') { e.preventDefault(); redo(); return; }
  if (mod || e.altKey) return;
  if (e.key === 'Delete' || e.key === 'Backspace') { e.preventDefault(); deleteSelection(); return; }
  if (e.key === 'Escape') { if (S.connect) setConnect(false); selectElement(null); focus = { kind: null }; applyFocusClasses(); return; }
  if (e.key === '?') { $('#help').showModal(); return; }
  if (e.target === $('#cy')) {
    if (e.key === 'Tab' && tabStep(e.shiftKey ? -1 : 1)) { e.preventDefault(); return; }
    if (e.key === 'ArrowRight' || e.key === 'ArrowDown') { e.preventDefault(); nextNode(1); return; }
    if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') { e.preventDefault(); nextNode(-1); return; }
    if (e.key === 'Enter' && S.selected) { e.preventDefault(); showTab('props'); const f = $('#props input, #props select'); if (f) f.focus(); return; }
  }
  const k = e.key.toLowerCase();
  if (KEYS[k] && !e.shiftKey) { e.preventDefault(); add(KEYS[k]); return; }
  if (k === 'e') { setConnect(!S.connect); return; }
  if (k === 'l') { autoLayout(); return; }
  if (k === 'g') { setGrouping(!grouping.on); return; }
  if (e.key === '/') { e.preventDefault(); $('#search').focus(); return; }
  if (k === 'f') { fitView(); }
});

// ------------------------------------------------------------------ wiring
for (const b of $$('[data-add]')) b.addEventListener('click', () => add(b.dataset.add));
$('#connect-mode').addEventListener('click', () => setConnect(!S.connect));
$('#delete').addEventListener('click', deleteSelection);
$('#layout').addEventListener('click', autoLayout);
$('#fit').addEventListener('click', fitView);
$('#group-toggle').addEventListener('click', () => setGrouping(!grouping.on));
$('#undo').addEventListener('click', undo);
$('#redo').addEventListener('click', redo);
$('#save').addEventListener('click', saveVersion);
$('#help-button').addEventListener('click', () => $('#help').showModal());
$('#whatif-reset').addEventListener('click', resetWhatIf);
$('#apply').addEventListener('click', applyDesign);
$('#upload').addEventListener('change', (e) => { const f = e.target.files[0]; if (f) upload(f); e.target.value = ''; });
for (const b of $$('[data-export]')) b.addEventListener('click', () => exportAs(b));
for (const t of $$('[role="tab"]')) {
  t.addEventListener('click', () => showTab(t.id.slice(4)));
  t.addEventListener('keydown', (e) => {
    const tabs = $$('[role="tab"]');
    const i = tabs.indexOf(t);
    if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      const j = (i + (e.key === 'ArrowRight' ? 1 : -1) + tabs.length) % tabs.length;
      tabs[j].focus(); showTab(tabs[j].id.slice(4));
    }
  });
}
if (!S.capabilities.apply) $('#apply').title = 'Applying is off: start the server with --allow-apply';
applyPanel = initApply(S);

/** Rendered distance (px) from a model point to an edge's drawn line. */
function edgeDistance(edge, p) {
  const pts = [edge.sourceEndpoint(), ...(edge.controlPoints() || []), edge.targetEndpoint()];
  let best = Infinity;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1]; const b = pts[i];
    const dx = b.x - a.x; const dy = b.y - a.y;
    const len2 = dx * dx + dy * dy;
    const t = len2 ? Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2)) : 0;
    best = Math.min(best, Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy)));
  }
  return best * cy.zoom();
}

/** The innermost box (host, switch) under a model point, or null. */
function boxAt(p) {
  let best = null;
  cy.nodes(':parent').forEach((n) => {
    const bb = n.boundingBox({ includeLabels: false });
    if (p.x >= bb.x1 && p.x <= bb.x2 && p.y >= bb.y1 && p.y <= bb.y2 && (!best || n.ancestors().contains(best))) best = n;
  });
  return best;
}

/** Cytoscape gives an edge some pixels of slack on each side; inside a box, a click that is not
 * on the line itself means the box, so Delete never removes a cable the user did not point at. */
const EDGE_HIT_PX = 3;

cy.on('tap', (e) => {
  if (e.target === cy) { selectElement(null); focus = { kind: null }; applyFocusClasses(); return; }
  if (e.target.hasClass && (e.target.hasClass('eh-ghost') || e.target.hasClass('eh-preview'))) return;
  let target = e.target;
  if (target.isEdge() && edgeDistance(target, e.position) > EDGE_HIT_PX + target.numericStyle('width') / 2) {
    target = boxAt(e.position);
    if (!target) { selectElement(null); return; }
  }
  if (G.isGroup(target)) { expandGroup(target.id()); return; }
  selectElement(target.id(), { showProps: true });
  hint(`Selected ${describe(target.data(), nodeData)}`);
});

// ------------------------------------------------------------------ reachability panel
const explainCache = new Map();
const serials = new WeakMap();
let lastSerial = 0;
/** A number per document state (every edit makes a new S.doc): a cache key that costs nothing to make. */
function documentSerial(doc) {
  if (!serials.has(doc)) serials.set(doc, ++lastSerial);
  return serials.get(doc);
}
/** The verdict of one pair worded for it, every hop both ways (cached per document and what-if). */
function explainPair(from, to) {
  const key = `${documentSerial(S.doc)}|${JSON.stringify(S.whatIf)}|${S.family}|${from}>${to}`;
  if (!explainCache.has(key)) {
    if (explainCache.size > 500) explainCache.clear();
    const p = api.post('/api/explain', { document: checkedDocument(), from, to, hairpin: S.whatIf.hairpin, down: S.whatIf.down,
      family: S.family });
    p.catch(() => explainCache.delete(key));
    explainCache.set(key, p);
  }
  return explainCache.get(key);
}

const reach = initReach({
  matrix: $('#matrix'), explainBox: $('#explain'), groupsBox: $('#blocked-groups'), membersBox: $('#class-members'),
  filterInput: $('#matrix-endpoint'), filterList: $('#matrix-endpoints'), filterClear: $('#matrix-endpoint-clear'),
  explain: explainPair, onEndpoint: pickEndpoint,
});
$('#matrix-family').addEventListener('change', (ev) => {
  S.family = Number(ev.target.value) === 6 ? 6 : 4;
  reach.render(currentPrediction(), { problems: S.problems.length > 0 });
});

// ------------------------------------------------------------------ hover: findings, groups, what-if
const tip = new Tooltip($('.canvas-wrap'));
cy.on('mouseover', 'node', (e) => {
  const n = e.target;
  if (n.hasClass('eh-ghost') || n.hasClass('eh-handle')) return;
  const lines = [];
  const m = marks.get(n.id());
  if (m) {
    lines.push(`${countText(m)}: ${describe(n.data(), nodeData)}`);
    for (const c of m.codes) lines.push(`${c.severity} ${c.code} ${c.title}`);
  }
  if (n.hasClass('group')) lines.push(...(m ? [] : [describe(n.data(), nodeData)]), 'Click to expand');
  if (n.hasClass('whatif')) lines.push('What-if: drawn as the override says, not as designed');
  if (n.hasClass('down-lower')) lines.push('Its parent is down: it passes no traffic');
  const hits = searchState.perDrawn.get(n.id());
  if (hits) lines.push(`${hits} search match${hits > 1 ? 'es' : ''}`);
  if (!lines.length) return;
  if (!m && !n.hasClass('group')) lines.unshift(describe(n.data(), nodeData));
  const r = e.renderedPosition || n.renderedPosition();
  tip.show(r.x, r.y + $('#cy').offsetTop, lines);
});
cy.on('mouseout', 'node', () => tip.hide());
cy.on('viewport', () => tip.hide());

// ------------------------------------------------------------------ search and filter
const searchState = { query: '', ids: [], at: -1, perDrawn: new Map() };

function runSearch() {
  const q = $('#search').value;
  searchState.query = q;
  const findingsIdx = findingIndex(S.problems.length ? [] : currentFindings(), (s) => M.subjectIds(s, (x) => S.allData.has(x), S.nsIndex));
  searchState.ids = q.trim() ? search(q, S.allData, findingsIdx) : [];
  searchState.at = -1;
  applySearchClasses();
  const n = searchState.ids.length;
  $('#search-count').textContent = q.trim() ? (n ? `${n} match${n > 1 ? 'es' : ''}` : 'no match') : '';
  $('#search').setAttribute('aria-invalid', q.trim() && !n ? 'true' : 'false');
}

function applySearchClasses() {
  const per = new Map();
  for (const id of searchState.ids) { const d = drawnId(id); per.set(d, (per.get(d) || 0) + 1); }
  searchState.perDrawn = per;
  const active = !!searchState.query.trim();
  cy.batch(() => {
    cy.nodes().forEach((n) => {
      const hit = per.has(n.id());
      const dim = active && !hit && !n.isParent();
      if (hit !== n.hasClass('match')) n.toggleClass('match', hit);
      if (dim !== n.hasClass('dimmed')) n.toggleClass('dimmed', dim);
    });
  });
}

function searchStep(step) {
  const ids = searchState.ids;
  if (!ids.length) { runSearch(); if (!searchState.ids.length) return; }
  searchState.at = (searchState.at + step + searchState.ids.length) % searchState.ids.length;
  const id = searchState.ids[searchState.at];
  selectElement(id, { showProps: true });
  applySearchClasses();
  const n = cy.getElementById(drawnId(id));
  if (n.nonempty()) { if (cy.zoom() < 0.6) cy.zoom({ level: 0.8, position: n.position() }); cy.center(n); }
  $('#search-count').textContent = `${searchState.at + 1} of ${searchState.ids.length}`;
}

const searchSoon = debounce(runSearch, 150);
$('#search').addEventListener('input', searchSoon);
$('#search').addEventListener('keydown', (e) => {
  if (e.key === 'Enter') { e.preventDefault(); searchSoon.cancel(); if (searchState.query !== $('#search').value) runSearch(); searchStep(e.shiftKey ? -1 : 1); }
  if (e.key === 'Escape') { $('#search').value = ''; runSearch(); $('#cy').focus(); }
});
$('#search-next').addEventListener('click', () => searchStep(1));
$('#search-prev').addEventListener('click', () => searchStep(-1));

// ------------------------------------------------------------------ labels by zoom level
// Cytoscape scales labels with the zoom; a design fitted to the screen would show 7 px text.
// Labels are drawn bigger as the zoom goes down (so they stay readable) until they would crowd
// each other; below that they are hidden (style.js). Restyled only when the band changes.
let bandPending = false;
cy.on('zoom', () => {
  if (bandPending) return;
  bandPending = true;
  requestAnimationFrame(() => {
    bandPending = false;
    setBand(zoomBand(cy.zoom()));
  });
});

let livePanels = null; // Rehearse and Drift tabs (live.js)

// ------------------------------------------------------------------ start
performance.mark('mvplan:editor');
scheduleCheck(); // the first check goes out before the canvas is built: the server works meanwhile
performance.mark('mvplan:check-sent');
sync({ initial: true });
performance.mark('mvplan:synced');
// positions computed for a design that had none are not an edit of the user's (the first sync
// touches nothing but the layout): the saved version is the document as first drawn, and the
// editor starts with nothing to save (isDirty() need not serialise it again to know)
if (!boot.draft) {
  S.savedJSON = JSON.stringify(S.doc);
  Object.assign(dirtyMemo, { doc: S.doc, saved: S.savedJSON, dirty: false });
}
firstFit();
performance.mark('mvplan:fitted');
setBand(zoomBand(cy.zoom())); // unchanged unless the guess of sync() was off
updateGroupButton();
if (grouping.on) hint(`${S.drawn.drawnAs.size} children are drawn in ${S.drawn.groups.size} groups (per parent); click one to expand it, G draws them all`);
if (start.converted) hint('This design used the single-host shorthand; it is drawn as host "host".');
if (boot.draft) hint(`Restored your unsaved draft (based on v${boot.draft.base_version}).`);
refreshProps();
livePanels = initLive(S, { checkedDocument });
updateUndoButtons();
updateStatus();
performance.mark('mvplan:ready');
S.timings.ready = performance.now();
// the canvas is on screen after Cytoscape's first draw and the paint that follows it
cy.one('render', () => afterPaint(() => { S.timings.drawn = performance.now(); }));
window.mvplanEditor = {
  select: selectElement, add, undo, redo, commit, autoLayout, fitView, expandGroup, setGrouping, drawnId,
  explain: (a, b) => reach.showExplain(a, b),
  runCheck: () => { scheduleCheck(); return checkSettled(); },
  model: M,
};
document.body.dataset.ready = 'true';
