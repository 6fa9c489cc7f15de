// #/staff/demand: the community's demand report to the sub-district (需求上报; plan 3), for its liaison
// and information officer; the community is the staff member's scope. Lines of category, quantity,
// unit and a note; 「按订单和特殊户填入」 suggests lines from the community's live orders and its special
// households (each with the reason); one report a day, a second one is refused (409 already_reported)
// and the screen asks whether to replace it (the first stays in the day's history, shown below).
import '../strings/roster.js';
import '../strings/supply.js';
import { t } from '../i18n.js';
import { staffApi } from '../api.js';
import * as staff from '../staff.js';
import { h, clear, showSuccess, showError, showInfo, clearMessage } from '../ui.js';
import { dateTime, halfWidth } from '../format.js';
import { asList } from '../forms.js';
import { drawLoadError, staffErrorText, showStaffError, busy, confirmBox, cpath } from './roster.js';
import {
  supplyStaff, setTitle, backLink, beijingDay, dayText, categoryOptions, unitOptions, select, countValue, demandLines,
  lineFieldErrors,
} from './supply.js';

let state = null; // {who, cid, day, draft: [{category, quantity, unit, note, basis}], history: [DemandReport] | null}

const emptyLine = () => ({ category: 'rice', quantity: '', unit: 'kg', note: '', basis: '' });

export async function demandView(root, params, ctx) {
  const s = supplyStaff(root, staff.CONSOLE_ROLES, 'dm.only_console');
  setTitle('dm.title');
  if (!s) return;
  const who = `${s.role}.${s.scope_id}`;
  const today = beijingDay();
  if (!state || state.who !== who || state.day !== today) state = { who, cid: s.scope_id, day: today, draft: null, history: null };
  if (ctx.refresh || !state.history) {
    clear(root);
    root.appendChild(h('p', { class: 'loading' }, t('loading')));
    try {
      await loadHistory();
    } catch (err) {
      if (!ctx.isCurrent()) return;
      drawLoadError(root, err, ctx, [header()]);
      return;
    }
    if (!ctx.isCurrent()) return;
  }
  if (!state.draft) {
    const cur = current();
    state.draft = cur && Array.isArray(cur.lines) && cur.lines.length
      ? cur.lines.map((l) => ({ category: l.category, quantity: String(l.quantity ?? ''), unit: l.unit, note: l.note || '', basis: '' }))
      : [emptyLine()];
  }
  draw(root, ctx);
}

async function loadHistory() {
  const d = await staffApi(cpath(state.cid, `/demand?day=${encodeURIComponent(state.day)}`));
  const list = Array.isArray(d) ? d : (d && (d.reports || d.versions || d.history)) || [];
  state.history = [...list].sort((a, b) => (Number(b.version) || 0) - (Number(a.version) || 0));
}

function current() {
  return (state.history || []).find((r) => r.current) || null;
}

function header() {
  return [
    backLink('dm-back'),
    h('h1', { id: 'dm-title', class: 'page-title', 'data-testid': 'dm-title', tabindex: '-1' }, t('dm.title')),
    h('p', { class: 'mk-day', 'data-testid': 'dm-day' }, t('dm.day', { day: dayText(state ? state.day : beijingDay()) })),
  ];
}

function draw(root, ctx) {
  clear(root);
  const rows = h('ol', { class: 'dm-lines', 'data-testid': 'dm-lines' });
  const rowErr = h('p', { class: 'field-error', 'data-testid': 'dm-lines-error', hidden: true });
  const confirmSlot = h('div');
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-big', 'data-testid': 'dm-submit' }, t('dm.submit'));
  const paintRows = (focusIndex = null) => {
    clear(rows);
    state.draft.forEach((l, i) => rows.appendChild(lineRow(l, i, () => {
      if (state.draft.length > 1) state.draft.splice(i, 1);
      else state.draft[0] = emptyLine();
      paintRows(Math.min(i, state.draft.length - 1));
    })));
    if (focusIndex !== null) {
      const el = rows.querySelector(`[data-index="${focusIndex}"] select`);
      if (el) el.focus();
    }
  };
  paintRows();
  const prefill = h('button', { type: 'button', class: 'btn btn-secondary', 'data-testid': 'dm-prefill' }, t('dm.prefill'));
  prefill.addEventListener('click', async () => {
    clearMessage();
    const done = busy(prefill, t('loading'));
    try {
      const d = await staffApi(cpath(state.cid, '/demand/prefill'));
      const lines = Array.isArray(d && d.lines) ? d.lines : [];
      if (!lines.length) {
        showInfo(() => t('dm.prefill_none'), { scroll: false });
      } else {
        state.draft = lines.map((l) => ({ category: l.category, quantity: String(l.quantity ?? ''), unit: l.unit, note: '', basis: l.basis || '' }));
        paintRows(0);
        showInfo(() => t('dm.prefilled', { n: lines.length }), { scroll: false });
      }
    } catch (err) {
      showStaffError(err);
    } finally {
      if (prefill.isConnected) done();
    }
  });
  const add = h('button', {
    type: 'button', class: 'btn btn-secondary', 'data-testid': 'dm-add',
    onclick: () => { state.draft.push(emptyLine()); paintRows(state.draft.length - 1); },
  }, t('dm.add'));

  const send = async (replace) => {
    clearMessage();
    clear(confirmSlot);
    rowErr.hidden = true;
    rows.querySelectorAll('.field-error').forEach((e) => { e.hidden = true; });
    rows.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
    const lines = [];
    let bad = false;
    state.draft.forEach((l, i) => {
      const q = countValue(l.quantity, { min: 1 });
      if (q === null) {
        const row = rows.querySelector(`[data-index="${i}"]`);
        markRow(row, 'quantity', [t('dm.err.quantity')]);
        bad = true;
      }
      const line = { category: l.category, quantity: q, unit: l.unit };
      if (halfWidth(l.note)) line.note = halfWidth(l.note);
      lines.push(line);
    });
    if (bad) {
      showError(() => t('err.form'), { scroll: false });
      const f = rows.querySelector('[aria-invalid="true"]');
      if (f) f.focus();
      return;
    }
    const body = { day: state.day, lines };
    if (replace) body.replace = true;
    const done = busy(submit, t('dm.sending'));
    try {
      const r = await staffApi(cpath(state.cid, '/demand'), { method: 'POST', body });
      showSuccess(() => (replace ? t('dm.replaced', { v: (r && r.version) ?? '' }) : t('dm.sent')), { scroll: false });
      try { await loadHistory(); } catch (e) { /* the list refreshes next time */ }
      if (ctx.isCurrent()) draw(root, ctx);
    } catch (err) {
      if (submit.isConnected) done();
      if (err && err.status === 409 && err.code === 'already_reported') {
        showError(() => t('dm.already'), { scroll: false });
        confirmSlot.appendChild(confirmBox({
          testid: 'dm-replace',
          question: t('dm.replace_q'),
          hint: t('dm.replace_hint'),
          yes: t('dm.replace_yes'),
          no: t('dm.replace_no'),
          onYes: () => send(true),
          onNo: () => { clear(confirmSlot); clearMessage(); submit.focus(); },
        }));
        return;
      }
      const rest = [];
      state.draft.forEach((l, i) => {
        const fe = lineFieldErrors(err, i);
        if (!fe) return;
        const row = rows.querySelector(`[data-index="${i}"]`);
        for (const [f, m] of Object.entries(fe)) if (!markRow(row, f, asList(m))) rest.push(...asList(m));
      });
      if (err && err.fields) {
        const other = Object.entries(err.fields).filter(([k]) => k !== 'lines').flatMap(([, m]) => asList(m));
        const lineLevel = err.fields.lines && !lineFieldErrors(err, 0) ? asList(err.fields.lines) : [];
        if (other.length || lineLevel.length) { rowErr.textContent = [...other, ...lineLevel].join(t('list_sep')); rowErr.hidden = false; }
      }
      showError(() => [staffErrorText(err), ...rest].join(t('list_sep')), { scroll: false });
      const f = rows.querySelector('[aria-invalid="true"]');
      if (f) f.focus();
    }
  };
  const form = h('form', { class: 'dm-form', novalidate: true, 'data-testid': 'dm-form', 'aria-labelledby': 'dm-form-title' },
    h('h2', { id: 'dm-form-title' }, current() ? t('dm.form_again') : t('dm.form')),
    h('p', { class: 'hint' }, t('dm.form_hint')),
    prefill,
    rows, rowErr, add,
    confirmSlot,
    submit);
  form.addEventListener('submit', (ev) => { ev.preventDefault(); send(false); });

  root.appendChild(h('section', { class: 'console demand', 'aria-labelledby': 'dm-title' },
    header(),
    current()
      ? h('p', { class: 'msg msg-success', 'data-testid': 'dm-reported' },
        t('dm.reported', { v: current().version ?? '', time: dateTime(current().reported_at) }))
      : h('p', { class: 'msg msg-warn', 'data-testid': 'dm-not-reported' }, t('dm.not_reported')),
    form,
    historyBlock()));
}

/** Show messages under one field of a line; false when that line has no such field. */
function markRow(row, field, msgs) {
  if (!row) return false;
  const err = row.querySelector(`[data-error="${field}"]`);
  const input = row.querySelector(`[data-field="${field}"]`);
  if (!err || !input) return false;
  err.textContent = msgs.join(t('list_sep'));
  err.hidden = !msgs.length;
  if (msgs.length) input.setAttribute('aria-invalid', 'true');
  return true;
}

function lineRow(l, i, onRemove) {
  const id = `dm-${i}`;
  const control = (field, el, label) => {
    el.id = `${id}-${field}`;
    el.setAttribute('data-field', field);
    el.setAttribute('data-testid', `dm-${field}`);
    el.setAttribute('aria-describedby', `${id}-${field}-error`);
    el.addEventListener(el.tagName === 'SELECT' ? 'change' : 'input', () => { l[field] = el.value; });
    return h('div', { class: `field dm-field dm-field-${field}` },
      h('label', { for: el.id }, label),
      el,
      h('p', { class: 'field-error', id: `${id}-${field}-error`, 'data-error': field, 'data-testid': `dm-${field}-error`, hidden: true }));
  };
  return h('li', { class: 'dm-line', 'data-testid': 'dm-line', 'data-index': i },
    h('div', { class: 'dm-grid' },
      control('category', select(categoryOptions(), l.category), t('sup.f.category')),
      control('quantity', h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'off', value: l.quantity }), t('sup.f.quantity')),
      control('unit', select(unitOptions(l.unit), l.unit), t('sup.f.unit'))),
    control('note', h('input', { type: 'text', maxlength: '100', autocomplete: 'off', value: l.note }), t('dm.f.note')),
    l.basis ? h('p', { class: 'hint dm-basis', 'data-testid': 'dm-basis' }, t('dm.basis', { basis: l.basis })) : null,
    h('button', {
      type: 'button', class: 'btn btn-secondary btn-sm sup-btn-inline', 'data-testid': 'dm-remove',
      'aria-label': t('dm.remove_n', { n: i + 1 }), onclick: onRemove,
    }, t('dm.remove')));
}

function historyBlock() {
  const list = state.history || [];
  return h('div', { class: 'block', 'data-testid': 'dm-history' },
    h('h2', null, t('dm.history', { n: list.length })),
    list.length
      ? h('ol', { class: 'sup-cards' }, list.map((r) => h('li', {
        class: `sup-card dm-version${r.current ? ' dm-current' : ''}`, 'data-testid': 'dm-version',
        'data-version': r.version ?? '', 'data-current': r.current ? 'true' : 'false',
      },
      h('div', { class: 'sup-card-head' },
        h('p', { class: 'sup-card-title' }, t('dm.version', { v: r.version ?? '' })),
        h('span', { class: `tag ${r.current ? 'tag-assisted' : 'sup-tag-old'}`, 'data-testid': 'dm-version-state' }, r.current ? t('dm.current') : t('dm.replaced_tag'))),
      h('p', { class: 'hint' }, t('dm.reported_at', { time: dateTime(r.reported_at) })),
      demandLines(r.lines, 'dm-version-line'))))
      : h('p', { class: 'empty-inline', 'data-testid': 'dm-history-none' }, t('dm.history_none')));
}
