// Navigation helpers shared by app.js and the views.
let keep = false;

/** Go to a hash route, keeping the current message visible on the new page. */
export function go(hash, { replace = false } = {}) {
  if (location.hash === hash) {
    window.dispatchEvent(new CustomEvent('baogong:rerender'));
    return;
  }
  keep = true;
  if (replace) location.replace(hash); else location.hash = hash;
}

/** Called once per hashchange: true if the message should survive it. */
export function takeKeep() {
  const k = keep;
  keep = false;
  return k;
}
