// #/staff/households/<flat_ref>/order: an order placed by the liaison for a household (代下单).
// Same stock, limits and refusals as a resident's order; one Idempotency-Key per attempt, kept
// (also across a reload) until the server has answered, so a lost reply never orders twice.
import '../strings/roster.js';
import { t } from '../i18n.js';
import { staffApi } from '../api.js';
import { uuid } from '../outbox.js';
import { h, clear, showError, showSuccess, clearMessage } from '../ui.js';
import { money, dateTime, pickupCode } from '../format.js';
import { bundleCard } from '../bundles.js';
import {
  consoleStaff, consoleNav, drawLoadError, staffErrorText, hpath, busy, radioTiles, statusText, DEAD, exemptionLink,
} from './roster.js';

let state = null; // {cid, ref, household, rounds, roundId, qty: {bundle_id: n}, done: order|null, refused: ApiError|null}

const attemptKey = (ref) => `baogong.assist.${ref}`;
function loadAttempt(ref) {
  try {
    const a = JSON.parse(sessionStorage.getItem(attemptKey(ref)) || 'null');
    return a && a.key && a.body ? a : null;
  } catch (e) { return null; }
}
function saveAttempt(ref, a) {
  try {
    if (a) sessionStorage.setItem(attemptKey(ref), JSON.stringify(a));
    else sessionStorage.removeItem(attemptKey(ref));
  } catch (e) { /* private mode: the attempt lives in memory only */ }
}

const openRounds = () => (state.rounds || []).filter((r) => r.status === 'open');
const currentRound = () => openRounds().find((r) => r.round_id === state.roundId) || null;

/** bundle_id -> how many this household already has in its live orders of the round. */
function alreadyOrdered(roundId) {
  const n = new Map();
  const orders = Array.isArray(state.household && state.household.orders) ? state.household.orders : [];
  for (const o of orders) {
    if (o.round_id !== roundId || DEAD.includes(o.status)) continue;
    for (const l of o.lines || []) n.set(l.bundle_id, (n.get(l.bundle_id) || 0) + (Number(l.qty) || 0));
  }
  return n;
}

/** The most that may be chosen: the stock left, and what is left of the per-household limit. */
function maxQty(b, ordered) {
  const stock = Number.isFinite(b.stock_left) ? b.stock_left : 0;
  const limit = Number.isFinite(b.per_household_limit) && b.per_household_limit > 0
    ? b.per_household_limit - ((ordered && ordered.get(b.bundle_id)) || 0) : Infinity;
  return Math.max(0, Math.min(stock, limit));
}

async function fetchAll(cid, ref) {
  const [household, rounds] = await Promise.all([
    staffApi(hpath(cid, ref)),
    staffApi(`/api/rounds?community_id=${encodeURIComponent(cid)}`),
  ]);
  return { household, rounds: Array.isArray(rounds && rounds.rounds) ? rounds.rounds : [] };
}

/** Keep the chosen round and quantities within what can be ordered now. */
function settle() {
  const open = openRounds();
  if (!open.find((r) => r.round_id === state.roundId)) {
    state.roundId = open.length ? open[0].round_id : null;
    state.qty = {};
  }
  const r = currentRound();
  const bundles = new Map(((r && r.bundles) || []).map((b) => [b.bundle_id, b]));
  const ordered = r ? alreadyOrdered(r.round_id) : new Map();
  for (const [id, n] of Object.entries(state.qty)) {
    const b = bundles.get(id);
    const m = b ? maxQty(b, ordered) : 0;
    if (n > m) state.qty[id] = m;
    if (!state.qty[id]) delete state.qty[id];
  }
}

export async function assistView(root, [flatRef], ctx) {
  const s = consoleStaff(root);
  if (!s) return;
  const cid = s.scope_id;
  const same = state && state.cid === cid && state.ref === flatRef;
  if (ctx.refresh || !same) {
    clear(root);
    root.appendChild(h('p', { class: 'loading' }, t('loading')));
    let got;
    try {
      got = await fetchAll(cid, flatRef);
    } catch (err) {
      if (!ctx.isCurrent()) return;
      drawLoadError(root, err, ctx, [consoleNav('roster'), backLink(flatRef)]);
      return;
    }
    if (!ctx.isCurrent()) return;
    state = { cid, ref: flatRef, ...got, roundId: null, qty: {}, done: null, refused: null };
    // An attempt whose reply never came: offer it again with the same key.
    const a = loadAttempt(flatRef);
    if (a) {
      try {
        const body = JSON.parse(a.body);
        state.roundId = body.round_id;
        for (const l of body.lines || []) state.qty[l.bundle_id] = l.qty;
      } catch (e) { saveAttempt(flatRef, null); }
    }
    settle();
  }
  draw(root, ctx);
}

function backLink(ref) {
  return h('a', { class: 'back', href: `#/staff/households/${ref}`, 'data-testid': 'back-household' }, t('console.back_household'));
}

function flatLabel() {
  return (state.household && state.household.flat_label) || state.ref;
}

function draw(root, ctx) {
  clear(root);
  if (state.done) { drawDone(root, ctx); return; }
  const sec = h('section', { class: 'console assist', 'aria-labelledby': 'assist-title' },
    consoleNav('roster'),
    backLink(state.ref),
    h('h1', { id: 'assist-title', class: 'page-title', 'data-testid': 'assist-title' }, t('assist.title')),
    h('p', { class: 'assist-for', 'data-testid': 'assist-flat' }, t('assist.for', { flat: flatLabel() })));
  root.appendChild(sec);

  const open = openRounds();
  if (!open.length) {
    sec.appendChild(h('p', { class: 'msg msg-info', 'data-testid': 'assist-no-round' }, t('assist.no_round')));
    return;
  }
  if (open.length > 1) {
    const tiles = radioTiles('assist-round', t('assist.choose_round'), open.map((r) => ({ value: r.round_id, label: r.name })), state.roundId, 'assist-round');
    tiles.addEventListener('change', (ev) => {
      state.roundId = ev.target.value;
      state.qty = {};
      state.refused = null;
      draw(root, ctx);
    });
    sec.appendChild(tiles);
  }
  const r = currentRound();
  const orders = Array.isArray(state.household && state.household.orders) ? state.household.orders : [];
  const existing = orders.find((o) => o.round_id === r.round_id && !DEAD.includes(o.status));
  if (existing) sec.appendChild(h('p', { class: 'msg msg-warn', 'data-testid': 'assist-has-order' }, t('assist.has_order', { status: statusText(existing.status) })));
  if (loadAttempt(state.ref)) sec.appendChild(h('p', { class: 'msg msg-warn', 'data-testid': 'assist-retry-hint' }, t('assist.retry_hint')));

  const ordered = alreadyOrdered(r.round_id);
  const refs = new Map();
  const total = h('span', { class: 'total-amount', 'data-testid': 'assist-total' }, '');
  const count = h('span', { class: 'total-count' }, '');
  const submit = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'assist-submit' }, t('assist.submit'));
  const refusedText = (err) => t('assist.refused', { reason: staffErrorText(err) });
  const refused = h('p', { class: 'msg msg-error', 'data-testid': 'assist-error', role: 'alert', hidden: !state.refused },
    state.refused ? refusedText(state.refused) : '');

  const update = () => {
    let fen = 0; let n = 0;
    for (const b of r.bundles || []) {
      const q = state.qty[b.bundle_id] || 0;
      fen += Math.trunc(b.price_fen) * q;
      n += q;
      const ref = refs.get(b.bundle_id);
      if (ref) {
        ref.value.textContent = String(q);
        ref.minus.disabled = q <= 0;
        ref.plus.disabled = q >= maxQty(b, ordered);
        ref.card.classList.toggle('chosen', q > 0);
      }
    }
    total.textContent = money(fen);
    count.textContent = n ? ` · ${t('cart.count', { n })}` : '';
    submit.disabled = n === 0;
  };
  const change = (b, d) => {
    const q = Math.max(0, Math.min(maxQty(b, ordered), (state.qty[b.bundle_id] || 0) + d));
    if (q) state.qty[b.bundle_id] = q; else delete state.qty[b.bundle_id];
    update();
  };

  const bundles = h('div', { class: 'bundles' }, (r.bundles || []).map((b) => {
    const already = ordered.get(b.bundle_id);
    const { card, refs: ref } = bundleCard(b, {
      titleId: `ab-${b.bundle_id}`,
      onStep: (delta) => change(b, delta),
      extra: already ? h('span', { class: 'limit', 'data-testid': 'assist-already' }, t('assist.already', { n: already })) : null,
    });
    refs.set(b.bundle_id, ref);
    return card;
  }));

  sec.appendChild(h('section', { class: 'round', 'data-testid': 'round', 'data-round-id': r.round_id, 'aria-labelledby': 'assist-round-name' },
    h('div', { class: 'round-head' }, h('h2', { id: 'assist-round-name' }, r.name)),
    h('dl', { class: 'facts' },
      r.closes_at ? [h('dt', null, t('rounds.closes_at')), h('dd', null, dateTime(r.closes_at))] : null,
      r.payment_deadline ? [h('dt', null, t('rounds.payment_deadline')), h('dd', null, dateTime(r.payment_deadline))] : null),
    bundles));
  sec.appendChild(h('div', { class: 'assist-bar', role: 'region', 'aria-label': t('cart.total') },
    h('p', { class: 'total', 'aria-live': 'polite' }, h('span', { class: 'total-label' }, t('cart.total'), ' '), total, count),
    refused,
    // Refused by the fair-share rule (每户每N天一单): the household page can let it off for this round.
    state.refused && state.refused.code === 'fair_share' ? exemptionLink(state.ref, { testid: 'assist-exempt-link' }) : null,
    submit));
  update();

  submit.addEventListener('click', async () => {
    const lines = Object.entries(state.qty).filter(([, n]) => n > 0)
      .map(([bundle_id, qty]) => ({ bundle_id, qty }))
      .sort((a, b) => (a.bundle_id < b.bundle_id ? -1 : 1));
    if (!lines.length) { showError(() => t('assist.empty'), { scroll: false }); return; }
    const body = { round_id: r.round_id, lines };
    const json = JSON.stringify(body);
    let attempt = loadAttempt(state.ref);
    if (!attempt || attempt.body !== json) {
      attempt = { key: uuid(), body: json };
      saveAttempt(state.ref, attempt);
    }
    clearMessage();
    state.refused = null;
    refused.hidden = true;
    const done = busy(submit);
    refs.forEach((x) => { x.minus.disabled = true; x.plus.disabled = true; });
    try {
      const order = await staffApi(hpath(state.cid, state.ref, '/orders'), {
        method: 'POST', body, headers: { 'Idempotency-Key': attempt.key },
      });
      saveAttempt(state.ref, null);
      if (!ctx.isCurrent()) return;
      state.done = order || {};
      state.qty = {};
      showSuccess(() => t('assist.done_title'), { scroll: false });
      draw(root, ctx);
      window.scrollTo(0, 0);
    } catch (err) {
      if (!ctx.isCurrent()) return;
      if (err && err.retryable) {
        // No answer, or the server is busy: the same attempt (same key) may be sent again.
        done();
        update();
        showError(() => `${staffErrorText(err)}${t('list_sep')}${t('assist.retry_hint')}`, { scroll: false });
        return;
      }
      // Refused for good (sold out, over the limit, round closed…): a new attempt next time, fresh stock now.
      saveAttempt(state.ref, null);
      showError(() => refusedText(err), { scroll: false });
      state.refused = err;
      try {
        const got = await fetchAll(state.cid, state.ref);
        Object.assign(state, got);
        settle();
      } catch (e2) { /* keep the old stock on screen */ }
      if (!ctx.isCurrent()) return;
      draw(root, ctx);
      const el = root.querySelector('[data-testid="assist-error"]');
      if (el && el.scrollIntoView) el.scrollIntoView({ block: 'center' });
    }
  });
}

function drawDone(root, ctx) {
  const o = state.done;
  const lines = Array.isArray(o.lines) ? o.lines : [];
  root.appendChild(h('section', { class: 'console assist-done', 'aria-labelledby': 'assist-done-title', 'data-testid': 'assist-done', 'data-order-id': o.order_id },
    consoleNav('roster'),
    h('div', { class: 'staff-icon', 'aria-hidden': 'true' }, '✓'),
    h('h1', { id: 'assist-done-title', class: 'center', 'data-testid': 'assist-done-title' }, t('assist.done_title')),
    h('p', { class: 'assist-for center', 'data-testid': 'assist-flat' }, flatLabel()),
    o.pickup_code ? h('div', { class: 'pickup' },
      h('p', { class: 'pickup-label', id: 'assist-code-label' }, t('assist.pickup_code')),
      h('p', { class: 'pickup-code', 'data-testid': 'assist-pickup-code', 'data-code': String(o.pickup_code), 'aria-labelledby': 'assist-code-label' },
        pickupCode(o.pickup_code))) : null,
    lines.length ? h('ul', { class: 'lines' }, lines.map((l) => h('li', null,
      h('span', null, t('orders.line', { name: l.name || l.bundle_id, qty: l.qty })),
      Number.isFinite(l.price_fen) ? h('span', { class: 'line-amount' }, money(l.price_fen * l.qty)) : null))) : null,
    h('p', { class: 'order-total' }, h('span', null, t('orders.total')), h('strong', { 'data-testid': 'assist-done-total' }, money(o.total_fen))),
    h('p', { class: 'msg msg-info' }, t('assist.done_hint')),
    h('a', { class: 'btn btn-primary btn-big', href: `#/staff/households/${state.ref}`, 'data-testid': 'assist-back' }, t('assist.back')),
    h('button', {
      type: 'button', class: 'btn btn-secondary', 'data-testid': 'assist-again',
      onclick: () => { clearMessage(); ctx.rerender({ refresh: true }); },
    }, t('assist.again'))));
}
