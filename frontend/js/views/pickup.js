// Pickup day at the gate (取货登记), on a volunteer's phone:
//   #/staff/pickup                              choose the round and the building (remembered)
//   #/staff/pickup/<round_id>/<building>        the building's households: tap one, type a pickup code
//                                               or scan a QR, check, confirm; undo within 10 minutes
//   #/staff/pickup/<round_id>/<building>/door   the special households' door deliveries (method "door")
// For volunteers, the information officer and the liaison of one community (the sign-in's scope).
//
// A mark goes through the outbox (outbox.submitPickup): stored with its Idempotency-Key before it is
// sent, so without signal the row shows 已取（待同步） at once and the mark is sent when the signal
// returns, with the same key, and recorded once. The last list loaded is kept for this tab
// (sessionStorage), so a reload without signal still shows it.
import '../strings/roster.js';
import '../strings/pickup.js';
import { t } from '../i18n.js';
import { staffApi } from '../api.js';
import * as staff from '../staff.js';
import * as outbox from '../outbox.js';
import * as scan from '../scan.js';
import { h, clear, showError, showSuccess, showInfo, clearMessage } from '../ui.js';
import { timeOfDay, halfWidth } from '../format.js';
import { go } from '../nav.js';
import { cpath, drawLoadError, staffErrorText, busy, categoryText, statusText, DEAD, notForRole } from './roster.js';

export const PICKUP_ROLES = ['volunteer', 'liaison', 'info_officer'];
const UNDO_MS = 10 * 60 * 1000;
const LAST_KEY = 'baogong.pickup.last';
const CACHE_PREFIX = 'baogong.pickup.cache:';

let home = null;   // {cid, rounds, community, rid}: the choice page's data
let board = null;  // {kind: 'list'|'door', cid, rid, building, roundName, data: {households}, cachedAt}
let live = null;   // {ctx, paint}: the board on screen, repainted when a mark settles
let sheet = null;  // {el, backdrop, orderId, returnTo}: the confirm sheet, when open
let scanner = null; // {stop}: the running camera, when open
const marks = new Map(); // order_id -> {state: 'sending'|'pending', method, flat}: not confirmed yet
let synced = { n: 0, timer: null };

// ---------------------------------------------------------------- helpers

/** The signed-in volunteer, information officer or liaison; else a "not for your role" page and null. */
function pickupStaff(root) {
  const s = staff.get();
  if (s && PICKUP_ROLES.includes(s.role)) return s;
  notForRole(root, s, 'pk.only_roles');
  return null;
}

function readLast(cid) {
  try {
    const v = JSON.parse(localStorage.getItem(LAST_KEY) || 'null');
    return v && v.cid === cid && v.rid && v.building ? v : null;
  } catch (e) { return null; }
}
function saveLast(v) {
  try { localStorage.setItem(LAST_KEY, JSON.stringify(v)); } catch (e) { /* storage full or blocked */ }
}

function cacheKey(kind, cid, rid, building) {
  return `${CACHE_PREFIX}${kind}:${cid}:${rid}:${kind === 'door' ? '' : building}`;
}
function readCache(key) {
  try { return JSON.parse(sessionStorage.getItem(key) || 'null'); } catch (e) { return null; }
}
function writeCache() {
  if (!board) return;
  try {
    sessionStorage.setItem(cacheKey(board.kind, board.cid, board.rid, board.building),
      JSON.stringify({ data: board.data, roundName: board.roundName, at: board.loadedAt }));
  } catch (e) { /* ignore */ }
}

export function listHash(rid, building) {
  return `#/staff/pickup/${encodeURIComponent(rid)}/${encodeURIComponent(building)}`;
}
function doorHash(rid, building) {
  return `${listHash(rid, building)}/door`;
}

function households() {
  return board && board.data && Array.isArray(board.data.households) ? board.data.households : [];
}
function findEntry(orderId) {
  return households().find((e) => e.order_id === orderId) || null;
}

const linesText = (e) => (Array.isArray(e.lines) ? e.lines : [])
  .map((l) => t('pk.line', { name: l.name ?? '', qty: l.qty ?? '' })).join('，');

/** What the row shows: 'pending' (marked here, not sent), 'collected', 'blocked' (cannot collect) or 'waiting'. */
function entryState(e) {
  if (marks.has(e.order_id)) return 'pending';
  if (e.collected || e.status === 'picked_up') return 'collected';
  if (refusalOf(e)) return 'blocked';
  return 'waiting';
}
/** Why this order may not be collected: 'order_cancelled', 'order_expired', 'not_paid' or null. */
function refusalOf(e) {
  if (e.status === 'cancelled') return 'order_cancelled';
  if (e.status === 'expired') return 'order_expired';
  if (!e.paid && e.status !== 'picked_up' && !e.collected) return 'not_paid';
  return null;
}
const REFUSALS = ['not_paid', 'order_expired', 'order_cancelled', 'undo_too_late'];

/** Plain words for a refused mark, lookup or undo. */
function refusalText(err, { notFound = 'pk.code_not_found' } = {}) {
  if (err && REFUSALS.includes(err.code)) return t(`pk.${err.code}`);
  if (err && err.status === 404) return t(notFound);
  if (err && err.status === 0) return t('err.network');
  return staffErrorText(err);
}

function canUndo(e) {
  if (marks.has(e.order_id)) return marks.get(e.order_id).state === 'pending';
  const p = e.picked_up;
  if (!p || !p.by_me || !p.at) return false;
  const at = Date.parse(p.at);
  return Number.isFinite(at) && Date.now() - at < UNDO_MS;
}

/** Merge a fresh PickupEntry from the server into the board (door entries keep their special details). */
function replaceEntry(fresh) {
  if (!fresh || !fresh.order_id || !board) return;
  const list = households();
  const i = list.findIndex((e) => e.order_id === fresh.order_id);
  if (i < 0) return;
  const old = list[i];
  const merged = { ...old, ...fresh };
  if (old.special && typeof old.special === 'object' && typeof fresh.special !== 'object') merged.special = old.special;
  if (old.special_info && !fresh.special_info) merged.special_info = old.special_info;
  if (old.contact && !fresh.contact) merged.contact = old.contact;
  list[i] = merged;
  writeCache();
}

function repaint() {
  if (live && live.ctx.isCurrent()) live.paint();
}

// A mark settled (sent now, sent by replay, still waiting, or refused): the one place that updates state.
outbox.onResult((r) => {
  if (outbox.kindOf(r.entry) !== outbox.PICKUP) return;
  const id = r.entry.order_id;
  const flat = r.entry.flat_label || '';
  if (r.state === 'sent') {
    marks.delete(id);
    replaceEntry({ collected: true, status: 'picked_up', ...(r.order || {}) });
    if (r.origin === 'replay') {
      synced.n += 1;
      clearTimeout(synced.timer);
      const n = synced.n;
      showSuccess(() => t('pk.synced', { n }), { scroll: false });
      synced.timer = setTimeout(() => { synced = { n: 0, timer: null }; }, 8000);
    }
  } else if (r.state === 'pending') {
    marks.set(id, { state: 'pending', method: (r.entry.body || {}).method || 'self', flat });
  } else {
    marks.delete(id);
    if (r.origin === 'replay') {
      const reason = refusalText(r.error, { notFound: 'pk.order_not_found' });
      showError(() => t('pk.sync_refused', { flat, reason }), { scroll: false });
    }
    refreshEntry(id); // what is it now? (best effort)
  }
  repaint();
});

// The sheet and the camera belong to the board: leaving it (any navigation) closes them.
window.addEventListener('hashchange', () => { closeSheet(false); stopScanner(); });

async function refreshEntry(orderId) {
  if (!findEntry(orderId)) return;
  try {
    replaceEntry(await staffApi(`/api/orders/${encodeURIComponent(orderId)}/pickup`));
    repaint();
  } catch (e) { /* keep what we have */ }
}

/** The marks waiting in the outbox for this round: shown as 已取（待同步） after a reload. */
async function loadWaitingMarks(rid) {
  let waiting;
  try { waiting = await outbox.pendingPickups(); } catch (e) { return; }
  for (const [id, e] of waiting) {
    if (e.round_id && e.round_id !== rid) continue;
    if (!marks.has(id)) marks.set(id, { state: 'pending', method: (e.body || {}).method || 'self', flat: e.flat_label || '' });
  }
}

// ---------------------------------------------------------------- #/staff/pickup

export async function pickupHomeView(root, params, ctx) {
  const s = pickupStaff(root);
  if (!s) return;
  const cid = s.scope_id;
  if (ctx.refresh || !home || home.cid !== cid) {
    clear(root);
    root.appendChild(h('p', { class: 'loading' }, t('loading')));
    try {
      const [r, community] = await Promise.all([
        staffApi(`/api/rounds?community_id=${encodeURIComponent(cid)}`),
        staffApi(cpath(cid)),
      ]);
      const rounds = (Array.isArray(r && r.rounds) ? r.rounds : [])
        .slice().sort((a, b) => String(b.opens_at || b.round_id).localeCompare(String(a.opens_at || a.round_id)));
      const last = readLast(cid);
      const rid = (last && rounds.some((x) => x.round_id === last.rid) ? last.rid : null) || (rounds[0] && rounds[0].round_id) || null;
      home = { cid, rounds, community, rid };
    } catch (err) {
      if (!ctx.isCurrent()) return;
      drawLoadError(root, err, ctx);
      return;
    }
    if (!ctx.isCurrent()) return;
  }
  drawHome(root, ctx);
}

function buildingNames(community) {
  return (Array.isArray(community && community.buildings) ? community.buildings : [])
    .map((b) => (typeof b === 'string' ? b : b && b.name)).filter(Boolean);
}

function drawHome(root) {
  const { cid, rounds, community } = home;
  const names = buildingNames(community);
  const last = readLast(cid);
  clear(root);

  const roundButtons = [];
  const bldgWrap = h('div', { class: 'pk-bldgs', 'data-testid': 'pk-buildings' });
  const fillBuildings = () => {
    clear(bldgWrap);
    const round = rounds.find((r) => r.round_id === home.rid);
    if (!round) return;
    if (!names.length) { bldgWrap.appendChild(h('p', { class: 'empty' }, t('pk.no_buildings'))); return; }
    names.forEach((name) => bldgWrap.appendChild(h('a', {
      class: 'pk-bldg', href: listHash(round.round_id, name), 'data-testid': 'pk-building', 'data-building': name,
      onclick: () => saveLast({ cid, rid: round.round_id, building: name, round_name: round.name }),
    }, name)));
  };
  const pickRound = (rid) => {
    home.rid = rid;
    roundButtons.forEach((b) => b.setAttribute('aria-pressed', b.getAttribute('data-round-id') === rid ? 'true' : 'false'));
    fillBuildings();
  };
  const roundList = h('div', { class: 'pk-rounds', role: 'group', 'aria-labelledby': 'pk-round-title' },
    rounds.map((r) => {
      const btn = h('button', {
        type: 'button', class: 'pk-round', 'data-testid': 'pk-round', 'data-round-id': r.round_id,
        'aria-pressed': r.round_id === home.rid ? 'true' : 'false', onclick: () => pickRound(r.round_id),
      },
      h('span', { class: 'pk-round-name' }, r.name || ''),
      h('span', { class: `badge badge-${r.status}` }, t(`rounds.status.${r.status}`)));
      roundButtons.push(btn);
      return btn;
    }));
  const lastRound = last && rounds.find((r) => r.round_id === last.rid);

  root.appendChild(h('section', { class: 'console pk-page', 'aria-labelledby': 'pk-title' },
    h('h1', { id: 'pk-title', class: 'page-title', 'data-testid': 'pk-title' }, t('pk.title')),
    community && community.name ? h('p', { class: 'community-line', 'data-testid': 'pk-community' }, community.name) : null,
    lastRound ? h('a', {
      class: 'door pk-continue', href: listHash(last.rid, last.building), 'data-testid': 'pk-continue',
    }, h('span', { class: 'door-label' }, t('pk.continue', { round: lastRound.name, building: last.building }))) : null,
    rounds.length
      ? [
        h('h2', { id: 'pk-round-title', class: 'sub-title' }, t('pk.choose_round')),
        roundList,
        h('h2', { class: 'sub-title' }, t('pk.choose_building')),
        bldgWrap,
      ]
      : h('p', { class: 'empty', 'data-testid': 'pk-no-rounds' }, t('pk.no_rounds'))));
  fillBuildings();
}

// ---------------------------------------------------------------- the boards

export async function pickupListView(root, [rid, building], ctx) {
  return boardView(root, ctx, 'list', rid, building);
}
export async function doorListView(root, [rid, building], ctx) {
  return boardView(root, ctx, 'door', rid, building);
}

async function boardView(root, ctx, kind, rid, building) {
  const s = pickupStaff(root);
  if (!s) return;
  const cid = s.scope_id;
  closeSheet(false);
  stopScanner();
  const same = board && board.kind === kind && board.cid === cid && board.rid === rid && board.building === building;
  if (ctx.refresh || !same) {
    clear(root);
    root.appendChild(h('p', { class: 'loading' }, t('loading')));
    const remembered = readLast(cid);
    let roundName = (same && board.roundName) || (remembered && remembered.rid === rid ? remembered.round_name : '') || '';
    try {
      let data;
      if (kind === 'list') {
        data = await staffApi(`/api/rounds/${encodeURIComponent(rid)}/pickup-list?building=${encodeURIComponent(building)}`);
        if (data && data.round && data.round.name) roundName = data.round.name;
      } else {
        data = await staffApi(cpath(cid, `/rounds/${encodeURIComponent(rid)}/door`));
      }
      board = { kind, cid, rid, building, roundName, data: data || { households: [] }, loadedAt: new Date().toISOString(), cachedAt: null };
      writeCache();
    } catch (err) {
      if (!ctx.isCurrent()) return;
      const cached = err && err.status === 0 ? readCache(cacheKey(kind, cid, rid, building)) : null;
      if (!cached) { drawLoadError(root, err, ctx, [boardNav(kind, rid, building)]); return; }
      board = { kind, cid, rid, building, roundName: cached.roundName || roundName, data: cached.data, loadedAt: cached.at, cachedAt: cached.at };
    }
    if (!ctx.isCurrent()) return;
    saveLast({ cid, rid, building, round_name: board.roundName });
    await loadWaitingMarks(rid);
    if (!ctx.isCurrent()) return;
  }
  drawBoard(root, ctx);
}

function boardNav(kind, rid, building) {
  const tab = (name, href, label) => h('a', {
    href, 'data-testid': `pk-nav-${name}`, 'aria-current': kind === name ? 'page' : null,
  }, label);
  return h('nav', { class: 'console-nav pk-nav', 'aria-label': t('pk.nav') },
    tab('list', listHash(rid, building), t('pk.tab_list', { building })),
    tab('door', doorHash(rid, building), t('pk.tab_door')),
    tab('change', '#/staff/pickup', t('pk.tab_change')));
}

function drawBoard(root, ctx) {
  const b = board;
  const isDoor = b.kind === 'door';
  clear(root);

  // ---- progress ----
  const countText = h('p', { class: 'pk-count-text', 'aria-hidden': 'true' });
  const fill = h('span', { class: 'bar-fill' });
  const count = h('div', { class: 'pk-count', role: 'progressbar', 'data-testid': 'pk-count', 'aria-valuemin': '0' },
    countText, h('span', { class: 'bar pk-bar', 'aria-hidden': 'true' }, fill));
  const syncLine = h('p', { class: 'msg msg-warn pk-sync', 'data-testid': 'pk-sync', hidden: true });
  const cachedLine = b.cachedAt
    ? h('p', { class: 'msg msg-warn', 'data-testid': 'pk-cached' }, t('pk.cached', { time: timeOfDay(b.cachedAt) }))
    : null;

  // ---- find a household: code or scan ----
  const code = h('input', {
    id: 'pk-code', type: 'text', inputmode: 'numeric', pattern: '[0-9]*', maxlength: '7', autocomplete: 'off',
    enterkeyhint: 'search', 'data-testid': 'pk-code', 'aria-describedby': 'pk-code-hint pk-code-error',
  });
  const codeError = h('p', { class: 'field-error', id: 'pk-code-error', 'data-testid': 'pk-code-error', hidden: true });
  const codeGo = h('button', { type: 'submit', class: 'btn btn-primary btn-inline', 'data-testid': 'pk-code-go' }, t('pk.code_go'));
  const codeForm = h('form', { class: 'pk-find', role: 'search', novalidate: true, 'data-testid': 'pk-code-form' },
    h('label', { for: 'pk-code' }, t('pk.code_label')),
    h('p', { class: 'hint', id: 'pk-code-hint' }, t('pk.code_hint')),
    h('div', { class: 'search-row' }, code, codeGo),
    codeError);
  const setCodeError = (msg) => {
    codeError.textContent = msg || '';
    codeError.hidden = !msg;
    if (msg) code.setAttribute('aria-invalid', 'true'); else code.removeAttribute('aria-invalid');
  };
  code.addEventListener('input', () => setCodeError(''));
  codeForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const v = halfWidth(code.value).replace(/\s+/g, '');
    if (!/^\d{6}$/.test(v)) { setCodeError(t('pk.code_bad')); code.focus(); return; }
    setCodeError('');
    const done = busy(codeGo, t('pk.looking'));
    try {
      await findByCode(v, codeGo);
    } finally {
      if (codeGo.isConnected) done();
    }
  });

  const scanBtn = h('button', {
    type: 'button', class: 'btn btn-secondary pk-scan', 'data-testid': 'pk-scan', 'aria-expanded': 'false',
    'aria-describedby': 'pk-scan-hint',
  }, h('span', { class: 'pk-scan-icon', 'aria-hidden': 'true' }), t('pk.scan'));
  const scanHint = h('p', { class: 'hint', id: 'pk-scan-hint' }, t('pk.scan_hint'));
  const scanSlot = h('div', { class: 'pk-scan-slot' });
  scanBtn.addEventListener('click', () => {
    if (scanner) { stopScanner(); return; }
    openScanner(scanSlot, scanBtn, (text) => handleScanned(text, scanBtn));
  });

  const refresh = h('button', {
    type: 'button', class: 'btn btn-secondary btn-sm pk-refresh', 'data-testid': 'pk-refresh',
    onclick: () => { clearMessage(); ctx.rerender({ refresh: true }); },
  }, t('pk.refresh'));

  // ---- the list ----
  const list = h('ul', { class: 'pk-list', 'data-testid': isDoor ? 'pk-door-list' : 'pk-list', 'aria-labelledby': 'pk-title' });
  let undoTimer = null;

  function paint() {
    const all = households();
    // The bags to hand out: paid (or already collected). Unpaid orders are listed but not delivered (plan 1),
    // so they are not counted, as in the liaison's progress.
    const counted = all.filter((e) => !DEAD.includes(e.status) && (e.paid || e.collected || marks.has(e.order_id)));
    const done = counted.filter((e) => ['pending', 'collected'].includes(entryState(e))).length;
    const total = counted.length;
    countText.textContent = t(isDoor ? 'pk.door_count' : 'pk.count', { done, total });
    fill.style.width = `${total ? Math.round((done * 100) / total) : 0}%`;
    count.setAttribute('aria-valuemax', String(total));
    count.setAttribute('aria-valuenow', String(done));
    count.setAttribute('aria-label', t(isDoor ? 'pk.door_count_aria' : 'pk.count_aria', { done, total, building: b.building }));
    count.setAttribute('data-done', String(done));
    count.setAttribute('data-total', String(total));
    const waiting = [...marks.values()].filter((m) => m.state === 'pending').length;
    syncLine.hidden = !waiting;
    syncLine.textContent = waiting ? t('pk.waiting_sync', { n: waiting }) : '';

    const focusedId = document.activeElement && document.activeElement.closest
      ? (document.activeElement.closest('[data-testid="pk-row"]') || { dataset: {} }).dataset.orderId : null;
    clear(list);
    if (!all.length) list.appendChild(h('li', { class: 'empty', 'data-testid': 'pk-empty' }, t(isDoor ? 'pk.door_empty' : 'pk.empty')));
    all.forEach((e) => list.appendChild(row(e, isDoor)));
    if (focusedId) {
      const again = list.querySelector(`[data-order-id="${CSS.escape(focusedId)}"] .pk-tap`);
      if (again) again.focus({ preventScroll: true });
    }
    // Hide the 「撤销」 buttons when their 10 minutes are up.
    clearTimeout(undoTimer);
    const left = all.filter((e) => !marks.has(e.order_id) && canUndo(e))
      .map((e) => UNDO_MS - (Date.now() - Date.parse(e.picked_up.at)));
    if (left.length) undoTimer = setTimeout(() => { if (list.isConnected) paint(); }, Math.max(1000, Math.min(...left) + 500));
  }

  function row(e, door) {
    const st = entryState(e);
    const p = e.picked_up;
    let stateText;
    if (st === 'pending') stateText = t('pk.pending_sync');
    else if (st === 'collected') {
      const time = p && p.at ? timeOfDay(p.at) : '';
      stateText = time ? t(door || (p && p.method === 'door') ? 'pk.delivered_at' : 'pk.collected_at', { time }) : t('pk.collected');
    } else stateText = t(door ? 'pk.door_waiting' : 'pk.waiting');
    const special = specialOf(e);
    const label = door ? e.flat_label : ([e.unit, e.room].filter(Boolean).join(' ') || e.flat_label);
    const tap = h('button', {
      type: 'button', class: 'pk-tap', 'data-testid': 'pk-row-open',
      'aria-label': [e.flat_label, e.paid ? t('pk.paid') : t('pk.unpaid'), stateText].join('，'),
      onclick: (ev) => openSheet(e.order_id, door ? 'door' : 'self', ev.currentTarget),
    },
    h('span', { class: 'pk-row-head' },
      h('span', { class: 'pk-flat', 'data-testid': 'pk-row-flat' }, label),
      h('span', { class: `pk-state pk-state-${st}`, 'data-testid': 'pk-row-state' }, stateText)),
    h('span', { class: 'pk-row-meta' },
      e.phone_masked ? h('span', { class: 'phone', 'data-testid': 'pk-row-phone' }, e.phone_masked) : null,
      h('span', { class: `badge ${e.paid ? 'pk-paid' : 'pk-unpaid'}`, 'data-testid': 'pk-row-paid' }, e.paid ? t('pk.paid') : t('pk.unpaid')),
      e.special && !door ? h('span', { class: 'tag tag-special', 'data-testid': 'pk-row-special' }, t('pk.special')) : null,
      special ? h('span', { class: 'tag tag-special', 'data-testid': 'pk-row-category' }, categoryText(special.category)) : null),
    h('span', { class: 'pk-lines', 'data-testid': 'pk-row-lines' }, linesText(e)),
    door && special && special.needs ? h('span', { class: 'pk-needs' }, t('pk.needs', { needs: special.needs })) : null,
    door && contactText(e.contact) ? h('span', { class: 'pk-contact' }, t('pk.contact', { contact: contactText(e.contact) })) : null);
    const undo = canUndo(e)
      ? h('button', {
        type: 'button', class: 'btn btn-danger btn-inline pk-undo', 'data-testid': 'pk-undo',
        'aria-label': `${t('pk.undo')} ${e.flat_label}`, onclick: (ev) => undoMark(e.order_id, ev.currentTarget),
      }, t('pk.undo'))
      : null;
    return h('li', {
      class: `pk-row pk-row-${st}`, 'data-testid': 'pk-row', 'data-order-id': e.order_id, 'data-state': st,
      'data-paid': e.paid ? 'true' : 'false', 'data-flat': e.flat_label,
    }, tap, undo);
  }

  live = { ctx, paint };
  root.appendChild(h('section', { class: `console pk-page ${isDoor ? 'pk-door' : 'pk-board'}`, 'aria-labelledby': 'pk-title' },
    boardNav(b.kind, b.rid, b.building),
    h('h1', { id: 'pk-title', class: 'page-title', 'data-testid': 'pk-title' },
      isDoor ? t('pk.tab_door') : `${t('pk.title')} · ${b.building}`),
    b.roundName ? h('p', { class: 'round-line', 'data-testid': 'pk-round-name' }, b.roundName) : null,
    cachedLine,
    count,
    syncLine,
    h('div', { class: 'pk-finder' }, codeForm, scanBtn, scanHint, scanSlot),
    list,
    refresh));
  paint();
}

/**
 * A door entry's special details {category, needs}, or null. The contract puts them in `special`;
 * the API sends `special: true` and `special_info: {category, needs}`: both are read.
 */
function specialOf(e) {
  if (e.special && typeof e.special === 'object') return e.special;
  if (e.special_info && typeof e.special_info === 'object') return e.special_info;
  return null;
}

function contactText(c) {
  if (!c) return '';
  if (typeof c === 'string') return c;
  return [c.name, c.phone_masked || c.phone].filter(Boolean).join(' ');
}

// ---------------------------------------------------------------- finding a household

async function findByCode(code, returnTo) {
  let entry;
  try {
    entry = await staffApi(`/api/rounds/${encodeURIComponent(board.rid)}/pickup/${encodeURIComponent(code)}`);
  } catch (err) {
    if (err && err.status === 0) showError(() => t('pk.offline_code'), { scroll: false });
    else showError(() => refusalText(err), { scroll: false });
    return;
  }
  if (!live || !live.ctx.isCurrent()) return;
  clearMessage();
  replaceEntry(entry);
  repaint();
  openSheet(entry.order_id, board.kind === 'door' ? 'door' : 'self', returnTo, entry, { fromCode: true });
}

async function findByOrder(orderId, returnTo) {
  let entry;
  try {
    entry = await staffApi(`/api/orders/${encodeURIComponent(orderId)}/pickup`);
  } catch (err) {
    const local = findEntry(orderId);
    if (err && err.status === 0 && local) entry = local; // no signal: the bag is in the list loaded earlier
    else {
      showError(() => (err && err.status === 0 ? t('pk.offline_code') : refusalText(err, { notFound: 'pk.order_not_found' })),
        { scroll: false });
      return;
    }
  }
  if (!live || !live.ctx.isCurrent()) return;
  if (entry.round_id && entry.round_id !== board.rid) {
    showError(() => t('pk.other_round_bag', { round: board.roundName || '' }), { scroll: false });
    return;
  }
  clearMessage();
  replaceEntry(entry);
  repaint();
  openSheet(entry.order_id, board.kind === 'door' ? 'door' : 'self', returnTo, entry);
}

/** A scanned (or photographed) QR text: the resident's pickup QR, a bag label, or neither. */
async function handleScanned(text, returnTo) {
  stopScanner();
  const p = scan.parsePayload(text);
  if (!p) { showError(() => t('pk.not_ours'), { scroll: false }); return; }
  if (p.kind === 'pickup' && p.round_id !== board.rid) {
    showError(() => t('pk.other_round', { round: board.roundName || '' }), { scroll: false });
    return;
  }
  if (p.kind === 'order') await findByOrder(p.order_id, returnTo);
  else await findByCode(p.code, returnTo);
}

// ---------------------------------------------------------------- the scanner

function stopScanner() {
  if (scanner) {
    try { scanner.stop(); } catch (e) { /* ignore */ }
    scanner = null;
  }
  const panel = document.querySelector('[data-testid="sc-panel"]');
  if (panel) panel.remove();
  const btn = document.querySelector('[data-testid="pk-scan"]');
  if (btn) btn.setAttribute('aria-expanded', 'false');
}

function openScanner(slot, btn, onText) {
  stopScanner();
  btn.setAttribute('aria-expanded', 'true');
  const status = h('p', { class: 'sc-status', 'data-testid': 'sc-status', 'aria-live': 'polite' }, t('sc.starting'));
  const video = h('video', { class: 'sc-video', playsinline: true, muted: true, autoplay: true, 'aria-hidden': 'true' });
  const frame = h('div', { class: 'sc-frame' }, video, h('span', { class: 'sc-aim', 'aria-hidden': 'true' }));
  const fileId = `sc-file-${Math.random().toString(36).slice(2, 8)}`;
  const file = h('input', {
    type: 'file', id: fileId, class: 'file-input', accept: 'image/*', capture: 'environment', 'data-testid': 'sc-file',
  });
  const close = h('button', { type: 'button', class: 'btn btn-secondary', 'data-testid': 'sc-close' }, t('sc.close'));
  const panel = h('section', { class: 'sc-panel', 'data-testid': 'sc-panel', 'aria-label': t('sc.title') },
    frame,
    h('p', { class: 'sc-aim-text' }, t('sc.aim')),
    status,
    h('div', { class: 'sc-photo' }, file, h('label', { for: fileId, class: 'btn btn-secondary file-label', 'data-testid': 'sc-photo' }, t('sc.photo'))),
    h('p', { class: 'hint' }, t('sc.photo_hint')),
    close);
  slot.appendChild(panel);
  close.addEventListener('click', () => { stopScanner(); btn.focus(); });

  let done = false;
  const finish = (text) => { if (done) return; done = true; onText(text); };
  file.addEventListener('change', async () => {
    const f = file.files && file.files[0];
    if (!f) return;
    status.textContent = t('sc.reading');
    let text = null;
    try {
      text = await scan.decodeImage(f);
    } catch (e) {
      status.textContent = t('sc.not_image');
      file.value = '';
      return;
    }
    file.value = '';
    if (!text) { status.textContent = t('sc.none'); return; }
    finish(text);
  });

  const me = {};
  scanner = me;
  me.stop = () => { done = true; };
  scan.startCamera(video, (text) => { finish(text); return false; }).then((cam) => {
    if (scanner !== me || done) { cam.stop(); return; }
    me.stop = () => { done = true; cam.stop(); };
    status.textContent = t('sc.aim');
  }).catch((err) => {
    if (scanner !== me) return;
    frame.hidden = true;
    status.textContent = t(`sc.${(err && err.problem) || 'failed'}`);
  });
}

// ---------------------------------------------------------------- the confirm sheet

function closeSheet(restore = true) {
  if (!sheet) return;
  const { el, backdrop, returnTo, onKey } = sheet;
  sheet = null;
  document.removeEventListener('keydown', onKey);
  el.remove();
  backdrop.remove();
  if (restore && returnTo && returnTo.isConnected) returnTo.focus({ preventScroll: true });
}

/**
 * Show one household to check, big: flat, phone, bags, paid or not, collected or not; and the one
 * button that fits (confirm, or nothing but close when it cannot be collected).
 */
function openSheet(orderId, method, returnTo, given = null, { fromCode = false } = {}) {
  closeSheet(false);
  const e = findEntry(orderId) || given;
  if (!e) return;
  const st = entryState(e);
  const refusal = st === 'blocked' ? refusalOf(e) : null;
  const door = method === 'door';
  const special = specialOf(e);
  const p = e.picked_up;

  const buttons = [];
  let note = null;
  if (st === 'waiting') {
    const yes = h('button', { type: 'button', class: 'btn btn-primary btn-big pk-confirm', 'data-testid': 'pk-confirm' },
      t(door ? 'pk.confirm_door' : 'pk.confirm'));
    yes.addEventListener('click', () => markOne(e, method, fromCode));
    buttons.push(yes, h('button', {
      type: 'button', class: 'btn btn-secondary', 'data-testid': 'pk-sheet-cancel', onclick: () => closeSheet(),
    }, t('pk.cancel')));
  } else {
    if (refusal) {
      note = h('p', { class: 'msg msg-error pk-refusal', 'data-testid': 'pk-refusal', 'data-code': refusal }, t(`pk.${refusal}`));
      const again = h('button', { type: 'button', class: 'btn btn-secondary', 'data-testid': 'pk-check-again' }, t('pk.check_again'));
      again.addEventListener('click', async () => {
        const restore = busy(again, t('pk.looking'));
        try {
          replaceEntry(await staffApi(`/api/orders/${encodeURIComponent(e.order_id)}/pickup`));
          repaint();
          if (sheet && sheet.orderId === e.order_id) openSheet(e.order_id, method, returnTo, null, { fromCode });
        } catch (err) {
          showError(() => refusalText(err), { scroll: false });
          if (again.isConnected) restore();
        }
      });
      buttons.push(again);
    } else if (st === 'collected' && p) {
      const who = p.by_me ? t('pk.by_me') : t('pk.by_other');
      note = h('p', { class: 'msg msg-success', 'data-testid': 'pk-already' },
        t(p.method === 'door' ? 'pk.already_door' : 'pk.already', { time: timeOfDay(p.at), who }));
    } else if (st === 'pending') {
      note = h('p', { class: 'msg msg-warn', 'data-testid': 'pk-already' }, t('pk.pending_sync'));
    }
    if (canUndo(e)) {
      buttons.push(h('button', {
        type: 'button', class: 'btn btn-danger', 'data-testid': 'pk-sheet-undo',
        onclick: (ev) => undoMark(e.order_id, ev.currentTarget),
      }, t('pk.undo')));
    }
    buttons.push(h('button', {
      type: 'button', class: 'btn btn-secondary', 'data-testid': 'pk-sheet-close', onclick: () => closeSheet(),
    }, t('pk.close')));
  }

  const el = h('div', {
    class: 'console pk-sheet', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'pk-sheet-flat',
    'data-testid': 'pk-sheet', 'data-order-id': e.order_id, 'data-state': st,
  },
  h('p', { class: 'pk-sheet-kicker' }, t('pk.sheet_title')),
  h('h2', { id: 'pk-sheet-flat', class: 'pk-sheet-flat', tabindex: '-1', 'data-testid': 'pk-sheet-flat' }, e.flat_label),
  h('p', { class: 'pk-sheet-meta' },
    e.phone_masked ? h('span', { class: 'phone', 'data-testid': 'pk-sheet-phone' }, e.phone_masked) : null,
    h('span', { class: `badge ${e.paid ? 'pk-paid' : 'pk-unpaid'}`, 'data-testid': 'pk-sheet-paid' }, e.paid ? t('pk.paid') : t('pk.unpaid')),
    e.special ? h('span', { class: 'tag tag-special' }, special ? categoryText(special.category) : t('pk.special')) : null),
  h('ul', { class: 'pk-sheet-lines', 'data-testid': 'pk-sheet-lines' },
    (Array.isArray(e.lines) ? e.lines : []).map((l) => h('li', null, t('pk.line', { name: l.name ?? '', qty: l.qty ?? '' })))),
  special && special.needs ? h('p', { class: 'pk-needs' }, t('pk.needs', { needs: special.needs })) : null,
  door && contactText(e.contact) ? h('p', { class: 'pk-contact' }, t('pk.contact', { contact: contactText(e.contact) })) : null,
  e.status && !['paid', 'packed', 'at_gate', 'picked_up'].includes(e.status)
    ? h('p', { class: 'pk-sheet-status', 'data-testid': 'pk-sheet-status' }, t('pk.status', { status: statusText(e.status) })) : null,
  note,
  h('div', { class: 'pk-sheet-buttons' }, buttons));
  const backdrop = h('div', { class: 'pk-backdrop', 'aria-hidden': 'true', onclick: () => closeSheet() });
  const onKey = (ev) => { if (ev.key === 'Escape') closeSheet(); };
  document.addEventListener('keydown', onKey);
  document.body.appendChild(backdrop);
  document.body.appendChild(el);
  sheet = { el, backdrop, orderId: e.order_id, returnTo, onKey };
  el.querySelector('.pk-sheet-flat').focus({ preventScroll: true });
}

// ---------------------------------------------------------------- marking and undoing

async function markOne(e, method, fromCode) {
  const flat = e.flat_label || '';
  // The row says 已取（待同步） at once; the outbox stores the mark (and its key) before sending it.
  marks.set(e.order_id, { state: 'sending', method, flat });
  closeSheet(false);
  repaint();
  focusAfterMark(e.order_id, fromCode);
  let r;
  try {
    r = await outbox.submitPickup(e.order_id, method, { round_id: board ? board.rid : '', flat_label: flat });
  } catch (err) {
    // IndexedDB and localStorage both failed: nothing is stored, so say so.
    marks.delete(e.order_id);
    repaint();
    showError(() => t('err.unknown'), { scroll: false });
    return;
  }
  const rec = r.state === 'sent' && r.order ? r.order.picked_up : null;
  if (rec && rec.by_me === false) {
    // Someone else had marked it first: the server kept that one record; say so rather than "recorded".
    const who = t('pk.by_other');
    showInfo(() => `${flat}：${t(rec.method === 'door' ? 'pk.already_door' : 'pk.already', { time: timeOfDay(rec.at), who })}`,
      { scroll: false });
  } else if (r.state === 'sent') showSuccess(() => t(method === 'door' ? 'pk.marked_door' : 'pk.marked', { flat }), { scroll: false });
  else if (r.state === 'pending' && r.error && r.error.status === 401) showError(() => staffErrorText(r.error), { scroll: false });
  else if (r.state === 'pending') showInfo(() => t('pk.marked_offline', { flat }), { scroll: false });
  else {
    const reason = refusalText(r.error, { notFound: 'pk.order_not_found' });
    showError(() => `${flat}：${reason}`, { scroll: false });
  }
}

function focusAfterMark(orderId, fromCode) {
  const codeInput = document.querySelector('[data-testid="pk-code"]');
  if (fromCode && codeInput) { codeInput.value = ''; codeInput.focus({ preventScroll: true }); return; }
  const tap = document.querySelector(`[data-testid="pk-row"][data-order-id="${CSS.escape(orderId)}"] .pk-tap`);
  if (tap) tap.focus({ preventScroll: true });
}

async function undoMark(orderId, btn) {
  const e = findEntry(orderId);
  const flat = (e && e.flat_label) || (marks.get(orderId) || {}).flat || '';
  const restore = btn ? busy(btn, t('console.saving')) : () => {};
  // Still waiting: take it out of the outbox. If an attempt went out and its answer was lost, the server
  // may have it: when it says this phone's mark is there, undo that too (best effort; offline, nothing to do).
  const cancelled = marks.has(orderId) ? await outbox.cancelPickup(orderId) : null;
  if (cancelled) {
    marks.delete(orderId);
    closeSheet(false);
    repaint();
    showSuccess(() => t('pk.undone', { flat }), { scroll: false });
    if (cancelled.attempts > 0) {
      try {
        const now = await staffApi(`/api/orders/${encodeURIComponent(orderId)}/pickup`);
        if (now && now.collected && now.picked_up && now.picked_up.by_me) {
          replaceEntry(await staffApi(`/api/orders/${encodeURIComponent(orderId)}/pickup/undo`, { method: 'POST', body: {} }));
          repaint();
        }
      } catch (e) { /* no signal: nothing reached the server then, or the list shows it on the next load */ }
    }
    return;
  }
  try {
    const fresh = await staffApi(`/api/orders/${encodeURIComponent(orderId)}/pickup/undo`, { method: 'POST', body: {} });
    marks.delete(orderId);
    replaceEntry({ collected: false, picked_up: null, ...fresh });
    closeSheet(false);
    repaint();
    showSuccess(() => t('pk.undone', { flat }), { scroll: false });
  } catch (err) {
    if (btn && btn.isConnected) restore();
    if (err && err.status === 0) showError(() => t('pk.undo_offline'), { scroll: false });
    else {
      showError(() => refusalText(err), { scroll: false });
      if (err && err.code === 'undo_too_late') refreshEntry(orderId);
    }
  }
}
