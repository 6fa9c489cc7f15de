// #/staff/gate-log: the supervisor's log of the gate (督查). A day's events as a timeline (every
// registration, review and step at the gate, oldest first), the day's deviations at the top in plain
// words (arrived outside the window, release asked before the rest was over, a vehicle turned away);
// a day picker; and the log of a span of days (at most 31) as CSV or Excel, fetched with the staff
// token and saved on the phone. Supervisors, reviewers and the site's managers see it.
import '../strings/roster.js';
import '../strings/sites.js';
import { saveFile } from '../download.js';
import { t } from '../i18n.js';
import { staffApi } from '../api.js';
import { h, clear, showSuccess, clearMessage } from '../ui.js';
import { dateTime, timeOfDay } from '../format.js';
import { showStaffError, busy, roleName } from './roster.js';
import {
  spath, gateStaff, siteOf, sitePicker, dayPicker, beijingDay, shiftDay, isDay, eventText, deviationText, say,
  drawGateLoadError,
} from './site.js';

const ROLES = ['supervisor', 'reviewer', 'admin', 'liaison'];
const MAX_DAYS = 31;

let state = null; // {who, sid, sites, day, log: {events, deviations}, from, to}

export async function gateLogView(root, params, ctx) {
  const s = gateStaff(root, ROLES, 'gl.only_roles');
  if (!s) return;
  const who = `${s.role}.${s.scope_id}`;
  if (!state || state.who !== who) {
    const today = beijingDay();
    state = { who, sid: null, sites: null, day: today, log: null, from: today, to: today };
  }
  if (ctx.refresh || !state.log) await load(root, s, ctx);
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
        h('p', { class: 'msg msg-warn', 'data-testid': 'gl-no-site' }, t('gs.no_site'))));
      return;
    }
    const data = await staffApi(spath(state.sid, `/log?day=${encodeURIComponent(state.day)}`));
    state.log = {
      events: Array.isArray(data && data.events) ? data.events : [],
      deviations: Array.isArray(data && data.deviations) ? data.deviations : [],
    };
  } catch (err) {
    if (!ctx.isCurrent()) return;
    state.log = null;
    drawGateLoadError(root, err, s, ctx, header(s, ctx), 'gl');
    return;
  }
  if (!ctx.isCurrent()) return;
  draw(root, s, ctx, focus);
}

function header(s, ctx) {
  return [
    h('a', { class: 'back', href: '#/staff', 'data-testid': 'gl-back' }, `← ${t('console.to_staff')}`),
    h('h1', { id: 'gl-title', class: 'page-title', 'data-testid': 'gl-title', tabindex: '-1' }, t('gl.title')),
    sitePicker(s, state.sites, state.sid, (sid) => { state.sid = sid; state.log = null; clearMessage(); load(document.getElementById('main'), s, ctx); }, 'gl-site'),
  ];
}

function draw(root, s, ctx, focus = null) {
  clear(root);
  const { events, deviations } = state.log || { events: [], deviations: [] };
  const reload = (f) => load(root, s, ctx, f);
  root.appendChild(h('section', { class: 'console gatelog', 'aria-labelledby': 'gl-title' },
    header(s, ctx),
    dayPicker(state.day, (day) => {
      state.day = day;
      state.from = day;
      state.to = day;
      clearMessage();
      reload('[data-testid="gl-day-label"]');
    }, 'gl-day'),
    deviationsBlock(deviations),
    h('div', { class: 'block' },
      h('h2', null, t('gl.timeline')),
      h('p', { class: 'gs-count', 'data-testid': 'gl-count', 'data-count': events.length }, t('gl.count', { n: events.length })),
      events.length
        ? h('ol', { class: 'gl-timeline', 'data-testid': 'gl-events' }, events.map((e) => eventItem(e, 'gl-event')))
        : h('p', { class: 'empty-inline', 'data-testid': 'gl-empty' }, t('gl.none'))),
    exportBlock(s, ctx),
    h('button', {
      type: 'button', class: 'btn btn-secondary', 'data-testid': 'gl-refresh',
      onclick: () => { clearMessage(); reload('[data-testid="gl-refresh"]'); },
    }, t('gl.refresh'))));
  if (focus) {
    const el = typeof focus === 'string' ? root.querySelector(focus) : focus;
    if (el) el.focus();
  }
}

function deviationsBlock(deviations) {
  if (!deviations.length) {
    return h('p', { class: 'msg msg-success gl-no-dev', 'data-testid': 'gl-no-deviations' }, t('gl.no_deviations'));
  }
  return h('div', { class: 'gl-devs', role: 'region', 'aria-labelledby': 'gl-devs-title', 'data-testid': 'gl-deviations' },
    h('h2', { id: 'gl-devs-title' }, t('gl.deviations', { n: deviations.length })),
    h('ul', { class: 'gl-dev-list' }, deviations.map((e) => h('li', {
      class: 'gl-dev', 'data-testid': 'gl-deviation', 'data-deviation': e.deviation || '', 'data-event-id': e.event_id, 'data-plate': e.plate || '',
    },
    h('p', { class: 'gl-dev-what', 'data-testid': 'gl-deviation-label' }, deviationText(e.deviation)),
    h('p', { class: 'gl-dev-line' },
      h('span', { class: 'gl-time' }, timeOfDay(e.at)),
      e.plate ? h('span', { class: 'gs-plate gs-plate-sm' }, e.plate) : null,
      h('span', null, eventText(e.type))),
    detailsList(e.details),
    whoLine(e)))));
}

function eventItem(e, testid) {
  return h('li', {
    class: `gl-event${e.deviation ? ' gl-event-dev' : ''}`, 'data-testid': testid, 'data-type': e.type,
    'data-event-id': e.event_id, 'data-plate': e.plate || '', 'data-deviation': e.deviation || null,
  },
  h('span', { class: 'gl-time', 'data-testid': 'gl-event-time' }, timeOfDay(e.at)),
  h('div', { class: 'gl-body' },
    h('p', { class: 'gl-what' },
      h('span', { class: 'gl-type', 'data-testid': 'gl-event-type' }, eventText(e.type)),
      e.plate ? h('span', { class: 'gs-plate gs-plate-sm', 'data-testid': 'gl-event-plate' }, e.plate) : null),
    e.deviation ? h('p', { class: 'gl-dev-tag', 'data-testid': 'gl-event-deviation' }, `⚠ ${deviationText(e.deviation)}`) : null,
    detailsList(e.details),
    whoLine(e)));
}

/** Who did it: their role, and the end of their staff id (the export has it in full). */
function whoLine(e) {
  if (!e.by_role && !e.by) return null;
  const id = String(e.by || '');
  return h('p', { class: 'gl-who', title: id || null },
    t('gl.by', { role: e.by_role ? roleName(e.by_role) : '', who: id.length > 6 ? `…${id.slice(-6)}` : id }).trim());
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d/;

/** An event's details ({operator, disinfectant, ratio, point, reason…}) as "label: value" lines. */
function detailsList(details) {
  if (details === null || details === undefined || details === '') return null;
  if (typeof details !== 'object') return h('p', { class: 'gl-details' }, say(details));
  const rows = Object.entries(details).filter(([, v]) => v !== null && v !== undefined && v !== '' && !(Array.isArray(v) && !v.length));
  if (!rows.length) return null;
  return h('ul', { class: 'gl-details' }, rows.map(([k, v]) => {
    const key = `gl.d.${k}`;
    const label = t(key) === key ? k : t(key);
    const known = `gl.${k}.${v}`; // a coded value (stage: gate / packaging)
    const value = typeof v === 'string' && t(known) !== known ? t(known) : detailValue(v);
    return h('li', { 'data-detail': k }, t('gl.detail', { label, value }));
  }));
}

function detailValue(v) {
  if (typeof v === 'boolean') return v ? t('gl.yes') : t('gl.no');
  if (typeof v === 'string' && ISO.test(v)) return dateTime(v);
  if (Array.isArray(v)) return v.map(detailValue).join('、');
  if (v && typeof v === 'object') return v.name ? String(v.name) : Object.values(v).map(detailValue).join(' ');
  return say(v);
}

// ---- the export ---------------------------------------------------------------------------------

function exportBlock(s, ctx) {
  const err = h('p', { class: 'field-error', 'data-testid': 'gl-range-error', hidden: true });
  const dateInput = (key, label) => {
    const el = h('input', { type: 'date', id: `gl-${key}`, 'data-testid': `gl-${key}`, value: state[key], max: shiftDay(beijingDay(), 1) });
    el.addEventListener('change', () => { if (isDay(el.value)) state[key] = el.value; err.hidden = true; });
    return h('div', { class: 'field' }, h('label', { for: `gl-${key}` }, label), el);
  };
  const button = (format, label) => {
    const btn = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': `gl-export-${format}` }, label);
    btn.addEventListener('click', () => exportLog(format, btn, err));
    return btn;
  };
  return h('div', { class: 'block gl-export', 'data-testid': 'gl-export' },
    h('h2', null, t('gl.export')),
    h('p', { class: 'hint' }, t('gl.export_hint', { n: MAX_DAYS })),
    h('div', { class: 'gs-two' }, dateInput('from', t('gl.from')), dateInput('to', t('gl.to'))),
    err,
    button('xlsx', t('gl.export_xlsx')),
    button('csv', t('gl.export_csv')));
}

function spanDays(from, to) {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86400000) + 1;
}

async function exportLog(format, btn, err) {
  clearMessage();
  err.hidden = true;
  const { from, to } = state;
  const n = isDay(from) && isDay(to) ? spanDays(from, to) : 0;
  if (n < 1 || n > MAX_DAYS) {
    err.textContent = n < 1 ? t('gl.range_backwards') : t('gl.range_too_long', { n: MAX_DAYS });
    err.hidden = false;
    return;
  }
  const done = busy(btn, t('gl.exporting'));
  try {
    const q = new URLSearchParams({ format, from, to });
    const name = await saveFile(spath(state.sid, `/log/export?${q}`), `gate-log-${from}${from === to ? '' : `-${to}`}.${format}`);
    showSuccess(() => t('gl.exported', { name }), { scroll: false });
  } catch (e) {
    showStaffError(e);
    if (e && e.fields) {
      err.textContent = Object.values(e.fields).flat().map(say).join(t('list_sep'));
      err.hidden = false;
    }
  } finally {
    if (btn.isConnected) done();
  }
}
