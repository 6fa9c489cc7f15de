// The resident's session (token, household, community), kept in localStorage.
const KEY = 'baogong.session';

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

/** s: {token, household_id, community_id, flat?, phone_masked?, community_name?, join_key?} */
export function save(s) {
  localStorage.setItem(KEY, JSON.stringify(s));
}

export function clear() {
  try { localStorage.removeItem(KEY); } catch (e) { /* ignore */ }
}
