// #/staff/supply: the sub-district's supply-chain dashboard (admin; plans 3 and 4, docs/api.md § The
// sub-district's supply chain). The day's alerts from the supply points stay on top, highlighted, in
// plain words; below them one section at a time:
//   需求 demand: the day's totals by category as horizontal bars, each community's report, the
//        communities that have not reported, the XLSX;
//   调拨 allocations: the orders by status, a new one, the next step as one button;
//   台账 ledgers: one community's balances and lines;
//   结算 settlements: overdue first, settling at the market or an entered price (with the reason), the
//        due date, paid, the statement per supplier or community as XLSX or PDF;
//   网点 supply points: a new point with its commodities, inviting its reporter;
//   走势 charts: price and stock over time per commodity and per point, drawn with uPlot (vendored,
//        loaded only when a chart is first drawn).
// Desktop first, and usable on a 360 px phone: sections are cards, never wide tables.
//
// Also the kit the other supply-chain screens share (market.js, demand.js, ledger.js): categories and
// units, Beijing days, yuan inputs, file downloads with the staff token, alert cards, ledger lines.
import '../strings/roster.js';
import '../strings/supply.js';
import { saveFile } from '../download.js';
import { t, pick } from '../i18n.js';
import { staffApi } from '../api.js';
import { uuid } from '../outbox.js';
import * as staff from '../staff.js';
import { h, clear, showSuccess, showError, clearMessage, copyText } from '../ui.js';
import { money, dateTime, halfWidth, digits } from '../format.js';
import { makeForm, asList } from '../forms.js';
import {
  showStaffError, staffErrorText, busy, roleName, beijingInputValue, fromBeijingInput, showFormError, radioTiles, radioValue,
  notForRole,
} from './roster.js';

// ======================================================================
// The kit
// ======================================================================

export const CATEGORIES = ['rice', 'flour', 'oil', 'meat', 'eggs', 'milk', 'vegetables', 'water', 'protective', 'other'];
export const UNITS = ['kg', '袋', '箱', '桶', '件', '瓶', '份'];
export const STATUSES = ['requested', 'allocated', 'dispatched', 'received', 'distributed', 'settled'];
export const NEXT = { requested: 'allocated', allocated: 'dispatched', dispatched: 'received', received: 'distributed' };
export const ALERT_KINDS = ['stock_low', 'stock_falling', 'price_jump', 'gouging'];
const POINT_KINDS = ['market', 'supermarket', 'shop', 'enterprise'];
const MAX_QTY = 10 ** 7;

export const catText = (c) => (CATEGORIES.includes(c) ? t(`sup.cat.${c}`) : String(c ?? ''));
export const unitText = (u) => {
  const k = `sup.unit.${u}`;
  return t(k) === k ? String(u ?? '') : t(k);
};
export const statusText = (s) => (STATUSES.includes(s) ? t(`sup.st.${s}`) : String(s ?? ''));
export const alertKindText = (k) => (ALERT_KINDS.includes(k) ? t(`sup.alert.${k}`) : String(k ?? ''));
const pointKindText = (k) => (POINT_KINDS.includes(k) ? t(`sup.pk.${k}`) : String(k ?? ''));

/** "12 kg" / "3 袋" (3 bags). */
export function qtyText(quantity, unit) {
  return t('sup.qty', { n: Number.isFinite(Number(quantity)) ? String(quantity) : '—', unit: unitText(unit) });
}

const BEIJING_MS = 8 * 3600 * 1000; // China has no daylight saving time

/** "YYYY-MM-DD" today (or of `d`) in Beijing. */
export function beijingDay(d = new Date()) {
  return new Date(d.getTime() + BEIJING_MS).toISOString().slice(0, 10);
}
export function shiftDay(day, n) {
  const [y, m, dd] = String(day).split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, dd + n)).toISOString().slice(0, 10);
}
export const isDay = (v) => /^\d{4}-\d\d-\d\d$/.test(String(v || ''));
/** "2026-11-29" as "11月29日" / "29 Nov", in Beijing. */
export function dayText(day) {
  if (!isDay(day)) return String(day ?? '');
  const [, m, d] = day.split('-').map(Number);
  return t('sup.day', { m, d, mon: t(`sup.mon.${m}`) });
}

/** Integer fen -> the text a yuan input shows ("4.20"); '' for none. */
export function yuanInput(fen) {
  const n = Number(fen);
  if (fen === null || fen === undefined || fen === '' || !Number.isFinite(n)) return '';
  return money(n).replace('¥', '');
}
/** A yuan amount as typed -> "4.20"-style text the API takes, or null when it is not one. */
export function yuanValue(text) {
  const v = halfWidth(text).replace(/^¥/, '').replace(/[元\s]/g, '');
  if (!/^\d{1,6}(\.\d{1,2})?$/.test(v)) return null;
  return v;
}
/** A whole number 0..10^7 as typed, or null. */
export function countValue(text, { min = 0 } = {}) {
  const v = halfWidth(text).replace(/[\s,]/g, '');
  if (!/^-?\d{1,8}$/.test(v)) return null;
  const n = Number(v);
  return n >= min && n <= MAX_QTY ? n : null;
}

// One Idempotency-Key per action (the allocation form, the distribute form, a line's correction): the same
// while the same body is sent again after a lost answer or a timeout, so the server answers with the
// allocation or line it already made (200) instead of making a second; a new one once an answer came back.
const actionKeys = new Map(); // action -> { key, body }

export function actionKey(action, body) {
  const text = JSON.stringify(body);
  const held = actionKeys.get(action);
  if (held && held.body === text) return held.key;
  const key = `sup-${uuid()}`;
  actionKeys.set(action, { key, body: text });
  return key;
}

/** The action was answered (a 2xx, or a refusal that wrote nothing): its next tap is a new action. */
export function actionSettled(action, err = null) {
  if (!err || !err.retryable) actionKeys.delete(action);
}

/** The staff member if their role is one of `roles`, else null after a "this screen is for …" page. */
export function supplyStaff(root, roles, onlyKey) {
  const s = staff.get();
  if (s && roles.includes(s.role)) return s;
  notForRole(root, s, onlyKey);
  return null;
}

/**
 * The page's own title. app.js titles a lazy view again once it has drawn, from its route's key, and
 * the dashboard's route key ('sc.title') is the scanner's (strings/pickup.js: 扫码): so the title is
 * said once more after that, while this route is still the one shown.
 */
export function setTitle(key) {
  const say = () => { document.title = `${t(key)} · ${t('app.name')}`; };
  say();
  const hash = location.hash;
  setTimeout(() => { if (location.hash === hash) say(); }, 0);
}

export function backLink(testid) {
  return h('a', { class: 'back', href: '#/staff', 'data-testid': testid }, `← ${t('console.to_staff')}`);
}

/** A 400's field messages, flattened for one line under a form. */
export function fieldMessages(err) {
  return err && err.fields ? asList(err.fields) : [];
}

/** The messages a 400 gives for lines[i] ({lines: {"0": {price: [...]}}} or [{...}]). */
export function lineFieldErrors(err, i) {
  const lines = err && err.fields && err.fields.lines;
  if (!lines || typeof lines !== 'object') return null;
  const one = Array.isArray(lines) ? lines[i] : (lines[i] ?? lines[String(i)]);
  return one && typeof one === 'object' && !Array.isArray(one) ? one : null;
}

/**
 * Fetch a file the API builds (XLSX, PDF) with the staff token and save it; the button shows
 * 「正在生成…」 meanwhile. Errors are shown as messages.
 */
export async function downloadFile(path, fallback, btn) {
  clearMessage();
  const done = busy(btn, t('sup.downloading'));
  try {
    const name = await saveFile(path, fallback);
    showSuccess(() => t('sup.downloaded', { name }), { scroll: false });
  } catch (e) {
    showError(() => [staffErrorText(e), ...fieldMessages(e)].join(t('list_sep')), { scroll: false });
  } finally {
    if (btn.isConnected) done();
  }
}

/** An alert's commodity as text (a name, or {name}). */
function commodityName(c) {
  if (c && typeof c === 'object') return String(c.name ?? c.category ?? '');
  return String(c ?? '');
}

/** The alert in plain words: the server's sentence in this language, else one of ours. */
export function alertText(a) {
  // The server writes one sentence in both languages, 「中文 / English」: show this language's half.
  const text = String(a.text || '');
  const cut = text.indexOf(' / ');
  const server = a.text_en ? pick(text, a.text_en) : (cut > 0 ? pick(text.slice(0, cut), text.slice(cut + 3)) : text);
  if (server) return server;
  return t(`sup.alert_text.${ALERT_KINDS.includes(a.kind) ? a.kind : 'other'}`, {
    point: a.point_name || '', commodity: commodityName(a.commodity), value: a.value ?? '', threshold: a.threshold ?? '',
  });
}

/** The alerts as highlighted cards, or a calm "none" line. testid: the list; each card `${testid}-item`. */
export function alertCards(alerts, { testid = 'alerts', withPoint = true } = {}) {
  const list = Array.isArray(alerts) ? alerts : [];
  if (!list.length) return h('p', { class: 'msg msg-success sup-no-alerts', 'data-testid': `${testid}-none` }, t('sup.no_alerts'));
  return h('ul', { class: 'sup-alerts', 'data-testid': testid, 'data-count': list.length }, list.map((a) => h('li', {
    class: `sup-alert sup-alert-${ALERT_KINDS.includes(a.kind) ? a.kind : 'other'}`,
    'data-testid': `${testid}-item`, 'data-kind': a.kind || '', 'data-point-id': a.point_id || '', 'data-alert-id': a.alert_id || '',
  },
  h('p', { class: 'sup-alert-kind' },
    h('span', { class: 'sup-alert-badge', 'data-testid': `${testid}-kind` }, `⚠ ${alertKindText(a.kind)}`),
    withPoint && a.point_name ? h('span', { class: 'sup-alert-point', 'data-testid': `${testid}-point` }, a.point_name) : null,
    commodityName(a.commodity) ? h('span', { class: 'sup-alert-commodity' }, commodityName(a.commodity)) : null),
  h('p', { class: 'sup-alert-text', 'data-testid': `${testid}-text` }, alertText(a)))));
}

const LINE_KINDS = ['receive', 'distribute', 'correction'];
const TO_KINDS = ['households', 'round', 'special'];
export const lineKindText = (k) => (LINE_KINDS.includes(k) ? t(`lg.kind.${k}`) : String(k ?? ''));
export const toKindText = (k) => (TO_KINDS.includes(k) ? t(`lg.to.${k}`) : String(k ?? ''));
const signed = (n) => (Number(n) > 0 ? `+${n}` : String(n ?? ''));

/** 「更正 11月29日 21:39 的收货 +40 袋」: the corrected line by its time, kind and quantity (ids mean nothing to people). */
function correctsText(lineId, lines) {
  const c = lines.find((x) => x.line_id === lineId);
  if (!c) return t('lg.corrects_earlier');
  return t('lg.corrects', { time: dateTime(c.at), kind: lineKindText(c.kind), qty: t('sup.qty', { n: signed(c.quantity), unit: unitText(c.unit) }) });
}

/** The balances as big numbers per (category, unit). */
export function balancesBlock(balances, testid = 'lg-balances') {
  const list = Array.isArray(balances) ? balances : [];
  if (!list.length) return h('p', { class: 'empty-inline', 'data-testid': `${testid}-none` }, t('lg.no_balances'));
  return h('ul', { class: 'sup-balances', 'data-testid': testid }, list.map((b) => h('li', {
    class: `sup-balance${Number(b.balance) > 0 ? '' : ' sup-balance-zero'}`, 'data-testid': 'lg-balance',
    'data-category': b.category, 'data-unit': b.unit, 'data-balance': b.balance,
  },
  h('span', { class: 'sup-balance-cat' }, catText(b.category)),
  h('span', { class: 'sup-balance-n' }, qtyText(b.balance, b.unit)))));
}

/**
 * The ledger's lines, newest first. onCorrect(line, li) draws a correction form under a line (the
 * community's staff); the admin's read-only view passes none.
 */
export function ledgerLines(lines, { onCorrect = null, allocations = [] } = {}) {
  const list = Array.isArray(lines) ? lines : [];
  if (!list.length) return h('p', { class: 'empty-inline', 'data-testid': 'lg-lines-none' }, t('lg.no_lines'));
  const allocName = (aid) => {
    const a = allocations.find((x) => x.allocation_id === aid);
    return a ? t('lg.alloc_short', { what: catText(a.category), qty: qtyText(a.quantity, a.unit), spec: a.spec || '' }).trim() : '';
  };
  return h('ol', { class: 'sup-lines', 'data-testid': 'lg-lines' }, list.map((l) => {
    const li = h('li', {
      class: `sup-line sup-line-${LINE_KINDS.includes(l.kind) ? l.kind : 'other'}`, 'data-testid': 'lg-line',
      'data-line-id': l.line_id, 'data-kind': l.kind, 'data-quantity': l.quantity, 'data-corrects': l.corrects || null,
    },
    h('p', { class: 'sup-line-head' },
      h('span', { class: 'tag sup-kind', 'data-testid': 'lg-line-kind' }, lineKindText(l.kind)),
      h('span', { class: 'sup-line-what' }, catText(l.category)),
      h('strong', { class: 'sup-line-qty', 'data-testid': 'lg-line-qty' }, t('sup.qty', { n: signed(l.quantity), unit: unitText(l.unit) }))),
    h('p', { class: 'sup-line-after', 'data-testid': 'lg-line-after' }, t('lg.balance_after', { qty: qtyText(l.balance_after, l.unit) })),
    l.to && (l.to.kind || l.to.text)
      ? h('p', { class: 'sup-line-meta', 'data-testid': 'lg-line-to' }, t('lg.to_line', { kind: toKindText(l.to.kind), text: l.to.text || '' }).trim()) : null,
    l.allocation_id ? h('p', { class: 'sup-line-meta' }, t('lg.against', { what: allocName(l.allocation_id) || l.allocation_id })) : null,
    l.corrects ? h('p', { class: 'sup-line-meta', 'data-testid': 'lg-line-corrects' }, correctsText(l.corrects, list)) : null,
    l.reason ? h('p', { class: 'sup-line-meta' }, t('lg.reason_line', { reason: l.reason })) : null,
    l.note ? h('p', { class: 'sup-line-meta' }, t('lg.note_line', { note: l.note })) : null,
    h('p', { class: 'sup-line-meta sup-line-when' }, dateTime(l.at)));
    if (onCorrect) {
      li.appendChild(h('button', {
        type: 'button', class: 'btn btn-secondary btn-sm sup-btn-inline', 'data-testid': 'lg-correct-open',
        onclick: () => onCorrect(l, li),
      }, t('lg.correct')));
    }
    return li;
  }));
}

/** A select of options [{value, label}] with an optional empty first choice. */
export function select(options, value, attrs = {}, empty = null) {
  const el = h('select', attrs,
    empty !== null ? h('option', { value: '' }, empty) : null,
    options.map((o) => h('option', { value: o.value, selected: String(o.value) === String(value ?? '') }, o.label)));
  return el;
}
export const categoryOptions = () => CATEGORIES.map((c) => ({ value: c, label: catText(c) }));
export const unitOptions = (extra) => [...UNITS, ...(extra && !UNITS.includes(extra) ? [extra] : [])].map((u) => ({ value: u, label: unitText(u) }));

/** The allocation in one line: 大米 100 袋 · 5kg/袋. */
export function allocationLine(a) {
  return [t('sup.alloc_what', { cat: catText(a.category), qty: qtyText(a.quantity, a.unit) }), a.spec || ''].filter(Boolean).join(' · ');
}

export function statusBadge(status, testid = 'sup-status') {
  return h('span', { class: `badge sup-st sup-st-${STATUSES.includes(status) ? status : 'other'}`, 'data-testid': testid, 'data-status': status || '' },
    statusText(status));
}

/** When settlement is due: the settlement's due_on, or the allocation's own (before it is settled). */
export function dueOn(a) {
  return (a && a.settlement && a.settlement.due_on) || (a && a.due_on) || null;
}

// ======================================================================
// The dashboard
// ======================================================================

const TABS = ['demand', 'allocations', 'ledgers', 'settlements', 'points', 'charts'];
const TAB_KEY = 'baogong.supply.tab';

let state = null;

function freshState(who) {
  let tab = 'demand';
  try { const v = sessionStorage.getItem(TAB_KEY); if (TABS.includes(v)) tab = v; } catch (e) { /* ignore */ }
  return {
    who,
    tab,
    day: beijingDay(),
    alerts: undefined,
    data: {}, // per section, loaded on first show: demand, allocations, ledger, settlements, points, series
    communities: null, // [{community_id, name}] of the sub-district (from the demand totals)
    suppliers: null,
    allocFilter: '',
    ledgerCid: '',
    chart: { commodity: '', point: '', days: 30 },
    invites: {}, // point_id -> invite {url, code, expires_at}
    formOpen: { allocation: false, point: false },
  };
}

export async function supplyDashboardView(root, params, ctx) {
  const s = supplyStaff(root, ['admin'], 'sup.only_admin');
  setTitle('sup.title');
  if (!s) return;
  const who = `${s.role}.${s.scope_id}`;
  if (!state || state.who !== who) state = freshState(who);
  if (ctx.refresh) {
    state.alerts = undefined;
    state.data = {};
  }
  draw(root, ctx);
}

function draw(root, ctx) {
  destroyCharts();
  clear(root);
  const alertsBox = h('div', { class: 'sup-alerts-box', role: 'region', 'aria-labelledby': 'sup-alerts-title', 'data-testid': 'sup-alerts-box' });
  const panel = h('div', { class: 'sup-panel', id: 'sup-panel', role: 'tabpanel', 'aria-labelledby': `sup-tab-${state.tab}`, 'data-testid': 'sup-panel', 'data-tab': state.tab });
  const tabs = h('div', { class: 'sup-tabs', role: 'tablist', 'aria-label': t('sup.sections') }, TABS.map((k) => h('button', {
    type: 'button', role: 'tab', id: `sup-tab-${k}`, class: 'sup-tab', 'data-testid': `sup-tab-${k}`,
    'aria-selected': k === state.tab ? 'true' : 'false', 'aria-controls': 'sup-panel',
    onclick: () => {
      if (state.tab === k) return;
      state.tab = k;
      try { sessionStorage.setItem(TAB_KEY, k); } catch (e) { /* ignore */ }
      clearMessage();
      draw(root, ctx);
      const b = document.getElementById(`sup-tab-${k}`);
      if (b) b.focus();
    },
  }, t(`sup.tab.${k}`))));
  root.appendChild(h('section', { class: 'console supply-dash', 'aria-labelledby': 'sup-title' },
    backLink('sup-back'),
    h('h1', { id: 'sup-title', class: 'page-title', 'data-testid': 'sup-title', tabindex: '-1' }, t('sup.title')),
    alertsBox,
    tabs,
    panel));
  drawAlerts(alertsBox);
  SECTIONS[state.tab](panel, ctx);
}

/** Load a section's data once (state.data[key]) and draw it; an error offers 再试一次 in the panel. */
async function section(panel, key, load, render) {
  if (state.data[key] === undefined) {
    clear(panel);
    panel.appendChild(h('p', { class: 'loading' }, t('loading')));
    try {
      state.data[key] = await load();
    } catch (err) {
      if (!panel.isConnected) return;
      clear(panel);
      panel.appendChild(inlineError(err, () => section(panel, key, load, render)));
      return;
    }
  }
  if (!panel.isConnected) return;
  clear(panel);
  render(panel, state.data[key]);
}

function inlineError(err, retry) {
  return h('div', { class: 'sup-load-error' },
    h('p', { class: 'msg msg-error', 'data-testid': 'load-error' }, staffErrorText(err)),
    h('button', { type: 'button', class: 'btn btn-secondary', 'data-testid': 'load-retry', onclick: retry }, t('console.retry')));
}

/** Reload one section's data and redraw it. */
function reload(key) {
  delete state.data[key];
  const panel = document.getElementById('sup-panel');
  if (panel && state.tab && SECTION_KEYS[state.tab] === key) SECTIONS[state.tab](panel, { isCurrent: () => true });
}

// ---- the day's alerts ----------------------------------------------------------------------------

async function drawAlerts(box) {
  const render = () => {
    clear(box);
    const list = state.alerts || [];
    box.classList.toggle('sup-alerts-on', list.length > 0);
    box.append(
      h('h2', { id: 'sup-alerts-title', 'data-testid': 'sup-alerts-title', 'data-count': list.length },
        list.length ? t('sup.alerts_n', { n: list.length, day: dayText(beijingDay()) }) : t('sup.alerts_title', { day: dayText(beijingDay()) })),
      alertCards(list, { testid: 'sup-alert' }),
      h('button', {
        type: 'button', class: 'btn btn-secondary btn-sm sup-btn-inline', 'data-testid': 'sup-alerts-refresh',
        onclick: () => { state.alerts = undefined; drawAlerts(box); },
      }, t('sup.refresh')));
  };
  if (state.alerts === undefined) {
    clear(box);
    box.appendChild(h('p', { class: 'loading' }, t('loading')));
    try {
      const data = await staffApi(`/api/monitoring/alerts?day=${encodeURIComponent(beijingDay())}`);
      state.alerts = Array.isArray(data && data.alerts) ? data.alerts : [];
    } catch (err) {
      if (!box.isConnected) return;
      clear(box);
      box.appendChild(inlineError(err, () => drawAlerts(box)));
      return;
    }
  }
  if (box.isConnected) render();
}

// ---- 需求 demand ----------------------------------------------------------------------------------

/** The sub-district's communities, from the demand totals (reported and missing), by name. */
function rememberCommunities(d) {
  const seen = new Map();
  for (const c of [...(d.by_community || []), ...(d.missing || [])]) {
    if (c && c.community_id && !seen.has(c.community_id)) seen.set(c.community_id, { community_id: c.community_id, name: c.name || c.community_id });
  }
  if (seen.size) state.communities = [...seen.values()].sort((a, b) => String(a.name).localeCompare(String(b.name), 'zh-CN'));
}

async function communities() {
  if (!state.communities) {
    const d = await staffApi(`/api/sub-districts/mine/demand?day=${encodeURIComponent(beijingDay())}`);
    rememberCommunities(d || {});
  }
  return state.communities || [];
}

function drawDemand(panel) {
  return section(panel, 'demand', async () => {
    const d = await staffApi(`/api/sub-districts/mine/demand?day=${encodeURIComponent(state.day)}`);
    rememberCommunities(d || {});
    return d || {};
  }, (p, d) => {
    const totals = Array.isArray(d.by_category) ? d.by_category : [];
    const byCommunity = Array.isArray(d.by_community) ? d.by_community : [];
    const missing = Array.isArray(d.missing) ? d.missing : [];
    const dayInput = h('input', { type: 'date', id: 'sup-day', 'data-testid': 'sup-day', value: state.day, max: beijingDay() });
    dayInput.addEventListener('change', () => {
      if (!isDay(dayInput.value) || dayInput.value === state.day) return;
      state.day = dayInput.value;
      reload('demand');
    });
    const xlsx = h('button', { type: 'button', class: 'btn btn-primary sup-btn-inline', 'data-testid': 'sup-demand-xlsx' }, t('sup.demand_xlsx'));
    xlsx.addEventListener('click', () => downloadFile(`/api/sub-districts/mine/demand/export?day=${encodeURIComponent(state.day)}`, `demand-${state.day}.xlsx`, xlsx));
    p.append(
      h('div', { class: 'sup-row sup-toolbar' },
        h('div', { class: 'field sup-field-day' }, h('label', { for: 'sup-day' }, t('sup.day_label')), dayInput),
        xlsx),
      h('h2', { 'data-testid': 'sup-demand-title' }, t('sup.demand_totals', { day: dayText(state.day) })),
      totals.length ? bars(totals) : h('p', { class: 'empty-inline', 'data-testid': 'sup-totals-none' }, t('sup.no_demand')),
      h('h2', null, t('sup.missing_title', { n: missing.length })),
      missing.length
        ? h('ul', { class: 'sup-missing', 'data-testid': 'sup-missing' }, missing.map((c) => h('li', {
          class: 'sup-missing-one', 'data-testid': 'sup-missing-item', 'data-community-id': c.community_id,
        }, c.name || c.community_id)))
        : h('p', { class: 'msg msg-success', 'data-testid': 'sup-missing-none' }, t('sup.missing_none')),
      h('h2', null, t('sup.by_community', { n: byCommunity.length })),
      byCommunity.length
        ? h('ul', { class: 'sup-cards', 'data-testid': 'sup-by-community' }, byCommunity.map((c) => h('li', {
          class: 'sup-card', 'data-testid': 'sup-community', 'data-community-id': c.community_id,
        },
        h('p', { class: 'sup-card-title' }, c.name || c.community_id),
        c.reported_at ? h('p', { class: 'hint' }, t('sup.reported_at', { time: dateTime(c.reported_at) })) : null,
        demandLines(c.lines))))
        : h('p', { class: 'empty-inline' }, t('sup.no_reports')));
  });
}

/** The totals as horizontal bars: each bar against the largest total of the same unit. */
function bars(totals) {
  const maxOf = {};
  for (const r of totals) maxOf[r.unit] = Math.max(maxOf[r.unit] || 0, Number(r.quantity) || 0);
  return h('ul', { class: 'sup-bars', 'data-testid': 'sup-totals' }, totals.map((r) => {
    const pct = maxOf[r.unit] ? Math.max(2, Math.round((Number(r.quantity) || 0) * 100 / maxOf[r.unit])) : 0;
    return h('li', {
      class: 'sup-bar-row', 'data-testid': 'sup-total', 'data-category': r.category, 'data-unit': r.unit, 'data-quantity': r.quantity,
    },
    h('span', { class: 'sup-bar-label' }, catText(r.category)),
    h('span', { class: 'sup-bar', 'aria-hidden': 'true' }, h('span', { class: 'sup-bar-fill', style: `width:${pct}%` })),
    h('span', { class: 'sup-bar-n', 'data-testid': 'sup-total-qty' }, qtyText(r.quantity, r.unit)));
  }));
}

export function demandLines(lines, testid = 'sup-demand-line') {
  const list = Array.isArray(lines) ? lines : [];
  return h('ul', { class: 'sup-dlines' }, list.map((l) => h('li', {
    'data-testid': testid, 'data-category': l.category, 'data-unit': l.unit, 'data-quantity': l.quantity,
  },
  h('span', { class: 'sup-dline-what' }, catText(l.category)),
  h('span', { class: 'sup-dline-qty' }, qtyText(l.quantity, l.unit)),
  l.note ? h('span', { class: 'sup-dline-note' }, l.note) : null)));
}

// ---- 调拨 allocations ------------------------------------------------------------------------------

function drawAllocations(panel) {
  return section(panel, 'allocations', async () => {
    const q = state.allocFilter ? `?status=${encodeURIComponent(state.allocFilter)}` : '';
    const [d] = await Promise.all([staffApi(`/api/allocations${q}`), communities().catch(() => [])]);
    return Array.isArray(d && d.allocations) ? d.allocations : [];
  }, (p, list) => {
    const filter = select(STATUSES.map((v) => ({ value: v, label: statusText(v) })), state.allocFilter,
      { id: 'sup-alloc-filter', 'data-testid': 'sup-alloc-filter' }, t('sup.all_statuses'));
    filter.addEventListener('change', () => { state.allocFilter = filter.value; reload('allocations'); });
    const formBox = h('div', { class: 'sup-form-box' });
    const toggle = h('button', {
      type: 'button', class: 'btn btn-primary', 'data-testid': 'sup-alloc-new', 'aria-expanded': state.formOpen.allocation ? 'true' : 'false',
    }, t('sup.alloc_new'));
    const paint = () => {
      clear(formBox);
      toggle.setAttribute('aria-expanded', state.formOpen.allocation ? 'true' : 'false');
      toggle.hidden = state.formOpen.allocation;
      if (state.formOpen.allocation) formBox.appendChild(allocationForm(() => { state.formOpen.allocation = false; paint(); }));
    };
    toggle.addEventListener('click', () => { state.formOpen.allocation = true; paint(); const f = formBox.querySelector('select, input'); if (f) f.focus(); });
    const groups = state.allocFilter ? [[state.allocFilter, list]] : STATUSES.map((st) => [st, list.filter((a) => a.status === st)]).filter(([, l]) => l.length);
    p.append(
      toggle, formBox,
      h('div', { class: 'field sup-field-filter' }, h('label', { for: 'sup-alloc-filter' }, t('sup.filter_status')), filter),
      list.length
        ? h('div', null, groups.map(([st, l]) => h('div', { class: 'sup-group', 'data-testid': 'sup-alloc-group', 'data-status': st },
          h('h2', null, t('sup.group', { status: statusText(st), n: l.length })),
          h('ul', { class: 'sup-cards' }, l.map((a) => allocationCard(a))))))
        : h('p', { class: 'empty-inline', 'data-testid': 'sup-alloc-none' }, t('sup.alloc_none')));
    paint();
  });
}

function allocationCard(a, { withAdvance = true, extra = null } = {}) {
  const due = dueOn(a);
  const li = h('li', { class: 'sup-card sup-alloc', 'data-testid': 'sup-alloc', 'data-allocation-id': a.allocation_id, 'data-status': a.status },
    h('div', { class: 'sup-card-head' },
      h('p', { class: 'sup-card-title', 'data-testid': 'sup-alloc-what' }, allocationLine(a)),
      statusBadge(a.status, 'sup-alloc-status')),
    h('dl', { class: 'sup-facts' },
      fact(t('sup.f.to'), a.destination || a.community_name || a.community_id, 'sup-alloc-to'),
      fact(t('sup.f.unit_price'), t('sup.per_unit', { price: money(a.unit_price_fen), unit: unitText(a.unit) })),
      fact(t('sup.f.source'), a.source === 'reserve' ? t('sup.reserve_of', { name: a.reserve_name || '' }) : (a.supplier_name || a.supplier_id || '')),
      a.deliver_at ? fact(t('sup.f.deliver_at'), dateTime(a.deliver_at)) : null,
      a.contact_name || a.contact_phone_masked ? fact(t('sup.f.contact'), [a.contact_name, a.contact_phone_masked].filter(Boolean).join(' ')) : null,
      a.allocated_on ? fact(t('sup.f.allocated_on'), dayText(a.allocated_on)) : null,
      a.distributed_at ? fact(t('sup.f.distributed_at'), dateTime(a.distributed_at)) : null,
      due ? fact(t('sup.f.due_on'), dayText(due), 'sup-alloc-due') : null),
    historyList(a.history),
    extra);
  const next = NEXT[a.status];
  if (withAdvance && next) {
    const btn = h('button', { type: 'button', class: 'btn btn-primary sup-advance', 'data-testid': 'sup-alloc-advance', 'data-to': next },
      t(`sup.advance.${next}`));
    btn.addEventListener('click', () => advance(a, next, btn));
    li.appendChild(btn);
  }
  return li;
}

export function fact(label, value, testid) {
  return [h('dt', null, label), h('dd', { 'data-testid': testid || null }, value ?? '')];
}

export function historyList(history) {
  const list = Array.isArray(history) ? history : [];
  if (!list.length) return null;
  return h('details', { class: 'sup-history' },
    h('summary', null, t('sup.history', { n: list.length })),
    h('ol', null, list.map((x) => h('li', null,
      [statusText(x.status), dateTime(x.at), x.by_role ? roleName(x.by_role) : '', x.note || ''].filter(Boolean).join(' · ')))));
}

async function advance(a, to, btn) {
  clearMessage();
  const done = busy(btn);
  try {
    await staffApi(`/api/allocations/${encodeURIComponent(a.allocation_id)}/advance`, { method: 'POST', body: { to } });
    showSuccess(() => t('sup.advanced', { what: allocationLine(a), status: statusText(to) }), { scroll: false });
    delete state.data.settlements;
    reload('allocations');
  } catch (err) {
    if (btn.isConnected) done();
    showStaffError(err);
  }
}

async function suppliersFor(cid) {
  if (!state.suppliers && cid) {
    const d = await staffApi(`/api/communities/${encodeURIComponent(cid)}/suppliers`);
    state.suppliers = Array.isArray(d && d.suppliers) ? d.suppliers : [];
  }
  return state.suppliers || [];
}

function allocationForm(onClose) {
  const form = makeForm('sup-af', 'sup-af');
  const comms = state.communities || [];
  const inputs = {
    category: select(categoryOptions(), 'rice'),
    quantity: h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'off' }),
    unit: select(unitOptions(), 'kg'),
    spec: h('input', { type: 'text', maxlength: '40', placeholder: t('sup.spec_ph') }),
    unit_price: h('input', { type: 'text', inputmode: 'decimal', autocomplete: 'off', placeholder: '12.50' }),
    community_id: select(comms.map((c) => ({ value: c.community_id, label: c.name })), comms.length === 1 ? comms[0].community_id : '', {}, t('sup.choose')),
    supplier_id: select([], '', {}, t('sup.choose')),
    reserve_name: h('input', { type: 'text', maxlength: '40', placeholder: t('sup.reserve_ph') }),
    deliver_at: h('input', { type: 'datetime-local', value: beijingInputValue(new Date(Date.now() + 24 * 3600 * 1000)).slice(0, 11) + '09:00' }),
    contact_name: h('input', { type: 'text', maxlength: '20', autocomplete: 'off' }),
    contact_phone: h('input', { type: 'tel', inputmode: 'tel', autocomplete: 'off' }),
  };
  const source = radioTiles('sup-af-source', t('sup.f.source'), [
    { value: 'supplier', label: t('sup.source.supplier') }, { value: 'reserve', label: t('sup.source.reserve') }], 'supplier', 'sup-af-source');
  const supplierField = form.field('supplier_id', t('sup.f.supplier'), inputs.supplier_id);
  const reserveField = form.field('reserve_name', t('sup.f.reserve_name'), inputs.reserve_name, t('sup.reserve_hint'));
  const showSource = () => {
    const v = radioValue(source, 'sup-af-source');
    supplierField.hidden = v !== 'supplier';
    reserveField.hidden = v !== 'reserve';
  };
  source.addEventListener('change', showSource);
  const fillSuppliers = async () => {
    const cid = inputs.community_id.value || (comms[0] && comms[0].community_id);
    try {
      const list = await suppliersFor(cid);
      const keep = inputs.supplier_id.value;
      clear(inputs.supplier_id);
      inputs.supplier_id.append(h('option', { value: '' }, t('sup.choose')),
        ...list.map((x) => h('option', { value: x.supplier_id, selected: x.supplier_id === keep || list.length === 1 }, x.name || x.supplier_id)));
    } catch (e) { /* the field stays empty; the server says what is missing */ }
  };
  fillSuppliers();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'sup-af-submit' }, t('sup.alloc_create'));
  const el = h('form', { class: 'sup-form', 'data-testid': 'sup-alloc-form', novalidate: true, 'aria-labelledby': 'sup-af-title' },
    h('h2', { id: 'sup-af-title' }, t('sup.alloc_new')),
    h('div', { class: 'sup-grid' },
      form.field('category', t('sup.f.category'), inputs.category),
      form.field('quantity', t('sup.f.quantity'), inputs.quantity),
      form.field('unit', t('sup.f.unit'), inputs.unit),
      form.field('spec', t('sup.f.spec'), inputs.spec),
      form.field('unit_price', t('sup.f.unit_price_yuan'), inputs.unit_price)),
    form.field('community_id', t('sup.f.community'), inputs.community_id, t('sup.community_hint')),
    source, supplierField, reserveField,
    h('div', { class: 'sup-grid' },
      form.field('deliver_at', t('sup.f.deliver_at'), inputs.deliver_at, t('sup.beijing_time')),
      form.field('contact_name', t('sup.f.contact_name'), inputs.contact_name),
      form.field('contact_phone', t('sup.f.contact_phone'), inputs.contact_phone)),
    submit,
    h('button', { type: 'button', class: 'btn btn-secondary', 'data-testid': 'sup-af-cancel', onclick: onClose }, t('sup.cancel')));
  showSource();
  el.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearMessage();
    form.clearErrors();
    const src = radioValue(source, 'sup-af-source');
    const body = {
      category: inputs.category.value,
      quantity: countValue(inputs.quantity.value, { min: 1 }),
      unit: inputs.unit.value,
      spec: halfWidth(inputs.spec.value),
      unit_price: yuanValue(inputs.unit_price.value),
      source: src,
      community_id: inputs.community_id.value,
      deliver_at: fromBeijingInput(inputs.deliver_at.value),
      contact_name: halfWidth(inputs.contact_name.value),
      contact_phone: digits(inputs.contact_phone.value),
    };
    if (src === 'supplier') body.supplier_id = inputs.supplier_id.value;
    else body.reserve_name = halfWidth(inputs.reserve_name.value);
    const bad = [];
    if (body.quantity === null) bad.push(['quantity', t('sup.err.quantity')]);
    if (body.unit_price === null) bad.push(['unit_price', t('sup.err.price')]);
    if (!body.community_id) bad.push(['community_id', t('err.choose')]);
    if (src === 'supplier' && !body.supplier_id) bad.push(['supplier_id', t('err.choose')]);
    if (src === 'reserve' && !body.reserve_name) bad.push(['reserve_name', t('err.required')]);
    if (!body.deliver_at) bad.push(['deliver_at', t('err.required')]);
    if (!body.contact_name) bad.push(['contact_name', t('err.required')]);
    if (!/^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$/.test(body.contact_phone)) bad.push(['contact_phone', t('err.phone')]);
    if (bad.length) {
      bad.forEach(([f, m]) => form.setError(f, [m]));
      showError(() => t('err.form'), { scroll: false });
      form.focusFirst();
      return;
    }
    const done = busy(submit);
    try {
      const key = actionKey('allocation', body);
      const a = await staffApi('/api/allocations', { method: 'POST', body, headers: { 'Idempotency-Key': key } });
      actionSettled('allocation');
      showSuccess(() => t('sup.alloc_created', { what: allocationLine(a || body) }), { scroll: false });
      state.formOpen.allocation = false;
      reload('allocations');
    } catch (err) {
      actionSettled('allocation', err);
      if (submit.isConnected) done();
      showFormError(form, err);
    }
  });
  return el;
}

// ---- 台账 ledgers (read-only for the sub-district) ------------------------------------------------

function drawLedgers(panel) {
  return section(panel, 'ledgerCommunities', () => communities(), (p, comms) => {
    if (!state.ledgerCid && comms.length) state.ledgerCid = comms[0].community_id;
    const pickEl = select(comms.map((c) => ({ value: c.community_id, label: c.name })), state.ledgerCid,
      { id: 'sup-ledger-community', 'data-testid': 'sup-ledger-community' }, comms.length ? null : t('sup.choose'));
    const body = h('div', { class: 'sup-ledger', 'data-testid': 'sup-ledger' });
    pickEl.addEventListener('change', () => { state.ledgerCid = pickEl.value; delete state.data.ledger; ledgerBody(body); });
    p.append(h('div', { class: 'field' }, h('label', { for: 'sup-ledger-community' }, t('sup.pick_community')), pickEl), body);
    ledgerBody(body);
  });
}

async function ledgerBody(body) {
  clear(body);
  const cid = state.ledgerCid;
  if (!cid) { body.appendChild(h('p', { class: 'empty-inline' }, t('sup.no_communities'))); return; }
  if (!state.data.ledger || state.data.ledger.cid !== cid) {
    body.appendChild(h('p', { class: 'loading' }, t('loading')));
    try {
      const d = await staffApi(`/api/communities/${encodeURIComponent(cid)}/ledger`);
      state.data.ledger = { cid, balances: (d && d.balances) || [], lines: (d && d.lines) || [] };
    } catch (err) {
      if (!body.isConnected) return;
      clear(body);
      body.appendChild(inlineError(err, () => ledgerBody(body)));
      return;
    }
    if (!body.isConnected || state.ledgerCid !== cid) return;
    clear(body);
  }
  const l = state.data.ledger;
  body.append(
    h('h2', null, t('lg.balances')), balancesBlock(l.balances),
    h('h2', null, t('lg.lines')), ledgerLines(l.lines));
}

// ---- 结算 settlements ------------------------------------------------------------------------------

function drawSettlements(panel) {
  return section(panel, 'settlements', async () => {
    const [dist, settled, overdue] = await Promise.all([
      staffApi('/api/allocations?status=distributed'),
      staffApi('/api/allocations?status=settled'),
      staffApi('/api/settlements/overdue'),
      communities().catch(() => []),
    ]);
    const comms = state.communities || [];
    await suppliersFor(comms[0] && comms[0].community_id).catch(() => []);
    return {
      distributed: (dist && dist.allocations) || [],
      settled: (settled && settled.allocations) || [],
      overdue: (overdue && overdue.allocations) || [],
    };
  }, (p, d) => {
    const overdueIds = new Set(d.overdue.map((a) => a.allocation_id));
    p.append(
      h('div', { class: `sup-overdue${d.overdue.length ? ' sup-overdue-on' : ''}`, 'data-testid': 'sup-overdue', 'data-count': d.overdue.length },
        h('h2', null, t('sup.overdue_title', { n: d.overdue.length })),
        d.overdue.length
          ? h('ul', { class: 'sup-cards' }, d.overdue.map((a) => allocationCard(a, { withAdvance: false, extra: settlementFacts(a) })))
          : h('p', { class: 'msg msg-success', 'data-testid': 'sup-overdue-none' }, t('sup.overdue_none'))),
      h('h2', null, t('sup.to_settle', { n: d.distributed.length })),
      h('p', { class: 'hint' }, t('sup.settle_rule')),
      d.distributed.length
        ? h('ul', { class: 'sup-cards', 'data-testid': 'sup-to-settle' }, d.distributed.map((a) => allocationCard(a, {
          withAdvance: false, extra: [overdueIds.has(a.allocation_id) ? h('p', { class: 'sup-late' }, t('sup.late')) : null, settleForm(a)],
        })))
        : h('p', { class: 'empty-inline', 'data-testid': 'sup-to-settle-none' }, t('sup.to_settle_none')),
      h('h2', null, t('sup.settled_title', { n: d.settled.length })),
      d.settled.length
        ? h('ul', { class: 'sup-cards', 'data-testid': 'sup-settled' }, d.settled.map((a) => allocationCard(a, {
          withAdvance: false, extra: [settlementFacts(a), paidButton(a)],
        })))
        : h('p', { class: 'empty-inline' }, t('sup.settled_none')),
      statementBlock());
  });
}

function settlementFacts(a) {
  const st = a.settlement;
  if (!st) return null;
  return h('dl', { class: 'sup-facts sup-settlement', 'data-testid': 'sup-settlement' },
    fact(t('sup.f.settle_price'), t('sup.per_unit', { price: money(st.unit_price_fen), unit: unitText(a.unit) })),
    fact(t('sup.f.price_source'), st.price_source === 'market' ? t('sup.price_market') : t('sup.price_entered')),
    st.reason ? fact(t('sup.f.reason'), st.reason) : null,
    fact(t('sup.f.amount'), money(st.amount_fen), 'sup-settlement-amount'),
    st.due_on ? fact(t('sup.f.due_on'), dayText(st.due_on)) : null,
    st.settled_at ? fact(t('sup.f.settled_at'), dateTime(st.settled_at)) : null,
    fact(t('sup.f.paid_at'), st.paid_at ? dateTime(st.paid_at) : t('sup.unpaid'), 'sup-settlement-paid'));
}

function paidButton(a) {
  if (!a.settlement || a.settlement.paid_at) return null;
  const btn = h('button', { type: 'button', class: 'btn btn-secondary', 'data-testid': 'sup-paid' }, t('sup.mark_paid'));
  btn.addEventListener('click', async () => {
    clearMessage();
    const done = busy(btn);
    try {
      await staffApi(`/api/allocations/${encodeURIComponent(a.allocation_id)}/paid`, { method: 'POST', body: {} });
      showSuccess(() => t('sup.paid_done', { what: allocationLine(a) }), { scroll: false });
      reload('settlements');
    } catch (err) {
      if (btn.isConnected) done();
      showStaffError(err);
    }
  });
  return btn;
}

function settleForm(a) {
  const id = `sup-sf-${a.allocation_id}`;
  const form = makeForm(id, 'sup-sf');
  const price = h('input', { type: 'text', inputmode: 'decimal', autocomplete: 'off', placeholder: yuanInput(a.unit_price_fen) });
  const reason = h('input', { type: 'text', maxlength: '100', autocomplete: 'off' });
  const src = radioTiles(`${id}-src`, t('sup.f.price_source'), [
    { value: 'market', label: t('sup.price_market_long') }, { value: 'entered', label: t('sup.price_entered_long') }], 'market', 'sup-sf-source', { stack: true });
  const entered = h('div', { class: 'sup-entered' },
    form.field('unit_price', t('sup.f.unit_price_yuan'), price),
    form.field('reason', t('sup.f.reason'), reason, t('sup.reason_hint')));
  const paint = () => { entered.hidden = radioValue(src, `${id}-src`) !== 'entered'; };
  src.addEventListener('change', paint);
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'sup-sf-submit' }, t('sup.settle'));
  const note = h('p', { class: 'field-error', 'data-testid': 'sup-sf-error', hidden: true });
  const el = h('form', { class: 'sup-form sup-settle', 'data-testid': 'sup-settle-form', novalidate: true }, src, entered, note, submit);
  paint();
  el.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearMessage();
    form.clearErrors();
    note.hidden = true;
    const source = radioValue(src, `${id}-src`);
    const body = { price_source: source };
    if (source === 'entered') {
      body.unit_price = yuanValue(price.value);
      body.reason = halfWidth(reason.value);
      let bad = false;
      if (body.unit_price === null) { form.setError('unit_price', [t('sup.err.price')]); bad = true; }
      if (!body.reason) { form.setError('reason', [t('sup.err.reason')]); bad = true; }
      if (bad) { form.focusFirst(); return; }
    }
    const done = busy(submit);
    try {
      const res = await staffApi(`/api/allocations/${encodeURIComponent(a.allocation_id)}/settle`, { method: 'POST', body });
      const amount = res && res.settlement ? money(res.settlement.amount_fen) : '';
      showSuccess(() => t('sup.settled', { what: allocationLine(a), amount }), { scroll: false });
      reload('settlements');
    } catch (err) {
      if (submit.isConnected) done();
      const extra = form.applyServer(err);
      note.textContent = [staffErrorText(err), ...extra].join(t('list_sep'));
      note.hidden = false;
      if (err && err.code === 'no_market_price') note.textContent += ` ${t('sup.no_market_hint')}`;
      showStaffError(err);
    }
  });
  return el;
}

function statementBlock() {
  const comms = state.communities || [];
  const sups = state.suppliers || [];
  const options = [
    ...sups.map((x) => ({ value: `supplier_id=${x.supplier_id}`, label: t('sup.stmt_supplier', { name: x.name || x.supplier_id }) })),
    ...comms.map((c) => ({ value: `community_id=${c.community_id}`, label: t('sup.stmt_community', { name: c.name }) })),
  ];
  const who = select(options, options[0] ? options[0].value : '', { id: 'sup-stmt-who', 'data-testid': 'sup-stmt-who' }, options.length ? null : t('sup.choose'));
  const btn = (format) => {
    const b = h('button', { type: 'button', class: 'btn btn-primary sup-btn-inline', 'data-testid': `sup-stmt-${format}` }, t(`sup.stmt_${format}`));
    b.addEventListener('click', () => {
      if (!who.value) { showError(() => t('err.choose'), { scroll: false }); return; }
      const [k, v] = who.value.split('=');
      const q = new URLSearchParams({ [k]: v, format });
      downloadFile(`/api/settlements/statement?${q}`, `statement-${v}.${format}`, b);
    });
    return b;
  };
  return h('div', { class: 'block sup-statement', 'data-testid': 'sup-statement' },
    h('h2', null, t('sup.statement')),
    h('p', { class: 'hint' }, t('sup.statement_hint')),
    h('div', { class: 'field' }, h('label', { for: 'sup-stmt-who' }, t('sup.statement_for')), who),
    h('div', { class: 'sup-row' }, btn('xlsx'), btn('pdf')));
}

// ---- 网点 supply points ----------------------------------------------------------------------------

async function loadPoints() {
  const d = await staffApi('/api/supply-points');
  return Array.isArray(d && d.points) ? d.points : [];
}
const pointId = (p) => p.point_id || p.supply_point_id || p.id;

function drawPoints(panel) {
  return section(panel, 'points', loadPoints, (p, points) => {
    const formBox = h('div', { class: 'sup-form-box' });
    const toggle = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'sup-point-new' }, t('sup.point_new'));
    const paint = () => {
      clear(formBox);
      toggle.hidden = state.formOpen.point;
      if (state.formOpen.point) formBox.appendChild(pointForm(() => { state.formOpen.point = false; paint(); }));
    };
    toggle.addEventListener('click', () => { state.formOpen.point = true; paint(); const f = formBox.querySelector('input'); if (f) f.focus(); });
    p.append(
      toggle, formBox,
      h('h2', null, t('sup.points_title', { n: points.length })),
      points.length
        ? h('ul', { class: 'sup-cards', 'data-testid': 'sup-points' }, points.map(pointCard))
        : h('p', { class: 'empty-inline', 'data-testid': 'sup-points-none' }, t('sup.points_none')));
    paint();
  });
}

function pointCard(pt) {
  const pid = pointId(pt);
  const inviteBox = h('div', { class: 'sup-invite' });
  const btn = h('button', { type: 'button', class: 'btn btn-secondary', 'data-testid': 'sup-point-invite' }, t('sup.invite'));
  const showInvite = (inv) => {
    clear(inviteBox);
    const url = h('p', { class: 'copy-url', 'data-testid': 'sup-invite-url' }, inv.url || inv.code || '');
    const status = h('p', { class: 'copy-status', role: 'status' });
    const copy = h('button', { type: 'button', class: 'btn btn-secondary btn-sm', 'data-testid': 'sup-invite-copy' }, t('sup.copy'));
    copy.addEventListener('click', async () => { status.textContent = (await copyText(inv.url || '', url)) ? t('sup.copied') : t('sup.copy_manual'); });
    inviteBox.append(h('p', { class: 'hint' }, t('sup.invite_hint', { time: inv.expires_at ? dateTime(inv.expires_at) : '' })), url, copy, status);
  };
  btn.addEventListener('click', async () => {
    clearMessage();
    const done = busy(btn);
    try {
      const inv = await staffApi('/api/invites', { method: 'POST', body: { role: 'supply_point', scope_id: pid } });
      state.invites[pid] = inv;
      showInvite(inv);
    } catch (err) {
      showStaffError(err);
    } finally {
      if (btn.isConnected) done();
    }
  });
  if (state.invites[pid]) showInvite(state.invites[pid]);
  const commodities = Array.isArray(pt.commodities) ? pt.commodities : [];
  return h('li', { class: 'sup-card sup-point', 'data-testid': 'sup-point', 'data-point-id': pid },
    h('div', { class: 'sup-card-head' },
      h('p', { class: 'sup-card-title', 'data-testid': 'sup-point-name' }, pt.name || pid),
      h('span', { class: 'tag sup-kind' }, pointKindText(pt.kind))),
    h('dl', { class: 'sup-facts' },
      pt.address ? fact(t('sup.f.address'), pt.address) : null,
      fact(t('sup.f.markup'), t('sup.pct', { n: pt.usual_markup_pct ?? '—' }))),
    h('ul', { class: 'sup-commodities', 'data-testid': 'sup-point-commodities' }, commodities.map((c) => h('li', { 'data-commodity-id': c.commodity_id || null },
      t('sup.commodity_line', { name: c.name || '', cat: catText(c.category), unit: unitText(c.unit) })))),
    btn, inviteBox);
}

function pointForm(onClose) {
  const form = makeForm('sup-pf', 'sup-pf');
  const name = h('input', { type: 'text', maxlength: '40', autocomplete: 'off' });
  const kind = select(POINT_KINDS.map((k) => ({ value: k, label: pointKindText(k) })), 'market');
  const address = h('input', { type: 'text', maxlength: '80', autocomplete: 'off' });
  const markup = h('input', { type: 'text', inputmode: 'numeric', value: '20', autocomplete: 'off' });
  const rows = h('ol', { class: 'sup-rows', 'data-testid': 'sup-pf-commodities' });
  const rowErr = h('p', { class: 'field-error', 'data-testid': 'sup-pf-commodities-error', hidden: true });
  const addRow = (focus) => {
    const r = h('li', { class: 'sup-row-line', 'data-testid': 'sup-pf-commodity' },
      h('label', { class: 'sup-mini' }, h('span', null, t('sup.f.commodity_name')),
        h('input', { type: 'text', maxlength: '20', 'data-testid': 'sup-pf-c-name', placeholder: t('sup.commodity_ph') })),
      h('label', { class: 'sup-mini' }, h('span', null, t('sup.f.category')), select(categoryOptions(), 'rice', { 'data-testid': 'sup-pf-c-category' })),
      h('label', { class: 'sup-mini' }, h('span', null, t('sup.f.unit')), select(unitOptions(), 'kg', { 'data-testid': 'sup-pf-c-unit' })),
      h('button', {
        type: 'button', class: 'btn btn-secondary btn-sm sup-remove', 'data-testid': 'sup-pf-c-remove', 'aria-label': t('sup.remove_row'),
        onclick: () => { if (rows.children.length > 1) r.remove(); },
      }, '×'));
    rows.appendChild(r);
    if (focus) r.querySelector('input').focus();
  };
  addRow(false);
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'sup-pf-submit' }, t('sup.point_create'));
  const el = h('form', { class: 'sup-form', 'data-testid': 'sup-point-form', novalidate: true, 'aria-labelledby': 'sup-pf-title' },
    h('h2', { id: 'sup-pf-title' }, t('sup.point_new')),
    form.field('name', t('sup.f.point_name'), name),
    h('div', { class: 'sup-grid' },
      form.field('kind', t('sup.f.kind'), kind),
      form.field('usual_markup_pct', t('sup.f.markup_pct'), markup, t('sup.markup_hint'))),
    form.field('address', t('sup.f.address_opt'), address),
    h('fieldset', { class: 'sup-fieldset' }, h('legend', null, t('sup.f.commodities')), rows, rowErr,
      h('button', { type: 'button', class: 'btn btn-secondary btn-sm', 'data-testid': 'sup-pf-c-add', onclick: () => addRow(true) }, t('sup.add_commodity'))),
    submit,
    h('button', { type: 'button', class: 'btn btn-secondary', 'data-testid': 'sup-pf-cancel', onclick: onClose }, t('sup.cancel')));
  el.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearMessage();
    form.clearErrors();
    rowErr.hidden = true;
    const commodities = [...rows.children].map((r) => ({
      name: halfWidth(r.querySelector('[data-testid="sup-pf-c-name"]').value),
      category: r.querySelector('[data-testid="sup-pf-c-category"]').value,
      unit: r.querySelector('[data-testid="sup-pf-c-unit"]').value,
    })).filter((c) => c.name);
    const body = { name: halfWidth(name.value), kind: kind.value, usual_markup_pct: countValue(markup.value), commodities };
    if (halfWidth(address.value)) body.address = halfWidth(address.value);
    let bad = false;
    if (!body.name) { form.setError('name', [t('err.required')]); bad = true; }
    if (body.usual_markup_pct === null || body.usual_markup_pct > 200) { form.setError('usual_markup_pct', [t('sup.err.markup')]); bad = true; }
    if (!commodities.length) { rowErr.textContent = t('sup.err.commodities'); rowErr.hidden = false; bad = true; }
    if (bad) { form.focusFirst(); return; }
    const done = busy(submit);
    try {
      const pt = await staffApi('/api/supply-points', { method: 'POST', body });
      showSuccess(() => t('sup.point_created', { name: (pt && pt.name) || body.name }), { scroll: false });
      state.formOpen.point = false;
      delete state.data.series;
      reload('points');
    } catch (err) {
      if (submit.isConnected) done();
      const extra = form.applyServer(err);
      if (err && err.fields && err.fields.commodities) { rowErr.textContent = asList(err.fields.commodities).join(t('list_sep')); rowErr.hidden = false; }
      showError(() => [staffErrorText(err), ...extra].join(t('list_sep')), { scroll: true });
    }
  });
  return el;
}

// ---- 走势 charts (uPlot) ----------------------------------------------------------------------------

const UPLOT_JS = new URL('../../vendor/uplot-1.6.32/uPlot.iife.min.js', import.meta.url).href;
const UPLOT_CSS = new URL('../../vendor/uplot-1.6.32/uPlot.min.css', import.meta.url).href;
let uplotLib = null;

/** The vendored uPlot (a classic script defining window.uPlot) and its stylesheet, loaded once, on first use. */
export function loadUplot() {
  if (window.uPlot) return Promise.resolve(window.uPlot);
  if (!uplotLib) {
    if (!document.querySelector('link[data-uplot]')) {
      document.head.appendChild(h('link', { rel: 'stylesheet', href: UPLOT_CSS, 'data-uplot': '' }));
    }
    uplotLib = new Promise((resolve, reject) => {
      const el = document.createElement('script');
      el.src = UPLOT_JS;
      el.async = true;
      el.onload = () => (window.uPlot ? resolve(window.uPlot) : reject(new Error('uPlot missing')));
      el.onerror = () => { uplotLib = null; el.remove(); reject(new Error('uPlot not loaded')); };
      document.head.appendChild(el);
    });
  }
  return uplotLib;
}

const PALETTE = ['#0b5d3b', '#a3140f', '#1f4e9c', '#b86e00', '#6a2c91', '#00707a', '#5a5a5a', '#c2185b'];
let charts = [];
let onResize = null;

function destroyCharts() {
  charts.forEach((c) => { try { c.destroy(); } catch (e) { /* gone */ } });
  charts = [];
  if (onResize) { window.removeEventListener('resize', onResize); onResize = null; }
}

/** The commodities the points report, by name (one option per name, with its category and unit). */
function commodityOptions(points) {
  const seen = new Map();
  for (const p of points) {
    for (const c of (p.commodities || [])) {
      if (c && c.name && !seen.has(c.name)) seen.set(c.name, c);
    }
  }
  return [...seen.values()];
}

function drawCharts(panel) {
  return section(panel, 'points', loadPoints, (p, points) => {
    const comms = commodityOptions(points);
    if (!state.chart.commodity || !comms.some((c) => c.name === state.chart.commodity)) state.chart.commodity = comms[0] ? comms[0].name : '';
    if (state.chart.point && !points.some((x) => pointId(x) === state.chart.point)) state.chart.point = '';
    const commodity = select(comms.map((c) => ({ value: c.name, label: t('sup.commodity_opt', { name: c.name, cat: catText(c.category), unit: unitText(c.unit) }) })),
      state.chart.commodity, { id: 'sup-chart-commodity', 'data-testid': 'sup-chart-commodity' }, comms.length ? null : t('sup.choose'));
    const point = select(points.map((x) => ({ value: pointId(x), label: x.name || pointId(x) })), state.chart.point,
      { id: 'sup-chart-point', 'data-testid': 'sup-chart-point' }, t('sup.all_points'));
    const days = select([7, 14, 30, 60, 90].map((n) => ({ value: n, label: t('sup.n_days', { n }) })), state.chart.days,
      { id: 'sup-chart-days', 'data-testid': 'sup-chart-days' });
    const body = h('div', { class: 'sup-chart-body', 'data-testid': 'sup-charts' });
    const change = () => {
      state.chart = { commodity: commodity.value, point: point.value, days: Number(days.value) || 30 };
      delete state.data.series;
      chartBody(body);
    };
    [commodity, point, days].forEach((el) => el.addEventListener('change', change));
    p.append(
      h('div', { class: 'sup-grid sup-chart-pick' },
        h('div', { class: 'field' }, h('label', { for: 'sup-chart-commodity' }, t('sup.f.commodity')), commodity),
        h('div', { class: 'field' }, h('label', { for: 'sup-chart-point' }, t('sup.f.point')), point),
        h('div', { class: 'field' }, h('label', { for: 'sup-chart-days' }, t('sup.f.days')), days)),
      body);
    chartBody(body);
  });
}

async function chartBody(body) {
  destroyCharts();
  clear(body);
  const { commodity, point, days } = state.chart;
  if (!commodity) { body.appendChild(h('p', { class: 'empty-inline', 'data-testid': 'sup-chart-none' }, t('sup.chart_no_commodity'))); return; }
  const key = JSON.stringify(state.chart);
  if (!state.data.series || state.data.series.key !== key) {
    body.appendChild(h('p', { class: 'loading' }, t('loading')));
    try {
      const q = new URLSearchParams({ commodity, days: String(days) });
      if (point) q.set('point_id', point);
      const [d, uPlot] = await Promise.all([staffApi(`/api/monitoring/series?${q}`), loadUplot()]);
      state.data.series = { key, days: (d && d.days) || [], series: (d && d.series) || [], uPlot };
    } catch (err) {
      if (!body.isConnected) return;
      clear(body);
      body.appendChild(inlineError(err, () => chartBody(body)));
      return;
    }
    if (!body.isConnected || JSON.stringify(state.chart) !== key) return;
    clear(body);
  }
  const { days: dayList, series } = state.data.series;
  const uPlot = window.uPlot;
  if (!dayList.length || !series.length) {
    body.appendChild(h('p', { class: 'empty-inline', 'data-testid': 'sup-chart-empty' }, t('sup.chart_empty')));
    return;
  }
  const xs = dayList.map((d) => Date.parse(`${d}T00:00:00+08:00`) / 1000);
  const priceBox = h('div', { class: 'sup-chart', 'data-testid': 'sup-chart-price', role: 'img', 'aria-label': t('sup.chart_price_aria', { commodity }) });
  const stockBox = h('div', { class: 'sup-chart', 'data-testid': 'sup-chart-stock', role: 'img', 'aria-label': t('sup.chart_stock_aria', { commodity }) });
  body.append(
    h('h2', null, t('sup.chart_price', { commodity })), priceBox,
    h('h2', null, t('sup.chart_stock', { commodity })), stockBox,
    dataTable(dayList, series));
  const width = () => Math.max(240, Math.floor(body.clientWidth || 320));
  const nums = (arr) => dayList.map((_, i) => (arr && arr[i] !== null && arr[i] !== undefined && Number.isFinite(Number(arr[i])) ? Number(arr[i]) : null));
  const xAxis = {
    stroke: '#3d3d3d',
    space: 64,
    values: (u, ticks) => ticks.map((ts) => { const [, m, d] = beijingDay(new Date(ts * 1000)).split('-').map(Number); return `${m}/${d}`; }),
  };
  const common = (height) => ({
    width: width(),
    height,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Asia/Shanghai'),
    cursor: { points: { size: 8 } },
    legend: { live: true },
    scales: { x: { time: true } },
  });
  // Price: yuan on the axis (from integer fen; the chart only positions points), ¥ in the legend.
  const priceOpts = {
    ...common(240),
    series: [
      { label: t('sup.chart_day'), value: (u, ts) => (ts === null ? '—' : dayText(beijingDay(new Date(ts * 1000)))) },
      ...series.map((s, i) => ({
        label: s.name || s.point_id, stroke: PALETTE[i % PALETTE.length], width: 2, spanGaps: true, points: { show: true, size: 6 },
        value: (u, v) => (v === null || v === undefined ? '—' : money(Math.round(v * 100))),
      })),
    ],
    axes: [xAxis, { stroke: '#3d3d3d', size: 60, values: (u, ticks) => ticks.map((v) => `¥${v.toFixed(2)}`) }],
  };
  const priceData = [xs, ...series.map((s) => nums(s.price_fen).map((v) => (v === null ? null : v / 100)))];
  const count = (u, v) => (v === null || v === undefined ? '—' : String(v));
  const stockOpts = {
    ...common(240),
    series: [
      { label: t('sup.chart_day'), value: (u, ts) => (ts === null ? '—' : dayText(beijingDay(new Date(ts * 1000)))) },
      ...series.flatMap((s, i) => [
        { label: t('sup.series_stock', { name: s.name || s.point_id }), stroke: PALETTE[i % PALETTE.length], width: 2, spanGaps: true, points: { show: true, size: 6 }, value: count },
        { label: t('sup.series_sales', { name: s.name || s.point_id }), stroke: PALETTE[i % PALETTE.length], width: 2, dash: [6, 4], spanGaps: true, points: { show: true, size: 5 }, value: count },
      ]),
    ],
    axes: [xAxis, { stroke: '#3d3d3d', size: 60 }],
  };
  const stockData = [xs, ...series.flatMap((s) => [nums(s.stock), nums(s.sales)])];
  charts = [new uPlot(priceOpts, priceData, priceBox), new uPlot(stockOpts, stockData, stockBox)];
  priceBox.setAttribute('data-ready', 'true');
  stockBox.setAttribute('data-ready', 'true');
  onResize = () => { const w = width(); charts.forEach((c) => c.setSize({ width: w, height: c.height })); };
  window.addEventListener('resize', onResize);
}

/** The same numbers as a list for screen readers and for reading exact values. */
function dataTable(days, series) {
  return h('details', { class: 'sup-chart-data', 'data-testid': 'sup-chart-data' },
    h('summary', null, t('sup.chart_numbers')),
    h('ul', null, series.map((s) => h('li', null,
      h('p', { class: 'sup-card-title' }, s.name || s.point_id),
      h('ul', null, days.map((d, i) => {
        const price = s.price_fen && s.price_fen[i] !== null && s.price_fen[i] !== undefined ? money(s.price_fen[i]) : '—';
        const stock = s.stock && s.stock[i] !== null && s.stock[i] !== undefined ? s.stock[i] : '—';
        const sales = s.sales && s.sales[i] !== null && s.sales[i] !== undefined ? s.sales[i] : '—';
        return h('li', null, t('sup.chart_row', { day: dayText(d), price, stock, sales }));
      }))))));
}

const SECTIONS = {
  demand: drawDemand,
  allocations: drawAllocations,
  ledgers: drawLedgers,
  settlements: drawSettlements,
  points: drawPoints,
  charts: drawCharts,
};
/** The data key each tab draws from (reload() redraws the tab if it shows that key). */
const SECTION_KEYS = {
  demand: 'demand', allocations: 'allocations', ledgers: 'ledgerCommunities', settlements: 'settlements', points: 'points', charts: 'points',
};
