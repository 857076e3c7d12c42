// Design list: new design, upload, delete.
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

for (const b of $$('.delete-design')) {
  b.addEventListener('click', async () => {
    if (!window.confirm(`Delete design "${b.dataset.name}" and all its versions?`)) return;
    try { await api.del(`/api/designs/${b.dataset.id}`); b.closest('tr').remove(); status(`Deleted ${b.dataset.name}`); }
    catch (err) { status(err.message); }
  });
}
document.body.dataset.ready = 'true';
