// What the analysis says, drawn on the canvas: every subject of an error or warning is marked
// (classes `sev-error` / `sev-warning` on the element it is drawn as), and hovering a marked
// element shows how many findings concern it and which.
import { h } from './dom.js';

const RANK = { error: 2, warning: 1 };

/**
 * Element id -> {error, warning, codes: [{code, severity, title}]} for the errors and warnings
 * among `findings`. `idsOf(subject)` lists the element ids a subject stands for, `drawnId(id)`
 * the id it is drawn as (a collapsed group collects its members' findings).
 */
export function findingMarks(findings, idsOf, drawnId) {
  const out = new Map();
  for (const f of findings || []) {
    if (!RANK[f.severity]) continue;
    const seen = new Set();
    for (const s of f.subjects || []) {
      for (const id of idsOf(s)) {
        const d = drawnId(id);
        if (seen.has(d)) continue;
        seen.add(d);
        const m = out.get(d) || { error: 0, warning: 0, codes: [] };
        m[f.severity] += 1;
        if (m.codes.length < 8) m.codes.push({ code: f.code, severity: f.severity, title: f.title });
        out.set(d, m);
      }
    }
  }
  return out;
}

/** The worst severity of a mark: 'error' or 'warning'. */
export const worst = (m) => (m.error ? 'error' : 'warning');

/** "2 errors, 1 warning" */
export function countText(m) {
  const parts = [];
  if (m.error) parts.push(`${m.error} error${m.error > 1 ? 's' : ''}`);
  if (m.warning) parts.push(`${m.warning} warning${m.warning > 1 ? 's' : ''}`);
  return parts.join(', ');
}

/** A small box over the canvas that follows the pointer (role=tooltip, text only). */
export class Tooltip {
  constructor(container) {
    this.el = h('div.cy-tip', { role: 'tooltip', id: 'cy-tip', hidden: true });
    container.append(this.el);
  }

  show(x, y, lines) {
    this.el.replaceChildren(...lines.map((l, i) => h(i === 0 ? 'strong' : 'div', {}, l)));
    this.el.hidden = false;
    const box = this.el.parentNode.getBoundingClientRect();
    const w = this.el.offsetWidth; const hgt = this.el.offsetHeight;
    this.el.style.left = `${Math.max(4, Math.min(x + 14, box.width - w - 4))}px`;
    this.el.style.top = `${Math.max(4, Math.min(y + 14, box.height - hgt - 4))}px`;
  }

  hide() { this.el.hidden = true; }
}
