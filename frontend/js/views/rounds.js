// #/rounds: the community's rounds, bundle cards with steppers, checkout bar.
import { t } from '../i18n.js';
import { api, errorText } from '../api.js';
import * as session from '../session.js';
import * as outbox from '../outbox.js';
import { h, clear, showError, showSuccess, clearMessage } from '../ui.js';
import { money, dateTime, timeOfDay } from '../format.js';
import { go } from '../nav.js';
import { bundleCard as makeBundleCard } from '../bundles.js';
import { refreshMembership, isNotAMember, waitingBanner, requestsBanner } from './household.js';

const CART_KEY = 'baogong.cart';
const CACHE_KEY = 'baogong.cache.rounds';
const STATUS_ORDER = { open: 0, upcoming: 1, closed: 2 };

// ---- cart: one round at a time, {round_id, qty: {bundle_id: n}} ----------
function loadCart() {
  try {
    const c = JSON.parse(localStorage.getItem(CART_KEY) || 'null');
    if (c && c.qty) return c;
  } catch (e) { /* ignore */ }
  return { round_id: null, qty: {} };
}
function saveCart(c) {
  try { localStorage.setItem(CART_KEY, JSON.stringify(c)); } catch (e) { /* ignore */ }
}
function cartCount(c) { return Object.values(c.qty).reduce((a, n) => a + n, 0); }

function maxQty(b) {
  const stock = Number.isFinite(b.stock_left) ? b.stock_left : 0;
  const limit = Number.isFinite(b.per_household_limit) && b.per_household_limit > 0 ? b.per_household_limit : Infinity;
  return Math.max(0, Math.min(stock, limit));
}

// ---- data ----------------------------------------------------------------
let cache = null; // {community_id, data, saved_at, stale}

async function load(communityId, refresh) {
  if (!refresh && cache && cache.community_id === communityId) return cache;
  try {
    const data = await api(`/api/rounds?community_id=${encodeURIComponent(communityId)}`);
    cache = { community_id: communityId, data, saved_at: new Date().toISOString(), stale: false };
    try { localStorage.setItem(CACHE_KEY, JSON.stringify(cache)); } catch (e) { /* full: fine */ }
  } catch (err) {
    if (err.status !== 0) throw err;
    // No signal: show what we saw last time, clearly marked as old.
    let saved = null;
    try { saved = JSON.parse(localStorage.getItem(CACHE_KEY) || 'null'); } catch (e) { /* ignore */ }
    if (!saved || saved.community_id !== communityId) throw err;
    cache = { ...saved, stale: true };
  }
  return cache;
}

// ---- view ----------------------------------------------------------------
export async function roundsView(root, params, ctx) {
  const s = session.get();
  if (!cache || ctx.refresh) {
    clear(root);
    root.appendChild(h('p', { class: 'loading' }, t('loading')));
  }
  // One cheap call keeps the membership fresh: an approval shows up without registering again.
  const [data, pend, member] = await Promise.all([
    load(s.community_id, ctx.refresh), outbox.pending(), ctx.refresh ? refreshMembership() : null,
  ]);
  if (!ctx.isCurrent()) return;
  if (member && member.becameMember) showSuccess(() => t('household.approved_me'));
  draw(root, data, pend, ctx);
}

function draw(root, c, pend, ctx) {
  clear(root);
  const rounds = (c.data && Array.isArray(c.data.rounds) ? c.data.rounds : [])
    .slice()
    .sort((a, b) => (STATUS_ORDER[a.status] ?? 3) - (STATUS_ORDER[b.status] ?? 3));
  const openRounds = rounds.filter((r) => r.status === 'open');
  const bundleIndex = new Map(); // bundle_id -> {bundle, round}
  rounds.forEach((r) => (r.bundles || []).forEach((b) => bundleIndex.set(b.bundle_id, { bundle: b, round: r })));

  // Keep the cart within what can still be ordered.
  const cart = loadCart();
  let adjusted = false;
  const cartRound = rounds.find((r) => r.round_id === cart.round_id);
  if (cart.round_id && (!cartRound || cartRound.status !== 'open')) {
    if (cartCount(cart) > 0) adjusted = true;
    cart.round_id = null; cart.qty = {};
  }
  for (const [id, n] of Object.entries(cart.qty)) {
    const e = bundleIndex.get(id);
    const m = e ? maxQty(e.bundle) : 0;
    if (n > m) { adjusted = adjusted || n > 0; cart.qty[id] = m; }
    if (!cart.qty[id]) delete cart.qty[id];
  }
  if (!Object.keys(cart.qty).length) cart.round_id = null;
  saveCart(cart);

  // A phone waiting for its flat's approval may look, not order: no steppers, no checkout, no outbox.
  const waiting = session.isPending();
  const locked = !!pend && !waiting; // an unconfirmed checkout: do not let the cart drift from it
  const refs = new Map(); // bundle_id -> {minus, plus, value}

  const section = h('section', { class: 'rounds', 'aria-labelledby': 'rounds-title' },
    h('h1', { id: 'rounds-title', class: 'page-title' }, t('rounds.title')));
  if (waiting) section.appendChild(waitingBanner());
  else if (requestsBanner()) section.appendChild(requestsBanner());
  if (c.stale) section.appendChild(h('p', { class: 'msg msg-warn', 'data-testid': 'stale-notice' }, t('rounds.stale', { time: timeOfDay(c.saved_at) })));
  if (adjusted) section.appendChild(h('p', { class: 'msg msg-warn', 'data-testid': 'adjusted-notice' }, t('rounds.adjusted')));
  if (locked) section.appendChild(h('p', { class: 'msg msg-warn', 'data-testid': 'pending-notice' }, t('cart.pending')));

  if (!rounds.length) section.appendChild(h('p', { class: 'empty' }, t('rounds.none')));

  for (const r of rounds) section.appendChild(roundSection(r));
  root.appendChild(section);

  // ---- checkout bar ----
  const total = h('span', { class: 'total-amount', 'data-testid': 'order-total' }, '');
  const count = h('span', { class: 'total-count' }, '');
  const submit = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'order-submit' }, '');
  const discard = locked
    ? h('button', { type: 'button', class: 'btn btn-link', 'data-testid': 'order-discard' }, t('cart.discard'))
    : null;
  const bar = h('div', { class: 'cartbar', role: 'region', 'aria-label': t('cart.total') },
    h('div', { class: 'cartbar-inner' },
      h('p', { class: 'total', 'aria-live': 'polite' }, h('span', { class: 'total-label' }, t('cart.total'), ' '), total, count),
      submit,
      discard));
  if (openRounds.length || locked) {
    root.appendChild(bar);
    document.body.classList.add('has-cartbar');
  } else {
    document.body.classList.remove('has-cartbar');
  }

  function linesFromCart() {
    return Object.entries(cart.qty)
      .filter(([, n]) => n > 0)
      .map(([bundle_id, qty]) => ({ bundle_id, qty }))
      .sort((a, b) => (a.bundle_id < b.bundle_id ? -1 : 1));
  }

  function priceOf(id) {
    const e = bundleIndex.get(id);
    return e ? Math.trunc(e.bundle.price_fen) : 0;
  }

  function updateBar() {
    const lines = locked ? pend.body.lines : linesFromCart();
    let fen = 0; let n = 0;
    for (const l of lines) { fen += priceOf(l.bundle_id) * l.qty; n += l.qty; }
    total.textContent = money(fen);
    count.textContent = n ? ` · ${t('cart.count', { n })}` : '';
    submit.textContent = waiting ? t('household.waiting_submit') : (locked ? t('cart.retry') : t('cart.submit'));
    submit.disabled = waiting || (!locked && n === 0);
    submit.setAttribute('aria-disabled', submit.disabled ? 'true' : 'false');
  }

  function updateBundle(b) {
    const ref = refs.get(b.bundle_id);
    if (!ref) return;
    const q = locked ? ((pend.body.lines.find((l) => l.bundle_id === b.bundle_id) || {}).qty || 0) : (cart.qty[b.bundle_id] || 0);
    const m = maxQty(b);
    ref.value.textContent = String(q);
    ref.minus.disabled = waiting || locked || q <= 0;
    ref.plus.disabled = waiting || locked || q >= m;
    ref.card.classList.toggle('chosen', q > 0);
  }

  function change(r, b, delta) {
    if (locked || waiting) return;
    const others = cart.round_id && cart.round_id !== r.round_id && cartCount(cart) > 0;
    if (others) {
      const other = rounds.find((x) => x.round_id === cart.round_id);
      showError(() => t('cart.one_round', { name: other ? other.name : '' }), { scroll: false });
      return;
    }
    const m = maxQty(b);
    const q = Math.max(0, Math.min(m, (cart.qty[b.bundle_id] || 0) + delta));
    if (q) cart.qty[b.bundle_id] = q; else delete cart.qty[b.bundle_id];
    cart.round_id = Object.keys(cart.qty).length ? r.round_id : null;
    saveCart(cart);
    updateBundle(b);
    updateBar();
  }

  function roundSection(r) {
    const open = r.status === 'open';
    const sec = h('section', { class: `round round-${r.status}`, 'data-testid': 'round', 'data-round-id': r.round_id, 'data-status': r.status },
      h('div', { class: 'round-head' },
        h('h2', null, r.name),
        h('span', { class: `badge badge-${r.status}` }, t(`rounds.status.${r.status}`))),
      h('dl', { class: 'facts' },
        r.supplier && r.supplier.name ? [h('dt', null, t('rounds.supplier')), h('dd', null, r.supplier.name)] : null,
        r.status === 'upcoming' && r.opens_at ? [h('dt', null, t('rounds.opens_at')), h('dd', null, dateTime(r.opens_at))] : null,
        r.closes_at ? [h('dt', null, t('rounds.closes_at')), h('dd', { 'data-testid': 'closes-at' }, dateTime(r.closes_at))] : null,
        r.payment_deadline ? [h('dt', null, t('rounds.payment_deadline')), h('dd', { 'data-testid': 'payment-deadline' }, dateTime(r.payment_deadline))] : null));
    if (!open) sec.appendChild(h('p', { class: 'not-orderable' }, t('rounds.not_orderable')));
    if (r.status !== 'closed') {
      const list = h('div', { class: 'bundles' });
      (r.bundles || []).forEach((b) => list.appendChild(bundleCard(r, b, open)));
      sec.appendChild(list);
    }
    return sec;
  }

  function bundleCard(r, b, open) {
    const { card, refs: ref } = makeBundleCard(b, {
      titleId: `b-${r.round_id}-${b.bundle_id}`,
      onStep: open ? (delta) => change(r, b, delta) : null,
    });
    if (ref) {
      refs.set(b.bundle_id, ref);
      updateBundle(b);
    }
    return card;
  }

  async function onSubmit() {
    if (waiting || session.isPending()) return; // never into the outbox: the API would refuse it (404 not_a_member)
    let body;
    let roundName = '';
    if (locked) {
      body = pend.body; // same attempt, same Idempotency-Key
    } else {
      const lines = linesFromCart();
      if (!lines.length) { showError(() => t('cart.empty'), { scroll: false }); return; }
      body = { round_id: cart.round_id, lines };
      const r = rounds.find((x) => x.round_id === cart.round_id);
      roundName = r ? r.name : '';
    }
    clearMessage();
    submit.disabled = true;
    submit.textContent = t('cart.submitting');
    refs.forEach((ref) => { ref.minus.disabled = true; ref.plus.disabled = true; });
    if (discard) discard.disabled = true;

    const res = await outbox.submit(body, { round_name: roundName });
    if (!ctx.isCurrent()) return;
    if (res.state === 'sent') {
      saveCart({ round_id: null, qty: {} });
      showSuccess(() => t('order.success'));
      go('#/orders');
      return;
    }
    if (res.state === 'pending') {
      // Kept for the next sign-in: the page reloads, and a refused sign-in goes back to the start.
      if (res.error && res.error.status === 401) throw res.error;
      showError(() => t('cart.pending'), { scroll: false });
      ctx.rerender({ refresh: false });
      return;
    }
    // Refused: show why, and reload so stock and round status are fresh.
    const err = res.error;
    if (err && err.status === 401) throw err;
    if (isNotAMember(err)) { ctx.rerender({ refresh: true }); return; } // shows the waiting banner
    showError(() => errorText(err), { scroll: false });
    ctx.rerender({ refresh: true });
  }

  submit.addEventListener('click', () => {
    onSubmit().catch((err) => {
      if (err && err.status === 401) { ctx.rerender({ refresh: true }); return; }
      showError(() => errorText(err), { scroll: false });
      ctx.rerender({ refresh: false });
    });
  });
  if (discard) {
    discard.addEventListener('click', async () => {
      if (!window.confirm(t('cart.discard_confirm'))) return;
      await outbox.remove(pend.key);
      clearMessage();
      ctx.rerender({ refresh: true });
    });
  }
  updateBar();
}
