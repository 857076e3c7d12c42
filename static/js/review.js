// Read-only drawing of a saved version (review page), plus the print button.
import cytoscape from '../vendor/cytoscape/cytoscape.esm.min.mjs';
import { stylesheetFor, zoomBand } from './style.js';
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
  style: stylesheetFor(0),
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

let band = 0;
/** Labels for the zoom level (the editor's bands: readable, or hidden when they would crowd). */
function restyle() {
  const b = zoomBand(cy.zoom());
  if (b !== band) { band = b; cy.style(stylesheetFor(band)); }
}

function fit(padding) {
  cy.fit(undefined, padding);
  if (cy.zoom() > 1.4) { cy.zoom(1.4); cy.center(); }
  restyle();
}

fit(30);
cy.on('zoom', () => requestAnimationFrame(restyle));
window.cy = cy;
const btn = $('#print');
if (btn) btn.addEventListener('click', () => window.print());
// the print layout gives the drawing a page of its own: redraw it at that size before printing
const media = window.matchMedia('print');
const forPrint = () => { cy.resize(); fit(12); };
window.addEventListener('beforeprint', forPrint);
media.addEventListener('change', (e) => { cy.resize(); fit(e.matches ? 12 : 30); });
document.body.dataset.ready = 'true';
