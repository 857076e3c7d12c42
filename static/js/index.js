// Design list: new design, upload, delete, each design's status, and Discover (a live host as a new design).
import { api } from './api.js';
import { $, $$, h, clear } from './dom.js';

const status = (t) => { $('#index-status').textContent = t; };

function showProblems(problems) {
  const ul = clear($('#index-problems'));
  for (const p of problems || []) ul.append(h('li', {}, h('code', {}, p.path || '(document)'), ' ', p.message));
}

$('#new-design').addEventListener('click', async () => {
  try {
    const rec = await api.post('/api/designs', { document: { version: 1, name: 'new-design', hosts: [], switches: [], stations: [] }, message: 'created in the browser' });
    window.location.assign(`/designs/${rec.id}`);
  } catch (e) { status(e.message); }
});

$('#upload-file').addEventListener('change', async (e) => {
  const file = e.target.files[0];
  if (!file) return;
  const fd = new FormData();
  fd.append('file', file);
  try {
    const rec = await api.post('/api/upload?create=1&problems=inline', fd);
    if (rec.valid === false) {
      status(`${file.name}: ${rec.message}; fix it and upload again, or open it in a design's editor`);
      showProblems(rec.problems);
    } else window.location.assign(`/designs/${rec.id}`);
  } catch (err) {
    status(`${file.name}: ${err.message}`);
    showProblems(err.details && err.details.problems);
  }
  e.target.value = '';
});

// ------------------------------------------------------------------ import (Docker, Kubernetes, libvirt, containerlab)
async function loadImportFormats() {
  const sel = $('#import-format');
  try {
    const res = await api.get('/api/import/formats');
    for (const f of res.formats) sel.append(h('option', { value: f.name, title: f.reads }, `${f.name} (${f.reads})`));
  } catch (err) { status(`import formats: ${err.message}`); }
}

function showImportResult(rec, files) {
  const warnings = rec.warnings || [];
  $('#import-summary').textContent = `Imported ${files} as design "${rec.name}"` +
    (warnings.length ? ` - ${warnings.length} thing(s) could not be mapped:` : '');
  const ul = clear($('#import-warnings'));
  for (const w of warnings) {
    ul.append(h('li', {}, h('code', {}, w.source + (w.where ? `: ${w.where}` : '')), ' ', w.message));
  }
  $('#import-open').href = `/designs/${rec.id}`;
  $('#import-result').hidden = false;
}

$('#import-file').addEventListener('change', async (e) => {
  const files = [...e.target.files];
  if (!files.length) return;
  const fmt = $('#import-format').value;
  const fd = new FormData();
  for (const f of files) fd.append('file', f);
  const names = files.map((f) => f.name).join(', ');
  try {
    const rec = await api.post(`/api/import?from=${encodeURIComponent(fmt)}&create=1`, fd);
    if ((rec.warnings || []).length) showImportResult(rec, names);
    else window.location.assign(`/designs/${rec.id}`);
  } catch (err) {
    status(`${names}: ${err.message}`);
    showProblems(err.details && err.details.problems);
  }
  e.target.value = '';
});

loadImportFormats();

for (const b of $$('.delete-design')) {
  b.addEventListener('click', async () => {
    if (!window.confirm(`Delete design "${b.dataset.name}" and all its versions?`)) return;
    try { await api.del(`/api/designs/${b.dataset.id}`); b.closest('tr').remove(); status(`Deleted ${b.dataset.name}`); }
    catch (err) { status(err.message); }
  });
}

// ------------------------------------------------------------------ status of each design
const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function showStatus(row, s) {
  const cell = $('.status-cell', row);
  clear(cell);
  const desc = $('.design-desc', row);
  desc.textContent = s.description;
  desc.hidden = !s.description;
  $('.example-tag', row).hidden = !s.example;
  if (!s.valid) { cell.append(h('span.error', {}, `${plural(s.problems, 'problem')} to fix`)); row.dataset.status = 'invalid'; return; }
  const parts = [];
  if (s.errors) parts.push(h('span.error', {}, plural(s.errors, 'error')));
  if (s.warnings) parts.push(h('span.warn', {}, plural(s.warnings, 'warning')));
  if (!s.errors && !s.warnings) parts.push(h('span.ok', {}, 'no errors or warnings'));
  const blocked = s.pairs ? `${s.blocked_pairs} of ${plural(s.pairs, 'pair')} blocked` : 'no endpoint pairs';
  parts.push(h(`span${s.blocked_pairs ? '.warn' : ''}`, {}, blocked));
  parts.forEach((p, i) => { if (i) cell.append(' · '); cell.append(p); });
  cell.title = `${s.errors} errors, ${s.warnings} warnings, ${s.info} info notes; ${s.blocked_pairs} of ${s.pairs} ordered endpoint pairs blocked (v${s.version})`;
  row.dataset.status = s.errors ? 'error' : s.warnings ? 'warning' : 'ok';
}

async function loadStatuses() {
  // one at a time: a big design takes the server a second, and the small ones should not wait behind it all at once
  for (const row of $$('tr[data-design-id]')) {
    try {
      showStatus(row, await api.get(`/api/designs/${row.dataset.designId}/status`));
    } catch (e) {
      const cell = clear($('.status-cell', row));
      cell.append(h('span.note', {}, `status unavailable: ${e.message}`));
    }
  }
  document.body.dataset.statuses = 'done';
}

// ------------------------------------------------------------------ discover
function initDiscover() {
  const form = $('#discover-form');
  if (!form) return;
  const say = (t, level = 'info') => { const el = $('#discover-status'); el.textContent = t; el.dataset.level = level; };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const token = $('#discover-token').value;
    if (!token) { $('#discover-token').setAttribute('aria-invalid', 'true'); $('#discover-token').focus(); say('Enter the apply token that mvplan serve --allow-apply printed.', 'error'); return; }
    $('#discover-token').removeAttribute('aria-invalid');
    const onHost = $('#discover-target-host').checked;
    const target = onHost ? { kind: 'host' } : { kind: 'netns', netns: $('#discover-netns').value.trim() };
    const body = { target, host: $('#discover-host').value.trim() || undefined, name: $('#discover-name').value.trim() || undefined };
    $('#discover-run').disabled = true;
    say('Reading the live state…');
    try {
      const rec = await api.post('/api/discover', body, { headers: { 'X-Apply-Token': token } });
      const n = rec.summary.interfaces;
      say(`Discovered ${plural(n, 'interface')} from ${rec.target.describe}${rec.skipped.length ? ` (${rec.skipped.length} left out)` : ''}; opening "${rec.name}"`, 'ok');
      document.body.dataset.discover = 'done';
      window.location.assign(rec.url);
    } catch (err) {
      say(`Cannot discover: ${err.message}`, 'error');
      if (err.code === 'bad_netns' || err.code === 'target_missing') $('#discover-netns').setAttribute('aria-invalid', 'true');
      document.body.dataset.discover = 'failed';
    } finally {
      $('#discover-run').disabled = false;
    }
  });
}

initDiscover();
document.body.dataset.ready = 'true';
loadStatuses();
