// #/orders: the household's orders with status, pickup code and payment info.
import { t, pick } from '../i18n.js';
import { api } from '../api.js';
import * as session from '../session.js';
import * as outbox from '../outbox.js';
import { h, clear } from '../ui.js';
import { money, dateTime, pickupCode, timeOfDay } from '../format.js';

const CACHE_KEY = 'baogong.cache.orders';
const STATUSES = ['placed', 'payment_claimed', 'paid', 'packed', 'at_gate', 'picked_up', 'cancelled', 'expired'];
const DEAD = ['cancelled', 'expired'];
const UNPAID = ['placed', 'payment_claimed'];

let cache = null; // {household_id, data, saved_at, stale}

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

export async function ordersView(root, params, ctx) {
  const s = session.get();
  if (!cache || ctx.refresh) {
    clear(root);
    root.appendChild(h('p', { class: 'loading' }, t('loading')));
  }
  const [c, pend] = await Promise.all([load(s.household_id, ctx.refresh), outbox.pending()]);
  if (!ctx.isCurrent()) return;
  clear(root);

  const orders = c.data && Array.isArray(c.data.orders) ? c.data.orders : [];
  const section = h('section', { class: 'orders', 'aria-labelledby': 'orders-title' },
    h('h1', { id: 'orders-title', class: 'page-title' }, t('orders.title')));
  if (c.stale) section.appendChild(h('p', { class: 'msg msg-warn', 'data-testid': 'stale-notice' }, t('orders.stale', { time: timeOfDay(c.saved_at) })));

  if (pend) {
    section.appendChild(h('article', { class: 'order order-pending', 'data-testid': 'pending-order' },
      h('h2', null, t('orders.pending_title')),
      pend.round_name ? h('p', null, pend.round_name) : null,
      h('p', { class: 'hint' }, t('cart.pending')),
      h('a', { class: 'btn btn-secondary', href: '#/rounds' }, t('cart.retry'))));
  }

  if (!orders.length && !pend) section.appendChild(h('p', { class: 'empty' }, t('orders.none')));
  orders.forEach((o) => section.appendChild(orderCard(o)));
  root.appendChild(section);
}

function orderCard(o) {
  const dead = DEAD.includes(o.status);
  const titleId = `o-${o.order_id}`;
  const lines = Array.isArray(o.lines) ? o.lines : [];
  const url = o.payment_qr ? safeUrl(o.payment_qr) : null;
  const showPayment = !dead && (UNPAID.includes(o.status) || o.status === undefined);

  return h('article', {
    class: `order order-${o.status}${dead ? ' order-dead' : ''}`, 'data-testid': 'order-card',
    'data-order-id': o.order_id, 'aria-labelledby': titleId,
  },
  h('div', { class: 'order-head' },
    h('h2', { id: titleId }, o.round_name || ''),
    h('span', { class: `badge status-${o.status}`, 'data-testid': 'order-status', 'data-status': o.status }, statusText(o.status))),

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
    : null);
}
