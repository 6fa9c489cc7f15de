// The staff sign-in (admin, liaison, info_officer, volunteer, supplier), kept apart from the
// resident session in localStorage "baogong.staff": one phone can be both a
// resident's and a volunteer's.
//
// The token is a JWT signed by the API. The browser only *reads* its payload
// (role, scope_id, exp) to show who is signed in; it cannot and does not
// verify it — the API does that on every request.
import { t } from './i18n.js';

const KEY = 'baogong.staff';
export const ROLES = ['admin', 'liaison', 'info_officer', 'volunteer', 'supplier', 'reviewer', 'gate_officer', 'supervisor', 'supply_point'];

/** The role's name for people ("志愿者"); its strings are in i18n.js, so this costs a resident's load nothing. */
export function roleText(role) {
  return ROLES.includes(role) ? t(`role.${role}`) : String(role || '');
}

/** Roles that run one community's console (roster, special households, assisted orders). */
export const CONSOLE_ROLES = ['liaison', 'info_officer'];

/** base64url -> UTF-8 text; throws on bad input. */
function base64UrlText(part) {
  let b64 = String(part).replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*$/.test(b64)) throw new Error('bad base64url');
  while (b64.length % 4) b64 += '=';
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i += 1) bytes[i] = bin.charCodeAt(i);
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}

/** A JWT's payload as an object, or null if it is not a JWT. No signature check. */
export function decode(token) {
  try {
    const parts = String(token || '').split('.');
    if (parts.length !== 3 || !parts[1]) return null;
    const claims = JSON.parse(base64UrlText(parts[1]));
    return claims && typeof claims === 'object' && !Array.isArray(claims) ? claims : null;
  } catch (e) {
    return null;
  }
}

/**
 * Read a staff token: {token, role, scope_id, exp (seconds or null)}, or
 * {error: 'invalid' | 'expired'} when it is no staff token or has run out.
 */
export function parse(token) {
  const c = decode(token);
  if (!c || !ROLES.includes(c.role) || typeof c.scope_id !== 'string' || !c.scope_id) return { error: 'invalid' };
  const exp = Number.isFinite(c.exp) ? c.exp : null;
  if (exp !== null && exp * 1000 <= Date.now()) return { error: 'expired' };
  return { token: String(token), role: c.role, scope_id: c.scope_id, exp };
}

/** The signed-in staff member, or null (none, unreadable or expired). */
export function get() {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) || 'null');
    if (!s || !s.token || !ROLES.includes(s.role)) return null;
    if (Number.isFinite(s.exp) && s.exp * 1000 <= Date.now()) return null;
    return s;
  } catch (e) {
    return null;
  }
}

/** s: {token, role, scope_id, exp} as returned by parse(). */
export function save(s) {
  localStorage.setItem(KEY, JSON.stringify({ token: s.token, role: s.role, scope_id: s.scope_id, exp: s.exp ?? null }));
}

export function clear() {
  try { localStorage.removeItem(KEY); } catch (e) { /* ignore */ }
}
