// The resident's session (token, household, membership, community), kept in localStorage.
const KEY = 'baogong.session';
// Saved copies of what only a member may see (the household's orders and pickup codes).
const MEMBER_ONLY = ['baogong.cache.orders', 'baogong.cache.notices'];

export function get() {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) || 'null');
    return s && s.token && s.community_id ? s : null;
  } catch (e) {
    return null;
  }
}

export function token() {
  const s = get();
  return s ? s.token : null;
}

/**
 * s: {token, household_id, member_id?, membership?: 'member'|'pending', community_id, flat?,
 *     phone_masked?, community_name?, join_key?, info_officer_name?, pending_requests?}
 * A session saved before memberships existed has no `membership`: it is treated as a member
 * (the API decides; a 404 not_a_member puts it right).
 */
export function save(s) {
  localStorage.setItem(KEY, JSON.stringify(s));
}

/** Merge fields into the current session; tells the page (header badge) when something changed. */
export function update(patch) {
  const s = get();
  if (!s) return null;
  const next = { ...s, ...patch };
  if (JSON.stringify(next) === JSON.stringify(s)) return s;
  save(next);
  window.dispatchEvent(new CustomEvent('baogong:session'));
  return next;
}

/** True while this phone waits for a member of its flat to approve it. */
export function isPending(s = get()) {
  return !!s && s.membership === 'pending';
}

/** Forget what only a member may see (on leaving, removal, or a new registration). */
export function forgetMemberData() {
  for (const k of MEMBER_ONLY) {
    try { localStorage.removeItem(k); } catch (e) { /* ignore */ }
  }
}

export function clear() {
  try { localStorage.removeItem(KEY); } catch (e) { /* ignore */ }
  forgetMemberData();
}
