// Cytoscape stylesheet as data; analysis results are shown as classes on elements.
export const MODE_COLOURS = {
  bridge: '#2e7d32', vepa: '#e65100', private: '#6a1b9a', passthru: '#455a64', source: '#00838f',
};

/**
 * Label sizes by zoom level. Cytoscape scales a label with the zoom, so a design fitted to the
 * screen showed 7 px text. Each band draws labels bigger (in drawing units) as the zoom goes
 * down, keeping them at about 10-13 px on screen; in the last band they would crowd each other,
 * so they are hidden (`min-zoomed-font-size`) - zoom in, hover, or search to read them.
 */
export const ZOOM_BANDS = [
  { from: 1, scale: 1 },
  { from: 0.8, scale: 1.25 },
  { from: 0.6, scale: 1.6 },
  { from: 0.45, scale: 2.1 },
  { from: 0, scale: 1 }, // hidden: 10 drawing units at < 0.45 is under the minimum rendered size
];
/** Labels rendered smaller than this (px) are not drawn. */
export const MIN_LABEL_PX = 8;

export function zoomBand(zoom) {
  return ZOOM_BANDS.findIndex((b) => zoom >= b.from);
}

const FINDING_RING = { 'outline-opacity': 1, 'outline-offset': 2 };

/** The stylesheet for one zoom band. */
export function stylesheetFor(band = 0) {
  const k = (ZOOM_BANDS[band] || ZOOM_BANDS[0]).scale;
  const fs = (px) => Math.round(px * k * 10) / 10;
  return [
    { selector: 'node[label]', style: { 'label': 'data(label)' } },
    { selector: 'node', style: {
      'font-size': fs(10), 'text-wrap': 'wrap', 'text-max-width': 130 * k,
      'text-valign': 'bottom', 'text-margin-y': 3, 'color': '#1a1a1a', 'text-background-color': '#ffffff',
      'text-background-opacity': 0.8, 'text-background-padding': 1, 'width': 28, 'height': 28,
      'background-color': '#90a4ae', 'border-width': 1, 'border-color': '#37474f', 'min-zoomed-font-size': MIN_LABEL_PX,
      // No background images: an empty list, not the default 'none'. With 'none', Cytoscape's
      // drawNode (3.34) counts an image done in one of its two passes and none in the other, so each
      // node it draws directly - every compound node, on every redraw that cannot use the cached
      // layers, i.e. every redraw after an edit - flips its :backgrounding state twice and restyles
      // itself and all its descendants: on a host with 1,000 children, some 40 ms per frame.
      // tests/browser/test_browser_live_check.py guards this.
      'background-image': [],
    } },
    { selector: 'node.host', style: {
      'shape': 'round-rectangle', 'background-color': '#eef3f8', 'background-opacity': 0.7, 'border-color': '#5c7a99',
      'border-width': 2, 'text-valign': 'top', 'text-halign': 'center', 'text-margin-y': -4, 'font-size': fs(13),
      'font-weight': 'bold', 'padding': 18, 'color': '#22384f',
    } },
    { selector: 'node.switch', style: {
      'shape': 'round-rectangle', 'background-color': '#f4f0e6', 'border-color': '#6d5d3b', 'border-width': 2,
      'text-valign': 'top', 'text-margin-y': -4, 'font-size': fs(12), 'font-weight': 'bold', 'padding': 10,
    } },
    { selector: 'node.parent', style: { 'shape': 'round-rectangle', 'width': 54, 'height': 26, 'background-color': '#1565c0', 'border-color': '#0d3c73' } },
    { selector: 'node.parent.wifi', style: { 'background-color': '#5e35b1' } },
    { selector: 'node.child', style: { 'shape': 'ellipse', 'width': 26, 'height': 26 } },
    ...Object.entries(MODE_COLOURS).map(([m, c]) => ({ selector: `node.child.mode-${m}`, style: { 'background-color': c } })),
    { selector: 'node.child.macvtap', style: { 'border-style': 'dashed', 'border-width': 3 } },
    { selector: 'node.bridge', style: { 'shape': 'hexagon', 'width': 40, 'height': 32, 'background-color': '#00897b' } },
    { selector: 'node.bport', style: { 'shape': 'rectangle', 'width': 16, 'height': 16, 'background-color': '#80cbc4' } },
    { selector: 'node.peer', style: { 'shape': 'ellipse', 'width': 22, 'height': 22, 'background-color': '#4db6ac' } },
    { selector: 'node.port', style: { 'shape': 'rectangle', 'width': 20, 'height': 20, 'background-color': '#bcaaa4', 'border-color': '#5d4037' } },
    // hairpin as on a real port: a thick green frame and the ⟲ in the label (both follow the what-if)
    { selector: 'node.hairpin', style: { 'border-width': 4, 'border-color': '#2e7d32' } },
    { selector: 'node.station', style: { 'shape': 'diamond', 'width': 32, 'height': 32, 'background-color': '#6d4c41' } },
    // down (in the design or in the what-if): greyed, dotted; a child off a down parent too
    { selector: 'node.down', style: { 'background-opacity': 0.35, 'border-style': 'dotted', 'border-width': 2, 'border-color': '#616161' } },
    { selector: 'node.down-lower', style: { 'background-opacity': 0.35, 'border-style': 'dotted', 'border-color': '#616161', 'color': '#757575' } },
    { selector: 'node.whatif', style: { 'underlay-color': '#f9a825', 'underlay-opacity': 0.35, 'underlay-padding': 6, 'underlay-shape': 'round-rectangle' } },
    // a group of children (semantic zoom): a tile covering where they are drawn, modes as a pie
    { selector: 'node.group', style: {
      'shape': 'round-rectangle', 'width': 'data(w)', 'height': 'data(h)', 'background-color': '#fafafa', 'border-width': 2,
      'border-style': 'dashed', 'border-color': '#78909c', 'font-size': 'data(fs)', 'text-valign': 'center', 'text-max-width': 'data(w)',
      'text-background-opacity': 0.85, 'min-zoomed-font-size': 6, 'pie-size': '70%',
    } },
    // slice i is drawn for groups with at least i modes (their data has pie<i> and pieColour<i>)
    ...[1, 2, 3, 4, 5].map((i) => ({
      selector: [1, 2, 3, 4, 5].filter((j) => j >= i).map((j) => `node.group.pies-${j}`).join(', '),
      style: { [`pie-${i}-background-color`]: `data(pieColour${i})`, [`pie-${i}-background-size`]: `data(pie${i})`, [`pie-${i}-background-opacity`]: 0.55 },
    })),
    { selector: 'edge', style: {
      'width': 2, 'line-color': '#78909c', 'curve-style': 'bezier', 'target-arrow-shape': 'none',
    } },
    { selector: 'edge.lower', style: { 'width': 1.5, 'line-color': '#90a4ae', 'target-arrow-shape': 'triangle', 'target-arrow-color': '#90a4ae', 'arrow-scale': 0.8 } },
    { selector: 'edge.uplink', style: { 'width': 3, 'line-color': '#37474f' } },
    { selector: 'edge.member', style: { 'line-style': 'dotted', 'line-color': '#00897b' } },
    { selector: 'edge.veth', style: { 'line-style': 'dashed', 'line-color': '#00897b' } },
    { selector: 'edge.grouped', style: { 'width': 4 } },
    { selector: 'edge.down', style: { 'line-style': 'dashed', 'line-dash-pattern': [6, 4], 'line-color': '#bdbdbd', 'target-arrow-color': '#bdbdbd', 'opacity': 0.8 } },
    { selector: ':selected', style: { 'border-width': 4, 'border-color': '#1e88e5', 'line-color': '#1e88e5', 'overlay-opacity': 0 } },
    { selector: '.invalid', style: { 'border-width': 3, 'border-color': '#d50000', 'border-style': 'dashed' } },
    // findings on the canvas: a ring around every subject, red for errors, amber for warnings
    { selector: 'node.sev-warning', style: { ...FINDING_RING, 'outline-width': 3, 'outline-color': '#f9a825', 'outline-style': 'solid' } },
    { selector: 'node.sev-error', style: { ...FINDING_RING, 'outline-width': 4, 'outline-color': '#d50000', 'outline-style': 'solid' } },
    { selector: 'node.hl', style: { 'overlay-color': '#ffca28', 'overlay-opacity': 0.45, 'overlay-padding': 6, 'z-index': 20 } },
    { selector: 'edge.hl', style: { 'line-color': '#ff8f00', 'width': 5 } },
    { selector: 'node.reach', style: { 'overlay-color': '#2e7d32', 'overlay-opacity': 0.35, 'overlay-padding': 5 } },
    { selector: 'node.block', style: { 'overlay-color': '#d50000', 'overlay-opacity': 0.35, 'overlay-padding': 5 } },
    { selector: 'node.focus', style: { 'overlay-color': '#1e88e5', 'overlay-opacity': 0.4, 'overlay-padding': 7 } },
    // search: matches stand out, the rest fades
    { selector: 'node.dimmed', style: { 'opacity': 0.25 } },
    { selector: 'node.match', style: { 'overlay-color': '#00b8d4', 'overlay-opacity': 0.35, 'overlay-padding': 6, 'opacity': 1 } },
    { selector: '.eh-preview, .eh-ghost-edge', style: { 'line-color': '#1e88e5', 'target-arrow-color': '#1e88e5', 'width': 3, 'line-style': 'dashed' } },
    { selector: '.eh-hover', style: { 'overlay-color': '#1e88e5', 'overlay-opacity': 0.3 } },
    { selector: '.eh-ghost-edge.eh-preview-active', style: { 'opacity': 0 } },
    { selector: '.eh-handle', style: { 'background-color': '#1e88e5', 'width': 10, 'height': 10, 'shape': 'ellipse', 'label': '' } },
  ];
}

/** The review page's stylesheet: the editor's at its first band. */
export const stylesheet = stylesheetFor(0);
