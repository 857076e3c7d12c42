// The Rehearse and Drift tabs: the design against the kernel. Rehearse builds the drawn design in
// throwaway namespaces and pings every pair (a background job, polled); Drift compares a saved
// version with the live state of a host or namespace. Both need the apply token; one token
// field filled fills the others (the token stays in the page, never in storage).
import { api } from './api.js';
import { h, $, $$, clear } from './dom.js';
import { pollJob } from './jobs.js';

const TOKEN_HEADER = 'X-Apply-Token';
const NETNS_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
const TIMING = 'timing-dependent: a race in the kernel decides it';

function status(el, text, level = 'info') {
  el.textContent = text;
  el.dataset.level = level;
}

/** Keep every token field (Apply, Rehearse, Drift) showing the same token. */
function linkTokens() {
  const fields = $$('#apply-token, .live-token');
  for (const f of fields) {
    f.addEventListener('input', () => { for (const g of fields) if (g !== f) g.value = f.value; });
  }
  return () => (fields.find((f) => f.value) || { value: '' }).value;
}

export function initLive(S, { checkedDocument }) {
  if (!$('#rehearse-form')) return { refresh() {} };
  const token = linkTokens();
  const headers = () => ({ [TOKEN_HEADER]: token() });
  const rehearse = initRehearse(S, checkedDocument, token, headers);
  const drift = initDrift(S, token, headers);
  return {
    refresh(name) { if (name === 'drift') drift.refresh(); else rehearse.refresh(); },
  };
}

// --------------------------------------------------------------------- rehearse
function initRehearse(S, checkedDocument, token, headers) {
  const el = { form: $('#rehearse-form'), run: $('#rehearse-run'), status: $('#rehearse-status'),
    progress: $('#rehearse-progress'), result: $('#rehearse-result'), token: $('#rehearse-token') };
  let busy = false;

  function renderProgress(job) {
    const p = job.progress || {};
    if (job.phase === 'pinging' && p.total) {
      el.progress.hidden = false;
      el.progress.max = p.total;
      el.progress.value = p.done || 0;
      status(el.status, `Pinging: ${p.done || 0} of ${p.total} pairs${p.current ? ` (last: ${p.current})` : ''}…`);
    } else if (job.phase === 'building') {
      el.progress.hidden = false;
      el.progress.removeAttribute('value'); // indeterminate while the lab is built
      status(el.status, 'Building the design in throwaway namespaces…');
    } else status(el.status, `${job.phase}…`);
    document.body.dataset.rehearse = job.phase;
  }

  function renderResult(job) {
    el.progress.hidden = true;
    clear(el.result);
    if (job.status !== 'done') {
      status(el.status, `Rehearsal failed: ${job.error ? job.error.message : job.status}`, 'error');
      document.body.dataset.rehearse = 'failed';
      return;
    }
    const r = job.result;
    const s = r.summary;
    const level = s.disagree ? 'error' : 'ok';
    status(el.status, s.disagree
      ? `${s.disagree} of ${s.pairs} pairs DISAGREE with the prediction (highlighted)`
      : `All ${s.pairs} pairs agree with the prediction`, level);
    el.result.append(h('p.note', {}, `Built in ${s.namespaces} throwaway namespaces in ${s.build_seconds.toFixed(2)} s; `,
      `${s.pairs} pings from cold caches, ${s.reachable_measured} got a reply (${s.reachable_predicted} predicted); `,
      `${s.seconds.toFixed(1)} s in all. The namespaces are removed.`));
    for (const w of r.warnings || []) el.result.append(h('p.warn', {}, `Warning: ${w}`));
    const yn = (x) => (x ? 'reply' : 'no reply');
    const rows = s.disagree && r.pairs.length > 200 ? r.pairs.filter((x) => !x.agree) : r.pairs;
    const table = h('table.list.rehearse', { id: 'rehearse-table', 'aria-label': 'measured beside predicted, one ordered pair per row' },
      h('thead', {}, h('tr', {}, ['from', 'to', 'predicted', 'measured', ''].map((t) => h('th', { scope: 'col' }, t)))));
    const body = h('tbody');
    for (const x of rows) {
      body.append(h(`tr.${x.agree ? 'agree' : 'disagree'}`, { 'data-from': x.from, 'data-to': x.to, 'data-agree': String(x.agree) },
        h('td', {}, x.from), h('td', {}, x.to),
        h('td', { title: x.reason }, yn(x.predicted)), h('td', {}, yn(x.measured)),
        h('td', {}, x.agree ? '' : h('strong', { title: x.message || '' }, `DISAGREE (predicted because: ${x.reason})`),
          x.timing ? h('span.timing-mark', { title: TIMING }, ' timing-dependent') : null)));
    }
    table.append(body);
    if (rows.length < r.pairs.length) el.result.append(h('p.note', {}, `Only the ${rows.length} disagreeing pairs of ${r.pairs.length} are listed.`));
    el.result.append(table);
    document.body.dataset.rehearse = s.disagree ? 'disagree' : 'agree';
  }

  async function run() {
    if (busy) return;
    if (!token()) { el.token.focus(); el.token.setAttribute('aria-invalid', 'true'); status(el.status, 'Enter the apply token that mvplan serve --allow-apply printed.', 'error'); return; }
    el.token.removeAttribute('aria-invalid');
    busy = true;
    el.run.disabled = true;
    clear(el.result);
    status(el.status, 'Starting…');
    document.body.dataset.rehearse = 'starting';
    try {
      const started = await api.post('/api/rehearse', { document: checkedDocument() }, { headers: headers() });
      renderProgress(started);
      renderResult(await pollJob(`/api/rehearse/${encodeURIComponent(started.job)}`, { headers, onProgress: renderProgress }));
    } catch (e) {
      el.progress.hidden = true;
      status(el.status, `Rehearsal failed: ${e.message}`, 'error');
      if (e.code === 'apply_token') { el.token.setAttribute('aria-invalid', 'true'); el.token.focus(); }
      if (e.code === 'check_errors' && e.details.findings) {
        el.result.append(h('ul.problems', {}, e.details.findings.map((f) => h('li', {}, h('code', {}, f.code), ' ', f.message))));
      }
      document.body.dataset.rehearse = 'failed';
    } finally {
      busy = false;
      el.run.disabled = false;
    }
  }

  el.form.addEventListener('submit', (e) => { e.preventDefault(); run(); });
  return { refresh() {}, renderResult };
}

// --------------------------------------------------------------------- drift
function initDrift(S, token, headers) {
  const el = { form: $('#drift-form'), run: $('#drift-run'), status: $('#drift-status'), result: $('#drift-result'),
    token: $('#drift-token'), version: $('#drift-version'), netns: $('#drift-netns'), tNetns: $('#drift-target-netns'),
    tHost: $('#drift-target-host'), host: $('#drift-host'), hostField: $('#drift-host-field') };
  let busy = false;

  async function refresh() {
    el.netns.disabled = el.tHost.checked;
    let versions = [];
    try { versions = (await api.get(`/api/designs/${S.id}/versions`)).versions; } catch (_) { versions = [{ version: S.version, message: '' }]; }
    const keep = el.version.value;
    clear(el.version);
    for (const v of versions) el.version.append(h('option', { value: v.version }, `v${v.version}${v.message ? ` - ${v.message}` : ''}`));
    if (keep && versions.some((v) => String(v.version) === keep)) el.version.value = keep;
    let hosts = [];
    try { hosts = (JSON.parse(S.savedJSON).hosts || []).map((x) => x.name); } catch (_) { hosts = []; }
    const k = el.host.value;
    clear(el.host);
    for (const n of hosts) el.host.append(h('option', { value: n }, n));
    if (hosts.includes(k)) el.host.value = k;
    el.hostField.hidden = hosts.length < 2;
  }

  function list(title, items, cls = '') {
    if (!items.length) return null;
    return [h('h3', {}, `${title} (${items.length})`), h(`ul.diff-list${cls}`, {}, items.map((x) => h('li', {}, x)))];
  }

  function render(res) {
    clear(el.result);
    const where = res.target.describe;
    const o = res.objects || { missing: [], extra: [], changed: [] };
    const n = res.differences.length + o.missing.length + o.extra.length + o.changed.length;
    status(el.status, res.in_sync && !n ? `v${res.design.version} and ${where} are in sync` : `v${res.design.version} and ${where} differ`,
      res.in_sync && !n ? 'ok' : 'error');
    el.result.dataset.inSync = String(res.in_sync && !n);
    el.result.append(h('p', {}, res.plan.count ? `An apply would run ${res.plan.count} operation${res.plan.count > 1 ? 's' : ''} on ${where}.`
      : `An apply would change nothing on ${where}.`));
    el.result.append(...(list('What verification reports', res.differences, '.live-diff') || []));
    el.result.append(...(list('In the design, missing live', o.missing.map((x) => `${x.id} (${x.kind})`), '.removed') || []));
    el.result.append(...(list('Live, not in the design', o.extra.map((x) => `${x.id} (${x.kind})`), '.added') || []));
    el.result.append(...(list('Changed', o.changed.map((x) => `${x.id}: ${Object.entries(x.fields).map(([f, c]) => `${f} is ${JSON.stringify(c.live)}, the design says ${JSON.stringify(c.design)}`).join('; ')}`), '.changed') || []));
    if (res.plan.count) {
      el.result.append(h('details', {}, h('summary', {}, `The ${res.plan.count} operations`),
        h('ol.ops', {}, res.plan.ops.map((op) => h('li', {}, h('code', {}, op.description))))));
    }
    if (res.skipped && res.skipped.length) {
      el.result.append(h('details', {}, h('summary', {}, `Left out of the comparison (${res.skipped.length})`),
        h('ul', {}, res.skipped.map((x) => h('li', {}, x)))));
    }
    document.body.dataset.drift = res.in_sync && !n ? 'in-sync' : 'drift';
  }

  async function run() {
    if (busy) return;
    if (!token()) { el.token.focus(); el.token.setAttribute('aria-invalid', 'true'); status(el.status, 'Enter the apply token that mvplan serve --allow-apply printed.', 'error'); return; }
    el.token.removeAttribute('aria-invalid');
    const target = el.tHost.checked ? { kind: 'host' } : { kind: 'netns', netns: el.netns.value.trim() };
    if (target.kind === 'netns' && !NETNS_RE.test(target.netns)) {
      el.netns.setAttribute('aria-invalid', 'true'); el.netns.focus();
      status(el.status, 'A namespace name is 1 to 32 characters: letters, digits, "-" and "_", starting with a letter or digit.', 'error');
      return;
    }
    el.netns.removeAttribute('aria-invalid');
    busy = true;
    el.run.disabled = true;
    status(el.status, 'Reading the live state…');
    try {
      const body = { version: Number(el.version.value) || undefined, target };
      if (!el.hostField.hidden && el.host.value) body.host = el.host.value;
      render(await api.post(`/api/designs/${S.id}/drift`, body, { headers: headers() }));
    } catch (e) {
      clear(el.result);
      status(el.status, `Cannot compare: ${e.message}`, 'error');
      document.body.dataset.drift = 'failed';
    } finally {
      busy = false;
      el.run.disabled = false;
    }
  }

  el.form.addEventListener('submit', (e) => { e.preventDefault(); run(); });
  for (const x of [el.tNetns, el.tHost]) x.addEventListener('change', () => { el.netns.disabled = el.tHost.checked; });
  return { refresh };
}
