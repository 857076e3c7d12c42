// Properties panel: a form per kind of object; each change becomes one undoable edit.
import { h, clear } from './dom.js';
import { getAt } from './model.js';
import { describe } from './words.js';
import { CHILD_TYPES, DEFAULT_MODE, MODES, PARENT_KINDS, PLATFORMS, STATES } from './vocabulary.js';
const L3 = [
  { key: 'addresses', label: 'Addresses (IPv4, IPv6)', type: 'list', placeholder: '10.0.0.5/24, 2001:db8::5/64, …' },
  { key: 'neighbors', label: 'Static neighbours', type: 'neighbors', placeholder: 'all-peers, or peer ids: host1/ns:web/web0' },
  { key: 'routes', label: 'Routes', type: 'routes', placeholder: 'default via 10.0.0.1, 10.0.0.7/32, …' },
  { key: 'forwarding', label: 'Forwarding (its namespace routes between its subnets)', type: 'checkbox' },
];

function fieldsFor(kind) {
  switch (kind) {
    case 'host': return [{ key: 'name', label: 'Host name', type: 'text' }];
    case 'parent': return [
      { key: 'name', label: 'Name', type: 'text' },
      { key: 'kind', label: 'Kind', type: 'select', options: PARENT_KINDS, empty: `${PARENT_KINDS[0]} (default)` },
      { key: 'uplink', label: 'Cabled to', type: 'uplink' },
      { key: 'state', label: 'State', type: 'select', options: STATES, empty: `${STATES[0]} (default)` },
      { key: 'mtu', label: 'MTU', type: 'number' },
      { key: 'mac', label: 'MAC', type: 'text' },
      { key: 'platform', label: 'Platform (what the upstream lets through)', type: 'select',
        options: Object.keys(PLATFORMS), empty: '(not said: a plain switch port)' }, ...L3,
    ];
    case 'child': return [
      { key: 'name', label: 'Name', type: 'text' },
      { key: 'parent', label: 'Parent', type: 'lower' },
      { key: 'mode', label: 'Mode', type: 'select', options: MODES, empty: `${DEFAULT_MODE} (default)` },
      { key: 'type', label: 'Type', type: 'select', options: CHILD_TYPES, empty: `${CHILD_TYPES[0]} (default)` },
      { key: 'namespace', label: 'Namespace', type: 'text', placeholder: '(host namespace)' },
      { key: 'state', label: 'State', type: 'select', options: STATES, empty: `${STATES[0]} (default)` },
      { key: 'mtu', label: 'MTU', type: 'number' },
      { key: 'mac', label: 'MAC', type: 'text' },
      { key: 'nopromisc', label: 'nopromisc (passthru only)', type: 'checkbox' },
      { key: 'source_macs', label: 'Source MACs (source mode)', type: 'list' }, ...L3,
    ];
    case 'bridge': return [
      { key: 'name', label: 'Name', type: 'text' },
      { key: 'state', label: 'State', type: 'select', options: STATES, empty: `${STATES[0]} (default)` },
      { key: 'mtu', label: 'MTU', type: 'number' },
      { key: 'mac', label: 'MAC', type: 'text' }, ...L3,
    ];
    case 'bport': return [
      { key: 'name', label: 'Port (veth end on the bridge)', type: 'text' },
      { key: 'hairpin', label: 'Hairpin', type: 'checkbox' },
    ];
    case 'peer': return [
      { key: 'name', label: 'Name (veth end)', type: 'text' },
      { key: 'namespace', label: 'Namespace', type: 'text', placeholder: '(host namespace)' },
      { key: 'state', label: 'State', type: 'select', options: STATES, empty: `${STATES[0]} (default)` },
      { key: 'mtu', label: 'MTU', type: 'number' },
      { key: 'mac', label: 'MAC', type: 'text' }, ...L3,
    ];
    case 'switch': return [{ key: 'name', label: 'Switch name', type: 'text' }];
    case 'port': return [
      { key: 'name', label: 'Port name', type: 'text' },
      { key: 'hairpin', label: 'Hairpin (reflective relay)', type: 'checkbox' },
      { key: 'isolated', label: 'Isolated (client isolation)', type: 'checkbox' },
      { key: 'allowed_macs', label: 'Port security: allowed MACs', type: 'list',
        placeholder: '(no port security) - listed MACs and the cabled device\'s own pass' },
    ];
    case 'station': return [
      { key: 'name', label: 'Name', type: 'text' },
      { key: 'uplink', label: 'Cabled to', type: 'uplink' },
      { key: 'mac', label: 'MAC', type: 'text' }, ...L3,
    ];
    default: return [];
  }
}

function uplinkOptions(doc, data) {
  const opts = [];
  for (const s of doc.switches || []) for (const p of s.ports || []) opts.push({ value: `switch:${s.name}/${p.name}`, label: `switch ${s.name} port ${p.name}` });
  if (data.kind === 'parent') {
    const host = (doc.hosts || []).find((x) => x.name === data.host);
    for (const b of (host && host.bridges) || []) for (const p of b.ports || []) {
      if (!p.peer && !p.enslave) opts.push({ value: `bridge:${b.name}/${p.name}`, label: `bridge ${b.name} port ${p.name}` });
    }
  }
  return opts;
}

function lowerOptions(doc, data) {
  const host = (doc.hosts || []).find((x) => x.name === data.host);
  if (!host) return [];
  return [
    ...(host.parents || []).map((p) => ({ value: p.name, label: `${p.name} (parent NIC)` })),
    ...(host.children || []).filter((c) => !c.namespace && c.name !== data.name).map((c) => ({ value: c.name, label: `${c.name} (macvlan; kernel re-parents)` })),
  ];
}

const uplinkValue = (u) => (!u ? '' : u.switch ? `switch:${u.switch}/${u.port}` : `bridge:${u.bridge}/${u.port}`);
function parseUplink(v) {
  if (!v) return undefined;
  let m = /^switch:(.+)\/([^/]+)$/.exec(v);
  if (m) return { switch: m[1], port: m[2] };
  m = /^bridge:(.+)\/([^/]+)$/.exec(v);
  return m ? { bridge: m[1], port: m[2] } : undefined;
}

function routesText(v) {
  return Array.isArray(v) ? v.map((r) => (r.via ? `${r.to} via ${r.via}` : r.to)).join(', ') : '';
}

// "default via 10.0.0.1, 10.0.0.7/32" -> [{to: 'default', via: '10.0.0.1'}, {to: '10.0.0.7/32'}];
// the server validates each prefix and gateway and names the field of a bad one
function parseRoutes(text) {
  const routes = text.split(',').map((x) => x.trim()).filter(Boolean).map((item) => {
    const [to, via] = item.split(/\s+via\s+/);
    return via ? { to: to.trim(), via: via.trim() } : { to: to.trim() };
  });
  return routes.length ? routes : undefined;
}

function neighborsText(v) {
  if (v === 'all-peers') return 'all-peers';
  if (!Array.isArray(v)) return '';
  return v.map((n) => n.peer || `${n.address}=${n.mac}`).join(', ');
}
function parseNeighbors(text) {
  const t = text.trim();
  if (!t) return undefined;
  if (t === 'all-peers') return 'all-peers';
  return t.split(/[,\s]+/).filter(Boolean).map((x) => {
    const m = /^([\d.]+)=([0-9a-fA-F:]+)$/.exec(x);
    return m ? { address: m[1], mac: m[2] } : { peer: x };
  });
}

/**
 * Render the form for the selected element. `edit(path, key, value, {rename})` applies an edit.
 * `resolved` is the server's flat view (default MAC/MTU) for placeholders.
 */
export function renderProps(el, doc, data, { edit, resolved, onDelete, onAddPort, onExpand, nodeData }) {
  clear(el);
  if (!data) {
    el.append(h('p.note', {}, 'Select something on the drawing to edit it, or add objects from the palette. ',
      'Press E (Connect) and drag from a child to a parent, from a parent to a switch port, or from a station to a port.'));
    el.append(designFields(doc, edit));
    return;
  }
  if (data.source) {
    const what = { lower: 'a child on its lower device', uplink: 'a cable to a switch or bridge port', member: 'a port of a bridge', veth: 'a veth pair' };
    el.append(h('h3', {}, describe(data, nodeData).replace(/^c/, 'C')), h('p.note', {}, what[data.kind] || data.kind),
      h('button.danger', { type: 'button', onclick: onDelete }, 'Delete connection'));
    return;
  }
  if (data.kind === 'group') {
    const modes = Object.entries(data.modes || {}).map(([m, n]) => `${m} ${n}`).join(', ');
    el.append(h('h3', {}, describe(data, nodeData)), h('p', {}, `Modes: ${modes}.`),
      h('p.note', {}, 'Children of one parent are drawn as one node in big designs; search finds them inside it.'),
      h('button.primary', { type: 'button', onclick: onExpand }, 'Expand'));
    return;
  }
  const obj = getAt(doc, data.path);
  if (!obj) return;
  const form = h('form.props', { 'data-path': data.path, 'data-kind': data.kind, onsubmit: (e) => e.preventDefault() });
  form.append(h('h3', {}, `${data.kind === 'bport' ? 'bridge port' : data.kind} `, h('code', {}, data.id)));
  const res = resolved && resolved.get(data.id);
  for (const f of fieldsFor(data.kind)) {
    const id = `prop-${f.key}`;
    const value = obj[f.key];
    let input;
    const commit = (v) => edit(data, f.key, v);
    if (f.type === 'select' || f.type === 'uplink' || f.type === 'lower') {
      const options = f.type === 'uplink' ? uplinkOptions(doc, data) : f.type === 'lower' ? lowerOptions(doc, data)
        : f.options.map((o) => ({ value: o, label: o }));
      const current = f.type === 'uplink' ? uplinkValue(value) : (value ?? '');
      const sel = h('select', { id, name: f.key },
        h('option', { value: '' }, f.empty || (f.type === 'uplink' ? '(not cabled)' : '(none)')),
        options.map((o) => h('option', { value: o.value }, o.label)));
      if (current && !options.some((o) => o.value === current)) sel.append(h('option', { value: current }, `${current} (missing)`));
      sel.value = current;
      sel.addEventListener('change', () => commit(f.type === 'uplink' ? parseUplink(sel.value) : (sel.value || undefined)));
      input = sel;
    } else if (f.type === 'checkbox') {
      input = h('input', { id, name: f.key, type: 'checkbox', checked: !!value });
      input.addEventListener('change', () => commit(input.checked ? true : undefined));
    } else if (f.type === 'number') {
      input = h('input', { id, name: f.key, type: 'number', inputmode: 'numeric', value: value ?? '', placeholder: res && res.mtu ? `${res.mtu} (default)` : '' });
      input.addEventListener('change', () => {
        const t = input.value.trim();
        commit(t === '' ? undefined : (Number.isInteger(Number(t)) ? Number(t) : t));
      });
    } else if (f.type === 'list') {
      input = h('input', { id, name: f.key, type: 'text', value: Array.isArray(value) ? value.join(', ') : '', placeholder: f.placeholder || '' });
      input.addEventListener('change', () => {
        const items = input.value.split(/[,\s]+/).map((x) => x.trim()).filter(Boolean);
        commit(items.length ? items : undefined);
      });
    } else if (f.type === 'routes') {
      input = h('input', { id, name: f.key, type: 'text', value: routesText(value), placeholder: f.placeholder || '' });
      input.addEventListener('change', () => commit(parseRoutes(input.value)));
    } else if (f.type === 'neighbors') {
      input = h('input', { id, name: f.key, type: 'text', value: neighborsText(value), placeholder: f.placeholder || '' });
      input.addEventListener('change', () => commit(parseNeighbors(input.value)));
    } else {
      const ph = f.key === 'mac' && res ? `${res.mac} (derived)` : (f.placeholder || '');
      input = h('input', { id, name: f.key, type: 'text', value: value ?? '', placeholder: ph, autocomplete: 'off', spellcheck: 'false' });
      input.addEventListener('change', () => commit(input.value.trim() === '' && f.key !== 'name' ? undefined : input.value.trim()));
    }
    input.setAttribute('aria-describedby', `${id}-error`);
    const row = h(`div.field.field-${f.type}`, { 'data-field': f.key },
      f.type === 'checkbox' ? [input, h('label', { for: id }, f.label)] : [h('label', { for: id }, f.label), input],
      h('div.field-error', { id: `${id}-error`, 'aria-live': 'polite' }));
    form.append(row);
  }
  const actions = h('div.actions');
  if (data.kind === 'switch') actions.append(h('button', { type: 'button', onclick: onAddPort }, 'Add port'));
  actions.append(h('button.danger', { type: 'button', onclick: onDelete }, `Delete ${data.kind === 'bport' ? 'bridge port' : data.kind}`));
  form.append(actions, h('div.other-problems'));
  el.append(form);
}

function designFields(doc, edit) {
  const form = h('form.props', { 'data-path': '', 'data-kind': 'design', onsubmit: (e) => e.preventDefault() }, h('h3', {}, 'Design'));
  const name = h('input', { id: 'prop-design-name', name: 'name', type: 'text', value: doc.name || '', maxlength: 200 });
  name.addEventListener('change', () => edit({ kind: 'design', path: '' }, 'name', name.value.trim() || undefined));
  const desc = h('textarea', { id: 'prop-design-description', name: 'description', rows: 4 });
  desc.value = doc.description || '';
  desc.addEventListener('change', () => edit({ kind: 'design', path: '' }, 'description', desc.value || undefined));
  form.append(
    h('div.field', { 'data-field': 'name' }, h('label', { for: 'prop-design-name' }, 'Design name'), name, h('div.field-error')),
    h('div.field', { 'data-field': 'description' }, h('label', { for: 'prop-design-description' }, 'Description'), desc, h('div.field-error')),
    h('div.other-problems'));
  return form;
}

/** Show server problems at the fields of the open form; the rest in its "other problems" box. */
export function showFieldProblems(el, problems) {
  const form = el.querySelector('form.props');
  if (!form) return;
  const base = form.dataset.path;
  for (const e of form.querySelectorAll('.field-error')) e.textContent = '';
  for (const f of form.querySelectorAll('.field')) f.classList.remove('has-error');
  for (const i of form.querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
  const other = form.querySelector('.other-problems');
  if (other) other.textContent = '';
  for (const p of problems || []) {
    let rest;
    if (base === '') {
      if (p.path.includes('.') || p.path.includes('[')) continue;
      rest = p.path;
    } else if (p.path === base) rest = '';
    else if (p.path.startsWith(base + '.')) rest = p.path.slice(base.length + 1);
    else continue;
    const key = rest.split(/[.[]/)[0];
    const field = key && form.querySelector(`.field[data-field="${CSS.escape(key)}"]`);
    if (field) {
      field.classList.add('has-error');
      for (const i of field.querySelectorAll('input, select, textarea')) i.setAttribute('aria-invalid', 'true');
      const box = field.querySelector('.field-error');
      box.textContent = (box.textContent ? box.textContent + ' ' : '') + p.message;
    } else if (other) {
      other.append(h('p.field-error', {}, `${rest || '(this object)'}: ${p.message}`));
    }
  }
}
