// #/household: the flat's phones. A member approves or rejects requests to join, removes a lost
// phone, or leaves; a phone still waiting for approval sees the waiting state, which re-checks by
// itself. Also the household helpers the rounds and orders pages share (membership, banners).
import '../strings/household.js';
import { t } from '../i18n.js';
import { api, errorText, ApiError } from '../api.js';
import * as session from '../session.js';
import { h, clear, showError, showSuccess, showInfo, clearMessage } from '../ui.js';
import { dateTime, timeOfDay, flat as flatLabel } from '../format.js';
import { go } from '../nav.js';

const POLL_MS = 15000;

// ---- membership, shared with the rounds and orders pages ------------------

let inFlight = null;

/** The session fields that follow from GET /api/households/mine. */
function sessionPatch(hh) {
  const me = hh.me || {};
  const members = Array.isArray(hh.members) ? hh.members : [];
  const patch = {
    membership: me.status === 'pending' ? 'pending' : 'member',
    pending_requests: me.status === 'pending' ? 0 : members.filter((m) => m.status === 'pending').length,
  };
  if (me.member_id) patch.member_id = me.member_id;
  if (me.phone_masked) patch.phone_masked = me.phone_masked;
  if (hh.household_id) patch.household_id = hh.household_id;
  if (hh.flat) patch.flat = { building: hh.flat.building || '', unit: hh.flat.unit || '', room: hh.flat.room || '' };
  return patch;
}

/**
 * GET /api/households/mine and bring the session up to date (one call; concurrent callers share it).
 * Resolves to {household, becameMember} or, when it could not be checked (no signal, an API without
 * the route), to null: the caller then goes by the session. A 401 (membership ended) is thrown.
 */
export function refreshMembership() {
  if (inFlight) return inFlight;
  const before = session.get();
  const tokenBefore = before && before.token;
  inFlight = api('/api/households/mine')
    .then((hh) => {
      const now = session.get();
      if (!now || now.token !== tokenBefore || !hh) return null; // re-registered meanwhile
      const wasPending = session.isPending(now);
      const patch = sessionPatch(hh);
      session.update(patch);
      return { household: hh, becameMember: wasPending && patch.membership === 'member' };
    })
    .catch((err) => {
      if (err && err.status === 401) throw err;
      if (err && err.status === 404 && err.code === 'not_a_member') {
        session.update({ membership: 'pending', pending_requests: 0 });
      }
      return null;
    })
    .finally(() => { inFlight = null; });
  return inFlight;
}

/** True if the error says this phone is not (yet) a member of its flat; puts the session right. */
export function isNotAMember(err) {
  if (err && err.status === 404 && err.code === 'not_a_member') {
    session.update({ membership: 'pending', pending_requests: 0 });
    return true;
  }
  return false;
}

/** Banner for a phone waiting for approval (rounds and orders pages). */
export function waitingBanner() {
  return h('div', { class: 'msg msg-warn banner', 'data-testid': 'waiting-banner' },
    h('p', null, t('household.waiting_banner')),
    h('a', { class: 'btn btn-secondary banner-link', href: '#/household', 'data-testid': 'waiting-banner-link' },
      t('household.waiting_link')));
}

/** Banner for a member whose flat has requests to join, or null. */
export function requestsBanner(s = session.get()) {
  const n = s && !session.isPending(s) ? Number(s.pending_requests) || 0 : 0;
  if (n <= 0) return null;
  return h('div', { class: 'msg msg-info banner', 'data-testid': 'requests-banner' },
    h('p', null, t('household.requests_banner', { n, room: (s.flat && s.flat.room) || '' })),
    h('a', { class: 'btn btn-secondary banner-link', href: '#/household', 'data-testid': 'requests-banner-link' },
      t('household.requests_link')));
}

/** The waiting text with the flat's name kept on one line ("3栋 2单元 1502" never breaks). */
export function waitingText(flatText) {
  const [before, after] = t('household.waiting_body', { flat: '\u0000' }).split('\u0000');
  return [before, h('span', { class: 'nowrap', 'data-testid': 'waiting-flat' }, flatText), after];
}

// ---- the page -------------------------------------------------------------

let data = null;        // the last GET /api/households/mine (or an action's reply)
let checkedAt = null;   // when it was fetched
let asking = null;      // {kind: 'remove'|'leave', member_id}: an in-page confirmation is open
let busy = null;        // {kind, member_id}: a request is in flight
let view = null;        // {root, ctx} of the page on screen
let timer = null;

function current() {
  return view && view.ctx.isCurrent() ? view : null;
}

function stopPolling() {
  if (timer) { clearInterval(timer); timer = null; }
}

function startPolling() {
  stopPolling();
  timer = setInterval(() => { poll(); }, POLL_MS);
}

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') poll();
});

/** Re-check in the background; re-draw only if something changed and nobody is mid-action. */
async function poll({ manual = false } = {}) {
  const v = current();
  if (!v) { stopPolling(); return; }
  if (document.visibilityState !== 'visible' && !manual) return;
  if (busy || (asking && !manual)) return;
  let res;
  try {
    res = await refreshMembership();
  } catch (err) {
    // 401: the page re-renders and app.js says why (membership ended) and signs the phone out.
    if (current()) window.dispatchEvent(new CustomEvent('baogong:rerender'));
    return;
  }
  if (!current()) return;
  if (!res) {
    if (manual) showError(() => t('err.network'), { scroll: false });
    return;
  }
  checkedAt = new Date().toISOString();
  if (res.becameMember) {
    data = res.household;
    approvedMe();
    return;
  }
  const changed = JSON.stringify(res.household) !== JSON.stringify(data);
  data = res.household;
  if (manual && session.isPending()) showInfo(() => t('household.still_waiting'), { scroll: false });
  if (changed || manual || session.isPending()) draw();
}

function approvedMe() {
  stopPolling();
  showSuccess(() => t('household.approved_me'));
  go('#/orders');
}

export async function householdView(root, params, ctx) {
  view = { root, ctx };
  if (!data || ctx.refresh) {
    asking = null;
    clear(root);
    root.appendChild(h('p', { class: 'loading' }, t('loading')));
    const res = await refreshMembership(); // a 401 goes up to app.js
    if (!ctx.isCurrent()) return;
    if (res) {
      data = res.household;
      checkedAt = new Date().toISOString();
      if (res.becameMember) { approvedMe(); return; }
    } else if (!session.isPending()) {
      // No signal (or no answer): a member cannot manage the flat offline.
      data = null;
      throw new ApiError({ status: 0, code: 'network' });
    }
  }
  draw();
  startPolling();
}

function draw() {
  const v = current();
  if (!v) return;
  const { root } = v;
  const hadFocus = root.contains(document.activeElement) ? document.activeElement.getAttribute('data-testid') : null;
  clear(root);
  if (session.isPending() || !data || (data.me && data.me.status === 'pending')) drawWaiting(root);
  else drawMember(root, data);
  if (hadFocus) {
    const el = root.querySelector(`[data-testid="${hadFocus}"]`);
    if (el && !el.disabled) el.focus({ preventScroll: true });
  }
}

function flatText() {
  const s = session.get();
  return (data && data.flat_label) || (data && flatLabel(data.flat)) || (s && flatLabel(s.flat)) || '';
}

function drawWaiting(root) {
  const s = session.get() || {};
  const refresh = h('button', {
    type: 'button', class: 'btn btn-primary btn-big', 'data-testid': 'household-refresh',
    onclick: async () => {
      clearMessage();
      refresh.disabled = true;
      refresh.textContent = t('household.refreshing');
      await poll({ manual: true });
      if (refresh.isConnected) { refresh.disabled = false; refresh.textContent = t('household.refresh'); }
    },
  }, t('household.refresh'));
  root.appendChild(h('section', { class: 'my-household household-waiting', 'data-testid': 'household-waiting', 'aria-labelledby': 'hh-title' },
    h('div', { class: 'waiting-icon', 'aria-hidden': 'true' }),
    h('h1', { id: 'hh-title', class: 'page-title' }, t('household.waiting_title')),
    h('p', { class: 'waiting-text', 'data-testid': 'waiting-text' }, waitingText(flatText())),
    s.info_officer_name
      ? h('p', { class: 'waiting-officer', 'data-testid': 'waiting-officer' }, t('household.waiting_officer', { name: s.info_officer_name }))
      : null,
    refresh,
    checkedAt ? h('p', { class: 'hint center', 'data-testid': 'waiting-checked' }, t('household.waiting_checked', { time: timeOfDay(checkedAt) })) : null,
    s.join_key
      ? h('p', { class: 'center' }, h('a', {
        href: `#/join/${encodeURIComponent(s.join_key)}`, 'data-testid': 'household-rejoin',
        onclick: (ev) => { ev.preventDefault(); withdraw(s); },
      }, t('household.wrong_flat')))
      : null));
}

/** Wrong flat: take this phone's request off it (so it does not linger there), then register again. */
async function withdraw(s) {
  if (s.member_id) {
    try {
      await api(`/api/households/mine/members/${encodeURIComponent(s.member_id)}/remove`, { method: 'POST' });
    } catch (err) {
      // No signal: keep the request and stay; anything else (already gone): carry on.
      if (err instanceof ApiError && err.retryable) { showError(() => errorText(err), { scroll: false }); return; }
    }
  }
  session.clear();
  go(`#/join/${encodeURIComponent(s.join_key)}`);
}

function drawMember(root, hh) {
  const members = Array.isArray(hh.members) ? hh.members : [];
  const requests = members.filter((m) => m.status === 'pending');
  // This phone first, then the others in the order they registered.
  const phones = members.filter((m) => m.status !== 'pending')
    .sort((a, b) => (b.me ? 1 : 0) - (a.me ? 1 : 0) || String(a.added_at || '').localeCompare(String(b.added_at || '')));
  const room = (hh.flat && hh.flat.room) || '';

  const section = h('section', { class: 'my-household', 'data-testid': 'household', 'aria-labelledby': 'hh-title' },
    h('h1', { id: 'hh-title', class: 'page-title' }, t('household.title')),
    h('p', { class: 'my-household-flat' },
      h('span', { class: 'hint' }, t('household.flat'), ' '),
      h('strong', { 'data-testid': 'household-flat' }, flatText())));

  if (requests.length) {
    section.appendChild(h('h2', { class: 'requests-title' }, t('household.requests_title'),
      ' ', h('span', { class: 'count-badge', 'data-testid': 'requests-count' }, String(requests.length))));
    section.appendChild(h('p', { class: 'hint' }, t('household.request_hint')));
    requests.forEach((m) => section.appendChild(requestCard(m, room)));
  }

  section.appendChild(h('h2', null, t('household.members_title')));
  section.appendChild(h('ul', { class: 'my-phones', 'data-testid': 'members' }, phones.map((m) => memberRow(m))));
  if (phones.length > 1) section.appendChild(h('p', { class: 'hint' }, t('household.remove_hint')));

  const me = phones.find((m) => m.me) || (hh.me ? { ...hh.me, me: true } : null);
  if (me) section.appendChild(leaveArea(me));
  root.appendChild(section);
}

function requestCard(m, room) {
  const id = m.member_id;
  const isBusy = busy && busy.member_id === id;
  const textId = `req-${id}`;
  return h('article', { class: 'request', 'data-testid': 'join-request', 'data-member-id': id, 'aria-labelledby': textId },
    h('p', { class: 'request-text', id: textId, 'data-testid': 'request-text' },
      t('household.request_text', { room, phone: m.phone_masked || '' })),
    m.added_at ? h('p', { class: 'hint' }, t('household.requested_at', { time: dateTime(m.added_at) })) : null,
    h('div', { class: 'request-actions' },
      h('button', {
        type: 'button', class: 'btn btn-primary', 'data-testid': 'request-approve', disabled: !!busy,
        onclick: () => act('approve', m),
      }, isBusy && busy.kind === 'approve' ? t('household.approving') : t('household.approve')),
      h('button', {
        type: 'button', class: 'btn btn-danger', 'data-testid': 'request-reject', disabled: !!busy,
        onclick: () => act('reject', m),
      }, isBusy && busy.kind === 'reject' ? t('household.rejecting') : t('household.reject'))));
}

function memberRow(m) {
  const id = m.member_id;
  const open = asking && asking.kind === 'remove' && asking.member_id === id;
  const isBusy = busy && busy.member_id === id;
  const askId = `rm-${id}-ask`;
  return h('li', { class: `my-phone${m.me ? ' my-phone-me' : ''}`, 'data-testid': 'member', 'data-member-id': id },
    h('div', { class: 'my-phone-head' },
      h('span', { class: 'my-phone-number', 'data-testid': 'member-phone' }, m.phone_masked || ''),
      m.me ? h('span', { class: 'badge badge-me', 'data-testid': 'member-me' }, t('household.me')) : null),
    m.added_at ? h('p', { class: 'hint' }, t('household.added_at', { time: dateTime(m.added_at) })) : null,
    m.me ? null : (open || isBusy
      ? h('div', { class: 'order-confirm', role: 'group', 'aria-labelledby': askId, 'data-testid': 'member-remove-ask' },
        h('p', { class: 'confirm-question', id: askId, tabindex: '-1', 'data-testid': 'member-remove-question' },
          t('household.remove_ask', { phone: m.phone_masked || '' })),
        h('p', { class: 'hint' }, t('household.remove_explain')),
        h('button', {
          type: 'button', class: 'btn btn-danger', 'data-testid': 'member-remove-confirm', disabled: !!busy,
          onclick: () => act('remove', m),
        }, isBusy ? t('household.removing') : t('household.remove_confirm')),
        h('button', {
          type: 'button', class: 'btn btn-secondary', 'data-testid': 'member-remove-keep', disabled: !!busy,
          onclick: () => { asking = null; draw(); focusOn(`[data-member-id="${id}"] [data-testid="member-remove"]`); },
        }, t('household.remove_keep')))
      : h('button', {
        type: 'button', class: 'btn btn-secondary btn-inline', 'data-testid': 'member-remove', disabled: !!busy,
        onclick: () => { asking = { kind: 'remove', member_id: id }; clearMessage(); draw(); focusOn(`#${cssId(askId)}`); },
      }, t('household.remove'))));
}

function leaveArea(me) {
  const open = asking && asking.kind === 'leave';
  const isBusy = busy && busy.kind === 'leave';
  if (!open && !isBusy) {
    return h('div', { class: 'leave' },
      h('button', {
        type: 'button', class: 'btn btn-secondary', 'data-testid': 'household-leave', disabled: !!busy,
        onclick: () => { asking = { kind: 'leave', member_id: me.member_id }; clearMessage(); draw(); focusOn('#hh-leave-ask'); },
      }, t('household.leave')));
  }
  return h('div', { class: 'leave order-confirm', role: 'group', 'aria-labelledby': 'hh-leave-ask', 'data-testid': 'household-leave-ask' },
    h('p', { class: 'confirm-question', id: 'hh-leave-ask', tabindex: '-1', 'data-testid': 'household-leave-question' }, t('household.leave_ask')),
    h('p', { class: 'hint' }, t('household.leave_explain')),
    h('button', {
      type: 'button', class: 'btn btn-danger', 'data-testid': 'household-leave-confirm', disabled: !!busy,
      onclick: () => act('leave', me),
    }, isBusy ? t('household.leaving') : t('household.leave_confirm')),
    h('button', {
      type: 'button', class: 'btn btn-secondary', 'data-testid': 'household-leave-keep', disabled: !!busy,
      onclick: () => { asking = null; draw(); focusOn('[data-testid="household-leave"]'); },
    }, t('household.leave_keep')));
}

function cssId(s) {
  return window.CSS && CSS.escape ? CSS.escape(s) : s;
}

function focusOn(selector) {
  const v = current();
  const el = v && v.root.querySelector(selector);
  if (el) el.focus({ preventScroll: false });
}

const DONE = { approve: 'household.approved', reject: 'household.rejected', remove: 'household.removed' };

/** approve / reject / remove a phone, or leave; then re-draw from the API's reply. */
async function act(kind, m) {
  if (busy) return;
  busy = { kind, member_id: m.member_id };
  clearMessage();
  draw();
  const path = `/api/households/mine/members/${encodeURIComponent(m.member_id)}/${kind === 'approve' ? 'approve' : 'remove'}`;
  let reply = null;
  let err = null;
  try {
    reply = await api(path, { method: 'POST' });
  } catch (e) {
    err = e;
  }
  busy = null;
  const phone = m.phone_masked || '';

  if (kind === 'leave' && (!err || err.status === 401)) {
    // This phone's token has just stopped working: sign it out here.
    stopPolling();
    session.clear();
    try { localStorage.removeItem('baogong.cart'); } catch (e) { /* ignore */ }
    data = null;
    asking = null;
    showSuccess(() => t('household.left'));
    go('#/', { replace: true });
    return;
  }
  if (!current()) return;
  if (!err) {
    asking = null;
    if (reply && reply.me) {
      data = reply;
      checkedAt = new Date().toISOString();
      session.update(sessionPatch(reply));
    } else {
      await reload();
    }
    draw();
    showSuccess(() => t(DONE[kind], { phone }), { scroll: false });
    focusOn('#hh-title');
    return;
  }
  if (err.status === 401) { window.dispatchEvent(new CustomEvent('baogong:rerender')); return; }
  if (err.status === 404 || err.status === 409 || err.status === 422) {
    // Someone else (another member, the liaison) got there first: show the flat as it is now.
    asking = null;
    await reload();
    draw();
    showError(() => (err.status === 404 ? t('household.gone') : errorText(err)), { scroll: false });
    return;
  }
  // No answer or a busy server: keep things as they were; tapping again is safe.
  draw();
  showError(() => errorText(err), { scroll: false });
}

async function reload() {
  try {
    const res = await refreshMembership();
    if (res) { data = res.household; checkedAt = new Date().toISOString(); }
  } catch (e) {
    window.dispatchEvent(new CustomEvent('baogong:rerender'));
  }
}
