// #/staff/rounds/<round_id>: one round's console. For its supplier: the round at a glance (status,
// times in Beijing time, money, orders by status), stock per bundle (add stock), closing early, the
// 团购通知 for each community's group chat, packing building by building once the round has closed,
// and every export (pick list, packing list, boxes, labels) built as a background job with progress.
// A liaison or information officer of a served community sees their community's part: the
// announcement, the packing progress and (a liaison) the exports.
import '../strings/roster.js';
import '../strings/payments.js';
import '../strings/supplier.js';
import { t, pick } from '../i18n.js';
import { staffApi } from '../api.js';
import * as staff from '../staff.js';
import { h, clear, showSuccess, clearMessage, copyText } from '../ui.js';
import { money, dateTime, item } from '../format.js';
import { drawLoadError, showStaffError, busy, statusText, confirmBox, notForRole } from './roster.js';
import { totalsBar } from './payments.js';

const VIEWERS = ['supplier', 'liaison', 'info_officer', 'volunteer'];
const STATUSES = ['placed', 'payment_claimed', 'paid', 'packed', 'at_gate', 'picked_up', 'cancelled', 'expired'];
const EXPORTS = [
  { kind: 'picklist', formats: ['xlsx', 'csv'] },
  { kind: 'packing', formats: ['xlsx', 'csv'] },
  { kind: 'boxes', formats: ['xlsx', 'csv'] },
  { kind: 'labels', formats: ['pdf'] },
];
const LAYOUTS = ['a4-2x5', 'a4-3x7', 'a4-4x10', 'roll-60x40'];
const POLL_MS = 1000;
const MAX_POLL_FAILURES = 30;

const rpath = (rid, rest = '') => `/api/rounds/${encodeURIComponent(rid)}${rest}`;

let state = null;
// Export jobs outlive a redraw (and a visit elsewhere): `${rid}|${kind}|${format}` -> job view.
const jobs = new Map();
const prefs = { status: 'paid', layout: 'a4-3x7' };

function fresh(rid, sid) {
  return {
    rid, sid, round: null, ann: null, annError: null,
    stockFor: null,     // bundle_id whose 「加库存」 form is open
    closing: false,     // the 「提前截单」 question is open
    packing: null,      // {community_id, building, packed, not_paid, already_packed, running}
    packResult: null,   // {community_id, building, packed, not_paid, already_packed}
    copied: null,       // community_id whose announcement was just copied (or '!' + id: copy failed)
  };
}

function roundStaff(root) {
  const s = staff.get();
  if (s && VIEWERS.includes(s.role)) return s;
  notForRole(root, s, 'rc.only_roles');
  return null;
}

async function loadRound() {
  state.round = await staffApi(rpath(state.rid));
}

async function loadAnnouncement() {
  try {
    const data = await staffApi(rpath(state.rid, '/announcement'));
    state.ann = Array.isArray(data && data.announcements) ? data.announcements : [];
    state.annError = null;
  } catch (err) {
    state.ann = null;
    state.annError = err;
  }
}

export async function roundConsoleView(root, [rid], ctx) {
  const s = roundStaff(root);
  if (!s) return;
  const sid = `${s.role}.${s.scope_id}`;
  if (ctx.refresh || !state || state.rid !== rid || state.sid !== sid) {
    const keep = state && state.rid === rid && state.sid === sid ? state : null;
    state = fresh(rid, sid);
    if (keep) state.packResult = keep.packResult;
    clear(root);
    root.appendChild(h('p', { class: 'loading' }, t('loading')));
    try {
      await Promise.all([
        loadRound(),
        s.role === 'volunteer' ? null : loadAnnouncement(),
      ]);
    } catch (err) {
      if (!ctx.isCurrent()) return;
      drawLoadError(root, err, ctx, [backLink(s)]);
      return;
    }
    if (!ctx.isCurrent()) return;
  }
  draw(root, ctx);
}

function backLink(s) {
  return s.role === 'supplier'
    ? h('a', { class: 'back', href: '#/staff/rounds', 'data-testid': 'rc-back' }, t('sr.back'))
    : h('a', { class: 'back', href: '#/staff', 'data-testid': 'rc-back' }, `← ${t('console.to_staff')}`);
}

const isSupplier = () => { const s = staff.get(); return !!s && s.role === 'supplier'; };
const isLive = (r) => r && (r.status === 'open' || r.status === 'upcoming');

function draw(root, ctx, focus = null) {
  const s = staff.get();
  state.root = root;
  state.ctx = ctx;
  const r = state.round || {};
  clear(root);
  root.appendChild(h('section', { class: 'console roundconsole', 'aria-labelledby': 'rc-title', 'data-testid': 'rc', 'data-round-id': state.rid, 'data-status': r.status || '' },
    backLink(s),
    h('div', { class: 'rc-head' },
      h('h1', { id: 'rc-title', class: 'page-title', 'data-testid': 'rc-title', tabindex: '-1' }, r.name || state.rid),
      r.status ? h('span', { class: `badge badge-${r.status}`, 'data-testid': 'rc-status', 'data-status': r.status }, t(`rounds.status.${r.status}`)) : null),
    r.closed_early_at ? h('p', { class: 'round-line', 'data-testid': 'rc-closed-early' }, t('rc.closed_early', { time: dateTime(r.closed_early_at) })) : null,
    h('dl', { class: 'facts rc-times', 'data-testid': 'rc-times' },
      h('dt', null, t('rounds.opens_at')), h('dd', { 'data-testid': 'rc-opens' }, dateTime(r.opens_at)),
      h('dt', null, t('rounds.closes_at')), h('dd', { 'data-testid': 'rc-closes' }, dateTime(r.closes_at)),
      h('dt', null, t('rounds.payment_deadline')), h('dd', { 'data-testid': 'rc-deadline' }, dateTime(r.payment_deadline)),
      Array.isArray(r.communities) && r.communities.length
        ? [h('dt', null, t('rc.communities')), h('dd', { 'data-testid': 'rc-communities' }, r.communities.map((c) => c.name).join('、'))]
        : null),
    h('p', { class: 'hint' }, t('rc.beijing_time')),
    moneySection(s),
    bundlesSection(root, ctx),
    s.role === 'volunteer' ? null : announceSection(root, ctx),
    packingSection(root, ctx),
    s.role === 'supplier' || s.role === 'liaison' ? downloadsSection() : null));
  if (focus) {
    const el = root.querySelector(focus);
    if (el) el.focus();
  }
}

// ---- money and orders by status ------------------------------------------------------------------

function moneySection(s) {
  const r = state.round || {};
  const by = r.by_status || {};
  const shown = STATUSES.filter((k) => Number(by[k]) > 0 || ['placed', 'payment_claimed', 'paid', 'packed'].includes(k));
  return h('section', { class: 'block rc-money', 'aria-labelledby': 'rc-money-title' },
    h('h2', { id: 'rc-money-title' }, t('board.totals')),
    totalsBar(r.totals, { testid: 'rc-totals' }),
    h('h3', { class: 'sub-title' }, t('rc.by_status')),
    h('div', { class: 'stats rc-by-status', 'data-testid': 'rc-by-status' }, shown.map((k) => h('div', {
      class: `stat${k === 'paid' || k === 'packed' ? ' stat-good' : ''}`, 'data-testid': `rc-count-${k}`, 'data-count': Number(by[k]) || 0,
    },
    h('span', { class: 'stat-n' }, String(Number(by[k]) || 0)),
    h('span', { class: 'stat-label' }, statusText(k))))),
    s.role === 'supplier'
      ? h('a', { class: 'btn btn-secondary', href: `#/staff/rounds/${encodeURIComponent(state.rid)}/payments`, 'data-testid': 'rc-payments' }, t('rc.to_payments'))
      : null);
}

// ---- bundles and stock, closing early --------------------------------------------------------------

function bundlesSection(root, ctx) {
  const r = state.round || {};
  const bundles = Array.isArray(r.bundles) ? r.bundles : [];
  const can = isSupplier() && isLive(r);
  return h('section', { class: 'block rc-bundles', 'aria-labelledby': 'rc-bundles-title' },
    h('h2', { id: 'rc-bundles-title' }, t('rc.bundles')),
    h('ul', { class: 'rc-bundle-list' }, bundles.map((b) => {
      const total = Number(b.stock_total) || 0;
      const left = Number(b.stock_left) || 0;
      const pct = total > 0 ? Math.round((left * 100) / total) : 0;
      return h('li', { class: 'rc-bundle', 'data-testid': 'rc-bundle', 'data-bundle-id': b.bundle_id },
        h('div', { class: 'rc-bundle-head' },
          h('strong', { class: 'rc-bundle-name' }, b.name),
          h('span', { class: 'price' }, money(b.price_fen))),
        Array.isArray(b.items) && b.items.length ? h('p', { class: 'rc-items' }, b.items.map(item).join('、')) : null,
        h('p', { class: 'rc-stock', 'data-testid': 'rc-stock', 'data-left': left, 'data-total': total },
          t('rc.stock', { left, total })),
        h('span', { class: 'bar', role: 'img', 'aria-label': t('rc.stock', { left, total }) },
          h('span', { class: `bar-fill${left === 0 ? ' bar-empty' : ''}`, style: `width:${pct}%` })),
        Number(b.per_household_limit) > 0 ? h('p', { class: 'hint' }, t('bundle.limit', { n: b.per_household_limit })) : null,
        can ? stockControl(b, root, ctx) : null);
    })),
    can ? closeControl(root, ctx) : null);
}

function stockControl(b, root, ctx) {
  if (state.stockFor !== b.bundle_id) {
    return h('button', {
      type: 'button', class: 'btn btn-secondary btn-sm', 'data-testid': 'rc-stock-add',
      onclick: () => { state.stockFor = b.bundle_id; clearMessage(); draw(root, ctx, `[data-bundle-id="${CSS.escape(b.bundle_id)}"] [data-testid="rc-stock-input"]`); },
    }, t('rc.add_stock'));
  }
  const id = `rc-add-${b.bundle_id}`;
  const input = h('input', { id, type: 'text', inputmode: 'numeric', autocomplete: 'off', 'data-testid': 'rc-stock-input', 'aria-describedby': `${id}-error` });
  const err = h('p', { class: 'field-error', id: `${id}-error`, 'data-testid': 'rc-stock-error', hidden: true });
  const yes = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'rc-stock-save' }, t('rc.add_stock_save'));
  const no = h('button', {
    type: 'button', class: 'btn btn-secondary', 'data-testid': 'rc-stock-cancel',
    onclick: () => { state.stockFor = null; draw(root, ctx, `[data-bundle-id="${CSS.escape(b.bundle_id)}"] [data-testid="rc-stock-add"]`); },
  }, t('console.cancel'));
  const form = h('form', { class: 'rc-stock-form', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: id }, t('rc.add_stock_label', { name: b.name })), input, err),
    h('div', { class: 'two' }, yes, no));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const v = String(input.value || '').trim().replace(/[\uFF10-\uFF19]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xFEE0));
    if (!/^\d{1,6}$/.test(v) || Number(v) < 1 || Number(v) > 100000) {
      err.textContent = t('rc.add_stock_bad');
      err.hidden = false;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    const add = Number(v);
    clearMessage();
    const done = busy(yes);
    no.disabled = true;
    try {
      const r = await staffApi(rpath(state.rid, `/bundles/${encodeURIComponent(b.bundle_id)}/stock`), { method: 'POST', body: { add } });
      if (!ctx.isCurrent()) return;
      if (r && r.round_id) state.round = r; else await loadRound();
    } catch (e) {
      if (!ctx.isCurrent()) return;
      done();
      no.disabled = false;
      if (e && e.fields && e.fields.add) { err.textContent = [].concat(e.fields.add).join(t('list_sep')); err.hidden = false; }
      showStaffError(e);
      if (e && e.code === 'round_closed') { state.stockFor = null; try { await loadRound(); } catch (e2) { /* keep */ } draw(root, ctx); }
      return;
    }
    state.stockFor = null;
    showSuccess(() => t('rc.stock_added', { n: add, name: b.name }), { scroll: false });
    draw(root, ctx, `[data-bundle-id="${CSS.escape(b.bundle_id)}"] [data-testid="rc-stock-add"]`);
  });
  setTimeout(() => { if (input.isConnected) input.focus(); }, 0);
  return form;
}

function closeControl(root, ctx) {
  if (!state.closing) {
    return h('button', {
      type: 'button', class: 'btn btn-danger', 'data-testid': 'rc-close',
      onclick: () => { state.closing = true; clearMessage(); draw(root, ctx); },
    }, t('rc.close_now'));
  }
  return confirmBox({
    testid: 'rc-close-confirm',
    question: t('rc.close_ask', { name: state.round.name || '' }),
    hint: t('rc.close_hint'),
    yes: t('rc.close_yes'),
    no: t('act.back'),
    onNo: () => { state.closing = false; draw(root, ctx, '[data-testid="rc-close"]'); },
    onYes: async () => {
      try {
        const r = await staffApi(rpath(state.rid, '/close'), { method: 'POST', body: {} });
        if (!ctx.isCurrent()) return;
        if (r && r.round_id) state.round = { ...state.round, ...r }; else await loadRound();
        try { await loadRound(); } catch (e) { /* the close's own answer stays */ }
      } catch (e) {
        if (!ctx.isCurrent()) return;
        showStaffError(e);
        if (e && e.code === 'round_closed') { state.closing = false; try { await loadRound(); } catch (e2) { /* keep */ } draw(root, ctx); }
        return;
      }
      if (!ctx.isCurrent()) return;
      state.closing = false;
      showSuccess(() => t('rc.closed_now'), { scroll: false });
      draw(root, ctx, '#rc-title');
    },
  });
}

// ---- 团购通知: one per community, to copy into its group chat --------------------------------------

function announceSection(root, ctx) {
  const list = state.ann;
  const sec = h('section', { class: 'block rc-announce', 'aria-labelledby': 'rc-ann-title', 'data-testid': 'rc-announce' },
    h('h2', { id: 'rc-ann-title' }, t('rc.announce')),
    h('p', { class: 'hint' }, t('rc.announce_hint')));
  if (!list) {
    sec.append(
      h('p', { class: 'msg msg-warn', 'data-testid': 'rc-ann-error' }, state.annError ? t('rc.ann_failed') : t('loading')),
      h('button', {
        type: 'button', class: 'btn btn-secondary', 'data-testid': 'rc-ann-retry',
        onclick: async (ev) => {
          const done = busy(ev.currentTarget, t('loading'));
          await loadAnnouncement();
          if (!ctx.isCurrent()) return;
          done();
          draw(root, ctx, '#rc-ann-title');
        },
      }, t('console.retry')));
    return sec;
  }
  if (!list.length) { sec.appendChild(h('p', { class: 'empty-inline' }, t('st.none'))); return sec; }
  const many = list.length > 1;
  list.forEach((a) => {
    const id = `rc-ann-${a.community_id}`;
    const area = h('textarea', {
      id, class: 'reminder-text rc-ann-text', readonly: true, 'data-testid': 'rc-ann-text',
      rows: String(Math.min(24, Math.max(8, String(a.text || '').split('\n').length + Math.ceil(String(a.text || '').length / 40)))),
    }, a.text || '');
    const status = h('p', { class: 'copy-status', 'aria-live': 'polite', 'data-testid': 'rc-ann-copied' },
      state.copied === a.community_id ? t('rc.copied') : state.copied === `!${a.community_id}` ? t('rc.copy_failed') : '');
    if (state.copied === `!${a.community_id}`) status.classList.add('copy-failed');
    const btn = h('button', { type: 'button', class: 'btn btn-primary btn-big', 'data-testid': 'rc-ann-copy' },
      many ? t('rc.copy_for', { name: a.community_name || '' }) : t('rc.copy'));
    btn.addEventListener('click', async () => {
      const ok = await copyText(a.text || '', area);
      state.copied = ok ? a.community_id : `!${a.community_id}`;
      status.textContent = ok ? t('rc.copied') : t('rc.copy_failed');
      status.classList.toggle('copy-failed', !ok);
      if (!ok) { area.focus(); area.select(); }
    });
    sec.appendChild(h('div', { class: 'reminder rc-ann', 'data-testid': 'rc-ann', 'data-community-id': a.community_id },
      many ? h('h3', null, a.community_name || '') : null,
      btn, status,
      h('label', { for: id, class: 'reminder-label' }, t('rc.ann_label')),
      area));
  });
  return sec;
}

// ---- packing ----------------------------------------------------------------------------------------

function packingSection(root, ctx) {
  const r = state.round || {};
  const comms = Array.isArray(r.communities) ? r.communities : [];
  const closed = r.status === 'closed';
  const can = isSupplier() && closed;
  const running = !!(state.packing && state.packing.running);
  const sec = h('section', { class: 'block rc-packing', 'aria-labelledby': 'rc-pack-title', 'data-testid': 'rc-packing' },
    h('h2', { id: 'rc-pack-title' }, t('rc.packing')),
    h('p', { class: 'hint' }, closed ? t('rc.packing_hint') : t('rc.packing_after_close')));
  if (state.packing) {
    const p = state.packing;
    sec.appendChild(h('div', { class: 'st-progress', role: 'status', 'data-testid': 'rc-pack-progress' },
      h('p', { class: 'st-progress-text' }, t('rc.packing_running', { n: p.packed })),
      h('progress', { class: 'st-progress-bar', 'aria-label': t('rc.packing') })));
  }
  if (state.packResult) {
    const p = state.packResult;
    sec.appendChild(h('div', { class: 'msg msg-success rc-pack-result', 'data-testid': 'rc-pack-result', 'data-packed': p.packed, 'data-not-paid': p.not_paid, tabindex: '-1' },
      h('p', null, t('rc.packed_n', { n: p.packed, where: p.where })),
      p.already_packed ? h('p', null, t('rc.already_packed_n', { n: p.already_packed })) : null,
      h('p', { 'data-testid': 'rc-pack-not-paid' }, p.not_paid ? t('rc.not_paid_n', { n: p.not_paid }) : t('rc.not_paid_none'))));
  }
  comms.forEach((c) => {
    const blds = Array.isArray(c.buildings) ? c.buildings : [];
    const sum = blds.reduce((a, b) => ({
      unpaid: a.unpaid + (Number(b.unpaid) || 0), paid: a.paid + (Number(b.paid) || 0), packed: a.packed + (Number(b.packed) || 0),
    }), { unpaid: 0, paid: 0, packed: 0 });
    sec.appendChild(h('div', { class: 'rc-pack-community', 'data-testid': 'rc-pack-community', 'data-community-id': c.community_id },
      h('h3', null, c.name || c.community_id),
      h('p', { class: 'rc-pack-sum' }, t('rc.pack_counts', { packed: sum.packed, paid: sum.paid, unpaid: sum.unpaid })),
      can ? h('button', {
        type: 'button', class: 'btn btn-primary', 'data-testid': 'rc-pack-all', disabled: running || sum.paid === 0,
        onclick: (ev) => pack(root, ctx, ev.currentTarget, c, null),
      }, t('rc.pack_all')) : null,
      blds.length
        ? h('ul', { class: 'rc-bldgs' }, blds.map((b) => {
          const paid = Number(b.paid) || 0;
          const packed = Number(b.packed) || 0;
          const unpaid = Number(b.unpaid) || 0;
          const base = paid + packed;
          const pct = base > 0 ? Math.round((packed * 100) / base) : 0;
          return h('li', { class: 'rc-bldg', 'data-testid': 'rc-bldg', 'data-building': b.building, 'data-packed': packed, 'data-paid': paid, 'data-unpaid': unpaid },
            h('div', { class: 'rc-bldg-row' },
              h('span', { class: 'bldg-name' }, b.building),
              h('span', { class: 'bar', role: 'img', 'aria-label': t('rc.bldg_bar', { packed, total: base }) },
                h('span', { class: 'bar-fill', style: `width:${pct}%` })),
              h('span', { class: 'bldg-n' }, `${packed}/${base}`)),
            h('p', { class: 'rc-bldg-counts' }, t('rc.pack_counts', { packed, paid, unpaid })),
            can && paid > 0 ? h('button', {
              type: 'button', class: 'btn btn-secondary btn-sm', 'data-testid': 'rc-pack-building', disabled: running,
              onclick: (ev) => pack(root, ctx, ev.currentTarget, c, b.building),
            }, t('rc.pack_building', { building: b.building })) : null);
        }))
        : h('p', { class: 'empty-inline' }, t('rc.no_orders'))));
  });
  return sec;
}

/** POST …/packed for a community (or one building), again while next_cursor, with a running count. */
async function pack(root, ctx, btn, c, building) {
  clearMessage();
  state.packResult = null;
  state.packing = { packed: 0, not_paid: 0, already_packed: 0, running: true };
  busy(btn, t('rc.packing_short'));
  draw(root, ctx, '[data-testid="rc-pack-progress"]');
  const where = building ? `${c.name || ''} ${building}`.trim() : (c.name || '');
  let cursor = null;
  try {
    do {
      const body = { community_id: c.community_id };
      if (building) body.building = building;
      if (cursor) body.cursor = cursor;
      const res = await staffApi(rpath(state.rid, '/packed'), { method: 'POST', body, timeoutMs: 30000 });
      state.packing.packed += Number(res && res.packed) || 0;
      state.packing.not_paid = Number(res && res.not_paid) || state.packing.not_paid;
      state.packing.already_packed += Number(res && res.already_packed) || 0;
      cursor = (res && res.next_cursor) || null;
      if (ctx.isCurrent()) {
        const text = root.querySelector('[data-testid="rc-pack-progress"] .st-progress-text');
        if (text) text.textContent = t('rc.packing_running', { n: state.packing.packed });
      }
    } while (cursor);
  } catch (err) {
    const p = state.packing;
    state.packing = null;
    if (p.packed) state.packResult = { ...p, where };
    try { await loadRound(); } catch (e) { /* keep */ }
    if (!ctx.isCurrent()) return;
    showStaffError(err);
    draw(root, ctx);
    return;
  }
  const p = state.packing;
  state.packing = null;
  state.packResult = { packed: p.packed, not_paid: p.not_paid, already_packed: p.already_packed, where };
  try { await loadRound(); } catch (e) { /* the counts refresh on the next visit */ }
  if (!ctx.isCurrent()) return;
  draw(root, ctx, '[data-testid="rc-pack-result"]');
}

// ---- downloads: every export through a background job ----------------------------------------------

const jobKey = (kind, format) => `${state.rid}|${kind}|${format}`;

function downloadsSection() {
  const radio = (value) => h('label', { class: 'tile' },
    h('input', {
      type: 'radio', name: 'rc-dl-status', value, checked: prefs.status === value, 'data-testid': `dl-status-${value}`,
      onchange: () => { prefs.status = value; },
    }),
    h('span', null, t(`dl.status_${value}`)));
  const layout = h('select', { id: 'rc-dl-layout', 'data-testid': 'dl-layout' },
    LAYOUTS.map((l) => h('option', { value: l }, t(`dl.layout.${l}`))));
  layout.value = prefs.layout;
  layout.addEventListener('change', () => { prefs.layout = layout.value; });

  return h('section', { class: 'block rc-downloads', 'aria-labelledby': 'rc-dl-title', 'data-testid': 'rc-downloads' },
    h('h2', { id: 'rc-dl-title' }, t('dl.title')),
    h('p', { class: 'hint' }, t('dl.hint')),
    h('fieldset', { class: 'tiles tiles-stack' },
      h('legend', null, t('dl.status')),
      h('div', { class: 'tiles-row' }, radio('paid'), radio('all_live'))),
    EXPORTS.map(({ kind, formats }) => h('div', { class: 'dl-kind', 'data-testid': `dl-${kind}` },
      h('h3', null, t(`dl.kind.${kind}`)),
      h('p', { class: 'hint' }, t(`dl.kind_hint.${kind}`)),
      kind === 'labels'
        ? h('div', { class: 'field' }, h('label', { for: 'rc-dl-layout' }, t('dl.layout')), layout)
        : null,
      h('div', { class: 'dl-buttons' }, formats.map((format) => jobButton(kind, format))),
      formats.map((format) => jobLine(kind, format)))));
}

function jobButton(kind, format) {
  const j = jobs.get(jobKey(kind, format));
  const running = !!(j && (j.state === 'starting' || j.state === 'queued' || j.state === 'running'));
  return h('button', {
    type: 'button', class: 'btn btn-secondary dl-btn', 'data-testid': `dl-${kind}-${format}`, disabled: running,
    'aria-label': `${t(`dl.kind.${kind}`)} ${t(`dl.format.${format}`)}`,
    'aria-busy': running ? 'true' : null,
    onclick: () => startJob(kind, format),
  }, t(`dl.format.${format}`));
}

/** The job's line: state, a <progress> with done/total, the link once done, the error if failed. */
function jobLine(kind, format) {
  const key = jobKey(kind, format);
  const j = jobs.get(key);
  const line = h('div', { class: 'dl-job', 'data-testid': `dl-${kind}-${format}-job`, 'data-job-key': key, 'data-state': j ? j.state : 'none', hidden: !j });
  if (!j) return line;
  const total = Number(j.total) || 0;
  const done = Number(j.done) || 0;
  const label = `${t(`dl.kind.${kind}`)} ${t(`dl.format.${format}`)}`;
  if (j.state === 'failed') {
    line.classList.add('dl-failed');
    line.append(h('p', { class: 'field-error', 'data-testid': 'dl-job-error' }, t('dl.failed', { what: label, message: j.message || t('err.unknown') })));
    return line;
  }
  let text;
  if (j.state === 'done') text = t('dl.done', { what: label });
  else if (j.state === 'starting' || j.state === 'queued') text = t('dl.queued', { what: label });
  else text = total ? t('dl.running_n', { what: label, done, total }) : t('dl.running', { what: label });
  line.append(
    h('p', { class: 'dl-job-text', role: 'status', 'data-testid': 'dl-job-text' }, text, j.offline ? ` ${t('dl.retrying')}` : ''),
    j.state === 'done'
      ? null
      : h('progress', total ? { class: 'st-progress-bar', max: String(total), value: String(Math.min(done, total)), 'data-testid': 'dl-job-progress' }
        : { class: 'st-progress-bar', 'data-testid': 'dl-job-progress' }));
  if (j.state === 'done' && j.url) {
    const a = h('a', { class: 'dl-again', href: j.url, rel: 'noopener', 'data-testid': 'dl-job-link' }, t('dl.again', { name: j.filename || label }));
    // The link lives 15 minutes: past that, ask the job for a fresh one first.
    a.addEventListener('click', async (ev) => {
      if (!j.url_expires_at || Date.parse(j.url_expires_at) > Date.now() + 5000) return;
      ev.preventDefault();
      try {
        Object.assign(j, await staffApi(`/api/export-jobs/${encodeURIComponent(j.job_id)}`));
      } catch (err) {
        showStaffError(err);
        return;
      }
      if (j.url) download(j.url);
    });
    line.appendChild(a);
  }
  return line;
}

/** True while this round's console is the page shown (after a language switch too: a new ctx). */
function showing(rid) {
  return !!(state && state.rid === rid && state.ctx && state.ctx.isCurrent());
}

/** Redraw one job's line and button in place (polling must not move the page or the focus). */
function paintJob(rid, kind, format) {
  if (!showing(rid)) return;
  const root = state.root;
  const key = jobKey(kind, format);
  const old = root.querySelector(`[data-job-key="${CSS.escape(key)}"]`);
  if (old) old.replaceWith(jobLine(kind, format));
  const btn = root.querySelector(`[data-testid="dl-${kind}-${format}"]`);
  if (btn) {
    const had = document.activeElement === btn;
    const next = jobButton(kind, format);
    btn.replaceWith(next);
    if (had) next.focus();
  }
}

/** Start the download of a finished job: a temporary link (the file is on S3, another origin). */
function download(url) {
  const a = h('a', { href: url, rel: 'noopener', style: 'display:none' });
  document.body.appendChild(a);
  a.click();
  a.remove();
}

async function startJob(kind, format) {
  clearMessage();
  const key = jobKey(kind, format);
  const rid = state.rid;
  const j = { state: 'starting', done: 0, total: 0 };
  jobs.set(key, j);
  paintJob(rid, kind, format);
  const body = { format, status: prefs.status };
  if (kind === 'labels') body.layout = prefs.layout;
  let job;
  try {
    job = await staffApi(rpath(rid, `/exports/${encodeURIComponent(kind)}/jobs`), { method: 'POST', body });
  } catch (err) {
    j.state = 'failed';
    j.message = err && err.status === 0 ? t('err.network') : pick(err && err.message, err && err.message_en) || t('err.unknown');
    paintJob(rid, kind, format);
    return;
  }
  Object.assign(j, job || {});
  paintJob(rid, kind, format);
  let failures = 0;
  while (j.state !== 'done' && j.state !== 'failed') {
    await new Promise((r) => { setTimeout(r, POLL_MS); });
    if (jobs.get(key) !== j) return; // started again meanwhile
    try {
      const next = await staffApi(`/api/export-jobs/${encodeURIComponent(j.job_id)}`);
      Object.assign(j, next || {});
      j.offline = false;
      failures = 0;
    } catch (err) {
      failures += 1;
      if (err && err.status === 404) { j.state = 'failed'; j.message = pick(err.message, err.message_en) || t('err.not_found'); }
      else if (failures >= MAX_POLL_FAILURES) { j.state = 'failed'; j.message = t('err.network'); }
      else j.offline = true;
    }
    if (j.state === 'failed' && j.error) j.message = pick(j.error.message, j.error.message_en) || j.error.code || t('err.unknown');
    paintJob(rid, kind, format);
  }
  if (j.state === 'done' && j.url && showing(rid)) download(j.url);
}
