// JSON API client: adds the CSRF header, turns the error envelope into ApiError.

const token = () => document.querySelector('meta[name="csrf-token"]')?.content || '';

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status; this.code = code; this.details = details || {};
  }
}

async function envelope(resp) {
  let body = null;
  try { body = await resp.json(); } catch (_) { /* not JSON */ }
  const e = body && body.error ? body.error : { code: 'http_error', message: `HTTP ${resp.status}`, details: {} };
  return new ApiError(resp.status, e.code, e.message, e.details);
}

/** A request body that is already JSON text (the editor serializes the document once and reuses it). */
export class JSONText {
  constructor(text) { this.text = text; }
}

/** `data`: an object (sent as JSON), a JSONText, or FormData. */
export async function request(method, url, data, { raw = false, signal, headers = {} } = {}) {
  const opts = { method, headers: { 'Accept': 'application/json', ...headers }, credentials: 'same-origin', signal };
  if (method !== 'GET' && method !== 'HEAD') opts.headers['X-CSRF-Token'] = token();
  if (data instanceof FormData) opts.body = data;
  else if (data instanceof JSONText) { opts.headers['Content-Type'] = 'application/json'; opts.body = data.text; }
  else if (data !== undefined) { opts.headers['Content-Type'] = 'application/json'; opts.body = JSON.stringify(data); }
  const resp = await fetch(url, opts);
  if (!resp.ok) throw await envelope(resp);
  if (raw) return resp;
  if (resp.status === 204) return null;
  return resp.json();
}

/**
 * The JSON lines of an ``application/x-ndjson`` answer, each parsed as soon as it has arrived
 * (an async iterator): /api/check?ack=1 sends an acknowledgement line long before its answer.
 */
export async function* jsonLines(resp) {
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  let parts = []; // text after the last newline, in pieces (a 2 MB answer comes in many chunks)
  for (;;) {
    const { value, done } = await reader.read();
    const text = done ? decoder.decode() : decoder.decode(value, { stream: true });
    let from = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
      parts.push(text.slice(from, nl));
      const line = parts.join('');
      parts = [];
      from = nl + 1;
      if (line.trim()) yield JSON.parse(line);
    }
    if (from < text.length) parts.push(text.slice(from));
    if (done) break;
  }
  const rest = parts.join('');
  if (rest.trim()) yield JSON.parse(rest);
}

export const api = {
  get: (url, o) => request('GET', url, undefined, o),
  post: (url, data, o) => request('POST', url, data, o),
  put: (url, data, o) => request('PUT', url, data, o),
  del: (url, o) => request('DELETE', url, undefined, o),
};

/** POST data, then hand the response body to the browser as a file download. */
export async function download(url, data) {
  const resp = await request('POST', url, data, { raw: true });
  const cd = resp.headers.get('Content-Disposition') || '';
  const m = /filename="([^"]+)"/.exec(cd);
  const name = m ? m[1] : 'download';
  const blob = await resp.blob();
  const href = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = href; a.download = name; a.style.display = 'none';
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10000);
  return { name, size: blob.size, warnings: Number(resp.headers.get('X-Mvplan-Warnings') || 0) };
}
