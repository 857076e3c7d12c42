// A cheaper Cytoscape internal for graphs with compound nodes (hosts and switches are boxes).
//
// Each style property Cytoscape applies to an element (about 40 per group node, all of them when
// an element is first styled) calls ele.dirtyStyleCache(), which forgets the cached derived
// values (visibility, effective opacity...) of the element, its descendants, its ancestors and
// their edges. With compound nodes it does so by building four collections per call; on the
// 10,000-child design's first render that was some 11,000 calls and a third of the time spent
// styling (about 300 ms). The same caches are forgotten here by walking the element's own links.
//
// Written against the vendored Cytoscape 3.34 (element._private: parent, children, edges,
// styleCache); tests/browser/test_browser_large.py checks that it forgets what the original does.

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
  if (!cy.hasCompoundNodes()) return original.call(this);
  for (let i = 0; i < this.length; i++) {
    const ele = this[i];
    forget(ele);
    if (!ele.isNode()) continue;
    forgetDown(ele);
    for (let up = ele._private.parent; up; up = up._private.parent) forget(up);
  }
  return this;
}

let original = null;

/** Install the cheaper dirtyStyleCache on the collections of `cy` (once per page). */
export function speedUp(cy) {
  const proto = Object.getPrototypeOf(cy.collection());
  if (proto.dirtyStyleCache === dirtyStyleCache || typeof proto.dirtyStyleCache !== 'function') return;
  original = proto.dirtyStyleCache;
  proto.dirtyStyleCache = dirtyStyleCache;
}

/** The original, for the test that compares the two. */
export const originalDirtyStyleCache = () => original;
