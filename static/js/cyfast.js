// Cheaper Cytoscape internals for graphs with compound nodes (hosts and switches are boxes).
//
// Each style property Cytoscape applies to an element (about 40 per group node, all of them when
// an element is first styled) calls ele.dirtyStyleCache(), which forgets the cached derived
// values (visibility, effective opacity...) of the element, its descendants, its ancestors and
// their edges. With compound nodes it does so by building four collections per call; on the
// 10,000-child design's first render that was some 11,000 calls and a third of the time spent
// styling (about 300 ms). The same caches are forgotten here by walking the element's own links.
//
// Sorting the drawn elements by z-order (after every add or remove: each edit) asks each node's
// depth in the boxes twice per comparison, and Cytoscape builds a collection of its ancestors to
// count them: some 50 ms per edit on the 1,000-node design. The depth is counted here the same way
// without the collection.
//
// An element's first styling applies every property of the stylesheet to it, and each one that
// can move its bounds or z-order (some 25 of a node's) runs Cytoscape's triggers: forget the
// element's style cache, dirty its bounds and its boxes' bounds, emit 'bounds' on it and on every
// box above it, tell the renderer the z-order changed. On the 10,000-child design's first render
// that was some 12,000 emits (about 150 ms). A never-styled element has nothing cached that its
// style could have made stale (its bounds and caches are computed from its style, which is
// applied first), so the triggers of its first styling are run once per element, after it:
// the same caches forgotten and the same events emitted, once.
//
// Written against the vendored Cytoscape 3.34 (element._private: group, data, parent, children,
// edges, source, target, styleCache); tests/browser/test_browser_large.py checks that both give
// what the originals give.

function forget(ele) {
  const p = ele._private;
  p.styleCache = null;
  if (p.edges) for (const e of p.edges) e._private.styleCache = null;
}

function forgetDown(ele) {
  for (const c of ele._private.children || []) { forget(c); forgetDown(c); }
}

function dirtyStyleCache() {
  const cy = this.cy();
  if (!cy.hasCompoundNodes()) return originals.dirtyStyleCache.call(this);
  for (let i = 0; i < this.length; i++) {
    const ele = this[i];
    forget(ele);
    if (!ele.isNode()) continue;
    forgetDown(ele);
    for (let up = ele._private.parent; up; up = up._private.parent) forget(up);
  }
  return this;
}

/** An element's place in the z-order of boxes: its number of ancestors (a leaf is drawn on top). */
function zDepth() {
  const ele = this[0];
  if (!ele) return undefined;
  const p = ele._private;
  if (p.group === 'nodes') {
    let depth = 0;
    if (p.data.parent) for (let up = p.parent; up; up = up._private.parent) depth += 1;
    return p.children.length ? depth : Number.MAX_SAFE_INTEGER - 1;
  }
  return Math.max(p.source.zDepth(), p.target.zDepth(), 0);
}

// the elements in their first styling (Style.apply below), whose triggers wait until it is done
let firstStyling = null;

function checkTriggers(ele, name, fromValue, toValue) {
  if (firstStyling && !ele._private.appliedInitStyle && firstStyling.has(ele)) return;
  originals.checkTriggers.call(this, ele, name, fromValue, toValue);
}

/** Style.apply: the triggers of the elements' first styling run once per element, afterwards. */
function apply(eles) {
  let fresh = null;
  for (let i = 0; i < eles.length; i++) {
    if (!eles[i]._private.appliedInitStyle) (fresh = fresh || new Set()).add(eles[i]);
  }
  if (!fresh || firstStyling) return originals.apply.call(this, eles);
  firstStyling = fresh;
  let out;
  try {
    out = originals.apply.call(this, eles);
  } finally {
    firstStyling = null;
  }
  const cy = this._private.cy;
  const styled = cy.collection([...fresh].filter((e) => !e.removed()));
  if (styled.nonempty()) {
    styled.dirtyStyleCache();
    cy.notify('zorder', styled);
    styled.dirtyCompoundBoundsCache();
    styled.dirtyBoundingBoxCache();
    const nodes = styled.nodes();
    if (nodes.nonempty()) nodes.connectedEdges().dirtyBoundingBoxCache();
    const edges = styled.edges();
    if (edges.nonempty()) edges.parallelEdges().dirtyBoundingBoxCache();
  }
  return out;
}

const originals = {};

/** Install the cheaper internals on the collections of `cy` (once per page). */
export function speedUp(cy) {
  const proto = Object.getPrototypeOf(cy.collection());
  for (const [name, fn] of [['dirtyStyleCache', dirtyStyleCache], ['zDepth', zDepth]]) {
    if (proto[name] === fn || typeof proto[name] !== 'function') continue;
    originals[name] = proto[name];
    proto[name] = fn;
  }
  const style = Object.getPrototypeOf(cy.style());
  for (const [name, fn] of [['checkTriggers', checkTriggers], ['apply', apply]]) {
    if (style[name] === fn || typeof style[name] !== 'function') continue;
    originals[name] = style[name];
    style[name] = fn;
  }
}

/** Cytoscape's own function `name` (for the test that compares the two), or undefined. */
export const originalOf = (name) => originals[name];
