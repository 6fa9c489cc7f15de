// #/staff/special: special households (特殊人群) and their check-ins, most overdue first.
// This is the liaison's call list: the only staff screen that shows whole phone numbers.
import '../strings/roster.js';
import { t } from '../i18n.js';
import { staffApi } from '../api.js';
import { h, clear, clearMessage } from '../ui.js';
import { dateTime } from '../format.js';
import {
  consoleStaff, consoleNav, drawLoadError, showStaffError, cpath, categoryText, hoursText, checkInForm,
} from './roster.js';

let overdueOnly = false;
let state = null; // {cid, overdueOnly, data}
const open = new Set(); // flat_refs whose quick check-in form is open

function load(cid) {
  return staffApi(cpath(cid, `/special-households?overdue=${overdueOnly ? 'true' : 'false'}`));
}

export async function specialView(root, params, ctx) {
  const s = consoleStaff(root);
  if (!s) return;
  const cid = s.scope_id;
  if (ctx.refresh || !state || state.cid !== cid || state.overdueOnly !== overdueOnly) {
    if (ctx.refresh) open.clear();
    clear(root);
    root.appendChild(h('p', { class: 'loading' }, t('loading')));
    try {
      state = { cid, overdueOnly, data: await load(cid) };
    } catch (err) {
      if (!ctx.isCurrent()) return;
      drawLoadError(root, err, ctx, [consoleNav('special')]);
      return;
    }
    if (!ctx.isCurrent()) return;
  }
  draw(root, ctx);
}

async function reload(root, ctx) {
  try {
    state = { cid: state.cid, overdueOnly, data: await load(state.cid) };
  } catch (err) {
    if (ctx.isCurrent()) showStaffError(err);
    return;
  }
  if (ctx.isCurrent()) draw(root, ctx);
}

function draw(root, ctx) {
  const data = state.data || {};
  const list = Array.isArray(data.households) ? data.households : [];
  clear(root);

  const toggle = h('input', { type: 'checkbox', id: 'sp-overdue', 'data-testid': 'special-overdue-toggle', checked: overdueOnly });
  toggle.addEventListener('change', () => {
    overdueOnly = toggle.checked;
    clearMessage();
    reload(root, ctx).then(() => {
      const el = root.querySelector('[data-testid="special-overdue-toggle"]');
      if (el) el.focus();
    });
  });

  root.appendChild(h('section', { class: 'console special', 'aria-labelledby': 'special-title' },
    consoleNav('special'),
    h('h1', { id: 'special-title', class: 'page-title', 'data-testid': 'special-title' }, t('special.title')),
    Number.isFinite(data.interval_days)
      ? h('p', { class: 'round-line', 'data-testid': 'special-interval' }, t('special.interval', { n: data.interval_days }))
      : null,
    h('label', { class: 'switch', for: 'sp-overdue' }, toggle, h('span', null, t('special.only_overdue'))),
    list.length
      ? h('div', { class: 'sp-list', 'data-testid': 'special-list' }, list.map((e) => card(e, root, ctx)))
      : h('p', { class: 'empty', 'data-testid': 'special-empty' }, overdueOnly ? t('special.none_overdue') : t('special.none'))));
}

function telHref(n) {
  return `tel:${String(n).replace(/[^0-9+]/g, '')}`;
}

function card(e, root, ctx) {
  const sp = e.special || {};
  const dueMs = Date.parse(e.due_at);
  let due = null;
  if (e.overdue) {
    const hrs = Number.isFinite(e.overdue_hours) ? e.overdue_hours : (Date.now() - dueMs) / 3600000;
    due = h('p', { class: 'due due-over', 'data-testid': 'special-due', 'data-overdue': 'true' }, t('special.overdue', { time: hoursText(Math.floor(hrs)) }));
  } else if (Number.isFinite(dueMs)) {
    due = h('p', { class: 'due', 'data-testid': 'special-due', 'data-overdue': 'false' },
      t('special.due_in', { time: hoursText(Math.max(0, Math.ceil((dueMs - Date.now()) / 3600000))) }));
  }

  // Whole numbers here only: this is the call list.
  const calls = [];
  const seen = new Set();
  const add = (num, who, kind) => {
    const key = String(num || '').replace(/[^0-9]/g, '');
    if (!key || seen.has(key)) return;
    seen.add(key);
    calls.push(h('a', {
      class: 'btn btn-call', href: telHref(num), 'data-testid': 'special-phone', 'data-kind': kind,
      'aria-label': `${who} ${num}`,
    },
    h('span', { class: 'call-icon', 'aria-hidden': 'true' }, '☎'),
    h('span', { class: 'call-text' },
      h('span', { class: 'call-who' }, who),
      h('span', { class: 'call-num' }, num))));
  };
  (Array.isArray(e.phones) ? e.phones : []).forEach((p) => add(p, t('special.call_household'), 'member'));
  if (e.contact_phone) add(e.contact_phone, t('special.call_household'), 'contact');
  if (sp.contact_phone) add(sp.contact_phone, t('special.call_contact', { name: sp.contact_name || t('special.contact_label') }), 'special-contact');

  const ref = e.flat_ref;
  const isOpen = open.has(ref);
  const openBtn = h('button', {
    type: 'button', class: 'btn btn-secondary', 'data-testid': 'special-checkin-open', 'aria-expanded': 'false',
    onclick: () => {
      open.add(ref);
      clearMessage();
      draw(root, ctx);
      const el = root.querySelector(`[data-flat-ref="${ref}"] [data-testid="qci-outcome-ok"]`);
      if (el) el.focus();
    },
  }, t('special.check_in'));

  return h('article', {
    class: `sp-card${e.overdue ? ' sp-overdue' : ''}`, 'data-testid': 'special-card', 'data-flat-ref': ref,
    'data-overdue': e.overdue ? 'true' : 'false', 'aria-labelledby': `sp-${ref}`,
  },
  h('div', { class: 'sp-head' },
    h('h2', { id: `sp-${ref}` }, h('a', { href: `#/staff/households/${ref}`, 'data-testid': 'special-flat' }, e.flat_label)),
    h('span', { class: 'tag tag-special', 'data-testid': 'special-category', 'data-category': sp.category }, categoryText(sp.category))),
  e.name ? h('p', { class: 'flat-name' }, e.name) : null,
  due,
  h('p', { class: 'sp-last', 'data-testid': 'special-last' },
    sp.last_check_in_at
      ? t('special.last', { time: dateTime(sp.last_check_in_at) })
      : t('special.last_never', { time: dateTime(sp.flagged_at) })),
  e.no_order_yet ? h('p', { class: 'flat-tags' }, h('span', { class: 'tag tag-warn', 'data-testid': 'special-no-order' }, t('special.no_order_yet'))) : null,
  sp.needs ? h('p', { class: 'sp-needs', 'data-testid': 'special-needs' }, t('special.needs', { needs: sp.needs })) : null,
  calls.length ? h('div', { class: 'calls' }, calls) : h('p', { class: 'hint', 'data-testid': 'special-no-phones' }, t('special.no_phones')),
  isOpen
    ? h('div', { class: 'card qci' }, checkInForm(state.cid, ref, ctx, {
      prefix: `qci-${ref.replace(/[^A-Za-z0-9-]/g, '-')}`, tid: 'qci', withTime: false, flatLabel: e.flat_label,
      onSaved: async () => { open.delete(ref); await reload(root, ctx); },
      onCancel: () => { open.delete(ref); draw(root, ctx); },
    }))
    : openBtn);
}
