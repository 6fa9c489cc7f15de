// Form fields with their own error lines, shared by the resident's and the staff's forms:
// a 400's field messages land under the field they name, the rest go to the top.
import { t } from './i18n.js';
import { h } from './ui.js';

/** Server field messages (string, list or nested object) as a flat list of strings. */
export function asList(v) {
  if (v === null || v === undefined || v === '') return [];
  if (Array.isArray(v)) return v.flatMap(asList);
  if (typeof v === 'object') return Object.values(v).flatMap(asList);
  return [String(v)];
}

/**
 * Labelled fields with their own error lines. prefix keeps ids unique on a page;
 * each control gets data-testid `${tid}-${name}` unless it has one, and each error
 * line `errorTestId(name)` (default `${tid}-${name}-error`).
 */
export function makeForm(prefix, tid = prefix, { errorTestId = (name) => `${tid}-${name}-error` } = {}) {
  const errs = {};
  const inputs = {};
  const order = [];
  function field(name, label, control, hint) {
    const id = `${prefix}-${name}`;
    const err = h('p', { class: 'field-error', id: `${id}-error`, 'data-testid': errorTestId(name), hidden: true });
    errs[name] = err;
    inputs[name] = control;
    order.push(name);
    control.id = control.id || `f-${id}`;
    if (!control.getAttribute('data-testid')) control.setAttribute('data-testid', `${tid}-${name}`);
    control.setAttribute('aria-describedby', [hint ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(' '));
    return h('div', { class: 'field', 'data-field': name },
      h('label', { for: control.id }, label),
      hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
      control,
      err);
  }
  function setError(name, msgs) {
    const el = errs[name];
    if (!el) return false;
    const list = asList(msgs);
    el.textContent = list.join(t('list_sep'));
    el.hidden = list.length === 0;
    if (list.length) inputs[name].setAttribute('aria-invalid', 'true');
    else inputs[name].removeAttribute('aria-invalid');
    return true;
  }
  function clearErrors() { order.forEach((n) => setError(n, [])); }
  /** Field messages of a 400 onto the fields; returns the ones that belong to no field. */
  function applyServer(err) {
    const extra = [];
    if (err && err.fields) {
      for (const [f, msgs] of Object.entries(err.fields)) {
        if (!setError(f, msgs)) extra.push(...asList(msgs));
      }
    }
    return extra;
  }
  function focusFirst() {
    const n = order.find((x) => errs[x] && !errs[x].hidden);
    if (n && inputs[n]) inputs[n].focus();
  }
  return { field, setError, clearErrors, applyServer, focusFirst, inputs };
}
