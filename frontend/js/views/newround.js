// #/staff/rounds/new: create a round (团购). A supplier picks the communities it serves; a liaison
// or information officer first picks the supplier, and the round serves their own community.
// Bundles with their items, price (yuan), stock and per-household limit; the three times in Beijing
// time; the payment QR as an uploaded picture (straight to S3 with a presigned POST) or as its text.
//
// What is typed is kept: every input writes a draft to localStorage (one per staff member's scope),
// a reopened page restores it, a failed submit keeps it, and only a created round clears it.
import '../strings/roster.js';
import '../strings/payments.js';
import '../strings/supplier.js';
import { t, getLang } from '../i18n.js';
import { staffApi } from '../api.js';
import { presignedPost } from '../upload.js';
import * as staff from '../staff.js';
import { h, clear, showError, showSuccess, clearMessage } from '../ui.js';
import { halfWidth } from '../format.js';
import { go } from '../nav.js';
import { asList } from '../forms.js';
import { uuid } from '../outbox.js';
import { drawLoadError, staffErrorText, cpath, beijingInputValue, fromBeijingInput, notForRole } from './roster.js';

// POST /api/rounds takes a supplier's own round, or a liaison's or admin's for a named supplier.
const ROLES = ['supplier', 'liaison', 'admin'];
const QR_TYPES = ['image/png', 'image/jpeg'];
const QR_MAX = 2 * 1024 * 1024;
const THUMB = 240; // px: the preview kept in the draft (the upload itself stays on S3)
const BEIJING_MS = 8 * 3600 * 1000;
const PRICE = /^(\d{1,6})(\.\d{1,2})?$/;
const WHOLE = /^\d{1,7}$/;

let state = null; // {sid, role, options: {communities, suppliers, communityName}, draft, errors, restored, uploading}

// ---- the draft --------------------------------------------------------------------------------

const draftKey = (s) => `baogong.round-draft.${s.role}.${s.scope_id}`;

const emptyItem = () => ({ name: '', qty: '', unit: '' });
const emptyBundle = () => ({ name: '', items: [emptyItem()], price: '', stock: '', limit: '1' });

/** Defaults: opens now, closes tomorrow 18:00, pay within 6 hours of closing (all Beijing time). */
function defaultTimes(now = new Date()) {
  const opens = beijingInputValue(now);
  const tomorrow = new Date(now.getTime() + BEIJING_MS + 24 * 3600 * 1000).toISOString().slice(0, 10);
  const closes = `${tomorrow}T18:00`;
  const deadline = beijingInputValue(new Date(Date.parse(fromBeijingInput(closes)) + 6 * 3600 * 1000));
  return { opens_at: opens, closes_at: closes, payment_deadline: deadline };
}

function freshDraft() {
  return {
    name: '', supplier_id: '', community_ids: [], bundles: [emptyBundle()],
    ...defaultTimes(),
    qr_mode: 'image', payment_qr: '', qr_key: '', qr_name: '', qr_thumb: '',
  };
}

function loadDraft(s) {
  try {
    const d = JSON.parse(localStorage.getItem(draftKey(s)) || 'null');
    if (!d || typeof d !== 'object' || !Array.isArray(d.bundles)) return null;
    const base = freshDraft();
    const out = { ...base, ...d };
    out.bundles = d.bundles.map((b) => ({
      ...emptyBundle(), ...b, items: Array.isArray(b && b.items) && b.items.length ? b.items.map((i) => ({ ...emptyItem(), ...i })) : [emptyItem()],
    }));
    if (!out.bundles.length) out.bundles = [emptyBundle()];
    out.community_ids = Array.isArray(d.community_ids) ? d.community_ids.map(String) : [];
    return out;
  } catch (e) {
    return null;
  }
}

function saveDraft() {
  const s = staff.get();
  if (!s || !state) return;
  try {
    localStorage.setItem(draftKey(s), JSON.stringify(state.draft));
  } catch (e) {
    // Storage full (a big thumbnail?): keep the draft without the picture.
    try { localStorage.setItem(draftKey(s), JSON.stringify({ ...state.draft, qr_thumb: '' })); } catch (e2) { /* nothing to do */ }
  }
}

function dropDraft(s) {
  try { localStorage.removeItem(draftKey(s)); } catch (e) { /* ignore */ }
}

// ---- messages -----------------------------------------------------------------------------------

/** A message of our own, kept as its key so a language switch re-words it. */
const msg = (key) => ({ key });
const say = (m) => (m && typeof m === 'object' && m.key ? t(m.key) : bilingual(m));

/** A server field message reads "中文 / English": show the half in the current language. */
export function bilingual(msg) {
  const m = String(msg ?? '');
  const i = m.indexOf(' / ');
  if (i > 0 && /[\u3400-\u9fff]/.test(m.slice(0, i))) return getLang() === 'en' ? m.slice(i + 3) : m.slice(0, i);
  return m;
}

/** Nested field messages ({bundles: {"0": {price: [..]}}}) as [[path, [messages]]]. */
export function flattenFields(fields, prefix = '') {
  const out = [];
  if (fields === null || fields === undefined) return out;
  if (Array.isArray(fields) || typeof fields !== 'object') {
    const list = asList(fields);
    if (list.length) out.push([prefix, list]);
    return out;
  }
  for (const [k, v] of Object.entries(fields)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v)) out.push(...flattenFields(v, path));
    else { const list = asList(v); if (list.length) out.push([path, list]); }
  }
  return out;
}

/** A server path to the path of the control (or error line) that shows it. */
function normalisePath(path) {
  const parts = path.split('.');
  if (parts[0] === 'community_ids') return 'community_ids';
  if (parts[0] === 'payment_qr' || parts[0] === 'payment_qr_key') return 'qr';
  if (parts[parts.length - 1] === 'price_fen') parts[parts.length - 1] = 'price';
  return parts.join('.');
}

// ---- the view -----------------------------------------------------------------------------------

async function loadOptions(s) {
  if (s.role === 'supplier') {
    const data = await staffApi('/api/suppliers/mine/communities');
    return { communities: Array.isArray(data && data.communities) ? data.communities : [], suppliers: [], communityName: '' };
  }
  if (s.role === 'admin') return { communities: [], suppliers: [], communityName: '' };
  const cid = s.scope_id;
  const [sup, com] = await Promise.all([
    staffApi(cpath(cid, '/suppliers')),
    staffApi(cpath(cid)).catch(() => null), // only for its name
  ]);
  return {
    communities: [], communityName: (com && com.name) || '',
    suppliers: Array.isArray(sup && sup.suppliers) ? sup.suppliers : [],
  };
}

export async function newRoundView(root, params, ctx) {
  const s = staff.get();
  if (!s || !ROLES.includes(s.role)) { notForRole(root, s, 'nr.only_roles'); return; }
  const sid = `${s.role}.${s.scope_id}`;
  if (ctx.refresh || !state || state.sid !== sid) {
    clear(root);
    root.appendChild(h('p', { class: 'loading' }, t('loading')));
    let options;
    try {
      options = await loadOptions(s);
    } catch (err) {
      if (!ctx.isCurrent()) return;
      drawLoadError(root, err, ctx, [h('a', { class: 'back', href: backHref(s) }, backText(s))]);
      return;
    }
    if (!ctx.isCurrent()) return;
    const keepDraft = state && state.sid === sid ? state.draft : null;
    const saved = keepDraft ? null : loadDraft(s);
    state = {
      sid, role: s.role, options,
      draft: keepDraft || saved || freshDraft(),
      errors: new Map(), restored: !!saved, uploading: null, qrLocal: null,
    };
    const d = state.draft;
    if (s.role === 'supplier') {
      const known = new Set(options.communities.map((c) => c.community_id));
      d.community_ids = d.community_ids.filter((c) => known.has(c));
      if (!d.community_ids.length && options.communities.length === 1) d.community_ids = [options.communities[0].community_id];
    } else if (s.role !== 'admin') {
      d.community_ids = [s.scope_id];
      if (!d.supplier_id && options.suppliers.length === 1) d.supplier_id = options.suppliers[0].supplier_id;
    }
  }
  draw(root, ctx);
}

const backHref = (s) => (s && s.role === 'supplier' ? '#/staff/rounds' : '#/staff');
const backText = (s) => (s && s.role === 'supplier' ? t('sr.back') : `← ${t('console.to_staff')}`);

/**
 * A labelled control bound to `path`: its error line shows state.errors.get(path).
 * `control` carries data-path so the first field in error can be focused.
 */
function field(path, label, control, { hint = null, testid, cls = '' } = {}) {
  const id = `nr-${path.replace(/\./g, '-')}`;
  control.id = control.id || id;
  control.setAttribute('data-path', path);
  if (testid && !control.getAttribute('data-testid')) control.setAttribute('data-testid', testid);
  const errs = state.errors.get(path) || [];
  const errId = `${id}-error`;
  if (errs.length) control.setAttribute('aria-invalid', 'true');
  control.setAttribute('aria-describedby', [hint ? `${id}-hint` : null, errId].filter(Boolean).join(' '));
  return h('div', { class: `field ${cls}`.trim(), 'data-field': path },
    h('label', { for: control.id }, label),
    hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
    control,
    errorLine(path, testid ? `${testid}-error` : null, errId));
}

/** The error line of a path (also for groups: the communities, a bundle's items, the QR). */
function errorLine(path, testid, id = `nr-${path.replace(/\./g, '-')}-error`) {
  const errs = state.errors.get(path) || [];
  return h('p', {
    class: 'field-error', id, 'data-error-for': path, 'data-testid': testid || `nr-${path.split('.').pop()}-error`,
    hidden: errs.length === 0,
  }, errs.map(say).join(t('list_sep')));
}

/** An input whose value lives at draft[...]: typing saves the draft and clears that field's error. */
function bound(tag, attrs, get, set) {
  const el = h(tag, attrs);
  el.value = get() ?? '';
  el.addEventListener('input', () => {
    set(el.value);
    saveDraft();
    const path = el.getAttribute('data-path');
    if (path && state.errors.has(path)) {
      state.errors.delete(path);
      el.removeAttribute('aria-invalid');
      const line = el.parentNode && el.parentNode.querySelector(`[data-error-for="${CSS.escape(path)}"]`);
      if (line) { line.hidden = true; line.textContent = ''; }
    }
  });
  return el;
}

function draw(root, ctx, focus = null) {
  const s = staff.get();
  const d = state.draft;
  const redraw = (f) => draw(root, ctx, f);
  clear(root);

  if (s.role === 'admin') {
    // No community list for an administrator (their scope is the sub-district): say whom to ask.
    root.appendChild(h('section', { class: 'console newround', 'aria-labelledby': 'nr-title' },
      h('a', { class: 'back', href: backHref(s), 'data-testid': 'nr-back' }, backText(s)),
      h('h1', { id: 'nr-title', class: 'page-title', 'data-testid': 'nr-title' }, t('nr.title_for_supplier')),
      whoSection(s, redraw)));
    return;
  }
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-big', 'data-testid': 'nr-submit' }, t('nr.submit'));
  const form = h('form', { class: 'nr-form', novalidate: true, 'data-testid': 'nr-form' },
    state.restored ? restoredNote(redraw) : null,
    field('name', t('nr.name'), bound('input', { type: 'text', maxlength: '60', autocomplete: 'off' }, () => d.name, (v) => { d.name = v; }),
      { hint: t('nr.name_hint'), testid: 'nr-name' }),
    whoSection(s, redraw),
    bundlesSection(root, ctx, redraw),
    timesSection(),
    qrSection(root, ctx, redraw),
    errorLine('_top', 'nr-top-error'),
    submit,
    h('p', { class: 'hint nr-draft-hint' }, t('nr.draft_hint')));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); send(root, ctx, submit); });

  root.appendChild(h('section', { class: 'console newround', 'aria-labelledby': 'nr-title' },
    h('a', { class: 'back', href: backHref(s), 'data-testid': 'nr-back' }, backText(s)),
    h('h1', { id: 'nr-title', class: 'page-title', 'data-testid': 'nr-title', tabindex: '-1' },
      s.role === 'supplier' ? t('nr.title') : t('nr.title_for_supplier')),
    form));
  if (focus) {
    const el = typeof focus === 'string' ? root.querySelector(focus) : focus;
    if (el) el.focus();
  }
}

function restoredNote(redraw) {
  return h('div', { class: 'msg msg-info nr-restored', 'data-testid': 'nr-restored' },
    h('p', null, t('nr.restored')),
    h('button', {
      type: 'button', class: 'btn btn-secondary btn-sm', 'data-testid': 'nr-start-over',
      onclick: () => {
        dropDraft(staff.get());
        state.draft = freshDraft();
        if (state.role !== 'supplier' && state.role !== 'admin') state.draft.community_ids = [staff.get().scope_id];
        state.errors.clear();
        state.restored = false;
        state.qrLocal = null;
        clearMessage();
        redraw('#nr-title');
      },
    }, t('nr.start_over')));
}

// ---- who: the communities (supplier) or the supplier (liaison) ----------------------------------

function whoSection(s, redraw) {
  const d = state.draft;
  const o = state.options;
  if (s.role === 'supplier') {
    const list = o.communities;
    return h('fieldset', { class: 'nr-group nr-communities', 'data-testid': 'nr-communities' },
      h('legend', null, t('nr.communities')),
      h('p', { class: 'hint' }, t('nr.communities_hint')),
      list.length
        ? h('div', { class: 'nr-checks' }, list.map((c, i) => {
          const box = h('input', {
            type: 'checkbox', value: c.community_id, checked: d.community_ids.includes(c.community_id),
            'data-testid': 'nr-community', 'data-community-id': c.community_id,
            'data-path': i === 0 ? 'community_ids' : null,
            'aria-invalid': state.errors.has('community_ids') ? 'true' : null,
          });
          box.addEventListener('change', () => {
            const set = new Set(d.community_ids);
            if (box.checked) set.add(c.community_id); else set.delete(c.community_id);
            d.community_ids = list.map((x) => x.community_id).filter((x) => set.has(x));
            saveDraft();
          });
          return h('label', { class: 'tile nr-check' }, box, h('span', null, c.name || c.community_id));
        }))
        : h('p', { class: 'msg msg-warn', 'data-testid': 'nr-no-communities' }, t('nr.no_communities')),
      errorLine('community_ids', 'nr-community_ids-error'));
  }
  if (s.role === 'admin') {
    return h('p', { class: 'msg msg-warn', 'data-testid': 'nr-admin-note' }, t('nr.admin_note'));
  }
  // A liaison or information officer: the round serves their community; they name the supplier.
  const sel = bound('select', {}, () => d.supplier_id, (v) => { d.supplier_id = v; });
  sel.appendChild(h('option', { value: '' }, t('join.choose')));
  o.suppliers.forEach((x) => sel.appendChild(h('option', { value: x.supplier_id }, x.name || x.supplier_id)));
  sel.value = d.supplier_id || '';
  sel.addEventListener('change', () => { d.supplier_id = sel.value; saveDraft(); });
  return h('div', { class: 'nr-who' },
    o.communityName ? h('p', { class: 'community-line', 'data-testid': 'nr-community-name' }, t('nr.for_community', { name: o.communityName })) : null,
    o.suppliers.length
      ? field('supplier_id', t('nr.supplier'), sel, { hint: t('nr.supplier_hint'), testid: 'nr-supplier' })
      : h('p', { class: 'msg msg-warn', 'data-testid': 'nr-no-suppliers' }, t('nr.no_suppliers')),
    errorLine('community_ids', 'nr-community_ids-error'));
}

// ---- bundles ----------------------------------------------------------------------------------

function bundlesSection(root, ctx, redraw) {
  const d = state.draft;
  return h('section', { class: 'block nr-bundles', 'aria-labelledby': 'nr-bundles-title' },
    h('h2', { id: 'nr-bundles-title' }, t('nr.bundles')),
    h('p', { class: 'hint' }, t('nr.bundles_hint')),
    errorLine('bundles', 'nr-bundles-error'),
    d.bundles.map((b, i) => bundleBox(b, i, redraw)),
    h('button', {
      type: 'button', class: 'btn btn-secondary', 'data-testid': 'nr-bundle-add',
      onclick: () => {
        d.bundles.push(emptyBundle());
        saveDraft();
        redraw(`[data-testid="nr-bundle"][data-index="${d.bundles.length - 1}"] [data-testid="nr-bundle-name"]`);
      },
    }, t('nr.bundle_add')));
}

/** Shift the error messages of bundles (or items) after a removed row, so they stay on their row. */
function shiftErrors(prefix, removed) {
  const next = new Map();
  for (const [path, msgs] of state.errors) {
    if (!path.startsWith(`${prefix}.`)) { next.set(path, msgs); continue; }
    const rest = path.slice(prefix.length + 1).split('.');
    const n = Number(rest[0]);
    if (n === removed) continue;
    rest[0] = String(n > removed ? n - 1 : n);
    next.set(`${prefix}.${rest.join('.')}`, msgs);
  }
  state.errors = next;
}

function bundleBox(b, i, redraw) {
  const d = state.draft;
  const p = `bundles.${i}`;
  const n = i + 1;
  const num = (attrs) => ({ type: 'text', autocomplete: 'off', ...attrs });
  return h('fieldset', { class: 'nr-bundle', 'data-testid': 'nr-bundle', 'data-index': i },
    h('legend', null, t('nr.bundle_n', { n })),
    field(`${p}.name`, t('nr.bundle_name'), bound('input', { type: 'text', maxlength: '40', autocomplete: 'off' }, () => b.name, (v) => { b.name = v; }),
      { hint: i === 0 ? t('nr.bundle_name_hint') : null, testid: 'nr-bundle-name' }),
    h('fieldset', { class: 'nr-items', 'data-testid': 'nr-items' },
      h('legend', null, t('nr.items')),
      b.items.map((it, j) => itemRow(b, i, it, j, redraw)),
      errorLine(`${p}.items`, 'nr-items-error'),
      h('button', {
        type: 'button', class: 'btn btn-secondary btn-sm', 'data-testid': 'nr-item-add',
        onclick: () => {
          b.items.push(emptyItem());
          saveDraft();
          redraw(`[data-testid="nr-bundle"][data-index="${i}"] [data-testid="nr-item"][data-index="${b.items.length - 1}"] [data-testid="nr-item-name"]`);
        },
      }, t('nr.item_add'))),
    h('div', { class: 'nr-numbers' },
      field(`${p}.price`, t('nr.price'), bound('input', num({ inputmode: 'decimal', placeholder: '12.50' }), () => b.price, (v) => { b.price = v; }),
        { testid: 'nr-bundle-price', cls: 'nr-price' }),
      field(`${p}.stock`, t('nr.stock'), bound('input', num({ inputmode: 'numeric' }), () => b.stock, (v) => { b.stock = v; }),
        { testid: 'nr-bundle-stock' }),
      field(`${p}.per_household_limit`, t('nr.limit'), bound('input', num({ inputmode: 'numeric' }), () => b.limit, (v) => { b.limit = v; }),
        { testid: 'nr-bundle-limit' })),
    d.bundles.length > 1
      ? h('button', {
        type: 'button', class: 'btn btn-link nr-remove', 'data-testid': 'nr-bundle-remove',
        onclick: () => {
          d.bundles.splice(i, 1);
          shiftErrors('bundles', i);
          saveDraft();
          redraw('[data-testid="nr-bundle-add"]');
        },
      }, t('nr.bundle_remove', { n }))
      : null);
}

function itemRow(b, i, it, j, redraw) {
  const p = `bundles.${i}.items.${j}`;
  const input = (key, attrs, label) => {
    const el = bound('input', { type: 'text', autocomplete: 'off', ...attrs }, () => it[key], (v) => { it[key] = v; });
    return field(`${p}.${key}`, label, el, { testid: `nr-item-${key}`, cls: `nr-item-${key}` });
  };
  return h('div', { class: 'nr-item', 'data-testid': 'nr-item', 'data-index': j, role: 'group', 'aria-label': t('nr.item_n', { n: j + 1 }) },
    input('name', { maxlength: '30', placeholder: t('nr.item_name_eg') }, t('nr.item_name')),
    input('qty', { maxlength: '10', inputmode: 'decimal', placeholder: '5' }, t('nr.item_qty')),
    input('unit', { maxlength: '10', placeholder: t('nr.item_unit_eg') }, t('nr.item_unit')),
    b.items.length > 1
      ? h('button', {
        type: 'button', class: 'btn btn-link nr-item-remove', 'data-testid': 'nr-item-remove',
        'aria-label': t('nr.item_remove_n', { n: j + 1 }),
        onclick: () => {
          b.items.splice(j, 1);
          shiftErrors(`bundles.${i}.items`, j);
          saveDraft();
          redraw(`[data-testid="nr-bundle"][data-index="${i}"] [data-testid="nr-item-add"]`);
        },
      }, t('nr.item_remove'))
      : null);
}

// ---- times --------------------------------------------------------------------------------------

function timesSection() {
  const d = state.draft;
  const time = (key, label, hint) => field(key, label,
    bound('input', { type: 'datetime-local' }, () => d[key], (v) => { d[key] = v; }),
    { testid: `nr-${key}`, hint });
  return h('section', { class: 'block nr-times', 'aria-labelledby': 'nr-times-title' },
    h('h2', { id: 'nr-times-title' }, t('nr.times')),
    h('p', { class: 'hint' }, t('nr.times_hint')),
    time('opens_at', t('nr.opens_at')),
    time('closes_at', t('nr.closes_at')),
    time('payment_deadline', t('nr.payment_deadline'), t('nr.payment_deadline_hint')));
}

// ---- the payment QR -----------------------------------------------------------------------------

function qrSection(root, ctx, redraw) {
  const d = state.draft;
  const mode = d.qr_mode === 'text' ? 'text' : 'image';
  const tile = (value, label) => h('label', { class: 'tile' },
    h('input', {
      type: 'radio', name: 'nr-qr-mode', value, checked: mode === value, 'data-testid': `nr-qr-mode-${value}`,
      onchange: () => { d.qr_mode = value; saveDraft(); redraw(`[data-testid="nr-qr-mode-${value}"]`); },
    }),
    h('span', null, label));
  const sec = h('section', { class: 'block nr-qr', 'aria-labelledby': 'nr-qr-title', 'data-testid': 'nr-qr' },
    h('h2', { id: 'nr-qr-title' }, t('nr.qr')),
    h('p', { class: 'hint' }, t('nr.qr_hint')),
    h('fieldset', { class: 'tiles' },
      h('legend', { class: 'visually-hidden' }, t('nr.qr_how')),
      h('div', { class: 'tiles-row' }, tile('image', t('nr.qr_image')), tile('text', t('nr.qr_text')))));
  if (mode === 'image') {
    const input = h('input', {
      type: 'file', id: 'nr-qr-file', accept: 'image/png,image/jpeg', class: 'file-input', 'data-testid': 'nr-qr-file',
      'data-path': 'qr', disabled: !!state.uploading, 'aria-describedby': 'nr-qr-error',
    });
    input.addEventListener('change', () => {
      const file = input.files && input.files[0];
      if (file) pickQr(file, root, ctx);
    });
    const src = state.qrLocal || d.qr_thumb;
    sec.append(
      input,
      h('label', { class: 'btn btn-secondary file-label', for: 'nr-qr-file' }, d.qr_key ? t('nr.qr_choose_again') : t('nr.qr_choose')),
      h('p', { class: 'hint' }, t('nr.qr_types')),
      src ? h('img', { class: 'nr-qr-preview', src, alt: t('nr.qr_preview_alt'), 'data-testid': 'nr-qr-preview' }) : null,
      qrStatus());
  } else {
    const area = bound('textarea', { rows: '3', maxlength: '1000', autocomplete: 'off', placeholder: 'wxp://… / https://qr.alipay.com/…' },
      () => d.payment_qr, (v) => { d.payment_qr = v; });
    sec.appendChild(field('payment_qr', t('nr.qr_text_label'), area, { hint: t('nr.qr_text_hint'), testid: 'nr-payment_qr' }));
  }
  sec.appendChild(errorLine('qr', 'nr-qr-error', 'nr-qr-error'));
  return sec;
}

function qrStatus() {
  const d = state.draft;
  if (state.uploading) {
    return h('div', { class: 'st-progress', role: 'status', 'data-testid': 'nr-qr-status', 'data-state': 'uploading' },
      h('p', { class: 'st-progress-text' }, t('nr.qr_uploading')),
      h('progress', { class: 'st-progress-bar', 'aria-label': t('nr.qr_uploading') }));
  }
  if (d.qr_key) {
    return h('p', { class: 'nr-qr-done', role: 'status', 'data-testid': 'nr-qr-status', 'data-state': 'done' },
      t('nr.qr_uploaded', { name: d.qr_name || '' }));
  }
  return null;
}

/** A small JPEG of the picked picture for the draft (a reopened page shows what was uploaded). */
function thumbnail(file) {
  return new Promise((resolve) => {
    const url = URL.createObjectURL(file);
    const img = new Image();
    img.onload = () => {
      try {
        const k = Math.min(1, THUMB / Math.max(img.naturalWidth, img.naturalHeight));
        const c = document.createElement('canvas');
        c.width = Math.max(1, Math.round(img.naturalWidth * k));
        c.height = Math.max(1, Math.round(img.naturalHeight * k));
        const g = c.getContext('2d');
        g.fillStyle = '#fff';
        g.fillRect(0, 0, c.width, c.height);
        g.drawImage(img, 0, 0, c.width, c.height);
        resolve(c.toDataURL('image/jpeg', 0.8));
      } catch (e) {
        resolve('');
      }
    };
    img.onerror = () => resolve('');
    img.src = url;
  });
}

async function uploadQr(file) {
  return presignedPost(await staffApi('/api/payment-qr/uploads', { method: 'POST', body: {} }), file, 'qr');
}

async function pickQr(file, root, ctx) {
  const d = state.draft;
  clearMessage();
  state.errors.delete('qr');
  const type = (file.type || '').toLowerCase();
  if (!QR_TYPES.includes(type)) { state.errors.set('qr', [msg('nr.qr_bad_type')]); draw(root, ctx, '#nr-qr-file'); return; }
  if (file.size > QR_MAX) { state.errors.set('qr', [msg('nr.qr_too_big')]); draw(root, ctx, '#nr-qr-file'); return; }
  if (state.qrLocal) URL.revokeObjectURL(state.qrLocal);
  state.qrLocal = URL.createObjectURL(file);
  d.qr_key = '';
  d.qr_name = file.name || '';
  const job = (async () => {
    const [thumb, key] = await Promise.all([thumbnail(file), uploadQr(file)]);
    return { thumb, key };
  })();
  state.uploading = job;
  draw(root, ctx, '[data-testid="nr-qr-status"]');
  try {
    const { thumb, key } = await job;
    if (state.uploading !== job) return;
    d.qr_key = key;
    d.qr_thumb = thumb;
    saveDraft();
  } catch (err) {
    if (state.uploading !== job) return;
    state.errors.set('qr', [msg(err && err.status === 0 ? 'nr.qr_upload_offline' : 'nr.qr_upload_failed')]);
  } finally {
    if (state.uploading === job) state.uploading = null;
  }
  if (ctx.isCurrent()) draw(root, ctx, state.errors.has('qr') ? '#nr-qr-file' : '[data-testid="nr-qr-status"]');
}

// ---- checking and sending -----------------------------------------------------------------------

/** What is obviously wrong, found on the phone: Map(path -> [message]). */
function check() {
  const d = state.draft;
  const e = new Map();
  const need = (path, v) => { if (!String(v ?? '').trim()) e.set(path, [msg('console.required')]); };
  need('name', d.name);
  if (state.role === 'supplier' && !d.community_ids.length) e.set('community_ids', [msg('nr.pick_community')]);
  if (state.role === 'liaison') need('supplier_id', d.supplier_id);
  d.bundles.forEach((b, i) => {
    const p = `bundles.${i}`;
    need(`${p}.name`, b.name);
    b.items.forEach((it, j) => {
      need(`${p}.items.${j}.name`, it.name);
      need(`${p}.items.${j}.qty`, it.qty);
    });
    const price = halfWidth(b.price);
    if (!price) e.set(`${p}.price`, [msg('console.required')]);
    else if (!PRICE.test(price)) e.set(`${p}.price`, [msg('nr.bad_price')]);
    else if (priceFen(price) <= 0) e.set(`${p}.price`, [msg('nr.price_zero')]);
    const stock = halfWidth(b.stock);
    if (!stock) e.set(`${p}.stock`, [msg('console.required')]);
    else if (!WHOLE.test(stock) || Number(stock) > 100000) e.set(`${p}.stock`, [msg('nr.bad_stock')]);
    const limit = halfWidth(b.limit);
    if (!limit) e.set(`${p}.per_household_limit`, [msg('console.required')]);
    else if (!WHOLE.test(limit) || Number(limit) < 1 || Number(limit) > 99) e.set(`${p}.per_household_limit`, [msg('nr.bad_limit')]);
  });
  const times = {};
  for (const k of ['opens_at', 'closes_at', 'payment_deadline']) {
    times[k] = fromBeijingInput(d[k]);
    if (!d[k]) e.set(k, [msg('console.required')]);
    else if (!times[k]) e.set(k, [msg('nr.bad_time')]);
  }
  if (times.opens_at && times.closes_at && !e.has('closes_at') && Date.parse(times.closes_at) <= Date.parse(times.opens_at)) {
    e.set('closes_at', [msg('nr.closes_before_opens')]);
  }
  if (times.closes_at && times.payment_deadline && !e.has('payment_deadline')
    && Date.parse(times.payment_deadline) < Date.parse(times.closes_at)) {
    e.set('payment_deadline', [msg('nr.deadline_before_closes')]);
  }
  if (d.qr_mode === 'text') need('payment_qr', d.payment_qr);
  else if (!d.qr_key && !state.uploading) e.set('qr', [msg('nr.qr_missing')]);
  return e;
}

/** "12.5" -> 1250, integer arithmetic only. */
function priceFen(s) {
  const m = PRICE.exec(s);
  if (!m) return NaN;
  const cents = (m[2] || '.').slice(1).padEnd(2, '0');
  return Number(m[1]) * 100 + Number(cents);
}

/** "12.5" -> "12.50": the API takes yuan as a string with at most 2 decimals. */
function priceText(s) {
  const fen = priceFen(s);
  return `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
}

/** A Beijing "YYYY-MM-DDTHH:MM" as the API wants it: with its +08:00, never the browser's zone. */
const beijingIso = (v) => `${v}:00+08:00`;

function body() {
  const d = state.draft;
  const out = {
    name: d.name.trim(),
    community_ids: d.community_ids.slice(),
    opens_at: beijingIso(d.opens_at),
    closes_at: beijingIso(d.closes_at),
    payment_deadline: beijingIso(d.payment_deadline),
    bundles: d.bundles.map((b) => ({
      name: b.name.trim(),
      items: b.items.map((it) => ({ name: it.name.trim(), qty: halfWidth(it.qty), unit: it.unit.trim() })),
      price: priceText(halfWidth(b.price)),
      stock: Number(halfWidth(b.stock)),
      per_household_limit: Number(halfWidth(b.limit)),
    })),
  };
  if (state.role !== 'supplier') out.supplier_id = d.supplier_id;
  if (d.qr_mode === 'text') out.payment_qr = d.payment_qr.trim();
  else out.payment_qr_key = d.qr_key;
  return out;
}

/**
 * The Idempotency-Key of this submission: the same while the round typed is the same, so a tap
 * repeated after a lost answer (or after a reload) gets the round already made, not a second one.
 * Kept in the draft, which is cleared once the round exists.
 */
function submitKey(payload) {
  const d = state.draft;
  const text = JSON.stringify(payload);
  if (!d.submit_key || d.submit_body !== text) {
    d.submit_key = `round-${uuid()}`;
    d.submit_body = text;
    saveDraft();
  }
  return d.submit_key;
}

/** Put field messages on their fields; returns the ones that belong to none. */
function applyErrors(errors) {
  state.errors = new Map();
  const extra = [];
  const known = new Set([...document.querySelectorAll('.newround [data-path], .newround [data-error-for]')]
    .flatMap((el) => [el.getAttribute('data-path'), el.getAttribute('data-error-for')]).filter(Boolean));
  for (const [raw, msgs] of errors) {
    let path = normalisePath(raw);
    while (path && !known.has(path)) path = path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '';
    if (!path || path === '_schema') { extra.push(...msgs); continue; }
    state.errors.set(path, (state.errors.get(path) || []).concat(msgs));
  }
  return extra;
}

function focusFirstError(root) {
  const el = [...root.querySelectorAll('[data-path]')].find((x) => state.errors.has(x.getAttribute('data-path')));
  if (el) {
    if (el.classList.contains('file-input')) { const lab = root.querySelector('.nr-qr .file-label'); if (lab) lab.scrollIntoView({ block: 'center' }); }
    el.focus();
    return;
  }
  const top = root.querySelector('[data-error-for]:not([hidden])');
  if (top) top.scrollIntoView({ block: 'center' });
}

async function send(root, ctx, submit) {
  clearMessage();
  if (state.uploading) {
    submit.disabled = true;
    submit.textContent = t('nr.waiting_upload');
    try { await state.uploading; } catch (e) { /* its own message */ }
    if (!ctx.isCurrent()) return;
  }
  const found = check();
  state.errors = found;
  if (found.size) {
    draw(root, ctx);
    focusFirstError(root);
    showError(() => t('err.form'), { scroll: false });
    return;
  }
  submit.disabled = true;
  submit.setAttribute('aria-busy', 'true');
  submit.textContent = t('nr.submitting');
  let created;
  try {
    const payload = body();
    created = await staffApi('/api/rounds', {
      method: 'POST', body: payload, timeoutMs: 30000, headers: { 'Idempotency-Key': submitKey(payload) },
    });
  } catch (err) {
    if (!ctx.isCurrent()) return;
    if (err && err.status === 400 && err.fields) {
      const extra = applyErrors(flattenFields(err.fields));
      if (extra.length) state.errors.set('_top', extra);
      draw(root, ctx);
      focusFirstError(root);
      showError(() => staffErrorText(err), { scroll: false });
      return;
    }
    draw(root, ctx);
    const kept = err && (err.status === 0 || err.status === 429 || err.status >= 500);
    showError(() => (kept ? `${staffErrorText(err)} ${t('nr.kept')}` : staffErrorText(err)));
    return;
  }
  const s = staff.get();
  dropDraft(s);
  if (state.qrLocal) URL.revokeObjectURL(state.qrLocal);
  state = null;
  showSuccess(() => t('nr.created', { name: (created && created.name) || '' }));
  if (created && created.round_id) go(`#/staff/rounds/${encodeURIComponent(created.round_id)}`);
  else go(backHref(s));
}
