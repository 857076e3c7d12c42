// Cytoscape stylesheet as data; analysis results are shown as classes on elements.
export const MODE_COLOURS = {
  bridge: '#2e7d32', vepa: '#e65100', private: '#6a1b9a', passthru: '#455a64', source: '#00838f',
};

export const stylesheet = [
  { selector: 'node[label]', style: { 'label': 'data(label)' } },
  { selector: 'node', style: {
    'font-size': 10, 'text-wrap': 'wrap', 'text-max-width': 130,
    'text-valign': 'bottom', 'text-margin-y': 3, 'color': '#1a1a1a', 'text-background-color': '#ffffff',
    'text-background-opacity': 0.8, 'text-background-padding': 1, 'width': 28, 'height': 28,
    'background-color': '#90a4ae', 'border-width': 1, 'border-color': '#37474f', 'min-zoomed-font-size': 6,
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
    'border-width': 2, 'text-valign': 'top', 'text-halign': 'center', 'text-margin-y': -4, 'font-size': 13,
    'font-weight': 'bold', 'padding': 18, 'color': '#22384f',
  } },
  { selector: 'node.switch', style: {
    'shape': 'round-rectangle', 'background-color': '#f4f0e6', 'border-color': '#6d5d3b', 'border-width': 2,
    'text-valign': 'top', 'text-margin-y': -4, 'font-size': 12, 'font-weight': 'bold', 'padding': 10,
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
  { selector: 'node.hairpin', style: { 'border-width': 4, 'border-color': '#2e7d32' } },
  { selector: 'node.station', style: { 'shape': 'diamond', 'width': 32, 'height': 32, 'background-color': '#6d4c41' } },
  { selector: 'node.down', style: { 'background-opacity': 0.35, 'border-style': 'dotted' } },
  { selector: 'edge', style: {
    'width': 2, 'line-color': '#78909c', 'curve-style': 'bezier', 'target-arrow-shape': 'none',
  } },
  { selector: 'edge.lower', style: { 'width': 1.5, 'line-color': '#90a4ae', 'target-arrow-shape': 'triangle', 'target-arrow-color': '#90a4ae', 'arrow-scale': 0.8 } },
  { selector: 'edge.uplink', style: { 'width': 3, 'line-color': '#37474f' } },
  { selector: 'edge.member', style: { 'line-style': 'dotted', 'line-color': '#00897b' } },
  { selector: 'edge.veth', style: { 'line-style': 'dashed', 'line-color': '#00897b' } },
  { selector: ':selected', style: { 'border-width': 4, 'border-color': '#1e88e5', 'line-color': '#1e88e5', 'overlay-opacity': 0 } },
  { selector: '.invalid', style: { 'border-width': 3, 'border-color': '#d50000', 'border-style': 'dashed' } },
  { selector: 'node.hl', style: { 'overlay-color': '#ffca28', 'overlay-opacity': 0.45, 'overlay-padding': 6, 'z-index': 20 } },
  { selector: 'edge.hl', style: { 'line-color': '#ff8f00', 'width': 5 } },
  { selector: 'node.reach', style: { 'overlay-color': '#2e7d32', 'overlay-opacity': 0.35, 'overlay-padding': 5 } },
  { selector: 'node.block', style: { 'overlay-color': '#d50000', 'overlay-opacity': 0.35, 'overlay-padding': 5 } },
  { selector: 'node.focus', style: { 'overlay-color': '#1e88e5', 'overlay-opacity': 0.4, 'overlay-padding': 7 } },
  { selector: '.eh-preview, .eh-ghost-edge', style: { 'line-color': '#1e88e5', 'target-arrow-color': '#1e88e5', 'width': 3, 'line-style': 'dashed' } },
  { selector: '.eh-hover', style: { 'overlay-color': '#1e88e5', 'overlay-opacity': 0.3 } },
  { selector: '.eh-ghost-edge.eh-preview-active', style: { 'opacity': 0 } },
  { selector: '.eh-handle', style: { 'background-color': '#1e88e5', 'width': 10, 'height': 10, 'shape': 'ellipse', 'label': '' } },
];
