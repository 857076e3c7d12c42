// The vocabulary (modes, kinds, states, name patterns) as the server owns it
// (planner/core/schema.py), read from the JSON block every page embeds: the browser keeps no copy.
const el = typeof document !== 'undefined' ? document.getElementById('mvplan-vocabulary') : null;

export const VOCAB = Object.freeze(el ? JSON.parse(el.textContent) : {});
export const MODES = VOCAB.modes || [];
export const DEFAULT_MODE = VOCAB.default_mode;
export const CHILD_TYPES = VOCAB.child_types || [];
export const PARENT_KINDS = VOCAB.parent_kinds || [];
export const STATES = VOCAB.states || [];
// parent platform -> {filters, upstream, fix}: where a NIC lives and what its upstream lets through
export const PLATFORMS = VOCAB.platforms || {};
