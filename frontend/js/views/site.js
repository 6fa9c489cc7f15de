// #/staff/site: a site's (门岗 / 校区) settings, for its managers. An administrator picks among the
// sub-district's sites or opens one (for a community picked by name, or a campus by its name); a
// liaison opens their own community's site with 「开通门岗管理」. Then: the times (lead hours, how long a
// test holds, how long the goods rest), the disinfectant and its ratio, the unloading points (name and
// route) and the hand-over area, saved with one PUT; and invites for the site's staff (reviewer, gate
// officer, supervisor), each a link to copy into a chat.
//
// Also the small kit the other gate screens (deliveries.js, review.js, gatelog.js) share: the site's
// path, which site a staff member works on, days in Beijing time, the labels of vehicle types, cargo,
// documents, statuses and events, and fields whose error lines follow a server's field paths.
import '../strings/roster.js';
import '../strings/pickupday.js';
import '../strings/sites.js';
import { t, getLang, locale } from '../i18n.js';
import { staffApi } from '../api.js';
import * as staff from '../staff.js';
import { h, clear, showError, showSuccess, clearMessage } from '../ui.js';
import { halfWidth } from '../format.js';
import { drawLoadError, showStaffError, staffErrorText, busy, roleName, notForRole } from './roster.js';
import { copyBox } from './slots.js';
import { flattenFields } from './newround.js';

// ======================================================================
// The gate kit
// ======================================================================

export const MANAGERS = ['admin', 'liaison'];
export const SITE_ROLES = ['reviewer', 'gate_officer', 'supervisor'];
export const VEHICLES = ['van', 'truck', 'refrigerated', 'minivan', 'car', 'other'];
export const MODES = ['enter', 'handover'];
export const CARGO = ['rice', 'flour', 'oil', 'meat', 'eggs', 'milk', 'vegetables', 'fresh', 'protective', 'urgent'];
export const DOCS = ['health_code', 'travel_record', 'identity', 'test_report', 'commitment'];
const STATUSES = ['submitted', 'approved', 'rejected', 'arrived', 'disinfected', 'routed', 'released', 'unloaded',
  'departed', 'set_down', 'left'];
const EVENTS = ['registered', 'approved', 'rejected', 'arrived', 'disinfected', 'routed', 'released', 'release_refused',
  'unloaded', 'departed', 'set_down', 'left', 'turned_away'];
export const DEVIATIONS = ['outside_window', 'release_before_rest', 'turned_away'];

const known = (list, prefix, v) => (list.includes(v) ? t(`${prefix}.${v}`) : String(v ?? ''));
export const vehicleText = (v) => known(VEHICLES, 'veh', v);
export const modeText = (v) => known(MODES, 'mode', v);
export const cargoText = (v) => known(CARGO, 'cargo', v);
export const docText = (v) => known(DOCS, 'doc', v);
export const deliveryStatusText = (v) => known(STATUSES, 'dst', v);
export const eventText = (v) => known(EVENTS, 'ev', v);
export const deviationText = (v) => known(DEVIATIONS, 'dev', v);
export const personRoleText = (v) => (v === 'driver' || v === 'passenger' ? t(`person.${v}`) : String(v ?? ''));

/** The status of a delivery as a badge (colour by how far it got). */
export function deliveryBadge(status, testid = 'dl-status') {
  return h('span', { class: `badge gs-badge gs-${STATUSES.includes(status) ? status : 'other'}`, 'data-testid': testid, 'data-status': status },
    deliveryStatusText(status));
}

/** /api/sites/<sid>[/rest] */
/**
 * A gate screen could not load: a liaison whose community has no site yet is told where to open it
 * (`prefix`-no-site); anything else is the console's load error. `head` are the screen's header nodes.
 */
export function drawGateLoadError(root, err, s, ctx, head, prefix) {
  if (err && err.status === 404 && s.role === 'liaison') {
    clear(root);
    root.appendChild(h('section', { class: 'console' }, head,
      h('p', { class: 'msg msg-warn', 'data-testid': `${prefix}-no-site` }, t('gs.no_site')),
      h('a', { class: 'btn btn-secondary', href: '#/staff/site' }, t('site.title'))));
    return;
  }
  drawLoadError(root, err, ctx, [head]);
}

export function spath(sid, rest = '') {
  return `/api/sites/${encodeURIComponent(sid)}${rest}`;
}

const BEIJING_MS = 8 * 3600 * 1000; // China has no daylight saving time

/** "YYYY-MM-DD" of a moment in Beijing. */
export function beijingDay(d = new Date()) {
  return new Date(d.getTime() + BEIJING_MS).toISOString().slice(0, 10);
}
/** A day n days later (or earlier). */
export function shiftDay(day, n) {
  const [y, m, dd] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, dd + n)).toISOString().slice(0, 10);
}
export const isDay = (v) => /^\d{4}-\d\d-\d\d$/.test(String(v || ''));

/** "11月30日 周一" / "Mon 30 Nov", with 今天 / 明天 (today / tomorrow) in front when it is. */
export function dayText(day) {
  let s = day;
  try {
    s = new Intl.DateTimeFormat(locale(), {
      timeZone: 'Asia/Shanghai', month: getLang() === 'en' ? 'short' : 'long', day: 'numeric', weekday: 'short',
    }).format(new Date(`${day}T12:00:00+08:00`));
  } catch (e) { /* keep YYYY-MM-DD */ }
  const today = beijingDay();
  const rel = day === today ? t('day.today') : day === shiftDay(today, 1) ? t('day.tomorrow')
    : day === shiftDay(today, -1) ? t('day.yesterday') : '';
  return rel ? `${rel} · ${s}` : s;
}

/**
 * The day picker: 「‹ 前一天」, the day (a date input), 「后一天 ›」. onChange(day) gets a new day.
 * testids: `${tid}-prev`, `${tid}-input`, `${tid}-next`, `${tid}-label`.
 */
export function dayPicker(day, onChange, tid) {
  const input = h('input', {
    type: 'date', value: day, id: `${tid}-input`, 'data-testid': `${tid}-input`, class: 'gs-day-input',
  });
  input.addEventListener('change', () => { if (isDay(input.value) && input.value !== day) onChange(input.value); });
  return h('div', { class: 'gs-day', role: 'group', 'aria-label': t('day.pick') },
    h('p', { class: 'gs-day-label', 'data-testid': `${tid}-label`, 'data-day': day, 'aria-live': 'polite' }, dayText(day)),
    h('div', { class: 'gs-day-row' },
      h('button', { type: 'button', class: 'btn btn-secondary gs-day-btn', 'data-testid': `${tid}-prev`, onclick: () => onChange(shiftDay(day, -1)) },
        t('day.prev')),
      h('button', { type: 'button', class: 'btn btn-secondary gs-day-btn', 'data-testid': `${tid}-next`, onclick: () => onChange(shiftDay(day, 1)) },
        t('day.next'))),
    h('label', { class: 'gs-day-other', for: `${tid}-input` }, t('day.pick')),
    input);
}

/** The signed-in staff member if their role is one of `roles`, else null after a "not for your role" page. */
export function gateStaff(root, roles, onlyKey) {
  const s = staff.get();
  if (s && roles.includes(s.role)) return s;
  notForRole(root, s, onlyKey);
  return null;
}

export async function loadSites() {
  const data = await staffApi('/api/sites');
  return Array.isArray(data && data.sites) ? data.sites : [];
}

const choiceKey = (s) => `baogong.gate-site.${s.role}.${s.scope_id}`;

/** The administrator's chosen site (kept on this phone), among `sites`. */
export function chosenSite(s, sites) {
  let id = null;
  try { id = localStorage.getItem(choiceKey(s)); } catch (e) { /* ignore */ }
  const found = sites.find((x) => x.site_id === id);
  return found ? found.site_id : (sites[0] ? sites[0].site_id : null);
}
export function chooseSite(s, sid) {
  try { localStorage.setItem(choiceKey(s), sid); } catch (e) { /* ignore */ }
}

/**
 * Which site a staff member works on: a site's staff, their scope; a liaison, their community's site
 * (same id); an administrator, the one they chose (or the first). Returns {sid, sites}; sites is
 * loaded only for an administrator (for the picker).
 */
export async function siteOf(s) {
  if (s.role !== 'admin') return { sid: s.scope_id, sites: null };
  const sites = await loadSites();
  return { sid: chosenSite(s, sites), sites };
}

/** An administrator's site picker (when there is more than one), or null. */
export function sitePicker(s, sites, sid, onChange, tid = 'site-picker') {
  if (!sites || sites.length < 2) return null;
  const sel = h('select', { id: tid, 'data-testid': tid },
    sites.map((x) => h('option', { value: x.site_id, selected: x.site_id === sid }, x.name || x.site_id)));
  sel.addEventListener('change', () => { chooseSite(s, sel.value); onChange(sel.value); });
  return h('div', { class: 'field gs-site-picker' }, h('label', { for: tid }, t('site.pick')), sel);
}

/** A message of our own, kept as its key so a language switch re-words it. */
export const msg = (key, params) => ({ key, params });
/** A message to show: ours by key, or the server's "中文 / English" in the current language. */
export function say(m) {
  if (m && typeof m === 'object' && m.key) return t(m.key, m.params);
  const s = String(m ?? '');
  const i = s.indexOf(' / ');
  if (i > 0 && /[\u3400-\u9fff]/.test(s.slice(0, i))) return getLang() === 'en' ? s.slice(i + 3) : s.slice(0, i);
  return s;
}

/**
 * Fields whose error lines show errors.get(path) (errors: a function returning the current Map), so a
 * server's field path (`people.0.test_at`) lands under its own input. `prefix` keeps ids unique.
 */
export function pathKit(prefix, errors, onInput = () => {}) {
  const idOf = (path) => `${prefix}-${path.replace(/[^A-Za-z0-9_-]/g, '-')}`;
  function errorLine(path, testid) {
    const list = errors().get(path) || [];
    return h('p', {
      class: 'field-error', id: `${idOf(path)}-error`, 'data-error-for': path,
      'data-testid': testid || `${prefix}-${path.split('.').pop()}-error`, hidden: list.length === 0,
    }, list.map(say).join(t('list_sep')));
  }
  function field(path, label, control, { hint = null, testid, cls = '' } = {}) {
    const id = idOf(path);
    control.id = control.id || id;
    control.setAttribute('data-path', path);
    if (testid && !control.getAttribute('data-testid')) control.setAttribute('data-testid', testid);
    if ((errors().get(path) || []).length) control.setAttribute('aria-invalid', 'true');
    control.setAttribute('aria-describedby', [hint ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(' '));
    return h('div', { class: `field ${cls}`.trim(), 'data-field': path },
      h('label', { for: control.id }, label),
      hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
      control,
      errorLine(path, testid ? `${testid}-error` : null));
  }
  /** An input whose value lives elsewhere (get/set): typing stores it and clears that field's error. */
  function bound(tag, attrs, get, set) {
    const el = h(tag, attrs);
    el.value = get() ?? '';
    el.addEventListener('input', () => {
      set(el.value);
      const path = el.getAttribute('data-path');
      if (path && errors().has(path)) {
        errors().delete(path);
        el.removeAttribute('aria-invalid');
        const line = document.getElementById(`${idOf(path)}-error`);
        if (line) { line.hidden = true; line.textContent = ''; }
      }
      onInput(el);
    });
    return el;
  }
  return { field, errorLine, bound };
}

/**
 * A refused request's field messages as Map(path -> [messages]) on the paths `container` shows
 * ([data-path] / [data-error-for]); a path it does not show goes to its nearest shown parent, or
 * to `extra` (returned) when none.
 */
export function placeErrors(container, err, aliases = {}) {
  const map = new Map();
  const extra = [];
  const shown = new Set([...container.querySelectorAll('[data-path], [data-error-for]')]
    .flatMap((el) => [el.getAttribute('data-path'), el.getAttribute('data-error-for')]).filter(Boolean));
  for (const [raw, msgs] of flattenFields(err && err.fields)) {
    let path = aliases[raw] || raw;
    while (path && !shown.has(path)) path = path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '';
    if (!path) { extra.push(...msgs); continue; }
    map.set(path, (map.get(path) || []).concat(msgs));
  }
  return { map, extra };
}

/** Focus the first control in error (or scroll to the first error line shown). */
export function focusFirstError(container, errors) {
  const el = [...container.querySelectorAll('[data-path]')].find((x) => errors.has(x.getAttribute('data-path')));
  if (el) {
    if (el.classList.contains('file-input')) {
      const lab = el.nextElementSibling;
      if (lab && lab.scrollIntoView) lab.scrollIntoView({ block: 'center' });
    }
    el.focus();
    return;
  }
  const line = container.querySelector('.field-error:not([hidden])');
  if (line && line.scrollIntoView) line.scrollIntoView({ block: 'center' });
}

// ======================================================================
// #/staff/site
// ======================================================================

const WHOLE = /^\d{1,4}$/;
const LIMITS = { lead_hours: [1, 168], test_valid_hours: [1, 168], rest_minutes: [1, 240] };
const INVITE_ROLES = ['reviewer', 'gate_officer', 'supervisor'];

let state = null; // {sid: who, sites, site_id, draft, errors, creating, invites: {role: {url, name}}}

const siteKey = (s) => `${s.role}.${s.scope_id}`;

function draftOf(site) {
  return {
    name: site.name || '',
    lead_hours: String(site.lead_hours ?? ''),
    test_valid_hours: String(site.test_valid_hours ?? ''),
    rest_minutes: String(site.rest_minutes ?? ''),
    disinfectant: site.disinfectant || '',
    ratio: site.ratio || '',
    handover_area: site.handover_area || '',
    points: (Array.isArray(site.unloading_points) ? site.unloading_points : [])
      .map((p) => ({ point_id: p.point_id || '', name: p.name || '', route: p.route || '' })),
  };
}

function current() {
  return state && state.sites.find((x) => x.site_id === state.site_id);
}

function select(site) {
  state.site_id = site ? site.site_id : null;
  state.draft = site ? draftOf(site) : null;
  state.errors = new Map();
}

export async function siteView(root, params, ctx) {
  const s = gateStaff(root, MANAGERS, 'site.only_managers');
  if (!s) return;
  const who = siteKey(s);
  if (ctx.refresh || !state || state.who !== who) {
    clear(root);
    root.appendChild(h('p', { class: 'loading' }, t('loading')));
    let sites;
    try {
      sites = await loadSites();
    } catch (err) {
      if (!ctx.isCurrent()) return;
      drawLoadError(root, err, ctx, [h('a', { class: 'back', href: '#/staff' }, `← ${t('console.to_staff')}`)]);
      return;
    }
    if (!ctx.isCurrent()) return;
    const keep = state && state.who === who ? state : null;
    state = {
      who, sites, site_id: null, draft: null, errors: new Map(),
      creating: keep ? keep.creating : null, invites: keep ? keep.invites : {},
    };
    const pick = s.role === 'liaison'
      ? sites.find((x) => x.site_id === s.scope_id || x.community_id === s.scope_id)
      : sites.find((x) => x.site_id === chosenSite(s, sites));
    select(pick || null);
  }
  draw(root, s, ctx);
}

function draw(root, s, ctx, focus = null) {
  const redraw = (f) => draw(root, s, ctx, f);
  clear(root);
  const site = current();
  const sec = h('section', { class: 'console gatesite', 'aria-labelledby': 'site-title' },
    h('a', { class: 'back', href: '#/staff', 'data-testid': 'site-back' }, `← ${t('console.to_staff')}`),
    h('h1', { id: 'site-title', class: 'page-title', 'data-testid': 'site-title', tabindex: '-1' }, t('site.title')),
    h('p', { class: 'hint' }, t('site.intro')));
  if (s.role === 'admin') sec.appendChild(adminPicker(s, ctx, redraw));
  if (!site) {
    if (s.role === 'liaison') sec.appendChild(openForCommunity(s, ctx, redraw));
  } else {
    sec.appendChild(siteHeader(site));
    sec.appendChild(settingsForm(site, ctx, redraw));
    sec.appendChild(invitesBlock(site, ctx, redraw));
  }
  root.appendChild(sec);
  if (focus) {
    const el = typeof focus === 'string' ? root.querySelector(focus) : focus;
    if (el) el.focus();
  }
}

function siteHeader(site) {
  return h('div', { class: 'current gs-site-head', 'data-testid': 'site-current', 'data-site-id': site.site_id },
    h('p', { class: 'current-name', 'data-testid': 'site-heading', tabindex: '-1' }, site.name || site.site_id),
    h('p', { class: 'hint' }, site.community_id ? t('site.kind_community') : t('site.kind_campus')),
    h('p', { class: 'hint gs-id' }, t('site.id', { id: site.site_id })));
}

// ---- the administrator: pick a site, or open one ---------------------------------------------

function adminPicker(s, ctx, redraw) {
  const box = h('div', { class: 'block gs-sites', 'data-testid': 'site-list' },
    h('h2', null, t('site.sites')));
  if (!state.sites.length) box.appendChild(h('p', { class: 'empty-inline', 'data-testid': 'site-none' }, t('site.none_admin')));
  else {
    box.appendChild(h('div', { class: 'gs-site-buttons' }, state.sites.map((x) => h('button', {
      type: 'button', class: 'gs-site-btn', 'data-testid': 'site-pick', 'data-site-id': x.site_id,
      'aria-pressed': x.site_id === state.site_id ? 'true' : 'false',
      onclick: () => {
        chooseSite(s, x.site_id);
        select(x);
        clearMessage();
        redraw('[data-testid="site-heading"]');
      },
    }, h('span', { class: 'gs-site-btn-name' }, x.name || x.site_id),
    h('span', { class: 'gs-site-btn-kind' }, x.community_id ? t('site.kind_community') : t('site.kind_campus'))))));
  }
  if (!state.creating) {
    box.appendChild(h('button', {
      type: 'button', class: 'btn btn-secondary', 'data-testid': 'site-new',
      onclick: async () => {
        clearMessage();
        try {
          // The sub-district's communities, for the picker (those with a site already are left out there).
          if (!state.communities) state.communities = (await staffApi('/api/sub-districts/mine/communities')).communities;
        } catch (err) {
          showStaffError(err);
          return;
        }
        state.creating = { kind: 'community', community_id: '', name: '', errors: new Map() };
        redraw('[data-testid="site-create-community"]');
      },
    }, t('site.new')));
  } else {
    box.appendChild(createForm(s, ctx, redraw));
  }
  return box;
}

/** The sub-district's communities that have no site yet, by name. */
function communityPicker(kit, c) {
  const open = (state.communities || []).filter((x) => !state.sites.some((site) => site.community_id === x.community_id));
  const select = kit.bound('select', {}, () => c.community_id, (v) => { c.community_id = v; });
  select.append(h('option', { value: '' }, t('site.pick_community')),
    ...open.map((x) => h('option', { value: x.community_id }, x.name)));
  select.value = c.community_id;
  return select;
}

function createForm(s, ctx, redraw) {
  const c = state.creating;
  const kit = pathKit('site-create', () => c.errors);
  const tile = (kind, label) => h('label', { class: 'tile' },
    h('input', {
      type: 'radio', name: 'site-create-kind', value: kind, checked: c.kind === kind, 'data-testid': `site-create-${kind}`,
      onchange: () => { c.kind = kind; c.errors = new Map(); redraw(`[data-testid="site-create-${kind}"]`); },
    }), h('span', null, label));
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'site-create-submit' }, t('site.create'));
  const form = h('form', { class: 'gs-create', novalidate: true, 'data-testid': 'site-create-form' },
    h('fieldset', { class: 'tiles' },
      h('legend', null, t('site.create_kind')),
      h('div', { class: 'tiles-row' }, tile('community', t('site.kind_community')), tile('campus', t('site.kind_campus')))),
    c.kind === 'community'
      ? kit.field('community_id', t('site.community_id'), communityPicker(kit, c), { testid: 'site-create-community_id' })
      : kit.field('name', t('site.campus_name'),
        kit.bound('input', { type: 'text', maxlength: '40', autocomplete: 'off' }, () => c.name, (v) => { c.name = v; }),
        { hint: t('site.campus_name_hint'), testid: 'site-create-name' }),
    submit,
    h('button', {
      type: 'button', class: 'btn btn-link gs-cancel', 'data-testid': 'site-create-cancel',
      onclick: () => { state.creating = null; clearMessage(); redraw('[data-testid="site-new"]'); },
    }, t('console.cancel')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearMessage();
    c.errors = new Map();
    const body = {};
    if (c.kind === 'community') {
      const id = halfWidth(c.community_id);
      if (!id) c.errors.set('community_id', [msg('console.required')]);
      body.community_id = id;
    } else {
      const name = c.name.trim();
      if (!name) c.errors.set('name', [msg('console.required')]);
      body.name = name;
    }
    if (c.errors.size) {
      redraw();
      focusFirstError(document.querySelector('[data-testid="site-create-form"]'), c.errors);
      showError(() => t('err.form'), { scroll: false });
      return;
    }
    const done = busy(submit);
    let site;
    try {
      site = await staffApi('/api/sites', { method: 'POST', body });
    } catch (err) {
      if (!ctx.isCurrent()) return;
      done();
      const formEl = document.querySelector('[data-testid="site-create-form"]');
      const { map, extra } = placeErrors(formEl, err);
      c.errors = map;
      redraw();
      focusFirstError(document.querySelector('[data-testid="site-create-form"]'), c.errors);
      showError(() => [staffErrorText(err), ...extra.map(say)].join(t('list_sep')), { scroll: false });
      return;
    }
    if (!ctx.isCurrent()) return;
    state.sites = [...state.sites.filter((x) => x.site_id !== site.site_id), site];
    state.creating = null;
    chooseSite(s, site.site_id);
    select(site);
    showSuccess(() => t('site.created', { name: site.name || site.site_id }), { scroll: false });
    redraw('[data-testid="site-heading"]');
  });
  return form;
}

// ---- a liaison: open the community's site ----------------------------------------------------

function openForCommunity(s, ctx, redraw) {
  const btn = h('button', { type: 'button', class: 'btn btn-primary btn-big', 'data-testid': 'site-open' }, t('site.open'));
  btn.addEventListener('click', async () => {
    clearMessage();
    const done = busy(btn);
    let site;
    try {
      site = await staffApi('/api/sites', { method: 'POST', body: { community_id: s.scope_id } });
    } catch (err) {
      if (!ctx.isCurrent()) return;
      done();
      if (err && err.status === 409) {
        // Opened meanwhile (by the sub-district): show it.
        try {
          state.sites = await loadSites();
          const found = state.sites.find((x) => x.site_id === s.scope_id || x.community_id === s.scope_id);
          if (found) { select(found); redraw('[data-testid="site-heading"]'); return; }
        } catch (e2) { /* fall through */ }
      }
      showStaffError(err);
      return;
    }
    if (!ctx.isCurrent()) return;
    state.sites = [...state.sites, site];
    select(site);
    showSuccess(() => t('site.opened'), { scroll: false });
    redraw('[data-testid="site-heading"]');
  });
  return h('div', { class: 'block', 'data-testid': 'site-not-open' },
    h('p', { class: 'msg msg-info' }, t('site.not_open')),
    btn);
}

// ---- settings, unloading points, hand-over area ---------------------------------------------

function settingsForm(site, ctx, redraw) {
  const d = state.draft;
  const kit = pathKit('site', () => state.errors);
  const text = (path, label, hint, attrs = {}) => kit.field(path, label,
    kit.bound('input', { type: 'text', autocomplete: 'off', maxlength: '40', ...attrs }, () => d[path], (v) => { d[path] = v; }),
    { hint, testid: `site-${path}` });
  const num = (path, label, hint) => text(path, label, hint, { inputmode: 'numeric', maxlength: '4' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-big', 'data-testid': 'site-save' }, t('site.save'));
  const form = h('form', { class: 'gs-settings', novalidate: true, 'data-testid': 'site-form' },
    h('div', { class: 'block' },
      h('h2', null, t('site.settings')),
      text('name', t('site.name'), null),
      h('div', { class: 'gs-numbers' },
        num('lead_hours', t('site.lead_hours'), t('site.lead_hours_hint')),
        num('test_valid_hours', t('site.test_valid_hours'), t('site.test_valid_hours_hint')),
        num('rest_minutes', t('site.rest_minutes'), t('site.rest_minutes_hint'))),
      text('disinfectant', t('site.disinfectant'), t('site.disinfectant_hint')),
      text('ratio', t('site.ratio'), t('site.ratio_hint'), { maxlength: '20' })),
    pointsBlock(d, kit, redraw),
    h('div', { class: 'block' },
      h('h2', null, t('site.handover')),
      text('handover_area', t('site.handover_area'), t('site.handover_hint'), { maxlength: '60' })),
    kit.errorLine('_top', 'site-top-error'),
    submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearMessage();
    const found = checkSettings(d);
    state.errors = found;
    if (found.size) {
      redraw();
      focusFirstError(root(), state.errors);
      showError(() => t('err.form'), { scroll: false });
      return;
    }
    const done = busy(submit);
    let saved;
    try {
      saved = await staffApi(spath(site.site_id), { method: 'PUT', body: settingsBody(d) });
    } catch (err) {
      if (!ctx.isCurrent()) return;
      done();
      const { map, extra } = placeErrors(root(), err);
      state.errors = map;
      if (extra.length) state.errors.set('_top', extra);
      redraw();
      focusFirstError(root(), state.errors);
      showError(() => staffErrorText(err), { scroll: false });
      return;
    }
    if (!ctx.isCurrent()) return;
    state.sites = state.sites.map((x) => (x.site_id === saved.site_id ? saved : x));
    select(saved);
    showSuccess(() => t('site.saved'), { scroll: false });
    redraw();
  });
  return form;
}

const root = () => document.querySelector('.gatesite') || document.body;

function pointsBlock(d, kit, redraw) {
  return h('div', { class: 'block gs-points', 'data-testid': 'site-points' },
    h('h2', null, t('site.points')),
    h('p', { class: 'hint' }, t('site.points_hint')),
    d.points.length ? null : h('p', { class: 'empty-inline', 'data-testid': 'site-points-none' }, t('site.points_none')),
    d.points.map((p, i) => h('fieldset', { class: 'gs-point', 'data-testid': 'site-point', 'data-index': i, 'data-point-id': p.point_id || null },
      h('legend', null, t('site.point_n', { n: i + 1 })),
      kit.field(`unloading_points.${i}.name`, t('site.point_name'),
        kit.bound('input', { type: 'text', maxlength: '40', autocomplete: 'off', placeholder: t('site.point_name_eg') }, () => p.name, (v) => { p.name = v; }),
        { testid: 'site-point-name' }),
      kit.field(`unloading_points.${i}.route`, t('site.point_route'),
        kit.bound('textarea', { rows: '2', maxlength: '200', autocomplete: 'off', placeholder: t('site.point_route_eg') }, () => p.route, (v) => { p.route = v; }),
        { testid: 'site-point-route' }),
      h('button', {
        type: 'button', class: 'btn btn-link gs-remove', 'data-testid': 'site-point-remove',
        onclick: () => {
          d.points.splice(i, 1);
          state.errors = new Map([...state.errors].filter(([k]) => !k.startsWith('unloading_points.')));
          redraw('[data-testid="site-point-add"]');
        },
      }, t('site.point_remove', { n: i + 1 })))),
    kit.errorLine('unloading_points', 'site-points-error'),
    h('button', {
      type: 'button', class: 'btn btn-secondary', 'data-testid': 'site-point-add',
      onclick: () => {
        d.points.push({ point_id: '', name: '', route: '' });
        redraw(`[data-testid="site-point"][data-index="${d.points.length - 1}"] [data-testid="site-point-name"]`);
      },
    }, t('site.point_add')));
}

function checkSettings(d) {
  const e = new Map();
  if (!d.name.trim()) e.set('name', [msg('console.required')]);
  for (const [k, [lo, hi]] of Object.entries(LIMITS)) {
    const v = halfWidth(d[k]);
    if (!v) e.set(k, [msg('console.required')]);
    else if (!WHOLE.test(v) || +v < lo || +v > hi) e.set(k, [msg('site.bad_number', { lo, hi })]);
  }
  if (!d.disinfectant.trim()) e.set('disinfectant', [msg('console.required')]);
  if (!d.ratio.trim()) e.set('ratio', [msg('console.required')]);
  if (!d.handover_area.trim()) e.set('handover_area', [msg('console.required')]);
  d.points.forEach((p, i) => {
    if (!p.name.trim() && p.route.trim()) e.set(`unloading_points.${i}.name`, [msg('console.required')]);
  });
  return e;
}

function settingsBody(d) {
  return {
    name: d.name.trim(),
    lead_hours: Number(halfWidth(d.lead_hours)),
    test_valid_hours: Number(halfWidth(d.test_valid_hours)),
    rest_minutes: Number(halfWidth(d.rest_minutes)),
    disinfectant: d.disinfectant.trim(),
    ratio: halfWidth(d.ratio).replace(/：/g, ':'),
    handover_area: d.handover_area.trim(),
    unloading_points: d.points.filter((p) => p.name.trim() || p.route.trim()).map((p) => {
      const out = { name: p.name.trim() };
      if (p.route.trim()) out.route = p.route.trim();
      if (p.point_id) out.point_id = p.point_id;
      return out;
    }),
  };
}

// ---- invites for the site's staff -------------------------------------------------------------

function invitesBlock(site, ctx, redraw) {
  const inv = state.invites[site.site_id] || (state.invites[site.site_id] = {});
  return h('div', { class: 'block gs-invites', 'data-testid': 'site-invites' },
    h('h2', null, t('site.invites')),
    h('p', { class: 'hint' }, t('site.invites_hint')),
    INVITE_ROLES.map((role) => inviteCard(site, role, inv, ctx, redraw)));
}

function inviteCard(site, role, inv, ctx, redraw) {
  const card = h('div', { class: 'gs-invite', 'data-testid': `site-invite-${role}` },
    h('h3', null, roleName(role)),
    h('p', { class: 'hint' }, t(`site.invite_${role}_hint`)));
  const made = inv[role];
  if (made) {
    card.appendChild(copyBox(made.url, {
      testid: `site-invite-${role}-url`, button: t('site.invite_copy'), rows: 2,
      title: made.name ? t('site.invite_for', { name: made.name, role: roleName(role) }) : t('site.invite_link', { role: roleName(role) }),
    }));
    card.appendChild(h('button', {
      type: 'button', class: 'btn btn-secondary btn-sm', 'data-testid': `site-invite-${role}-another`,
      onclick: () => { delete inv[role]; clearMessage(); redraw(`[data-testid="site-invite-${role}-name"]`); },
    }, t('site.invite_another')));
    return card;
  }
  const name = h('input', {
    type: 'text', maxlength: '20', autocomplete: 'off', id: `site-invite-${role}-name`, 'data-testid': `site-invite-${role}-name`,
  });
  const btn = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': `site-invite-${role}-create` },
    t('site.invite_create', { role: roleName(role) }));
  const err = h('p', { class: 'field-error', 'data-testid': `site-invite-${role}-error`, hidden: true });
  const form = h('form', { novalidate: true },
    h('div', { class: 'field' },
      h('label', { for: `site-invite-${role}-name` }, t('site.invite_name')),
      name, err),
    btn);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearMessage();
    err.hidden = true;
    const body = { role, scope_id: site.site_id };
    if (name.value.trim()) body.name = name.value.trim();
    const done = busy(btn);
    try {
      const res = await staffApi('/api/invites', { method: 'POST', body });
      if (!ctx.isCurrent()) return;
      inv[role] = { url: res.url, name: body.name || '' };
      showSuccess(() => t('site.invite_made', { role: roleName(role) }), { scroll: false });
      redraw(`[data-testid="site-invite-${role}-url-copy"]`);
    } catch (e) {
      if (!ctx.isCurrent()) return;
      done();
      const list = flattenFields(e && e.fields).flatMap(([, m]) => m);
      if (list.length) { err.textContent = list.map(say).join(t('list_sep')); err.hidden = false; }
      showStaffError(e);
    }
  });
  card.appendChild(form);
  return card;
}
