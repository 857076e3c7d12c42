// Semantic zoom: the children of one parent (or of one parent in one shared namespace) drawn as
// one node that shows how many there are and in which modes, until the user expands it. A
// 10,000-child design opens as a few hundred nodes; the document is untouched - grouping is how
// it is drawn, nothing else.
import { MODE_COLOURS } from './style.js';

/** A parent with fewer children than this is never grouped. */
export const GROUP_MIN = 10;
/** A design with more children than this opens grouped. */
export const AUTO_GROUP_CHILDREN = 200;

const PREFIX = 'group:';

/** `{on, expanded}`: grouping on or off, and the groups the user opened while it is on. */
export function initialState(doc) {
  const st = { on: false, expanded: new Set() };
  reset(st, doc);
  return st;
}

/** Start over for a (new) document: grouped when it is big. */
export function reset(st, doc) {
  let children = 0;
  for (const h of doc.hosts || []) children += (h.children || []).length;
  st.on = children > AUTO_GROUP_CHILDREN;
  st.expanded = new Set();
}

export const isGroup = (el) => !!el && typeof el.id === 'function' && el.id().startsWith(PREFIX);
export const isGroupId = (id) => typeof id === 'string' && id.startsWith(PREFIX);

/**
 * The group of each child that hangs off a lower device: `group:<lower id>` or, for children of
 * that lower sharing a namespace with a sibling, `group:<lower id>/ns:<namespace>`.
 */
export function groupsOf(nodes) {
  // a child's lower is named in its data (lowerName, set when its `lower:` cable is drawn): no
  // pass over the 10,000 cables of a big design to find it
  const lowerOf = (n) => (n.data.kind === 'child' && n.data.lowerName ? `${n.data.host}/${n.data.lowerName}` : null);
  const perLowerNs = new Map(); // lower -> ns -> count
  const lowers = new Map(); // node -> its lower (computed once)
  for (const n of nodes) {
    const lower = lowerOf(n);
    if (!lower) continue;
    lowers.set(n, lower);
    if (!n.data.ns) continue;
    const m = perLowerNs.get(lower) || new Map();
    m.set(n.data.ns, (m.get(n.data.ns) || 0) + 1);
    perLowerNs.set(lower, m);
  }
  const groups = new Map(); // group id -> {id, lower, ns, host, members: [node]}
  const plain = new Map(); // lower -> its group without a namespace
  for (const [n, lower] of lowers) {
    const shared = n.data.ns && perLowerNs.get(lower).get(n.data.ns) > 1;
    let g = shared ? null : plain.get(lower);
    if (!g) {
      const id = `${PREFIX}${lower}${shared ? `/ns:${n.data.ns}` : ''}`;
      g = groups.get(id);
      if (!g) { g = { id, lower, ns: shared ? n.data.ns : '', host: n.data.host, members: [] }; groups.set(id, g); }
      if (!shared) plain.set(lower, g);
    }
    g.members.push(n);
  }
  return groups;
}

function modeCounts(members) {
  const out = {};
  for (const m of members) out[m.data.mode] = (out[m.data.mode] || 0) + 1;
  return out;
}

function groupNode(g, lowerData, pos) {
  let x1 = Infinity; let y1 = Infinity; let x2 = -Infinity; let y2 = -Infinity;
  for (const m of g.members) {
    const p = pos[m.data.id];
    if (!p) continue;
    x1 = Math.min(x1, p.x); y1 = Math.min(y1, p.y); x2 = Math.max(x2, p.x); y2 = Math.max(y2, p.y);
  }
  const placed = x1 !== Infinity;
  const w = placed ? Math.max(120, x2 - x1 + 40) : 160;
  const h = placed ? Math.max(60, y2 - y1 + 40) : 80;
  const modes = modeCounts(g.members);
  const order = Object.keys(MODE_COLOURS).filter((m) => modes[m]);
  const n = g.members.length;
  const lowerName = lowerData ? lowerData.name : g.lower;
  const data = {
    id: g.id, kind: 'group', parent: g.host, host: g.host, lower: g.lower, lowerName, ns: g.ns, count: n, modes,
    members: g.members.map((m) => m.data.id), w, h, fs: Math.max(12, Math.min(w / 9, h / 4)),
    label: `${g.ns ? `ns ${g.ns}: ` : ''}${n} children of ${lowerName}\n${order.map((m) => `${m} ${modes[m]}`).join(' · ')}\n(click to expand)`,
  };
  order.forEach((m, i) => { data[`pie${i + 1}`] = (100 * modes[m]) / n; data[`pieColour${i + 1}`] = MODE_COLOURS[m]; });
  const position = placed ? { x: (x1 + x2) / 2, y: (y1 + y2) / 2 } : null;
  return { group: 'nodes', data, classes: `group pies-${order.length}`, position };
}

// The group nodes of the last collapse, by id, with what each was made from: an edit changes one
// group of a 10,000-child design at most, and the others' nodes are reused as they are (same
// members - the view's node objects, shared while their child is unchanged - at the same places).
let lastGroups = new Map();

function reusedGroupNode(g, lowerName, pos) {
  const hit = lastGroups.get(g.id);
  if (!hit || hit.lowerName !== lowerName || hit.members.length !== g.members.length) return null;
  for (let i = 0; i < g.members.length; i++) {
    const m = g.members[i];
    if (hit.members[i] !== m || hit.places[i] !== pos[m.data.id]) return null;
  }
  return hit.node;
}

/** The node drawn for collapsed group `g` (its lower's data: `lowerData`), reused when unchanged. */
function cachedGroupNode(g, lowerData, pos, next) {
  const lowerName = lowerData ? lowerData.name : g.lower;
  const node = reusedGroupNode(g, lowerName, pos) || groupNode(g, lowerData, pos);
  next.set(g.id, { node, lowerName, members: g.members, places: g.members.map((m) => pos[m.data.id]) });
  return node;
}

/**
 * The elements to draw: `nodes`/`edges` with every collapsed group's members replaced by one
 * group node, and the edges of members redirected to it (edges inside a group dropped).
 * `dataOf(id)`, when given, is the data of any node of the view (else looked up in `nodes`).
 * Returns {nodes, edges, drawnAs: member id -> group id, groups}.
 */
export function collapse(view, st, pos, dataOf = null) {
  const { nodes, edges } = view;
  const drawnAs = new Map();
  if (!st.on) return { nodes, edges, drawnAs, groups: new Map() };
  const groups = groupsOf(nodes);
  if (!dataOf) {
    const byId = new Map(nodes.map((n) => [n.data.id, n.data]));
    dataOf = (id) => byId.get(id);
  }
  const collapsed = new Map();
  for (const g of groups.values()) {
    if (g.members.length >= GROUP_MIN && !st.expanded.has(g.id)) {
      collapsed.set(g.id, g);
      for (const m of g.members) drawnAs.set(m.data.id, g.id);
    }
  }
  if (!collapsed.size) return { nodes, edges, drawnAs, groups };
  const outNodes = [];
  const placedGroups = new Set();
  const next = new Map();
  for (const n of nodes) {
    const gid = drawnAs.get(n.data.id);
    if (!gid) { outNodes.push(n); continue; }
    if (placedGroups.has(gid)) continue;
    placedGroups.add(gid);
    const g = collapsed.get(gid);
    outNodes.push(cachedGroupNode(g, dataOf(g.lower), pos, next));
  }
  lastGroups = next;
  const outEdges = [];
  const seen = new Map(); // kind -> source -> set of targets: the redirected edges made so far
  for (const e of edges) {
    const s = drawnAs.get(e.data.source) || e.data.source;
    const t = drawnAs.get(e.data.target) || e.data.target;
    if (s === e.data.source && t === e.data.target) { outEdges.push(e); continue; }
    if (s === t) continue;
    let bySource = seen.get(e.data.kind);
    if (!bySource) { bySource = new Map(); seen.set(e.data.kind, bySource); }
    let targets = bySource.get(s);
    if (!targets) { targets = new Set(); bySource.set(s, targets); }
    if (targets.has(t)) continue;
    targets.add(t);
    const id = `g${e.data.kind}:${s}>${t}`;
    outEdges.push({ group: 'edges', data: { id, source: s, target: t, kind: e.data.kind, grouped: true }, classes: `${e.data.kind} grouped` });
  }
  return { nodes: outNodes, edges: outEdges, drawnAs, groups };
}
