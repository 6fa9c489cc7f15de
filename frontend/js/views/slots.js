// #/staff/slots: the liaison's pickup day (分楼栋错峰取货). Choose the round; generate the slot plan
// (start, minutes and households per slot, the buildings in the order they go down); see it as a
// timeline; move a slot's time or swap it with the next one and save (the plan's `version` guards
// against two people editing at once); 「通知这一批」 per slot; 「货已到」 for the whole community.
// Every notice sent from this phone keeps its 「复制到群」 text (flats and buildings, never phones).
//
// Also the small kit the progress dashboard (progress.js) shares: the round of the day, the two
// pickup-day tabs, a copy box.
import '../strings/roster.js';
import '../strings/payments.js';
import '../strings/pickupday.js';
import { t, getLang } from '../i18n.js';
import { staffApi } from '../api.js';
import { h, clear, showSuccess, showError, clearMessage, copyText } from '../ui.js';
import { dateTime, timeOfDay } from '../format.js';
import { makeForm, asList } from '../forms.js';
import { dayText, spanText } from '../notices.js';
import {
  consoleStaff, consoleNav, drawLoadError, cpath, showStaffError, staffErrorText, busy, confirmBox,
  beijingInputValue,
} from './roster.js';

// ======================================================================
// The pickup-day kit (shared with progress.js)
// ======================================================================

const BEIJING_MS = 8 * 3600 * 1000; // China has no daylight saving time
const ROUND_KEY = 'baogong.staff.pickup-round';

/** A server message "中文 / English" in the current language (other text as it is). */
export function bilingual(msg) {
  const m = String(msg ?? '');
  const i = m.indexOf(' / ');
  if (i > 0 && /[\u3400-\u9fff]/.test(m.slice(0, i))) return getLang() === 'en' ? m.slice(i + 3) : m.slice(0, i);
  return m;
}
const localList = (v) => asList(v).map(bilingual);

/** The community's recent rounds, newest first (the API's order). */
export async function loadRounds(cid) {
  const data = await staffApi(`/api/rounds?community_id=${encodeURIComponent(cid)}`);
  return Array.isArray(data && data.rounds) ? data.rounds : [];
}

/** The round this phone last looked at for the community's pickup day (else the newest). */
export function chosenRound(cid, rounds) {
  let saved = null;
  try { saved = JSON.parse(sessionStorage.getItem(ROUND_KEY) || 'null'); } catch (e) { /* ignore */ }
  if (saved && saved.cid === cid && rounds.some((r) => r.round_id === saved.rid)) return saved.rid;
  return rounds.length ? rounds[0].round_id : null;
}
export function chooseRound(cid, rid) {
  try { sessionStorage.setItem(ROUND_KEY, JSON.stringify({ cid, rid })); } catch (e) { /* ignore */ }
}

/** The round picker: a big select of the recent rounds. */
export function roundPicker(rounds, rid, onChange, testid) {
  if (!rounds.length) return null;
  const id = `${testid}-select`;
  const select = h('select', { id, 'data-testid': testid },
    rounds.map((r) => h('option', { value: r.round_id, selected: r.round_id === rid },
      `${r.name || r.round_id}${r.status ? ` · ${t(`rounds.status.${r.status}`)}` : ''}`)));
  select.addEventListener('change', () => onChange(select.value));
  return h('div', { class: 'field pd-round' }, h('label', { for: id }, t('pd.round')), select);
}

/** The two pickup-day screens of the console: the slot plan and the progress dashboard. */
export function pickupTabs(active) {
  const tab = (name, href, label) => h('a', {
    class: 'pd-tab', href, 'data-testid': `pd-tab-${name}`, 'aria-current': active === name ? 'page' : null,
  }, label);
  return h('nav', { class: 'pd-tabs', 'aria-label': t('pd.tabs') },
    tab('slots', '#/staff/slots', t('pd.tab_slots')),
    tab('progress', '#/staff/progress', t('pd.tab_progress')));
}

/** A text for the group chat, readable and selectable, with a big copy button above it. */
export function copyBox(text, { testid, button, title = '', rows = 3 }) {
  const area = h('textarea', {
    class: 'reminder-text pd-copy-text', readonly: true, rows: String(rows), 'data-testid': `${testid}-text`,
    'aria-label': title || button,
  }, text);
  const status = h('p', { class: 'copy-status', 'aria-live': 'polite', 'data-testid': `${testid}-copied` }, '');
  const btn = h('button', { type: 'button', class: 'btn btn-primary pd-copy-btn', 'data-testid': `${testid}-copy` }, button);
  btn.addEventListener('click', async () => {
    const ok = await copyText(area.value, area);
    status.textContent = ok ? t('pd.copied') : t('pd.copy_failed');
    status.classList.toggle('copy-failed', !ok);
    if (!ok) { area.focus(); area.select(); }
  });
  return h('div', { class: 'pd-copy', 'data-testid': testid },
    title ? h('p', { class: 'pd-copy-title' }, title) : null,
    btn, status, area);
}

/** ISO -> "YYYY-MM-DDTHH:MM" in Beijing time, for <input type="datetime-local">. */
export function toInput(iso) {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? beijingInputValue(new Date(ms)) : '';
}
/** "YYYY-MM-DDTHH:MM" (Beijing) -> "…:00+08:00", as the API wants it; null if not a time. */
export function fromInput(v) {
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d$/.test(String(v || '')) ? `${v}:00+08:00` : null;
}
const isoPlus = (iso, ms) => new Date(Date.parse(iso) + ms).toISOString().replace('.000Z', 'Z');
const minutesBetween = (a, b) => Math.round((Date.parse(b) - Date.parse(a)) / 60000);

const dayKey = (iso) => new Date(Date.parse(iso) + BEIJING_MS).toISOString().slice(0, 10);

/** The community's buildings' names, from GET /api/communities/{cid}. */
function buildingNames(c) {
  return (Array.isArray(c && c.buildings) ? c.buildings : [])
    .map((b) => (typeof b === 'string' ? b : b && b.name))
    .filter(Boolean);
}

// Notices sent from this phone, kept so their 「复制到群」 text is still here after a reload:
// {"<cid>|<rid>": {slots: {slot_id: [Notice]}, arrival: [Notice]}}. The plan itself does not carry them.
const SENT_KEY = 'baogong.staff.sent-notices';
function sentNotices(cid, rid) {
  try {
    const all = JSON.parse(localStorage.getItem(SENT_KEY) || '{}');
    const v = all && all[`${cid}|${rid}`];
    return v && typeof v === 'object'
      ? { slots: v.slots || {}, arrival: v.arrival || [], arrivedAt: v.arrivedAt || null }
      : { slots: {}, arrival: [], arrivedAt: null };
  } catch (e) {
    return { slots: {}, arrival: [], arrivedAt: null };
  }
}
function keepSent(cid, rid, sent) {
  try {
    const all = JSON.parse(localStorage.getItem(SENT_KEY) || '{}') || {};
    all[`${cid}|${rid}`] = sent;
    const keys = Object.keys(all);
    while (keys.length > 10) delete all[keys.shift()]; // a few recent rounds are enough
    localStorage.setItem(SENT_KEY, JSON.stringify(all));
  } catch (e) { /* ignore */ }
}

// ======================================================================
// #/staff/slots
// ======================================================================

let state = null;
// {cid, community, rounds, rid, plan, draft, progress, sent, genOpen, editing, genErrors, slotErrors,
//  order (building order of the form), form: {start, minutes, households}}

function draftOf(plan) {
  return plan && Array.isArray(plan.slots)
    ? plan.slots.map((s) => ({ ...s, groups: Array.isArray(s.groups) ? s.groups : [] })) : [];
}
function sortDraft(d) {
  return d.sort((a, b) => Date.parse(a.starts_at) - Date.parse(b.starts_at));
}
function isDirty() {
  if (!state || !state.plan) return false;
  const before = draftOf(state.plan).map((s) => `${s.slot_id}|${Date.parse(s.starts_at)}|${Date.parse(s.ends_at)}`).join(',');
  const now = state.draft.map((s) => `${s.slot_id}|${Date.parse(s.starts_at)}|${Date.parse(s.ends_at)}`).join(',');
  return before !== now;
}

/** The buildings in the order they went down last time (the plan's), then the rest as the community lists them. */
function defaultOrder(names, plan) {
  const seen = [];
  for (const s of (plan && plan.slots) || []) {
    for (const g of s.groups || []) if (g && g.building && !seen.includes(g.building) && names.includes(g.building)) seen.push(g.building);
  }
  return [...seen, ...names.filter((n) => !seen.includes(n))];
}

/** The next half hour at least 30 minutes away, in Beijing: a sensible first slot. */
function defaultStart() {
  const step = 30 * 60000;
  return beijingInputValue(new Date(Math.ceil((Date.now() + step) / step) * step));
}

async function loadPlan(cid, rid) {
  const [plan, progress] = await Promise.all([
    staffApi(cpath(cid, `/rounds/${encodeURIComponent(rid)}/slots`)).catch((err) => {
      if (err && err.status === 404 && (err.code === 'no_slot_plan' || err.code === 'http_404')) return null;
      throw err;
    }),
    // Only for 「货已到」's time: the dashboard knows it. Not fatal.
    staffApi(cpath(cid, `/rounds/${encodeURIComponent(rid)}/progress`)).catch(() => null),
  ]);
  return { plan, progress };
}

function resetForRound(rid, loaded) {
  const names = buildingNames(state.community);
  state.rid = rid;
  state.plan = loaded.plan;
  state.progress = loaded.progress;
  state.draft = sortDraft(draftOf(loaded.plan));
  state.sent = rid ? sentNotices(state.cid, rid) : { slots: {}, arrival: [], arrivedAt: null };
  state.genOpen = !loaded.plan;
  state.editing = null;
  state.genErrors = null;
  state.slotErrors = new Map();
  state.order = defaultOrder(names, loaded.plan);
  state.form = {
    start: defaultStart(),
    minutes: String((loaded.plan && loaded.plan.minutes_per_slot) || 20),
    households: String((loaded.plan && loaded.plan.households_per_slot) || 20),
  };
}

export async function slotsView(root, params, ctx) {
  const s = consoleStaff(root);
  if (!s) return;
  const cid = s.scope_id;
  if (ctx.refresh || !state || state.cid !== cid) {
    clear(root);
    root.appendChild(h('p', { class: 'loading' }, t('loading')));
    try {
      const [community, rounds] = await Promise.all([staffApi(cpath(cid)), loadRounds(cid)]);
      const keep = state && state.cid === cid && state.rid && rounds.some((r) => r.round_id === state.rid) ? state.rid : null;
      const rid = keep || chosenRound(cid, rounds);
      const loaded = rid ? await loadPlan(cid, rid) : { plan: null, progress: null };
      if (!ctx.isCurrent()) return;
      state = { cid, community, rounds };
      resetForRound(rid, loaded);
    } catch (err) {
      if (!ctx.isCurrent()) return;
      drawLoadError(root, err, ctx, [consoleNav('pickup'), pickupTabs('slots')]);
      return;
    }
  }
  draw(root, ctx);
}

async function switchRound(root, ctx, rid) {
  chooseRound(state.cid, rid);
  clearMessage();
  const main = root.querySelector('[data-testid="slots-body"]');
  if (main) main.setAttribute('aria-busy', 'true');
  try {
    const loaded = await loadPlan(state.cid, rid);
    if (!ctx.isCurrent()) return;
    resetForRound(rid, loaded);
  } catch (err) {
    if (!ctx.isCurrent()) return;
    if (main) main.removeAttribute('aria-busy');
    showStaffError(err);
    return;
  }
  draw(root, ctx);
}

/** Fetch the plan again (after a 409, an announcement): edits not saved are dropped. */
async function reloadPlan(root, ctx) {
  const loaded = await loadPlan(state.cid, state.rid);
  if (!ctx.isCurrent()) return;
  state.plan = loaded.plan;
  state.progress = loaded.progress || state.progress;
  state.draft = sortDraft(draftOf(loaded.plan));
  state.editing = null;
  state.slotErrors = new Map();
  draw(root, ctx);
}

function draw(root, ctx) {
  const { community, rounds, rid, plan } = state;
  clear(root);
  const point = (plan && plan.point) || (community && community.distribution_point) || null;
  const body = h('div', { 'data-testid': 'slots-body' });
  root.appendChild(h('section', { class: 'console pickupday slots', 'aria-labelledby': 'slots-title' },
    consoleNav('pickup'),
    pickupTabs('slots'),
    h('h1', { id: 'slots-title', class: 'page-title', 'data-testid': 'slots-title' }, t('slots.title')),
    community && community.name ? h('p', { class: 'community-line' }, community.name) : null,
    point && point.name
      ? h('p', { class: 'pd-point', 'data-testid': 'slots-point' }, t('slots.point', { name: point.name }),
        point.note ? h('span', { class: 'pd-point-note' }, ` · ${bilingual(point.note)}`) : null)
      : null,
    roundPicker(rounds, rid, (v) => switchRound(root, ctx, v), 'slots-round-pick'),
    body));
  if (!rid) {
    body.appendChild(h('p', { class: 'empty', 'data-testid': 'slots-no-round' }, t('pd.no_round')));
    return;
  }
  body.appendChild(planSection(root, ctx));
  if (plan) {
    body.appendChild(state.genOpen
      ? generateSection(root, ctx)
      : h('button', {
        type: 'button', class: 'btn btn-secondary', 'data-testid': 'slots-regenerate',
        onclick: () => { state.genOpen = true; draw(root, ctx); focusIn(root, 'gen-start_at'); },
      }, t('slots.regenerate')));
  } else {
    body.appendChild(generateSection(root, ctx));
  }
  body.appendChild(arrivalSection(root, ctx));
  if (isDirty()) body.appendChild(saveBar(root, ctx));
}

function focusIn(root, testid) {
  const el = root.querySelector(`[data-testid="${testid}"]`);
  if (el && !el.disabled) el.focus();
}

// ---- the generate form ---------------------------------------------------------------------------

function generateSection(root, ctx) {
  const f = makeForm('gen');
  const st = state.form;
  const start = h('input', { type: 'datetime-local', name: 'start_at', value: st.start, required: true });
  const minutes = h('input', { type: 'number', name: 'minutes_per_slot', inputmode: 'numeric', min: '5', max: '240', step: '5', value: st.minutes });
  const households = h('input', { type: 'number', name: 'households_per_slot', inputmode: 'numeric', min: '1', max: '1000', value: st.households });
  start.addEventListener('input', () => { st.start = start.value; });
  minutes.addEventListener('input', () => { st.minutes = minutes.value; });
  households.addEventListener('input', () => { st.households = households.value; });

  // The buildings, each with big ↑ / ↓.
  const orderErr = h('p', { class: 'field-error', id: 'gen-building_order-error', 'data-testid': 'gen-building_order-error', hidden: true });
  const list = h('ol', { class: 'pd-order', 'data-testid': 'gen-building-order', 'aria-describedby': 'gen-order-hint gen-building_order-error' });
  const drawOrder = (focus) => {
    clear(list);
    state.order.forEach((name, i) => {
      const up = h('button', {
        type: 'button', class: 'pd-move', 'data-testid': 'gen-building-up', disabled: i === 0,
        'aria-label': t('slots.move_up', { name }),
      }, '↑');
      const down = h('button', {
        type: 'button', class: 'pd-move', 'data-testid': 'gen-building-down', disabled: i === state.order.length - 1,
        'aria-label': t('slots.move_down', { name }),
      }, '↓');
      const move = (by, which) => {
        const j = i + by;
        if (j < 0 || j >= state.order.length) return;
        [state.order[i], state.order[j]] = [state.order[j], state.order[i]];
        drawOrder({ index: j, which });
      };
      up.addEventListener('click', () => move(-1, 'up'));
      down.addEventListener('click', () => move(1, 'down'));
      list.appendChild(h('li', { class: 'pd-order-row', 'data-testid': 'gen-building', 'data-building': name },
        h('span', { class: 'pd-order-n', 'aria-hidden': 'true' }, String(i + 1)),
        h('span', { class: 'pd-order-name' }, name),
        up, down));
    });
    if (focus) {
      const row = list.children[focus.index];
      let btn = row && row.querySelector(`[data-testid="gen-building-${focus.which}"]`);
      if (btn && btn.disabled) btn = row.querySelector(`[data-testid="gen-building-${focus.which === 'up' ? 'down' : 'up'}"]`);
      if (btn) btn.focus();
    }
  };
  drawOrder();

  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-big', 'data-testid': 'gen-submit' },
    state.plan ? t('slots.generate_again') : t('slots.generate'));
  const form = h('form', { class: 'pd-gen block', novalidate: true, 'data-testid': 'gen-form', 'aria-labelledby': 'gen-title' },
    h('h2', { id: 'gen-title' }, state.plan ? t('slots.regenerate') : t('slots.gen_title')),
    h('p', { class: 'hint' }, t('slots.gen_hint')),
    state.plan ? h('p', { class: 'msg msg-warn', 'data-testid': 'gen-replaces' }, t('slots.gen_replaces')) : null,
    f.field('start_at', t('slots.start_at'), start, t('slots.start_at_hint')),
    h('div', { class: 'pd-two' },
      f.field('minutes_per_slot', t('slots.minutes'), minutes, t('slots.minutes_hint')),
      f.field('households_per_slot', t('slots.households'), households, t('slots.households_hint'))),
    h('div', { class: 'field', 'data-field': 'building_order' },
      h('p', { class: 'pd-label', id: 'gen-order-label' }, t('slots.order')),
      h('p', { class: 'hint', id: 'gen-order-hint' }, t('slots.order_hint')),
      list, orderErr),
    submit,
    state.plan ? h('button', {
      type: 'button', class: 'btn btn-secondary', 'data-testid': 'gen-cancel',
      onclick: () => { state.genOpen = false; state.genErrors = null; draw(root, ctx); focusIn(root, 'slots-regenerate'); },
    }, t('console.cancel')) : null);
  list.setAttribute('aria-labelledby', 'gen-order-label');

  const setOrderError = (msgs) => {
    orderErr.textContent = msgs.join(t('list_sep'));
    orderErr.hidden = !msgs.length;
  };
  // Errors of the last try, in the current language (a language switch re-draws the form).
  const applyErrors = (fields) => {
    const extra = [];
    for (const [k, v] of Object.entries(fields || {})) {
      const msgs = localList(v);
      if (k === 'building_order') setOrderError(msgs);
      else if (!f.setError(k, msgs)) extra.push(...msgs);
    }
    return extra;
  };
  if (state.genErrors) applyErrors(state.genErrors);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearMessage();
    f.clearErrors();
    setOrderError([]);
    const mine = {};
    const startAt = fromInput(start.value);
    const m = Number(minutes.value);
    const n = Number(households.value);
    if (!startAt) mine.start_at = [t('slots.err_start')];
    else if (Date.parse(startAt) <= Date.now()) mine.start_at = [t('slots.err_start_past')];
    if (!Number.isInteger(m) || m < 5 || m > 240 || minutes.value === '') mine.minutes_per_slot = [t('slots.err_minutes')];
    if (!Number.isInteger(n) || n < 1 || n > 1000 || households.value === '') mine.households_per_slot = [t('slots.err_households')];
    if (!state.order.length) mine.building_order = [t('slots.err_order')];
    if (Object.keys(mine).length) {
      state.genErrors = mine;
      applyErrors(mine);
      showError(() => t('err.form'), { scroll: false });
      f.focusFirst();
      return;
    }
    const done = busy(submit);
    try {
      const plan = await staffApi(cpath(state.cid, `/rounds/${encodeURIComponent(state.rid)}/slots/generate`), {
        method: 'POST',
        body: { start_at: startAt, minutes_per_slot: m, households_per_slot: n, building_order: [...state.order] },
      });
      if (!ctx.isCurrent()) return;
      state.plan = plan;
      state.draft = sortDraft(draftOf(plan));
      state.genOpen = false;
      state.genErrors = null;
      state.editing = null;
      state.slotErrors = new Map();
      const count = state.draft.length;
      showSuccess(() => t('slots.generated', { n: count }), { scroll: false });
      draw(root, ctx);
      const first = root.querySelector('[data-testid="slots-plan"] h2');
      if (first) first.focus();
    } catch (err) {
      if (!ctx.isCurrent()) return;
      done();
      state.genErrors = err && err.fields ? err.fields : null;
      const extra = applyErrors(state.genErrors);
      showError(() => [staffErrorText(err), ...extra].join(t('list_sep')), { scroll: true });
      f.focusFirst();
      if (!orderErr.hidden && !f.inputs.start_at.getAttribute('aria-invalid')) {
        const b = list.querySelector('button:not([disabled])');
        if (b) b.focus();
      }
    }
  });
  return form;
}

// ---- the plan: a timeline ---------------------------------------------------------------------------

function planSection(root, ctx) {
  const { plan } = state;
  const wrap = h('section', { class: 'pd-plan block', 'data-testid': 'slots-plan', 'aria-labelledby': 'plan-title' });
  wrap.appendChild(h('h2', { id: 'plan-title', tabindex: '-1' }, t('slots.plan_title')));
  if (!plan) {
    wrap.appendChild(h('p', { class: 'empty-inline', 'data-testid': 'slots-none' }, t('slots.none')));
    return wrap;
  }
  const draft = state.draft;
  const households = draft.reduce((a, s) => a + (Number(s.households) || 0), 0);
  const announced = draft.filter((s) => s.announced_at).length;
  wrap.appendChild(h('p', { class: 'pd-plan-sum', 'data-testid': 'slots-summary' },
    t('slots.summary', { n: draft.length, households, announced })));
  if (!draft.length) {
    wrap.appendChild(h('p', { class: 'empty-inline' }, t('slots.no_slots')));
    return wrap;
  }
  const ol = h('ol', { class: 'timeline', 'data-testid': 'slots-list' });
  let day = '';
  draft.forEach((s, i) => {
    const k = dayKey(s.starts_at);
    if (k !== day) {
      day = k;
      ol.appendChild(h('li', { class: 'tl-day', 'data-testid': 'slots-day' }, dayText(s.starts_at)));
    }
    ol.appendChild(slotRow(root, ctx, s, i));
  });
  wrap.appendChild(ol);
  return wrap;
}

function slotRow(root, ctx, s, i) {
  const draft = state.draft;
  const dirty = isDirty();
  const saved = (state.plan.slots || []).find((x) => x.slot_id === s.slot_id);
  const moved = saved && (Date.parse(saved.starts_at) !== Date.parse(s.starts_at) || Date.parse(saved.ends_at) !== Date.parse(s.ends_at));
  const err = state.slotErrors.get(i);
  const rowId = `slot-${i}`;
  // Announced from any phone: the plan carries the texts its notices carry (this phone's own, if it sent them).
  const kept = state.sent.slots[s.slot_id] || [];
  const notices = kept.length ? kept : (saved && saved.announced_at && !moved && Array.isArray(saved.texts) ? saved.texts : []);
  const past = Date.parse(s.ends_at) <= Date.now();

  const announceBtn = h('button', {
    type: 'button', class: `btn ${s.announced_at ? 'btn-secondary' : 'btn-primary'} btn-sm pd-announce`,
    'data-testid': 'slot-announce', disabled: dirty,
    'aria-describedby': dirty ? 'slots-unsaved-hint' : null,
  }, s.announced_at ? t('slots.announce_again') : t('slots.announce'));
  const editBtn = h('button', {
    type: 'button', class: 'btn btn-secondary btn-sm', 'data-testid': 'slot-edit', 'aria-expanded': state.editing === s.slot_id ? 'true' : 'false',
  }, t('slots.edit'));
  const swapBtn = i < draft.length - 1 ? h('button', {
    type: 'button', class: 'btn btn-secondary btn-sm', 'data-testid': 'slot-swap',
  }, t('slots.swap')) : null;

  const li = h('li', {
    class: `tl-slot${s.announced_at ? ' tl-announced' : ''}${moved ? ' tl-moved' : ''}${past ? ' tl-past' : ''}`,
    'data-testid': 'slot', 'data-slot-id': s.slot_id, 'data-announced': s.announced_at ? 'true' : 'false',
    'aria-labelledby': `${rowId}-time ${rowId}-label`,
  },
  h('div', { class: 'tl-time' },
    h('span', { class: 'tl-start', id: `${rowId}-time`, 'data-testid': 'slot-time' }, spanText(s.starts_at, s.ends_at)),
    h('span', { class: 'tl-dot', 'aria-hidden': 'true' })),
  h('div', { class: 'tl-body' },
    h('p', { class: 'tl-label', id: `${rowId}-label`, 'data-testid': 'slot-label' }, s.label || ''),
    h('p', { class: 'tl-meta' },
      h('span', { class: 'tl-households', 'data-testid': 'slot-households' }, t(Number(s.households) === 1 ? 'slots.households_one' : 'slots.households_n', { n: Number(s.households) || 0 })),
      s.announced_at
        ? h('span', { class: 'badge pd-badge-done', 'data-testid': 'slot-announced' }, t('slots.announced', { time: timeOfDay(s.announced_at) }))
        : h('span', { class: 'badge pd-badge-not', 'data-testid': 'slot-not-announced' }, t('slots.not_announced')),
      moved ? h('span', { class: 'badge pd-badge-moved', 'data-testid': 'slot-moved' }, t('slots.moved')) : null),
    err ? h('p', { class: 'field-error', 'data-testid': 'slot-error' }, err.map(bilingual).join(t('list_sep'))) : null,
    state.editing === s.slot_id ? slotEditor(root, ctx, s) : null,
    h('div', { class: 'tl-actions' }, editBtn, swapBtn, announceBtn),
    notices.length ? h('div', { class: 'pd-sent', 'data-testid': 'slot-notices' },
      notices.map((n) => copyBox(n.text || '', {
        testid: 'notice-copy', button: t('pd.copy_to_group'),
        title: t('slots.notice_for', { building: n.building || '' }), rows: 3,
      }))) : null));

  editBtn.addEventListener('click', () => {
    state.editing = state.editing === s.slot_id ? null : s.slot_id;
    draw(root, ctx);
    const row = rowOf(root, s.slot_id);
    const first = row && row.querySelector(state.editing ? '[data-testid="slot-edit-start"]' : '[data-testid="slot-edit"]');
    if (first) first.focus();
  });
  if (swapBtn) swapBtn.addEventListener('click', () => swapWithNext(root, ctx, i));
  announceBtn.addEventListener('click', () => {
    const box = confirmBox({
      testid: 'slot-announce-confirm',
      question: t('slots.announce_ask', { label: s.label || spanText(s.starts_at, s.ends_at) }),
      hint: t('slots.announce_hint'),
      yes: t('slots.announce_yes'),
      no: t('console.cancel'),
      onYes: () => announce(root, ctx, s.slot_id),
      onNo: () => { box.remove(); announceBtn.hidden = false; announceBtn.focus(); },
    });
    announceBtn.hidden = true;
    announceBtn.after(box);
  });
  return li;
}

function rowOf(root, slotId) {
  for (const el of root.querySelectorAll('[data-testid="slot"]')) if (el.getAttribute('data-slot-id') === slotId) return el;
  return null;
}

/** Move one slot: a new start and a length, in Beijing time. Nothing is sent until 「保存」. */
function slotEditor(root, ctx, s) {
  const id = `edit-${s.slot_id}`;
  const start = h('input', { type: 'datetime-local', id: `${id}-start`, 'data-testid': 'slot-edit-start', value: toInput(s.starts_at) });
  const mins = h('input', {
    type: 'number', id: `${id}-min`, 'data-testid': 'slot-edit-minutes', inputmode: 'numeric', min: '5', max: '240',
    value: String(minutesBetween(s.starts_at, s.ends_at)),
  });
  const err = h('p', { class: 'field-error', 'data-testid': 'slot-edit-error', hidden: true, id: `${id}-error` });
  start.setAttribute('aria-describedby', `${id}-error`);
  mins.setAttribute('aria-describedby', `${id}-error`);
  const apply = h('button', { type: 'submit', class: 'btn btn-primary btn-sm', 'data-testid': 'slot-edit-apply' }, t('slots.edit_apply'));
  const cancel = h('button', { type: 'button', class: 'btn btn-secondary btn-sm', 'data-testid': 'slot-edit-cancel' }, t('console.cancel'));
  const form = h('form', { class: 'pd-edit', novalidate: true, 'data-testid': 'slot-editor' },
    h('div', { class: 'field' }, h('label', { for: `${id}-start` }, t('slots.edit_start')), start),
    h('div', { class: 'field' }, h('label', { for: `${id}-min` }, t('slots.edit_minutes')), mins),
    err,
    h('p', { class: 'hint' }, t('slots.edit_hint')),
    h('div', { class: 'pd-row' }, apply, cancel));
  cancel.addEventListener('click', () => {
    state.editing = null;
    draw(root, ctx);
    const row = rowOf(root, s.slot_id);
    if (row) row.querySelector('[data-testid="slot-edit"]').focus();
  });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const startAt = fromInput(start.value);
    const m = Number(mins.value);
    const bad = !startAt ? t('slots.err_start') : (!Number.isInteger(m) || m < 5 || m > 240 ? t('slots.err_minutes') : '');
    if (bad) {
      err.textContent = bad;
      err.hidden = false;
      (startAt ? mins : start).setAttribute('aria-invalid', 'true');
      (startAt ? mins : start).focus();
      return;
    }
    const slot = state.draft.find((x) => x.slot_id === s.slot_id);
    slot.starts_at = new Date(Date.parse(startAt)).toISOString().replace('.000Z', 'Z');
    slot.ends_at = isoPlus(slot.starts_at, m * 60000);
    sortDraft(state.draft);
    state.editing = null;
    state.slotErrors = new Map();
    draw(root, ctx);
    const row = rowOf(root, s.slot_id);
    if (row) { row.setAttribute('tabindex', '-1'); row.focus(); }
  });
  return form;
}

/** The next slot goes first (at this one's start), this one right after it; each keeps its length. */
function swapWithNext(root, ctx, i) {
  const a = state.draft[i];
  const b = state.draft[i + 1];
  if (!a || !b) return;
  const lenA = Date.parse(a.ends_at) - Date.parse(a.starts_at);
  const lenB = Date.parse(b.ends_at) - Date.parse(b.starts_at);
  const gap = Math.max(0, Date.parse(b.starts_at) - Date.parse(a.ends_at));
  const start = a.starts_at;
  b.starts_at = start;
  b.ends_at = isoPlus(start, lenB);
  a.starts_at = isoPlus(b.ends_at, gap);
  a.ends_at = isoPlus(a.starts_at, lenA);
  sortDraft(state.draft);
  state.slotErrors = new Map();
  state.editing = null;
  draw(root, ctx);
  const row = rowOf(root, a.slot_id);
  const btn = row && (row.querySelector('[data-testid="slot-swap"]') || row.querySelector('[data-testid="slot-edit"]'));
  if (btn) btn.focus();
}

function saveBar(root, ctx) {
  const save = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'slots-save' }, t('slots.save'));
  const discard = h('button', { type: 'button', class: 'btn btn-secondary', 'data-testid': 'slots-discard' }, t('slots.discard'));
  save.addEventListener('click', () => savePlan(root, ctx, save));
  discard.addEventListener('click', () => {
    state.draft = sortDraft(draftOf(state.plan));
    state.slotErrors = new Map();
    state.editing = null;
    clearMessage();
    draw(root, ctx);
  });
  return h('div', { class: 'pd-savebar', 'data-testid': 'slots-unsaved', role: 'region', 'aria-label': t('slots.unsaved') },
    h('p', { class: 'pd-savebar-text', id: 'slots-unsaved-hint' }, t('slots.unsaved')),
    h('div', { class: 'pd-row' }, save, discard));
}

async function savePlan(root, ctx, btn) {
  clearMessage();
  const done = busy(btn);
  const sent = state.draft.map((s) => ({ slot_id: s.slot_id, starts_at: s.starts_at, ends_at: s.ends_at, groups: s.groups }));
  try {
    const plan = await staffApi(cpath(state.cid, `/rounds/${encodeURIComponent(state.rid)}/slots`), {
      method: 'PUT', body: { version: state.plan.version, slots: sent },
    });
    if (!ctx.isCurrent()) return;
    state.plan = plan;
    state.draft = sortDraft(draftOf(plan));
    state.slotErrors = new Map();
    showSuccess(() => t('slots.saved'), { scroll: false });
    draw(root, ctx);
  } catch (err) {
    if (!ctx.isCurrent()) return;
    done();
    if (err && err.status === 409) {
      showError(() => t('slots.changed_elsewhere'), { scroll: true });
      try { await reloadPlan(root, ctx); } catch (e) { showStaffError(e); }
      return;
    }
    // Field messages by slot: {slots: {"1": {starts_at: [...]}}} lands on the second slot sent.
    const perSlot = new Map();
    const extra = [];
    const fields = (err && err.fields) || {};
    for (const [k, v] of Object.entries(fields)) {
      if (k === 'slots' && v && typeof v === 'object' && !Array.isArray(v)) {
        for (const [idx, msgs] of Object.entries(v)) {
          const n = Number(idx);
          if (Number.isInteger(n) && n >= 0 && n < state.draft.length) perSlot.set(n, [...(perSlot.get(n) || []), ...asList(msgs)]);
          else extra.push(...asList(msgs));
        }
      } else {
        extra.push(...asList(v));
      }
    }
    state.slotErrors = perSlot;
    showError(() => [staffErrorText(err), ...extra.map(bilingual)].join(t('list_sep')), { scroll: true });
    if (perSlot.size) {
      draw(root, ctx);
      const first = root.querySelector('[data-testid="slot-error"]');
      if (first) first.closest('[data-testid="slot"]').querySelector('[data-testid="slot-edit"]').focus();
    }
  }
}

async function announce(root, ctx, slotId) {
  clearMessage();
  let res;
  try {
    res = await staffApi(cpath(state.cid, `/rounds/${encodeURIComponent(state.rid)}/slots/${encodeURIComponent(slotId)}/announce`), { method: 'POST' });
  } catch (err) {
    if (!ctx.isCurrent()) return;
    showStaffError(err, { scroll: true });
    if (err && (err.status === 404 || err.status === 409 || err.status === 400)) {
      try { await reloadPlan(root, ctx); } catch (e) { /* the message above says enough */ }
    }
    return;
  }
  if (!ctx.isCurrent()) return;
  const notices = Array.isArray(res && res.notices) ? res.notices : [];
  state.sent.slots[slotId] = notices;
  keepSent(state.cid, state.rid, state.sent);
  const slot = state.draft.find((x) => x.slot_id === slotId);
  const now = new Date().toISOString();
  if (slot && !slot.announced_at) slot.announced_at = now;
  const saved = state.plan && (state.plan.slots || []).find((x) => x.slot_id === slotId);
  if (saved && !saved.announced_at) saved.announced_at = now;
  showSuccess(() => t('slots.announced_done', { n: notices.length }), { scroll: false });
  try { await reloadPlan(root, ctx); } catch (e) { draw(root, ctx); }
  const row = rowOf(root, slotId);
  const copy = row && row.querySelector('[data-testid="notice-copy-copy"]');
  if (copy) copy.focus();
}

// ---- 货已到 ---------------------------------------------------------------------------------

function arrivalSection(root, ctx) {
  const arrivedAt = (state.progress && state.progress.arrived_at) || state.sent.arrivedAt || null;
  const wrap = h('section', { class: 'pd-arrival block', 'data-testid': 'arrival', 'aria-labelledby': 'arrival-title' },
    h('h2', { id: 'arrival-title' }, t('arrival.title')));
  const notices = state.sent.arrival || [];
  if (arrivedAt) {
    wrap.appendChild(h('p', { class: 'pd-arrived', 'data-testid': 'arrival-done', 'data-arrived-at': arrivedAt },
      t('arrival.done', { time: dateTime(arrivedAt) })));
  } else {
    wrap.appendChild(h('p', { class: 'hint' }, t('arrival.hint')));
    const note = h('textarea', { id: 'arrival-note', rows: '2', maxlength: '200', 'data-testid': 'arrival-note' });
    const btn = h('button', { type: 'button', class: 'btn btn-primary btn-big pd-arrive', 'data-testid': 'arrival-send' }, t('arrival.button'));
    btn.addEventListener('click', () => {
      const box = confirmBox({
        testid: 'arrival-confirm',
        question: t('arrival.ask'),
        hint: t('arrival.ask_hint'),
        yes: t('arrival.yes'),
        no: t('console.cancel'),
        onYes: () => arrive(root, ctx, note.value.trim()),
        onNo: () => { box.remove(); btn.hidden = false; btn.focus(); },
      });
      btn.hidden = true;
      btn.after(box);
    });
    wrap.appendChild(h('div', { class: 'field' },
      h('label', { for: 'arrival-note' }, t('arrival.note'), h('span', { class: 'hint' }, t('console.optional'))),
      note));
    wrap.appendChild(btn);
  }
  if (notices.length) {
    wrap.appendChild(h('div', { class: 'pd-sent', 'data-testid': 'arrival-notices' },
      notices.map((n) => copyBox(n.text || '', {
        testid: 'notice-copy', button: t('pd.copy_to_group'), title: t('slots.notice_for', { building: n.building || '' }), rows: 3,
      }))));
  }
  return wrap;
}

async function arrive(root, ctx, note) {
  clearMessage();
  let res;
  try {
    res = await staffApi(cpath(state.cid, `/rounds/${encodeURIComponent(state.rid)}/arrival`), {
      method: 'POST', body: note ? { note } : {},
    });
  } catch (err) {
    if (!ctx.isCurrent()) return;
    showStaffError(err, { scroll: true });
    draw(root, ctx);
    return;
  }
  if (!ctx.isCurrent()) return;
  const notices = Array.isArray(res && res.notices) ? res.notices : [];
  if (notices.length) state.sent.arrival = notices; // a repeat answers with the first arrival and no new notices
  state.sent.arrivedAt = res && res.arrived_at;
  keepSent(state.cid, state.rid, state.sent);
  state.progress = { ...(state.progress || {}), arrived_at: res && res.arrived_at };
  showSuccess(() => t('arrival.sent', { n: notices.length }), { scroll: false });
  draw(root, ctx);
  const copy = root.querySelector('[data-testid="arrival-notices"] [data-testid="notice-copy-copy"]');
  if (copy) copy.focus();
}
