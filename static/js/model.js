// The design document in the browser: ids, drawing elements, edits. Pure functions over plain
// objects (the document is the single source of truth; the canvas is redrawn from it).
import { CHILD_TYPES, DEFAULT_MODE } from './vocabulary.js';

export const IMPLICIT_HOST = 'host';

export const ifaceId = (host, name, ns = '') => (ns ? `${host}/ns:${ns}/${name}` : `${host}/${name}`);
export const nsId = (host, ns = '') => (ns ? `${host}/ns:${ns}` : host);

/**
 * Turn the single-host shorthand into an explicit host so every object has a host. `copy: false`
 * changes `doc` itself (a document just parsed, shared with nothing: no copy of 10,000 children).
 */
export function normalize(doc, { copy = true } = {}) {
  const out = copy ? structuredClone(doc || {}) : (doc || {});
  const short = ['parents', 'children', 'bridges'].filter((k) => k in out);
  let converted = false;
  if (short.length && !(out.hosts && out.hosts.length)) {
    const host = { name: IMPLICIT_HOST };
    for (const k of short) { host[k] = out[k]; delete out[k]; }
    out.hosts = [host];
    converted = true;
  }
  if (out.version === undefined) out.version = 1;
  for (const k of ['hosts', 'switches', 'stations']) if (!Array.isArray(out[k])) out[k] = [];
  return { doc: out, converted };
}

// -------------------------------------------------------------------- paths
export function parsePath(path) {
  const out = [];
  const re = /([^.[\]]+)|\[(\d+)\]/g;
  let m;
  while ((m = re.exec(path))) out.push(m[1] !== undefined ? m[1] : Number(m[2]));
  return out;
}

export function getAt(doc, path) {
  let cur = doc;
  for (const k of parsePath(path)) {
    if (cur == null) return undefined;
    cur = cur[k];
  }
  return cur;
}

/**
 * A copy of `doc` for an edit that changes only the object at `path` (one of its fields): the
 * objects and arrays on the way to it are copied, everything else is shared with `doc`. Old
 * documents are never changed in place (they are the undo history), so sharing is safe - except
 * for the layout's positions, which dragging updates in place: every copy gets its own position
 * map (its entries are replaced on a move, never changed). At 10,000 children this is what keeps
 * a field edit from copying the whole document (structuredClone: some 70 ms).
 */
export function cloneAlong(doc, path) {
  const out = { ...doc };
  if (doc.layout && typeof doc.layout === 'object') {
    const pos = doc.layout.positions;
    out.layout = { ...doc.layout, ...(pos && typeof pos === 'object' ? { positions: { ...pos } } : {}) };
  }
  let src = doc; let dst = out;
  for (const k of parsePath(path)) {
    const v = src[k];
    if (v === null || typeof v !== 'object') break;
    const copy = Array.isArray(v) ? v.slice() : { ...v };
    dst[k] = copy;
    src = v; dst = copy;
  }
  return out;
}

const isObject = (x) => x !== null && typeof x === 'object' && !Array.isArray(x);

/** Deep equality of JSON values (shared subtrees compare at once). */
export function sameJSON(a, b) {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJSON(x, b[i]));
  if (!isObject(a) || !isObject(b)) return false;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && sameJSON(a[k], b[k]));
}

/**
 * The operations that turn JSON document `a` into `b` (planner/web/livedocs.py's patch format):
 * `{path, value}`, `{path, delete: true}`, `{path, splice: [start, count, items]}`. An array
 * whose length changed is spliced between its common head and tail; one of the same length is
 * compared item by item. Subtrees shared by both (an edit copies only its path) cost nothing.
 */
export function patchOps(a, b, path = [], ops = []) {
  if (a === b) return ops;
  if (isObject(a) && isObject(b)) {
    for (const k of Object.keys(a)) if (!Object.hasOwn(b, k)) ops.push({ path: [...path, k], delete: true });
    for (const k of Object.keys(b)) {
      if (!Object.hasOwn(a, k)) ops.push({ path: [...path, k], value: b[k] });
      else patchOps(a[k], b[k], [...path, k], ops);
    }
    return ops;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    let head = 0;
    while (head < a.length && head < b.length && sameJSON(a[head], b[head])) head++;
    let tail = 0;
    while (tail < a.length - head && tail < b.length - head && sameJSON(a[a.length - 1 - tail], b[b.length - 1 - tail])) tail++;
    const na = a.length - head - tail; const nb = b.length - head - tail;
    if (na === nb) for (let i = head; i < head + na; i++) patchOps(a[i], b[i], [...path, i], ops);
    else ops.push({ path, splice: [head, na, b.slice(head, head + nb)] });
    return ops;
  }
  if (a !== b && !(a === undefined && b === undefined)) ops.push({ path, value: b });
  return ops;
}

// -------------------------------------------------------------------- drawing elements
const list = (x) => (Array.isArray(x) ? x : []);
const addrText = (o) => list(o.addresses).join(', ');

/** child object -> {key, node, edge}: its elements as last built (see buildElements). */
const childElements = new WeakMap();

/**
 * Nodes and edges for Cytoscape. Node ids are the design's own ids: hosts by name, interfaces
 * `host1/eth0`, `host1/ns:web/web0`, switches `switch:sw1`, ports `switch:sw1/p1`, stations
 * `station:gw`. Each carries `path` (where it lives in the document), `kind`, and what search
 * reads (`addrs`, `ns`, `mode`).
 *
 * `whatIf` ({hairpin: {port: bool}, down: [parent ids]}) is drawn as if it were the design: a
 * port's hairpin mark follows the override, a parent set down is drawn down, and so is every
 * child hanging off a down parent (class `down-lower`) and the cables of down devices.
 */
export function buildElements(doc, { whatIf } = {}) {
  // children are the bulk of a big design, and an edit leaves all but a few of them the same
  // objects (cloneAlong): their elements are reused. Callers must not change the elements.
  const nodes = [];
  const edges = [];
  const ids = new Set();
  const wiHairpin = (whatIf && whatIf.hairpin) || {};
  const wiDown = new Set((whatIf && whatIf.down) || []);
  const node = (data, classes = '') => { if (!ids.has(data.id)) { ids.add(data.id); nodes.push({ group: 'nodes', data, classes }); } };
  const pendingEdges = [];
  const edge = (id, source, target, kind, extra = {}, more = '') => pendingEdges.push({ group: 'edges', data: { id, source, target, kind, ...extra }, classes: kind + more });
  const hairpinOf = (key, own) => (key in wiHairpin ? { on: !!wiHairpin[key], whatIf: !!wiHairpin[key] !== !!own } : { on: !!own, whatIf: false });
  const portClasses = (kind, hp) => kind + (hp.on ? ' hairpin' : '') + (hp.whatIf ? ' whatif' : '');

  list(doc.switches).forEach((s, si) => {
    const sid = `switch:${s.name}`;
    node({ id: sid, kind: 'switch', label: s.name, name: s.name, path: `switches[${si}]` }, 'switch');
    list(s.ports).forEach((p, pi) => {
      const hp = hairpinOf(`${sid}/${p.name}`, p.hairpin);
      node({ id: `${sid}/${p.name}`, kind: 'port', label: p.name + (hp.on ? ' ⟲' : ''), name: p.name, switch: s.name,
        parent: sid, path: `switches[${si}].ports[${pi}]` }, portClasses('port', hp));
    });
  });
  list(doc.hosts).forEach((h, hi) => {
    const hp = `hosts[${hi}]`;
    node({ id: h.name, kind: 'host', label: h.name, name: h.name, path: hp }, 'host');
    const parentNames = new Set(list(h.parents).map((p) => p.name));
    const downParents = new Set();
    list(h.parents).forEach((p, k) => {
      const id = ifaceId(h.name, p.name);
      const wi = wiDown.has(id) && p.state !== 'down';
      const down = p.state === 'down' || wi;
      if (down) downParents.add(p.name);
      node({ id, kind: 'parent', parent: h.name, host: h.name, name: p.name, nsid: h.name, path: `${hp}.parents[${k}]`,
        addrs: list(p.addresses), ns: '',
        label: `${p.name}${p.kind && p.kind !== 'ethernet' ? ` (${p.kind})` : ''}${addrText(p) ? '\n' + addrText(p) : ''}` },
      'parent' + (down ? ' down' : '') + (wi ? ' whatif' : '') + (p.kind === 'wifi' ? ' wifi' : ''));
      if (p.uplink) {
        const target = p.uplink.switch ? `switch:${p.uplink.switch}/${p.uplink.port}` : ifaceId(h.name, p.uplink.port);
        edge(`uplink:${id}`, id, target, 'uplink', { owner: id }, down ? ' down' : '');
      }
    });
    const hostNsChildren = new Map(list(h.children).filter((c) => !c.namespace).map((c) => [c.name, c]));
    const lowerDown = (c) => { // does the chain of lowers end at a down parent (or a down child)?
      let cur = c; let n = 0;
      while (cur && n++ < 16) {
        if (downParents.has(cur.parent)) return true;
        const up = hostNsChildren.get(cur.parent);
        if (!up || up === cur) return false;
        if (up.state === 'down') return true;
        cur = up;
      }
      return false;
    };
    list(h.children).forEach((c, k) => {
      const hasLower = !!c.parent && (parentNames.has(c.parent) || (hostNsChildren.has(c.parent) && c.parent !== c.name));
      const offLower = hasLower && lowerDown(c);
      // what the child's elements depend on besides the child itself and its place in the list
      const key = `${hp}|${h.name}|${hasLower}|${offLower}`;
      const hit = c && typeof c === 'object' ? childElements.get(c) : undefined;
      if (hit && hit.key === key) {
        // deleting a child moves the ones after it up the list: only their path changes
        const path = `${hp}.children[${k}]`;
        if (hit.node.data.path !== path) hit.node = { ...hit.node, data: { ...hit.node.data, path } };
        if (!ids.has(hit.node.data.id)) { ids.add(hit.node.data.id); nodes.push(hit.node); }
        if (hit.edge) pendingEdges.push(hit.edge);
        return;
      }
      const id = ifaceId(h.name, c.name, c.namespace || '');
      const mode = c.mode || DEFAULT_MODE;
      const type = c.type || 'macvlan';
      const ns = c.namespace ? `ns ${c.namespace}` : 'host ns';
      const first = nodes.length; const firstEdge = pendingEdges.length;
      node({ id, kind: 'child', parent: h.name, host: h.name, name: c.name, mode, type, nsid: nsId(h.name, c.namespace || ''),
        path: `${hp}.children[${k}]`, addrs: list(c.addresses), ns: c.namespace || '', lowerName: hasLower ? c.parent : '',
        label: `${c.name} · ${mode}${type === 'macvtap' ? ' tap' : ''}\n${ns}${addrText(c) ? '\n' + addrText(c) : ''}` },
      `child mode-${mode} ${type}` + (c.state === 'down' ? ' down' : '') + (offLower ? ' down-lower' : '') + (hasLower ? '' : ' orphan'));
      if (hasLower) {
        edge(`lower:${id}`, id, ifaceId(h.name, c.parent), 'lower', { owner: id }, c.state === 'down' || offLower ? ' down' : '');
      }
      if (nodes.length > first && c && typeof c === 'object') {
        childElements.set(c, { key, node: nodes[first], edge: pendingEdges.length > firstEdge ? pendingEdges[firstEdge] : null });
      }
    });
    list(h.bridges).forEach((b, k) => {
      const bid = ifaceId(h.name, b.name);
      const bp = `${hp}.bridges[${k}]`;
      node({ id: bid, kind: 'bridge', parent: h.name, host: h.name, name: b.name, nsid: h.name, path: bp, addrs: list(b.addresses), ns: '',
        label: `${b.name} (bridge)${addrText(b) ? '\n' + addrText(b) : ''}` }, 'bridge' + (b.state === 'down' ? ' down' : ''));
      list(b.ports).forEach((port, j) => {
        const ppath = `${bp}.ports[${j}]`;
        const pid = ifaceId(h.name, port.name);
        if (port.enslave) {
          edge(`member:${pid}`, pid, bid, 'member', { owner: pid, portPath: ppath }, downParents.has(port.name) ? ' down' : '');
          return;
        }
        const hpb = hairpinOf(`bridge:${h.name}/${b.name}/${port.name}`, port.hairpin);
        node({ id: pid, kind: 'bport', parent: h.name, host: h.name, name: port.name, bridge: b.name, nsid: h.name,
          hasPeer: !!port.peer, path: ppath, label: port.name + (hpb.on ? ' ⟲' : ''), ns: '' },
        portClasses('bport', hpb));
        edge(`member:${pid}`, pid, bid, 'member', { owner: pid, portPath: ppath });
        if (port.peer) {
          const pe = port.peer;
          const peid = ifaceId(h.name, pe.name, pe.namespace || '');
          node({ id: peid, kind: 'peer', parent: h.name, host: h.name, name: pe.name, nsid: nsId(h.name, pe.namespace || ''),
            path: `${ppath}.peer`, addrs: list(pe.addresses), ns: pe.namespace || '',
            label: `${pe.name} (veth)\n${pe.namespace ? 'ns ' + pe.namespace : 'host ns'}${addrText(pe) ? '\n' + addrText(pe) : ''}` },
          'peer' + (pe.state === 'down' ? ' down' : ''));
          edge(`veth:${pid}`, pid, peid, 'veth', { owner: peid }, pe.state === 'down' ? ' down' : '');
        }
      });
    });
  });
  list(doc.stations).forEach((s, k) => {
    const id = `station:${s.name}`;
    node({ id, kind: 'station', name: s.name, nsid: id, path: `stations[${k}]`, addrs: list(s.addresses), ns: '',
      label: `${s.name}${addrText(s) ? '\n' + addrText(s) : ''}` }, 'station');
    if (s.uplink && s.uplink.switch) edge(`uplink:${id}`, id, `switch:${s.uplink.switch}/${s.uplink.port}`, 'uplink', { owner: id });
  });
  for (const e of pendingEdges) {
    if (ids.has(e.data.source) && ids.has(e.data.target) && !ids.has(e.data.id)) { ids.add(e.data.id); edges.push(e); }
  }
  return { nodes, edges };
}

/**
 * The element ids a subject of a finding stands for (iface id, port node, namespace id, bridge
 * port node). `has(id)` says whether an element exists; `nsIndex` maps a namespace id to the
 * interfaces in it.
 */
export function subjectIds(subject, has, nsIndex) {
  if (!subject) return [];
  if (has(subject)) return [subject];
  let m = /^bridge:([^/]+)\/([^/]+)\/([^/]+)$/.exec(subject);
  if (m) return [ifaceId(m[1], m[3])];
  m = /^bridge:([^/]+)\/([^/]+)$/.exec(subject);
  if (m) return [ifaceId(m[1], m[2])];
  return (nsIndex && nsIndex.get(subject)) || []; // a namespace: every interface in it
}

// -------------------------------------------------------------------- naming
const NAME_OK = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const IFNAME_OK = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;
export const validName = (n) => NAME_OK.test(n);
export const validIfname = (n) => IFNAME_OK.test(n);

function freshName(prefix, taken, start = 0) {
  const used = new Set(taken);
  for (let n = start; ; n++) if (!used.has(`${prefix}${n}`)) return `${prefix}${n}`;
}

function hostIfnames(h) {
  const out = [];
  for (const p of list(h.parents)) out.push(p.name);
  for (const c of list(h.children)) out.push(c.name);
  for (const b of list(h.bridges)) {
    out.push(b.name);
    for (const p of list(b.ports)) { out.push(p.name); if (p.peer) out.push(p.peer.name); }
  }
  return out;
}

function allAddresses(doc) {
  const out = new Set();
  const take = (o) => list(o && o.addresses).forEach((a) => out.add(String(a).split('/')[0]));
  for (const h of list(doc.hosts)) {
    list(h.parents).forEach(take); list(h.children).forEach(take);
    for (const b of list(h.bridges)) { take(b); list(b.ports).forEach((p) => take(p.peer)); }
  }
  list(doc.stations).forEach(take);
  return out;
}

/** Next free 10.0.0.x/24 (then 10.0.1.x ...) so new endpoints can talk without typing. */
export function nextAddress(doc) {
  const used = allAddresses(doc);
  for (let third = 0; third < 256; third++) {
    for (let last = 2; last < 255; last++) {
      const ip = `10.0.${third}.${last}`;
      if (!used.has(ip)) return `${ip}/24`;
    }
  }
  return undefined;
}

// -------------------------------------------------------------------- locating
export function hostByName(doc, name) { return list(doc.hosts).find((h) => h.name === name); }
export function switchByName(doc, name) { return list(doc.switches).find((s) => s.name === name); }

/** The host an element belongs to (or the only host), for "add" actions. */
export function contextHost(doc, data) {
  if (data && data.kind === 'host') return data.name;
  if (data && data.host) return data.host;
  const hosts = list(doc.hosts);
  return hosts.length ? hosts[hosts.length - 1].name : null;
}

// -------------------------------------------------------------------- additions
// Each returns the id of the new node (to select it).
export function addHost(doc) {
  const name = freshName('host', list(doc.hosts).map((h) => h.name), 1);
  doc.hosts.push({ name, parents: [] });
  return name;
}

export function addParent(doc, hostName) {
  let h = hostByName(doc, hostName);
  if (!h) { hostName = addHost(doc); h = hostByName(doc, hostName); }
  h.parents = list(h.parents);
  const name = freshName('eth', hostIfnames(h));
  h.parents.push({ name });
  return ifaceId(h.name, name);
}

export function addChild(doc, hostName, parentName, mode = DEFAULT_MODE, type = CHILD_TYPES[0]) {
  let h = hostByName(doc, hostName);
  if (!h) { hostName = addHost(doc); h = hostByName(doc, hostName); }
  h.children = list(h.children);
  const name = freshName(type === 'macvtap' ? 'mvtap' : 'mv', hostIfnames(h));
  const child = { name, parent: parentName || '', mode };
  if (type !== CHILD_TYPES[0]) child.type = type;
  child.namespace = `ns-${name}`;
  const addr = nextAddress(doc);
  if (addr) child.addresses = [addr];
  h.children.push(child);
  return ifaceId(h.name, name, child.namespace);
}

export function addBridge(doc, hostName) {
  let h = hostByName(doc, hostName);
  if (!h) { hostName = addHost(doc); h = hostByName(doc, hostName); }
  h.bridges = list(h.bridges);
  const name = freshName('br', hostIfnames(h));
  h.bridges.push({ name, ports: [] });
  return ifaceId(h.name, name);
}

export function addBridgePort(doc, hostName, bridgeName) {
  const h = hostByName(doc, hostName);
  const b = h && list(h.bridges).find((x) => x.name === bridgeName);
  if (!b) throw new Error('select a Linux bridge first');
  b.ports = list(b.ports);
  const taken = hostIfnames(h);
  const name = freshName('vb', taken);
  const peerName = freshName('ve', [...taken, name]);
  const peer = { name: peerName, namespace: `ns${name}` };
  const addr = nextAddress(doc);
  if (addr) peer.addresses = [addr];
  b.ports.push({ name, peer });
  return ifaceId(h.name, name);
}

export function addSwitch(doc) {
  const name = freshName('sw', list(doc.switches).map((s) => s.name), 1);
  doc.switches.push({ name, ports: [{ name: 'p1' }] });
  return `switch:${name}`;
}

export function addSwitchPort(doc, switchName) {
  let s = switchByName(doc, switchName);
  if (!s) { switchName = addSwitch(doc).slice('switch:'.length); return `switch:${switchName}/p1`; }
  s.ports = list(s.ports);
  const name = freshName('p', s.ports.map((p) => p.name), 1);
  s.ports.push({ name });
  return `switch:${s.name}/${name}`;
}

function cabledPorts(doc) {
  const used = new Map();
  for (const h of list(doc.hosts)) {
    for (const p of list(h.parents)) {
      if (p.uplink && p.uplink.switch) used.set(`switch:${p.uplink.switch}/${p.uplink.port}`, ifaceId(h.name, p.name));
      if (p.uplink && p.uplink.bridge) used.set(`bridge:${h.name}/${p.uplink.port}`, ifaceId(h.name, p.name));
    }
  }
  for (const s of list(doc.stations)) if (s.uplink && s.uplink.switch) used.set(`switch:${s.uplink.switch}/${s.uplink.port}`, `station:${s.name}`);
  return used;
}

function freePort(doc, switchName) {
  const s = switchByName(doc, switchName);
  const used = cabledPorts(doc);
  const free = list(s.ports).find((p) => !used.has(`switch:${s.name}/${p.name}`));
  if (free) return free.name;
  return addSwitchPort(doc, s.name).split('/').pop();
}

export function addStation(doc, switchName) {
  let s = switchByName(doc, switchName) || list(doc.switches)[0];
  if (!s) { addSwitch(doc); s = doc.switches[doc.switches.length - 1]; }
  const name = freshName('st', list(doc.stations).map((x) => x.name), 1);
  const station = { name, uplink: { switch: s.name, port: freePort(doc, s.name) } };
  const addr = nextAddress(doc);
  if (addr) station.addresses = [addr];
  doc.stations.push(station);
  return `station:${name}`;
}

// -------------------------------------------------------------------- connections
/**
 * What dragging from `a` to `b` means (either direction), or null when it means nothing.
 * Returns {kind, ...} understood by applyConnect.
 */
export function planConnect(doc, a, b) {
  if (!a || !b || a.id === b.id) return null;
  const pairs = [[a, b], [b, a]];
  for (const [s, t] of pairs) {
    if (s.kind === 'child' && (t.kind === 'parent' || (t.kind === 'child' && t.nsid === t.host)) && s.host === t.host) {
      if (t.kind === 'child' && t.name === s.name) return null;
      return { kind: 'lower', child: s, target: t };
    }
  }
  for (const [s, t] of pairs) {
    if (s.kind === 'parent' && t.kind === 'port') return { kind: 'uplink-switch', from: s, switch: t.switch, port: t.name };
    if (s.kind === 'parent' && t.kind === 'switch') return { kind: 'uplink-switch', from: s, switch: t.name, port: null };
    if (s.kind === 'station' && t.kind === 'port') return { kind: 'uplink-switch', from: s, switch: t.switch, port: t.name };
    if (s.kind === 'station' && t.kind === 'switch') return { kind: 'uplink-switch', from: s, switch: t.name, port: null };
    if (s.kind === 'parent' && t.kind === 'bport' && s.host === t.host && !t.hasPeer) return { kind: 'uplink-bridge', from: s, bridge: t.bridge, port: t.name };
    if (s.kind === 'parent' && t.kind === 'bridge' && s.host === t.host) return { kind: 'enslave', from: s, bridge: t.name };
  }
  return null;
}

const CONNECT_HINTS = {
  child: 'needs a parent NIC (or a child in the host namespace) of the same host',
  parent: 'goes to a switch port, a switch, or a bridge or bridge port of the same host',
  station: 'goes to a switch port or a switch',
  port: 'takes a parent NIC or a station',
  switch: 'takes a parent NIC or a station (on a free port)',
  bridge: 'takes a parent NIC of its own host (enslaved as a port)',
  bport: 'takes a parent NIC of its own host',
  host: 'is a box: drag from one of its NICs or children instead',
  group: 'is a group of children: click it to expand it, then drag one child',
  peer: 'is a container end of a veth: it is already cabled to its bridge port',
};

/** What a drag from an element of this kind can end on. */
export const connectHint = (a) => CONNECT_HINTS[a && a.kind] || 'cannot be cabled';

/** Why a drag from `a` to `b` makes no cable, in words (`nameOf` names a node). */
export function whyNotConnect(a, b, nameOf) {
  if (!a || !b) return 'drop the end on a node';
  if (a.id === b.id) return 'that is the node you started from';
  const kinds = new Set([a.kind, b.kind]);
  const [x, y] = a.kind === 'child' || (a.kind === 'parent' && b.kind !== 'child') ? [a, b] : [b, a];
  if (x.host && y.host && x.host !== y.host && (x.kind === 'child' || ['bridge', 'bport'].includes(y.kind))) {
    return `${nameOf(x)} is on ${x.host} and ${nameOf(y)} on ${y.host}: that cable stays inside one host`;
  }
  if (x.kind === 'child' && y.kind === 'child') {
    if (y.nsid !== y.host) return `${nameOf(y)} lives in a namespace (${y.ns}): a child can hang off a child only in the host namespace`;
    return `${nameOf(x)} and ${nameOf(y)} are the same child`;
  }
  if (kinds.has('parent') && kinds.has('bport')) return `${nameOf(y.kind === 'bport' ? y : x)} is a container's veth port: its other end is taken`;
  if (kinds.has('child') && !kinds.has('parent')) return `a child ${CONNECT_HINTS.child}`;
  return `${nameOf(a)} (${a.kind}) ${connectHint(a)}, not a ${b.kind === 'bport' ? 'bridge port' : b.kind}`;
}

/** Apply a planned connection to the document; returns a short description. Throws on refusal. */
export function applyConnect(doc, plan) {
  if (plan.kind === 'lower') {
    const c = getAt(doc, plan.child.path);
    c.parent = plan.target.name;
    return `Connected ${plan.child.name} -> ${plan.target.name}: it now hangs off ${plan.target.name}`;
  }
  if (plan.kind === 'uplink-switch') {
    const port = plan.port || freePort(doc, plan.switch);
    const node = `switch:${plan.switch}/${port}`;
    const owner = cabledPorts(doc).get(node);
    if (owner && owner !== plan.from.id) throw new Error(`port ${port} of switch ${plan.switch} is already cabled to ${owner}; one cable per port`);
    getAt(doc, plan.from.path).uplink = { switch: plan.switch, port };
    return `Cabled ${plan.from.name} to port ${port} of switch ${plan.switch}`;
  }
  if (plan.kind === 'uplink-bridge') {
    const node = `bridge:${plan.from.host}/${plan.port}`;
    const owner = cabledPorts(doc).get(node);
    if (owner && owner !== plan.from.id) throw new Error(`bridge port ${plan.port} is already cabled to ${owner}`);
    getAt(doc, plan.from.path).uplink = { bridge: plan.bridge, port: plan.port };
    return `Cabled ${plan.from.name} to port ${plan.port} of bridge ${plan.bridge}`;
  }
  if (plan.kind === 'enslave') {
    const h = hostByName(doc, plan.from.host);
    const b = list(h.bridges).find((x) => x.name === plan.bridge);
    b.ports = list(b.ports);
    if (b.ports.some((p) => p.name === plan.from.name)) throw new Error(`${plan.from.name} is already a port of ${b.name}`);
    b.ports.push({ name: plan.from.name, enslave: true });
    return `${plan.from.name} enslaved to bridge ${b.name}`;
  }
  throw new Error('nothing to connect');
}

// -------------------------------------------------------------------- renames and deletes
function forEachUplink(doc, fn) {
  for (const h of list(doc.hosts)) for (const p of list(h.parents)) if (p.uplink) fn(p.uplink, h);
  for (const s of list(doc.stations)) if (s.uplink) fn(s.uplink, null);
}

export function renameKey(doc, oldId, newId) {
  const pos = doc.layout && doc.layout.positions;
  if (!pos) return;
  for (const k of Object.keys(pos)) {
    if (k === oldId || k.startsWith(oldId + '/')) {
      pos[newId + k.slice(oldId.length)] = pos[k];
      delete pos[k];
    }
  }
}

/** Rename an object and every reference to it; returns the new node id. */
export function rename(doc, data, newName) {
  const obj = getAt(doc, data.path);
  const old = obj.name;
  if (old === newName) return data.id;
  obj.name = newName;
  const h = data.host ? hostByName(doc, data.host) : null;
  let newId = data.id;
  switch (data.kind) {
    case 'host':
      newId = newName;
      renameKey(doc, old, newName);
      return newId;
    case 'parent':
      for (const c of list(h.children)) if (c.parent === old) c.parent = newName;
      for (const b of list(h.bridges)) for (const p of list(b.ports)) if (p.enslave && p.name === old) p.name = newName;
      newId = ifaceId(h.name, newName);
      break;
    case 'child':
      for (const c of list(h.children)) if (c.parent === old && c !== obj) c.parent = newName;
      newId = ifaceId(h.name, newName, obj.namespace || '');
      break;
    case 'bridge':
      forEachUplink(doc, (u, uh) => { if (uh === h && u.bridge === old) u.bridge = newName; });
      newId = ifaceId(h.name, newName);
      break;
    case 'bport':
      forEachUplink(doc, (u, uh) => { if (uh === h && u.bridge === data.bridge && u.port === old) u.port = newName; });
      newId = ifaceId(h.name, newName);
      break;
    case 'peer':
      newId = ifaceId(h.name, newName, obj.namespace || '');
      break;
    case 'switch':
      forEachUplink(doc, (u) => { if (u.switch === old) u.switch = newName; });
      newId = `switch:${newName}`;
      break;
    case 'port':
      forEachUplink(doc, (u) => { if (u.switch === data.switch && u.port === old) u.port = newName; });
      newId = `switch:${data.switch}/${newName}`;
      break;
    case 'station':
      newId = `station:${newName}`;
      break;
    default:
      break;
  }
  renameKey(doc, data.id, newId);
  return newId;
}

function removeAt(doc, path) {
  const parts = parsePath(path);
  const idx = parts.pop();
  let arr = doc;
  for (const k of parts) arr = arr == null ? undefined : arr[k];
  if (Array.isArray(arr)) arr.splice(idx, 1);
  else if (arr) delete arr[idx];
}

/** Delete a node or an edge (edges drop the reference they stand for). */
export function remove(doc, data) {
  if (data.source) { // an edge
    if (data.kind === 'lower') { getAt(doc, getPathOf(doc, data.owner)).parent = ''; return; }
    if (data.kind === 'uplink') {
      const owner = data.owner.startsWith('station:') ? null : getAt(doc, getPathOf(doc, data.owner));
      if (!owner) throw new Error('a station must stay cabled to a switch port; delete the station or move its cable');
      delete owner.uplink; return;
    }
    if (data.kind === 'member') { removeAt(doc, data.portPath); return; }
    if (data.kind === 'veth') { delete getAt(doc, getPathOf(doc, data.owner).replace(/\.peer$/, '')).peer; return; }
    return;
  }
  const h = data.host ? hostByName(doc, data.host) : null;
  switch (data.kind) {
    case 'parent':
      for (const b of list(h.bridges)) b.ports = list(b.ports).filter((p) => !(p.enslave && p.name === data.name));
      break;
    case 'bport':
      forEachUplink(doc, (u, uh) => { if (uh === h && u.bridge === data.bridge && u.port === data.name) { delete u.bridge; u.port = ''; } });
      for (const p of list(h.parents)) if (p.uplink && p.uplink.port === '' && !p.uplink.switch) delete p.uplink;
      break;
    case 'bridge':
      for (const p of list(h.parents)) if (p.uplink && p.uplink.bridge === data.name) delete p.uplink;
      break;
    case 'port':
      for (const hh of list(doc.hosts)) for (const p of list(hh.parents)) if (p.uplink && p.uplink.switch === data.switch && p.uplink.port === data.name) delete p.uplink;
      break;
    case 'switch':
      for (const hh of list(doc.hosts)) for (const p of list(hh.parents)) if (p.uplink && p.uplink.switch === data.name) delete p.uplink;
      break;
    case 'peer':
      delete getAt(doc, data.path.replace(/\.peer$/, '')).peer;
      dropPositions(doc, data.id);
      return;
    default:
      break;
  }
  removeAt(doc, data.path);
  dropPositions(doc, data.id);
}

function dropPositions(doc, id) {
  const pos = doc.layout && doc.layout.positions;
  if (!pos) return;
  for (const k of Object.keys(pos)) if (k === id || k.startsWith(id + '/')) delete pos[k];
}

/** Path of a node id in the document (recomputed: paths shift when arrays change). */
export function getPathOf(doc, id) {
  const { nodes } = buildElements(doc);
  const n = nodes.find((x) => x.data.id === id);
  return n ? n.data.path : null;
}

// -------------------------------------------------------------------- layout
/**
 * Deterministic tidy layout: switches (ports in a row) on top, stations above their port,
 * hosts below in a grid; in a host, parents in a row and each parent's children under it.
 * Returns {id: {x, y}} for leaf nodes. O(n), fine for thousands of nodes.
 */
export function tidyLayout(doc) {
  const pos = {};
  const DX = 140; const DY = 90;
  let x = 0;
  const portX = {};
  for (const s of list(doc.switches)) {
    for (const p of list(s.ports)) {
      const id = `switch:${s.name}/${p.name}`;
      pos[id] = { x, y: 0 };
      portX[id] = x;
      x += 80;
    }
    if (!list(s.ports).length) { pos[`switch:${s.name}`] = { x, y: 0 }; x += 80; }
    x += 80;
  }
  let sx = x;
  for (const st of list(doc.stations)) {
    const target = st.uplink && st.uplink.switch ? `switch:${st.uplink.switch}/${st.uplink.port}` : null;
    if (target && portX[target] !== undefined && !Object.values(pos).some((q) => q.y === -110 && q.x === portX[target])) {
      pos[`station:${st.name}`] = { x: portX[target], y: -110 };
    } else {
      pos[`station:${st.name}`] = { x: sx, y: -110 }; sx += DX;
    }
  }
  let leafCount = 0;
  for (const h of list(doc.hosts)) leafCount += list(h.parents).length + list(h.children).length + list(h.bridges).length * 3;
  const MAXW = Math.max(1400, x, Math.sqrt(leafCount) * DX * 1.6); // roughly as wide as tall
  let hx = 0; let hy = 200; let rowH = 0;
  for (const h of list(doc.hosts)) {
    const local = {};
    let cx = 0; let maxY = 0;
    const childrenOf = {};
    const orphans = [];
    const parentNames = new Set(list(h.parents).map((p) => p.name));
    const childByName = {};
    for (const c of list(h.children)) if (!c.namespace) childByName[c.name] = c;
    const rootOf = (c) => {
      let cur = c; let n = 0;
      while (cur && !parentNames.has(cur.parent) && childByName[cur.parent] && n++ < 16) cur = childByName[cur.parent];
      return cur && parentNames.has(cur.parent) ? cur.parent : null;
    };
    for (const c of list(h.children)) {
      const r = rootOf(c);
      if (r) (childrenOf[r] = childrenOf[r] || []).push(c); else orphans.push(c);
    }
    let bandY = 0; let bandH = 0;
    const grid = (items, left, top, idOf) => {
      const cols = Math.max(1, Math.min(10, Math.ceil(Math.sqrt(items.length * 2))));
      items.forEach((c, i) => {
        const y = top + Math.floor(i / cols) * DY;
        local[idOf(c)] = { x: left + (i % cols) * DX, y };
        maxY = Math.max(maxY, y);
        bandH = Math.max(bandH, y - bandY);
      });
      return Math.max(1, Math.min(cols, items.length)) * DX;
    };
    let widest = 0;
    const wrap = (w) => { // start a new band inside the host when it grows too wide
      if (cx > 0 && cx + w > MAXW) { widest = Math.max(widest, cx); cx = 0; bandY += bandH + DY * 2; bandH = DY * 1.5; }
    };
    for (const p of list(h.parents)) {
      const kids = childrenOf[p.name] || [];
      const cols = Math.max(1, Math.min(10, Math.ceil(Math.sqrt(kids.length * 2))));
      wrap(Math.max(Math.min(cols, kids.length) * DX, DX));
      local[ifaceId(h.name, p.name)] = { x: cx, y: bandY };
      const w = grid(kids, cx, bandY + DY * 1.5, (c) => ifaceId(h.name, c.name, c.namespace || ''));
      cx += Math.max(w, DX) + 20;
    }
    if (orphans.length) {
      wrap(DX * Math.min(10, orphans.length));
      const w = grid(orphans, cx, bandY + DY * 1.5, (c) => ifaceId(h.name, c.name, c.namespace || ''));
      cx += w + 20;
    }
    for (const b of list(h.bridges)) {
      wrap(DX * Math.max(1, list(b.ports).length));
      local[ifaceId(h.name, b.name)] = { x: cx, y: bandY };
      let px = cx;
      for (const p of list(b.ports)) {
        if (p.enslave) continue;
        local[ifaceId(h.name, p.name)] = { x: px, y: bandY + DY * 1.5 };
        if (p.peer) local[ifaceId(h.name, p.peer.name, p.peer.namespace || '')] = { x: px, y: bandY + DY * 3 };
        maxY = Math.max(maxY, bandY + (p.peer ? DY * 3 : DY * 1.5));
        bandH = Math.max(bandH, p.peer ? DY * 3 : DY * 1.5);
        px += DX;
      }
      cx = Math.max(px, cx + DX) + 20;
    }
    cx = Math.max(cx, widest);
    const width = Math.max(cx, DX);
    if (hx > 0 && hx + width > MAXW) { hx = 0; hy += rowH + 160; rowH = 0; }
    for (const [id, p] of Object.entries(local)) pos[id] = { x: hx + p.x, y: hy + p.y };
    if (!Object.keys(local).length) pos[h.name] = { x: hx, y: hy };
    rowH = Math.max(rowH, maxY);
    hx += width + 120;
  }
  return pos;
}
