// Polling a background job (GET /api/apply/<job>, GET /api/rehearse/<job>) until it finishes: one
// loop for the Apply, Rehearse and any later tab, so they agree on what a failed poll means.
import { api } from './api.js';

/** Pause between polls of a running job. */
export const POLL_MS = 250;
/** Consecutive failed polls (server restarting, network blip) tolerated before giving up. */
export const MAX_FAILURES = 20;

export const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });

/**
 * Poll `url` until the job it names is finished; resolves with the finished job. `onProgress`
 * sees every unfinished answer (progress bars, "confirm within N s"). A 4xx answer (no such job,
 * wrong token) ends the polling at once: asking again cannot help. A 5xx answer or a failed
 * request is retried, more slowly, up to MAX_FAILURES times in a row.
 */
export async function pollJob(url, { headers = () => ({}), onProgress = () => {}, intervalMs = POLL_MS } = {}) {
  let failures = 0;
  for (;;) {
    let job;
    try {
      job = await api.get(url, { headers: headers() });
      failures = 0;
    } catch (e) {
      if (e.status && e.status < 500) throw e;
      if (++failures > MAX_FAILURES) throw e;
      await sleep(intervalMs * 2);
      continue;
    }
    if (job.finished) return job;
    onProgress(job);
    await sleep(intervalMs);
  }
}
