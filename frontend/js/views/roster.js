// #/staff/roster and #/staff/households/<flat_ref>: the liaison's roster of the community.
// Also the small kit the other console views (special, assist, community) share: the role
// gate, the console tabs, errors, in-page confirmations and form fields.
import '../strings/roster.js';
import '../strings/payments.js';
import '../strings/pickupday.js';
import { t } from '../i18n.js';
import { staffApi, errorText } from '../api.js';
import * as staff from '../staff.js';
import { h, clear, showError, showSuccess, clearMessage } from '../ui.js';
import { money, dateTime, pickupCode, halfWidth, digits } from '../format.js';
import { go } from '../nav.js';
import { makeForm } from '../forms.js';

// ======================================================================
// The console kit
// ======================================================================

export const CATEGORIES = ['elderly_alone', 'disabled', 'pregnant', 'seriously_ill', 'other'];
export const METHODS = ['call', 'visit'];
export const OUTCOMES = ['ok', 'needs_help', 'no_answer'];
const STATUSES = ['placed', 'payment_claimed', 'paid', 'packed', 'at_gate', 'picked_up', 'cancelled', 'expired'];
export const DEAD = ['cancelled', 'expired'];

export const categoryText = (c) => (CATEGORIES.includes(c) ? t(`cat.${c}`) : String(c || ''));
export const methodText = (m) => (METHODS.includes(m) ? t(`method.${m}`) : String(m || ''));
export const outcomeText = (o) => (OUTCOMES.includes(o) ? t(`outcome.${o}`) : String(o || ''));
export const statusText = (s) => (STATUSES.includes(s) ? t(`status.${s}`) : String(s || ''));
export function roleName(r) {
  return staff.ROLES.includes(r) ? t(`role.${r}`) : String(r || '');
}

/** The community's API path: /api/communities/<cid>[/rest]. */
export function cpath(cid, rest = '') {
  return `/api/communities/${encodeURIComponent(cid)}${rest}`;
}
export function hpath(cid, flatRef, rest = '') {
  return cpath(cid, `/households/${encodeURIComponent(flatRef)}${rest}`);
}

/** The server's message for an error; staff wording where the resident one would mislead. */
export function staffErrorText(err) {
  if (err && err.status === 401 && !err.message && !err.message_en) return t('console.err_session');
  if (err && err.status === 403 && !err.message && !err.message_en) return t('console.err_forbidden');
  return errorText(err);
}
export function showStaffError(err, opts = { scroll: false }) {
  showError(() => staffErrorText(err), opts);
}

/**
 * The signed-in liaison or information officer, or null after drawing a "not for your role"
 * page. Other staff (volunteer, supplier, admin) have no community console.
 */
export function consoleStaff(root, { roles = staff.CONSOLE_ROLES } = {}) {
  const s = staff.get();
  if (s && roles.includes(s.role)) return s;
  notForRole(root, s, 'console.only_liaison');
  return null;
}

/**
 * The page a staff link draws for a role it is not for: a heading, whose screen it is (`onlyKey`, given
 * the caller's role) and the way back to the staff page.
 */
export function notForRole(root, s, onlyKey, { cls = 'console', back = 'console.to_staff' } = {}) {
  clear(root);
  root.appendChild(h('section', { class: cls },
    h('h1', {}, t('console.not_for_role')),
    h('p', { class: 'msg msg-warn', 'data-testid': 'console-not-for-role' },
      t(onlyKey, { role: s ? roleName(s.role) : '' })),
    h('a', { class: 'btn btn-secondary', href: '#/staff' }, t(back))));
}

/** The console's own tabs: roster, special households, unpaid orders, community, pickup day (slots.js, progress.js). */
export function consoleNav(active) {
  const tab = (name, href, label) => h('a', {
    href, 'data-testid': `console-nav-${name}`, 'aria-current': active === name ? 'page' : null,
  }, label);
  return h('nav', { class: 'console-nav', 'aria-label': t('console.nav') },
    tab('roster', '#/staff/roster', t('console.nav_roster')),
    tab('special', '#/staff/special', t('console.nav_special')),
    tab('unpaid', '#/staff/unpaid', t('console.nav_unpaid')),
    tab('community', '#/staff/community', t('console.nav_community')),
    tab('pickup', '#/staff/slots', t('console.nav_pickup')));
}

/** A page that could not load: the reason and a retry button (the view never throws to app.js). */
export function drawLoadError(root, err, ctx, before = []) {
  clear(root);
  showStaffError(err);
  root.appendChild(h('section', { class: 'console' },
    before,
    h('p', { class: 'msg msg-error', 'data-testid': 'load-error' }, staffErrorText(err)),
    h('button', {
      type: 'button', class: 'btn btn-secondary', 'data-testid': 'load-retry',
      onclick: () => { clearMessage(); ctx.rerender({ refresh: true }); },
    }, t('console.retry'))));
}

/** Disable a button while its request runs; returns a function that restores it. */
export function busy(btn, label = t('console.saving')) {
  const text = btn.textContent;
  btn.disabled = true;
  btn.setAttribute('aria-busy', 'true');
  btn.textContent = label;
  return () => {
    btn.disabled = false;
    btn.removeAttribute('aria-busy');
    btn.textContent = text;
  };
}

/**
 * An in-page confirmation: the question, a hint, a red "yes" and a "no".
 * onYes(yesButton) may be async; the box stays until it settles.
 */
export function confirmBox({ testid, question, hint, yes, no = t('hh.keep'), onYes, onNo }) {
  const qid = `q-${testid}-${Math.random().toString(36).slice(2, 8)}`;
  const yesBtn = h('button', { type: 'button', class: 'btn btn-danger', 'data-testid': `${testid}-yes` }, yes);
  const noBtn = h('button', { type: 'button', class: 'btn btn-secondary', 'data-testid': `${testid}-no` }, no);
  const box = h('div', { class: 'confirm', role: 'group', 'aria-labelledby': qid, 'data-testid': testid },
    h('p', { class: 'confirm-question', id: qid, tabindex: '-1' }, question),
    hint ? h('p', { class: 'hint' }, hint) : null,
    yesBtn, noBtn);
  yesBtn.addEventListener('click', async () => {
    const done = busy(yesBtn);
    noBtn.disabled = true;
    try { await onYes(yesBtn); } finally { if (yesBtn.isConnected) { done(); noBtn.disabled = false; } }
  });
  noBtn.addEventListener('click', () => onNo && onNo());
  setTimeout(() => { const q = box.querySelector('.confirm-question'); if (q && q.isConnected) q.focus(); }, 0);
  return box;
}

/** Show a refused submission: the server's message at the top, field messages by their fields. */
export function showFormError(form, err) {
  const extra = form.applyServer(err);
  showError(() => [staffErrorText(err), ...extra].join(t('list_sep')), { scroll: true });
  form.focusFirst();
}

/** Big radio tiles: [{value, label}] -> a fieldset; the inputs get data-testid `${prefix}-${value}`. */
export function radioTiles(name, legend, options, value, prefix, { stack = false } = {}) {
  return h('fieldset', { class: `tiles${stack ? ' tiles-stack' : ''}`, 'data-testid': `${prefix}-group` },
    h('legend', null, legend),
    h('div', { class: 'tiles-row' }, options.map((o) => h('label', { class: 'tile' },
      h('input', {
        type: 'radio', name, value: o.value, checked: o.value === value, 'data-testid': `${prefix}-${o.value}`,
      }),
      h('span', null, o.label)))));
}
export function radioValue(container, name) {
  const el = container.querySelector(`input[name="${name}"]:checked`);
  return el ? el.value : '';
}

/** The order-status badge of a roster entry, or of an order. */
export function orderBadge(order, { testid = 'order-status' } = {}) {
  if (!order) return h('span', { class: 'badge badge-none', 'data-testid': testid, 'data-status': 'none' }, t('roster.not_ordered'));
  return h('span', { class: `badge status-${order.status}`, 'data-testid': testid, 'data-status': order.status }, statusText(order.status));
}
export function assistedTag(testid = 'assisted') {
  return h('span', { class: 'tag tag-assisted', 'data-testid': testid }, t('roster.assisted'));
}
export function specialTag(special, testid = 'special-tag') {
  return h('span', { class: 'tag tag-special', 'data-testid': testid, 'data-category': special.category },
    t('roster.special_tag', { category: categoryText(special.category) }));
}

/** "21 小时" / "2 天 3 小时" from whole hours. */
export function hoursText(hours) {
  const n = Math.max(0, Math.round(Number(hours) || 0));
  if (n < 48) return t('special.hours', { n });
  if (n % 24 === 0) return t('special.days', { d: n / 24 });
  return t('special.days_hours', { d: Math.floor(n / 24), h: n % 24 });
}

// ======================================================================
// #/staff/roster
// ======================================================================

const filters = { building: '', room: '' }; // kept while the app runs: back from a flat returns to the same list
let rosterState = null; // {cid, community, overview, data}
let registerOpen = false;

function liveOrder(e) {
  return e.order && !DEAD.includes(e.order.status);
}

function rosterQuery(cid, { building = '', room = '' } = {}) {
  const q = new URLSearchParams();
  if (building) q.set('building', building);
  if (room) q.set('room', room);
  const qs = q.toString();
  return cpath(cid, `/roster${qs ? `?${qs}` : ''}`);
}

function normBuildings(c) {
  return (Array.isArray(c && c.buildings) ? c.buildings : [])
    .map((b) => (typeof b === 'string' ? { name: b, units: [] } : { name: b.name, units: Array.isArray(b.units) ? b.units : [] }))
    .filter((b) => b.name);
}

export async function rosterView(root, params, ctx) {
  const s = consoleStaff(root);
  if (!s) return;
  const cid = s.scope_id;
  if (ctx.refresh || !rosterState || rosterState.cid !== cid) {
    clear(root);
    root.appendChild(h('p', { class: 'loading' }, t('loading')));
    try {
      const filtered = filters.building || filters.room;
      const [community, overview, data] = await Promise.all([
        staffApi(cpath(cid)),
        staffApi(rosterQuery(cid)),
        filtered ? staffApi(rosterQuery(cid, filters)) : null,
      ]);
      rosterState = { cid, community, overview, data: data || overview };
    } catch (err) {
      if (!ctx.isCurrent()) return;
      drawLoadError(root, err, ctx, [consoleNav('roster')]);
      return;
    }
    if (!ctx.isCurrent()) return;
  }
  drawRoster(root, s, ctx);
}

function drawRoster(root, s, ctx) {
  const { cid, community, overview } = rosterState;
  const buildings = normBuildings(community);
  const names = Array.isArray(overview.buildings) && overview.buildings.length ? overview.buildings : buildings.map((b) => b.name);
  clear(root);

  // ---- counts ----
  const c = overview.counts || {};
  const stat = (key, extra = '') => h('div', { class: `stat ${extra}`, 'data-testid': `count-${key}` },
    h('span', { class: 'stat-n' }, String(c[key] ?? 0)),
    h('span', { class: 'stat-label' }, t(`roster.count.${key}`)));
  const counts = h('div', { class: 'stats', 'data-testid': 'roster-counts' },
    stat('households'), stat('ordered', 'stat-good'), stat('special'),
    stat('members'), stat('pending', (c.pending || 0) > 0 ? 'stat-warn' : ''));

  // ---- per-building progress, which are also the building tabs ----
  const households = Array.isArray(overview.households) ? overview.households : [];
  const per = new Map(names.map((n) => [n, { households: 0, ordered: 0 }]));
  for (const e of households) {
    if (!per.has(e.building)) per.set(e.building, { households: 0, ordered: 0 });
    const p = per.get(e.building);
    p.households += 1;
    if (liveOrder(e)) p.ordered += 1;
  }
  const buildingButtons = [];
  const buildingRow = (name, p) => {
    const pct = p.households ? Math.round((p.ordered * 100) / p.households) : 0;
    const btn = h('button', {
      type: 'button', class: 'bldg', 'data-testid': name ? 'roster-building' : 'roster-building-all',
      'data-building': name, 'aria-pressed': filters.building === name ? 'true' : 'false',
      'data-ordered': p.ordered, 'data-households': p.households,
      'aria-label': `${name || t('roster.all_buildings')}: ${t('roster.progress', p)}`,
      onclick: () => { filters.building = name; refreshList(); },
    },
    h('span', { class: 'bldg-name', 'aria-hidden': 'true' }, name || t('roster.all_short')),
    h('span', { class: 'bar', 'aria-hidden': 'true' }, h('span', { class: 'bar-fill', style: `width:${pct}%` })),
    h('span', { class: 'bldg-n', 'aria-hidden': 'true' }, t('roster.progress_short', p)));
    buildingButtons.push(btn);
    return btn;
  };
  const all = { households: households.length, ordered: households.filter(liveOrder).length };
  const bldgs = h('section', { class: 'bldgs', 'aria-labelledby': 'bldgs-title' },
    h('h2', { id: 'bldgs-title', class: 'sub-title' }, t('roster.buildings')),
    buildingRow('', all),
    [...per.entries()].map(([n, p]) => buildingRow(n, p)));

  // ---- room search (server filter) ----
  const room = h('input', {
    type: 'search', id: 'roster-room', inputmode: 'numeric', autocomplete: 'off', maxlength: '10',
    'data-testid': 'roster-room', value: filters.room, 'aria-describedby': 'roster-room-hint', enterkeyhint: 'search',
  });
  const clearBtn = h('button', { type: 'button', class: 'btn btn-secondary btn-inline', 'data-testid': 'roster-room-clear', hidden: !filters.room },
    t('roster.clear'));
  const searchForm = h('form', { class: 'search', role: 'search', novalidate: true, 'data-testid': 'roster-search-form' },
    h('label', { for: 'roster-room' }, t('roster.room')),
    h('p', { class: 'hint', id: 'roster-room-hint' }, t('roster.room_hint')),
    h('div', { class: 'search-row' },
      room,
      h('button', { type: 'submit', class: 'btn btn-primary btn-inline', 'data-testid': 'roster-search' }, t('roster.search'))),
    clearBtn);
  let debounce = null;
  const applyRoom = () => {
    const v = halfWidth(room.value);
    if (v === filters.room) return;
    filters.room = v;
    clearBtn.hidden = !v;
    refreshList();
  };
  searchForm.addEventListener('submit', (ev) => { ev.preventDefault(); clearTimeout(debounce); applyRoom(); });
  room.addEventListener('input', () => { clearTimeout(debounce); debounce = setTimeout(applyRoom, 500); });
  clearBtn.addEventListener('click', () => { room.value = ''; applyRoom(); room.focus(); });

  // ---- the list ----
  const list = h('div', { class: 'flats', 'data-testid': 'roster-list', 'aria-live': 'polite' });
  const showing = h('p', { class: 'showing', 'data-testid': 'roster-showing' });
  let seq = 0;

  function fillList(data) {
    clear(list);
    const entries = Array.isArray(data.households) ? data.households : [];
    const round = data.round || null;
    showing.textContent = filters.building ? t('roster.showing_building', { building: filters.building }) : '';
    showing.hidden = !filters.building;
    if (!entries.length) list.appendChild(h('p', { class: 'empty', 'data-testid': 'roster-empty' }, t('roster.none')));
    entries.forEach((e) => list.appendChild(flatCard(e, round)));
    list.removeAttribute('aria-busy');
  }

  async function refreshList() {
    buildingButtons.forEach((b) => b.setAttribute('aria-pressed', b.getAttribute('data-building') === filters.building ? 'true' : 'false'));
    const my = ++seq;
    list.setAttribute('aria-busy', 'true');
    try {
      const data = await staffApi(rosterQuery(cid, filters));
      if (my !== seq || !ctx.isCurrent()) return;
      rosterState.data = data;
      if (!filters.building && !filters.room) rosterState.overview = data;
      clearMessage();
      fillList(data);
    } catch (err) {
      if (my !== seq || !ctx.isCurrent()) return;
      list.removeAttribute('aria-busy');
      showStaffError(err);
    }
  }

  const r = overview.round;
  root.appendChild(h('section', { class: 'console roster', 'aria-labelledby': 'roster-title' },
    consoleNav('roster'),
    h('h1', { id: 'roster-title', class: 'page-title', 'data-testid': 'roster-title' }, t('roster.title')),
    community && community.name ? h('p', { class: 'community-line', 'data-testid': 'roster-community' }, community.name) : null,
    h('p', { class: 'round-line', 'data-testid': 'roster-round' }, r ? t('roster.round', { name: r.name }) : t('roster.no_round')),
    counts,
    bldgs,
    searchForm,
    showing,
    list,
    registerSection(cid, buildings, ctx)));
  fillList(rosterState.data);
}

function flatCard(e, round) {
  const members = Array.isArray(e.members) ? e.members : [];
  const what = [t('roster.phones_n', { n: e.member_count ?? members.filter((m) => m.status === 'member').length })];
  if (e.pending_count) what.push(t('roster.requests_n', { n: e.pending_count }));
  return h('a', {
    class: `flat${e.attention ? ' flat-attention' : ''}${e.special ? ' flat-special' : ''}`,
    href: `#/staff/households/${e.flat_ref}`,
    'data-testid': 'roster-entry', 'data-flat-ref': e.flat_ref, 'data-attention': e.attention ? 'true' : 'false',
  },
  h('div', { class: 'flat-head' },
    h('span', { class: 'flat-label', 'data-testid': 'roster-entry-label' }, e.flat_label),
    round ? h('span', { class: 'flat-order' },
      orderBadge(e.order, { testid: 'roster-order' }),
      e.order && e.order.assisted ? assistedTag('roster-assisted') : null) : null),
  e.attention ? h('p', { class: 'flat-warn', 'data-testid': 'roster-attention' },
    t('roster.attention', { what: what.join(' / ') })) : null,
  e.special ? h('p', { class: 'flat-tags' }, specialTag(e.special, 'roster-special')) : null,
  e.name ? h('p', { class: 'flat-name' }, e.name) : null,
  members.length
    ? h('ul', { class: 'phones' }, members.map((m) => h('li', { 'data-testid': 'roster-phone', 'data-status': m.status },
      h('span', { class: 'phone' }, m.phone_masked),
      h('span', { class: `pstate pstate-${m.status}` }, m.status === 'pending' ? t('roster.pending') : t('roster.member')))))
    : h('p', { class: 'phones-none', 'data-testid': 'roster-no-phone' },
      t('roster.no_phone'), e.contact_phone_masked ? ` · ${t('roster.contact', { phone: e.contact_phone_masked })}` : ''),
  h('span', { class: 'flat-go', 'aria-hidden': 'true' }, '›'));
}

function registerSection(cid, buildings, ctx) {
  const wrap = h('section', { class: 'register', 'aria-labelledby': 'reg-title' });
  const openBtn = h('button', {
    type: 'button', class: 'btn btn-secondary', 'data-testid': 'roster-register-open', 'aria-expanded': 'false',
  }, t('reg.open'));
  const draw = () => {
    clear(wrap);
    if (!registerOpen) {
      openBtn.setAttribute('aria-expanded', 'false');
      wrap.appendChild(h('h2', { id: 'reg-title', class: 'visually-hidden' }, t('reg.title')));
      wrap.appendChild(openBtn);
      return;
    }
    wrap.appendChild(registerForm(cid, buildings, ctx, () => { registerOpen = false; draw(); openBtn.focus(); }));
  };
  openBtn.addEventListener('click', () => {
    registerOpen = true;
    draw();
    const first = wrap.querySelector('select, input');
    if (first) first.focus();
  });
  draw();
  return wrap;
}

function registerForm(cid, buildings, ctx, onClose) {
  const f = makeForm('reg');
  const building = h('select', { name: 'building', required: true },
    h('option', { value: '' }, t('reg.choose')),
    buildings.map((b) => h('option', { value: b.name, selected: b.name === filters.building }, b.name)));
  const unit = h('select', { name: 'unit' });
  const unitField = f.field('unit', t('reg.unit'), unit);
  const unitsOf = (name) => (buildings.find((b) => b.name === name) || { units: [] }).units;
  const fillUnits = () => {
    const units = unitsOf(building.value);
    clear(unit);
    unit.appendChild(h('option', { value: '' }, t('reg.choose')));
    units.forEach((u) => unit.appendChild(h('option', { value: u }, u)));
    if (units.length === 1) unit.value = units[0];
    unitField.hidden = units.length === 0;
    f.setError('unit', []);
  };
  building.addEventListener('change', () => { f.setError('building', []); fillUnits(); });
  const room = h('input', { type: 'text', name: 'room', inputmode: 'numeric', autocomplete: 'off', maxlength: '10', required: true });
  const phone = h('input', { type: 'tel', name: 'phone', inputmode: 'tel', autocomplete: 'off', maxlength: '20' });
  const name = h('input', { type: 'text', name: 'name', autocomplete: 'off', maxlength: '40' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'reg-submit' }, t('reg.submit'));
  const cancel = h('button', { type: 'button', class: 'btn btn-secondary', 'data-testid': 'reg-cancel', onclick: onClose }, t('console.cancel'));
  const form = h('form', { class: 'card reg-form', novalidate: true, 'data-testid': 'reg-form' },
    h('h2', { id: 'reg-title' }, t('reg.title')),
    h('p', { class: 'hint' }, t('reg.body')),
    f.field('building', t('reg.building'), building),
    unitField,
    f.field('room', t('reg.room'), room, t('reg.room_hint')),
    f.field('phone', t('reg.phone'), phone, t('reg.phone_hint')),
    f.field('name', t('reg.name'), name),
    submit, cancel);
  fillUnits();

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearMessage();
    f.clearErrors();
    const units = unitsOf(building.value);
    const body = { building: building.value, room: halfWidth(room.value) };
    if (units.length) body.unit = unit.value;
    // Keep a landline's dash (0710-3456789); only spaces and full-width digits go.
    const ph = halfWidth(phone.value).replace(/\s+/g, '');
    if (ph) body.phone = /^1[0-9\s-]+$/.test(ph) && digits(ph).length === 11 ? digits(ph) : ph;
    if (name.value.trim()) body.name = name.value.trim();
    let bad = false;
    if (!body.building) { f.setError('building', [t('err.choose')]); bad = true; }
    if (units.length && !body.unit) { f.setError('unit', [t('err.choose')]); bad = true; }
    if (!body.room) { f.setError('room', [t('console.required')]); bad = true; }
    if (bad) { showError(() => t('err.form'), { scroll: false }); f.focusFirst(); return; }

    const done = busy(submit);
    let res;
    try {
      res = await staffApi(cpath(cid, '/households'), { method: 'POST', body, full: true });
    } catch (err) {
      done();
      if (!ctx.isCurrent()) return;
      showFormError(f, err);
      return;
    }
    const entry = res.data || {};
    const label = entry.flat_label || [body.building, body.unit, body.room].filter(Boolean).join(' ');
    registerOpen = false;
    if (res.status === 200) showSuccess(() => t('reg.exists', { flat: label }));
    else showSuccess(() => t('reg.done', { flat: label }));
    go(`#/staff/households/${entry.flat_ref}`);
  });
  return form;
}

// ======================================================================
// #/staff/households/<flat_ref>
// ======================================================================

let hhState = null; // {cid, ref, data, fair}
const hhUi = { confirm: null, flagOpen: false, exempted: null }; // confirm: {kind, member_id}; exempted: round_id
let focusExempt = null; // a flat ref: show its "allow another order" button once the page is drawn (from the assist page)
let fairPaint = null; // repaints the fair-share section drawn last

export async function staffHouseholdView(root, [flatRef], ctx) {
  const s = consoleStaff(root);
  if (!s) return;
  const cid = s.scope_id;
  if (ctx.refresh || !hhState || hhState.cid !== cid || hhState.ref !== flatRef) {
    if (!hhState || hhState.ref !== flatRef) { hhUi.confirm = null; hhUi.flagOpen = false; hhUi.exempted = null; }
    clear(root);
    root.appendChild(h('p', { class: 'loading' }, t('loading')));
    try {
      hhState = { cid, ref: flatRef, data: await staffApi(hpath(cid, flatRef)), fair: { loading: true } };
    } catch (err) {
      if (!ctx.isCurrent()) return;
      drawLoadError(root, err, ctx, [consoleNav('roster'), backToRoster()]);
      return;
    }
    if (!ctx.isCurrent()) return;
    loadFair(hhState, ctx);
  }
  drawHousehold(root, s, ctx);
  if (focusExempt === flatRef) {
    focusExempt = null;
    const sec = root.querySelector('[data-testid="hh-fair"]');
    if (sec) {
      if (sec.scrollIntoView) sec.scrollIntoView({ block: 'start' });
      const title = sec.querySelector('h2');
      if (title) title.focus({ preventScroll: true });
    }
  }
}

/**
 * The household page's fair-share facts, loaded behind the page: the roster's current round
 * (narrowed to this flat, so the answer stays small) and the community's fair_share_days.
 */
async function loadFair(st, ctx) {
  const e = st.data || {};
  try {
    const [roster, community] = await Promise.all([
      staffApi(rosterQuery(st.cid, { building: e.building || '', room: e.room || '' })),
      staffApi(cpath(st.cid)),
    ]);
    const days = community && community.settings ? community.settings.fair_share_days : null;
    st.fair = { round: (roster && roster.round) || null, days: Number.isFinite(days) ? days : null };
  } catch (err) {
    st.fair = { error: err };
  }
  if (hhState === st && ctx.isCurrent() && fairPaint) fairPaint();
}

/** A link to a household's "allow another order this round" button (the assist page offers it after a fair_share refusal). */
export function exemptionLink(ref, { testid = 'exempt-link', text = t('assist.exempt_link') } = {}) {
  return h('a', {
    class: 'exempt-link', href: `#/staff/households/${ref}`, 'data-testid': testid,
    onclick: () => { focusExempt = ref; },
  }, text);
}

function backToRoster() {
  return h('a', { class: 'back', href: '#/staff/roster', 'data-testid': 'back-roster' }, t('console.back_roster'));
}

/** Redraw the household page from the entry a write returned (it carries no check-ins or orders). */
function takeEntry(entry) {
  if (!entry || !hhState) return;
  const { check_ins: ci, orders } = hhState.data;
  hhState.data = { check_ins: ci, orders, ...entry };
}

function drawHousehold(root, s, ctx) {
  const e = hhState.data;
  const { cid, ref } = hhState;
  const redraw = (focusTestid) => {
    drawHousehold(root, s, ctx);
    if (focusTestid) {
      const el = root.querySelector(`[data-testid="${focusTestid}"]`);
      if (el) el.focus();
    }
  };
  clear(root);
  root.appendChild(h('section', { class: 'console household', 'aria-labelledby': 'hh-title', 'data-testid': 'household', 'data-flat-ref': ref },
    consoleNav('roster'),
    backToRoster(),
    h('h1', { id: 'hh-title', class: 'page-title', 'data-testid': 'hh-title' }, e.flat_label || ref),
    e.name || e.contact_phone_masked ? h('dl', { class: 'facts' },
      e.name ? [h('dt', null, t('hh.name')), h('dd', { 'data-testid': 'hh-name' }, e.name)] : null,
      e.contact_phone_masked ? [h('dt', null, t('hh.contact_phone')), h('dd', { 'data-testid': 'hh-contact-phone' }, e.contact_phone_masked)] : null) : null,
    e.special ? h('p', { class: 'flat-tags' }, specialTag(e.special, 'hh-special-tag')) : null,
    h('a', { class: 'btn btn-primary btn-big', href: `#/staff/households/${ref}/order`, 'data-testid': 'hh-assist' }, t('hh.assist')),
    h('p', { class: 'hint center' }, t('hh.assist_hint')),
    fairSection(e, cid, ref, ctx),
    phonesSection(e, cid, ref, ctx, redraw),
    specialSection(e, cid, ref, ctx, redraw),
    checkInSection(e, cid, ref, ctx, redraw),
    ordersSection(e)));
}

/**
 * 本期允许再下一单: lets this household off the fair-share rule (每户每N天一单) for the current round.
 * Repaints only itself (a half-filled form elsewhere on the page stays as it is).
 */
function fairSection(e, cid, ref, ctx) {
  const sec = h('section', { class: 'block fair', 'aria-labelledby': 'hh-fair-title', 'data-testid': 'hh-fair' });
  const paint = (focusTestid) => {
    // A repaint (the round arriving) keeps the focus where it was, e.g. on the title after the assist page's link.
    const had = sec.contains(document.activeElement) ? document.activeElement : null;
    const keep = had && !focusTestid ? (had.id ? `#${had.id}` : had.dataset.testid ? `[data-testid="${had.dataset.testid}"]` : null) : null;
    clear(sec);
    const fair = (hhState && hhState.ref === ref && hhState.fair) || { loading: true };
    const round = fair.round || null;
    const open = !!(round && round.status === 'open');
    const off = fair.days === 0;
    const days = Number.isFinite(fair.days) && fair.days > 0 ? fair.days : 3;
    const done = open && hhUi.exempted === round.round_id;
    sec.appendChild(h('h2', { id: 'hh-fair-title', tabindex: '-1' }, t('hh.fair')));
    if (!off) sec.appendChild(h('p', { class: 'fair-what', id: 'hh-exempt-what', 'data-testid': 'hh-exempt-what' }, t('hh.exempt_what', { days })));
    if (round) sec.appendChild(h('p', { class: 'round-line', 'data-testid': 'hh-exempt-round', 'data-round-id': round.round_id, 'data-status': round.status }, t('hh.exempt_round', { name: round.name })));

    if (done) {
      sec.appendChild(h('p', { class: 'msg msg-success', 'data-testid': 'hh-exempt-done', tabindex: '-1' }, t('hh.exempt_done', { round: round.name })));
    } else if (hhUi.confirm && hhUi.confirm.kind === 'exempt' && open && !off) {
      sec.appendChild(confirmBox({
        testid: 'hh-exempt-confirm',
        question: t('hh.exempt_ask', { flat: e.flat_label || ref, round: round.name }),
        hint: t('hh.exempt_hint'),
        yes: t('hh.exempt_yes'),
        onNo: () => { hhUi.confirm = null; paint('hh-exempt'); },
        onYes: async () => {
          try {
            await staffApi(hpath(cid, ref, '/exemptions'), { method: 'POST', body: { round_id: round.round_id } });
            if (!ctx.isCurrent()) return;
            hhUi.confirm = null;
            hhUi.exempted = round.round_id;
            showSuccess(() => t('hh.exempted', { flat: e.flat_label || ref }), { scroll: false });
            paint('hh-exempt-done');
          } catch (err) {
            if (ctx.isCurrent()) showStaffError(err);
          }
        },
      }));
    } else {
      let why = null;
      if (fair.loading) why = t('hh.exempt_loading');
      else if (fair.error) why = t('hh.exempt_load_failed', { reason: staffErrorText(fair.error) });
      else if (off) why = t('hh.exempt_off');
      else if (!open) why = t('hh.exempt_no_round');
      const btn = h('button', {
        type: 'button', class: 'btn btn-secondary', 'data-testid': 'hh-exempt',
        disabled: !!why, 'aria-busy': fair.loading ? 'true' : null,
        'aria-describedby': [off ? null : 'hh-exempt-what', why ? 'hh-exempt-why' : null].filter(Boolean).join(' '),
        onclick: () => { hhUi.confirm = { kind: 'exempt' }; clearMessage(); paint(); },
      }, t('hh.exempt'));
      sec.appendChild(btn);
      if (why) sec.appendChild(h('p', { class: 'hint', id: 'hh-exempt-why', 'data-testid': 'hh-exempt-why' }, why));
      if (fair.error) {
        sec.appendChild(h('button', {
          type: 'button', class: 'btn btn-secondary btn-sm', 'data-testid': 'hh-exempt-retry',
          onclick: () => { hhState.fair = { loading: true }; paint(); loadFair(hhState, ctx); },
        }, t('console.retry')));
      }
    }
    const el = focusTestid ? sec.querySelector(`[data-testid="${focusTestid}"]`) : keep && sec.querySelector(keep);
    if (el) el.focus({ preventScroll: !focusTestid });
  };
  fairPaint = () => paint();
  paint();
  return sec;
}

function phonesSection(e, cid, ref, ctx, redraw) {
  const members = Array.isArray(e.members) ? e.members : [];
  const act = async (kind, m) => {
    clearMessage();
    const path = kind === 'handover'
      ? hpath(cid, ref, '/handover')
      : hpath(cid, ref, `/members/${encodeURIComponent(m.member_id)}/${kind}`);
    try {
      const entry = await staffApi(path, { method: 'POST', body: kind === 'handover' ? { member_id: m.member_id } : undefined });
      if (!ctx.isCurrent()) return;
      hhUi.confirm = null;
      takeEntry(entry);
      const msg = { approve: 'hh.approved', remove: 'hh.removed', handover: 'hh.handed_over' }[kind];
      showSuccess(() => t(msg, { phone: m.phone_masked }), { scroll: false });
      redraw('hh-phones-title');
    } catch (err) {
      if (!ctx.isCurrent()) return;
      showStaffError(err);
      if (err && (err.status === 404 || err.status === 409 || err.status === 422)) {
        // Someone else changed the flat meanwhile: show it as it is now.
        hhUi.confirm = null;
        try { hhState.data = await staffApi(hpath(cid, ref)); } catch (e2) { /* keep what we have */ }
        if (ctx.isCurrent()) redraw();
      }
    }
  };

  const row = (m) => {
    const c = hhUi.confirm && hhUi.confirm.member_id === m.member_id ? hhUi.confirm.kind : null;
    const ask = (kind) => () => { hhUi.confirm = { kind, member_id: m.member_id }; clearMessage(); redraw(); };
    const no = () => { hhUi.confirm = null; redraw(`hh-${c}`); };
    let tail;
    if (c === 'remove') {
      tail = confirmBox({
        testid: 'hh-confirm', question: t('hh.remove_ask', { phone: m.phone_masked }), hint: t('hh.remove_hint'),
        yes: t('hh.remove_yes'), onYes: () => act('remove', m), onNo: no,
      });
    } else if (c === 'handover') {
      tail = confirmBox({
        testid: 'hh-confirm', question: t('hh.handover_ask', { phone: m.phone_masked }), hint: t('hh.handover_hint'),
        yes: t('hh.handover_yes'), onYes: () => act('handover', m), onNo: no,
      });
    } else {
      const approve = m.status === 'pending'
        ? h('button', { type: 'button', class: 'btn btn-primary btn-sm', 'data-testid': 'hh-approve' }, t('hh.approve'))
        : null;
      if (approve) approve.addEventListener('click', async () => { const done = busy(approve); await act('approve', m); if (approve.isConnected) done(); });
      tail = h('div', { class: 'member-actions' },
        h('div', { class: 'two' },
          approve,
          h('button', { type: 'button', class: 'btn btn-danger btn-sm', 'data-testid': 'hh-remove', onclick: ask('remove') }, t('hh.remove'))),
        members.length > 1 || m.status === 'pending'
          ? h('button', { type: 'button', class: 'btn btn-secondary btn-sm', 'data-testid': 'hh-handover', onclick: ask('handover') }, t('hh.handover'))
          : null);
    }
    return h('li', { class: `member member-${m.status}`, 'data-testid': 'hh-member', 'data-member-id': m.member_id, 'data-status': m.status },
      h('div', { class: 'member-head' },
        h('span', { class: 'phone', 'data-testid': 'hh-member-phone' }, m.phone_masked),
        h('span', { class: `pstate pstate-${m.status}`, 'data-testid': 'hh-member-status' }, m.status === 'pending' ? t('roster.pending') : t('roster.member'))),
      m.added_at ? h('p', { class: 'hint' }, t('hh.added_at', { time: dateTime(m.added_at) })) : null,
      tail);
  };

  const what = [t('roster.phones_n', { n: e.member_count ?? 0 })];
  if (e.pending_count) what.push(t('roster.requests_n', { n: e.pending_count }));
  return h('section', { class: 'block', 'aria-labelledby': 'hh-phones-title', 'data-testid': 'hh-phones' },
    h('h2', { id: 'hh-phones-title', tabindex: '-1' }, t('hh.phones')),
    e.attention ? h('p', { class: 'flat-warn', 'data-testid': 'hh-attention' }, t('roster.attention', { what: what.join(' / ') })) : null,
    members.length
      ? [h('p', { class: 'hint' }, t('hh.phones_hint')), h('ul', { class: 'members' }, members.map(row))]
      : h('p', { class: 'empty-inline', 'data-testid': 'hh-no-phones' }, t('hh.no_phones')));
}

function specialSection(e, cid, ref, ctx, redraw) {
  const sp = e.special;
  const sec = h('section', { class: 'block', 'aria-labelledby': 'hh-special-title', 'data-testid': 'hh-special' },
    h('h2', { id: 'hh-special-title', tabindex: '-1' }, t('hh.special')));

  if (hhUi.flagOpen) {
    sec.appendChild(flagForm(sp, cid, ref, ctx, redraw));
    return sec;
  }
  if (!sp) {
    sec.appendChild(h('p', { class: 'empty-inline', 'data-testid': 'hh-not-special' }, t('hh.not_special')));
    sec.appendChild(h('button', {
      type: 'button', class: 'btn btn-secondary', 'data-testid': 'hh-flag-open',
      onclick: () => { hhUi.flagOpen = true; clearMessage(); redraw('flag-category'); },
    }, t('hh.flag_open')));
    return sec;
  }
  sec.appendChild(h('dl', { class: 'facts' },
    h('dt', null, t('flag.category')), h('dd', { 'data-testid': 'hh-special-category', 'data-category': sp.category }, categoryText(sp.category)),
    sp.note ? [h('dt', null, t('hh.note')), h('dd', { 'data-testid': 'hh-special-note' }, sp.note)] : null,
    sp.needs ? [h('dt', null, t('hh.needs')), h('dd', { 'data-testid': 'hh-special-needs' }, sp.needs)] : null,
    sp.contact_name || sp.contact_phone_masked
      ? [h('dt', null, t('hh.contact_name')), h('dd', { 'data-testid': 'hh-special-contact' }, [sp.contact_name, sp.contact_phone_masked].filter(Boolean).join(' '))]
      : null,
    sp.flagged_at ? [h('dt', null, t('hh.flagged_at')), h('dd', null, dateTime(sp.flagged_at))] : null,
    h('dt', null, t('hh.last_check_in')),
    h('dd', { 'data-testid': 'hh-last-check-in' }, sp.last_check_in_at ? dateTime(sp.last_check_in_at) : t('hh.never_checked'))));

  if (hhUi.confirm && hhUi.confirm.kind === 'unflag') {
    sec.appendChild(confirmBox({
      testid: 'hh-unflag-confirm', question: t('hh.unflag_ask'), hint: t('hh.unflag_hint'), yes: t('hh.unflag_yes'),
      onNo: () => { hhUi.confirm = null; redraw('hh-unflag'); },
      onYes: async () => {
        try {
          const entry = await staffApi(hpath(cid, ref, '/special/remove'), { method: 'POST' });
          if (!ctx.isCurrent()) return;
          hhUi.confirm = null;
          takeEntry(entry);
          showSuccess(() => t('hh.unflagged'), { scroll: false });
          redraw('hh-special-title');
        } catch (err) {
          if (ctx.isCurrent()) showStaffError(err);
        }
      },
    }));
  } else {
    sec.appendChild(h('div', { class: 'two' },
      h('button', {
        type: 'button', class: 'btn btn-secondary btn-sm', 'data-testid': 'hh-flag-edit',
        onclick: () => { hhUi.flagOpen = true; clearMessage(); redraw('flag-category'); },
      }, t('hh.flag_edit')),
      h('button', {
        type: 'button', class: 'btn btn-danger btn-sm', 'data-testid': 'hh-unflag',
        onclick: () => { hhUi.confirm = { kind: 'unflag' }; clearMessage(); redraw(); },
      }, t('hh.unflag'))));
  }
  return sec;
}

function flagForm(sp, cid, ref, ctx, redraw) {
  const f = makeForm('flag');
  const category = h('select', { name: 'category', required: true },
    h('option', { value: '' }, t('reg.choose')),
    CATEGORIES.map((c) => h('option', { value: c, selected: sp && sp.category === c }, categoryText(c))));
  const note = h('input', { type: 'text', name: 'note', maxlength: '200', autocomplete: 'off', value: (sp && sp.note) || '' });
  const contactName = h('input', { type: 'text', name: 'contact_name', maxlength: '40', autocomplete: 'off', value: (sp && sp.contact_name) || '' });
  const contactPhone = h('input', { type: 'tel', name: 'contact_phone', inputmode: 'tel', maxlength: '20', autocomplete: 'off' });
  const needs = h('textarea', { name: 'needs', rows: '2', maxlength: '300' }, (sp && sp.needs) || '');
  const noteLabel = () => (category.value === 'other' ? t('flag.note') : `${t('flag.note')}${t('console.optional')}`);
  const noteField = f.field('note', noteLabel(), note);
  category.addEventListener('change', () => {
    noteField.querySelector('label').textContent = noteLabel();
    f.setError('category', []);
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'flag-submit' }, t('flag.submit'));
  const cancel = h('button', {
    type: 'button', class: 'btn btn-secondary', 'data-testid': 'flag-cancel',
    onclick: () => { hhUi.flagOpen = false; redraw(sp ? 'hh-flag-edit' : 'hh-flag-open'); },
  }, t('console.cancel'));
  const form = h('form', { class: 'card', novalidate: true, 'data-testid': 'flag-form' },
    f.field('category', t('flag.category'), category),
    noteField,
    f.field('contact_name', t('flag.contact_name'), contactName),
    f.field('contact_phone', t('flag.contact_phone'), contactPhone, sp && sp.contact_phone_masked ? sp.contact_phone_masked : null),
    f.field('needs', t('flag.needs'), needs, t('flag.needs_hint')),
    submit, cancel);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearMessage();
    f.clearErrors();
    const body = { category: category.value };
    if (note.value.trim()) body.note = note.value.trim();
    if (contactName.value.trim()) body.contact_name = contactName.value.trim();
    const cp = halfWidth(contactPhone.value).replace(/\s+/g, '');
    if (cp) body.contact_phone = cp;
    if (needs.value.trim()) body.needs = needs.value.trim();
    let bad = false;
    if (!body.category) { f.setError('category', [t('err.choose')]); bad = true; }
    if (body.category === 'other' && !body.note) { f.setError('note', [t('flag.note_required')]); bad = true; }
    if (bad) { showError(() => t('err.form'), { scroll: false }); f.focusFirst(); return; }
    const done = busy(submit);
    try {
      const entry = await staffApi(hpath(cid, ref, '/special'), { method: 'PUT', body });
      if (!ctx.isCurrent()) return;
      hhUi.flagOpen = false;
      takeEntry(entry);
      showSuccess(() => t('hh.flagged', { category: categoryText(body.category) }), { scroll: false });
      redraw('hh-special-title');
    } catch (err) {
      done();
      if (ctx.isCurrent()) showFormError(f, err);
    }
  });
  return form;
}

// ---- check-ins: the form and the history --------------------------------

const BEIJING_MS = 8 * 3600 * 1000; // China has no daylight saving time

/** A Date -> "YYYY-MM-DDTHH:MM" in Beijing time, for <input type="datetime-local">. */
export function beijingInputValue(d = new Date()) {
  return new Date(d.getTime() + BEIJING_MS).toISOString().slice(0, 16);
}
/** "YYYY-MM-DDTHH:MM" (Beijing) -> ISO UTC, or null. */
export function fromBeijingInput(v) {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)$/.exec(String(v || ''));
  if (!m) return null;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]) - BEIJING_MS;
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/**
 * The check-in form. opts: {prefix, withTime, onSaved(checkIn, body)}. Used on the household page
 * (with the time field) and, compact, on the special-households cards.
 */
export function checkInForm(cid, ref, ctx, { prefix = 'ci', tid = prefix, withTime = true, flatLabel = '', onSaved, onCancel } = {}) {
  const f = makeForm(prefix, tid);
  const methods = radioTiles(`${prefix}-method`, t('ci.method'), METHODS.map((v) => ({ value: v, label: methodText(v) })), 'call', `${tid}-method`);
  const outcomes = radioTiles(`${prefix}-outcome`, t('ci.outcome'), OUTCOMES.map((v) => ({ value: v, label: outcomeText(v) })), '', `${tid}-outcome`, { stack: true });
  const outcomeErr = h('p', { class: 'field-error', 'data-testid': `${tid}-outcome-error`, hidden: true });
  outcomes.appendChild(outcomeErr);
  outcomes.addEventListener('change', () => { outcomeErr.hidden = true; });
  const notes = h('textarea', { name: 'notes', rows: '2', maxlength: '500' });
  const initial = beijingInputValue();
  const at = withTime ? h('input', { type: 'datetime-local', name: 'at', value: initial, max: beijingInputValue(new Date(Date.now() + 60000)) }) : null;
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': `${tid}-submit` }, t('ci.submit'));
  const form = h('form', { class: 'checkin-form', novalidate: true, 'data-testid': `${tid}-form` },
    methods, outcomes,
    f.field('notes', t('ci.notes'), notes),
    at ? f.field('at', t('ci.at'), at, t('ci.at_hint')) : null,
    submit,
    onCancel ? h('button', { type: 'button', class: 'btn btn-secondary', 'data-testid': `${tid}-cancel`, onclick: onCancel }, t('console.cancel')) : null);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearMessage();
    f.clearErrors();
    outcomeErr.hidden = true;
    const body = { method: radioValue(form, `${prefix}-method`) || 'call', outcome: radioValue(form, `${prefix}-outcome`) };
    if (notes.value.trim()) body.notes = notes.value.trim();
    if (!body.outcome) {
      outcomeErr.textContent = t('err.choose');
      outcomeErr.hidden = false;
      showError(() => t('err.form'), { scroll: false });
      const first = form.querySelector(`input[name="${prefix}-outcome"]`);
      if (first) first.focus();
      return;
    }
    // Left at its default the time is "now": let the server stamp it (no clock skew between phone and server).
    if (at && at.value && at.value !== initial) {
      const iso = fromBeijingInput(at.value);
      if (!iso) { f.setError('at', [t('console.required')]); f.focusFirst(); return; }
      if (Date.parse(iso) > Date.now() + 60000) { f.setError('at', [t('ci.future')]); f.focusFirst(); return; }
      body.at = iso;
    }
    const done = busy(submit);
    try {
      const ci = await staffApi(hpath(cid, ref, '/check-ins'), { method: 'POST', body });
      if (!ctx.isCurrent()) return;
      showSuccess(() => t('ci.saved', { flat: flatLabel, method: methodText(body.method), outcome: outcomeText(body.outcome) }), { scroll: false });
      if (onSaved) await onSaved(ci, body);
    } catch (err) {
      if (submit.isConnected) done();
      if (ctx.isCurrent()) showFormError(f, err);
    }
  });
  return form;
}

function checkInSection(e, cid, ref, ctx, redraw) {
  const list = Array.isArray(e.check_ins) ? e.check_ins : [];
  const history = h('section', { class: 'history', 'aria-labelledby': 'ci-history-title', 'data-testid': 'ci-history' },
    h('h3', { id: 'ci-history-title' }, t('ci.history')),
    list.length
      ? h('ol', { class: 'checkins' }, list.map((c) => h('li', {
        class: `checkin outcome-${c.outcome}`, 'data-testid': 'ci-entry', 'data-outcome': c.outcome, 'data-method': c.method,
      },
      h('div', { class: 'checkin-head' },
        h('span', { class: 'checkin-time', 'data-testid': 'ci-entry-time' }, dateTime(c.at)),
        h('span', { class: `badge outcome-badge outcome-${c.outcome}`, 'data-testid': 'ci-entry-outcome' }, outcomeText(c.outcome))),
      h('p', { class: 'checkin-method', 'data-testid': 'ci-entry-method' }, methodText(c.method),
        c.by_role ? h('span', { class: 'hint' }, ` · ${t('ci.by', { role: roleName(c.by_role) })}`) : null),
      c.notes ? h('p', { class: 'checkin-notes', 'data-testid': 'ci-entry-notes' }, c.notes) : null)))
      : h('p', { class: 'empty-inline', 'data-testid': 'ci-none' }, t('ci.none')));
  if (!e.special && !list.length) return null;
  return h('section', { class: 'block', 'aria-labelledby': 'ci-title', 'data-testid': 'hh-check-ins' },
    h('h2', { id: 'ci-title', tabindex: '-1' }, t('ci.title')),
    e.special ? checkInForm(cid, ref, ctx, {
      prefix: 'ci', flatLabel: e.flat_label,
      onSaved: async () => {
        try { hhState.data = await staffApi(hpath(cid, ref)); } catch (err) { /* the success message stands; the list refreshes next visit */ }
        if (ctx.isCurrent()) redraw('ci-history-title');
      },
    }) : null,
    history);
}

function ordersSection(e) {
  const orders = Array.isArray(e.orders) ? e.orders : [];
  return h('section', { class: 'block', 'aria-labelledby': 'hh-orders-title', 'data-testid': 'hh-orders' },
    h('h2', { id: 'hh-orders-title' }, t('hh.orders')),
    orders.length
      ? h('ul', { class: 'hh-orders' }, orders.map((o) => {
        const dead = DEAD.includes(o.status);
        return h('li', { class: `hh-order${dead ? ' order-dead' : ''}`, 'data-testid': 'hh-order', 'data-order-id': o.order_id },
          h('div', { class: 'flat-head' },
            h('span', { class: 'hh-order-name' }, o.round_name || ''),
            h('span', { class: 'flat-order' },
              orderBadge(o, { testid: 'hh-order-status' }),
              o.assisted_by ? assistedTag('hh-order-assisted') : null)),
          h('p', { class: 'hh-order-total', 'data-testid': 'hh-order-total' }, t('hh.order_total', { total: money(o.total_fen) })),
          Array.isArray(o.lines) && o.lines.length
            ? h('p', { class: 'hint' }, o.lines.map((l) => t('orders.line', { name: l.name || l.bundle_id, qty: l.qty })).join(t('list_sep')))
            : null,
          o.pickup_code && !dead
            ? h('p', { class: 'hh-order-code' }, `${t('assist.pickup_code')} `, h('strong', { 'data-testid': 'hh-order-code' }, pickupCode(o.pickup_code)))
            : null,
          o.created_at ? h('p', { class: 'hint' }, dateTime(o.created_at)) : null);
      }))
      : h('p', { class: 'empty-inline', 'data-testid': 'hh-no-orders' }, t('hh.no_orders')));
}
