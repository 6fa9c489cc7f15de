// #/staff/market: a supply point's daily report of price and stock (价格库存日报; plan 4), one screen on
// a phone. The form comes pre-filled from the point's last report (GET …/reports/form), so on a quiet
// day the reporter checks the numbers and taps 提交. Per commodity: retail price and cost in yuan,
// stock and the day's sales in the commodity's unit, in big inputs. A second report of the same day
// is refused (409 already_reported) and the screen then asks, in so many words, whether to replace
// the first one (which stays in the history). The alerts the report raised are shown at once.
import '../strings/roster.js';
import '../strings/supply.js';
import { t } from '../i18n.js';
import { staffApi } from '../api.js';
import { h, clear, showSuccess, showError, clearMessage } from '../ui.js';
import { dateTime } from '../format.js';
import { asList } from '../forms.js';
import { drawLoadError, staffErrorText, busy, confirmBox } from './roster.js';
import {
  supplyStaff, setTitle, backLink, beijingDay, dayText, catText, unitText, yuanInput, yuanValue, countValue,
  alertCards, lineFieldErrors,
} from './supply.js';

const FIELDS = ['price', 'cost', 'stock', 'sales'];

let state = null; // {who, pid, day, lines, values: {commodity_id: {price, cost, stock, sales}}, result, conflict}

export async function marketReportView(root, params, ctx) {
  const s = supplyStaff(root, ['supply_point'], 'mk.only_point');
  setTitle('mk.title');
  if (!s) return;
  const who = `${s.role}.${s.scope_id}`;
  const today = beijingDay();
  if (!state || state.who !== who || state.day !== today) {
    state = { who, pid: s.scope_id, day: today, lines: null, values: {}, result: null, conflict: false, name: '' };
  }
  if (ctx.refresh && !state.result) state.lines = null;
  if (!state.lines) {
    clear(root);
    root.appendChild(h('p', { class: 'loading' }, t('loading')));
    try {
      const form = await staffApi(`/api/supply-points/${encodeURIComponent(state.pid)}/reports/form?day=${encodeURIComponent(today)}`);
      state.lines = Array.isArray(form && form.lines) ? form.lines : [];
      state.name = (form && ((form.point && form.point.name) || form.point_name)) || '';
      for (const l of state.lines) {
        const id = l.commodity_id;
        if (!state.values[id]) {
          state.values[id] = {
            price: yuanInput(l.price_fen), cost: yuanInput(l.cost_fen),
            stock: l.stock === null || l.stock === undefined ? '' : String(l.stock),
            sales: l.sales === null || l.sales === undefined ? '' : String(l.sales),
          };
        }
      }
    } catch (err) {
      if (!ctx.isCurrent()) return;
      drawLoadError(root, err, ctx, [header()]);
      return;
    }
    if (!ctx.isCurrent()) return;
  }
  if (state.result) drawResult(root, ctx);
  else drawForm(root, ctx);
}

function header() {
  return [
    backLink('mk-back'),
    h('h1', { id: 'mk-title', class: 'page-title', 'data-testid': 'mk-title', tabindex: '-1' }, t('mk.title')),
    h('p', { class: 'mk-day', 'data-testid': 'mk-day', 'data-day': state ? state.day : '' },
      state && state.name ? t('mk.day_of', { day: dayText(state.day), name: state.name }) : t('mk.day', { day: dayText(state ? state.day : beijingDay()) })),
  ];
}

function drawForm(root, ctx) {
  clear(root);
  const errs = {}; // `${commodity_id}.${field}` -> error line
  const inputs = {};
  const lineCard = (l, i) => {
    const id = l.commodity_id;
    const v = state.values[id];
    const input = (field) => {
      const money = field === 'price' || field === 'cost';
      const el = h('input', {
        type: 'text', inputmode: money ? 'decimal' : 'numeric', autocomplete: 'off', class: 'mk-input',
        id: `mk-${i}-${field}`, 'data-testid': `mk-${field}`, value: v[field],
        'aria-describedby': `mk-${i}-${field}-error`,
      });
      el.addEventListener('input', () => { v[field] = el.value; });
      inputs[`${id}.${field}`] = el;
      const err = h('p', { class: 'field-error', id: `mk-${i}-${field}-error`, 'data-testid': `mk-${field}-error`, hidden: true });
      errs[`${id}.${field}`] = err;
      const label = t(`mk.f.${field}`, { unit: unitText(l.unit) });
      return h('div', { class: 'field mk-field', 'data-field': field }, h('label', { for: el.id }, label), el, err);
    };
    return h('li', { class: 'mk-line', 'data-testid': 'mk-line', 'data-commodity-id': id, 'data-index': i },
      h('p', { class: 'mk-name' }, h('span', { 'data-testid': 'mk-name' }, l.name || ''),
        h('span', { class: 'mk-cat' }, t('mk.cat_unit', { cat: catText(l.category), unit: unitText(l.unit) }))),
      h('div', { class: 'mk-grid' }, FIELDS.map(input)));
  };
  const setErr = (key, msgs) => {
    const el = errs[key];
    if (!el) return false;
    const list = (Array.isArray(msgs) ? msgs : [msgs]).filter(Boolean).map(String);
    el.textContent = list.join(t('list_sep'));
    el.hidden = !list.length;
    if (list.length) inputs[key].setAttribute('aria-invalid', 'true');
    else inputs[key].removeAttribute('aria-invalid');
    return true;
  };
  const clearErrs = () => Object.keys(errs).forEach((k) => setErr(k, []));
  const focusFirst = () => {
    const k = Object.keys(errs).find((x) => !errs[x].hidden);
    if (k) inputs[k].focus();
  };
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-big', 'data-testid': 'mk-submit' }, t('mk.submit'));
  const confirmSlot = h('div', { class: 'mk-confirm' });
  const form = h('form', { class: 'mk-form', novalidate: true, 'data-testid': 'mk-form' },
    h('ol', { class: 'mk-lines' }, state.lines.map(lineCard)),
    confirmSlot,
    submit);

  const send = async (replace) => {
    clearMessage();
    clearErrs();
    clear(confirmSlot);
    const lines = [];
    let bad = false;
    for (const l of state.lines) {
      const v = state.values[l.commodity_id];
      const line = {
        commodity_id: l.commodity_id, price: yuanValue(v.price), cost: yuanValue(v.cost), stock: countValue(v.stock), sales: countValue(v.sales),
      };
      for (const f of FIELDS) {
        if (line[f] === null) {
          setErr(`${l.commodity_id}.${f}`, [t(f === 'price' || f === 'cost' ? 'mk.err.money' : 'mk.err.count')]);
          bad = true;
        }
      }
      lines.push(line);
    }
    if (bad) {
      showError(() => t('err.form'), { scroll: false });
      focusFirst();
      return;
    }
    const body = { day: state.day, lines };
    if (replace) body.replace = true;
    const done = busy(submit, t('mk.sending'));
    try {
      const report = await staffApi(`/api/supply-points/${encodeURIComponent(state.pid)}/reports`, { method: 'POST', body });
      state.result = { report: report || {}, replaced: !!replace, at: (report && (report.reported_at || report.at)) || new Date().toISOString() };
      state.conflict = false;
      showSuccess(() => (replace ? t('mk.replaced') : t('mk.sent')), { scroll: false });
      if (ctx.isCurrent()) drawResult(root, ctx);
    } catch (err) {
      if (submit.isConnected) done();
      if (err && err.status === 409 && err.code === 'already_reported') {
        state.conflict = true;
        showError(() => t('mk.already'), { scroll: false });
        confirmSlot.appendChild(confirmBox({
          testid: 'mk-replace',
          question: t('mk.replace_q'),
          hint: t('mk.replace_hint'),
          yes: t('mk.replace_yes'),
          no: t('mk.replace_no'),
          onYes: () => send(true),
          onNo: () => { clear(confirmSlot); clearMessage(); submit.focus(); },
        }));
        return;
      }
      const rest = [];
      state.lines.forEach((l, i) => {
        const fe = lineFieldErrors(err, i);
        if (!fe) return;
        for (const [f, m] of Object.entries(fe)) if (!setErr(`${l.commodity_id}.${f}`, asList(m))) rest.push(...asList(m));
      });
      const other = err && err.fields ? Object.entries(err.fields).filter(([k]) => k !== 'lines').flatMap(([, m]) => asList(m)) : [];
      showError(() => [staffErrorText(err), ...rest, ...other].join(t('list_sep')), { scroll: false });
      focusFirst();
    }
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); send(false); });

  root.appendChild(h('section', { class: 'console market', 'aria-labelledby': 'mk-title' },
    header(),
    state.lines.length
      ? [h('p', { class: 'hint mk-hint' }, t('mk.prefilled')), form]
      : h('p', { class: 'msg msg-warn', 'data-testid': 'mk-no-commodities' }, t('mk.no_commodities'))));
}

function drawResult(root, ctx) {
  clear(root);
  const { report, replaced, at } = state.result;
  const alerts = Array.isArray(report.alerts) ? report.alerts : [];
  const lines = Array.isArray(report.lines) ? report.lines : [];
  const nameOf = (id) => { const l = (state.lines || []).find((x) => x.commodity_id === id); return l ? l.name : (id || ''); };
  root.appendChild(h('section', { class: 'console market', 'aria-labelledby': 'mk-title' },
    header(),
    h('div', { class: 'mk-done', 'data-testid': 'mk-done', 'data-version': report.version ?? null },
      h('div', { class: 'staff-icon', 'aria-hidden': 'true' }, '✓'),
      h('p', { class: 'mk-done-title', 'data-testid': 'mk-done-title' }, replaced ? t('mk.replaced') : t('mk.sent')),
      h('p', { class: 'hint' }, t('mk.sent_at', { time: dateTime(at) }))),
    h('h2', { 'data-testid': 'mk-alerts-title' }, alerts.length ? t('mk.alerts_n', { n: alerts.length }) : t('mk.alerts')),
    alerts.length ? h('p', { class: 'hint' }, t('mk.alerts_hint')) : null,
    alertCards(alerts, { testid: 'mk-alert', withPoint: false }),
    lines.length ? h('ul', { class: 'mk-summary', 'data-testid': 'mk-summary' }, lines.map((l) => h('li', null,
      t('mk.summary_line', {
        name: l.name || nameOf(l.commodity_id),
        price: l.price_fen !== undefined ? `¥${yuanInput(l.price_fen)}` : '',
        stock: l.stock ?? '', sales: l.sales ?? '',
      })))) : null,
    h('button', {
      type: 'button', class: 'btn btn-secondary', 'data-testid': 'mk-edit',
      onclick: () => { state.result = null; clearMessage(); drawForm(root, ctx); const f = root.querySelector('input'); if (f) f.focus(); },
    }, t('mk.edit'))));
}
