// fetch wrapper for the same-origin API under /api.
import * as session from './session.js';
import * as staff from './staff.js';
import { pick, t } from './i18n.js';

const TIMEOUT_MS = 25000; // weak signal: give up and let the caller retry

export class ApiError extends Error {
  constructor({ status = 0, code = 'unknown', message = '', message_en = '', fields = null, retryAfter = null }) {
    super(message || message_en || code);
    this.name = 'ApiError';
    this.status = status;          // 0 = no response (network failure / timeout)
    this.code = code;
    this.message = message;        // Chinese, from the server
    this.message_en = message_en;  // English, from the server
    this.fields = fields;          // {field: [messages]} on 400
    this.retryAfter = retryAfter;  // seconds, from Retry-After
  }

  /** True when the request may not have reached the server, or the server asked us to come back. */
  get retryable() {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

/** The message to show for an error, in the current language. */
export function errorText(err) {
  if (err instanceof ApiError) {
    const server = pick(err.message, err.message_en);
    if (server) return server;
    if (err.status === 0) return t('err.network');
    if (err.status === 401) return t('err.session');
    if (err.status === 404) return t('err.not_found');
    if (err.status === 429 || err.status >= 500) return t('err.server');
  }
  return t('err.unknown');
}

async function parseError(res) {
  let body = null;
  try { body = await res.json(); } catch (e) { /* not JSON, e.g. a gateway error page */ }
  const e = (body && body.error) || {};
  // Chalice's own errors look like {"Code": "...", "Message": "..."}.
  const code = e.code || (body && body.Code) || `http_${res.status}`;
  const ra = res.headers.get('Retry-After');
  return new ApiError({
    status: res.status,
    code,
    message: e.message || '',
    message_en: e.message_en || (body && body.Message) || '',
    fields: e.fields || null,
    retryAfter: ra && /^\d+$/.test(ra) ? Number(ra) : null,
  });
}

/**
 * api('/api/rounds?community_id=1') -> parsed JSON.
 * Options: method, body (object, sent as JSON), headers, auth (default true: the resident's token),
 * token (send this token instead of the resident's; null sends none),
 * raw (a Blob/File/ArrayBuffer sent as is, e.g. a statement file; Content-Type from headers, else
 * application/octet-stream), timeoutMs (default 25 s).
 * Resolves to {status, data} when `full` is set, otherwise to data.
 * Throws ApiError (status 0 when there was no response).
 */
export async function api(path, {
  method = 'GET', body, headers = {}, auth = true, full = false, token, raw, timeoutMs = TIMEOUT_MS,
} = {}) {
  const h = { Accept: 'application/json', ...headers };
  if (body !== undefined) h['Content-Type'] = 'application/json';
  else if (raw !== undefined && !Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) {
    h['Content-Type'] = 'application/octet-stream';
  }
  const tok = token !== undefined ? token : (auth ? session.token() : null);
  if (tok) h.Authorization = `Bearer ${tok}`;

  const ctrl = typeof AbortController === 'function' ? new AbortController() : null;
  const timer = ctrl ? setTimeout(() => ctrl.abort(), timeoutMs) : null;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: h,
      body: body !== undefined ? JSON.stringify(body) : raw,
      credentials: 'same-origin',
      cache: 'no-store',
      signal: ctrl ? ctrl.signal : undefined,
    });
  } catch (e) {
    throw new ApiError({ status: 0, code: 'network' });
  } finally {
    if (timer) clearTimeout(timer);
  }
  if (!res.ok) throw await parseError(res);
  let data = null;
  if (res.status !== 204) {
    try { data = await res.json(); } catch (e) {
      // A 2xx whose body got cut off: treat like a lost response so the caller can retry.
      throw new ApiError({ status: 0, code: 'bad_response' });
    }
  }
  return full ? { status: res.status, data } : data;
}

/** api() with the signed-in staff member's token (never the resident's): the staff screens use this. */
export function staffApi(path, opts = {}) {
  const s = staff.get();
  return api(path, { ...opts, token: s ? s.token : null });
}
