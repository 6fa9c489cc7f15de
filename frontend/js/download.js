// Files the API builds (XLSX, PDF, CSV), fetched with the staff token and saved by the browser.
// One place for it: the poster, the gate log and the supply-chain exports all download this way.
import { ApiError } from './api.js';
import * as staff from './staff.js';

/** The file's name from Content-Disposition (filename*=UTF-8''… first), else the fallback. */
function fileName(res, fallback) {
  const cd = res.headers.get('Content-Disposition') || '';
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(cd);
  if (star) { try { return decodeURIComponent(star[1].trim().replace(/^"|"$/g, '')); } catch (e) { /* next */ } }
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(cd);
  return plain ? plain[1].trim() : fallback;
}

/**
 * Fetch `path` and save what comes back; resolves to the saved file's name, or throws an ApiError
 * (status 0 when the network failed). `accept` names the binary type: behind API Gateway a binary
 * answer comes back as bytes only when the request's Accept matches it.
 */
export async function saveFile(path, fallback, accept = '*/*') {
  const s = staff.get();
  let res;
  try {
    res = await fetch(path, {
      headers: { Authorization: `Bearer ${s ? s.token : ''}`, Accept: accept },
      credentials: 'same-origin', cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError({ status: 0, code: 'network' });
  }
  if (!res.ok) {
    let body = null;
    try { body = await res.json(); } catch (e) { /* not JSON */ }
    const e = (body && body.error) || {};
    throw new ApiError({ status: res.status, code: e.code || `http_${res.status}`, message: e.message || '', message_en: e.message_en || '', fields: e.fields || null });
  }
  const blob = await res.blob();
  const name = fileName(res, fallback);
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
  return name;
}
