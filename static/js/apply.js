// The Apply tab: token, target, dry run, apply with progress, verification and rollback results.
// Everything shown goes through textContent (dom.js h()); the token stays in its field only.
import { api } from './api.js';
import { h, $, clear } from './dom.js';
import { pollJob } from './jobs.js';

const NETNS_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;

const OUTCOME = {
  verified: 'verified',
  verify_failed: 'verification FAILED',
  rolled_back: 'failed and rolled back',
  rolled_back_not_as_before: 'failed, rolled back, but NOT as before',
  rollback_failed: 'failed; rollback INCOMPLETE',
  failed: 'failed',
  interrupted: 'interrupted (the server stopped)',
};

/**
 * Wire the Apply panel. `S` is the editor state (id, version, doc, savedJSON); the panel applies
 * the saved version S.version, never unsaved edits.
 */
export function initApply(S) {
  const form = $('#apply-form');
  if (!form) return null;
  const el = {
    token: $('#apply-token'), netns: $('#apply-netns'), tNetns: $('#apply-target-netns'), tHost: $('#apply-target-host'),
    confirm: $('#apply-confirm-host'), host: $('#apply-host'), hostField: $('#apply-host-field'),
    dry: $('#apply-dry-run'), run: $('#apply-run'), status: $('#apply-status'), progress: $('#apply-progress'),
    result: $('#apply-result'), unsaved: $('#apply-unsaved'), version: $('#apply-version'),
    confirmSeconds: $('#apply-confirm-seconds'), keepBox: $('#apply-keep-box'), keep: $('#apply-keep'),
    recoverBox: $('#apply-recover-box'), recoverRollback: $('#apply-recover-rollback'),
    recoverComplete: $('#apply-recover-complete'),
  };
  let confirmingJob = null; // the job id waiting for "Keep changes"
  let dry = null; // {key, digest, count, target}
  let busy = false;

  function status(text, level = 'info') {
    el.status.textContent = text;
    el.status.dataset.level = level;
  }

  function savedDoc() {
    try { return JSON.parse(S.savedJSON); } catch (_) { return S.doc; }
  }

  /** Refresh what depends on the editor: version, unsaved warning, the design's hosts. */
  function refresh() {
    el.version.textContent = `v${S.version}`;
    el.unsaved.hidden = JSON.stringify(S.doc) === S.savedJSON;
    const hosts = ((savedDoc() || {}).hosts || []).map((x) => x && x.name).filter((x) => typeof x === 'string');
    const keep = el.host.value;
    clear(el.host);
    for (const name of hosts) el.host.append(h('option', { value: name }, name));
    if (hosts.includes(keep)) el.host.value = keep;
    el.hostField.hidden = hosts.length < 2;
    el.confirm.disabled = !el.tHost.checked;
    el.netns.disabled = el.tHost.checked;
    if (dry && dry.key !== requestKey()) invalidate();
  }

  function target(real) {
    if (el.tHost.checked) return { kind: 'host', confirm: !!(real && el.confirm.checked) };
    return { kind: 'netns', netns: el.netns.value.trim() };
  }

  function requestKey() {
    return JSON.stringify([S.version, el.tHost.checked ? 'host' : el.netns.value.trim(), el.hostField.hidden ? '' : el.host.value]);
  }

  function invalidate() {
    if (!dry) return;
    dry = null;
    el.run.disabled = true;
    el.run.title = 'Run a dry run first';
    el.run.textContent = 'Apply';
    const stale = $('#apply-dry', el.result);
    if (stale) stale.classList.add('stale');
  }

  /** Check the fields; returns an error message or ''. */
  function validate(real) {
    if (!el.token.value) { el.token.focus(); return 'Enter the apply token that mvplan serve --allow-apply printed.'; }
    if (el.tHost.checked) {
      if (real && !el.confirm.checked) { el.confirm.focus(); return 'Tick the confirmation to apply to this machine itself.'; }
      return '';
    }
    const name = el.netns.value.trim();
    if (!NETNS_RE.test(name)) {
      el.netns.focus();
      el.netns.setAttribute('aria-invalid', 'true');
      return 'A namespace name is 1 to 32 characters: letters, digits, "-" and "_", starting with a letter or digit.';
    }
    el.netns.removeAttribute('aria-invalid');
    return '';
  }

  function body(real) {
    const b = { version: S.version, target: target(real) };
    if (!el.hostField.hidden && el.host.value) b.host = el.host.value;
    const secs = Number(el.confirmSeconds.value);
    if (real && el.confirmSeconds.value !== '' && Number.isFinite(secs)) b.confirm_seconds = secs;
    return b;
  }

  const headers = () => ({ 'X-Apply-Token': el.token.value });

  function showError(e, what) {
    status(`${what}: ${e.message}`, 'error');
    clear(el.result);
    if (e.code === 'apply_token') el.token.focus();
    el.recoverBox.hidden = e.code !== 'journal_pending';
    if (e.code === 'check_errors' && e.details && e.details.findings) {
      el.result.append(h('ul.problems', {}, e.details.findings.map((f) => h('li', {}, h('code', {}, f.code), ' ', f.message))));
    }
  }

  function setBusy(on) {
    busy = on;
    el.dry.disabled = on;
    el.run.disabled = on || !dry;
    form.setAttribute('aria-busy', on ? 'true' : 'false');
  }

  function opsList(ops, doneUpTo = -1) {
    const ol = h('ol.ops.apply-ops');
    for (const op of ops) {
      ol.append(h('li', { 'data-index': op.index, className: op.index <= doneUpTo ? 'done' : undefined },
        h('code', {}, op.description)));
    }
    return ol;
  }

  function renderDry(res) {
    clear(el.result);
    const n = res.plan.count;
    const where = res.target.describe;
    const box = h('section', { id: 'apply-dry' },
      h('h3', {}, `Dry run on ${where} (host ${res.host}, v${res.design.version})`));
    if (res.differences.length) {
      box.append(h('p', {}, `The live state differs from the design in ${res.differences.length} place${res.differences.length > 1 ? 's' : ''}:`),
        h('ul.diff-list.live-diff', {}, res.differences.map((d) => h('li', {}, d))));
    } else {
      box.append(h('p.ok', {}, 'The live state already matches the design.'));
    }
    if (n) {
      box.append(h('p', {}, `${n} operation${n > 1 ? 's' : ''}, in order:`), opsList(res.plan.ops));
    } else {
      box.append(h('p', {}, 'Nothing to do.'));
    }
    for (const note of res.plan.notes || []) box.append(h('p.note', {}, `Note: ${note}`));
    el.result.append(box);
  }

  async function runDry() {
    if (busy) return;
    const bad = validate(false);
    if (bad) { status(bad, 'error'); return; }
    setBusy(true);
    status('Reading the live state and planning…');
    try {
      const key = requestKey();
      const res = await api.post(`/api/designs/${S.id}/apply/dry-run`, body(false), { headers: headers() });
      renderDry(res);
      dry = { key, digest: res.plan_digest, count: res.plan.count, where: res.target.describe };
      el.run.textContent = res.plan.count ? `Apply ${res.plan.count} operation${res.plan.count > 1 ? 's' : ''}` : 'Apply (verify only)';
      el.run.title = `Apply to ${res.target.describe}`;
      status(`Dry run done: nothing was changed. Review the plan, then Apply.`, 'ok');
      document.body.dataset.apply = 'dry-run';
    } catch (e) {
      dry = null;
      showError(e, 'Dry run failed');
      document.body.dataset.apply = 'error';
    } finally {
      setBusy(false);
    }
  }

  function renderProgress(job) {
    const p = job.progress || {};
    if (p.total) {
      el.progress.hidden = false;
      el.progress.max = p.total;
      el.progress.value = p.done || 0;
    }
    if (job.phase === 'confirming' && job.confirm) {
      confirmingJob = job.job;
      el.keepBox.hidden = false;
      const left = Math.max(0, Math.ceil((job.confirm.until || 0) - Date.now() / 1000));
      status(`Applied and verified on ${dry ? dry.where : 'the target'}: press Keep changes within ${left} s, or it is rolled back.`, 'warning');
      return;
    }
    const what = job.phase === 'planning' ? 'planning against the live state' : p.current || '';
    status(`Applying to ${dry ? dry.where : 'the target'}: ${p.done || 0}/${p.total ?? '?'} operations done${what ? ` (${what})` : ''}…`);
  }

  function renderJob(job) {
    el.progress.hidden = true;
    el.keepBox.hidden = true;
    confirmingJob = null;
    clear(el.result);
    const r = job.result;
    const where = r ? r.target : (job.target.kind === 'host' ? 'the host' : `netns ${job.target.netns}`);
    const label = OUTCOME[job.status] || job.status;
    const level = job.status === 'verified' ? 'ok' : 'error';
    const box = h('section', { id: 'apply-outcome', 'data-status': job.status, 'data-level': level },
      h('h3', {}, h('span.outcome', {}, label), ` - ${where}, v${job.design.version}`));
    if (job.error) {
      box.append(h('p.error', {}, job.error.message), h('p.note', {}, `(${job.error.code})`));
    }
    if (r) {
      if (r.cached) box.append(h('p', {}, 'Nothing to do: the live state is exactly what the last verified apply of this design left.'));
      else if (!r.total && !r.error) box.append(h('p', {}, 'Nothing to do: the live state already matched the design.'));
      else if (!r.error) box.append(h('p', {}, `${r.applied}/${r.total} operations applied in ${(r.timings.total || 0).toFixed(2)} s.`));
      if (r.error) {
        box.append(h('p.error', {}, `Apply failed: ${r.error}`));
        if (r.failed_op) box.append(h('p', {}, `Failed operation ${r.failed_op.index ?? ''}: `, h('code', {}, r.failed_op.description)));
      }
      if (r.rolled_back) {
        const rb = h('div', { id: 'apply-rollback', 'data-ok': r.rollback_errors.length ? 'false' : 'true' });
        if (r.rollback_errors.length) {
          rb.append(h('p.error', {}, `Rollback incomplete (${r.rollback_errors.length} problem${r.rollback_errors.length > 1 ? 's' : ''}); the journal is kept. Fix and run `,
            h('code', {}, `mvplan apply --recover rollback${job.target.netns ? ` --netns ${job.target.netns}` : ''}`), ':'),
          h('ul.problems', {}, r.rollback_errors.map((x) => h('li', {}, x))));
        } else if (r.vanished && r.vanished.length) {
          rb.append(h('p.error', {}, `Rolled back the ${r.applied} completed operation${r.applied === 1 ? '' : 's'}, but ${r.target} is NOT as before:`),
            h('ul.problems.vanished', {}, r.vanished.map((x) => h('li', {}, x))));
        } else {
          rb.append(h('p', {}, `Rolled back: the ${r.applied} completed operation${r.applied === 1 ? ' was' : 's were'} undone; ${r.target} is as before.`));
        }
        box.append(rb);
      }
      if (r.verified) {
        if (r.mismatches.length) {
          box.append(h('p.error', {}, `Verification failed: ${r.mismatches.length} difference${r.mismatches.length > 1 ? 's' : ''} between the live state and the design:`),
            h('ul.problems.mismatches', {}, r.mismatches.map((m) => h('li', {}, m))));
        } else {
          box.append(h('p.ok', {}, 'Verified: the live state matches the design.'));
        }
      }
    }
    if (job.plan && job.plan.ops.length) {
      const done = r ? (r.rolled_back ? 0 : r.applied) : 0;
      box.append(h('details', {}, h('summary', {}, `The ${job.plan.count} operations`), opsList(job.plan.ops, done)));
    }
    el.result.append(box);
    status(job.status === 'verified' ? `Done: ${where} verified.` : `Done: ${label}.`, level);
  }

  async function runApply() {
    if (busy || !dry) return;
    const bad = validate(true);
    if (bad) { status(bad, 'error'); return; }
    if (dry.key !== requestKey()) { invalidate(); status('The target changed: run the dry run again.', 'error'); return; }
    setBusy(true);
    document.body.dataset.apply = 'running';
    status('Starting…');
    try {
      const started = await api.post(`/api/designs/${S.id}/apply`, { ...body(true), plan_digest: dry.digest }, { headers: headers() });
      renderProgress(started);
      const job = await pollJob(`/api/apply/${encodeURIComponent(started.job)}`, { headers, onProgress: renderProgress });
      renderJob(job);
      document.body.dataset.apply = job.status;
    } catch (e) {
      el.progress.hidden = true;
      showError(e, 'Apply failed');
      document.body.dataset.apply = 'error';
    } finally {
      dry = null; // the live state changed: a new apply needs a new dry run
      el.run.textContent = 'Apply';
      el.run.title = 'Run a dry run first';
      setBusy(false);
    }
  }

  async function keep() {
    if (!confirmingJob) return;
    try {
      await api.post(`/api/apply/${encodeURIComponent(confirmingJob)}/confirm`, {}, { headers: headers() });
      el.keepBox.hidden = true;
      status('Confirmed: keeping the changes…', 'ok');
    } catch (e) {
      status(`Could not confirm: ${e.message}`, 'error');
    }
  }

  async function recover(mode) {
    if (busy) return;
    const bad = validate(true);
    if (bad) { status(bad, 'error'); return; }
    setBusy(true);
    status(mode === 'rollback' ? 'Rolling back the unfinished apply…' : 'Completing the unfinished apply…');
    try {
      const res = await api.post('/api/recover', { target: target(true), mode }, { headers: headers() });
      el.recoverBox.hidden = true;
      clear(el.result);
      const r = res.result;
      const box = h('section', { id: 'apply-recovered', 'data-status': res.status },
        h('h3', {}, `Recovered (${mode}): ${OUTCOME[res.status] || res.status} - ${r.target}`));
      if (r.rollback_errors.length) box.append(h('ul.problems', {}, r.rollback_errors.map((x) => h('li', {}, x))));
      if (r.error) box.append(h('p.error', {}, r.error));
      el.result.append(box);
      status(`Recovered: ${OUTCOME[res.status] || res.status}. Run the dry run again before applying.`,
        res.status === 'verified' || res.status === 'rolled_back' ? 'ok' : 'error');
      document.body.dataset.apply = `recovered-${res.status}`;
    } catch (e) {
      showError(e, 'Recover failed');
    } finally {
      setBusy(false);
    }
  }

  el.keep.addEventListener('click', keep);
  el.recoverRollback.addEventListener('click', () => recover('rollback'));
  el.recoverComplete.addEventListener('click', () => recover('complete'));
  form.addEventListener('submit', (e) => { e.preventDefault(); runDry(); });
  el.run.addEventListener('click', runApply);
  for (const x of [el.netns, el.host, el.tNetns, el.tHost]) {
    x.addEventListener('input', refresh);
    x.addEventListener('change', refresh);
  }
  el.confirm.addEventListener('change', () => { if (el.confirm.checked) status(''); });
  refresh();
  return { refresh };
}
