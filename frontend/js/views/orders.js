// #/orders: the household's orders with status, pickup code and payment info.
import { t, pick } from '../i18n.js';
import { api, errorText } from '../api.js';
import * as session from '../session.js';
import '../strings/household.js';
import * as outbox from '../outbox.js';
import { h, clear, showError, showSuccess, clearMessage } from '../ui.js';
import { money, dateTime, pickupCode, timeOfDay, flat as flatLabel } from '../format.js';
import { refreshMembership, isNotAMember, waitingText, requestsBanner } from './household.js';

const CACHE_KEY = 'baogong.cache.orders';
const STATUSES = ['placed', 'payment_claimed', 'paid', 'packed', 'at_gate', 'picked_up', 'cancelled', 'expired'];
const DEAD = ['cancelled', 'expired'];
const UNPAID = ['placed', 'payment_claimed'];
const CANCELLABLE = ['placed', 'payment_claimed']; // the API refuses the rest with 422 not_cancellable

let cache = null; // {household_id, data, saved_at, stale}
// Per order id, kept here so a re-render (language switch) keeps the card's state.
const asking = new Set();     // the card shows "Cancel this order?"
const cancelling = new Set(); // a cancel request is in flight

async function load(householdId, refresh) {
  if (!refresh && cache && cache.household_id === householdId) return cache;
  try {
    const data = await api('/api/orders/mine');
    cache = { household_id: householdId, data, saved_at: new Date().toISOString(), stale: false };
    try { localStorage.setItem(CACHE_KEY, JSON.stringify(cache)); } catch (e) { /* ignore */ }
  } catch (err) {
    if (err.status !== 0) throw err;
    let saved = null;
    try { saved = JSON.parse(localStorage.getItem(CACHE_KEY) || 'null'); } catch (e) { /* ignore */ }
    if (!saved || saved.household_id !== householdId) throw err;
    cache = { ...saved, stale: true };
  }
  return cache;
}

/** Put the server's copy of one order into the cache (memory and localStorage). */
function remember(order) {
  if (!cache || !cache.data || !Array.isArray(cache.data.orders)) return;
  cache.data.orders = cache.data.orders.map((o) => (o.order_id === order.order_id ? order : o));
  if (cache.stale) return; // keep the saved_at of the offline copy honest: do not rewrite it
  try { localStorage.setItem(CACHE_KEY, JSON.stringify(cache)); } catch (e) { /* ignore */ }
}

/** The card of this order on the page now (it may have been re-drawn since the tap). */
function cardOf(orderId) {
  for (const el of document.querySelectorAll('[data-testid="order-card"]')) {
    if (el.getAttribute('data-order-id') === orderId) return el;
  }
  return null;
}

function redraw(orderId, ctx) {
  const el = cardOf(orderId);
  const o = cache && cache.data && Array.isArray(cache.data.orders)
    ? cache.data.orders.find((x) => x.order_id === orderId) : null;
  if (!el || !o) return null;
  const next = orderCard(o, ctx);
  const hadFocus = el.contains(document.activeElement);
  el.replaceWith(next);
  return hadFocus ? next : null;
}

function focusIn(card, testid) {
  const el = card && (testid ? card.querySelector(`[data-testid="${testid}"]`) : card);
  if (el) el.focus({ preventScroll: false });
}

async function cancelOrder(orderId, ctx) {
  if (cancelling.has(orderId)) return;
  cancelling.add(orderId);
  clearMessage();
  // Buttons disabled while the request is in flight; focus stays on the question, not on a disabled button.
  focusIn(redraw(orderId, ctx), 'order-cancel-question');
  let order = null;
  let err = null;
  try {
    order = await api(`/api/orders/${encodeURIComponent(orderId)}/cancel`, { method: 'POST' });
  } catch (e) {
    err = e;
  }
  cancelling.delete(orderId);
  if (order && order.order_id === orderId) {
    asking.delete(orderId);
    remember(order);
    const card = redraw(orderId, ctx);
    if (card) { card.setAttribute('tabindex', '-1'); focusIn(card); }
    showSuccess(() => t('orders.cancelled'));
    return;
  }
  if (err && err.status === 401) { asking.delete(orderId); ctx.rerender({ refresh: true }); return; }
  showError(() => errorText(err), { scroll: false });
  if (err && (err.status === 404 || err.status === 422)) {
    // Refused for good (round closed, paid meanwhile, gone): show the order as it is now.
    asking.delete(orderId);
    ctx.rerender({ refresh: true });
    return;
  }
  // No answer or the server is busy: keep the question open; tapping again is safe (a repeat is a no-op).
  focusIn(redraw(orderId, ctx), 'order-cancel-confirm');
}

function cancelArea(o, ctx) {
  const id = o.order_id;
  const busy = cancelling.has(id);
  if (!asking.has(id) && !busy) {
    return h('div', { class: 'order-actions' },
      h('button', {
        type: 'button', class: 'btn btn-secondary', 'data-testid': 'order-cancel',
        onclick: () => { asking.add(id); clearMessage(); focusIn(redraw(id, ctx), 'order-cancel-question'); },
      }, t('orders.cancel')));
  }
  const askId = `o-${id}-ask`;
  return h('div', { class: 'order-actions order-confirm', role: 'group', 'aria-labelledby': askId, 'data-testid': 'order-cancel-ask' },
    h('p', { class: 'confirm-question', id: askId, tabindex: '-1', 'data-testid': 'order-cancel-question' }, t('orders.cancel_ask')),
    o.status === 'payment_claimed' ? h('p', { class: 'hint' }, t('orders.cancel_paid_hint')) : null,
    h('button', {
      type: 'button', class: 'btn btn-danger', 'data-testid': 'order-cancel-confirm', disabled: busy,
      onclick: () => { cancelOrder(id, ctx); },
    }, busy ? t('orders.cancelling') : t('orders.cancel_confirm')),
    h('button', {
      type: 'button', class: 'btn btn-secondary', 'data-testid': 'order-cancel-keep', disabled: busy,
      onclick: () => { asking.delete(id); focusIn(redraw(id, ctx), 'order-cancel'); },
    }, t('orders.cancel_keep')));
}

export function statusText(status) {
  return STATUSES.includes(status) ? t(`status.${status}`) : String(status || '');
}

function safeUrl(s) {
  try {
    const u = new URL(String(s), location.href);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch (e) {
    return null;
  }
}

function slotText(slot) {
  if (!slot) return null;
  if (typeof slot === 'string') return /^\d{4}-\d\d-\d\dT/.test(slot) ? dateTime(slot) : slot;
  const start = slot.starts_at || slot.start;
  const end = slot.ends_at || slot.end;
  let s = '';
  if (start) s = dateTime(start);
  if (end) s += ` – ${timeOfDay(end)}`;
  return s || null;
}

function slotPlace(slot) {
  if (!slot || typeof slot !== 'object') return null;
  const p = slot.pickup_point || slot.point || slot.place;
  if (!p) return null;
  return typeof p === 'string' ? p : p.name || null;
}

function noticeText(n) {
  if (typeof n === 'string') return n;
  if (!n || typeof n !== 'object') return '';
  return pick(n.message || n.text || n.body || n.title, n.message_en || n.text_en || n.title_en);
}

/** The saved orders belong to one phone of one flat: a later phone of the flat does not inherit them. */
function cacheKey(s) {
  return `${s.household_id}|${s.member_id || ''}`;
}

/** A phone waiting for approval sees why there is nothing here, not the flat's orders. */
function drawWaiting(root) {
  const s = session.get() || {};
  clear(root);
  root.appendChild(h('section', { class: 'orders', 'aria-labelledby': 'orders-title' },
    h('h1', { id: 'orders-title', class: 'page-title' }, t('orders.title')),
    h('div', { class: 'card waiting-card', 'data-testid': 'orders-waiting' },
      h('h2', null, t('household.waiting_title')),
      h('p', { 'data-testid': 'waiting-text' }, waitingText(flatLabel(s.flat))),
      h('a', { class: 'btn btn-primary', href: '#/household', 'data-testid': 'waiting-banner-link' }, t('household.waiting_link')))));
}

export async function ordersView(root, params, ctx) {
  let s = session.get();
  if (!cache || ctx.refresh) {
    clear(root);
    root.appendChild(h('p', { class: 'loading' }, t('loading')));
  }
  let member = null;
  if (session.isPending(s)) {
    // Waiting for approval: ask about that first, and only then (approved) for the orders.
    member = ctx.refresh ? await refreshMembership() : null;
    if (!ctx.isCurrent()) return;
    s = session.get();
    if (session.isPending(s)) { drawWaiting(root); return; }
  }
  const [c, pend, fresh] = await Promise.all([
    load(cacheKey(s), ctx.refresh).catch((error) => ({ error })),
    outbox.pending(),
    ctx.refresh && !member ? refreshMembership() : member,
  ]);
  if (!ctx.isCurrent()) return;
  if (c.error && isNotAMember(c.error)) { drawWaiting(root); return; }
  if (session.isPending()) { drawWaiting(root); return; }
  // No signal and no saved list: a waiting checkout is still shown, so nobody orders it again.
  if (c.error && (c.error.status !== 0 || !pend)) throw c.error;
  clear(root);
  if (fresh && fresh.becameMember) showSuccess(() => t('household.approved_me'), { scroll: false });
  if (c.error) showError(() => errorText(c.error), { scroll: false });

  const orders = !c.error && c.data && Array.isArray(c.data.orders) ? c.data.orders : [];
  const section = h('section', { class: 'orders', 'aria-labelledby': 'orders-title' },
    h('h1', { id: 'orders-title', class: 'page-title' }, t('orders.title')));
  const requests = requestsBanner();
  if (requests) section.appendChild(requests);
  if (c.stale) section.appendChild(h('p', { class: 'msg msg-warn', 'data-testid': 'stale-notice' }, t('orders.stale', { time: timeOfDay(c.saved_at) })));

  if (pend) {
    section.appendChild(h('article', { class: 'order order-pending', 'data-testid': 'pending-order' },
      h('h2', null, t('orders.pending_title')),
      pend.round_name ? h('p', null, pend.round_name) : null,
      h('p', { class: 'hint' }, t('cart.pending')),
      h('a', { class: 'btn btn-secondary', href: '#/rounds' }, t('cart.retry'))));
  }

  if (!orders.length && !pend && !c.error) section.appendChild(h('p', { class: 'empty' }, t('orders.none')));
  orders.forEach((o) => section.appendChild(orderCard(o, ctx)));
  root.appendChild(section);
}

function orderCard(o, ctx) {
  const dead = DEAD.includes(o.status);
  const titleId = `o-${o.order_id}`;
  const lines = Array.isArray(o.lines) ? o.lines : [];
  const url = o.payment_qr ? safeUrl(o.payment_qr) : null;
  const showPayment = !dead && (UNPAID.includes(o.status) || o.status === undefined);

  return h('article', {
    class: `order order-${o.status}${dead ? ' order-dead' : ''}`, 'data-testid': 'order-card',
    'data-order-id': o.order_id, 'aria-labelledby': titleId, 'aria-busy': cancelling.has(o.order_id) ? 'true' : null,
  },
  h('div', { class: 'order-head' },
    h('h2', { id: titleId }, o.round_name || ''),
    h('span', { class: `badge status-${o.status}`, 'data-testid': 'order-status', 'data-status': o.status }, statusText(o.status))),

  o.assisted_by ? h('p', { class: 'assisted', 'data-testid': 'order-assisted' }, t('orders.assisted')) : null,

  o.pickup_code && !dead
    ? h('div', { class: 'pickup' },
      h('p', { class: 'pickup-label', id: `${titleId}-code` }, t('orders.pickup_code')),
      h('p', {
        class: 'pickup-code', 'data-testid': 'pickup-code', 'data-code': String(o.pickup_code),
        'aria-labelledby': `${titleId}-code`,
      }, pickupCode(o.pickup_code)),
      h('p', { class: 'hint' }, t('orders.pickup_hint')))
    : null,

  lines.length
    ? h('ul', { class: 'lines' }, lines.map((l) => h('li', null,
      h('span', null, t('orders.line', { name: l.name || l.bundle_id, qty: l.qty })),
      Number.isFinite(l.price_fen) ? h('span', { class: 'line-amount' }, money(l.price_fen * l.qty)) : null)))
    : null,
  h('p', { class: 'order-total' }, h('span', null, t('orders.total')), h('strong', { 'data-testid': 'order-card-total' }, money(o.total_fen))),

  h('dl', { class: 'facts' },
    showPayment && o.payment_deadline ? [h('dt', null, t('orders.pay_by')), h('dd', { class: 'deadline', 'data-testid': 'order-pay-by' }, dateTime(o.payment_deadline))] : null,
    showPayment && o.payment_qr ? [h('dt', null, t('orders.payment_qr')), h('dd', { class: 'payment-qr', 'data-testid': 'payment-qr' },
      url ? h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, t('orders.open_payment')) : String(o.payment_qr))] : null,
    slotText(o.pickup_slot) ? [h('dt', null, t('orders.pickup_slot')), h('dd', { 'data-testid': 'pickup-slot' }, slotText(o.pickup_slot))] : null,
    slotPlace(o.pickup_slot) ? [h('dt', null, t('orders.pickup_point')), h('dd', null, slotPlace(o.pickup_slot))] : null,
    o.created_at ? [h('dt', null, t('orders.placed_at')), h('dd', null, dateTime(o.created_at))] : null),

  Array.isArray(o.notices) && o.notices.length
    ? h('section', { class: 'notices', 'aria-label': t('orders.notices') },
      h('h3', null, t('orders.notices')),
      h('ul', null, o.notices.map((n) => h('li', null,
        noticeText(n),
        n && n.created_at ? h('span', { class: 'hint' }, ` (${dateTime(n.created_at)})`) : null))))
    : null,

  CANCELLABLE.includes(o.status) && o.order_id ? cancelArea(o, ctx) : null);
}
