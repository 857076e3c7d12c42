// Search and filter the drawing: free text matches a name, id, address or namespace; `key:value`
// terms narrow it (`ns:web`, `mode:vepa`, `addr:10.0.1.`, `kind:parent`, `finding:MV203`,
// `finding:error`). Every term must match (AND). Works on every element of the design, also the
// children collapsed into a group.

const KEYS = {
  name: 'name', addr: 'addr', address: 'addr', ip: 'addr', ns: 'ns', namespace: 'ns', mode: 'mode',
  finding: 'finding', kind: 'kind', host: 'host', type: 'type',
};

/** [{key, value}] from a query; `key` is null for a free-text term. Unknown keys are free text. */
export function parseQuery(text) {
  const out = [];
  for (const raw of String(text || '').trim().split(/\s+/)) {
    if (!raw) continue;
    const m = /^([a-z]+):(.*)$/i.exec(raw);
    const key = m && KEYS[m[1].toLowerCase()];
    out.push(key ? { key, value: m[2].toLowerCase() } : { key: null, value: raw.toLowerCase() });
  }
  return out;
}

/** element id -> {codes: Set, severities: Set} for every subject of a finding. */
export function findingIndex(findings, idsOf) {
  const out = new Map();
  for (const f of findings || []) {
    for (const s of f.subjects || []) {
      for (const id of idsOf(s)) {
        let x = out.get(id);
        if (!x) { x = { codes: new Set(), severities: new Set() }; out.set(id, x); }
        x.codes.add(f.code.toLowerCase());
        x.severities.add(f.severity);
      }
    }
  }
  return out;
}

const has = (s, v) => String(s || '').toLowerCase().includes(v);

function termMatches(d, t, findings) {
  const addrs = d.addrs || [];
  switch (t.key) {
    case 'name': return has(d.name, t.value);
    case 'addr': return addrs.some((a) => has(a, t.value));
    case 'ns': return has(d.ns, t.value);
    case 'mode': return has(d.mode, t.value);
    case 'kind': return has(d.kind, t.value);
    case 'type': return has(d.type, t.value);
    case 'host': return has(d.host || (d.kind === 'host' ? d.name : ''), t.value);
    case 'finding': {
      const f = findings.get(d.id);
      if (!f) return false;
      if (!t.value || t.value === 'any') return true;
      if (t.value === 'error' || t.value === 'warning' || t.value === 'info') return f.severities.has(t.value);
      return [...f.codes].some((c) => c.startsWith(t.value));
    }
    default: return has(d.name, t.value) || has(d.id, t.value) || has(d.ns, t.value) || addrs.some((a) => has(a, t.value));
  }
}

/** The ids (in drawing order) of the nodes in `all` (id -> data) that match every term. */
export function search(query, all, findings) {
  const terms = parseQuery(query);
  if (!terms.length) return [];
  const out = [];
  for (const d of all.values()) {
    if (d.source) continue; // nodes only
    if (terms.every((t) => termMatches(d, t, findings))) out.push(d.id);
  }
  return out;
}
