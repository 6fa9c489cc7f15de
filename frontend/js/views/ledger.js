// #/staff/ledger: the community's receive and distribute ledger (收发台账; plan 3), for its liaison and
// information officer; the community is the staff member's scope. Allocations on their way, with
// 「确认收货」 once dispatched (the receive line is written by the server in the same step); the balance
// per category and unit; the distribute form against a received allocation (the server refuses to go
// below zero: 422 insufficient_balance, shown under the form); 「分发完毕」 once an allocation is all
// given out; and the lines, newest first, each with 「更正」: a correction is a new line that names the
// one it corrects, never an edit.
import '../strings/roster.js';
import '../strings/supply.js';
import { t } from '../i18n.js';
import { staffApi } from '../api.js';
import * as staff from '../staff.js';
import { h, clear, showSuccess, showError, clearMessage } from '../ui.js';
import { halfWidth, dateTime } from '../format.js';
import { makeForm } from '../forms.js';
import { drawLoadError, staffErrorText, showStaffError, busy, cpath, radioTiles, radioValue } from './roster.js';
import {
  supplyStaff, setTitle, backLink, allocationLine, statusBadge, qtyText, unitText, fact, historyList, dayText, countValue,
  balancesBlock, ledgerLines, select, statusText, catText, actionKey, actionSettled,
} from './supply.js';

let state = null; // {who, cid, balances, lines, allocations, loaded}

export async function ledgerView(root, params, ctx) {
  const s = supplyStaff(root, staff.CONSOLE_ROLES, 'lg.only_console');
  setTitle('lg.title');
  if (!s) return;
  const who = `${s.role}.${s.scope_id}`;
  if (!state || state.who !== who) state = { who, cid: s.scope_id, loaded: false, distAid: '' };
  if (ctx.refresh || !state.loaded) {
    clear(root);
    root.appendChild(h('p', { class: 'loading' }, t('loading')));
    try {
      await load();
    } catch (err) {
      if (!ctx.isCurrent()) return;
      drawLoadError(root, err, ctx, [header()]);
      return;
    }
    if (!ctx.isCurrent()) return;
  }
  draw(root, ctx);
}

async function load() {
  const [l, a] = await Promise.all([staffApi(cpath(state.cid, '/ledger')), staffApi(cpath(state.cid, '/allocations'))]);
  state.balances = (l && l.balances) || [];
  state.lines = (l && l.lines) || [];
  state.allocations = (a && a.allocations) || [];
  state.loaded = true;
}

function header() {
  return [
    backLink('lg-back'),
    h('h1', { id: 'lg-title', class: 'page-title', 'data-testid': 'lg-title', tabindex: '-1' }, t('lg.title')),
  ];
}

async function refresh(root, ctx, focusSel) {
  try {
    await load();
  } catch (err) {
    showStaffError(err);
    return;
  }
  if (!ctx.isCurrent()) return;
  draw(root, ctx);
  if (focusSel) { const el = root.querySelector(focusSel); if (el) el.focus(); }
}

function draw(root, ctx) {
  clear(root);
  const incoming = state.allocations.filter((a) => ['requested', 'allocated', 'dispatched'].includes(a.status));
  const received = state.allocations.filter((a) => a.status === 'received');
  root.appendChild(h('section', { class: 'console ledger', 'aria-labelledby': 'lg-title' },
    header(),
    h('div', { class: 'block', 'data-testid': 'lg-incoming' },
      h('h2', null, t('lg.incoming', { n: incoming.length })),
      incoming.length
        ? h('ul', { class: 'sup-cards' }, incoming.map((a) => allocCard(a, root, ctx)))
        : h('p', { class: 'empty-inline', 'data-testid': 'lg-incoming-none' }, t('lg.incoming_none'))),
    h('div', { class: 'block' },
      h('h2', { id: 'lg-balances-title' }, t('lg.balances')),
      balancesBlock(state.balances)),
    distributeForm(received, root, ctx),
    received.length ? h('div', { class: 'block', 'data-testid': 'lg-received' },
      h('h2', null, t('lg.received', { n: received.length })),
      h('p', { class: 'hint' }, t('lg.received_hint')),
      h('ul', { class: 'sup-cards' }, received.map((a) => allocCard(a, root, ctx)))) : null,
    h('div', { class: 'block' },
      h('h2', { id: 'lg-lines-title', tabindex: '-1' }, t('lg.lines')),
      ledgerLines(state.lines, { allocations: state.allocations, onCorrect: (line, li) => openCorrection(line, li, root, ctx) }))));
}

function allocCard(a, root, ctx) {
  const next = a.status === 'dispatched' ? 'received' : a.status === 'received' ? 'distributed' : null;
  const note = h('p', { class: 'field-error', 'data-testid': 'lg-alloc-error', hidden: true });
  const li = h('li', { class: 'sup-card sup-alloc', 'data-testid': 'lg-alloc', 'data-allocation-id': a.allocation_id, 'data-status': a.status },
    h('div', { class: 'sup-card-head' },
      h('p', { class: 'sup-card-title' }, allocationLine(a)),
      statusBadge(a.status, 'lg-alloc-status')),
    h('dl', { class: 'sup-facts' },
      a.deliver_at ? fact(t('sup.f.deliver_at'), dateTime(a.deliver_at)) : null,
      fact(t('sup.f.source'), a.source === 'reserve' ? t('sup.reserve_of', { name: a.reserve_name || '' }) : (a.supplier_name || '')),
      a.contact_name || a.contact_phone_masked ? fact(t('sup.f.contact'), [a.contact_name, a.contact_phone_masked].filter(Boolean).join(' ')) : null,
      a.allocated_on ? fact(t('sup.f.allocated_on'), dayText(a.allocated_on)) : null),
    historyList(a.history),
    note);
  if (next) {
    const btn = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': `lg-${next}`, 'data-to': next }, t(`lg.advance.${next}`));
    btn.addEventListener('click', async () => {
      clearMessage();
      note.hidden = true;
      const done = busy(btn);
      try {
        await staffApi(`/api/allocations/${encodeURIComponent(a.allocation_id)}/advance`, { method: 'POST', body: { to: next } });
        showSuccess(() => t('sup.advanced', { what: allocationLine(a), status: statusText(next) }), { scroll: false });
        await refresh(root, ctx, next === 'received' ? '#lg-balances-title' : '#lg-lines-title');
      } catch (err) {
        if (btn.isConnected) done();
        note.textContent = staffErrorText(err);
        note.hidden = false;
        showStaffError(err);
      }
    });
    li.appendChild(btn);
  } else if (a.status !== 'dispatched') {
    li.appendChild(h('p', { class: 'hint' }, t('lg.on_the_way')));
  }
  return li;
}

function distributeForm(received, root, ctx) {
  if (!received.length) {
    return h('div', { class: 'block', 'data-testid': 'lg-dist-none' },
      h('h2', null, t('lg.distribute')), h('p', { class: 'empty-inline' }, t('lg.distribute_none')));
  }
  const form = makeForm('lg-dist', 'lg-dist');
  if (!received.some((a) => a.allocation_id === state.distAid)) state.distAid = received[0].allocation_id;
  const alloc = select(received.map((a) => ({ value: a.allocation_id, label: allocationLine(a) })), state.distAid);
  const qty = h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'off' });
  const unitHint = h('p', { class: 'hint', 'data-testid': 'lg-dist-left' });
  const paintLeft = () => {
    const a = received.find((x) => x.allocation_id === alloc.value);
    const bal = a && state.balances.find((b) => b.category === a.category && b.unit === a.unit);
    unitHint.textContent = a ? t('lg.left', {
      what: catText(a.category), qty: qtyText(bal ? bal.balance : 0, a.unit),
      left: qtyText(a.left_to_distribute ?? (Number(a.quantity) - Number(a.distributed_qty || 0)), a.unit),
    }) : '';
  };
  alloc.addEventListener('change', () => { state.distAid = alloc.value; paintLeft(); });
  paintLeft();
  const to = radioTiles('lg-dist-to', t('lg.f.to'), ['households', 'round', 'special'].map((k) => ({ value: k, label: t(`lg.to.${k}`) })),
    'households', 'lg-dist-to');
  const toText = h('input', { type: 'text', maxlength: '80', autocomplete: 'off', placeholder: t('lg.to_ph') });
  const noteIn = h('input', { type: 'text', maxlength: '100', autocomplete: 'off' });
  const err = h('p', { class: 'msg msg-error', 'data-testid': 'lg-dist-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-big', 'data-testid': 'lg-dist-submit' }, t('lg.distribute_submit'));
  const el = h('form', { class: 'block sup-form', novalidate: true, 'data-testid': 'lg-dist-form', 'aria-labelledby': 'lg-dist-title' },
    h('h2', { id: 'lg-dist-title' }, t('lg.distribute')),
    form.field('allocation_id', t('lg.f.allocation'), alloc),
    unitHint,
    form.field('quantity', t('sup.f.quantity'), qty),
    to,
    form.field('to', t('lg.f.to_text'), toText, t('lg.to_hint')),
    form.field('note', t('lg.f.note'), noteIn),
    err,
    submit);
  el.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearMessage();
    form.clearErrors();
    err.hidden = true;
    const body = {
      allocation_id: alloc.value,
      quantity: countValue(qty.value, { min: 1 }),
      to: { kind: radioValue(to, 'lg-dist-to'), text: halfWidth(toText.value) },
    };
    if (halfWidth(noteIn.value)) body.note = halfWidth(noteIn.value);
    let bad = false;
    if (body.quantity === null) { form.setError('quantity', [t('sup.err.quantity')]); bad = true; }
    if (!body.to.text) { form.setError('to', [t('err.required')]); bad = true; }
    if (bad) { form.focusFirst(); return; }
    const done = busy(submit);
    try {
      const key = actionKey(`distribute.${state.cid}`, body);
      const line = await staffApi(cpath(state.cid, '/ledger/distribute'),
        { method: 'POST', body, headers: { 'Idempotency-Key': key } });
      actionSettled(`distribute.${state.cid}`);
      const a = received.find((x) => x.allocation_id === body.allocation_id);
      showSuccess(() => t('lg.distributed', { qty: qtyText(body.quantity, a ? a.unit : (line && line.unit)), to: body.to.text }), { scroll: false });
      await refresh(root, ctx, '#lg-lines-title');
    } catch (e) {
      actionSettled(`distribute.${state.cid}`, e);
      if (submit.isConnected) done();
      const extra = form.applyServer(e);
      err.textContent = [staffErrorText(e), ...extra].join(t('list_sep'));
      err.hidden = false;
      showError(() => staffErrorText(e), { scroll: false });
    }
  });
  return el;
}

function openCorrection(line, li, root, ctx) {
  const open = li.querySelector('.lg-correct');
  if (open) { open.remove(); return; }
  const form = makeForm(`lg-c-${line.line_id}`, 'lg-c');
  const delta = h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'off', placeholder: '-2' });
  const reason = h('input', { type: 'text', maxlength: '100', autocomplete: 'off' });
  const err = h('p', { class: 'msg msg-error', 'data-testid': 'lg-c-error', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'lg-c-submit' }, t('lg.correct_submit'));
  const el = h('form', { class: 'lg-correct sup-form', novalidate: true, 'data-testid': 'lg-correct-form' },
    h('p', { class: 'hint' }, t('lg.correct_hint', { unit: unitText(line.unit) })),
    form.field('quantity_delta', t('lg.f.delta', { unit: unitText(line.unit) }), delta),
    form.field('reason', t('lg.f.reason'), reason),
    err,
    submit,
    h('button', { type: 'button', class: 'btn btn-secondary', 'data-testid': 'lg-c-cancel', onclick: () => el.remove() }, t('sup.cancel')));
  el.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearMessage();
    form.clearErrors();
    err.hidden = true;
    const v = halfWidth(delta.value).replace(/\s/g, '').replace(/^\+/, '');
    const n = /^-?\d{1,8}$/.test(v) ? Number(v) : null;
    const body = { quantity_delta: n, reason: halfWidth(reason.value) };
    let bad = false;
    if (!n) { form.setError('quantity_delta', [t('lg.err.delta')]); bad = true; }
    if (!body.reason) { form.setError('reason', [t('err.required')]); bad = true; }
    if (bad) { form.focusFirst(); return; }
    const done = busy(submit);
    try {
      const key = actionKey(`correct.${line.line_id}`, body);
      await staffApi(cpath(state.cid, `/ledger/${encodeURIComponent(line.line_id)}/correct`),
        { method: 'POST', body, headers: { 'Idempotency-Key': key } });
      actionSettled(`correct.${line.line_id}`);
      showSuccess(() => t('lg.corrected'), { scroll: false });
      await refresh(root, ctx, '#lg-lines-title');
    } catch (e) {
      actionSettled(`correct.${line.line_id}`, e);
      if (submit.isConnected) done();
      const extra = form.applyServer(e);
      err.textContent = [staffErrorText(e), ...extra].join(t('list_sep'));
      err.hidden = false;
      showStaffError(e);
    }
  });
  li.appendChild(el);
  delta.focus();
}
