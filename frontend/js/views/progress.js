// #/staff/progress: pickup day at a glance (取货进度). Per building, the bags collected, still
// waiting and overdue (waiting after their slot ended) as stacked bars with a legend of numbers;
// the totals; the flats still waiting; 「复制催取通知」 for the group chat (flats, never phones).
// Refreshed every ~10 s while the page is visible, at once when it comes back into view.
// For the liaison, the information officer and the community's volunteers.
import '../strings/roster.js';
import '../strings/payments.js';
import '../strings/pickupday.js';
import { t, locale } from '../i18n.js';
import { staffApi } from '../api.js';
import * as staff from '../staff.js';
import { h, clear, clearMessage } from '../ui.js';
import { dateTime } from '../format.js';
import { consoleStaff, consoleNav, drawLoadError, cpath, showStaffError, staffErrorText } from './roster.js';
import { loadRounds, chosenRound, chooseRound, roundPicker, pickupTabs, copyBox } from './slots.js';

const ROLES = [...staff.CONSOLE_ROLES, 'volunteer'];
const POLL_MS = 10000;
const PARTS = ['collected', 'waiting', 'overdue', 'other'];

let state = null; // {cid, rounds, rid, data, at (when data came), error}
let timer = null;
let inFlight = false;
let live = null; // {root, ctx}: the dashboard on screen, for the poller

function stopPolling() {
  if (timer) clearInterval(timer);
  timer = null;
  live = null;
}

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && live && live.ctx.isCurrent()) refresh();
});
window.addEventListener('online', () => { if (live && live.ctx.isCurrent()) refresh(); });

/** "14:05:10" in Beijing time: when the numbers came. */
function clock(ms) {
  const d = new Date(ms);
  try {
    return new Intl.DateTimeFormat(locale(), {
      timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
    }).format(d);
  } catch (e) {
    return new Date(ms + 8 * 3600 * 1000).toISOString().slice(11, 19);
  }
}

const progressPath = (cid, rid) => cpath(cid, `/rounds/${encodeURIComponent(rid)}/progress`);

export async function progressView(root, params, ctx) {
  const s = consoleStaff(root, { roles: ROLES });
  if (!s) return;
  stopPolling();
  const cid = s.scope_id;
  const isConsole = staff.CONSOLE_ROLES.includes(s.role);
  if (ctx.refresh || !state || state.cid !== cid) {
    clear(root);
    root.appendChild(h('p', { class: 'loading' }, t('loading')));
    try {
      const rounds = await loadRounds(cid);
      const keep = state && state.cid === cid && rounds.some((r) => r.round_id === state.rid) ? state.rid : null;
      const rid = keep || chosenRound(cid, rounds);
      const data = rid ? await staffApi(progressPath(cid, rid)) : null;
      if (!ctx.isCurrent()) return;
      state = { cid, rounds, rid, data, at: Date.now(), error: null };
    } catch (err) {
      if (!ctx.isCurrent()) return;
      drawLoadError(root, err, ctx, isConsole ? [consoleNav('pickup'), pickupTabs('progress')] : []);
      return;
    }
  }
  draw(root, ctx, isConsole);
  live = { root, ctx };
  timer = setInterval(() => {
    if (!live || !live.ctx.isCurrent()) { stopPolling(); return; }
    if (document.visibilityState === 'visible') refresh();
  }, POLL_MS);
}

/** Ask again and re-draw the dashboard in place (the rest of the page, and focus, stay). */
async function refresh() {
  if (!live || inFlight || !state || !state.rid) return;
  const { ctx } = live;
  const { cid, rid } = state;
  inFlight = true;
  try {
    const data = await staffApi(progressPath(cid, rid));
    if (!ctx.isCurrent() || !state || state.rid !== rid) return;
    state.data = data;
    state.at = Date.now();
    state.error = null;
  } catch (err) {
    if (!ctx.isCurrent() || !state || state.rid !== rid) return;
    state.error = err; // the last numbers stay, marked with their age
  } finally {
    inFlight = false;
  }
  if (live && live.ctx.isCurrent()) fillDashboard(live.root);
}

async function switchRound(root, ctx, isConsole, rid) {
  chooseRound(state.cid, rid);
  clearMessage();
  const dash = root.querySelector('[data-testid="progress-dashboard"]');
  if (dash) dash.setAttribute('aria-busy', 'true');
  try {
    const data = await staffApi(progressPath(state.cid, rid));
    if (!ctx.isCurrent()) return;
    Object.assign(state, { rid, data, at: Date.now(), error: null });
  } catch (err) {
    if (!ctx.isCurrent()) return;
    if (dash) dash.removeAttribute('aria-busy');
    showStaffError(err);
    return;
  }
  draw(root, ctx, isConsole);
}

function draw(root, ctx, isConsole) {
  clear(root);
  const refreshBtn = h('button', { type: 'button', class: 'btn btn-secondary btn-sm pd-refresh', 'data-testid': 'progress-refresh' }, t('progress.refresh'));
  refreshBtn.addEventListener('click', () => { refresh(); });
  root.appendChild(h('section', { class: 'console pickupday progress', 'aria-labelledby': 'progress-title' },
    isConsole ? consoleNav('pickup') : null,
    isConsole ? pickupTabs('progress') : h('a', { class: 'back', href: '#/staff' }, t('progress.back_staff')),
    h('h1', { id: 'progress-title', class: 'page-title', 'data-testid': 'progress-title' }, t('progress.title')),
    roundPicker(state.rounds, state.rid, (v) => switchRound(root, ctx, isConsole, v), 'progress-round-pick'),
    state.rid
      ? [h('div', { class: 'pg-dash', 'data-testid': 'progress-dashboard' }),
        h('div', { class: 'pg-refresh-row' },
          h('p', { class: 'pg-age', 'data-testid': 'progress-age', 'aria-live': 'off' }),
          refreshBtn)]
      : h('p', { class: 'empty', 'data-testid': 'progress-no-round' }, t('pd.no_round'))));
  if (state.rid) fillDashboard(root);
}

/** Split a row's counts into drawn parts: overdue is taken out of waiting when the API counts it inside. */
function parts(row) {
  const n = (k) => Math.max(0, Number(row && row[k]) || 0);
  const collected = n('collected');
  let waiting = n('waiting');
  const overdue = n('overdue');
  let total = n('total');
  if (collected + waiting + overdue > total && collected + waiting <= total) waiting = Math.max(0, waiting - overdue);
  if (total < collected + waiting + overdue) total = collected + waiting + overdue;
  const other = Math.max(0, total - collected - waiting - overdue);
  return { collected, waiting, overdue, other, total };
}

function stackedBar(p, testid, label) {
  const seg = (k) => (p[k] > 0 && p.total > 0
    ? h('span', { class: `pg-seg pg-seg-${k}`, style: `flex-grow:${p[k]}`, 'data-part': k }) : null);
  return h('span', {
    class: 'pg-bar', role: 'img', 'aria-label': label, 'data-testid': testid,
  }, PARTS.map(seg));
}

function countsLabel(name, p) {
  const bits = [t('progress.n_collected', { n: p.collected }), t('progress.n_waiting', { n: p.waiting })];
  if (p.overdue) bits.push(t('progress.n_overdue', { n: p.overdue }));
  if (p.other) bits.push(t('progress.n_other', { n: p.other }));
  return `${name}: ${bits.join(t('list_sep'))} / ${t('progress.n_total', { n: p.total })}`;
}

function fillDashboard(root) {
  const dash = root.querySelector('[data-testid="progress-dashboard"]');
  const age = root.querySelector('[data-testid="progress-age"]');
  if (!dash) return;
  const d = state.data || {};
  const buildings = Array.isArray(d.buildings) ? d.buildings : [];
  const totals = parts(d.totals || buildings.reduce((a, b) => {
    for (const k of ['collected', 'waiting', 'overdue', 'total']) a[k] = (a[k] || 0) + (Number(b[k]) || 0);
    return a;
  }, {}));
  const waiting = Array.isArray(d.waiting) ? d.waiting : [];
  const reminder = typeof d.reminder === 'string' ? d.reminder : '';
  const keepArea = dash.querySelector('[data-testid="progress-reminder-text"]');
  const hadFocus = dash.contains(document.activeElement) ? document.activeElement.getAttribute('data-testid') : null;

  clear(dash);
  dash.removeAttribute('aria-busy');
  dash.appendChild(h('p', { class: d.arrived_at ? 'pd-arrived' : 'pg-not-arrived', 'data-testid': 'progress-arrived' },
    d.arrived_at ? t('arrival.done', { time: dateTime(d.arrived_at) }) : t('progress.not_arrived')));

  // ---- totals: one big bar, and the legend with the numbers ----
  const legendRow = (k) => h('li', { class: `pg-legend-row${totals[k] ? '' : ' is-zero'}`, 'data-testid': `progress-total-${k}`, 'data-n': totals[k] },
    h('span', { class: `swatch pg-seg-${k}`, 'aria-hidden': 'true' }),
    h('span', { class: 'pg-legend-label' }, t(`progress.${k}`)),
    h('span', { class: 'pg-legend-n' }, String(totals[k])));
  const pct = totals.total ? Math.round((totals.collected * 100) / totals.total) : 0;
  dash.appendChild(h('section', { class: 'pg-totals', 'aria-labelledby': 'pg-totals-title', 'data-testid': 'progress-totals',
    'data-collected': totals.collected, 'data-waiting': totals.waiting, 'data-overdue': totals.overdue, 'data-total': totals.total },
  h('h2', { id: 'pg-totals-title', class: 'visually-hidden' }, t('progress.totals')),
  h('p', { class: 'pg-big' },
    h('span', { class: 'pg-big-n', 'data-testid': 'progress-collected' }, t('progress.big', { collected: totals.collected, total: totals.total })),
    h('span', { class: 'pg-big-pct' }, ` ${pct}%`)),
  stackedBar(totals, 'progress-total-bar', countsLabel(t('progress.all'), totals)),
  h('ul', { class: 'pg-legend' },
    ['collected', 'waiting', 'overdue'].map(legendRow),
    totals.other ? legendRow('other') : null,
    h('li', { class: 'pg-legend-row pg-legend-total', 'data-testid': 'progress-total-total', 'data-n': totals.total },
      h('span', { class: 'swatch', 'aria-hidden': 'true' }),
      h('span', { class: 'pg-legend-label' }, t('progress.total')),
      h('span', { class: 'pg-legend-n' }, String(totals.total))))));

  // ---- per building ----
  dash.appendChild(h('section', { class: 'pg-bldgs', 'aria-labelledby': 'pg-bldgs-title' },
    h('h2', { id: 'pg-bldgs-title', class: 'sub-title' }, t('progress.by_building')),
    buildings.length
      ? h('ul', { class: 'pg-bldg-list' }, buildings.map((b) => {
        const p = parts(b);
        return h('li', {
          class: `pg-bldg${p.overdue ? ' pg-bldg-overdue' : ''}${p.total && p.collected === p.total ? ' pg-bldg-done' : ''}`,
          'data-testid': 'progress-building', 'data-building': b.building,
          'data-collected': p.collected, 'data-waiting': p.waiting, 'data-overdue': p.overdue, 'data-total': p.total,
        },
        h('span', { class: 'pg-bldg-name' }, b.building),
        stackedBar(p, 'progress-building-bar', countsLabel(b.building, p)),
        h('span', { class: 'pg-bldg-n', 'aria-hidden': 'true' }, `${p.collected}/${p.total}`),
        p.waiting || p.overdue
          ? h('span', { class: 'pg-bldg-more', 'aria-hidden': 'true' },
            p.waiting ? h('span', { class: 'pg-more-waiting' }, t('progress.n_waiting', { n: p.waiting })) : null,
            p.overdue ? h('span', { class: 'pg-more-overdue' }, t('progress.n_overdue', { n: p.overdue })) : null)
          : null);
      }))
      : h('p', { class: 'empty-inline', 'data-testid': 'progress-empty' }, t('progress.none'))));

  // ---- still waiting: the reminder to copy, then the flats by building ----
  const byBuilding = new Map();
  for (const w of waiting) {
    const k = w.building || '';
    if (!byBuilding.has(k)) byBuilding.set(k, []);
    byBuilding.get(k).push(w);
  }
  const wait = h('section', { class: 'pg-waiting', 'aria-labelledby': 'pg-waiting-title', 'data-testid': 'progress-waiting', 'data-count': waiting.length },
    h('h2', { id: 'pg-waiting-title', class: 'sub-title' }, t('progress.waiting_title', { n: waiting.length })));
  if (reminder && waiting.length) {
    const box = copyBox(reminder, { testid: 'progress-reminder', button: t('progress.copy_reminder'), rows: 5 });
    wait.appendChild(box);
    // Keep what the person had selected in the old text area if the text did not change.
    if (keepArea && keepArea.value === reminder && document.activeElement === keepArea) {
      box.replaceChild(keepArea, box.querySelector('[data-testid="progress-reminder-text"]'));
    }
  }
  if (!waiting.length) wait.appendChild(h('p', { class: 'empty-inline', 'data-testid': 'progress-none-waiting' }, t('progress.none_waiting')));
  for (const [b, list] of byBuilding) {
    wait.appendChild(h('div', { class: 'pg-wait-bldg' },
      h('h3', null, b || '—', h('span', { class: 'count-badge pg-count' }, String(list.length))),
      h('ul', { class: 'pg-wait-list' }, list.map((w) => h('li', {
        class: `pg-wait${w.overdue ? ' pg-wait-overdue' : ''}`, 'data-testid': 'progress-waiting-flat', 'data-overdue': w.overdue ? 'true' : 'false',
      },
      h('span', { class: 'pg-wait-flat' }, w.flat_label || ''),
      w.slot_label ? h('span', { class: 'pg-wait-slot' }, w.slot_label) : null,
      w.overdue ? h('span', { class: 'tag tag-warn', 'data-testid': 'progress-overdue-tag' }, t('progress.overdue_tag')) : null)))));
  }
  dash.appendChild(wait);

  if (age) {
    age.textContent = state.error
      ? `${t('progress.stale', { time: clock(state.at) })} ${staffErrorText(state.error)}`
      : t('progress.updated', { time: clock(state.at) });
    age.classList.toggle('pg-age-stale', !!state.error);
  }
  if (hadFocus) {
    const el = dash.querySelector(`[data-testid="${hadFocus}"]`);
    if (el) el.focus({ preventScroll: true });
  }
}
