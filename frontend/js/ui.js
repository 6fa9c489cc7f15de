// DOM helpers. Text always goes in through text nodes, never innerHTML.
import { t } from './i18n.js';

/**
 * h('button', {class: 'btn', 'data-testid': 'x', onclick: fn}, 'text', child)
 * Attributes whose value is false/null/undefined are skipped; true sets an empty attribute.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'value') el.value = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
}

// --- The message region (aria-live) under the header ---------------------
// A message is stored as a function so it is re-rendered in the new language
// when the user switches language.

let current = null; // {kind, text: () => string, actions}

function region() { return document.getElementById('messages'); }

function paint() {
  const r = region();
  if (!r) return;
  clear(r);
  r.classList.toggle('sticky', !!current && (current.kind === 'error' || current.kind === 'warn'));
  if (!current) return;
  const testid = current.kind === 'error' ? 'error-message' : `${current.kind}-message`;
  r.appendChild(h('div', { class: `msg msg-${current.kind} msg-live` },
    h('p', { 'data-testid': testid }, current.text()),
    h('button', { type: 'button', class: 'msg-close', 'aria-label': t('msg.close'), onclick: () => clearMessage() }, '×')));
}

function show(kind, text, { scroll = true } = {}) {
  current = { kind, text: typeof text === 'function' ? text : () => text };
  paint();
  if (scroll) {
    const r = region();
    if (r && r.scrollIntoView) r.scrollIntoView({ block: 'nearest' });
  }
}

export const showError = (text, opts) => show('error', text, opts);
export const showSuccess = (text, opts) => show('success', text, opts);
export const showInfo = (text, opts) => show('info', text, opts);
export function clearMessage() { current = null; paint(); }
export function repaintMessage() { paint(); }

/**
 * Copy `text` for a group chat: the clipboard API where the page may use it, else select `el` (a
 * text area, or any element holding the text) and execCommand('copy'), as in WeChat's browser and
 * on plain http. Resolves to true if copied; if not, the text is left selected for a long-press.
 */
export async function copyText(text, el) {
  try {
    if (navigator.clipboard && window.isSecureContext) { await navigator.clipboard.writeText(text); return true; }
  } catch (e) { /* fall back */ }
  try {
    if (el && typeof el.select === 'function') {
      el.focus();
      el.select();
      el.setSelectionRange(0, text.length);
    } else if (el) {
      const range = document.createRange();
      range.selectNodeContents(el);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
    }
    return document.execCommand('copy');
  } catch (e) {
    return false;
  }
}
