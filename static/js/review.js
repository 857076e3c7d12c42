// Read-only drawing of a saved version (review page), plus the print button.
import cytoscape from '../vendor/cytoscape/cytoscape.esm.min.mjs';
import { stylesheet } from './style.js';
import * as M from './model.js';
import { $ } from './dom.js';

const doc = M.normalize(JSON.parse($('#design-data').textContent)).doc;
const { nodes, edges } = M.buildElements(doc);
const saved = (doc.layout && doc.layout.positions) || {};
const tidy = Object.keys(saved).length ? null : M.tidyLayout(doc);
const pos = tidy || saved;
const fallback = M.tidyLayout(doc);
const cy = cytoscape({
  container: $('#review-cy'),
  style: stylesheet,
  elements: [
    ...nodes.map((n) => ({ ...n, position: pos[n.data.id] || fallback[n.data.id] || { x: 0, y: 0 } })),
    ...edges,
  ],
  layout: { name: 'preset' },
  autoungrabify: true,
  autounselectify: true,
  boxSelectionEnabled: false,
  userZoomingEnabled: true,
  userPanningEnabled: true,
});
cy.fit(undefined, 30);
if (cy.zoom() > 1.4) { cy.zoom(1.4); cy.center(); }
window.cy = cy;
const btn = $('#print');
if (btn) btn.addEventListener('click', () => window.print());
window.addEventListener('beforeprint', () => { cy.resize(); cy.fit(undefined, 20); });
document.body.dataset.ready = 'true';
