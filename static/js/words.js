// Drawing elements in words, for hints and headings: "connection mv0 -> eth0", "child mv0 on
// host1", "port p1 of switch sw1". Element ids (`lower:host1/ns:a/mv0`) are the canvas's
// bookkeeping and never reach the user.

/** The short name of a drawn node: what a user calls it. */
export function nameOf(data) {
  if (!data) return '?';
  switch (data.kind) {
    case 'port': return `${data.switch} port ${data.name}`;
    case 'group': return `${data.count} children of ${data.lowerName}`;
    default: return data.name || data.id;
  }
}

const KIND_WORDS = {
  host: 'host', parent: 'parent NIC', child: 'child', bridge: 'bridge', bport: 'bridge port', peer: 'veth',
  switch: 'switch', port: 'switch port', station: 'station', group: 'group',
};

/** "child mv0 on host1", "switch sw1", "connection mv0 -> eth0". `nodeData(id)` looks up an end of an edge. */
export function describe(data, nodeData) {
  if (!data) return 'nothing';
  if (data.source) {
    const a = nodeData ? nodeData(data.source) : null;
    const b = nodeData ? nodeData(data.target) : null;
    return `connection ${a ? nameOf(a) : 'one end'} -> ${b ? nameOf(b) : 'the other end'}`;
  }
  if (data.kind === 'group') return `${data.count} children of ${data.lowerName} on ${data.host}`;
  if (data.kind === 'port') return `port ${data.name} of switch ${data.switch}`;
  if (data.kind === 'bport') return `bridge port ${data.name} of ${data.bridge} on ${data.host}`;
  const kind = KIND_WORDS[data.kind] || data.kind || 'object';
  const where = data.host && data.kind !== 'host' ? ` on ${data.host}` : '';
  return `${kind} ${data.name || data.id}${where}`;
}
