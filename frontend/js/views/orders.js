// #/orders: the household's orders with their steps, pickup code, and how to pay: the supplier's
// QR as an image, the amount, a live countdown, the transfer note to copy, and 「我已付款」
// (sent through the outbox, so it survives a dropped signal).
// Pickup day: at the top, the newest notice for the flat's building (when, where, the pickup code
// in large type and its QR), kept with the orders so it still shows without signal; each order card
// shows its slot, 货已到 and 已取货.
import { t, pick } from '../i18n.js';
import { api, errorText } from '../api.js';
import * as session from '../session.js';
import '../strings/household.js';
import '../strings/payments.js';
import * as outbox from '../outbox.js';
import { h, clear, showError, showSuccess, showInfo, clearMessage, copyText } from '../ui.js';
import { money, dateTime, pickupCode, timeOfDay, halfWidth, flat as flatLabel } from '../format.js';
import { refreshMembership, isNotAMember, waitingText, requestsBanner } from './household.js';
import '../strings/pickupday.js';
import * as notices from '../notices.js';
import { dayText, spanText } from '../notices.js';


const CACHE_KEY = 'baogong.cache.orders';
const STATUSES = ['placed', 'payment_claimed', 'paid', 'packed', 'at_gate', 'picked_up', 'cancelled', 'expired'];
const DEAD = ['cancelled', 'expired'];
const UNPAID = ['placed', 'payment_claimed'];
const CANCELLABLE = ['placed', 'payment_claimed']; // the API refuses the rest with 422 not_cancellable
// The steps a live order goes through, drawn as a stepper on its card.
const STEPS = ['placed', 'payment_claimed', 'paid', 'packed', 'at_gate', 'picked_up'];
// A bag that can be collected now: the pickup code's QR is shown for these.
const COLLECTABLE = ['paid', 'packed', 'at_gate'];

let cache = null; // {household_id, data, saved_at, stale}
// Per order id, kept here so a re-render (language switch) keeps the card's state.
const asking = new Set();     // the card shows "Cancel this order?"
const cancelling = new Set(); // a cancel request is in flight
const claimOpen = new Set();  // the 「我已付款」 form is open
const claiming = new Set();   // a payment claim is being sent
const claimInput = new Map(); // order id -> what was typed as the reference (kept across re-draws)
const claimError = new Map(); // order id -> the reference's error line
let waitingClaims = new Map(); // order id -> outbox entry of a claim not yet sent

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
  pageCtx = null; // new notices while this draws are drawn with it, not twice
  const [c, pend, fresh, claims] = await Promise.all([
    load(cacheKey(s), ctx.refresh).catch((error) => ({ error })),
    outbox.pending(),
    ctx.refresh && !member ? refreshMembership() : member,
    outbox.pendingClaims().catch(() => new Map()),
    ctx.refresh ? notices.poll() : null,
  ]);
  if (!ctx.isCurrent()) return;
  waitingClaims = claims;
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
  if (c.stale) {
    section.appendChild(h('p', { class: 'msg msg-warn', 'data-testid': 'stale-notice' },
      t('orders.stale', { time: timeOfDay(c.saved_at) }), ' ',
      h('span', { class: 'ago', 'data-testid': 'orders-age', 'data-ago': c.saved_at }, notices.agoText(c.saved_at))));
  }
  section.appendChild(noticeArea(orders));

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
  startCountdowns();
  pageCtx = ctx;
}

function orderCard(o, ctx) {
  const dead = DEAD.includes(o.status);
  const titleId = `o-${o.order_id}`;
  const lines = Array.isArray(o.lines) ? o.lines : [];
  const unpaid = UNPAID.includes(o.status);

  return h('article', {
    class: `order order-${o.status}${dead ? ' order-dead' : ''}`, 'data-testid': 'order-card',
    'data-order-id': o.order_id, 'aria-labelledby': titleId,
    'aria-busy': cancelling.has(o.order_id) || claiming.has(o.order_id) ? 'true' : null,
  },
  h('div', { class: 'order-head' },
    h('h2', { id: titleId }, o.round_name || ''),
    h('span', { class: `badge status-${o.status}`, 'data-testid': 'order-status', 'data-status': o.status }, statusText(o.status))),

  o.assisted_by ? h('p', { class: 'assisted', 'data-testid': 'order-assisted' }, t('orders.assisted')) : null,

  STEPS.includes(o.status) ? stepper(o.status) : fate(o),

  unpaid ? payBlock(o, ctx) : null,
  !unpaid && !dead && o.payment && o.payment.confirmed_at
    ? h('p', { class: 'pay-confirmed', 'data-testid': 'pay-confirmed' }, t('pay.confirmed_at', { time: dateTime(o.payment.confirmed_at) }))
    : null,

  pickedUpLine(o),
  o.arrived_at && !dead && !pickedUp(o)
    ? h('p', { class: 'order-arrived', 'data-testid': 'order-arrived', 'data-arrived-at': o.arrived_at },
      t('notice.arrived_at', { time: dateTime(o.arrived_at) }))
    : null,

  o.pickup_code && !dead
    ? h('div', { class: 'pickup' },
      h('p', { class: 'pickup-label', id: `${titleId}-code` }, t('orders.pickup_code')),
      h('p', {
        class: 'pickup-code', 'data-testid': 'pickup-code', 'data-code': String(o.pickup_code),
        'aria-labelledby': `${titleId}-code`,
      }, pickupCode(o.pickup_code)),
      COLLECTABLE.includes(o.status) && !pickedUp(o) && o.round_id && o.order_id !== bannerOrderId
        ? notices.pickupQr(o.round_id, o.pickup_code, { testid: 'pickup-qr', size: 180 }) : null,
      h('p', { class: 'hint' }, t('orders.pickup_hint')))
    : null,

  lines.length
    ? h('ul', { class: 'lines' }, lines.map((l) => h('li', null,
      h('span', null, t('orders.line', { name: l.name || l.bundle_id, qty: l.qty })),
      Number.isFinite(l.price_fen) ? h('span', { class: 'line-amount' }, money(l.price_fen * l.qty)) : null)))
    : null,
  h('p', { class: 'order-total' }, h('span', null, t('orders.total')), h('strong', { 'data-testid': 'order-card-total' }, money(o.total_fen))),

  h('dl', { class: 'facts' },
    slotText(o.pickup_slot) ? [h('dt', null, t('orders.pickup_slot')), h('dd', { 'data-testid': 'pickup-slot' }, slotText(o.pickup_slot))] : null,
    o.pickup_slot && o.pickup_slot.label ? [h('dt', null, t('notice.slot_label')), h('dd', { 'data-testid': 'pickup-slot-label' }, o.pickup_slot.label)] : null,
    slotPlace(o.pickup_slot) ? [h('dt', null, t('orders.pickup_point')), h('dd', { 'data-testid': 'pickup-point' }, slotPlace(o.pickup_slot))] : null,
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

// ---- the order's steps, and why a dead order ended ------------------------

function stepper(status) {
  const at = STEPS.indexOf(status);
  return h('div', { class: 'steps-wrap' },
    h('ol', { class: 'steps', 'aria-label': t('steps.label'), 'data-testid': 'order-steps', 'data-step': status },
      STEPS.map((st, i) => h('li', {
        class: `step-item${i < at ? ' step-done' : ''}${i === at ? ' step-now' : ''}`,
        'aria-current': i === at ? 'step' : null, 'data-testid': 'order-step', 'data-step': st,
      },
      h('span', { class: 'step-dot', 'aria-hidden': 'true' }, i < at ? '✓' : String(i + 1)),
      h('span', { class: 'step-label' }, t(`step.${st}`))))));
}

function reasonText(o) {
  const r = o.payment && o.payment.reason;
  if (!r) return '';
  if (typeof r === 'string') return r;
  return pick(r.message, r.message_en);
}

/** Plain words for an expired or cancelled order: the supplier's reason when there is one. */
function fate(o) {
  const p = o.payment || {};
  const reason = reasonText(o);
  const lines = [];
  let kind = o.status;
  if (o.status === 'expired') {
    lines.push(reason || t('fate.expired'));
  } else if (o.status === 'cancelled') {
    // The server words the reason whole ("供应商取消了订单：缺货"): it is shown as it is.
    if (p.refund === 'refunded') { kind = 'refunded'; lines.push(t('fate.refunded')); } else if (p.refund === 'due') { kind = 'refund_due'; lines.push(t('fate.refund_due')); }
    if (reason) lines.push(reason);
  }
  if (!lines.length) return null;
  return h('div', { class: `fate fate-${kind}`, 'data-testid': 'order-fate', 'data-fate': kind },
    lines.map((x, i) => h('p', { class: i === 0 ? 'fate-main' : 'fate-reason' }, x)));
}

// ---- paying ---------------------------------------------------------------

/** "还剩 1天 3小时" / "还剩 3小时 12分钟" / "还剩 12分钟" / "已过付款截止时间". */
export function countdownText(iso, now = Date.now()) {
  const end = Date.parse(iso);
  if (!Number.isFinite(end)) return '';
  const ms = end - now;
  if (ms <= 0) return t('pay.overdue');
  const mins = Math.floor(ms / 60000);
  if (mins < 1) return t('pay.left_lt1');
  const d = Math.floor(mins / 1440);
  const hh = Math.floor((mins % 1440) / 60);
  const m = mins % 60;
  if (d > 0) return t('pay.left_dh', { d, h: hh });
  if (hh > 0) return t('pay.left_hm', { h: hh, m });
  return t('pay.left_m', { m });
}

let countdownTimer = null;
function tickCountdowns() {
  const els = document.querySelectorAll('[data-countdown]');
  const agos = document.querySelectorAll('[data-ago]');
  if (!els.length && !agos.length) { clearInterval(countdownTimer); countdownTimer = null; return; }
  agos.forEach((el) => { el.textContent = notices.agoText(el.getAttribute('data-ago')); });
  els.forEach((el) => {
    const iso = el.getAttribute('data-countdown');
    el.textContent = countdownText(iso);
    const over = Date.parse(iso) <= Date.now();
    el.classList.toggle('countdown-over', over);
    el.setAttribute('data-overdue', over ? 'true' : 'false');
  });
}
/** One timer for every countdown on the page; it stops itself when there is none left. */
function startCountdowns() {
  tickCountdowns();
  if (!countdownTimer && document.querySelector('[data-countdown], [data-ago]')) countdownTimer = setInterval(tickCountdowns, 15000);
}

// Payment QR images the page had to fetch with the resident's token, as data: URLs, by image URL:
// a re-drawn card shows them at once instead of asking again.
const qrData = new Map();
let qrNeedsToken = false; // learnt from the first image that would not load on its own

async function fetchAsDataUrl(url) {
  const tok = session.token();
  // Without the link's own signature (it may have run out): the token says who may see the round.
  const bare = url.split('?')[0];
  const res = await fetch(bare, { headers: tok ? { Authorization: `Bearer ${tok}` } : {}, credentials: 'same-origin' });
  if (!res.ok) throw new Error(String(res.status));
  const blob = await res.blob();
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    r.readAsDataURL(blob);
  });
}

/**
 * The supplier's QR as an <img> (WeChat's long-press 识别图中二维码 reads an image, not a canvas),
 * with 「保存图片」 beside it. The URL is the API's signed link, which an <img> loads without a token.
 * If it will not load (a saved copy of the orders whose link has run out), the image is fetched
 * once with the resident's token and shown as a data: URL, which long-press and saving read the same.
 */
function qrImage(o) {
  const url = safeUrl(o.payment_qr_url);
  if (!url) {
    // An order from before v2: only the QR's text.
    const link = o.payment_qr ? safeUrl(o.payment_qr) : null;
    return o.payment_qr
      ? h('p', { class: 'payment-qr', 'data-testid': 'payment-qr' },
        link ? h('a', { href: link, target: '_blank', rel: 'noopener noreferrer' }, t('pay.open_qr')) : String(o.payment_qr))
      : null;
  }
  const known = qrData.get(url);
  const failed = h('p', { class: 'field-error', 'data-testid': 'pay-qr-failed', hidden: true }, t('pay.qr_failed'));
  const save = h('a', {
    class: 'btn btn-secondary pay-save', href: known || url, download: `payment-qr-${o.round_id || 'round'}.png`,
    'data-testid': 'pay-qr-save',
  }, t('pay.save_qr'));
  const img = h('img', {
    class: 'pay-qr-img', src: known || (qrNeedsToken ? null : url), alt: t('pay.qr_alt'), width: '240', height: '240',
    'data-testid': 'pay-qr-img', 'data-qr-url': url,
  });
  let retried = !!known;
  const withToken = async () => {
    retried = true;
    img.classList.add('pay-qr-loading');
    try {
      const data = await fetchAsDataUrl(url);
      qrData.set(url, data);
      img.src = data;
      save.href = data;
    } catch (e) {
      failed.hidden = false;
      save.hidden = true;
    }
    img.classList.remove('pay-qr-loading');
  };
  img.addEventListener('error', () => {
    if (retried) { failed.hidden = false; save.hidden = true; return; }
    qrNeedsToken = true;
    withToken();
  });
  if (!known && qrNeedsToken) withToken();
  return h('div', { class: 'pay-qr' },
    img,
    h('div', { class: 'pay-qr-side' },
      h('p', { class: 'hint' }, t('pay.qr_hint')),
      save),
    failed);
}

function payBlock(o, ctx) {
  const id = o.order_id;
  const titleId = `o-${id}-pay`;
  const note = o.payment_note ? String(o.payment_note) : '';
  const noteEl = h('p', { class: 'pay-note', 'data-testid': 'pay-note', id: `${titleId}-note` }, note);
  const copied = h('span', { class: 'copy-status', 'aria-live': 'polite', 'data-testid': 'pay-note-copied' }, '');
  const copyBtn = h('button', {
    type: 'button', class: 'btn btn-secondary btn-copy', 'data-testid': 'pay-note-copy', 'aria-describedby': `${titleId}-note`,
  }, t('pay.copy'));
  copyBtn.addEventListener('click', async () => {
    const ok = await copyText(note, noteEl);
    copied.textContent = ok ? t('pay.copied') : t('pay.copy_failed');
  });

  return h('section', { class: 'pay', 'aria-labelledby': titleId, 'data-testid': 'pay' },
    h('h3', { id: titleId, class: 'visually-hidden' }, t('pay.title')),
    h('p', { class: 'pay-amount' },
      h('span', { class: 'pay-amount-label' }, t('pay.amount')),
      h('strong', { 'data-testid': 'pay-amount' }, money(o.total_fen))),
    o.payment_deadline
      ? h('div', { class: 'pay-deadline' },
        h('p', { class: 'countdown', 'data-testid': 'pay-countdown', 'data-countdown': o.payment_deadline, 'aria-live': 'off' },
          countdownText(o.payment_deadline)),
        h('p', { class: 'hint', 'data-testid': 'order-pay-by' }, t('pay.deadline', { time: dateTime(o.payment_deadline) })))
      : null,
    qrImage(o),
    note
      ? h('div', { class: 'pay-note-box' },
        h('p', { class: 'pay-note-label', id: `${titleId}-note-label` }, t('pay.note_label')),
        h('div', { class: 'pay-note-row' }, noteEl, copyBtn),
        copied,
        h('p', { class: 'hint' }, t('pay.note_hint')))
      : null,
    claimArea(o, ctx));
}

function claimArea(o, ctx) {
  const id = o.order_id;
  const waiting = waitingClaims.get(id);
  if (o.status === 'payment_claimed') {
    const p = o.payment || {};
    return h('div', { class: 'pay-claimed', 'data-testid': 'pay-claimed' },
      h('p', { class: 'pay-claimed-main' }, t('pay.claimed_info')),
      p.reference ? h('p', { 'data-testid': 'pay-claimed-ref' }, t('pay.claimed_ref', { ref: p.reference })) : null,
      p.claimed_at ? h('p', { class: 'hint' }, t('pay.claimed_at', { time: dateTime(p.claimed_at) })) : null);
  }
  if (waiting && !claiming.has(id)) {
    return h('div', { class: 'pay-claimed pay-waiting', 'data-testid': 'pay-claim-waiting' },
      h('p', { class: 'pay-claimed-main' }, t('pay.claim_waiting_card')),
      waiting.body && waiting.body.reference ? h('p', null, t('pay.claimed_ref', { ref: waiting.body.reference })) : null);
  }
  if (!claimOpen.has(id) && !claiming.has(id)) {
    return h('button', {
      type: 'button', class: 'btn btn-primary btn-big pay-claim', 'data-testid': 'pay-claim',
      onclick: () => { claimOpen.add(id); clearMessage(); focusIn(redraw(id, ctx), 'pay-reference'); },
    }, t('pay.claim'));
  }
  const busyNow = claiming.has(id);
  const inputId = `o-${id}-ref`;
  const err = claimError.get(id) || '';
  const input = h('input', {
    type: 'text', id: inputId, inputmode: 'numeric', autocomplete: 'off', maxlength: '6', pattern: '[0-9]*',
    'data-testid': 'pay-reference', value: claimInput.get(id) || '', disabled: busyNow,
    'aria-describedby': `${inputId}-hint ${inputId}-error`, 'aria-invalid': err ? 'true' : null,
  });
  input.addEventListener('input', () => { claimInput.set(id, input.value); });
  const form = h('form', { class: 'pay-claim-form', novalidate: true, 'data-testid': 'pay-claim-form' },
    h('p', { class: 'confirm-question', tabindex: '-1' }, t('pay.claim_title')),
    h('div', { class: 'field' },
      h('label', { for: inputId }, t('pay.reference')),
      h('p', { class: 'hint', id: `${inputId}-hint` }, t('pay.reference_hint')),
      input,
      h('p', { class: 'field-error', id: `${inputId}-error`, 'data-testid': 'pay-reference-error', hidden: !err }, err)),
    h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'pay-claim-confirm', disabled: busyNow },
      busyNow ? t('pay.claiming') : t('pay.claim_confirm')),
    h('button', {
      type: 'button', class: 'btn btn-secondary', 'data-testid': 'pay-claim-back', disabled: busyNow,
      onclick: () => { claimOpen.delete(id); claimError.delete(id); focusIn(redraw(id, ctx), 'pay-claim'); },
    }, t('pay.claim_back')));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); sendClaim(o, ctx); });
  return form;
}

async function sendClaim(o, ctx) {
  const id = o.order_id;
  if (claiming.has(id)) return;
  const ref = halfWidth(claimInput.get(id) || '').replace(/\s+/g, '');
  if (ref && !/^\d{4,6}$/.test(ref)) {
    claimError.set(id, t('pay.reference_bad'));
    focusIn(redraw(id, ctx), 'pay-reference');
    return;
  }
  claimError.delete(id);
  clearMessage();
  claiming.add(id);
  redraw(id, ctx);
  const res = await outbox.submitClaim(id, ref ? { reference: ref } : {}).catch((error) => ({ state: 'pending', error }));
  claiming.delete(id);
  if (!ctx.isCurrent()) return;
  waitingClaims = await outbox.pendingClaims().catch(() => waitingClaims);
  if (res.state === 'sent') {
    claimOpen.delete(id);
    claimInput.delete(id);
    if (res.order && res.order.order_id === id) remember(res.order);
    showSuccess(() => t('pay.claimed'), { scroll: false });
    const card = redraw(id, ctx) || cardOf(id);
    if (card) { card.setAttribute('tabindex', '-1'); focusIn(card); }
    return;
  }
  if (res.state === 'pending') {
    claimOpen.delete(id);
    showInfo(() => t('pay.claim_waiting'), { scroll: false });
    focusIn(redraw(id, ctx), 'pay-claim-waiting');
    return;
  }
  // Refused.
  const err = res.error;
  if (err && err.status === 401) { claimOpen.delete(id); ctx.rerender({ refresh: true }); return; } // signs out with the reason
  const fieldMsgs = err && err.fields && err.fields.reference;
  if (fieldMsgs) {
    claimError.set(id, [].concat(fieldMsgs).join(t('list_sep')));
    showError(() => errorText(err), { scroll: false });
    focusIn(redraw(id, ctx), 'pay-reference');
    return;
  }
  claimOpen.delete(id);
  showError(() => errorText(err), { scroll: false });
  ctx.rerender({ refresh: true }); // e.g. 422 not_claimable: show the order as it is now
}

// ---- pickup day: the newest notice, 货已到, 已取货 ----------------------------------------------

let pageCtx = null; // the orders page on screen (set once it is drawn)
const BANNER_MS = 48 * 3600 * 1000;
let bannerOrderId = null; // the order whose code and QR the notice at the top shows (its card then shows the code only)

function pickedUp(o) {
  return !!(o && (o.picked_up || o.status === 'picked_up'));
}

function methodText(m) {
  return m === 'door' ? t('notice.method_door') : t('notice.method_self');
}

function pickedUpLine(o) {
  if (!pickedUp(o)) return null;
  const p = o.picked_up || {};
  return h('p', { class: 'order-picked', 'data-testid': 'order-picked-up' },
    p.at ? t('notice.picked_up_at', { time: dateTime(p.at), method: methodText(p.method) }) : t('notice.picked_up'));
}

function pointText(p) {
  if (!p) return { name: '', note: '' };
  if (typeof p === 'string') return { name: p, note: '' };
  return { name: p.name || '', note: p.note || '' };
}

/** 「开启通知」: only while the phone has not been asked yet. */
function notifyButton() {
  if (notices.permission() !== 'default') return null;
  const btn = h('button', { type: 'button', class: 'btn btn-secondary notify-btn', 'data-testid': 'notify-enable' }, t('notice.enable'));
  const wrap = h('div', { class: 'notify', 'data-testid': 'notify' }, btn, h('p', { class: 'hint' }, t('notice.enable_hint')));
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    const r = await notices.askPermission();
    if (r === 'granted') {
      showSuccess(() => t('notice.enabled'), { scroll: false });
      wrap.remove();
      notices.enablePush(); // where the browser and the server have it; the poll works regardless
      return;
    }
    btn.disabled = false;
    if (r === 'denied') { showInfo(() => t('notice.denied'), { scroll: false }); wrap.remove(); }
  });
  return wrap;
}

/** The newest notice for the building, with the code and QR of this flat's bag in that round. */
function noticeArea(orders) {
  const area = h('div', { class: 'notice-area', 'data-testid': 'notice-area' });
  const { notices: all, checked_at: checkedAt } = notices.cached();
  const live = orders.filter((o) => !DEAD.includes(o.status));
  // Last week's notice is no news: the banner shows the last two days' (the API keeps seven). A notice goes
  // to the whole building; a flat with no live order in its round has nothing to collect and is not called down.
  const list = all.filter((x) => !(Date.parse(x.created_at) < Date.now() - BANNER_MS)
    && (!x.round_id || live.some((o) => o.round_id === x.round_id)));
  const n = list[0];
  bannerOrderId = null;
  if (!n) {
    if (live.length) { const b = notifyButton(); if (b) area.appendChild(b); }
    return area;
  }
  const order = live.find((o) => o.round_id === n.round_id) || null;
  if (order && order.pickup_code && !pickedUp(order) && !UNPAID.includes(order.status)) bannerOrderId = order.order_id;
  const arrival = n.kind === 'arrival';
  const where = pointText(n.point);
  const titleId = `notice-${n.notice_id}`;
  const codeBlock = () => {
    if (!order || !order.pickup_code) return null;
    if (pickedUp(order)) return h('div', { class: 'notice-code-box notice-done' }, pickedUpLine(order));
    return h('div', { class: 'notice-code-box' },
      h('p', { class: 'notice-code-label', id: `${titleId}-code` }, t('orders.pickup_code')),
      h('p', {
        class: 'notice-code', 'data-testid': 'notice-code', 'data-code': String(order.pickup_code), 'aria-labelledby': `${titleId}-code`,
      }, pickupCode(order.pickup_code)),
      UNPAID.includes(order.status)
        ? h('p', { class: 'notice-unpaid', 'data-testid': 'notice-unpaid' }, t('notice.unpaid'))
        : notices.pickupQr(order.round_id, order.pickup_code, { testid: 'notice-qr', size: 220 }),
      h('p', { class: 'hint' }, t('notice.code_hint')));
  };
  area.appendChild(h('section', {
    class: `notice-banner notice-${arrival ? 'arrival' : 'slot'}`, 'data-testid': 'notice-banner',
    'data-notice-id': n.notice_id, 'data-kind': n.kind || '', 'data-building': n.building || '', 'aria-labelledby': titleId,
  },
  h('h2', { class: 'notice-title', id: titleId },
    h('span', { class: 'notice-kind', 'data-testid': 'notice-kind' }, notices.noticeTitle(n)),
    n.round_name ? h('span', { class: 'notice-round' }, n.round_name) : null),
  n.starts_at
    ? h('p', { class: 'notice-when', 'data-testid': 'notice-when' },
      h('span', { class: 'notice-day' }, dayText(n.starts_at)), ' ',
      h('strong', null, spanText(n.starts_at, n.ends_at)))
    : null,
  arrival && n.created_at
    ? h('p', { class: 'notice-arrived', 'data-testid': 'notice-arrived' }, t('notice.arrived_at', { time: dateTime(n.created_at) }))
    : null,
  where.name
    ? h('p', { class: 'notice-where', 'data-testid': 'notice-where' },
      h('span', { class: 'notice-where-label' }, t('notice.where')), ' ', h('strong', null, where.name),
      where.note ? h('span', { class: 'notice-where-note' }, where.note) : null)
    : null,
  codeBlock(),
  n.text ? h('p', { class: 'notice-text', 'data-testid': 'notice-text' }, n.text) : null,
  checkedAt ? h('p', { class: 'notice-age', 'data-testid': 'notice-age', 'data-ago': checkedAt }, notices.agoText(checkedAt)) : null,
  list.length > 1
    ? h('details', { class: 'notice-older', 'data-testid': 'notice-older' },
      h('summary', null, t('notice.older', { n: list.length - 1 })),
      h('ul', null, list.slice(1, 10).map((x) => h('li', { 'data-testid': 'notice-older-item' },
        h('strong', null, notices.noticeTitle(x)), ' ',
        x.text || '',
        x.created_at ? h('span', { class: 'hint' }, ` (${dateTime(x.created_at)})`) : null))))
    : null));
  const b = notifyButton();
  if (b) area.appendChild(b);
  return area;
}

/** New notices while the page is open: the orders (货已到, slots) and the banner are brought up to date in place. */
async function onNotices(ev) {
  const ctx = pageCtx;
  if (!ctx || !ctx.isCurrent()) return;
  const added = (ev.detail && ev.detail.added) || [];
  const s = session.get();
  if (added.length && s) {
    try { await load(cacheKey(s), true); } catch (e) { /* no signal: the saved copy stays */ }
    if (!ctx.isCurrent() || pageCtx !== ctx) return;
  }
  const orders = cache && cache.data && Array.isArray(cache.data.orders) ? cache.data.orders : [];
  const old = document.querySelector('[data-testid="notice-area"]');
  if (old) old.replaceWith(noticeArea(orders));
  if (added.length) orders.forEach((o) => redraw(o.order_id, ctx));
  startCountdowns();
}
window.addEventListener(notices.EVENT, (ev) => { onNotices(ev); });
