// The gate officer's phone (门岗, plan 2), 360 px first:
//   #/staff/gate                     today's vehicles at the site (GET /api/sites/{sid}/deliveries, the server's
//                                    Beijing day), each a big card; and turning away a plate with no approved
//                                    delivery (POST /api/sites/{sid}/gate/turn-away)
//   #/staff/gate/<sid>/<did>         one vehicle: one big button for its next step
//                                    (POST /api/sites/{sid}/deliveries/{did}/gate {action, …}), the rest's
//                                    countdown and the vehicle's record
// Steps, as docs/api.md § The gate has them:
//   enter:    approved → arrived → disinfected → routed → released → unloaded → departed
//   handover: approved → arrived → set_down → left → disinfected → released
// For the gate officer (their sign-in's scope is the site) and the site's managers (a liaison: their
// community's site; an admin: one of their sub-district's sites, chosen here).
//
// The rest's countdown runs on the server's clock: every Delivery carries `server_now`, so at each fetch
// skew = server_now − Date.now(), and the time left is rest_ends_at − (Date.now() + skew), ticked each
// second. At zero the delivery is fetched again; the server still has the last word (422 resting).
import '../strings/roster.js';
import '../strings/gate.js';
import { t, locale } from '../i18n.js';
import { staffApi } from '../api.js';
import * as staff from '../staff.js';
import { h, clear, showError, showSuccess, clearMessage } from '../ui.js';
import { timeOfDay, dateTime, halfWidth } from '../format.js';
import { makeForm } from '../forms.js';
import { drawLoadError, staffErrorText, busy, showFormError, notForRole } from './roster.js';

export const GATE_ROLES = ['gate_officer', 'liaison', 'admin'];
const SITE_KEY = 'baogong.gate.site';         // an admin's chosen site
const OPERATOR_KEY = 'baogong.gate.operator'; // the last disinfection operator typed on this phone

const STEPS = {
  enter: ['arrived', 'disinfected', 'routed', 'released', 'unloaded', 'departed'],
  handover: ['arrived', 'set_down', 'left', 'disinfected', 'released'],
};
const NEXT = {
  enter: { approved: 'arrive', arrived: 'disinfect', disinfected: 'assign_point', routed: 'release', released: 'unload', unloaded: 'depart' },
  handover: { approved: 'arrive', arrived: 'set_down', set_down: 'leave', left: 'disinfect', disinfected: 'release' },
};
const STATUSES = ['submitted', 'approved', 'rejected', 'arrived', 'disinfected', 'routed', 'released', 'unloaded',
  'departed', 'set_down', 'left'];
const VEHICLES = ['van', 'truck', 'refrigerated', 'minivan', 'car', 'other'];
const CARGO = ['rice', 'flour', 'oil', 'meat', 'eggs', 'milk', 'vegetables', 'fresh', 'protective', 'urgent'];

let list = null;   // {sid, site, sites, day, deliveries}: the list page's data
let one = null;    // {sid, did, site, delivery, skew, zeroFetched}: the vehicle on screen
let timer = null;  // the countdown's interval
const drafts = {}; // what was typed in the step forms, kept over a language switch: {`${did}:${field}`: value}

// ---------------------------------------------------------------- helpers

const modeOf = (d) => (d && d.mode === 'handover' ? 'handover' : 'enter');
const statusText = (s) => (STATUSES.includes(s) ? t(`gate.status.${s}`) : String(s || ''));
const modeText = (m) => t(`gate.mode.${m === 'handover' ? 'handover' : 'enter'}`);
const vehicleText = (v) => (VEHICLES.includes(v) ? t(`gate.vt.${v}`) : String(v || ''));
const cargoText = (list_) => (Array.isArray(list_) ? list_ : [])
  .map((c) => (CARGO.includes(c) ? t(`gate.cat.${c}`) : String(c))).join(t('gate.list_sep'));
const gateOf = (d) => (d && d.gate && typeof d.gate === 'object' ? d.gate : {});
const nextAction = (d) => (d ? NEXT[modeOf(d)][d.status] || null : null);
const isDone = (d) => d && ((modeOf(d) === 'enter' && d.status === 'departed') || (modeOf(d) === 'handover' && d.status === 'released'));
const notApproved = (d) => d && (d.status === 'submitted' || d.status === 'rejected');

function sitePath(sid, rest = '') {
  return `/api/sites/${encodeURIComponent(sid)}${rest}`;
}
function deliveryPath(sid, did, rest = '') {
  return sitePath(sid, `/deliveries/${encodeURIComponent(did)}${rest}`);
}
export function gateHash(sid, did) {
  return `#/staff/gate/${encodeURIComponent(sid)}/${encodeURIComponent(did)}`;
}

/** server_now − Date.now(), in ms (0 when the answer has no server_now). */
function skewOf(d) {
  const at = Date.parse(d && d.server_now);
  return Number.isFinite(at) ? at - Date.now() : 0;
}
/** The server's "now" in ms, as this phone reckons it. */
const serverNow = (skew) => Date.now() + skew;

/** Milliseconds of rest left (≤ 0: over), or null when the delivery is not resting before its release. */
function restLeft(d, skew) {
  const ends = Date.parse(gateOf(d).rest_ends_at);
  if (!Number.isFinite(ends) || d.status === 'released' || d.status === 'unloaded' || d.status === 'departed') return null;
  if (modeOf(d) === 'handover' && d.status !== 'disinfected') return null;
  return ends - serverNow(skew);
}

/** 1799500 ms -> "30:00" (whole seconds rounded up, so it reads 00:00 only when the rest is over). */
function mmss(ms) {
  const secs = Math.max(0, Math.ceil(ms / 1000));
  const m = Math.floor(secs / 60);
  const s = secs % 60;
  return `${m < 10 ? '0' : ''}${m}:${s < 10 ? '0' : ''}${s}`;
}

/** "2026-11-30" -> "11月30日周一" / "Mon 30 Nov". */
function dayText(day) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(String(day || ''))) return String(day || '');
  try {
    const loc = locale();
    return new Intl.DateTimeFormat(loc, { timeZone: 'UTC', month: loc.startsWith('zh') ? 'long' : 'short', day: 'numeric', weekday: 'short' })
      .format(new Date(`${day}T00:00:00Z`));
  } catch (e) {
    return String(day);
  }
}

/** The Beijing calendar day of an ISO time ("2026-11-30"); China keeps UTC+8 all year. */
function beijingDay(iso) {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? new Date(ms + 8 * 3600 * 1000).toISOString().slice(0, 10) : '';
}

/** "08:00–10:00" in Beijing time; the end gets its date when it falls on another day. */
function windowTimes(d) {
  const until = beijingDay(d.arrive_from) === beijingDay(d.arrive_until) ? timeOfDay(d.arrive_until) : dateTime(d.arrive_until);
  return `${timeOfDay(d.arrive_from)}–${until}`;
}
function windowText(d) {
  const [from, until] = windowTimes(d).split('–');
  return t('gate.window', { from, until });
}

function stopTimer() {
  if (timer) clearInterval(timer);
  timer = null;
}

function draftKey(did, name) { return `${did}:${name}`; }
function draftInput(did, name, attrs, fallback = '') {
  const key = draftKey(did, name);
  const input = h('input', { ...attrs, value: drafts[key] !== undefined ? drafts[key] : fallback });
  input.addEventListener('input', () => { drafts[key] = input.value; });
  return input;
}
function clearDrafts(did) {
  Object.keys(drafts).filter((k) => k.startsWith(`${did}:`)).forEach((k) => { delete drafts[k]; });
}

function readOperator() {
  try { return localStorage.getItem(OPERATOR_KEY) || ''; } catch (e) { return ''; }
}
function saveOperator(name) {
  try { localStorage.setItem(OPERATOR_KEY, name); } catch (e) { /* storage blocked */ }
}

/** The signed-in gate officer or manager; else a "not for your role" page and null. */
function gateStaff(root) {
  const s = staff.get();
  if (s && GATE_ROLES.includes(s.role)) return s;
  stopTimer();
  notForRole(root, s, 'gate.only_roles', { cls: 'console gate', back: 'gate.to_staff' });
  return null;
}

function loading(root) {
  clear(root);
  root.appendChild(h('p', { class: 'loading', 'data-testid': 'gate-loading' }, t('loading')));
}

// ---------------------------------------------------------------- shared pieces

function modeBadge(d) {
  return h('span', { class: `badge gate-mode gate-mode-${modeOf(d)}`, 'data-testid': 'gate-mode', 'data-mode': modeOf(d) }, modeText(d.mode));
}
function statusBadge(d, testid = 'gate-status') {
  return h('span', { class: `badge gate-status gate-status-${d.status}`, 'data-testid': testid, 'data-status': d.status }, statusText(d.status));
}

/** The steps of the delivery's mode, the ones done ticked, the current one marked. */
function stepIndicator(d, testid = 'gate-steps') {
  const steps = STEPS[modeOf(d)];
  const at = steps.indexOf(d.status);
  const blocked = notApproved(d);
  return h('ol', {
    class: `gate-steps gate-steps-${steps.length}${blocked ? ' gate-steps-blocked' : ''}`, 'data-testid': testid,
    'aria-label': t('gate.steps_aria', { status: statusText(d.status) }),
  }, steps.map((st, i) => {
    const state = i <= at ? 'done' : (i === at + 1 && !blocked ? 'next' : 'todo');
    return h('li', { class: `gate-step gate-step-${state}`, 'data-step': st, 'aria-current': i === at ? 'step' : null },
      h('span', { class: 'gate-step-dot', 'aria-hidden': 'true' }, state === 'done' ? '✓' : String(i + 1)),
      h('span', { class: 'gate-step-label' }, t(`gate.step.${st}`)));
  }));
}

// ---------------------------------------------------------------- #/staff/gate

/** The site this phone works on: the sign-in's scope, or an admin's choice among GET /api/sites. */
async function resolveSite(s) {
  if (s.role !== 'admin') return { sid: s.scope_id, sites: null };
  const data = await staffApi('/api/sites');
  const sites = Array.isArray(data && data.sites) ? data.sites : [];
  let stored = '';
  try { stored = localStorage.getItem(SITE_KEY) || ''; } catch (e) { /* ignore */ }
  if (sites.some((x) => x.site_id === stored)) return { sid: stored, sites };
  if (sites.length === 1) return { sid: sites[0].site_id, sites };
  return { sid: null, sites };
}

function drawSiteChoice(root, sites, ctx) {
  clear(root);
  root.appendChild(h('section', { class: 'console gate', 'data-testid': 'gate-sites' },
    h('h1', { class: 'page-title' }, t('gate.choose_site')),
    sites.length
      ? h('ul', { class: 'gate-sites' }, sites.map((x) => h('li', null,
        h('button', {
          type: 'button', class: 'btn btn-secondary', 'data-testid': 'gate-site', 'data-site-id': x.site_id,
          onclick: () => {
            try { localStorage.setItem(SITE_KEY, x.site_id); } catch (e) { /* ignore */ }
            ctx.rerender({ refresh: true });
          },
        }, x.name || x.site_id))))
      : h('p', { class: 'empty', 'data-testid': 'gate-no-sites' }, t('gate.no_sites'))));
}

export async function gateView(root, params, ctx) {
  stopTimer();
  const s = gateStaff(root);
  if (!s) return;
  if (ctx.refresh || !list) {
    loading(root);
    try {
      const { sid, sites } = await resolveSite(s);
      if (!ctx.isCurrent()) return;
      if (!sid) { list = null; drawSiteChoice(root, sites, ctx); return; }
      const [site, data] = await Promise.all([staffApi(sitePath(sid)), staffApi(sitePath(sid, '/deliveries'))]);
      if (!ctx.isCurrent()) return;
      list = {
        sid, sites, site, day: data && data.day,
        deliveries: Array.isArray(data && data.deliveries) ? data.deliveries : [],
        skew: skewOf(data && data.deliveries && data.deliveries[0]),
      };
    } catch (err) {
      if (!ctx.isCurrent()) return;
      drawLoadError(root, err, ctx);
      return;
    }
  }
  drawList(root, ctx);
}

function deliveryCard(sid, d, skew) {
  const left = restLeft(d, skew);
  const ends = gateOf(d).rest_ends_at;
  return h('li', { class: 'gate-card-item' },
    h('a', {
      class: `gate-card${notApproved(d) ? ' gate-card-blocked' : ''}${isDone(d) ? ' gate-card-done' : ''}`,
      href: gateHash(sid, d.delivery_id), 'data-testid': 'gate-card', 'data-delivery-id': d.delivery_id,
      'data-status': d.status,
    },
    h('span', { class: 'gate-card-top' },
      h('span', { class: 'gate-plate', 'data-testid': 'gate-card-plate', lang: 'zh-CN' }, d.plate || ''),
      modeBadge(d)),
    h('span', { class: 'gate-card-line gate-card-supplier' }, t('gate.supplier', { name: d.supplier_name || '' })),
    h('span', { class: 'gate-card-line' }, windowText(d)),
    h('span', { class: 'gate-card-line gate-card-status' }, statusBadge(d, 'gate-card-status'),
      left !== null && left > 0 ? h('span', { class: 'gate-card-rest' }, t('gate.resting_until', { time: timeOfDay(ends) })) : null),
    notApproved(d) ? h('span', { class: 'gate-card-warn' }, t('gate.not_approved')) : null,
    stepIndicator(d, 'gate-card-steps')));
}

function drawList(root, ctx) {
  clear(root);
  const { sid, site, day, deliveries } = list;
  const refresh = h('button', { type: 'button', class: 'btn btn-secondary gate-refresh', 'data-testid': 'gate-refresh' }, t('gate.refresh'));
  refresh.addEventListener('click', () => {
    clearMessage();
    busy(refresh, t('gate.refreshing'));
    ctx.rerender({ refresh: true });
  });
  const changeSite = list.sites && list.sites.length > 1
    ? h('button', {
      type: 'button', class: 'btn btn-link gate-change-site', 'data-testid': 'gate-change-site',
      onclick: () => { try { localStorage.removeItem(SITE_KEY); } catch (e) { /* ignore */ } ctx.rerender({ refresh: true }); },
    }, t('gate.choose_site'))
    : null;

  root.appendChild(h('section', { class: 'console gate', 'data-testid': 'gate-list', 'data-site-id': sid },
    h('p', { class: 'community-line', 'data-testid': 'gate-site-name' }, (site && site.name) || sid),
    changeSite,
    h('div', { class: 'gate-head' },
      h('h1', { class: 'page-title', 'data-testid': 'gate-day', 'data-day': day || '' }, t('gate.today', { day: dayText(day) })),
      refresh),
    deliveries.length
      ? [h('p', { class: 'gate-count', 'data-testid': 'gate-count' }, t('gate.count', { n: deliveries.length })),
        h('ul', { class: 'gate-cards' }, deliveries.map((d) => deliveryCard(sid, d, list.skew)))]
      : h('p', { class: 'empty', 'data-testid': 'gate-empty' }, t('gate.none')),
    turnAwayForm(sid)));
}

function turnAwayForm(sid) {
  const form = makeForm('gt', 'gate-turn');
  const plate = h('input', { type: 'text', autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false', maxlength: '16' });
  const reason = h('input', { type: 'text', autocomplete: 'off', maxlength: '200' });
  const submit = h('button', { type: 'submit', class: 'btn btn-danger', 'data-testid': 'gate-turn-submit' }, t('gate.turn_submit'));
  const el = h('form', { class: 'block gate-turn', 'data-testid': 'gate-turn', novalidate: true, 'aria-labelledby': 'gate-turn-title' },
    h('h2', { id: 'gate-turn-title' }, t('gate.turn_title')),
    h('p', { class: 'hint' }, t('gate.turn_hint')),
    form.field('plate', t('gate.turn_plate'), plate, t('gate.turn_plate_hint')),
    form.field('reason', t('gate.turn_reason'), reason, t('gate.turn_reason_hint')),
    submit);
  el.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearMessage();
    form.clearErrors();
    const body = { plate: halfWidth(plate.value), reason: reason.value.trim() };
    let bad = false;
    if (!body.plate) { form.setError('plate', t('err.required')); bad = true; }
    if (!body.reason) { form.setError('reason', t('err.required')); bad = true; }
    if (bad) { showError(() => t('err.form'), { scroll: false }); form.focusFirst(); return; }
    const done = busy(submit);
    try {
      const ev_ = await staffApi(sitePath(sid, '/gate/turn-away'), { method: 'POST', body });
      done();
      const shown = (ev_ && ev_.plate) || body.plate;
      plate.value = '';
      reason.value = '';
      showSuccess(() => t('gate.turned_away', { plate: shown }));
    } catch (err) {
      done();
      showFormError(form, err);
    }
  });
  return el;
}

// ---------------------------------------------------------------- #/staff/gate/<sid>/<did>

export async function gateDeliveryView(root, [sid, did], ctx) {
  stopTimer();
  const s = gateStaff(root);
  if (!s) return;
  if (ctx.refresh || !one || one.sid !== sid || one.did !== did) {
    loading(root);
    try {
      const [site, d] = await Promise.all([staffApi(sitePath(sid)), staffApi(deliveryPath(sid, did))]);
      if (!ctx.isCurrent()) return;
      one = { sid, did, site, delivery: d, skew: skewOf(d), zeroFetched: null };
    } catch (err) {
      if (!ctx.isCurrent()) return;
      drawLoadError(root, err, ctx, [backLink()]);
      return;
    }
  }
  drawOne(root, ctx);
}

function backLink() {
  return h('a', { class: 'back', href: '#/staff/gate', 'data-testid': 'gate-back' }, t('gate.back'));
}

function setDelivery(d) {
  if (!d || !one) return;
  one.delivery = d;
  one.skew = skewOf(d);
}

/** Fetch the vehicle again (刷新, the rest reaching zero, a step refused as out of date) and redraw. */
async function reload(root, ctx, { keepMessage = false } = {}) {
  if (!one) return;
  const { sid, did } = one;
  try {
    const d = await staffApi(deliveryPath(sid, did));
    if (!ctx.isCurrent() || !one || one.did !== did) return;
    setDelivery(d);
    if (!keepMessage) clearMessage();
  } catch (err) {
    if (!ctx.isCurrent()) return;
    showError(() => staffErrorText(err), { scroll: false });
  }
  if (ctx.isCurrent()) drawOne(root, ctx);
}

function drawOne(root, ctx, { focusNext = false } = {}) {
  stopTimer();
  clear(root);
  const { sid, site, delivery: d } = one;
  const g = gateOf(d);
  const people = Array.isArray(d.people) ? d.people : [];
  const driver = people.find((p) => p.role === 'driver');
  const passengers = people.filter((p) => p.role !== 'driver').length;

  const refresh = h('button', { type: 'button', class: 'btn btn-secondary gate-refresh', 'data-testid': 'gate-refresh' }, t('gate.refresh'));
  refresh.addEventListener('click', () => {
    busy(refresh, t('gate.refreshing'));
    reload(root, ctx);
  });

  const rest = restPanel(d);
  const next = nextPanel(root, ctx, d, site, rest);

  root.appendChild(h('section', { class: 'console gate gate-one', 'data-testid': 'gate-delivery', 'data-delivery-id': d.delivery_id, 'data-status': d.status },
    backLink(),
    h('div', { class: 'gate-one-head' },
      h('h1', { class: 'gate-plate gate-plate-big', 'data-testid': 'gate-plate', lang: 'zh-CN' }, d.plate || ''),
      h('p', { class: 'gate-badges' }, modeBadge(d), statusBadge(d))),
    stepIndicator(d),
    h('dl', { class: 'facts gate-facts' },
      h('dt', null, t('rounds.supplier')), h('dd', { 'data-testid': 'gate-supplier' }, d.supplier_name || ''),
      h('dt', null, t('gate.vehicle')), h('dd', null, vehicleText(d.vehicle_type)),
      h('dt', null, t('gate.window_label')), h('dd', { 'data-testid': 'gate-window' }, windowTimes(d)),
      cargoText(d.cargo) ? [h('dt', null, t('gate.cargo')), h('dd', null, cargoText(d.cargo))] : null,
      driver ? [h('dt', null, t('gate.people')), h('dd', null, t('gate.driver', { name: driver.name || '' }),
        passengers ? ` · ${t('gate.passengers', { n: passengers })}` : '')] : null,
      d.note ? [h('dt', null, t('gate.note')), h('dd', null, d.note)] : null),
    g.outside_window ? h('p', { class: 'msg msg-warn', 'data-testid': 'gate-outside-window' }, t('gate.outside_window')) : null,
    rest ? rest.el : null,
    next,
    history(d),
    refresh));

  if (rest) startCountdown(root, ctx, rest);
  if (focusNext) {
    const target = root.querySelector('.gate-next h2');
    if (target) target.focus();
  }
}

/** The rest's countdown (while the goods rest before release), or null. */
function restPanel(d) {
  if (restLeft(d, one.skew) === null) return null;
  const countdown = h('span', { class: 'gate-countdown', 'data-testid': 'gate-countdown', role: 'timer' }, '');
  const over = h('p', { class: 'gate-rest-over', 'data-testid': 'gate-rest-over', hidden: true }, t('gate.rest_over'));
  const left = h('p', { class: 'gate-rest-left' }, h('span', { class: 'gate-rest-label' }, t('gate.rest_left')), countdown);
  const el = h('section', { class: 'block gate-rest', 'data-testid': 'gate-rest', 'aria-labelledby': 'gate-rest-title' },
    h('h2', { id: 'gate-rest-title' }, t('gate.rest_title')),
    left,
    h('p', { class: 'gate-rest-until', 'data-testid': 'gate-rest-until' }, t('gate.rest_until', { time: timeOfDay(gateOf(d).rest_ends_at) })),
    over);
  return { el, countdown, over, left, release: null };
}

/** Tick the countdown each second; at zero, fetch the delivery once again (the server's word). */
function startCountdown(root, ctx, rest) {
  const d = one.delivery;
  const ends = gateOf(d).rest_ends_at;
  const paint = () => {
    const ms = restLeft(one.delivery, one.skew);
    const resting = ms !== null && ms > 0;
    rest.countdown.textContent = mmss(ms || 0);
    const secs = Math.max(0, Math.ceil((ms || 0) / 1000));
    rest.countdown.setAttribute('aria-label', t('gate.rest_aria', { m: Math.floor(secs / 60), s: secs % 60 }));
    rest.left.hidden = !resting;
    rest.over.hidden = resting;
    rest.el.classList.toggle('gate-rest-done', !resting);
    if (rest.release) {
      rest.release.button.disabled = resting;
      rest.release.hint.hidden = !resting;
    }
    return resting;
  };
  const tick = () => {
    if (!ctx.isCurrent() || !rest.countdown.isConnected) { stopTimer(); return; }
    if (paint()) return;
    stopTimer();
    if (one.zeroFetched !== ends) {
      one.zeroFetched = ends;
      reload(root, ctx, { keepMessage: true });
    }
  };
  if (paint()) timer = setInterval(tick, 1000);
  else if (one.zeroFetched !== ends) tick();
}

/** The next step: its form and its one big button; or why there is none. */
function nextPanel(root, ctx, d, site, rest) {
  if (notApproved(d)) {
    return h('section', { class: 'block gate-next', 'data-testid': 'gate-next' },
      h('p', { class: 'msg msg-error', 'data-testid': 'gate-not-approved' }, t('gate.not_approved_long', { status: statusText(d.status) })));
  }
  if (isDone(d)) {
    return h('section', { class: 'block gate-next gate-finished', 'data-testid': 'gate-next' },
      h('h2', { tabindex: '-1' }, t('gate.next')),
      h('p', { class: 'gate-done', 'data-testid': 'gate-done', 'data-status': d.status }, t('gate.done', { status: statusText(d.status) })),
      h('a', { class: 'btn btn-secondary', href: '#/staff/gate', 'data-testid': 'gate-done-back' }, t('gate.back')));
  }
  const action = nextAction(d);
  if (!action) return null;
  const did = d.delivery_id;
  const form = makeForm(`gstep-${action}`, 'gate-f');
  const button = h('button', { type: 'submit', class: 'btn btn-primary btn-big gate-action', 'data-testid': 'gate-action', 'data-action': action }, '');
  const parts = [];
  let title = '';
  let collect = () => ({});

  const disinfectFields = (labelKey) => {
    const operator = draftInput(did, 'operator', { type: 'text', autocomplete: 'name', maxlength: '40' }, readOperator());
    const disinfectant = draftInput(did, 'disinfectant', { type: 'text', maxlength: '40' }, (site && site.disinfectant) || '');
    const ratio = draftInput(did, 'ratio', { type: 'text', maxlength: '20', inputmode: 'text' }, (site && site.ratio) || '');
    parts.push(
      form.field('operator', t('gate.operator'), operator),
      h('div', { class: 'gate-pair' },
        form.field('disinfectant', t('gate.disinfectant'), disinfectant),
        form.field('ratio', t('gate.ratio'), ratio)));
    button.textContent = labelKey;
    return () => {
      const body = { operator: operator.value.trim() };
      if (disinfectant.value.trim()) body.disinfectant = disinfectant.value.trim();
      if (ratio.value.trim()) body.ratio = ratio.value.trim();
      if (!body.operator) { form.setError('operator', t('err.required')); return null; }
      return body;
    };
  };

  switch (action) {
    case 'arrive': {
      title = t('gate.arrive_title');
      const plate = draftInput(did, 'plate', { type: 'text', autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false', maxlength: '16', lang: 'zh-CN' });
      parts.push(form.field('plate', t('gate.arrive_plate'), plate, t('gate.arrive_plate_hint')));
      button.textContent = t('gate.arrive_go');
      collect = () => {
        const v = halfWidth(plate.value);
        if (!v) { form.setError('plate', t('err.required')); return null; }
        return { plate: v };
      };
      break;
    }
    case 'disinfect':
      title = t('gate.disinfect_title');
      collect = disinfectFields(t('gate.disinfect_go', { n: (site && site.rest_minutes) || 30 }));
      break;
    case 'unload':
      title = t('gate.unload_title');
      parts.push(h('p', { class: 'gate-no-contact', 'data-testid': 'gate-no-contact' }, t('gate.no_contact')));
      collect = disinfectFields(t('gate.unload_go'));
      break;
    case 'assign_point': {
      title = t('gate.point_title');
      const points = Array.isArray(site && site.unloading_points) ? site.unloading_points : [];
      const chosen = drafts[draftKey(did, 'point')] || (points.length === 1 ? points[0].point_id : '');
      const group = h('fieldset', { class: 'tiles tiles-stack gate-points', 'data-testid': 'gate-points' },
        h('legend', null, t('gate.point_legend')),
        h('div', { class: 'tiles-row' }, points.map((p) => h('label', { class: 'tile gate-point' },
          h('input', {
            type: 'radio', name: `gate-point-${did}`, value: p.point_id, checked: p.point_id === chosen,
            'data-testid': `gate-point-${p.point_id}`,
            onchange: () => { drafts[draftKey(did, 'point')] = p.point_id; },
          }),
          h('span', { class: 'gate-point-text' },
            h('span', { class: 'gate-point-name' }, p.name || ''),
            p.route ? h('span', { class: 'gate-point-route', 'data-testid': 'gate-point-route' }, t('gate.point_route', { route: p.route })) : null)))),
        h('p', { class: 'field-error', id: 'gate-point-error', 'data-testid': 'gate-point_id-error', hidden: true }));
      parts.push(points.length ? group : h('p', { class: 'msg msg-warn', 'data-testid': 'gate-no-points' }, t('gate.no_points')));
      parts.push(h('p', { class: 'gate-no-contact', 'data-testid': 'gate-no-contact' }, t('gate.no_contact')));
      button.textContent = t('gate.point_go');
      button.disabled = !points.length;
      collect = () => {
        const el = group.querySelector('input:checked');
        const err = group.querySelector('.field-error');
        if (!el) { err.textContent = t('gate.choose_point'); err.hidden = false; return null; }
        err.hidden = true;
        return { point_id: el.value };
      };
      break;
    }
    case 'release': {
      title = t('gate.release_title');
      if (modeOf(d) === 'handover') parts.push(h('p', { class: 'hint' }, t('gate.release_handover')));
      else if (gateOf(d).point) {
        parts.push(h('p', { class: 'gate-release-point' }, `${t('gate.h.point')}：${gateOf(d).point.name || ''}`,
          gateOf(d).point.route ? ` · ${t('gate.point_route', { route: gateOf(d).point.route })}` : ''));
        parts.push(h('p', { class: 'gate-no-contact', 'data-testid': 'gate-no-contact' }, t('gate.no_contact')));
      }
      const hint = h('p', { class: 'hint gate-release-wait', 'data-testid': 'gate-release-wait', hidden: true }, t('gate.release_wait'));
      parts.push(hint);
      button.textContent = t('gate.release_go');
      const ms = restLeft(d, one.skew);
      button.disabled = ms !== null && ms > 0;
      hint.hidden = !button.disabled;
      if (rest) rest.release = { button, hint };
      break;
    }
    case 'depart':
      title = t('gate.depart_title');
      button.textContent = t('gate.depart_go');
      break;
    case 'set_down':
      title = t('gate.set_down_title');
      parts.push(h('p', { class: 'gate-area', 'data-testid': 'gate-area' }, t('gate.set_down_hint', { area: (site && site.handover_area) || '' })));
      button.textContent = t('gate.set_down_go');
      break;
    case 'leave':
      title = t('gate.leave_title');
      button.textContent = t('gate.leave_go');
      break;
    default:
      return null;
  }

  const el = h('form', { class: 'block gate-next', 'data-testid': 'gate-next', 'data-action': action, novalidate: true, 'aria-labelledby': 'gate-next-title' },
    h('h2', { id: 'gate-next-title', tabindex: '-1' }, h('span', { class: 'gate-next-label' }, t('gate.next')), ' ', title),
    parts,
    button);
  el.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (button.disabled) return;
    clearMessage();
    form.clearErrors();
    const extra = collect();
    if (extra === null) { showError(() => t('err.form'), { scroll: false }); form.focusFirst(); return; }
    await doStep(root, ctx, { action, ...extra }, form, button);
  });
  return el;
}

function successText(action, d) {
  const g = gateOf(d);
  return t(`gate.did.${action}`, { plate: d.plate || '', point: (g.point && g.point.name) || '' });
}

/** POST one step; on success draw the next one, on refusal show the server's message. */
async function doStep(root, ctx, body, form, button) {
  const { sid, did } = one;
  const done = busy(button);
  let d;
  try {
    d = await staffApi(deliveryPath(sid, did, '/gate'), { method: 'POST', body });
  } catch (err) {
    if (!ctx.isCurrent() || !one || one.did !== did) return;
    done();
    const extra = form.applyServer(err);
    if (err && err.code === 'plate_mismatch') form.setError('plate', staffErrorText(err));
    showError(() => [staffErrorText(err), ...extra].join(t('list_sep')), { scroll: true });
    if (err && err.code === 'resting') {
      // The server's rest end wins over this phone's reckoning.
      const f = err.fields && err.fields.rest_ends_at;
      const ends = Array.isArray(f) ? f[0] : f;
      if (ends && Number.isFinite(Date.parse(ends))) {
        one.delivery = { ...one.delivery, gate: { ...gateOf(one.delivery), rest_ends_at: ends } };
        one.zeroFetched = null;
      }
      reload(root, ctx, { keepMessage: true });
    } else if (err && err.status === 409) {
      reload(root, ctx, { keepMessage: true }); // another phone moved it on, or it is not approved: show where it is
    }
    return;
  }
  if (!ctx.isCurrent() || !one || one.did !== did) return;
  if (body.operator) saveOperator(body.operator);
  clearDrafts(did);
  setDelivery(d);
  one.zeroFetched = null;
  showSuccess(() => successText(body.action, one.delivery), { scroll: false });
  drawOne(root, ctx, { focusNext: true });
}

/** What happened at the gate, in order: arrival, disinfections, rest, point, release… */
function history(d) {
  const g = gateOf(d);
  const rows = [];
  const row = (kind, label, at, detail, extra = {}) => rows.push(h('li', { class: `gate-h gate-h-${kind}`, 'data-testid': `gate-h-${kind}`, ...extra },
    h('span', { class: 'gate-h-time' }, at ? timeOfDay(at) : ''),
    h('span', { class: 'gate-h-what' }, h('span', { class: 'gate-h-label' }, label),
      detail ? h('span', { class: 'gate-h-detail' }, detail) : null)));
  if (g.arrived_at) row('arrived', t('gate.h.arrived'), g.arrived_at, g.outside_window ? t('gate.outside_window') : '');
  const dis = Array.isArray(g.disinfections) ? g.disinfections : [];
  const dRows = dis.map((x, i) => ({ x, i }));
  const gateDis = dRows.filter(({ x }) => x.stage !== 'packaging');
  const packDis = dRows.filter(({ x }) => x.stage === 'packaging');
  const disRow = ({ x, i }) => row('disinfection',
    t('gate.h.disinfection', { n: i + 1, stage: t(`gate.h.stage.${x.stage === 'packaging' ? 'packaging' : 'gate'}`) }),
    x.at, t('gate.h.disinfection_detail', { operator: x.operator || '', disinfectant: x.disinfectant || '', ratio: x.ratio || '' }).trim(),
    { 'data-stage': x.stage || '' });
  if (modeOf(d) === 'handover') {
    if (g.set_down_at) row('set_down', t('gate.h.set_down'), g.set_down_at);
    if (g.left_at) row('left', t('gate.h.left'), g.left_at);
  }
  gateDis.forEach(disRow);
  if (g.rest_ends_at) row('rest', t('gate.h.rest_ends'), g.rest_ends_at);
  if (g.point) row('point', t('gate.h.point'), null, [g.point.name, g.point.route].filter(Boolean).join(' · '));
  if (g.released_at) row('released', t('gate.h.released'), g.released_at);
  if (g.unloaded_at) row('unloaded', t('gate.h.unloaded'), g.unloaded_at);
  packDis.forEach(disRow);
  if (g.departed_at) row('departed', t('gate.h.departed'), g.departed_at);
  return h('section', { class: 'block gate-history', 'data-testid': 'gate-history', 'aria-labelledby': 'gate-history-title' },
    h('h2', { id: 'gate-history-title' }, t('gate.history')),
    rows.length ? h('ol', { class: 'gate-h-list' }, rows) : h('p', { class: 'empty-inline' }, t('gate.h.none')));
}
