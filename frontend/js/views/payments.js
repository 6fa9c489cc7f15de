// The supplier's payments: #/staff/rounds (their rounds, each with its money totals) and
// #/staff/rounds/<round_id>/payments (the board: totals as one stacked bar, orders by status,
// confirm / undo / reject / cancel / refunded, and a wallet statement checked against the orders).
// Nothing a statement suggests is confirmed before the supplier taps 「确认这 N 笔」.
import '../strings/roster.js';
import '../strings/payments.js';
import '../strings/supplier.js';
import { t, pick } from '../i18n.js';
import { staffApi } from '../api.js';
import * as staff from '../staff.js';
import { h, clear, showError, showSuccess, clearMessage } from '../ui.js';
import { money, dateTime } from '../format.js';
import { drawLoadError, showStaffError, busy, statusText, notForRole } from './roster.js';

const TABS = ['payment_claimed', 'placed', 'paid', 'expired', 'cancelled'];
// The totals' buckets, in the order of the bar; each is disjoint, together they make `ordered`.
const BUCKETS = ['open', 'claimed', 'paid', 'expired', 'cancelled', 'refund_due', 'refunded'];
const ALWAYS = ['open', 'claimed', 'paid']; // legend rows shown even at zero
const TAB_BUCKETS = {
  placed: ['open'], payment_claimed: ['claimed'], paid: ['paid'], expired: ['expired'],
  cancelled: ['cancelled', 'refund_due', 'refunded'],
};
const MAX_STATEMENT = 4 * 1024 * 1024; // api/statements.py MAX_BYTES

const rpath = (rid, rest = '') => `/api/rounds/${encodeURIComponent(rid)}${rest}`;

/** The signed-in supplier, or null after drawing a "not for your role" page. */
export function supplierStaff(root) {
  const s = staff.get();
  if (s && s.role === 'supplier') return s;
  notForRole(root, s, 'sr.only_supplier');
  return null;
}

function tot(totals, key) {
  const b = (totals && totals[key]) || {};
  return { count: Number(b.count) || 0, fen: Number(b.fen) || 0 };
}

/** The round's totals as one stacked bar (share of orders), with a legend of counts and amounts. */
export function totalsBar(totals, { legend = true, testid = 'pay-totals' } = {}) {
  const parts = BUCKETS.map((k) => ({ k, ...tot(totals, k) }));
  const all = tot(totals, 'ordered');
  const sum = parts.reduce((a, p) => a + p.count, 0) || 1;
  const bar = h('div', {
    class: 'paybar', role: 'img', 'data-testid': `${testid}-bar`,
    'aria-label': `${t('board.bar_label')}: ${parts.filter((p) => p.count).map((p) => `${t(`tot.${p.k}`)} ${p.count}`).join(t('list_sep'))}`,
  }, parts.filter((p) => p.count > 0).map((p) => h('span', {
    class: `paybar-seg seg-${p.k}`, style: `flex-grow:${p.count};flex-basis:${(p.count * 100) / sum}%`,
    'data-bucket': p.k,
  })));
  if (!legend) return bar;
  return h('div', { class: 'paytotals', 'data-testid': testid },
    h('p', { class: 'paytotals-all', 'data-testid': `${testid}-ordered`, 'data-count': all.count, 'data-fen': all.fen },
      t('board.ordered', { n: all.count, amount: money(all.fen) })),
    bar,
    h('ul', { class: 'paylegend' }, parts.filter((p) => p.count > 0 || ALWAYS.includes(p.k)).map((p) => h('li', {
      class: `paylegend-row${p.count ? '' : ' is-zero'}`, 'data-testid': `${testid}-${p.k}`, 'data-count': p.count, 'data-fen': p.fen,
    },
    h('span', { class: `swatch seg-${p.k}`, 'aria-hidden': 'true' }),
    h('span', { class: 'paylegend-label' }, t(`tot.${p.k}`)),
    h('span', { class: 'paylegend-n' }, t('tot.count', { n: p.count })),
    h('span', { class: 'paylegend-fen' }, money(p.fen))))));
}

// ======================================================================
// #/staff/rounds
// ======================================================================

let roundsCache = null; // {sid, rounds}

async function loadRounds(s) {
  const data = await staffApi('/api/suppliers/mine/rounds');
  roundsCache = { sid: s.scope_id, rounds: Array.isArray(data && data.rounds) ? data.rounds : [] };
  return roundsCache.rounds;
}

export async function supplierRoundsView(root, params, ctx) {
  const s = supplierStaff(root);
  if (!s) return;
  if (ctx.refresh || !roundsCache || roundsCache.sid !== s.scope_id) {
    clear(root);
    root.appendChild(h('p', { class: 'loading' }, t('loading')));
    try {
      await loadRounds(s);
    } catch (err) {
      if (!ctx.isCurrent()) return;
      drawLoadError(root, err, ctx, [h('a', { class: 'back', href: '#/staff' }, `← ${t('console.to_staff')}`)]);
      return;
    }
    if (!ctx.isCurrent()) return;
  }
  const rounds = roundsCache.rounds;
  clear(root);
  root.appendChild(h('section', { class: 'console payrounds', 'aria-labelledby': 'sr-title' },
    h('a', { class: 'back', href: '#/staff', 'data-testid': 'sr-back' }, `← ${t('console.to_staff')}`),
    h('h1', { id: 'sr-title', class: 'page-title', 'data-testid': 'sr-title' }, t('sd.my_rounds')),
    h('a', { class: 'btn btn-primary btn-big sr-new', href: '#/staff/rounds/new', 'data-testid': 'sr-new' }, t('sr.new')),
    rounds.length
      ? h('ul', { class: 'sr-list' }, rounds.map((r) => {
        const all = tot(r.totals, 'ordered');
        const paid = tot(r.totals, 'paid');
        const n = Array.isArray(r.community_ids) ? r.community_ids.length : 0;
        return h('li', null, h('a', {
          class: 'sr-round', href: `#/staff/rounds/${encodeURIComponent(r.round_id)}`,
          'data-testid': 'sr-round', 'data-round-id': r.round_id,
        },
        h('span', { class: 'sr-head' },
          h('span', { class: 'sr-name' }, r.name || r.round_id),
          r.status ? h('span', { class: `badge badge-${r.status}` }, t(`rounds.status.${r.status}`)) : null),
        h('span', { class: 'sr-meta' },
          r.payment_deadline ? t('sr.deadline', { time: dateTime(r.payment_deadline) }) : '',
          n > 1 ? ` · ${t('sr.communities', { n })}` : ''),
        totalsBar(r.totals, { legend: false, testid: 'sr-totals' }),
        byStatusLine(r.by_status),
        h('span', { class: 'sr-sum' },
          h('span', null, t('sr.paid_of', { paid: paid.count, ordered: all.count })),
          h('strong', null, `${money(paid.fen)} / ${money(all.fen)}`)),
        h('span', { class: 'flat-go', 'aria-hidden': 'true' }, '›')));
      }))
      : h('p', { class: 'empty', 'data-testid': 'sr-none' }, t('sr.none'))));
}

const LIST_STATUSES = ['placed', 'payment_claimed', 'paid', 'packed', 'at_gate', 'picked_up', 'cancelled', 'expired'];

/** The round's orders by status, in one line: only the statuses it has. */
function byStatusLine(by) {
  if (!by || typeof by !== 'object') return null;
  const parts = LIST_STATUSES.filter((k) => Number(by[k]) > 0);
  return h('span', { class: 'sr-by-status', 'data-testid': 'sr-by-status' },
    parts.length
      ? parts.map((k) => h('span', { class: 'sr-status-n', 'data-status': k, 'data-count': Number(by[k]) }, `${statusText(k)} ${Number(by[k])}`))
      : t('rc.no_orders'));
}

// ======================================================================
// #/staff/rounds/<round_id>/payments
// ======================================================================

let board = null;

function freshBoard(rid) {
  return {
    rid,
    round: null,
    totals: null,
    tab: 'payment_claimed',
    orders: [],
    next: null,
    loadingMore: false,
    selected: new Set(),
    changed: new Set(),   // rows acted on since the list was loaded (they stay, with their new state)
    act: null,            // {order_id, kind: 'undo'|'reject'|'cancel'|'refunded'} the open in-page question
    reason: '',
    refused: [],          // [{order_id, label, message}] from the last confirmation
    upload: null,         // null | {name, state: 'sending'|'done', data, keep: Set(line), choice: Map(line -> order_id)}
  };
}

function flatOf(o) {
  return (o && (o.flat_label || [o.building, o.unit, o.room].filter(Boolean).join(' '))) || '';
}

function isMulti() {
  const r = board.round;
  if (r && Array.isArray(r.community_ids)) return r.community_ids.length > 1;
  return new Set(board.orders.map((o) => o.community_id)).size > 1;
}

async function loadList(more = false) {
  const q = new URLSearchParams({ status: board.tab });
  if (more && board.next) q.set('cursor', board.next);
  const data = await staffApi(rpath(board.rid, `/orders?${q}`));
  const orders = Array.isArray(data && data.orders) ? data.orders : [];
  if (more) {
    const have = new Set(board.orders.map((o) => o.order_id));
    board.orders = board.orders.concat(orders.filter((o) => !have.has(o.order_id)));
  } else {
    board.orders = orders;
    board.selected.clear();
    board.changed.clear();
    board.act = null;
  }
  board.next = (data && data.next_cursor) || null;
  if (data && data.totals) board.totals = data.totals;
}

/** Put the server's copy of an order into the list (and the statement preview's lists). */
function takeOrder(o) {
  if (!o || !o.order_id) return;
  board.orders = board.orders.map((x) => (x.order_id === o.order_id ? o : x));
  board.changed.add(o.order_id);
  board.selected.delete(o.order_id);
}

export async function paymentsBoardView(root, [rid], ctx) {
  const s = supplierStaff(root);
  if (!s) return;
  if (ctx.refresh || !board || board.rid !== rid) {
    const keepTab = board && board.rid === rid ? board.tab : null;
    board = freshBoard(rid);
    if (keepTab) board.tab = keepTab;
    clear(root);
    root.appendChild(h('p', { class: 'loading' }, t('loading')));
    try {
      const [rounds] = await Promise.all([
        roundsCache && roundsCache.sid === s.scope_id ? roundsCache.rounds : loadRounds(s),
        loadList(),
      ]);
      board.round = rounds.find((r) => r.round_id === rid) || null;
    } catch (err) {
      if (!ctx.isCurrent()) return;
      drawLoadError(root, err, ctx, [h('a', { class: 'back', href: '#/staff/rounds' }, t('sr.back'))]);
      return;
    }
    if (!ctx.isCurrent()) return;
  }
  drawBoard(root, ctx);
}

/** Totals after a change: the supplier's rounds carry them (one call), the list stays as it is. */
async function refreshTotals(s) {
  try {
    const rounds = await loadRounds(s);
    const r = rounds.find((x) => x.round_id === board.rid);
    if (r) { board.round = r; if (r.totals) board.totals = r.totals; }
  } catch (e) { /* the old totals stay until the next load */ }
}

function drawBoard(root, ctx, focusTestid = null) {
  const r = board.round;
  clear(root);
  root.appendChild(h('section', { class: 'console payboard', 'aria-labelledby': 'pb-title' },
    h('a', { class: 'back', href: '#/staff/rounds', 'data-testid': 'pb-back' }, t('sr.back')),
    h('h1', { id: 'pb-title', class: 'page-title', 'data-testid': 'pb-title' }, t('board.title')),
    h('p', { class: 'community-line', 'data-testid': 'pb-round' }, (r && r.name) || ''),
    r && r.payment_deadline ? h('p', { class: 'round-line' }, t('sr.deadline', { time: dateTime(r.payment_deadline) })) : null,
    h('h2', { class: 'sub-title' }, t('board.totals')),
    totalsBar(board.totals),
    statementSection(root, ctx),
    listSection(root, ctx)));
  if (focusTestid) {
    const el = root.querySelector(`[data-testid="${focusTestid}"]`);
    if (el) el.focus();
  }
}

// ---- the list: tabs, rows, actions ------------------------------------------

function tabCount(tab) {
  return TAB_BUCKETS[tab].reduce((a, k) => a + tot(board.totals, k).count, 0);
}

function listSection(root, ctx) {
  const redraw = (focus) => drawBoard(root, ctx, focus);
  const tabs = h('div', { class: 'paytabs', role: 'group', 'aria-label': t('board.tabs') }, TABS.map((tab) => h('button', {
    type: 'button', class: 'paytab', 'data-testid': `pb-tab-${tab}`, 'aria-pressed': board.tab === tab ? 'true' : 'false',
    onclick: async (ev) => {
      if (board.tab === tab) return;
      board.tab = tab;
      board.refused = [];
      clearMessage();
      const btn = ev.currentTarget;
      btn.setAttribute('aria-busy', 'true');
      try {
        await loadList();
      } catch (err) {
        if (ctx.isCurrent()) showStaffError(err);
      }
      if (ctx.isCurrent()) redraw(`pb-tab-${tab}`);
    },
  },
  h('span', { class: 'paytab-label' }, t(`tab.${tab}`)),
  h('span', { class: 'paytab-n' }, String(tabCount(tab))))));

  const selectable = (o) => ['placed', 'payment_claimed'].includes(o.status);
  const rows = board.orders;
  const canSelect = rows.some(selectable);
  const n = [...board.selected].length;
  const confirmSel = h('button', {
    type: 'button', class: 'btn btn-primary', 'data-testid': 'pb-confirm-selected', disabled: n === 0,
  }, n ? t('board.confirm_selected', { n }) : t('board.confirm_none'));
  confirmSel.addEventListener('click', async () => {
    const ids = [...board.selected];
    if (!ids.length) return;
    clearMessage();
    const done = busy(confirmSel);
    const ok = await confirmOrders(ids, {});
    if (!ctx.isCurrent()) return;
    if (!ok) { done(); return; }
    redraw('pb-result');
  });

  let selectAll = null;
  if (canSelect) {
    const ids = rows.filter(selectable).map((o) => o.order_id);
    selectAll = h('label', { class: 'switch pb-select-all' },
      h('input', {
        type: 'checkbox', 'data-testid': 'pb-select-all', checked: ids.length > 0 && ids.every((id) => board.selected.has(id)),
        onchange: (ev) => {
          if (ev.target.checked) ids.forEach((id) => board.selected.add(id)); else board.selected.clear();
          redraw('pb-select-all');
        },
      }),
      h('span', null, t('board.select_all')));
  }

  const more = board.next
    ? h('button', {
      type: 'button', class: 'btn btn-secondary', 'data-testid': 'pb-more', disabled: board.loadingMore,
      onclick: async () => {
        board.loadingMore = true;
        redraw('pb-more');
        try {
          await loadList(true);
        } catch (err) {
          if (ctx.isCurrent()) showStaffError(err);
        }
        board.loadingMore = false;
        if (ctx.isCurrent()) redraw('pb-more');
      },
    }, board.loadingMore ? t('board.loading_more') : t('board.more'))
    : null;

  return h('section', { class: 'block', 'aria-labelledby': 'pb-list-title' },
    h('h2', { id: 'pb-list-title' }, t('board.list')),
    tabs,
    resultBox(),
    selectAll,
    rows.length
      ? h('ul', { class: 'payrows', 'data-testid': 'pb-rows' }, rows.map((o) => orderRow(o, root, ctx, selectable(o))))
      : h('p', { class: 'empty', 'data-testid': 'pb-empty' }, t('board.empty')),
    more,
    // Sticky at the bottom only while something is ticked and no statement preview has its own bar.
    canSelect ? h('div', { class: `pb-bar${n && !board.upload ? ' pb-bar-sticky' : ''}` }, confirmSel) : null);
}

/** What the last confirmation refused, with the server's reasons. */
function resultBox() {
  if (!board.refused.length) return null;
  return h('div', { class: 'msg msg-warn pb-result', tabindex: '-1', 'data-testid': 'pb-refused' },
    h('p', null, t('res.refused', { n: board.refused.length })),
    h('ul', null, board.refused.map((x) => h('li', { 'data-testid': 'pb-refused-row', 'data-order-id': x.order_id, 'data-code': x.code },
      x.label ? h('strong', null, `${x.label}：`) : null, x.message))));
}

function labelOf(orderId) {
  const pools = [board.orders];
  const u = board.upload && board.upload.data;
  if (u) {
    pools.push((u.matched || []).map((m) => m.order));
    (u.ambiguous || []).forEach((a) => pools.push(a.candidates || []));
    pools.push(u.orders_without_payment || []);
  }
  for (const p of pools) {
    const o = (p || []).find((x) => x && x.order_id === orderId);
    if (o) return flatOf(o);
  }
  return '';
}

/** POST …/payments/confirm; returns false when the request itself failed (message shown). */
async function confirmOrders(ids, transactions) {
  const body = { order_ids: ids };
  if (transactions && Object.keys(transactions).length) body.transactions = transactions;
  let res;
  try {
    res = await staffApi(rpath(board.rid, '/payments/confirm'), { method: 'POST', body });
  } catch (err) {
    showStaffError(err);
    return false;
  }
  const confirmed = Array.isArray(res && res.confirmed) ? res.confirmed : [];
  const refused = Array.isArray(res && res.refused) ? res.refused : [];
  confirmed.forEach(takeOrder);
  board.refused = refused.map((x) => ({
    order_id: x.order_id, code: x.code, label: labelOf(x.order_id),
    message: pick(x.message, x.message_en) || x.code,
  }));
  if (confirmed.length) showSuccess(() => t('res.confirmed', { n: confirmed.length }), { scroll: false });
  else if (refused.length) showError(() => t('res.refused', { n: refused.length }), { scroll: false });
  await refreshTotals(staff.get());
  return true;
}

function orderRow(o, root, ctx, selectable) {
  const redraw = (focus) => drawBoard(root, ctx, focus);
  const id = o.order_id;
  const p = o.payment || {};
  const flat = flatOf(o);
  const rowTid = (x) => `pb-${x}-${id}`;
  const check = selectable
    ? h('input', {
      type: 'checkbox', class: 'row-check', 'data-testid': 'pb-row-check', 'aria-label': t('row.select', { flat }),
      checked: board.selected.has(id),
      onchange: (ev) => { if (ev.target.checked) board.selected.add(id); else board.selected.delete(id); redraw(); setTimeout(() => focusRow(root, id, 'pb-row-check'), 0); },
    })
    : null;

  const open = (kind) => () => { board.act = { order_id: id, kind }; board.reason = ''; clearMessage(); redraw(); focusRow(root, id, 'pb-reason'); };
  const actions = [];
  const btn = (tid, label, onclick, cls = 'btn-secondary') => h('button', {
    type: 'button', class: `btn ${cls} btn-sm`, 'data-testid': tid, onclick,
  }, label);
  if (['placed', 'payment_claimed'].includes(o.status)) {
    actions.push(btn('pb-row-confirm', t('act.confirm'), async (ev) => {
      clearMessage();
      const done = busy(ev.currentTarget);
      const ok = await confirmOrders([id], {});
      if (!ctx.isCurrent()) return;
      if (!ok) { done(); return; }
      redraw();
      focusRow(root, id, 'pb-row-status');
    }, 'btn-primary'));
  }
  if (o.status === 'payment_claimed') actions.push(btn('pb-row-reject', t('act.reject'), open('reject'), 'btn-danger'));
  if (o.status === 'paid') actions.push(btn('pb-row-undo', t('act.undo'), open('undo')));
  if (['placed', 'payment_claimed', 'paid'].includes(o.status)) actions.push(btn('pb-row-cancel', t('act.cancel'), open('cancel'), 'btn-danger'));
  if (o.status === 'cancelled' && p.refund === 'due') actions.push(btn('pb-row-refunded', t('act.refunded'), open('refunded'), 'btn-primary'));

  const asking = board.act && board.act.order_id === id ? actBox(o, root, ctx) : null;
  const refundTag = o.status === 'cancelled' && p.refund
    ? h('span', { class: `tag ${p.refund === 'due' ? 'tag-warn' : 'tag-assisted'}`, 'data-testid': 'pb-row-refund', 'data-refund': p.refund },
      p.refund === 'due' ? t('row.refund_due') : t('row.refunded'))
    : null;

  return h('li', {
    class: `payrow status-row-${o.status}${board.changed.has(id) ? ' payrow-changed' : ''}`,
    'data-testid': 'pb-row', 'data-order-id': id, 'data-status': o.status, id: rowTid('row'),
  },
  h('div', { class: 'payrow-main' },
    check ? h('label', { class: 'row-check-wrap' }, check) : null,
    h('div', { class: 'payrow-body' },
      h('div', { class: 'flat-head' },
        h('span', { class: 'flat-label', 'data-testid': 'pb-row-flat' }, flat),
        h('strong', { class: 'payrow-amount', 'data-testid': 'pb-row-amount' }, money(o.total_fen))),
      isMulti() && o.community_name ? h('p', { class: 'payrow-community', 'data-testid': 'pb-row-community' }, o.community_name) : null,
      h('p', { class: 'payrow-tags' },
        h('span', { class: `badge status-${o.status}`, 'data-testid': 'pb-row-status', tabindex: '-1' }, statusText(o.status)),
        refundTag,
        o.assisted ? h('span', { class: 'tag tag-assisted' }, t('row.assisted')) : null,
        board.changed.has(id) ? h('span', { class: 'tag tag-changed' }, t('board.changed')) : null),
      o.status === 'payment_claimed' || p.claimed_at
        ? h('p', { class: 'payrow-claim', 'data-testid': 'pb-row-claim' },
          p.reference ? t('row.ref', { ref: p.reference }) : t('row.no_ref'),
          p.claimed_at ? ` · ${t('row.claimed_at', { time: dateTime(p.claimed_at) })}` : '')
        : null,
      p.confirmed_at && o.status !== 'cancelled' ? h('p', { class: 'hint' }, t('row.confirmed_at', { time: dateTime(p.confirmed_at) })) : null,
      o.payment_note ? h('p', { class: 'hint payrow-note' }, t('row.note', { note: o.payment_note })) : null,
      o.phone_masked ? h('p', { class: 'phone', 'data-testid': 'pb-row-phone' }, o.phone_masked) : null,
      p.reason ? h('p', { class: 'hint', 'data-testid': 'pb-row-reason' }, reasonOf(p.reason)) : null)),
  asking || (actions.length ? h('div', { class: 'payrow-actions' }, actions) : null));
}

function reasonOf(r) {
  if (!r) return '';
  if (typeof r === 'string') return r;
  return pick(r.message, r.message_en);
}

function focusRow(root, id, testid) {
  const row = root.querySelector(`[data-testid="pb-row"][data-order-id="${CSS.escape(id)}"]`);
  const el = row && row.querySelector(`[data-testid="${testid}"]`);
  if (el) el.focus();
}

/** The in-page question of one row: a reason (undo, reject, cancel) or a yes/no (refunded). */
function actBox(o, root, ctx) {
  const { kind } = board.act;
  const flat = flatOf(o);
  const amount = money(o.total_fen);
  const close = () => { board.act = null; drawBoard(root, ctx); focusRow(root, o.order_id, `pb-row-${kind}`); };
  const spec = {
    undo: { q: t('act.undo_ask', { flat }), hint: t('act.undo_hint'), yes: t('act.undo_yes'), path: rpath(board.rid, '/payments/undo'), done: 'res.undone' },
    reject: { q: t('act.reject_ask', { flat }), hint: t('act.reject_hint'), yes: t('act.reject_yes'), path: rpath(board.rid, '/payments/reject'), done: 'res.rejected' },
    cancel: {
      q: t('act.cancel_ask', { flat }),
      hint: o.status === 'paid' ? t('act.cancel_hint_paid', { amount }) : t('act.cancel_hint'),
      yes: t('act.cancel_yes'), path: rpath(board.rid, `/orders/${encodeURIComponent(o.order_id)}/cancel`), done: 'res.cancelled',
    },
    refunded: { q: t('act.refunded_ask', { amount, flat }), hint: null, yes: t('act.refunded_yes'), path: rpath(board.rid, `/orders/${encodeURIComponent(o.order_id)}/refunded`), done: 'res.refunded' },
  }[kind];
  const withReason = kind !== 'refunded';
  const qid = `pb-q-${o.order_id}`;
  const reason = withReason
    ? h('textarea', {
      id: `${qid}-reason`, rows: '2', maxlength: '200', 'data-testid': 'pb-reason', 'aria-describedby': `${qid}-err`,
    }, board.reason)
    : null;
  const err = h('p', { class: 'field-error', id: `${qid}-err`, 'data-testid': 'pb-reason-error', hidden: true });
  if (reason) reason.addEventListener('input', () => { board.reason = reason.value; err.hidden = true; reason.removeAttribute('aria-invalid'); });
  const yes = h('button', { type: 'submit', class: `btn ${kind === 'refunded' ? 'btn-primary' : 'btn-danger'}`, 'data-testid': 'pb-act-yes' }, spec.yes);
  const no = h('button', { type: 'button', class: 'btn btn-secondary', 'data-testid': 'pb-act-no', onclick: close }, t('act.back'));
  const form = h('form', { class: 'confirm', novalidate: true, role: 'group', 'aria-labelledby': qid, 'data-testid': `pb-act-${kind}` },
    h('p', { class: 'confirm-question', id: qid, tabindex: '-1' }, spec.q),
    spec.hint ? h('p', { class: 'hint' }, spec.hint) : null,
    reason ? h('div', { class: 'field' }, h('label', { for: reason.id }, t('act.reason')), reason, err) : null,
    yes, no);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {};
    if (withReason) {
      const text = reason.value.trim();
      if (!text) {
        err.textContent = t('act.reason_required');
        err.hidden = false;
        reason.setAttribute('aria-invalid', 'true');
        reason.focus();
        return;
      }
      body.reason = text;
    }
    if (kind === 'undo' || kind === 'reject') body.order_id = o.order_id;
    clearMessage();
    const done = busy(yes);
    no.disabled = true;
    let updated;
    try {
      updated = await staffApi(spec.path, { method: 'POST', body });
    } catch (e) {
      if (!ctx.isCurrent()) return;
      done();
      no.disabled = false;
      const fieldMsg = e && e.fields && e.fields.reason;
      if (fieldMsg && reason) { err.textContent = [].concat(fieldMsg).join(t('list_sep')); err.hidden = false; }
      showStaffError(e);
      return;
    }
    if (!ctx.isCurrent()) return;
    board.act = null;
    board.reason = '';
    board.refused = [];
    takeOrder(updated);
    showSuccess(() => t(spec.done, { flat }), { scroll: false });
    await refreshTotals(staff.get());
    if (!ctx.isCurrent()) return;
    drawBoard(root, ctx);
    focusRow(root, o.order_id, 'pb-row-status');
  });
  setTimeout(() => { if (reason && reason.isConnected) reason.focus(); else if (form.isConnected) form.querySelector('.confirm-question').focus(); }, 0);
  return form;
}

// ---- the statement: upload, preview, confirm ---------------------------------

function statementSection(root, ctx) {
  const redraw = (focus) => drawBoard(root, ctx, focus);
  const u = board.upload;
  const fileId = 'pb-statement-file';
  const input = h('input', {
    type: 'file', id: fileId, accept: '.csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    class: 'file-input', 'data-testid': 'st-file', disabled: u && u.state === 'sending',
  });
  input.addEventListener('change', () => {
    const file = input.files && input.files[0];
    if (file) upload(file, root, ctx);
  });
  const sec = h('section', { class: 'block statement', 'aria-labelledby': 'st-title', 'data-testid': 'st' },
    h('h2', { id: 'st-title' }, t('st.title')),
    h('p', { class: 'hint' }, t('st.hint')),
    input,
    h('label', { class: 'btn btn-secondary file-label', for: fileId }, t('st.choose')));
  if (u && u.state === 'sending') {
    sec.appendChild(h('div', { class: 'st-progress', role: 'status', 'data-testid': 'st-checking' },
      h('p', { class: 'st-progress-text' }, t('st.checking')),
      h('p', { class: 'hint' }, t('st.sending', { name: u.name })),
      h('progress', { class: 'st-progress-bar', 'aria-label': t('st.checking') })));
  }
  if (u && u.state === 'done') sec.appendChild(previewBox(u, redraw, ctx, root));
  return sec;
}

async function upload(file, root, ctx) {
  clearMessage();
  board.refused = [];
  if (file.size > MAX_STATEMENT) {
    board.upload = null;
    showError(() => t('st.too_big'), { scroll: false });
    drawBoard(root, ctx, 'st-file');
    return;
  }
  board.upload = { name: file.name, state: 'sending' };
  drawBoard(root, ctx, 'st-checking');
  let data;
  try {
    data = await staffApi(rpath(board.rid, '/payments/statement'), {
      method: 'POST', raw: file, headers: { 'Content-Type': 'application/octet-stream' }, timeoutMs: 60000,
    });
  } catch (err) {
    if (!ctx.isCurrent()) return;
    board.upload = null;
    showStaffError(err);
    drawBoard(root, ctx, 'st-file');
    return;
  }
  if (!ctx.isCurrent()) return;
  const matched = Array.isArray(data && data.matched) ? data.matched : [];
  board.upload = {
    name: file.name, state: 'done', data,
    keep: new Set(matched.map((m) => lineKey(m.row))),
    choice: new Map(),
  };
  drawBoard(root, ctx, 'st-preview-title');
}

const FORMATS = ['wechat', 'alipay', 'csv', 'xlsx'];
function formatName(f) {
  return FORMATS.includes(f) ? t(`st.fmt.${f}`) : String(f);
}

function lineKey(row) {
  return String((row && (row.line ?? row.transaction_id)) ?? '');
}

function rowFacts(row) {
  return [
    row.time ? dateTime(row.time) : null,
    Number.isFinite(row.amount_fen) ? money(row.amount_fen) : null,
    row.note ? t('row.note', { note: row.note }) : null,
    row.counterparty || null,
  ].filter(Boolean).join(' · ');
}

/** The confirmations the preview would make now: [{order_id, transaction_id}]. */
function planned(u) {
  const out = [];
  const seen = new Set();
  for (const m of u.data.matched || []) {
    if (!u.keep.has(lineKey(m.row)) || !m.order || seen.has(m.order.order_id)) continue;
    seen.add(m.order.order_id);
    out.push({ order_id: m.order.order_id, transaction_id: m.row.transaction_id });
  }
  for (const a of u.data.ambiguous || []) {
    const oid = u.choice.get(lineKey(a.row));
    if (!oid || seen.has(oid)) continue;
    seen.add(oid);
    out.push({ order_id: oid, transaction_id: a.row.transaction_id });
  }
  return out;
}

function previewBox(u, redraw, ctx, root) {
  const d = u.data || {};
  const matched = d.matched || [];
  const ambiguous = d.ambiguous || [];
  const unmatched = d.unmatched || [];
  const used = d.already_used || [];
  const without = d.orders_without_payment || [];
  const plan = planned(u);
  const n = plan.length;
  // Orders already claimed by a matched row or by another ambiguous row's choice.
  const takenBy = new Map();
  matched.forEach((m) => { if (u.keep.has(lineKey(m.row)) && m.order) takenBy.set(m.order.order_id, `m${lineKey(m.row)}`); });
  ambiguous.forEach((a) => { const c = u.choice.get(lineKey(a.row)); if (c && !takenBy.has(c)) takenBy.set(c, `a${lineKey(a.row)}`); });

  const section = (key, title, hint, count, body) => h('section', { class: `st-sec st-${key}`, 'data-testid': `st-${key}`, 'data-count': count },
    h('h3', null, title, h('span', { class: 'count-badge st-count' }, String(count))),
    hint && count ? h('p', { class: 'hint' }, hint) : null,
    count ? body : h('p', { class: 'empty-inline' }, t('st.none')));

  const confirm = h('button', {
    type: 'button', class: 'btn btn-primary btn-big', 'data-testid': 'st-confirm', disabled: n === 0,
  }, n ? t('st.confirm_n', { n }) : t('st.confirm_zero'));
  confirm.addEventListener('click', async () => {
    const p = planned(u);
    if (!p.length) return;
    clearMessage();
    const done = busy(confirm);
    const transactions = {};
    p.forEach((x) => { if (x.transaction_id) transactions[x.order_id] = x.transaction_id; });
    const ok = await confirmOrders(p.map((x) => x.order_id), transactions);
    if (!ctx.isCurrent()) return;
    if (!ok) { done(); return; }
    board.upload = null;
    // The list under the totals may have changed state: reload this tab (keeps the refusals shown).
    const refused = board.refused;
    try { await loadList(); } catch (e) { /* keep the old list */ }
    board.refused = refused;
    if (!ctx.isCurrent()) return;
    redraw(refused.length ? 'pb-refused' : 'st-file');
  });

  return h('div', { class: 'st-preview', 'data-testid': 'st-preview' },
    h('h3', { id: 'st-preview-title', class: 'st-summary', tabindex: '-1', 'data-testid': 'st-preview-title' },
      t('st.summary', { name: u.name, rows: Array.isArray(d.rows) ? d.rows.length : (Number(d.rows) || 0) })),
    d.format ? h('p', { class: 'hint', 'data-testid': 'st-format', 'data-format': d.format }, t('st.format', { format: formatName(d.format) })) : null,

    section('matched', t('st.matched'), t('st.matched_hint'), matched.length,
      h('ul', { class: 'st-rows' }, matched.map((m) => {
        const k = lineKey(m.row);
        return h('li', { class: 'st-row', 'data-testid': 'st-matched-row', 'data-line': k, 'data-order-id': m.order && m.order.order_id },
          h('label', { class: 'st-pick' },
            h('input', {
              type: 'checkbox', 'data-testid': 'st-matched-check', checked: u.keep.has(k),
              onchange: (ev) => { if (ev.target.checked) u.keep.add(k); else u.keep.delete(k); redraw(); focusIn(root, `[data-testid="st-matched-row"][data-line="${CSS.escape(k)}"] input`); },
            }),
            h('span', { class: 'st-row-text' },
              h('span', { class: 'st-row-line' }, t('st.row_line', { line: m.row.line ?? '' })),
              h('span', { class: 'st-row-facts' }, rowFacts(m.row)),
              h('strong', { class: 'st-row-order', 'data-testid': 'st-matched-flat' }, `${t('st.arrow')} ${flatOf(m.order)}`,
                isMulti() && m.order && m.order.community_name ? ` · ${m.order.community_name}` : ''))));
      }))),

    section('ambiguous', t('st.ambiguous'), t('st.ambiguous_hint'), ambiguous.length,
      h('ul', { class: 'st-rows' }, ambiguous.map((a) => {
        const k = lineKey(a.row);
        const name = `st-amb-${k}`;
        const chosen = u.choice.get(k) || '';
        const choose = (oid) => { if (oid) u.choice.set(k, oid); else u.choice.delete(k); redraw(); focusIn(root, `input[name="${CSS.escape(name)}"]:checked`); };
        return h('li', { class: 'st-row st-amb', 'data-testid': 'st-ambiguous-row', 'data-line': k },
          h('fieldset', { class: 'tiles tiles-stack' },
            h('legend', null, h('span', { class: 'st-row-line' }, t('st.row_line', { line: a.row.line ?? '' })), ' ', rowFacts(a.row)),
            h('div', { class: 'tiles-row' },
              (a.candidates || []).map((c) => {
                const other = takenBy.get(c.order_id);
                const taken = other && other !== `a${k}`;
                return h('label', { class: 'tile' },
                  h('input', {
                    type: 'radio', name, value: c.order_id, checked: chosen === c.order_id, disabled: taken,
                    'data-testid': 'st-candidate', 'data-order-id': c.order_id, onchange: () => choose(c.order_id),
                  }),
                  h('span', null, `${flatOf(c)} · ${money(c.total_fen)}`,
                    c.payment_note ? h('span', { class: 'hint st-cand-note' }, ` ${c.payment_note}`) : null,
                    ` · ${statusText(c.status)}`, taken ? ` ${t('st.taken')}` : ''));
              }),
              h('label', { class: 'tile' },
                h('input', { type: 'radio', name, value: '', checked: !chosen, 'data-testid': 'st-skip', onchange: () => choose('') }),
                h('span', null, t('st.skip'))))));
      }))),

    section('unmatched', t('st.unmatched'), t('st.unmatched_hint'), unmatched.length,
      h('ul', { class: 'st-rows st-plain' }, unmatched.map((row) => h('li', { class: 'st-row', 'data-testid': 'st-unmatched-row', 'data-line': lineKey(row) },
        h('span', { class: 'st-row-line' }, t('st.row_line', { line: row.line ?? '' })), ' ', rowFacts(row))))),

    used.length
      ? section('already-used', t('st.already_used'), null, used.length,
        h('ul', { class: 'st-rows st-plain' }, used.map((row) => h('li', { class: 'st-row', 'data-testid': 'st-used-row', 'data-line': lineKey(row) },
          h('span', { class: 'st-row-line' }, t('st.row_line', { line: row.line ?? '' })), ' ', rowFacts(row)))))
      : null,

    section('without', t('st.without'), null, without.length,
      h('ul', { class: 'st-rows st-plain' }, without.map((o) => h('li', { class: 'st-row', 'data-testid': 'st-without-row', 'data-order-id': o.order_id },
        h('strong', null, flatOf(o)), ` · ${money(o.total_fen)} · ${statusText(o.status)}`,
        o.payment_note ? h('span', { class: 'hint' }, ` · ${o.payment_note}`) : null)))),

    h('div', { class: 'pb-bar pb-bar-sticky st-bar' }, confirm),
    h('button', {
      type: 'button', class: 'btn btn-link', 'data-testid': 'st-discard',
      onclick: () => { board.upload = null; clearMessage(); redraw('st-file'); },
    }, t('st.discard')));
}

function focusIn(root, selector) {
  const el = root.querySelector(selector);
  if (el) el.focus();
}
