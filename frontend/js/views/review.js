// #/staff/review: the reviewer's queue (审核组, 入场审批). The vehicles registered for a day (tomorrow by
// default: vehicles are approved the day before), each with its people (ID and phone masked), their
// test times and the five documents (each opened in a new tab through a 10-minute link), approved with
// one tap or refused with a reason the supplier sees. 「已审核」 shows the day's other vehicles.
import '../strings/roster.js';
import '../strings/sites.js';
import { t } from '../i18n.js';
import { staffApi } from '../api.js';
import { h, clear, showError, showSuccess, clearMessage } from '../ui.js';
import { dateTime } from '../format.js';
import { showStaffError, staffErrorText, busy } from './roster.js';
import {
  DOCS, spath, gateStaff, siteOf, sitePicker, dayPicker, beijingDay, shiftDay, vehicleText, modeText,
  cargoText, docText, personRoleText, deliveryBadge, say, drawGateLoadError,
} from './site.js';

const ROLES = ['reviewer', 'admin', 'liaison'];
const TABS = ['submitted', 'all'];

let state = null; // {who, sid, sites, day, tab, deliveries, rejecting: delivery_id|null, reasons: {id: text}}

export async function reviewView(root, params, ctx) {
  const s = gateStaff(root, ROLES, 'rv.only_roles');
  if (!s) return;
  const who = `${s.role}.${s.scope_id}`;
  if (!state || state.who !== who) {
    state = { who, sid: null, sites: null, day: shiftDay(beijingDay(), 1), tab: 'submitted', deliveries: null, rejecting: null, reasons: {} };
  }
  if (ctx.refresh || !state.deliveries) await load(root, s, ctx);
  else draw(root, s, ctx);
}

async function load(root, s, ctx, focus = null) {
  clear(root);
  root.appendChild(h('p', { class: 'loading' }, t('loading')));
  try {
    if (!state.sid || s.role === 'admin') {
      const { sid, sites } = await siteOf(s);
      state.sid = state.sites && state.sites.some((x) => x.site_id === state.sid) ? state.sid : sid;
      state.sites = sites;
    }
    if (!state.sid) {
      if (!ctx.isCurrent()) return;
      clear(root);
      root.appendChild(h('section', { class: 'console' }, header(s, ctx),
        h('p', { class: 'msg msg-warn', 'data-testid': 'rv-no-site' }, t('gs.no_site'))));
      return;
    }
    const q = new URLSearchParams({ day: state.day });
    if (state.tab === 'submitted') q.set('status', 'submitted');
    const data = await staffApi(spath(state.sid, `/deliveries?${q}`));
    state.deliveries = Array.isArray(data && data.deliveries) ? data.deliveries : [];
  } catch (err) {
    if (!ctx.isCurrent()) return;
    state.deliveries = null;
    drawGateLoadError(root, err, s, ctx, header(s, ctx), 'rv');
    return;
  }
  if (!ctx.isCurrent()) return;
  draw(root, s, ctx, focus);
}

function header(s, ctx) {
  return [
    h('a', { class: 'back', href: '#/staff', 'data-testid': 'rv-back' }, `← ${t('console.to_staff')}`),
    h('h1', { id: 'rv-title', class: 'page-title', 'data-testid': 'rv-title', tabindex: '-1' }, t('rv.title')),
    sitePicker(s, state.sites, state.sid, (sid) => { state.sid = sid; state.deliveries = null; clearMessage(); load(document.getElementById('main'), s, ctx); }, 'rv-site'),
  ];
}

function draw(root, s, ctx, focus = null) {
  clear(root);
  const list = state.deliveries || [];
  const waiting = list.filter((d) => d.status === 'submitted').length;
  const reload = (f) => load(root, s, ctx, f);
  const tab = (name) => h('button', {
    type: 'button', class: 'gs-tab', 'data-testid': `rv-tab-${name}`, 'aria-pressed': state.tab === name ? 'true' : 'false',
    onclick: () => { if (state.tab !== name) { state.tab = name; clearMessage(); reload(`[data-testid="rv-tab-${name}"]`); } },
  }, t(`rv.tab_${name}`));
  root.appendChild(h('section', { class: 'console gatereview', 'aria-labelledby': 'rv-title' },
    header(s, ctx),
    dayPicker(state.day, (day) => { state.day = day; clearMessage(); reload('[data-testid="rv-day-label"]'); }, 'rv-day'),
    h('div', { class: 'gs-tabs', role: 'group', 'aria-label': t('rv.tabs') }, TABS.map(tab)),
    h('p', { class: 'gs-count', 'data-testid': 'rv-count', 'data-count': state.tab === 'submitted' ? waiting : list.length },
      state.tab === 'submitted' ? t('rv.count_waiting', { n: waiting }) : t('rv.count_all', { n: list.length, waiting })),
    list.length
      ? h('ul', { class: 'gs-cards', 'data-testid': 'rv-list' }, list.map((d) => card(d, s, root, ctx)))
      : h('p', { class: 'empty', 'data-testid': 'rv-empty' }, t(state.tab === 'submitted' ? 'rv.none_waiting' : 'rv.none'))));
  if (focus) {
    const el = typeof focus === 'string' ? root.querySelector(focus) : focus;
    if (el) el.focus();
  }
}

function card(d, s, root, ctx) {
  const redraw = (f) => draw(root, s, ctx, f);
  const people = Array.isArray(d.people) ? d.people : [];
  const sel = `[data-testid="rv-card"][data-delivery-id="${CSS.escape(d.delivery_id)}"]`;
  return h('li', { class: `gs-card gs-card-${d.status}`, 'data-testid': 'rv-card', 'data-delivery-id': d.delivery_id, 'data-plate': d.plate },
    h('div', { class: 'gs-card-head' },
      h('span', { class: 'gs-plate', 'data-testid': 'rv-plate', tabindex: '-1' }, d.plate),
      deliveryBadge(d.status, 'rv-status')),
    h('p', { class: 'gs-line gs-strong', 'data-testid': 'rv-supplier' }, d.supplier_name || d.supplier_id || ''),
    h('p', { class: 'gs-line', 'data-testid': 'rv-window' }, t('dv.window_line', { from: dateTime(d.arrive_from), until: dateTime(d.arrive_until) })),
    h('p', { class: 'gs-line' }, `${vehicleText(d.vehicle_type)} · ${modeText(d.mode)}`),
    Array.isArray(d.cargo) && d.cargo.length ? h('p', { class: 'gs-line' }, t('rv.cargo', { list: d.cargo.map(cargoText).join('、') })) : null,
    Array.isArray(d.round_ids) && d.round_ids.length ? h('p', { class: 'gs-line' }, t('rv.rounds_n', { n: d.round_ids.length })) : null,
    d.note ? h('p', { class: 'gs-line gs-note' }, t('rv.note', { note: d.note })) : null,
    h('ul', { class: 'gs-people' }, people.map((p, i) => personItem(d, p, i))),
    d.review && d.status !== 'submitted'
      ? h('p', { class: `gs-line ${d.review.decision === 'reject' ? 'gs-bad' : 'gs-ok'}`, 'data-testid': 'rv-reviewed' },
        d.review.decision === 'reject'
          ? t('rv.rejected_line', { reason: d.review.reason || '', time: dateTime(d.review.at) })
          : t('rv.approved_line', { time: dateTime(d.review.at) }))
      : null,
    d.status === 'submitted' ? actions(d, sel, root, s, ctx, redraw) : null);
}

function personItem(d, p, i) {
  const docs = p.documents || {};
  return h('li', { class: 'gs-person-item', 'data-testid': 'rv-person', 'data-index': i },
    h('p', { class: 'gs-person-head' },
      h('span', { class: 'gs-person-role' }, personRoleText(p.role)),
      h('span', { class: 'gs-person-name', 'data-testid': 'rv-person-name' }, p.name || '')),
    h('dl', { class: 'gs-facts' },
      h('dt', null, t('dv.id_number')), h('dd', { 'data-testid': 'rv-person-id' }, p.id_masked || ''),
      h('dt', null, t('dv.phone')), h('dd', { 'data-testid': 'rv-person-phone' }, p.phone_masked || p.phone || ''),
      h('dt', null, t('dv.test_at')), h('dd', { 'data-testid': 'rv-person-test' }, testLine(d, p))),
    h('div', { class: 'gs-doc-links' }, DOCS.map((doc) => (docs[doc]
      ? h('button', {
        type: 'button', class: 'btn btn-secondary btn-sm gs-doc-link', 'data-testid': `rv-doc-${doc}`,
        onclick: (ev) => openDoc(d, i, doc, ev.currentTarget),
      }, docText(doc))
      : h('span', { class: 'gs-doc-missing', 'data-testid': `rv-doc-${doc}-missing` }, t('rv.doc_missing', { doc: docText(doc) }))))));
}

/** The test time, and how long before the window it was taken (the site's rule decides; the server checked it). */
function testLine(d, p) {
  if (!p.test_at) return '';
  const hours = Math.floor((Date.parse(d.arrive_until) - Date.parse(p.test_at)) / 3600000);
  return Number.isFinite(hours) ? t('rv.test_line', { time: dateTime(p.test_at), hours }) : dateTime(p.test_at);
}

/**
 * Open one document in a new tab. The tab is opened at the tap (a pop-up blocker allows that), then
 * sent to the 10-minute link once the API gives it; if no tab could be opened, the link is shown.
 */
async function openDoc(d, i, doc, btn) {
  clearMessage();
  const win = window.open('', '_blank');
  if (win) {
    try { win.opener = null; } catch (e) { /* ignore */ }
    try { win.document.title = t('rv.doc_opening'); win.document.body.textContent = t('rv.doc_opening'); } catch (e) { /* another origin */ }
  }
  const done = busy(btn, t('rv.doc_opening'));
  let url;
  try {
    const res = await staffApi(spath(d.site_id, `/deliveries/${encodeURIComponent(d.delivery_id)}/documents/${i}/${encodeURIComponent(doc)}`));
    url = res && res.url;
  } catch (err) {
    done();
    if (win) win.close();
    showStaffError(err);
    return;
  }
  done();
  if (!url || !/^https?:\/\//i.test(url)) { if (win) win.close(); showError(() => t('err.unknown')); return; }
  if (win) { win.location.href = url; return; }
  const link = h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', class: 'gs-doc-open', 'data-testid': `rv-doc-${doc}-open` },
    t('rv.doc_open', { doc: docText(doc) }));
  btn.after(link);
}

function actions(d, sel, root, s, ctx, redraw) {
  const box = h('div', { class: 'gs-actions', 'data-testid': 'rv-actions' });
  const approve = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'rv-approve' }, t('rv.approve'));
  approve.addEventListener('click', () => decide(d, { decision: 'approve' }, approve, sel, root, s, ctx));
  if (state.rejecting !== d.delivery_id) {
    box.append(approve, h('button', {
      type: 'button', class: 'btn btn-danger', 'data-testid': 'rv-reject',
      onclick: () => { state.rejecting = d.delivery_id; clearMessage(); redraw(`${sel} [data-testid="rv-reason"]`); },
    }, t('rv.reject')));
    return box;
  }
  const reason = h('textarea', {
    rows: '3', maxlength: '200', id: `rv-reason-${d.delivery_id}`, 'data-testid': 'rv-reason', 'aria-describedby': `rv-reason-${d.delivery_id}-error`,
  }, state.reasons[d.delivery_id] || '');
  reason.addEventListener('input', () => { state.reasons[d.delivery_id] = reason.value; err.hidden = true; reason.removeAttribute('aria-invalid'); });
  const err = h('p', { class: 'field-error', id: `rv-reason-${d.delivery_id}-error`, 'data-testid': 'rv-reason-error', hidden: true });
  const send = h('button', { type: 'submit', class: 'btn btn-danger', 'data-testid': 'rv-reject-send' }, t('rv.reject_send'));
  const form = h('form', { novalidate: true, class: 'gs-reject' },
    h('div', { class: 'field' },
      h('label', { for: `rv-reason-${d.delivery_id}` }, t('rv.reason')),
      h('p', { class: 'hint' }, t('rv.reason_hint')),
      reason, err),
    send,
    h('button', {
      type: 'button', class: 'btn btn-secondary', 'data-testid': 'rv-reject-cancel',
      onclick: () => { state.rejecting = null; clearMessage(); redraw(`${sel} [data-testid="rv-reject"]`); },
    }, t('console.cancel')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = reason.value.trim();
    if (!text) {
      err.textContent = t('rv.reason_needed');
      err.hidden = false;
      reason.setAttribute('aria-invalid', 'true');
      reason.focus();
      return;
    }
    decide(d, { decision: 'reject', reason: text }, send, sel, root, s, ctx, err);
  });
  box.appendChild(form);
  return box;
}

async function decide(d, body, btn, sel, root, s, ctx, errLine = null) {
  clearMessage();
  const done = busy(btn);
  let updated;
  try {
    updated = await staffApi(spath(d.site_id, `/deliveries/${encodeURIComponent(d.delivery_id)}/review`), { method: 'POST', body });
  } catch (err) {
    if (!ctx.isCurrent()) return;
    done();
    if (err && err.status === 400 && errLine && err.fields) {
      errLine.textContent = Object.values(err.fields).flat().map(say).join(t('list_sep'));
      errLine.hidden = false;
    }
    showError(() => staffErrorText(err), { scroll: false });
    if (err && err.status === 409) {
      // Someone else reviewed it meanwhile: show the day as it is now.
      state.rejecting = null;
      await load(root, s, ctx);
      showError(() => staffErrorText(err), { scroll: false });
    }
    return;
  }
  if (!ctx.isCurrent()) return;
  state.rejecting = null;
  delete state.reasons[d.delivery_id];
  const i = state.deliveries.findIndex((x) => x.delivery_id === d.delivery_id);
  if (i >= 0) state.deliveries[i] = { ...d, ...(updated || {}) };
  showSuccess(() => t(body.decision === 'approve' ? 'rv.approved' : 'rv.rejected', { plate: d.plate }), { scroll: false });
  draw(root, s, ctx, `${sel} .gs-plate`);
}
